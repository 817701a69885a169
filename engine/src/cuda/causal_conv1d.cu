// Mamba's depthwise causal conv1d + bias + SiLU, for a chunk of T tokens
// (T = 1 is the decode step). The taps-1 inputs before the chunk come from
// the carried conv state, which a second kernel then replaces with the
// chunk's last inputs (a separate launch, because every output of the first
// kernel may still need the old state). The bf16 copy of the output (for the
// fast mode's GEMM) is skipped when its pointer is null (the exact mode).
#include "cuda/cuda_check.h"
#include "cuda/ops.h"
#include "cuda/pdl.cuh"
#include "cuda/reduce.cuh"
#include "samba/error.h"

namespace samba::cuda {

namespace {
constexpr int kMaxTaps = 8;

// Grid: (channel blocks, tokens) — no division per element.
__global__ void conv_kernel(const float* __restrict__ x, int ld_x, const float* __restrict__ state,
                            const float* __restrict__ w, const float* __restrict__ b, int channels, int taps,
                            float* __restrict__ out, bf16* __restrict__ out_bf16) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= channels) return;
  const int t = blockIdx.y;
  float acc = b[c];
  for (int k = 0; k < taps; ++k) {
    const int s = t - (taps - 1) + k;  // input time of tap k; tap taps-1 is the current token
    const float in = s >= 0 ? x[static_cast<size_t>(s) * ld_x + c]
                            : state[static_cast<size_t>(c) * (taps - 1) + (taps - 1) + s];
    acc += w[static_cast<size_t>(c) * taps + k] * in;
  }
  const float y = silu(acc);
  const size_t idx = static_cast<size_t>(t) * channels + c;
  out[idx] = y;
  if (out_bf16) out_bf16[idx] = __float2bfloat16(y);
}

__global__ void conv_state_kernel(const float* __restrict__ x, int ld_x, float* __restrict__ state, int T,
                                  int channels, int taps) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= channels) return;
  const int keep = taps - 1;
  float* st = state + static_cast<size_t>(c) * keep;
  float next[kMaxTaps];
  for (int j = 0; j < keep; ++j) {
    const int s = T - keep + j;  // time of the input that becomes slot j
    next[j] = s >= 0 ? x[static_cast<size_t>(s) * ld_x + c] : st[keep + s];
  }
  for (int j = 0; j < keep; ++j) st[j] = next[j];
}
// One token (decode): each thread owns a channel, so it can read and shift
// the state itself — one launch instead of two.
__global__ void conv_step_kernel(const float* __restrict__ x, float* __restrict__ state,
                                 const float* __restrict__ w, const float* __restrict__ b, int channels, int taps,
                                 float* __restrict__ out, bf16* __restrict__ out_bf16) {
  allow_next_kernel_launch();  // the x_proj GEMV may start streaming its weights
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= channels) return;
  const int keep = taps - 1;
  float* st = state + static_cast<size_t>(c) * keep;
  const float* wc = w + static_cast<size_t>(c) * taps;
  const float in = x[c];
  float acc = b[c] + wc[keep] * in;
  for (int k = 0; k < keep; ++k) acc += wc[k] * st[k];
  for (int k = 0; k + 1 < keep; ++k) st[k] = st[k + 1];
  st[keep - 1] = in;
  const float y = silu(acc);
  out[c] = y;
  if (out_bf16) out_bf16[c] = __float2bfloat16(y);
}
}  // namespace

void causal_conv1d(const float* x, int ld_x, float* state, const float* w, const float* b, int T,
                   int channels, int taps, float* out, bf16* out_bf16, cudaStream_t stream) {
  if (taps < 2 || taps > kMaxTaps)
    throw Error(ErrorKind::InvalidModel, "CUDA backend: mamba_d_conv must be in 2..8");
  if (T <= 0) return;
  if (T == 1) {
    conv_step_kernel<<<(channels + 127) / 128, 128, 0, stream>>>(x, state, w, b, channels, taps, out, out_bf16);
    SAMBA_CUDA_CHECK_LAUNCH();
    return;
  }
  conv_kernel<<<dim3((channels + 255) / 256, T), 256, 0, stream>>>(x, ld_x, state, w, b, channels, taps, out,
                                                                    out_bf16);
  SAMBA_CUDA_CHECK_LAUNCH();
  conv_state_kernel<<<(channels + 255) / 256, 256, 0, stream>>>(x, ld_x, state, T, channels, taps);
  SAMBA_CUDA_CHECK_LAUNCH();
}

}  // namespace samba::cuda
