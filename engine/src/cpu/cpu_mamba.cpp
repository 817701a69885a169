#include "cpu/cpu_mamba.h"

// The 8-lane helpers below are always inlined, so no vector crosses a call:
// GCC's warning about the AVX calling convention does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

#include <cmath>
#include <cstring>

#include "cpu/cpu_ops.h"

namespace samba::cpu {

void MambaScratch::reserve(const ModelConfig& c, int max_tokens) {
  const size_t T = static_cast<size_t>(max_tokens);
  xz.resize(T * 2 * c.d_inner);
  xc.resize(T * c.d_inner);
  dbc.resize(T * (c.dt_rank + 2 * c.d_state));
  dt_low.resize(T * c.dt_rank);
  dt.resize(T * c.d_inner);
  y.resize(T * c.d_inner);
}

namespace {

// Depthwise causal conv over the chunk, reading the d_conv-1 inputs before
// it from the state, then keeping the chunk's last d_conv-1 inputs there.
void causal_conv(const MambaWeights& w, const ModelConfig& c, int T, const float* xz,
                 float* conv_state, float* xc) {
  const int di = c.d_inner, K = c.d_conv, keep = K - 1;
  const int ld = 2 * di;  // x is the first half of each xz row
#pragma omp parallel for if (static_cast<long>(T) * di > 4096)
  for (int ch = 0; ch < di; ++ch) {
    float* state = conv_state + static_cast<size_t>(ch) * keep;
    const float* wk = w.conv_w.data() + static_cast<size_t>(ch) * K;
    // Input at chunk index s (negative = from the state).
    auto input = [&](int s) { return s >= 0 ? xz[static_cast<size_t>(s) * ld + ch] : state[keep + s]; };
    for (int t = 0; t < T; ++t) {
      float acc = w.conv_b[ch];
      for (int k = 0; k < K; ++k) acc += wk[k] * input(t - keep + k);  // wk[K-1]: current token
      xc[static_cast<size_t>(t) * di + ch] = silu(acc);
    }
    float next[8];
    for (int j = 0; j < keep; ++j) next[j] = input(T - keep + j);
    std::memcpy(state, next, sizeof(float) * keep);
  }
}

// One channel of the sequential selective scan for d_state = 16 (every
// SAMBA config), written with GCC vector types: the compiler fully unrolls
// a 16-lane loop and then leaves it scalar, so the two 8-lane halves of the
// state are spelled out. They stay in registers for the whole chunk.
typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

[[gnu::always_inline]] inline v8f load8(const float* p) {
  v8f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// fast_exp (cpu_ops.h) on 8 lanes.
[[gnu::always_inline]] inline v8f fast_exp8(v8f x) { return exp_approx<v8f, v8i>(x); }

SAMBA_HOT_CLONES void scan_channel16(const float* A, float Dc, int T, int di, int ch, int r, int ld_dbc,
                                     const float* xc, const float* dt, const float* dbc, const float* xz,
                                     float* state, float* y) {
  const v8f a0 = load8(A), a1 = load8(A + 8);
  v8f h0 = load8(state), h1 = load8(state + 8);
  for (int t = 0; t < T; ++t) {
    const float dtv = dt[static_cast<size_t>(t) * di + ch];
    const float xv = xc[static_cast<size_t>(t) * di + ch];
    const float* B = dbc + static_cast<size_t>(t) * ld_dbc + r;
    const float* C = B + 16;
    const float dx = dtv * xv;
    h0 = fast_exp8(a0 * dtv) * h0 + load8(B) * dx;
    h1 = fast_exp8(a1 * dtv) * h1 + load8(B + 8) * dx;
    const v8f prod = h0 * load8(C) + h1 * load8(C + 8);
    float acc = 0.0f;
    for (int i = 0; i < 8; ++i) acc += prod[i];
    const float z = xz[static_cast<size_t>(t) * 2 * di + di + ch];
    y[static_cast<size_t>(t) * di + ch] = (acc + Dc * xv) * silu(z);
  }
  std::memcpy(state, &h0, sizeof h0);
  std::memcpy(state + 8, &h1, sizeof h1);
}

// The same for any state size (configs outside the released family).
SAMBA_HOT_CLONES
void scan_channel_any(const float* A, float Dc, int N, int T, int di, int ch, int r, int ld_dbc,
                      const float* xc, const float* dt, const float* dbc, const float* xz, float* h,
                      float* y) {
  for (int t = 0; t < T; ++t) {
    const float dtv = dt[static_cast<size_t>(t) * di + ch];
    const float xv = xc[static_cast<size_t>(t) * di + ch];
    const float* B = dbc + static_cast<size_t>(t) * ld_dbc + r;
    const float* C = B + N;
    const float dx = dtv * xv;
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (int n = 0; n < N; ++n) {
      h[n] = fast_exp(dtv * A[n]) * h[n] + dx * B[n];
      acc += h[n] * C[n];
    }
    const float z = xz[static_cast<size_t>(t) * 2 * di + di + ch];
    y[static_cast<size_t>(t) * di + ch] = (acc + Dc * xv) * silu(z);
  }
}

// Sequential selective scan per channel, fp32 throughout; channels are
// independent, so they are spread over threads, and the d_state lanes of
// one channel are vectorized.
void selective_scan(const MambaWeights& w, const ModelConfig& c, int T, const float* xc,
                    const float* dt, const float* dbc, const float* xz, float* ssm_state,
                    float* y) {
  const int di = c.d_inner, N = c.d_state, r = c.dt_rank, ld_dbc = r + 2 * N;
#pragma omp parallel for if (static_cast<long>(T) * di > 4096)
  for (int ch = 0; ch < di; ++ch) {
    float* h = ssm_state + static_cast<size_t>(ch) * N;
    const float* A = w.A.data() + static_cast<size_t>(ch) * N;
    if (N == 16)
      scan_channel16(A, w.D[ch], T, di, ch, r, ld_dbc, xc, dt, dbc, xz, h, y);
    else
      scan_channel_any(A, w.D[ch], N, T, di, ch, r, ld_dbc, xc, dt, dbc, xz, h, y);
  }
}

}  // namespace

void mamba_forward(const MambaWeights& w, const ModelConfig& c, const float* u, int T,
                   float* conv_state, float* ssm_state, float* out, MambaScratch& s) {
  const int d = c.d_model, di = c.d_inner, r = c.dt_rank, N = c.d_state;
  linear(u, T, d, w.in_proj.data(), 2 * di, s.xz.data());
  causal_conv(w, c, T, s.xz.data(), conv_state, s.xc.data());
  linear(s.xc.data(), T, di, w.x_proj.data(), r + 2 * N, s.dbc.data());
  for (int t = 0; t < T; ++t)
    std::memcpy(&s.dt_low[static_cast<size_t>(t) * r], &s.dbc[static_cast<size_t>(t) * (r + 2 * N)],
                sizeof(float) * r);
  linear(s.dt_low.data(), T, r, w.dt_proj_w.data(), di, s.dt.data());
  for (int t = 0; t < T; ++t) {
    float* row = &s.dt[static_cast<size_t>(t) * di];
    for (int ch = 0; ch < di; ++ch) row[ch] = softplus(row[ch] + w.dt_proj_b[ch]);
  }
  selective_scan(w, c, T, s.xc.data(), s.dt.data(), s.dbc.data(), s.xz.data(), ssm_state, s.y.data());
  linear(s.y.data(), T, di, w.out_proj.data(), d, out, /*accumulate=*/true);
}

}  // namespace samba::cpu
