// The CPU backend: fp32 weights and state, OpenBLAS for every projection,
// OpenMP for the per-channel scan, the attention rows and the norms.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <thread>

#include "cpu/cpu_attention.h"
#include "cpu/cpu_mamba.h"
#include "cpu/cpu_ops.h"
#include "cpu/cpu_weights.h"
#include "samba/backend.h"
#include "samba/error.h"
#include "samba/weights.h"

extern "C" void openblas_set_num_threads(int num_threads);

namespace samba {
namespace {

// Tokens per internal chunk: bounds the activations (and the attention
// scores, T x (T + W)) whatever the input length.
constexpr int kMaxChunk = 256;

class CpuBackend final : public Backend {
 public:
  CpuBackend(const ModelFiles& files, int threads)
      : config_(files.config()), weights_(cpu::Weights::load(files)),
        state_(ModelState::empty(config_)) {
    threads_ = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    omp_set_num_threads(threads_);
    // OpenBLAS runs single-threaded inside our OpenMP slices (cpu_ops.cpp).
    openblas_set_num_threads(1);
    const size_t T = kMaxChunk, d = config_.d_model;
    x_.resize(T * d);
    normed_.resize(T * d);
    gate_.resize(T * config_.intermediate);
    up_.resize(T * config_.intermediate);
    mamba_.reserve(config_, kMaxChunk);
    attention_.reserve(config_, kMaxChunk);
  }

  const ModelConfig& config() const override { return config_; }
  std::string description() const override {
    return "cpu (" + std::to_string(threads_) + " threads, fp32, OpenBLAS)";
  }
  void reset() override { state_ = ModelState::empty(config_); }
  int64_t position() const override { return state_.position; }

  void forward(std::span<const int32_t> tokens, std::vector<float>* logits,
               const ForwardOptions& options) override {
    const int V = config_.vocab_size;
    for (int32_t t : tokens)
      if (t < 0 || t >= V)
        throw Error(ErrorKind::InvalidArgument,
                    "token id " + std::to_string(t) + " is outside the vocabulary (size " + std::to_string(V) + ")");
    if (logits) logits->assign(options.all_logits ? tokens.size() * V : (tokens.empty() ? 0 : V), 0.0f);
    size_t done = 0;
    while (done < tokens.size()) {
      const int T = static_cast<int>(std::min<size_t>(kMaxChunk, tokens.size() - done));
      run_chunk(tokens.subspan(done, T), options.entropy);
      if (logits) {
        if (options.all_logits) {
          compute_logits(0, T, logits->data() + done * V);
        } else if (done + T == tokens.size()) {
          compute_logits(T - 1, 1, logits->data());
        }
      }
      done += T;
    }
  }

  ModelState save_state() const override { return state_; }
  void load_state(const ModelState& state) override {
    if (state.config_fingerprint != config_.fingerprint())
      throw Error(ErrorKind::InvalidArgument, "model state belongs to a different model configuration");
    ModelState expected = ModelState::empty(config_);
    auto same_shape = [](const auto& a, const auto& b) {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i)
        if (a[i].size() != b[i].size()) return false;
      return true;
    };
    if (!same_shape(state.conv, expected.conv) || !same_shape(state.ssm, expected.ssm) ||
        !same_shape(state.keys, expected.keys) || !same_shape(state.values, expected.values) ||
        state.position < 0)
      throw Error(ErrorKind::InvalidArgument, "model state has the wrong shape for this model");
    state_ = state;
  }

 private:
  void run_chunk(std::span<const int32_t> tokens, EntropySink* entropy) {
    const int T = static_cast<int>(tokens.size());
    const int d = config_.d_model, I = config_.intermediate;
    const float eps = config_.norm_eps;
    for (int t = 0; t < T; ++t)
      std::memcpy(&x_[static_cast<size_t>(t) * d], &weights_.embedding[static_cast<size_t>(tokens[t]) * d],
                  sizeof(float) * d);
    int mamba_index = 0, swa_index = 0;
    for (int i = 0; i < config_.n_layer; ++i) {
      const cpu::LayerWeights& lw = weights_.layers[i];
      cpu::rms_norm(x_.data(), T, d, lw.norm_1.data(), eps, normed_.data());
      if (config_.is_mamba_layer(i)) {
        cpu::mamba_forward(lw.mamba, config_, normed_.data(), T, state_.conv[mamba_index].data(),
                           state_.ssm[mamba_index].data(), x_.data(), mamba_);
        ++mamba_index;
      } else {
        cpu::attention_forward(lw.attn, config_, normed_.data(), T, state_.position,
                               state_.keys[swa_index].data(), state_.values[swa_index].data(),
                               x_.data(), attention_, entropy, i);
        ++swa_index;
      }
      cpu::rms_norm(x_.data(), T, d, lw.norm_2.data(), eps, normed_.data());
      cpu::linear(normed_.data(), T, d, lw.w1.data(), I, gate_.data());
      cpu::linear(normed_.data(), T, d, lw.w2.data(), I, up_.data());
      const size_t n = static_cast<size_t>(T) * I;
#pragma omp parallel for if (n > 16384)
      for (size_t j = 0; j < n; ++j) gate_[j] = cpu::silu(gate_[j]) * up_[j];
      cpu::linear(gate_.data(), T, I, lw.w3.data(), d, x_.data(), /*accumulate=*/true);
    }
    state_.position += T;
  }

  // Logits of rows [first, first+count) of the last chunk, tied head.
  void compute_logits(int first, int count, float* out) {
    const int d = config_.d_model;
    cpu::rms_norm(&x_[static_cast<size_t>(first) * d], count, d, weights_.norm_f.data(),
                  config_.norm_eps, normed_.data());
    cpu::linear(normed_.data(), count, d, weights_.embedding.data(), config_.vocab_size, out);
  }

  ModelConfig config_;
  cpu::Weights weights_;
  ModelState state_;
  int threads_ = 1;
  std::vector<float> x_, normed_, gate_, up_;
  cpu::MambaScratch mamba_;
  cpu::AttentionScratch attention_;
};

}  // namespace

std::unique_ptr<Backend> create_cpu_backend(const ModelFiles& files, int threads) {
  try {
    return std::make_unique<CpuBackend>(files, threads);
  } catch (const std::bad_alloc&) {
    throw Error(ErrorKind::OutOfMemory,
                "not enough host memory to load " + files.folder() + " on the CPU (needs about " +
                    std::to_string(files.config().parameter_count() * 4 / (1 << 20)) + " MiB in fp32)");
  }
}

}  // namespace samba
