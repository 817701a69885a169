// RMSNorm in fp32, output in bf16 for the following GEMM. One block a row.
#include "cuda/cuda_check.h"
#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace samba::cuda {

namespace {
__global__ void rms_norm_kernel(const float* __restrict__ x, int ld_x, const float* __restrict__ w, int d,
                                float eps, bf16* __restrict__ out) {
  __shared__ float scratch[32];
  const float* row = x + static_cast<size_t>(blockIdx.x) * ld_x;
  float sum = 0.0f;
  for (int i = threadIdx.x; i < d; i += blockDim.x) sum += row[i] * row[i];
  const float total = block_sum(sum, scratch);
  const float inv = rsqrtf(total / static_cast<float>(d) + eps);
  bf16* o = out + static_cast<size_t>(blockIdx.x) * d;
  for (int i = threadIdx.x; i < d; i += blockDim.x) o[i] = __float2bfloat16(row[i] * inv * w[i]);
}
}  // namespace

void rms_norm(const float* x, int ld_x, const float* w, int T, int d, float eps, bf16* out,
              cudaStream_t stream) {
  if (T <= 0) return;
  const int threads = d >= 2048 ? 512 : (d >= 512 ? 256 : 64);
  rms_norm_kernel<<<T, threads, 0, stream>>>(x, ld_x, w, d, eps, out);
  SAMBA_CUDA_CHECK_LAUNCH();
}

}  // namespace samba::cuda
