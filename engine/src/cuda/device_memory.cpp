#include "cuda/device_memory.h"

#include <cuda_runtime.h>

#include <cstdio>

#include "cuda/cuda_check.h"
#include "samba/error.h"

namespace samba::cuda {

std::string mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.0f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

void device_memory_info(size_t* free_bytes, size_t* total_bytes) {
  SAMBA_CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes));
}

void* device_alloc(size_t bytes, const std::string& what) {
  void* ptr = nullptr;
  const cudaError_t err = cudaMalloc(&ptr, bytes == 0 ? 1 : bytes);
  if (err == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();  // allocation failures are not sticky; clear it
    size_t free_bytes = 0, total_bytes = 0;
    (void)cudaMemGetInfo(&free_bytes, &total_bytes);
    throw Error(ErrorKind::OutOfMemory, "CUDA: not enough device memory for " + what + ": needs " + mib(bytes) +
                                            ", " + mib(free_bytes) + " free of " + mib(total_bytes));
  }
  SAMBA_CUDA_CHECK(err);
  return ptr;
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_) cudaFree(ptr_);
}

}  // namespace samba::cuda
