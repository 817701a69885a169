// Median time of repeated GPU work on a stream, measured with CUDA events
// (after one warm-up run): the one timing loop of samba-bench's GPU studies.
#pragma once

#ifdef SAMBA_HAVE_CUDA
#include <cuda_runtime.h>

#include <algorithm>
#include <vector>

#include "../src/cuda/cuda_check.h"

namespace samba_bench {

template <class Work>
double median_event_seconds(cudaStream_t stream, int reps, Work work) {
  cudaEvent_t start, stop;
  SAMBA_CUDA_CHECK(cudaEventCreate(&start));
  SAMBA_CUDA_CHECK(cudaEventCreate(&stop));
  work();
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    SAMBA_CUDA_CHECK(cudaEventRecord(start, stream));
    work();
    SAMBA_CUDA_CHECK(cudaEventRecord(stop, stream));
    SAMBA_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    SAMBA_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    times.push_back(ms / 1e3);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace samba_bench
#endif
