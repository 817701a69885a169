// Greedy sampling on the device: the index of the largest logit (the lowest
// index among equal maxima, as a host loop would pick), written where the
// next decode step reads its input token.
#include "cuda/cuda_check.h"
#include "cuda/ops.h"

namespace samba::cuda {

namespace {
constexpr int kThreads = 1024;

__device__ __forceinline__ void better(float& v, int& i, float ov, int oi) {
  if (ov > v || (ov == v && oi < i)) {
    v = ov;
    i = oi;
  }
}

__global__ void __launch_bounds__(kThreads) argmax_kernel(const float* __restrict__ values, int n, int32_t* out,
                                                                  int64_t* advance) {
  __shared__ float best_v[32];
  __shared__ int best_i[32];
  float v = -INFINITY;
  int i = 0x7fffffff;
  for (int k = threadIdx.x; k < n; k += kThreads) better(v, i, values[k], k);
#pragma unroll
  for (int offset = 16; offset > 0; offset >>= 1)
    better(v, i, __shfl_xor_sync(0xffffffffu, v, offset), __shfl_xor_sync(0xffffffffu, i, offset));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) {
    best_v[warp] = v;
    best_i[warp] = i;
  }
  __syncthreads();
  if (warp == 0) {
    v = best_v[lane];
    i = best_i[lane];
#pragma unroll
    for (int offset = 16; offset > 0; offset >>= 1)
      better(v, i, __shfl_xor_sync(0xffffffffu, v, offset), __shfl_xor_sync(0xffffffffu, i, offset));
    if (lane == 0) {
      *out = i == 0x7fffffff ? 0 : i;
      if (advance) *advance += 1;  // the decode step's position moves on in the same launch
    }
  }
}
}  // namespace

void argmax(const float* values, int n, int32_t* out, cudaStream_t stream, int64_t* advance_position) {
  argmax_kernel<<<1, kThreads, 0, stream>>>(values, n, out, advance_position);
  SAMBA_CUDA_CHECK_LAUNCH();
}

}  // namespace samba::cuda
