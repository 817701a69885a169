// The CUDA backend (issue 3): bf16 weights on the device, fp32 residual
// stream and Mamba state, cuBLAS for every projection, our kernels for the
// rest, the decode step as a CUDA graph. Activations in bf16 (Precision::fast)
// or fp32 (Precision::exact, with an fp32 copy of the GEMM weights). Created through samba::create_backend
// (backend_factory.cpp); the extra interface below serves benchmarks and the
// GPU tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "samba/backend.h"
#include "samba/config.h"

namespace samba {

class ModelFiles;

// Returns nullptr and says why in *unavailable_reason when the backend
// cannot run here: no CUDA device, a driver older than the runtime the
// engine was built with, a GPU without bf16 tensor cores, a model shape the
// kernels do not cover, or not enough free device memory for the weights,
// the decode state and the prefill workspace. The state of a SAMBA model does
// not grow with the context, so `max_context_hint` changes no memory figure;
// it is checked for sanity only.
std::unique_ptr<Backend> create_cuda_backend(const ModelFiles& files, int max_context_hint,
                                             std::string* unavailable_reason,
                                             Precision precision = Precision::fast);

// "NVIDIA H200, 139.8 GiB, compute capability 9.0, driver 13.0, runtime 13.0"
// or why there is no usable device.
std::string cuda_device_summary();

// True when a CUDA device that this build can use is present.
bool cuda_device_present(std::string* reason);

namespace cuda {

// The backend's extra interface.
class CudaBackend : public Backend {
 public:
  // Tokens per prefill chunk (bounded memory for any input length). Values
  // above the workspace size chosen at creation are clamped to it.
  virtual void set_prefill_chunk(int tokens) = 0;
  virtual int prefill_chunk() const = 0;
  // Greedy decoding entirely on the device: reads `first_token` at the
  // current position, then feeds each argmax back as the next input, one
  // CUDA-graph replay per token with no host round trip. Returns the n
  // generated tokens; the state advances by n.
  virtual std::vector<int32_t> decode_greedy(int32_t first_token, int n) = 0;
  // Bytes this backend holds on the device (weights, state, workspaces).
  virtual uint64_t device_bytes() const = 0;
  // Waits for all queued work.
  virtual void synchronize() = 0;
  // With SAMBA_CUDA_PROFILE=1 set at creation: time per stage since the last
  // report, as text ("" when off).
  virtual std::string profile_report() = 0;
  // How a decode step runs: "fused GEMV, CUDA graph", "cuBLAS, no graph"...
  virtual std::string decode_path() const = 0;
  virtual Precision precision() const = 0;
};

// A backend on pseudo-random weights of `config`'s exact shapes, generated on
// the device (benchmarks of real-size models without weight files). Returns
// nullptr with a reason like create_cuda_backend.
std::unique_ptr<CudaBackend> create_cuda_backend_random(const ModelConfig& config, uint64_t seed,
                                                        std::string* unavailable_reason,
                                                        int prefill_chunk = 0,
                                                        Precision precision = Precision::fast);

// Device memory a backend of this config needs with `prefill_chunk` tokens
// per chunk (weights + state + workspace).
uint64_t cuda_backend_bytes(const ModelConfig& config, int prefill_chunk, Precision precision = Precision::fast);
// Device bytes of the weights alone (bf16 matrices, fp32 vectors; in the
// exact mode plus the fp32 copies of the matrices).
uint64_t cuda_weight_bytes(const ModelConfig& config, Precision precision = Precision::fast);

}  // namespace cuda
}  // namespace samba
