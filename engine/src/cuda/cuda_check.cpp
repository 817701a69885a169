#include "cuda/cuda_check.h"

#include <string>

#include "samba/error.h"

namespace samba::cuda {

namespace {
std::string where(const char* expr, const char* file, int line) {
  std::string f = file;
  const size_t slash = f.find_last_of('/');
  if (slash != std::string::npos) f = f.substr(slash + 1);
  return std::string(" (") + expr + " at " + f + ":" + std::to_string(line) + ")";
}
}  // namespace

void throw_cuda_error(cudaError_t err, const char* expr, const char* file, int line) {
  const std::string text = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
  if (err == cudaErrorMemoryAllocation)
    throw Error(ErrorKind::OutOfMemory, "CUDA: out of device memory" + where(expr, file, line));
  throw Error(ErrorKind::Device, "CUDA error " + text + where(expr, file, line));
}

void throw_cublas_error(cublasStatus_t status, const char* expr, const char* file, int line) {
  const std::string text = std::string(cublasGetStatusName(status)) + ": " + cublasGetStatusString(status);
  if (status == CUBLAS_STATUS_ALLOC_FAILED)
    throw Error(ErrorKind::OutOfMemory, "cuBLAS: out of device memory" + where(expr, file, line));
  throw Error(ErrorKind::Device, "cuBLAS error " + text + where(expr, file, line));
}

}  // namespace samba::cuda
