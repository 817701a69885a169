// SwiGLU activation: the fused w1|w2 GEMM gives [gate | up] per token; the
// product silu(gate) * up feeds the w3 GEMM in bf16.
#include "cuda/cuda_check.h"
#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace samba::cuda {

namespace {
// Grid: (column blocks, tokens) — no division per element.
__global__ void swiglu_kernel(const float* __restrict__ gate_up, int I, bf16* __restrict__ out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= I) return;
  const size_t t = blockIdx.y;
  const float* row = gate_up + t * 2 * I;
  out[t * I + i] = __float2bfloat16(silu(row[i]) * row[I + i]);
}
}  // namespace

void swiglu(const float* gate_up, int T, int I, bf16* out, cudaStream_t stream) {
  if (T <= 0 || I <= 0) return;
  swiglu_kernel<<<dim3((I + 255) / 256, T), 256, 0, stream>>>(gate_up, I, out);
  SAMBA_CUDA_CHECK_LAUNCH();
}

}  // namespace samba::cuda
