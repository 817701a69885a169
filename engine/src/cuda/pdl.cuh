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

#include <cuda_runtime.h>

#include <utility>

#include "cuda/cuda_check.h"
#include "cuda/device_traits.h"

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

// Launches `kernel` with the programmatic-serialization attribute (when the
// device has it): the kernel must call wait_for_previous_kernel() before it
// reads anything an earlier kernel of the stream writes. For the small
// kernels of a decode step, whose launch then overlaps the tail of the GEMV
// before them.
template <typename... KernelArgs, typename... Args>
void launch_with_pdl(void (*kernel)(KernelArgs...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                     Args&&... args) {
  cudaLaunchConfig_t config = {};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = smem;
  config.stream = stream;
  cudaLaunchAttribute attribute[1];
  attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute[0].val.programmaticStreamSerializationAllowed = 1;
  config.attrs = attribute;
  config.numAttrs = device_traits().pdl ? 1 : 0;
  SAMBA_CUDA_CHECK(cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...));
}

}  // namespace samba::cuda
