// SwiGLU activation: the fused w1|w2 GEMM gives [gate | up] per token; the
// product silu(gate) * up feeds the w3 GEMM in the activation type (bf16 or fp32).
// A pure bandwidth kernel (it reads 8 bytes and writes 2 or 4 per value), so
// each thread moves four values with 16-byte loads when the rows allow it.
#include <cstdint>

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

// Four columns a thread; I a multiple of 4.
template <class Act>
__global__ void swiglu4_kernel(const float* __restrict__ gate_up, int I, Act* __restrict__ out) {
  const int i = (blockIdx.x * blockDim.x + threadIdx.x) * 4;
  if (i >= I) return;
  const size_t t = blockIdx.y;
  const float* row = gate_up + t * 2 * I;
  const float4 g = *reinterpret_cast<const float4*>(row + i);
  const float4 u = *reinterpret_cast<const float4*>(row + I + i);
  store4(out + t * I + i, silu(g.x) * u.x, silu(g.y) * u.y, silu(g.z) * u.z, silu(g.w) * u.w);
}

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <class Act>
void launch(const float* gate_up, int T, int I, Act* out, cudaStream_t stream) {
  if (T <= 0 || I <= 0) return;
  if (I % 4 == 0 && aligned16(gate_up) && reinterpret_cast<uintptr_t>(out) % (4 * sizeof(Act)) == 0) {
    const int quads = I / 4;
    swiglu4_kernel<Act><<<dim3((quads + 127) / 128, T), 128, 0, stream>>>(gate_up, I, out);
  } else {
    swiglu_kernel<Act><<<dim3((I + 255) / 256, T), 256, 0, stream>>>(gate_up, I, out);
  }
  SAMBA_CUDA_CHECK_LAUNCH();
}
}  // namespace

void swiglu(const float* gate_up, int T, int I, bf16* out, cudaStream_t stream) { launch(gate_up, T, I, out, stream); }

void swiglu(const float* gate_up, int T, int I, float* out, cudaStream_t stream) { launch(gate_up, T, I, out, stream); }

}  // namespace samba::cuda
