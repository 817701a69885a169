// sin and cos of RoPE's angle pos * inv_freq, shared by the RoPE kernels
// (rope.cu) and the decode attention, which rotates q and the new key itself
// (swa_attention_decode.cu).
//
// The angle is formed in double precision, as on the CPU: positions grow
// without bound and fp32 would lose the angle at 1M tokens. It is reduced to
// [-pi, pi] in double with a two-part 2*pi (Cody-Waite); sin/cos of the
// reduced angle in float are then as accurate as the float result needs.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace samba::cuda {

__device__ __forceinline__ void rope_sincos(int64_t pos, double inv_freq, float* s, float* c) {
  const double angle = static_cast<double>(pos) * inv_freq;
  const double k = rint(angle * 0.15915494309189535);  // 1 / (2 pi)
  double r = fma(-k, 6.283185307179586, angle);        // 2 pi, high part
  r = fma(-k, 2.4492935982947064e-16, r);              // 2 pi, low part
  sincosf(static_cast<float>(r), s, c);  // |r| <= pi: float sin/cos are accurate here
}

// The GPT-NeoX rotation of the pair (x1, x2) = (x[j], x[j + hs/2]); one
// function for every kernel that rotates, so all round the same way.
__device__ __forceinline__ void rope_rotate(float x1, float x2, float s, float c, float* o1, float* o2) {
  *o1 = x1 * c - x2 * s;
  *o2 = x1 * s + x2 * c;
}

}  // namespace samba::cuda
