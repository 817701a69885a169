#include "cuda/device_traits.h"

#include <cuda_runtime.h>

#include <cstdlib>
#include <cstring>

#include "cuda/cuda_check.h"

namespace samba::cuda {

const DeviceTraits& device_traits() {
  static const DeviceTraits traits = [] {
    DeviceTraits t;
    int dev = 0;
    SAMBA_CUDA_CHECK(cudaGetDevice(&dev));
    SAMBA_CUDA_CHECK(cudaDeviceGetAttribute(&t.sms, cudaDevAttrMultiProcessorCount, dev));
    SAMBA_CUDA_CHECK(cudaDeviceGetAttribute(&t.major, cudaDevAttrComputeCapabilityMajor, dev));
    const char* env = std::getenv("SAMBA_CUDA_PDL");
    t.pdl = t.major >= 9 && !(env && std::strcmp(env, "0") == 0);
    return t;
  }();
  return traits;
}

}  // namespace samba::cuda
