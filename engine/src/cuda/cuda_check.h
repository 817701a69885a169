// Turns CUDA runtime and cuBLAS failures into samba::Error, so the app sees a
// message (out of memory, device failure) instead of an abort.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace samba::cuda {

// Throws samba::Error: OutOfMemory for allocation failures, Device otherwise.
[[noreturn]] void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file, int line);

}  // namespace samba::cuda

#define SAMBA_CUDA_CHECK(expr)                                                       \
  do {                                                                               \
    const cudaError_t samba_err_ = (expr);                                           \
    if (samba_err_ != cudaSuccess)                                                   \
      ::samba::cuda::throw_cuda_error(samba_err_, #expr, __FILE__, __LINE__);        \
  } while (0)

// After a kernel launch: configuration errors show up here at once;
// faults inside the kernel show up at the next synchronizing call.
#define SAMBA_CUDA_CHECK_LAUNCH() SAMBA_CUDA_CHECK(cudaGetLastError())

#define SAMBA_CUBLAS_CHECK(expr)                                                     \
  do {                                                                               \
    const cublasStatus_t samba_st_ = (expr);                                         \
    if (samba_st_ != CUBLAS_STATUS_SUCCESS)                                          \
      ::samba::cuda::throw_cublas_error(samba_st_, #expr, __FILE__, __LINE__);       \
  } while (0)
