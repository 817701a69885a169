// Small fp32 building blocks of the CPU backend. Matrices are row-major;
// a weight W of shape [out, in] is applied as y = x W^T, as in PyTorch.
#pragma once

#include <cstdint>

namespace samba::cpu {

// y[t, :out] = x[t, :in] W^T for t < rows (BLAS; a GEMV when rows == 1).
// When `accumulate` is set, y += x W^T instead.
void linear(const float* x, int rows, int in, const float* weight, int out, float* y,
            bool accumulate = false);

// y = x * rsqrt(mean(x^2) + eps) * w, per row of length n.
void rms_norm(const float* x, int rows, int n, const float* w, float eps, float* y);

// e^x with a relative error below 2e-7 over the float range, written with
// arithmetic and bit operations only so that loops calling it vectorize
// (libm's expf does not, and the scan and softmax spend most time in exp).
// F is float or a GCC vector of floats, I the integer type of the same shape.
template <typename F, typename I>
[[gnu::always_inline]] inline F exp_approx(F x) {
  // Two plain selects: each maps to one min/max instruction, so the loops
  // around this vectorize (fminf/fmaxf would be library calls).
  x = x > 88.0f ? F{} + 88.0f : x;
  x = x < -87.0f ? F{} - 87.0f : x;
  // k = round(x / ln 2) by the 1.5 * 2^23 trick; r = x - k ln 2 in [-ln2/2, ln2/2].
  const F shifted = x * 1.44269504f + 12582912.0f;
  const F k = shifted - 12582912.0f;
  const F r = (x - k * 0.693145752f) - k * 1.42860677e-6f;
  F p = F{} + 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const I ki = __builtin_bit_cast(I, shifted) - 0x4B400000;
  return p * __builtin_bit_cast(F, (ki + 127) << 23);
}

inline float fast_exp(float x) { return exp_approx<float, int>(x); }

// Hot loops are compiled for AVX2+FMA as well as the baseline, chosen at
// load time, so one binary runs everywhere and fast where it can.
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define SAMBA_HOT_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SAMBA_HOT_CLONES
#endif

inline float silu(float v) { return v / (1.0f + fast_exp(-v)); }
// softplus(v) = log(1 + e^v), equal to v above 20 as in the reference.
inline float softplus(float v) { return v > 20.0f ? v : __builtin_log1pf(__builtin_expf(v)); }

// Turns scores[lo..hi] into softmax probabilities in place (the rest of the
// row of length `len` zeroed) and returns the attention entropy in nats,
// -sum p ln p = ln l - S/l with l = sum e^(s-m), S = sum e^(s-m) (s-m).
float softmax_with_entropy(float* scores, int lo, int hi, int len);

// GPT-NeoX half-split rotary embedding applied in place to `rows` tokens of
// queries [rows][q_heads][head_size] and keys [rows][k_heads][head_size],
// token t at absolute position pos0 + t.
void apply_rope(float* q, int q_heads, float* k, int k_heads, int rows, int head_size, int64_t pos0,
                float base);

}  // namespace samba::cpu
