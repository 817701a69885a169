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

}  // namespace samba::cuda
