// Mamba's depthwise causal conv1d + bias + SiLU, for a chunk of T tokens
// (T = 1 is the decode step). The taps-1 inputs before the chunk come from
// the carried conv state, which a second kernel then replaces with the
// chunk's last inputs (a separate launch, because every output of the first
// kernel may still need the old state). The bf16 copy of the output (for the
// fast mode's GEMM) is skipped when its pointer is null (the exact mode).
// Prefill with the usual 4 taps takes a kernel in which each thread makes
// kRun outputs of four channels: it loads each input once (16-byte loads)
// instead of once per tap, and stores four values at a time.
#include <cstdint>

#include "cuda/activation.cuh"
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

// Four channels from c, tokens [blockIdx.y * kRun, + kRun). Same sums in the
// same order as conv_kernel, so both give identical results.
constexpr int kRun = 8;
template <int TAPS>
__global__ void conv4_kernel(const float* __restrict__ x, int ld_x, const float* __restrict__ state,
                             const float* __restrict__ w, const float* __restrict__ b, int channels, int T,
                             float* __restrict__ out, bf16* __restrict__ out_bf16) {
  const int c = (blockIdx.x * blockDim.x + threadIdx.x) * 4;
  if (c >= channels) return;
  const int t0 = blockIdx.y * kRun;
  constexpr int kKeep = TAPS - 1;
  float wk[4][TAPS], bias[4];
#pragma unroll
  for (int e = 0; e < 4; ++e) {
    bias[e] = b[c + e];
#pragma unroll
    for (int k = 0; k < TAPS; ++k) wk[e][k] = w[static_cast<size_t>(c + e) * TAPS + k];
  }
  // Inputs of times t0 - kKeep ... t0 + kRun - 1 (zero past the chunk's end: unused).
  float4 win[kKeep + kRun];
#pragma unroll
  for (int j = 0; j < kKeep + kRun; ++j) {
    const int s = t0 - kKeep + j;
    if (s >= T) {
      win[j] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    } else if (s >= 0) {
      win[j] = *reinterpret_cast<const float4*>(x + static_cast<size_t>(s) * ld_x + c);
    } else {
      const float* st = state + static_cast<size_t>(c) * kKeep + kKeep + s;
      win[j] = make_float4(st[0], st[kKeep], st[2 * kKeep], st[3 * kKeep]);
    }
  }
#pragma unroll
  for (int i = 0; i < kRun; ++i) {
    const int t = t0 + i;
    if (t >= T) break;
    float y[4];
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      float acc = bias[e];
#pragma unroll
      for (int k = 0; k < TAPS; ++k) {
        const float4& v = win[i + k];
        acc += wk[e][k] * (e == 0 ? v.x : e == 1 ? v.y : e == 2 ? v.z : v.w);
      }
      y[e] = silu(acc);
    }
    const size_t idx = static_cast<size_t>(t) * channels + c;
    store4(out + idx, y[0], y[1], y[2], y[3]);
    if (out_bf16) store4(out_bf16 + idx, y[0], y[1], y[2], y[3]);
  }
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
  wait_for_previous_kernel();  // launched early (PDL): x comes from the in_proj GEMV
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
    launch_with_pdl(conv_step_kernel, dim3((channels + 127) / 128), dim3(128), 0, stream, x, state, w, b, channels, taps,
                    out, out_bf16);
    return;
  }
  const auto aligned = [](const void* p, size_t bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; };
  if (taps == 4 && channels % 4 == 0 && ld_x % 4 == 0 && aligned(x, 16) && aligned(out, 16) &&
      (!out_bf16 || aligned(out_bf16, 8))) {
    const int quads = channels / 4;
    conv4_kernel<4><<<dim3((quads + 127) / 128, (T + kRun - 1) / kRun), 128, 0, stream>>>(x, ld_x, state, w, b,
                                                                                        channels, T, out, out_bf16);
  } else {
    conv_kernel<<<dim3((channels + 255) / 256, T), 256, 0, stream>>>(x, ld_x, state, w, b, channels, taps, out,
                                                                      out_bf16);
  }
  SAMBA_CUDA_CHECK_LAUNCH();
  conv_state_kernel<<<(channels + 255) / 256, 256, 0, stream>>>(x, ld_x, state, T, channels, taps);
  SAMBA_CUDA_CHECK_LAUNCH();
}

}  // namespace samba::cuda
