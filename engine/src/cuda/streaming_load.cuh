// Reading weights that are used once per token (the decode GEMVs).
//
// A decode step streams ~all of the model's weights through L2 once, and
// each matrix is read once per token. With the default policy those lines
// push out what the step reads again and again (activations, the Mamba
// states, the norm weights, the current window of the KV cache); marking the
// weights evict-first keeps them from doing so (measured: decode +3 to +8%
// on the H200, docs/BENCHMARKS.md).
//
// The cache hint needs sm_80; the portable build falls back to a plain
// read-only load below that.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace samba::cuda {

// An L2 policy under which lines are the first to be evicted.
__device__ __forceinline__ uint64_t l2_evict_first_policy() {
  uint64_t policy = 0;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(policy));
#endif
  return policy;
}

// A 16-byte read-only load that does not allocate in L1 and marks its L2
// line evict-first.
__device__ __forceinline__ uint4 load_streaming(const void* p, uint64_t policy) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.L2::cache_hint.v4.u32 {%0, %1, %2, %3}, [%4], %5;"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p), "l"(policy));
  return v;
#else
  (void)policy;
  return __ldg(static_cast<const uint4*>(p));
#endif
}

}  // namespace samba::cuda
