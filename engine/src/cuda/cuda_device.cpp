// Is there a CUDA device this build can use, and what is it.
#include <cuda_runtime.h>

#include <cstdio>
#include <string>

#include "cuda/cuda_backend.h"

namespace samba {

namespace {
std::string version_text(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }
}  // namespace

bool cuda_device_present(std::string* reason) {
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  if (cudaDriverGetVersion(&driver) != cudaSuccess || driver == 0) {
    (void)cudaGetLastError();
    if (reason) *reason = "no NVIDIA driver found";
    return false;
  }
  if (driver < runtime) {
    if (reason)
      *reason = "the NVIDIA driver is too old: it supports CUDA " + version_text(driver) +
                ", this build needs CUDA " + version_text(runtime);
    return false;
  }
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    (void)cudaGetLastError();
    if (reason)
      *reason = err == cudaSuccess || err == cudaErrorNoDevice
                    ? std::string("no CUDA device found")
                    : std::string("CUDA devices could not be listed: ") + cudaGetErrorString(err);
    return false;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
    (void)cudaGetLastError();
    if (reason) *reason = "the CUDA device could not be queried";
    return false;
  }
  if (prop.major < 8) {
    if (reason)
      *reason = std::string(prop.name) + " has compute capability " + std::to_string(prop.major) + "." +
                std::to_string(prop.minor) + "; the CUDA backend needs 8.0 or newer (bf16 tensor cores)";
    return false;
  }
  return true;
}

std::string cuda_device_summary() {
  std::string reason;
  if (!cuda_device_present(&reason)) return "no usable CUDA device: " + reason;
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  int runtime = 0, driver = 0;
  cudaRuntimeGetVersion(&runtime);
  cudaDriverGetVersion(&driver);
  char memory[32];
  std::snprintf(memory, sizeof(memory), "%.1f GiB", static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
  return std::string(prop.name) + ", " + memory + ", compute capability " + std::to_string(prop.major) + "." +
         std::to_string(prop.minor) + ", " + std::to_string(prop.multiProcessorCount) + " SMs, driver CUDA " +
         version_text(driver) + ", runtime " + version_text(runtime);
}

}  // namespace samba
