// Programmatic dependent launch (sm_90+). A kernel launched with the
// programmatic-serialization attribute (the decode GEMV, gemv.cu) may start
// while the kernel before it in the stream is still running; it must call
// wait_for_previous_kernel() before it touches anything that kernel writes,
// and then sees all of its results. allow_next_kernel_launch() in the kernel
// before lets that launch happen as soon as all of its blocks are running,
// so the GEMV's launch and first weight loads overlap the small kernels of a
// decode step. Both are no-ops on older GPUs, and for launches without the
// attribute (the next kernel then starts after this one ends, as usual).
#pragma once

namespace samba::cuda {

__device__ __forceinline__ void wait_for_previous_kernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void allow_next_kernel_launch() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

}  // namespace samba::cuda
