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

inline float silu(float v) { return v / (1.0f + __builtin_expf(-v)); }
// softplus(v) = log(1 + e^v), equal to v above 20 as in the reference.
inline float softplus(float v) { return v > 20.0f ? v : __builtin_log1pf(__builtin_expf(v)); }

// GPT-NeoX half-split rotary embedding applied in place to `rows` tokens of
// `heads` heads of size `head_size`, token t at absolute position pos0 + t.
void apply_rope(float* x, int rows, int heads, int head_size, int64_t pos0, float base);

}  // namespace samba::cpu
