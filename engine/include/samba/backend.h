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

// How a GPU backend computes its activations (the inputs of the GEMMs and of
// the attention). `fast`: bf16 (tensor cores; the logits agree with fp32 to
// ~1e-2, attention entropy to ~2e-2 nats). `exact`: fp32 everywhere the CPU
// backend uses fp32 (fp32 GEMMs without TF32 against an fp32 copy of the bf16
// weights, fp32 attention and key/value cache), which matches the CPU backend
// to rounding (entropy within 1e-3 nats) at the cost of speed and of the
// memory of that copy: what entropy analysis uses. The CPU backend is always
// fp32 and ignores the choice.
enum class Precision { fast, exact };

// The CPU backend: fp32, OpenBLAS GEMMs, OpenMP threads.
// `threads` <= 0 means all hardware threads.
std::unique_ptr<Backend> create_cpu_backend(const ModelFiles& files, int threads = 0);

// Chooses a backend at run time: "cuda", "cpu" or "auto". With "auto" the
// CUDA backend is used when the engine was built with CUDA and a device with
// enough free memory is present; otherwise the CPU, and `fallback_reason`
// says why (no device, driver too old, not enough memory...). `precision`
// selects the CUDA backend's mode (see Precision); a model that fits in the
// fast mode but not in the exact one gets a reason that says so.
struct BackendChoice {
  std::unique_ptr<Backend> backend;
  std::string fallback_reason;  // empty when the requested backend was used
};
BackendChoice create_backend(const ModelFiles& files, const std::string& kind = "auto",
                             int max_context_hint = 0, Precision precision = Precision::fast);
// "fast" / "exact", and back (throws InvalidArgument naming the bad value).
const char* precision_name(Precision precision);
Precision parse_precision(const std::string& name);

// True when this build has the CUDA backend compiled in.
bool cuda_compiled();

}  // namespace samba
