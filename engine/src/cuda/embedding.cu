// Embedding gather: the residual stream starts as the token's embedding row,
// widened from bf16 to fp32.
#include "cuda/cuda_check.h"
#include "cuda/ops.h"
#include "cuda/pdl.cuh"

namespace samba::cuda {

namespace {
__global__ void embed_kernel(const int32_t* __restrict__ tokens, const bf16* __restrict__ table, int d,
                             float* __restrict__ x) {
  allow_next_kernel_launch();  // decode: the first GEMV may start streaming its weights
  const int t = blockIdx.x;
  const bf16* row = table + static_cast<size_t>(tokens[t]) * d;
  float* out = x + static_cast<size_t>(t) * d;
  for (int i = threadIdx.x; i < d; i += blockDim.x) out[i] = __bfloat162float(row[i]);
}
}  // namespace

void embed_tokens(const int32_t* tokens, const bf16* table, int T, int d, float* x, cudaStream_t stream) {
  if (T <= 0) return;
  embed_kernel<<<T, 256, 0, stream>>>(tokens, table, d, x);
  SAMBA_CUDA_CHECK_LAUNCH();
}

}  // namespace samba::cuda
