// A compute backend runs the SAMBA forward pass for one sequence (batch 1)
// and owns its decode state: per Mamba layer the conv window and the SSM
// state, per SWA layer a ring buffer of the last W keys (after RoPE) and
// values, and the position. Memory is constant in the sequence length.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "samba/config.h"
#include "samba/model_state.h"

namespace samba {

class ModelFiles;

// Receives attention entropy H(l,h,i) = -sum_j p_ij ln p_ij (nats), for a
// block of consecutive query positions of one SWA layer.
class EntropySink {
 public:
  virtual ~EntropySink() = default;
  // `layer` is the block index (odd), values are [n_pos][n_head] row-major.
  virtual void consume(int layer, int64_t pos0, int n_pos, int n_head, const float* values) = 0;
};

struct ForwardOptions {
  // Write logits for every input position ([n, vocab]); otherwise only for
  // the last one ([1, vocab]). Ignored when `logits` is null.
  bool all_logits = false;
  EntropySink* entropy = nullptr;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const ModelConfig& config() const = 0;
  // "cpu (2 threads)", "cuda: NVIDIA H200 (139 GiB)"...
  virtual std::string description() const = 0;
  // Forgets everything read: position 0, zero states.
  virtual void reset() = 0;
  virtual int64_t position() const = 0;
  // Reads `tokens` at positions position()..position()+n-1 and advances
  // the state. Long inputs are processed internally in chunks so memory stays
  // bounded; the result equals one pass. If `logits` is not null it receives
  // the logits described by `options.all_logits`.
  virtual void forward(std::span<const int32_t> tokens, std::vector<float>* logits,
                       const ForwardOptions& options = {}) = 0;
  // The complete decode state in the backend-independent layout of
  // model_state.h (a CUDA state can be restored on the CPU and back).
  virtual ModelState save_state() const = 0;
  virtual void load_state(const ModelState& state) = 0;
};

// The CPU backend: fp32, OpenBLAS GEMMs, OpenMP threads.
// `threads` <= 0 means all hardware threads.
std::unique_ptr<Backend> create_cpu_backend(const ModelFiles& files, int threads = 0);

// Chooses a backend at run time: "cuda", "cpu" or "auto". With "auto" the
// CUDA backend is used when the engine was built with CUDA and a device with
// enough free memory is present; otherwise the CPU, and `fallback_reason`
// says why (no device, driver too old, not enough memory...).
struct BackendChoice {
  std::unique_ptr<Backend> backend;
  std::string fallback_reason;  // empty when the requested backend was used
};
BackendChoice create_backend(const ModelFiles& files, const std::string& kind = "auto",
                             int max_context_hint = 0);

// True when this build has the CUDA backend compiled in.
bool cuda_compiled();

}  // namespace samba
