// RMSNorm in fp32, output in the next GEMM's activation type (bf16 or fp32).
// One block a row.
#include "cuda/activation.cuh"
#include "cuda/cuda_check.h"
#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace samba::cuda {

namespace {
template <class Act>
__global__ void rms_norm_kernel(const float* __restrict__ x, int ld_x, const float* __restrict__ w, int d,
                                float eps, Act* __restrict__ out) {
  __shared__ float scratch[32];
  const float* row = x + static_cast<size_t>(blockIdx.x) * ld_x;
  float sum = 0.0f;
  for (int i = threadIdx.x; i < d; i += blockDim.x) sum += row[i] * row[i];
  const float total = block_sum(sum, scratch);
  const float inv = rsqrtf(total / static_cast<float>(d) + eps);
  Act* o = out + static_cast<size_t>(blockIdx.x) * d;
  for (int i = threadIdx.x; i < d; i += blockDim.x) o[i] = from_float<Act>(row[i] * inv * w[i]);
}

template <class Act>
void launch(const float* x, int ld_x, const float* w, int T, int d, float eps, Act* out, cudaStream_t stream) {
  if (T <= 0) return;
  const int threads = d >= 2048 ? 512 : (d >= 512 ? 256 : 64);
  rms_norm_kernel<Act><<<T, threads, 0, stream>>>(x, ld_x, w, d, eps, out);
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
