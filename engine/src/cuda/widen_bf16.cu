// bf16 -> fp32 widening of a weight matrix (exact: every bf16 is an fp32).
// The exact mode's GEMMs read fp32 copies of the bf16 weights made with this
// once at load time, so both modes compute with the same weight values.
#include <algorithm>

#include "cuda/cuda_check.h"
#include "cuda/ops.h"

namespace samba::cuda {

namespace {
__global__ void widen_kernel(const bf16* __restrict__ in, size_t n, float* __restrict__ out) {
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    out[i] = __bfloat162float(in[i]);
}
}  // namespace

void widen_bf16(const bf16* in, size_t n, float* out, cudaStream_t stream) {
  if (n == 0) return;
  const unsigned blocks = static_cast<unsigned>(std::min<size_t>((n + 255) / 256, 8192));
  widen_kernel<<<blocks, 256, 0, stream>>>(in, n, out);
  SAMBA_CUDA_CHECK_LAUNCH();
}

}  // namespace samba::cuda
