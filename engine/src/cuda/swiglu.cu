// SwiGLU activation: the fused w1|w2 GEMM gives [gate | up] per token; the
// product silu(gate) * up feeds the w3 GEMM in the activation type (bf16 or fp32).
#include "cuda/activation.cuh"
#include "cuda/cuda_check.h"
#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace samba::cuda {

namespace {
// Grid: (column blocks, tokens) — no division per element.
template <class Act>
__global__ void swiglu_kernel(const float* __restrict__ gate_up, int I, Act* __restrict__ out) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= I) return;
  const size_t t = blockIdx.y;
  const float* row = gate_up + t * 2 * I;
  out[t * I + i] = from_float<Act>(silu(row[i]) * row[I + i]);
}

template <class Act>
void launch(const float* gate_up, int T, int I, Act* out, cudaStream_t stream) {
  if (T <= 0 || I <= 0) return;
  swiglu_kernel<Act><<<dim3((I + 255) / 256, T), 256, 0, stream>>>(gate_up, I, out);
  SAMBA_CUDA_CHECK_LAUNCH();
}
}  // namespace

void swiglu(const float* gate_up, int T, int I, bf16* out, cudaStream_t stream) { launch(gate_up, T, I, out, stream); }

void swiglu(const float* gate_up, int T, int I, float* out, cudaStream_t stream) { launch(gate_up, T, I, out, stream); }

}  // namespace samba::cuda
