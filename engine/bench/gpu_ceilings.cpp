#ifdef SAMBA_HAVE_CUDA
#include "gpu_ceilings.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "../src/cuda/cuda_check.h"
#include "../src/cuda/gemm.h"

namespace samba_bench {

namespace {

constexpr double kH200CopyBytesPerSecond = 4.3e12;  // gpu-machine.md, measured on the H200
constexpr double kH200GemmFlops = 790e12;

// Median of `reps` timings of `work` with CUDA events, after one warm-up.
template <class Work>
double median_seconds(cudaStream_t stream, int reps, Work work) {
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

// 1 GiB copied device to device: twice the L2 of any current card many times over.
double measure_copy(cudaStream_t stream) {
  const size_t bytes = size_t{1} << 30;
  void *src = nullptr, *dst = nullptr;
  SAMBA_CUDA_CHECK(cudaMalloc(&src, bytes));
  SAMBA_CUDA_CHECK(cudaMalloc(&dst, bytes));
  SAMBA_CUDA_CHECK(cudaMemsetAsync(src, 1, bytes, stream));
  const double s = median_seconds(stream, 9, [&] {
    SAMBA_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream));
  });
  cudaFree(src);
  cudaFree(dst);
  return 2.0 * static_cast<double>(bytes) / s;  // every byte read once and written once
}

// The engine's own GEMM call (Gemm::linear, bf16 in, fp32 out) on 8192^3.
double measure_gemm(cudaStream_t stream) {
  const int n = 8192;
  const size_t elems = static_cast<size_t>(n) * n;
  __nv_bfloat16 *a = nullptr, *b = nullptr;
  float* c = nullptr;
  void* workspace = nullptr;
  SAMBA_CUDA_CHECK(cudaMalloc(&a, elems * sizeof(__nv_bfloat16)));
  SAMBA_CUDA_CHECK(cudaMalloc(&b, elems * sizeof(__nv_bfloat16)));
  SAMBA_CUDA_CHECK(cudaMalloc(&c, elems * sizeof(float)));
  SAMBA_CUDA_CHECK(cudaMalloc(&workspace, samba::cuda::Gemm::kWorkspaceBytes));
  // Small non-zero values (every bf16 0x3c3c ~ 0.0115): tensor cores take longer on
  // real data than on zeros, so zeros would flatter the ceiling.
  SAMBA_CUDA_CHECK(cudaMemsetAsync(a, 0x3c, elems * sizeof(__nv_bfloat16), stream));
  SAMBA_CUDA_CHECK(cudaMemsetAsync(b, 0x3c, elems * sizeof(__nv_bfloat16), stream));
  double s = 0;
  {
    samba::cuda::Gemm gemm(stream, workspace, samba::cuda::Gemm::kWorkspaceBytes);
    s = median_seconds(stream, 9, [&] { gemm.linear(a, n, b, n, n, n, c, n); });
  }
  cudaFree(a);
  cudaFree(b);
  cudaFree(c);
  cudaFree(workspace);
  return 2.0 * n * static_cast<double>(n) * n / s;
}

std::string rate(double value, double unit, const char* name) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.2f %s", value / unit, name);
  return text;
}

}  // namespace

GpuCeilings measure_gpu_ceilings() {
  GpuCeilings g;
  cudaStream_t stream;
  SAMBA_CUDA_CHECK(cudaStreamCreate(&stream));
  g.copy_bytes_per_second = measure_copy(stream);
  g.gemm_flops = measure_gemm(stream);
  SAMBA_CUDA_CHECK(cudaStreamDestroy(stream));
  cudaDeviceProp prop{};
  SAMBA_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  g.reference_card = std::string(prop.name).find("H200") != std::string::npos;
  g.floor_copy_bytes_per_second = g.reference_card ? kH200CopyBytesPerSecond : g.copy_bytes_per_second;
  g.floor_gemm_flops = g.reference_card ? kH200GemmFlops : g.gemm_flops;
  return g;
}

std::string GpuCeilings::describe() const {
  const std::string measured = "measured on this card just before the runs: device copy " +
                               rate(copy_bytes_per_second, 1e12, "TB/s") + " (read + write), bf16 GEMM 8192^3 " +
                               rate(gemm_flops, 1e12, "TFLOP/s");
  if (reference_card)
    return "Floors: decode = bytes/token over 4.3 TB/s, prefill = GEMM FLOPs/token over 790 TFLOP/s "
           "(the H200's figures, gpu-machine.md; " + measured + ")";
  return "Floors: decode = bytes/token over " + rate(floor_copy_bytes_per_second, 1e12, "TB/s") +
         ", prefill = GEMM FLOPs/token over " + rate(floor_gemm_flops, 1e12, "TFLOP/s") +
         ": this card is not the H200 the issue's fixed figures (4.3 TB/s, 790 TFLOP/s) describe, so the "
         "floors use its own rates, " + measured;
}

}  // namespace samba_bench
#endif
