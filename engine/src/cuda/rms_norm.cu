// RMSNorm in fp32, output in the next GEMM's activation type (bf16 or fp32).
// One warp a row, four rows a block: a row is a few KiB, so a whole block
// per row spent most of its time in the block-wide reduction's barriers.
// Rows whose length and addresses allow it move four values a load.
#include <cstdint>

#include "cuda/activation.cuh"
#include "cuda/cuda_check.h"
#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace samba::cuda {

namespace {
constexpr int kRowsPerBlock = 4;

template <class Act, bool kVec4>
__global__ void __launch_bounds__(kRowsPerBlock * 32) rms_norm_kernel(const float* __restrict__ x, int ld_x,
                                                                      const float* __restrict__ w, int d, int T,
                                                                      float eps, Act* __restrict__ out) {
  const int r = blockIdx.x * kRowsPerBlock + (threadIdx.x >> 5);
  if (r >= T) return;
  const int lane = threadIdx.x & 31;
  const float* row = x + static_cast<size_t>(r) * ld_x;
  Act* o = out + static_cast<size_t>(r) * d;
  float sum = 0.0f;
  if constexpr (kVec4) {
    const float4* row4 = reinterpret_cast<const float4*>(row);
#pragma unroll 4
    for (int i = lane; i < d / 4; i += 32) {
      const float4 v = row4[i];
      sum += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
    }
  } else {
    for (int i = lane; i < d; i += 32) sum += row[i] * row[i];
  }
  const float inv = rsqrtf(warp_sum(sum) / static_cast<float>(d) + eps);
  if constexpr (kVec4) {
    const float4* row4 = reinterpret_cast<const float4*>(row);
    const float4* w4 = reinterpret_cast<const float4*>(w);
#pragma unroll 4
    for (int i = lane; i < d / 4; i += 32) {
      const float4 v = row4[i], g = w4[i];
      store4(o + 4 * i, v.x * inv * g.x, v.y * inv * g.y, v.z * inv * g.z, v.w * inv * g.w);
    }
  } else {
    for (int i = lane; i < d; i += 32) o[i] = from_float<Act>(row[i] * inv * w[i]);
  }
}

template <class Act>
void launch(const float* x, int ld_x, const float* w, int T, int d, float eps, Act* out, cudaStream_t stream) {
  if (T <= 0) return;
  const unsigned blocks = static_cast<unsigned>((T + kRowsPerBlock - 1) / kRowsPerBlock);
  const bool vec4 = d % 4 == 0 && ld_x % 4 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0 &&
                    reinterpret_cast<uintptr_t>(w) % 16 == 0 &&
                    reinterpret_cast<uintptr_t>(out) % (4 * sizeof(Act)) == 0;
  if (vec4)
    rms_norm_kernel<Act, true><<<blocks, kRowsPerBlock * 32, 0, stream>>>(x, ld_x, w, d, T, eps, out);
  else
    rms_norm_kernel<Act, false><<<blocks, kRowsPerBlock * 32, 0, stream>>>(x, ld_x, w, d, T, eps, out);
  SAMBA_CUDA_CHECK_LAUNCH();
}
}  // namespace

void rms_norm(const float* x, int ld_x, const float* w, int T, int d, float eps, bf16* out,
              cudaStream_t stream) {
  launch(x, ld_x, w, T, d, eps, out, stream);
}

void rms_norm(const float* x, int ld_x, const float* w, int T, int d, float eps, float* out,
              cudaStream_t stream) {
  launch(x, ld_x, w, T, d, eps, out, stream);
}

}  // namespace samba::cuda
