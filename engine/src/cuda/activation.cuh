// The activation type of the kernels that the fast (bf16) and the exact
// (fp32) modes share: conversions to and from fp32, and exp() — the fast
// mode keeps the hardware approximation __expf where it used it, the exact
// mode pays for expf so its results match an fp32 CPU to rounding.
#pragma once

#include <cuda_bf16.h>

namespace samba::cuda {

template <class Act>
__device__ __forceinline__ Act from_float(float v);
template <>
__device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float v) {
  return __float2bfloat16(v);
}
template <>
__device__ __forceinline__ float from_float<float>(float v) {
  return v;
}

__device__ __forceinline__ float to_float(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_float(float v) { return v; }

// e^x: __expf for bf16 activations, expf for fp32 ones.
template <class Act>
__device__ __forceinline__ float act_exp(float x) {
  if constexpr (sizeof(Act) == 2)
    return __expf(x);
  else
    return expf(x);
}

// Four consecutive values stored at once (one 8- or 16-byte store): `o`
// must be aligned to four values.
__device__ __forceinline__ void store4(float* o, float a, float b, float c, float d) {
  *reinterpret_cast<float4*>(o) = make_float4(a, b, c, d);
}
__device__ __forceinline__ void store4(__nv_bfloat16* o, float a, float b, float c, float d) {
  union {
    __nv_bfloat162 h[2];
    uint2 u;
  } v;
  v.h[0] = __floats2bfloat162_rn(a, b);
  v.h[1] = __floats2bfloat162_rn(c, d);
  *reinterpret_cast<uint2*>(o) = v.u;
}

}  // namespace samba::cuda
