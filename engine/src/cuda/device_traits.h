// What the launchers need to know about the device, read once per process
// (the backend uses one device per process).
#pragma once

namespace samba::cuda {

struct DeviceTraits {
  int sms = 0;
  int major = 0;  // compute capability
  // Programmatic dependent launch (pdl.cuh): sm_90+, unless SAMBA_CUDA_PDL=0.
  bool pdl = false;
};
const DeviceTraits& device_traits();

}  // namespace samba::cuda
