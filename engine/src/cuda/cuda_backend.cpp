// The CUDA backend: the SAMBA forward pass on one GPU for one sequence.
//
// Prefill reads the input in chunks of up to `chunk_` tokens (bounded memory
// for any length). Per chunk and layer: RMSNorm -> cuBLAS projection ->
// our kernels (conv + selective scan, or RoPE + sliding-window flash
// attention) -> cuBLAS output projection accumulating into the fp32 residual
// stream. A single token (decode) runs the same layers with the decode
// kernels, captured once as a CUDA graph that reads the token and the
// position from device memory and leaves the argmax there, so it can be
// replayed step after step.
//
// Decode uses its own fused matrix-vector kernel (gemv.cu) instead of cuBLAS:
// a one-token GEMM only streams the weights, and fusing the RMSNorm before it
// and the residual add / SwiGLU after it halves the launches of a step.
// SAMBA_CUDA_DECODE_GEMV=cublas selects the cuBLAS path instead (for
// comparison in the benchmark).
//
// Decode state on the device: per Mamba layer the conv inputs [di][K-1] and
// the SSM state [di][n] in fp32; per SWA layer a ring of W keys (after RoPE)
// and values in the activation type, slot = position % W — the layout of
// model_state.h, which save_state / load_state convert to and from.
//
// Two precisions (samba::Precision). fast: bf16 activations into the GEMMs
// (cuBLAS bf16 tensor cores) and the attention (mma.sync bf16). exact: fp32
// activations everywhere the CPU backend has them — fp32 GEMMs without TF32
// against fp32 copies of the bf16 weights, fp32 norm/conv/scan/RoPE/SwiGLU
// outputs, fp32 key/value rings and a CUDA-core fp32 attention — for entropy
// analysis, which must match the CPU to 1e-3 nats. The layer code is one
// template over the activation type `Act` (bf16 or float); decode in exact
// mode runs through cuBLAS (M = 1), captured in the same CUDA graph.
//
// Prefill with an entropy sink: each chunk's entropy is copied into a pinned
// double buffer asynchronously and handed to the sink after the next chunk's
// kernels are queued (DeferredEntropy), so the host sink overlaps GPU work.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/cuda_check.h"
#include "cuda/deferred_entropy.h"
#include "cuda/device_memory.h"
#include "cuda/device_weights.h"
#include "cuda/gemm.h"
#include "cuda/ops.h"
#include "cuda/stage_profiler.h"
#include "samba/error.h"
#include "samba/model_state.h"
#include "samba/safetensors.h"
#include "samba/weights.h"

namespace samba::cuda {

namespace {

constexpr int kDefaultChunk = 4096;
constexpr int kMinChunk = 128;
constexpr int kLogitRows = 256;  // rows of logits computed per LM-head GEMM when all are wanted

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

// Pinned host memory for the small transfers of every step.
template <class T>
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t count) : count_(count) {
    SAMBA_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&ptr_), std::max<size_t>(count, 1) * sizeof(T)));
  }
  ~PinnedBuffer() {
    if (ptr_) cudaFreeHost(ptr_);
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  PinnedBuffer(PinnedBuffer&& o) noexcept { *this = std::move(o); }
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    std::swap(ptr_, o.ptr_);
    std::swap(count_, o.count_);
    return *this;
  }
  T* data() const { return ptr_; }

 private:
  T* ptr_ = nullptr;
  size_t count_ = 0;
};

// Bytes of one activation value: bf16 (fast) or fp32 (exact).
size_t activation_bytes(Precision p) { return p == Precision::exact ? sizeof(float) : sizeof(bf16); }

// A buffer of the activation type, typed at the point of use.
template <class Act>
Act* as(void* p) {
  return static_cast<Act*>(p);
}

// The GEMM operand of the activation type: the bf16 weights, or their fp32 copy.
template <class Act>
const Act* weight(const bf16* w_bf16, const float* w_f32) {
  if constexpr (std::is_same_v<Act, bf16>)
    return w_bf16;
  else
    return w_f32;
}

// The decode state on the device.
struct DeviceState {
  int64_t* pos = nullptr;  // position of the token being read (for graphs)
  float* conv = nullptr;   // [n_mamba][di][K-1]
  float* ssm = nullptr;    // [n_mamba][di][n]
  void* keys = nullptr;    // [n_swa][W][kv_dim], activation type
  void* values = nullptr;  // [n_swa][W][kv_dim], activation type

  static void layout(Arena& a, const ModelConfig& c, size_t act, DeviceState* s) {
    const size_t m = c.n_mamba_layers(), sw = c.n_swa_layers();
    s->pos = a.take<int64_t>(1);
    s->conv = a.take<float>(m * c.d_inner * (c.d_conv - 1));
    s->ssm = a.take<float>(m * c.d_inner * c.d_state);
    s->keys = a.take<char>(sw * c.window * c.kv_dim() * act);
    s->values = a.take<char>(sw * c.window * c.kv_dim() * act);
  }
};

// Activations of one chunk of up to T tokens. The void* buffers hold the
// activation type (`act` bytes a value).
struct Workspace {
  double* inv_freq = nullptr; // [hs / 2] RoPE frequencies
  int32_t* tokens = nullptr;  // [T]; during decode [0] is the input and receives the argmax
  float* x = nullptr;         // [T][d] residual stream
  void* xn = nullptr;         // [T][d] normed
  float* xz = nullptr;        // [T][2 di]
  float* xc = nullptr;        // [T][di]
  bf16* xc_bf16 = nullptr;    // [T][di], fast mode only (the exact mode's x_proj reads xc)
  float* dbc = nullptr;       // [T][r + 2n]
  float* dt = nullptr;        // [T][di]
  float* scan_segments = nullptr;  // the time-split scan's summaries (selective_scan_segmented.cu)
  void* y = nullptr;          // [T][di]
  float* qkv = nullptr;       // [T][q + 2 kv]
  void* q = nullptr;          // [T][q]
  void* attn = nullptr;       // [T][q]
  void* kbuf = nullptr;       // [W - 1 + T][kv]
  void* vbuf = nullptr;
  float* gate_up = nullptr;   // [T][2I]
  void* act = nullptr;        // [T][I]
  float* entropy = nullptr;   // [n_swa][T][H]
  float* logits = nullptr;    // [min(T, kLogitRows)][V]
  float* attn_partial = nullptr;
  void* blas = nullptr;       // cuBLAS workspace

  static void layout(Arena& a, const ModelConfig& c, int T_, size_t act, Workspace* w) {
    const size_t T = T_, d = c.d_model, di = c.d_inner, I = c.intermediate;
    const size_t qd = c.q_dim(), kv = c.kv_dim();
    const bool fast = act == sizeof(bf16);
    w->inv_freq = a.take<double>(c.head_size / 2);
    w->tokens = a.take<int32_t>(T);
    w->x = a.take<float>(T * d);
    w->xn = a.take<char>(T * d * act);
    w->xz = a.take<float>(T * 2 * di);
    w->xc = a.take<float>(T * di);
    w->xc_bf16 = fast ? a.take<bf16>(T * di) : nullptr;
    w->dbc = a.take<float>(T * (c.dt_rank + 2 * c.d_state));
    w->dt = a.take<float>(T * di);
    w->scan_segments = a.take<float>(scan_segment_scratch_floats(c.d_inner, c.d_state));
    w->y = a.take<char>(T * di * act);
    w->qkv = a.take<float>(T * (qd + 2 * kv));
    w->q = a.take<char>(T * qd * act);
    w->attn = a.take<char>(T * qd * act);
    w->kbuf = a.take<char>((c.window - 1 + T) * kv * act);
    w->vbuf = a.take<char>((c.window - 1 + T) * kv * act);
    w->gate_up = a.take<float>(T * 2 * I);
    w->act = a.take<char>(T * I * act);
    w->entropy = a.take<float>(static_cast<size_t>(c.n_swa_layers()) * T * c.n_head);
    w->logits = a.take<float>(std::min<size_t>(T, kLogitRows) * c.vocab_size);
    w->attn_partial = a.take<float>(decode_attention_workspace_floats(c.n_head, c.head_size, c.window));
    w->blas = a.take<char>(Gemm::kWorkspaceBytes);
  }
};

uint64_t state_device_bytes(const ModelConfig& c, Precision p) {
  Arena a;
  DeviceState s;
  DeviceState::layout(a, c, activation_bytes(p), &s);
  return a.used();
}

uint64_t workspace_device_bytes(const ModelConfig& c, int T, Precision p) {
  Arena a;
  Workspace w;
  Workspace::layout(a, c, T, activation_bytes(p), &w);
  return a.used();
}

uint64_t weight_device_bytes(const ModelConfig& c, Precision p) {
  return DeviceWeights::device_bytes(c) + (p == Precision::exact ? DeviceWeights::f32_copy_bytes(c) : 0);
}

// Shapes the kernels cover; empty when fine.
std::string unsupported_shape(const ModelConfig& c) {
  if (!prefill_attention_supports(c.head_size))
    return "head_size " + std::to_string(c.head_size) + " is not supported by the CUDA kernels (16, 32, 64 or 128)";
  if (c.d_state != 8 && c.d_state != 16 && c.d_state != 32)
    return "mamba_d_state " + std::to_string(c.d_state) + " is not supported by the CUDA kernels (8, 16 or 32)";
  if (c.d_conv < 2 || c.d_conv > 8)
    return "mamba_d_conv " + std::to_string(c.d_conv) + " is not supported by the CUDA kernels (2..8)";
  if (c.window > decode_attention_max_window())
    return "sliding_window " + std::to_string(c.window) + " is above the CUDA kernels' limit of " +
           std::to_string(decode_attention_max_window());
  if (c.n_kv_head <= 0 || c.n_head % c.n_kv_head != 0)
    return "n_head must be a multiple of n_query_groups";
  if (!c.tie_embeddings) return "untied output heads are not supported";
  return {};
}

class CudaBackendImpl final : public CudaBackend {
 public:
  // `make_weights` fills the weights once the stream exists.
  template <class MakeWeights>
  CudaBackendImpl(const ModelConfig& config, int chunk, Precision precision, MakeWeights&& make_weights)
      : config_(config), chunk_(chunk), precision_(precision), exact_(precision == Precision::exact),
        act_bytes_(activation_bytes(precision)), prof_(env_flag("SAMBA_CUDA_PROFILE")),
        deferred_(swa_layer_indices(config), config.n_head) {
    SAMBA_CUDA_CHECK(cudaSetDevice(0));
    cudaDeviceProp prop{};
    SAMBA_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    description_ = std::string("cuda: ") + prop.name + " (" +
                   std::to_string(static_cast<int>(std::lround(static_cast<double>(prop.totalGlobalMem) / (1 << 30)))) +
                   " GiB), bf16 weights, " + (exact_ ? "fp32 activations" : "bf16 activations");
    SAMBA_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    weights_ = make_weights(stream_);
    // Uploads use synchronous copies on the legacy stream, which does not
    // order with our non-blocking stream: wait for them here.
    SAMBA_CUDA_CHECK(cudaDeviceSynchronize());
    if (exact_) weights_.make_f32_copies(config_, stream_);  // waited for by the synchronize() below
    Arena count_state;
    DeviceState::layout(count_state, config_, act_bytes_, &state_);
    state_memory_ = DeviceBuffer(count_state.used(), "the decode state");
    Arena state_arena(static_cast<char*>(state_memory_.get()));
    DeviceState::layout(state_arena, config_, act_bytes_, &state_);
    workspace_chunk_ = chunk_;
    Arena count_ws;
    Workspace::layout(count_ws, config_, workspace_chunk_, act_bytes_, &ws_);
    workspace_memory_ = DeviceBuffer(count_ws.used(), "the prefill workspace (" + std::to_string(chunk_) + " tokens)");
    Arena ws_arena(static_cast<char*>(workspace_memory_.get()));
    Workspace::layout(ws_arena, config_, workspace_chunk_, act_bytes_, &ws_);
    gemm_ = std::make_unique<Gemm>(stream_, ws_.blas, Gemm::kWorkspaceBytes, /*pedantic=*/exact_);
    // Two slots each: chunk k + 1 is queued while chunk k's are still in use.
    pinned_tokens_ = PinnedBuffer<int32_t>(static_cast<size_t>(DeferredEntropy::kSlots) * workspace_chunk_);
    pinned_logits_ = PinnedBuffer<float>(config_.vocab_size);
    pinned_entropy_ = PinnedBuffer<float>(static_cast<size_t>(config_.n_swa_layers()) * config_.n_head);
    chunk_entropy_floats_ = static_cast<size_t>(config_.n_swa_layers()) * workspace_chunk_ * config_.n_head;
    pinned_chunk_entropy_ = PinnedBuffer<float>(DeferredEntropy::kSlots * chunk_entropy_floats_);
    for (cudaEvent_t& e : slot_done_) SAMBA_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
    use_graph_ = !env_flag("SAMBA_CUDA_NO_GRAPH") && !prof_.enabled();
    const char* gemv_choice = std::getenv("SAMBA_CUDA_DECODE_GEMV");
    // The fused GEMV reads bf16 weights and activations: fast mode only.
    use_gemv_ = !exact_ && !(gemv_choice && std::strcmp(gemv_choice, "cublas") == 0) &&
                gemv_supports(config_.d_model) && gemv_supports(config_.d_inner) && gemv_supports(config_.q_dim()) &&
                gemv_supports(config_.intermediate);
    // The fused decode steps (conv step in in_proj's epilogue, RoPE inside the
    // decode attention) and the GEMV's 8-deep load batch were written in a
    // session without a GPU: their kernel tests have not run yet, so they are
    // opt-in until they have (docs/BENCHMARKS.md, issue 3's note).
    fuse_decode_steps_ = env_flag("SAMBA_CUDA_DECODE_FUSED");
    // The persistent GEMV chain (gemv_chain.cu), likewise written without a
    // GPU: opt-in with SAMBA_CUDA_DECODE_CHAIN=1 until its tests have run.
    chain_decode_gemv_ = use_gemv_ && env_flag("SAMBA_CUDA_DECODE_CHAIN");
    if (chain_decode_gemv_) {
      chain_counter_ = DeviceBuffer(sizeof(unsigned long long), "the GEMV chain's barrier counter");
      SAMBA_CUDA_CHECK(cudaMemsetAsync(chain_counter_.get(), 0, sizeof(unsigned long long), stream_));
      (void)gemv_chain_blocks();  // sized (module load, occupancy) now, not inside a graph capture
    }
    const std::vector<double> inv_freq = rope_inv_freq(config_.head_size, config_.rope_base);
    SAMBA_CUDA_CHECK(cudaMemcpyAsync(ws_.inv_freq, inv_freq.data(), inv_freq.size() * sizeof(double),
                                     cudaMemcpyHostToDevice, stream_));  // done by the synchronize() below
    // The decode attention's per-head tickets must start at zero.
    SAMBA_CUDA_CHECK(cudaMemsetAsync(ws_.attn_partial, 0,
                                     decode_attention_workspace_floats(config_.n_head, config_.head_size,
                                                                       config_.window) * sizeof(float),
                                     stream_));
    reset();
    synchronize();
    if (use_gemv_) tune_decode_gemv();
  }

  ~CudaBackendImpl() override {
    if (stream_) cudaStreamSynchronize(stream_);
    if (graph_exec_) cudaGraphExecDestroy(graph_exec_);
    for (cudaEvent_t e : slot_done_)
      if (e) cudaEventDestroy(e);
    gemm_.reset();
    if (stream_) cudaStreamDestroy(stream_);
  }

  const ModelConfig& config() const override { return config_; }
  std::string description() const override { return description_; }
  int64_t position() const override { return position_; }

  void reset() override {
    const ModelConfig& c = config_;
    const size_t m = c.n_mamba_layers(), sw = c.n_swa_layers();
    deferred_.discard();
    SAMBA_CUDA_CHECK(cudaMemsetAsync(state_.conv, 0, m * c.d_inner * (c.d_conv - 1) * sizeof(float), stream_));
    SAMBA_CUDA_CHECK(cudaMemsetAsync(state_.ssm, 0, m * c.d_inner * c.d_state * sizeof(float), stream_));
    SAMBA_CUDA_CHECK(cudaMemsetAsync(state_.keys, 0, sw * c.window * c.kv_dim() * act_bytes_, stream_));
    SAMBA_CUDA_CHECK(cudaMemsetAsync(state_.values, 0, sw * c.window * c.kv_dim() * act_bytes_, stream_));
    position_ = 0;
  }

  void forward(std::span<const int32_t> tokens, std::vector<float>* logits,
               const ForwardOptions& options) override {
    const int V = config_.vocab_size;
    for (int32_t t : tokens)
      if (t < 0 || t >= V)
        throw Error(ErrorKind::InvalidArgument, "token id " + std::to_string(t) +
                                                    " is outside the vocabulary (size " + std::to_string(V) + ")");
    if (logits) logits->clear();
    if (tokens.empty()) return;
    if (tokens.size() == 1) {
      decode_step(tokens[0], logits, options.entropy);
      return;
    }
    if (logits) logits->assign(options.all_logits ? tokens.size() * V : static_cast<size_t>(V), 0.0f);
    try {
      size_t done = 0;
      for (int k = 0; done < tokens.size(); ++k) {
        const int T = static_cast<int>(std::min<size_t>(chunk_, tokens.size() - done));
        const bool last = done + T == tokens.size();
        float* out = nullptr;
        if (logits && options.all_logits) out = logits->data() + done * V;
        if (logits && !options.all_logits && last) out = logits->data();
        run_chunk(tokens.data() + done, T, out, options.all_logits, options.entropy, k % DeferredEntropy::kSlots);
        done += T;
      }
      deferred_.flush(fetch_entropy());
      SAMBA_CUDA_CHECK(cudaStreamSynchronize(stream_));
      if (prof_.enabled()) prof_.collect();
    } catch (...) {
      // Nothing pending is delivered later, and nothing queued still writes
      // the pinned buffers when the caller goes on (the error itself, if
      // it came from the device, is what is reported).
      deferred_.discard();
      (void)cudaStreamSynchronize(stream_);
      throw;
    }
  }

  ModelState save_state() const override {
    SAMBA_CUDA_CHECK(cudaStreamSynchronize(stream_));
    const ModelConfig& c = config_;
    ModelState s = ModelState::empty(c);
    s.position = position_;
    const size_t conv_n = static_cast<size_t>(c.d_inner) * (c.d_conv - 1);
    const size_t ssm_n = static_cast<size_t>(c.d_inner) * c.d_state;
    const size_t ring_n = static_cast<size_t>(c.window) * c.kv_dim();
    for (int m = 0; m < c.n_mamba_layers(); ++m) {
      SAMBA_CUDA_CHECK(cudaMemcpy(s.conv[m].data(), state_.conv + m * conv_n, conv_n * 4, cudaMemcpyDeviceToHost));
      SAMBA_CUDA_CHECK(cudaMemcpy(s.ssm[m].data(), state_.ssm + m * ssm_n, ssm_n * 4, cudaMemcpyDeviceToHost));
    }
    const char* keys = static_cast<const char*>(state_.keys);
    const char* values = static_cast<const char*>(state_.values);
    const size_t ring_bytes = ring_n * act_bytes_;
    if (exact_) {  // fp32 rings: the snapshot's own layout
      for (int l = 0; l < c.n_swa_layers(); ++l) {
        SAMBA_CUDA_CHECK(cudaMemcpy(s.keys[l].data(), keys + l * ring_bytes, ring_bytes, cudaMemcpyDeviceToHost));
        SAMBA_CUDA_CHECK(cudaMemcpy(s.values[l].data(), values + l * ring_bytes, ring_bytes, cudaMemcpyDeviceToHost));
      }
      return s;
    }
    std::vector<uint16_t> staging(ring_n);
    for (int l = 0; l < c.n_swa_layers(); ++l) {
      SAMBA_CUDA_CHECK(cudaMemcpy(staging.data(), keys + l * ring_bytes, ring_bytes, cudaMemcpyDeviceToHost));
      for (size_t i = 0; i < ring_n; ++i) s.keys[l][i] = bf16_to_f32(staging[i]);
      SAMBA_CUDA_CHECK(cudaMemcpy(staging.data(), values + l * ring_bytes, ring_bytes, cudaMemcpyDeviceToHost));
      for (size_t i = 0; i < ring_n; ++i) s.values[l][i] = bf16_to_f32(staging[i]);
    }
    return s;
  }

  void load_state(const ModelState& s) override {
    const ModelConfig& c = config_;
    if (s.config_fingerprint != c.fingerprint())
      throw Error(ErrorKind::InvalidArgument, "model state belongs to a different model configuration");
    const ModelState expected = ModelState::empty(c);
    auto same_shape = [](const auto& a, const auto& b) {
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i)
        if (a[i].size() != b[i].size()) return false;
      return true;
    };
    if (!same_shape(s.conv, expected.conv) || !same_shape(s.ssm, expected.ssm) ||
        !same_shape(s.keys, expected.keys) || !same_shape(s.values, expected.values) || s.position < 0)
      throw Error(ErrorKind::InvalidArgument, "model state has the wrong shape for this model");
    SAMBA_CUDA_CHECK(cudaStreamSynchronize(stream_));
    deferred_.discard();
    const size_t conv_n = static_cast<size_t>(c.d_inner) * (c.d_conv - 1);
    const size_t ssm_n = static_cast<size_t>(c.d_inner) * c.d_state;
    const size_t ring_n = static_cast<size_t>(c.window) * c.kv_dim();
    for (int m = 0; m < c.n_mamba_layers(); ++m) {
      SAMBA_CUDA_CHECK(cudaMemcpy(state_.conv + m * conv_n, s.conv[m].data(), conv_n * 4, cudaMemcpyHostToDevice));
      SAMBA_CUDA_CHECK(cudaMemcpy(state_.ssm + m * ssm_n, s.ssm[m].data(), ssm_n * 4, cudaMemcpyHostToDevice));
    }
    char* keys = static_cast<char*>(state_.keys);
    char* values = static_cast<char*>(state_.values);
    const size_t ring_bytes = ring_n * act_bytes_;
    if (exact_) {
      for (int l = 0; l < c.n_swa_layers(); ++l) {
        SAMBA_CUDA_CHECK(cudaMemcpy(keys + l * ring_bytes, s.keys[l].data(), ring_bytes, cudaMemcpyHostToDevice));
        SAMBA_CUDA_CHECK(cudaMemcpy(values + l * ring_bytes, s.values[l].data(), ring_bytes, cudaMemcpyHostToDevice));
      }
    } else {
      std::vector<uint16_t> staging(ring_n);
      for (int l = 0; l < c.n_swa_layers(); ++l) {
        for (size_t i = 0; i < ring_n; ++i) staging[i] = f32_to_bf16(s.keys[l][i]);
        SAMBA_CUDA_CHECK(cudaMemcpy(keys + l * ring_bytes, staging.data(), ring_bytes, cudaMemcpyHostToDevice));
        for (size_t i = 0; i < ring_n; ++i) staging[i] = f32_to_bf16(s.values[l][i]);
        SAMBA_CUDA_CHECK(cudaMemcpy(values + l * ring_bytes, staging.data(), ring_bytes, cudaMemcpyHostToDevice));
      }
    }
    // Pageable host-to-device copies may return before the data has landed.
    SAMBA_CUDA_CHECK(cudaDeviceSynchronize());
    position_ = s.position;
  }
  void set_prefill_chunk(int tokens) override {
    chunk_ = std::clamp(tokens, 1, workspace_chunk_);
  }
  int prefill_chunk() const override { return chunk_; }

  std::vector<int32_t> decode_greedy(int32_t first_token, int n) override {
    if (first_token < 0 || first_token >= config_.vocab_size)
      throw Error(ErrorKind::InvalidArgument, "token id " + std::to_string(first_token) + " is outside the vocabulary");
    std::vector<int32_t> out(std::max(n, 0));
    if (n <= 0) return out;
    DeviceBuffer generated(static_cast<size_t>(n) * sizeof(int32_t), "generated tokens");
    int32_t* gen = static_cast<int32_t*>(generated.get());
    pinned_tokens_.data()[0] = first_token;
    SAMBA_CUDA_CHECK(cudaMemcpyAsync(ws_.tokens, pinned_tokens_.data(), sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
    set_position(state_.pos, position_, stream_);
    for (int i = 0; i < n; ++i) {
      run_decode_graph();
      SAMBA_CUDA_CHECK(cudaMemcpyAsync(gen + i, ws_.tokens, sizeof(int32_t), cudaMemcpyDeviceToDevice, stream_));
    }
    SAMBA_CUDA_CHECK(cudaMemcpyAsync(out.data(), gen, static_cast<size_t>(n) * sizeof(int32_t), cudaMemcpyDeviceToHost, stream_));
    SAMBA_CUDA_CHECK(cudaStreamSynchronize(stream_));
    position_ += n;
    return out;
  }

  uint64_t device_bytes() const override {
    return weight_device_bytes(config_, precision_) + state_memory_.bytes() + workspace_memory_.bytes();
  }

  Precision precision() const override { return precision_; }

  void synchronize() override { SAMBA_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

  std::string profile_report() override {
    synchronize();
    prof_.collect();
    std::string text = prof_.report();
    prof_.clear();
    return text;
  }

  std::string decode_path() const override {
    std::string text = use_gemv_ ? "fused GEMV" : "cuBLAS";
    if (use_gemv_ && !gemv_tuned_.empty()) {
      text += " (warps per row/loads in flight per lane:";
      for (const TunedGemv& t : gemv_tuned_)
        text += " " + t.name + " " + std::to_string(t.choice.ksplit) + "/" + std::to_string(t.choice.batch);
      text += ")";
    }
    if (use_gemv_ && fuse_decode_steps_) text += ", conv step and RoPE fused";
    if (chain_decode_gemv_) text += ", consecutive projections chained in one persistent launch";
    return text + (use_graph_ ? ", CUDA graph" : ", no graph");
  }

 private:
  // ---- one chunk of T >= 1 tokens through all layers (prefill kernels) ----
  // Queues the chunk without waiting for it: `slot` (alternating between
  // chunks) names the pinned token and entropy buffers it uses, which the
  // chunk two before it released (waited for here). With a sink, the
  // chunk's entropy is copied into its slot and the previous chunk's is
  // delivered while this one runs. Only logits make it wait (their host
  // copy needs the result).
  void run_chunk(const int32_t* tokens, int T, float* logits_out, bool all_logits, EntropySink* sink, int slot) {
    const ModelConfig& c = config_;
    SAMBA_CUDA_CHECK(cudaEventSynchronize(slot_done_[slot]));
    int32_t* host_tokens = pinned_tokens_.data() + static_cast<size_t>(slot) * workspace_chunk_;
    std::memcpy(host_tokens, tokens, static_cast<size_t>(T) * sizeof(int32_t));
    SAMBA_CUDA_CHECK(cudaMemcpyAsync(ws_.tokens, host_tokens, static_cast<size_t>(T) * sizeof(int32_t),
                                     cudaMemcpyHostToDevice, stream_));
    set_position(state_.pos, position_, stream_);
    {
      auto p = prof_.scope("prefill embed", stream_);
      embed_tokens(ws_.tokens, weights_.embedding, T, c.d_model, ws_.x, stream_);
    }
    encode_layers_any(T, /*decode=*/false, sink ? ws_.entropy : nullptr);
    if (sink)
      SAMBA_CUDA_CHECK(cudaMemcpyAsync(slot_entropy(slot), ws_.entropy,
                                       static_cast<size_t>(c.n_swa_layers()) * T * c.n_head * sizeof(float),
                                       cudaMemcpyDeviceToHost, stream_));
    SAMBA_CUDA_CHECK(cudaEventRecord(slot_done_[slot], stream_));
    const int64_t pos0 = position_;
    position_ += T;
    if (sink) deferred_.enqueued(sink, slot, pos0, T, fetch_entropy());
    if (logits_out) {
      const int first = all_logits ? 0 : T - 1;
      for (int r0 = first; r0 < T; r0 += kLogitRows) {
        const int rows = std::min(kLogitRows, T - r0);
        head_any(r0, rows);
        SAMBA_CUDA_CHECK(cudaMemcpyAsync(logits_out + static_cast<size_t>(r0 - first) * c.vocab_size, ws_.logits,
                                         static_cast<size_t>(rows) * c.vocab_size * sizeof(float),
                                         cudaMemcpyDeviceToHost, stream_));
        // The logits buffer is reused by the next block of rows, and the
        // copy lands in pageable memory: wait for it.
        SAMBA_CUDA_CHECK(cudaStreamSynchronize(stream_));
      }
    }
  }

  float* slot_entropy(int slot) const { return pinned_chunk_entropy_.data() + slot * chunk_entropy_floats_; }

  // Waits for a slot's entropy copy (its chunk's event) and returns it.
  DeferredEntropy::Fetch fetch_entropy() {
    return [this](int slot) -> const float* {
      SAMBA_CUDA_CHECK(cudaEventSynchronize(slot_done_[slot]));
      return slot_entropy(slot);
    };
  }

  static std::vector<int> swa_layer_indices(const ModelConfig& c) {
    std::vector<int> layers;
    for (int i = 0; i < c.n_layer; ++i)
      if (!c.is_mamba_layer(i)) layers.push_back(i);
    return layers;
  }

  void encode_layers_any(int T, bool decode, float* entropy) {
    if (exact_)
      encode_layers<float>(T, decode, entropy);
    else
      encode_layers<bf16>(T, decode, entropy);
  }

  void head_any(int r0, int rows) {
    if (exact_)
      head<float>(r0, rows);
    else
      head<bf16>(r0, rows);
  }

  // Final norm and tied LM head for rows [r0, r0 + rows) of the chunk.
  template <class Act>
  void head(int r0, int rows) {
    const ModelConfig& c = config_;
    auto p = prof_.scope(rows == 1 ? "head (1 row)" : "head", stream_);
    Act* xn = as<Act>(ws_.xn);
    rms_norm(ws_.x + static_cast<size_t>(r0) * c.d_model, c.d_model, weights_.norm_f, rows, c.d_model, c.norm_eps,
             xn, stream_);
    gemm_->linear(xn, c.d_model, weight<Act>(weights_.embedding, weights_.embedding_f32), rows, c.vocab_size,
                  c.d_model, ws_.logits, c.vocab_size);
  }

  template <class Act>
  void encode_layers(int T, bool decode, float* entropy) {
    const ModelConfig& c = config_;
    const int d = c.d_model, I = c.intermediate;
    Act* xn = as<Act>(ws_.xn);
    Act* act = as<Act>(ws_.act);
    int mi = 0, si = 0;
    for (int i = 0; i < c.n_layer; ++i) {
      const LayerWeights& L = weights_.layers[i];
      {
        auto p = prof_.scope("rms_norm", stream_);
        rms_norm(ws_.x, d, L.norm_1, T, d, c.norm_eps, xn, stream_);
      }
      if (c.is_mamba_layer(i)) {
        mamba_mixer<Act>(L.mamba, mi++, T);
      } else {
        swa_mixer<Act>(L.swa, si, T, decode, entropy ? entropy + static_cast<size_t>(si) * T * c.n_head : nullptr);
        ++si;
      }
      {
        auto p = prof_.scope("rms_norm", stream_);
        rms_norm(ws_.x, d, L.norm_2, T, d, c.norm_eps, xn, stream_);
      }
      {
        auto p = prof_.scope("gemm w1|w2", stream_);
        gemm_->linear(xn, d, weight<Act>(L.w12, L.w12_f32), T, 2 * I, d, ws_.gate_up, 2 * I);
      }
      {
        auto p = prof_.scope("swiglu", stream_);
        swiglu(ws_.gate_up, T, I, act, stream_);
      }
      {
        auto p = prof_.scope("gemm w3 (+residual)", stream_);
        gemm_->linear(act, I, weight<Act>(L.w3, L.w3_f32), T, d, I, ws_.x, d, /*beta=*/1.0f);
      }
    }
  }

  // The scan's arguments shared by prefill and decode (the dt source differs:
  // the prefill's dt_proj GEMM output, or the decode's fused projection).
  template <class Act>
  ScanArgsT<Act> scan_args(const MambaLayerWeights& m, int mi, int T) {
    const ModelConfig& c = config_;
    const int di = c.d_inner, n = c.d_state, r = c.dt_rank;
    ScanArgsT<Act> s;
    s.x = ws_.xc;
    s.dt_bias = m.dt_bias;
    s.A = m.A;
    s.B = ws_.dbc + r;
    s.C = ws_.dbc + r + n;
    s.ld_bc = r + 2 * n;
    s.z = ws_.xz + di;
    s.ld_z = 2 * di;
    s.D = m.D;
    s.state = state_.ssm + static_cast<size_t>(mi) * di * n;
    s.y = as<Act>(ws_.y);
    s.segment_scratch = ws_.scan_segments;
    s.T = T;
    s.d_inner = di;
    s.d_state = n;
    return s;
  }

  template <class Act>
  void mamba_mixer(const MambaLayerWeights& m, int mi, int T) {
    const ModelConfig& c = config_;
    const int d = c.d_model, di = c.d_inner, n = c.d_state, r = c.dt_rank, ld_dbc = r + 2 * n;
    {
      auto p = prof_.scope("gemm in_proj", stream_);
      gemm_->linear(as<Act>(ws_.xn), d, weight<Act>(m.in_proj, m.in_proj_f32), T, 2 * di, d, ws_.xz, 2 * di);
    }
    float* conv_state = state_.conv + static_cast<size_t>(mi) * di * (c.d_conv - 1);
    // x_proj reads the conv output as bf16 (a copy the conv writes) or fp32 (xc itself).
    const Act* xc_act;
    if constexpr (std::is_same_v<Act, bf16>)
      xc_act = ws_.xc_bf16;
    else
      xc_act = ws_.xc;
    {
      auto p = prof_.scope("conv1d", stream_);
      causal_conv1d(ws_.xz, 2 * di, conv_state, m.conv_w, m.conv_b, T, di, c.d_conv, ws_.xc,
                    std::is_same_v<Act, bf16> ? ws_.xc_bf16 : nullptr, stream_);
    }
    {
      auto p = prof_.scope("gemm x_proj + dt_proj", stream_);
      gemm_->linear(xc_act, di, weight<Act>(m.x_proj, m.x_proj_f32), T, ld_dbc, di, ws_.dbc, ld_dbc);
      gemm_->linear_f32(ws_.dbc, ld_dbc, m.dt_proj, T, di, r, ws_.dt, di);
    }
    ScanArgsT<Act> s = scan_args<Act>(m, mi, T);
    s.dt = ws_.dt;
    {
      auto p = prof_.scope("selective_scan", stream_);
      selective_scan(s, stream_);
    }
    auto p = prof_.scope("gemm out_proj (+residual)", stream_);
    gemm_->linear(as<Act>(ws_.y), di, weight<Act>(m.out_proj, m.out_proj_f32), T, d, di, ws_.x, d, /*beta=*/1.0f);
  }

  template <class Act>
  void swa_mixer(const SwaLayerWeights& w, int si, int T, bool decode, float* entropy) {
    const ModelConfig& c = config_;
    const int d = c.d_model, W = c.window, kv = c.kv_dim(), qd = c.q_dim();
    const int fused = qd + 2 * kv;
    {
      auto p = prof_.scope("gemm qkv", stream_);
      gemm_->linear(as<Act>(ws_.xn), d, weight<Act>(w.qkv, w.qkv_f32), T, fused, d, ws_.qkv, fused);
    }
    Act* k_ring = as<Act>(state_.keys) + static_cast<size_t>(si) * W * kv;
    Act* v_ring = as<Act>(state_.values) + static_cast<size_t>(si) * W * kv;
    Act* q = as<Act>(ws_.q);
    Act* attn = as<Act>(ws_.attn);
    RopeArgsT<Act> rope = rope_args(T, q);
    if (decode) {
      rope.k = k_ring;
      rope.v = v_ring;
      rope.ring_window = W;
      {
        auto p = prof_.scope("rope", stream_);
        rope_split_qkv(rope, stream_);
      }
      auto p = prof_.scope("decode attention", stream_);
      DecodeAttentionArgsT<Act> a = decode_attention_args(k_ring, v_ring, attn, entropy);
      a.q = q;
      swa_attention_decode(a, stream_);
    } else {
      // Keys this chunk can see: the W-1 before it (from the ring), then its own.
      const int64_t p0 = position_;
      const int prev = static_cast<int>(std::min<int64_t>(p0, W - 1));
      const size_t row_bytes = static_cast<size_t>(kv) * sizeof(Act);
      Act* kbuf = as<Act>(ws_.kbuf);
      Act* vbuf = as<Act>(ws_.vbuf);
      {
        auto p = prof_.scope("rope + key window", stream_);
        gather_window(k_ring, W, p0 - prev, prev, row_bytes, kbuf, stream_);
        gather_window(v_ring, W, p0 - prev, prev, row_bytes, vbuf, stream_);
        rope.k = kbuf;
        rope.v = vbuf;
        rope.dst_row0 = prev;
        rope_split_qkv(rope, stream_);
      }
      auto p = prof_.scope(entropy ? "flash attention (+entropy)" : "flash attention", stream_);
      PrefillAttentionArgsT<Act> a;
      a.q = q;
      a.k = kbuf;
      a.v = vbuf;
      a.out = attn;
      a.entropy = entropy;
      a.T = T;
      a.n_head = c.n_head;
      a.n_kv_head = c.n_kv_head;
      a.head_size = c.head_size;
      a.window = W;
      a.n_keys = prev + T;
      a.q_pos0 = p0;
      a.key_pos0 = p0 - prev;
      swa_attention_prefill(a, stream_);
      // Only the chunk's last min(T, W) keys can be seen by later tokens.
      const int keep = std::min(T, W);
      const size_t from = static_cast<size_t>(prev + T - keep) * kv;
      store_window(kbuf + from, p0 + T - keep, keep, W, row_bytes, k_ring, stream_);
      store_window(vbuf + from, p0 + T - keep, keep, W, row_bytes, v_ring, stream_);
    }
    auto p = prof_.scope("gemm proj (+residual)", stream_);
    gemm_->linear(attn, qd, weight<Act>(w.proj, w.proj_f32), T, d, qd, ws_.x, d, /*beta=*/1.0f);
  }

  // ---- decode: one token, one graph replay ----
  // The step reads ws_.tokens[0] at position *state_.pos and leaves the
  // argmax in ws_.tokens[0], the logits in ws_.logits, the entropy of every
  // SWA layer in ws_.entropy ([n_swa][H]) and *state_.pos advanced by one.
  void enqueue_decode_step() {
    const ModelConfig& c = config_;
    embed_tokens(ws_.tokens, weights_.embedding, 1, c.d_model, ws_.x, stream_);
    if (use_gemv_) {
      decode_layers_gemv();
    } else {
      encode_layers_any(1, /*decode=*/true, ws_.entropy);
      head_any(0, 1);
    }
    auto p = prof_.scope("argmax", stream_);
    argmax(ws_.logits, c.vocab_size, ws_.tokens, stream_, state_.pos);
  }

  // RoPE of T tokens at the current position from ws_.qkv, q into `q`; the
  // caller names where the keys and values go.
  template <class Act>
  RopeArgsT<Act> rope_args(int T, Act* q) const {
    RopeArgsT<Act> rope;
    rope.qkv = ws_.qkv;
    rope.T = T;
    rope.n_head = config_.n_head;
    rope.n_kv_head = config_.n_kv_head;
    rope.head_size = config_.head_size;
    rope.inv_freq = ws_.inv_freq;
    rope.pos = state_.pos;
    rope.q = q;
    return rope;
  }

  // One SWA layer's decode attention over its ring; the caller sets q (or
  // qkv and inv_freq for the fused RoPE).
  template <class Act>
  DecodeAttentionArgsT<Act> decode_attention_args(Act* k_ring, Act* v_ring, Act* out, float* entropy) const {
    DecodeAttentionArgsT<Act> a;
    a.k_ring = k_ring;
    a.v_ring = v_ring;
    a.pos = state_.pos;
    a.partial = ws_.attn_partial;
    a.out = out;
    a.entropy = entropy;
    a.n_head = config_.n_head;
    a.n_kv_head = config_.n_kv_head;
    a.head_size = config_.head_size;
    a.window = config_.window;
    return a;
  }

  void project(const char* name, const bf16* w, int N, int K, const void* x, bool x_bf16, const float* norm_w,
               float* y, int mode, const GemvConv& conv = {}) {
    auto p = prof_.scope(name, stream_);
    GemvArgs g;
    g.w = w;
    g.N = N;
    g.K = K;
    g.x = x;
    g.x_bf16 = x_bf16;
    g.norm_w = norm_w;
    g.eps = config_.norm_eps;
    g.y = y;
    g.mode = mode;
    g.conv = conv;
    for (const TunedGemv& t : gemv_tuned_)
      if (t.name == name) g.ksplit = t.choice.ksplit, g.batch = t.choice.batch;
    if (gemv_collect_) gemv_collect_->push_back({name, g, {}});
    if (chain_decode_gemv_ && !gemv_collect_ && g.ksplit > 0) {
      g.batch = 4;  // the chain's one load batch
      if (chain_.n_ops == kGemvChainMaxOps) flush_chain();
      chain_.ops[chain_.n_ops++] = g;
      return;
    }
    flush_chain();  // anything queued runs first: this projection may read its output
    gemv(g, stream_);
  }

  // Launches the projections project() has queued for the chain (none
  // queued: nothing). Called before every kernel that is not a projection.
  // A lone projection goes out as the one-projection kernel (the same bits;
  // a chain of one would only cost the persistent launch).
  void flush_chain() {
    if (chain_.n_ops == 0) return;
    auto p = prof_.scope("gemv chain", stream_);
    if (chain_.n_ops == 1) {
      gemv(chain_.ops[0], stream_);
    } else {
      chain_.counter = static_cast<unsigned long long*>(chain_counter_.get());
      gemv_chain(chain_, stream_);
    }
    chain_.n_ops = 0;
  }

  // The fastest split of each decode projection differs with the shape and
  // the GPU (how many rows fill the SMs, how long a row is), so it is
  // measured once here, on this model's own weights: one decode step runs
  // with project() recording its launches, then every projection name is
  // timed with each split over all of its layers (distinct matrices, so the
  // weights stream from memory as they do in decode). The step's side
  // effects (ring slot 0, states) are wiped by the reset() that follows.
  void tune_decode_gemv() {
    std::vector<TunedGemv> recorded;
    gemv_collect_ = &recorded;
    try {
      set_position(state_.pos, 0, stream_);
      decode_layers_gemv();
    } catch (...) {
      gemv_collect_ = nullptr;
      throw;
    }
    gemv_collect_ = nullptr;
    synchronize();
    int max_n = 0;
    for (const TunedGemv& t : recorded) max_n = std::max(max_n, t.args.N);
    DeviceBuffer scratch(static_cast<size_t>(max_n) * sizeof(float), "the GEMV tuning scratch");
    std::vector<TunedGemv> tuned;
    for (const TunedGemv& t : recorded) {
      if (std::any_of(tuned.begin(), tuned.end(), [&](const TunedGemv& u) { return u.name == t.name; })) continue;
      std::vector<GemvArgs> instances;
      for (const TunedGemv& u : recorded)
        if (u.name == t.name) instances.push_back(u.args);
      TunedGemv best = t;
      best.choice = gemv_tune(instances, static_cast<float*>(scratch.get()), stream_, fuse_decode_steps_);
      tuned.push_back(best);
    }
    gemv_tuned_ = std::move(tuned);
    reset();
    synchronize();
  }

  // One token through every layer with the fused GEMV: per Mamba layer 5
  // launches (in_proj, conv step, x_proj, scan step, out_proj) + 2 for the
  // MLP, per SWA layer 4 + 2 (qkv, RoPE, attention, proj); with
  // fuse_decode_steps_ the conv step and RoPE join the kernel before them
  // (4 + 2 and 3 + 2). With chain_decode_gemv_ the projections between two
  // other kernels go out as one persistent launch (flush_chain), e.g. proj,
  // w1|w2, w3 and the next layer's in_proj (+conv) and x_proj. Fast mode only
  // (bf16 activations); the exact mode decodes through encode_layers<float>.
  void decode_layers_gemv() {
    const ModelConfig& c = config_;
    chain_.n_ops = 0;  // nothing left queued by a capture that failed
    const int d = c.d_model, di = c.d_inner, n = c.d_state, r = c.dt_rank, I = c.intermediate;
    const int qd = c.q_dim(), kv = c.kv_dim(), W = c.window, ld_dbc = r + 2 * n;
    int mi = 0, si = 0;
    for (int i = 0; i < c.n_layer; ++i) {
      const LayerWeights& L = weights_.layers[i];
      if (c.is_mamba_layer(i)) {
        const MambaLayerWeights& m = L.mamba;
        float* conv_state = state_.conv + static_cast<size_t>(mi) * di * (c.d_conv - 1);
        if (fuse_decode_steps_) {
          GemvConv conv;  // the conv step runs in in_proj's epilogue
          conv.w = m.conv_w;
          conv.b = m.conv_b;
          conv.state = conv_state;
          conv.channels = di;
          conv.taps = c.d_conv;
          conv.out = ws_.xc;
          conv.out_bf16 = ws_.xc_bf16;
          project("gemv norm+in_proj+conv", m.in_proj, 2 * di, d, ws_.x, false, L.norm_1, ws_.xz, kGemvConv, conv);
        } else {
          project("gemv norm+in_proj", m.in_proj, 2 * di, d, ws_.x, false, L.norm_1, ws_.xz, kGemvStore);
          flush_chain();
          auto p = prof_.scope("conv1d step", stream_);
          causal_conv1d(ws_.xz, 2 * di, conv_state, m.conv_w, m.conv_b, 1, di, c.d_conv, ws_.xc, ws_.xc_bf16,
                        stream_);
        }
        project("gemv x_proj", m.x_proj, ld_dbc, di, ws_.xc, false, nullptr, ws_.dbc, kGemvStore);
        flush_chain();
        {
          auto p = prof_.scope("scan step (+dt_proj)", stream_);
          ScanArgs s = scan_args<bf16>(m, mi, 1);
          s.dt_w = m.dt_proj;
          s.dt_low = ws_.dbc;
          s.ld_dt_low = ld_dbc;
          s.dt_rank = r;
          selective_scan(s, stream_);
        }
        project("gemv out_proj (+residual)", m.out_proj, d, di, ws_.y, true, nullptr, ws_.x, kGemvAccumulate);
        ++mi;
      } else {
        const SwaLayerWeights& w = L.swa;
        project("gemv norm+qkv", w.qkv, qd + 2 * kv, d, ws_.x, false, L.norm_1, ws_.qkv, kGemvStore);
        flush_chain();
        bf16* k_ring = as<bf16>(state_.keys) + static_cast<size_t>(si) * W * kv;
        bf16* v_ring = as<bf16>(state_.values) + static_cast<size_t>(si) * W * kv;
        if (!fuse_decode_steps_) {
          auto p = prof_.scope("rope", stream_);
          RopeArgs rope = rope_args(1, as<bf16>(ws_.q));
          rope.k = k_ring;
          rope.v = v_ring;
          rope.ring_window = W;
          rope_split_qkv(rope, stream_);
        }
        {
          auto p = prof_.scope("decode attention", stream_);
          DecodeAttentionArgs a = decode_attention_args(k_ring, v_ring, as<bf16>(ws_.attn),
                                                        ws_.entropy + static_cast<size_t>(si) * c.n_head);
          if (fuse_decode_steps_) {  // RoPE fused in: q, k, v come from qkv
            a.qkv = ws_.qkv;
            a.inv_freq = ws_.inv_freq;
          } else {
            a.q = as<bf16>(ws_.q);
          }
          swa_attention_decode(a, stream_);
        }
        project("gemv proj (+residual)", w.proj, d, qd, ws_.attn, true, nullptr, ws_.x, kGemvAccumulate);
        ++si;
      }
      project("gemv norm+w1|w2+swiglu", L.w12, I, d, ws_.x, false, L.norm_2, ws_.gate_up, kGemvSwiGLU);
      project("gemv w3 (+residual)", L.w3, d, I, ws_.gate_up, false, nullptr, ws_.x, kGemvAccumulate);
    }
    project("gemv norm+head", weights_.embedding, c.vocab_size, d, ws_.x, false, weights_.norm_f, ws_.logits,
            kGemvStore);
    flush_chain();
  }

  void run_decode_graph() {
    if (!use_graph_) {
      enqueue_decode_step();
      return;
    }
    if (!graph_exec_) {
      cudaGraph_t graph = nullptr;
      SAMBA_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
      try {
        enqueue_decode_step();
      } catch (...) {
        cudaStreamEndCapture(stream_, &graph);
        if (graph) cudaGraphDestroy(graph);
        (void)cudaGetLastError();
        throw;
      }
      SAMBA_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
      const cudaError_t err = cudaGraphInstantiate(&graph_exec_, graph, 0);
      cudaGraphDestroy(graph);
      SAMBA_CUDA_CHECK(err);
    }
    SAMBA_CUDA_CHECK(cudaGraphLaunch(graph_exec_, stream_));
  }

  void decode_step(int32_t token, std::vector<float>* logits, EntropySink* sink) {
    const ModelConfig& c = config_;
    pinned_tokens_.data()[0] = token;
    SAMBA_CUDA_CHECK(cudaMemcpyAsync(ws_.tokens, pinned_tokens_.data(), sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
    set_position(state_.pos, position_, stream_);
    run_decode_graph();
    if (logits)
      SAMBA_CUDA_CHECK(cudaMemcpyAsync(pinned_logits_.data(), ws_.logits, static_cast<size_t>(c.vocab_size) * 4,
                                       cudaMemcpyDeviceToHost, stream_));
    const size_t n_ent = static_cast<size_t>(c.n_swa_layers()) * c.n_head;
    if (sink)
      SAMBA_CUDA_CHECK(cudaMemcpyAsync(pinned_entropy_.data(), ws_.entropy, n_ent * 4, cudaMemcpyDeviceToHost, stream_));
    SAMBA_CUDA_CHECK(cudaStreamSynchronize(stream_));
    if (prof_.enabled()) prof_.collect();
    if (logits) logits->assign(pinned_logits_.data(), pinned_logits_.data() + c.vocab_size);
    if (sink) {
      int l = 0;
      for (int i = 0; i < c.n_layer; ++i) {
        if (c.is_mamba_layer(i)) continue;
        sink->consume(i, position_, 1, c.n_head, pinned_entropy_.data() + static_cast<size_t>(l) * c.n_head);
        ++l;
      }
    }
    position_ += 1;
  }

  ModelConfig config_;
  std::string description_;
  int chunk_ = kDefaultChunk;
  Precision precision_ = Precision::fast;
  bool exact_ = false;
  size_t act_bytes_ = sizeof(bf16);  // bytes of one activation value
  int workspace_chunk_ = kDefaultChunk;
  cudaStream_t stream_ = nullptr;
  DeviceWeights weights_;
  DeviceState state_;
  DeviceBuffer state_memory_;
  Workspace ws_;
  DeviceBuffer workspace_memory_;
  std::unique_ptr<Gemm> gemm_;
  PinnedBuffer<int32_t> pinned_tokens_;         // [kSlots][workspace_chunk_]
  PinnedBuffer<float> pinned_logits_;
  PinnedBuffer<float> pinned_entropy_;          // decode: [n_swa][H]
  PinnedBuffer<float> pinned_chunk_entropy_;    // prefill: [kSlots][n_swa][workspace_chunk_][H]
  size_t chunk_entropy_floats_ = 0;             // floats of one slot of pinned_chunk_entropy_
  cudaEvent_t slot_done_[DeferredEntropy::kSlots] = {};  // a slot's chunk (and its copies) done
  StageProfiler prof_;
  DeferredEntropy deferred_;
  bool use_graph_ = true;
  bool use_gemv_ = true;
  bool fuse_decode_steps_ = false;  // SAMBA_CUDA_DECODE_FUSED=1, see the constructor
  bool chain_decode_gemv_ = false;  // SAMBA_CUDA_DECODE_CHAIN=1, see the constructor
  GemvChainArgs chain_;              // projections queued by project() for one chain launch
  DeviceBuffer chain_counter_;       // the chain's barrier counter (8 bytes, only grows)
  struct TunedGemv {
    std::string name;  // the projection, as project() names it
    GemvArgs args;
    GemvChoice choice;  // warps per row and loads in flight per lane
  };
  std::vector<TunedGemv> gemv_tuned_;             // chosen split per decode projection
  std::vector<TunedGemv>* gemv_collect_ = nullptr;  // while tuning: project() records here
  cudaGraphExec_t graph_exec_ = nullptr;
  int64_t position_ = 0;
};

// Picks the largest prefill chunk (<= kDefaultChunk) whose total fits in
// free device memory with a margin; 0 when even the smallest does not.
int choose_chunk(const ModelConfig& c, Precision precision, std::string* reason) {
  size_t free_bytes = 0, total_bytes = 0;
  device_memory_info(&free_bytes, &total_bytes);
  const uint64_t margin = (256ull << 20) + free_bytes / 50;  // cuBLAS/graph internals, fragmentation
  for (int chunk = kDefaultChunk; chunk >= kMinChunk; chunk /= 2) {
    const uint64_t need = cuda_backend_bytes(c, chunk, precision);
    if (need + margin <= free_bytes) return chunk;
  }
  if (reason) {
    const bool exact = precision == Precision::exact;
    *reason = "not enough free GPU memory for " + c.name +
              (exact ? " with fp32 activations (exact precision)" : std::string()) + ": weights " +
              mib(DeviceWeights::device_bytes(c)) +
              (exact ? " + their fp32 copy " + mib(DeviceWeights::f32_copy_bytes(c)) : std::string()) + " + state " +
              mib(state_device_bytes(c, precision)) + " + workspace " +
              mib(workspace_device_bytes(c, kMinChunk, precision)) + " needed, " + mib(free_bytes) + " free of " +
              mib(total_bytes);
    if (exact && cuda_backend_bytes(c, kMinChunk, Precision::fast) + margin <= free_bytes)
      *reason += " (the fast precision, with bf16 activations, would fit)";
  }
  return 0;
}

template <class Make>
std::unique_ptr<CudaBackend> create(const ModelConfig& config, int chunk_request, Precision precision,
                                    std::string* reason, Make&& make) {
  std::string why;
  if (!cuda_device_present(&why)) {
    if (reason) *reason = why;
    return nullptr;
  }
  why = unsupported_shape(config);
  if (!why.empty()) {
    if (reason) *reason = why;
    return nullptr;
  }
  try {
    SAMBA_CUDA_CHECK(cudaSetDevice(0));
    int chunk = choose_chunk(config, precision, reason);
    if (chunk == 0) return nullptr;
    if (chunk_request > 0) chunk = std::min(chunk, chunk_request);
    return std::make_unique<CudaBackendImpl>(config, chunk, precision, std::forward<Make>(make));
  } catch (const Error& e) {
    // Memory taken by something else between the check and the allocation.
    if (e.kind() != ErrorKind::OutOfMemory) throw;
    if (reason) *reason = e.what();
    return nullptr;
  }
}

}  // namespace

uint64_t cuda_backend_bytes(const ModelConfig& config, int prefill_chunk, Precision precision) {
  return weight_device_bytes(config, precision) + state_device_bytes(config, precision) +
         workspace_device_bytes(config, prefill_chunk, precision);
}

uint64_t cuda_weight_bytes(const ModelConfig& config, Precision precision) {
  return weight_device_bytes(config, precision);
}

std::unique_ptr<CudaBackend> create_cuda_backend_random(const ModelConfig& config, uint64_t seed,
                                                        std::string* unavailable_reason, int prefill_chunk,
                                                        Precision precision) {
  return create(config, prefill_chunk, precision, unavailable_reason,
                [&](cudaStream_t stream) { return DeviceWeights::random(config, seed, stream); });
}

}  // namespace samba::cuda

namespace samba {

std::unique_ptr<Backend> create_cuda_backend(const ModelFiles& files, int max_context_hint,
                                             std::string* unavailable_reason, Precision precision) {
  if (max_context_hint < 0)
    throw Error(ErrorKind::InvalidArgument, "max_context_hint must not be negative");
  return cuda::create(files.config(), 0, precision, unavailable_reason,
                      [&](cudaStream_t) { return cuda::DeviceWeights::upload(files); });
}

}  // namespace samba
