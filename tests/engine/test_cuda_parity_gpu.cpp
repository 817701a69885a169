// The CUDA backend against the CPU backend (itself checked against the
// independent PyTorch reference by test_cpu_parity) on random-weight models
// written here in C++ — no Python needed, so this runs on the GPU machine as
// is. Weights are stored as bf16, so both backends compute with the same
// weights and the differences measured are the GPU's bf16 activations only.
// Needs a CUDA device: without one the program says so and exits 77, which
// ctest reports as skipped.
#ifdef SAMBA_HAVE_CUDA
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cuda/cuda_backend.h"
#include "samba/backend.h"
#include "samba/config.h"
#include "samba/error.h"
#include "samba/model_state.h"
#include "samba/safetensors.h"
#include "samba/weights.h"

namespace {

namespace fs = std::filesystem;
using samba::Backend;
using samba::ModelConfig;

ModelConfig make_config(const std::string& name, int layers, int d, int heads, int kv_heads, int head_size,
                        int intermediate, int window, int vocab) {
  ModelConfig c;
  c.name = name;
  c.n_layer = layers;
  c.d_model = d;
  c.n_head = heads;
  c.n_kv_head = kv_heads;
  c.head_size = head_size;
  c.intermediate = intermediate;
  c.window = window;
  c.vocab_size = vocab;
  c.d_inner = 2 * d;
  c.dt_rank = (d + 15) / 16;
  c.validate(name);
  return c;
}

// Random weights at scales that give non-trivial attention (score std ~1)
// and logits with clear winners (std ~4), like a trained model, not the
// near-uniform outputs of a 0.02 initialisation.
void write_random_model(const ModelConfig& c, const fs::path& folder, uint32_t seed) {
  fs::create_directories(folder);
  std::ofstream(folder / "config.json") << samba::config_to_json(c);
  std::mt19937 rng(seed);
  std::map<std::string, std::vector<float>> data;
  std::vector<samba::TensorToWrite> tensors;
  for (const auto& [name, shape] : samba::expected_tensors(c)) {
    size_t n = 1;
    for (int64_t s : shape) n *= static_cast<size_t>(s);
    std::vector<float>& v = data[name];
    v.resize(n);
    const int64_t fan_in = shape.size() >= 2 ? shape.back() : 1;
    auto uniform = [&](float lo, float hi) {
      std::uniform_real_distribution<float> dist(lo, hi);
      for (float& x : v) x = dist(rng);
    };
    auto with_std = [&](double std) { uniform(static_cast<float>(-std * 1.7320508), static_cast<float>(std * 1.7320508)); };
    auto ends_with = [&](const char* suffix) {
      const std::string s = suffix;
      return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
    };
    if (name == "transformer.wte.weight") {
      with_std(4.0 / std::sqrt(static_cast<double>(c.d_model)));
    } else if (ends_with("norm_1.weight") || ends_with("norm_2.weight") || ends_with("ln_f.weight")) {
      uniform(0.9f, 1.1f);
    } else if (ends_with("A_log")) {
      std::uniform_real_distribution<float> noise(-0.1f, 0.1f);
      for (size_t i = 0; i < n; ++i) v[i] = std::log(static_cast<float>(i % c.d_state + 1)) + noise(rng);
    } else if (ends_with("attn.D")) {
      uniform(0.5f, 1.5f);
    } else if (ends_with("conv1d.weight")) {
      uniform(-0.5f, 0.5f);
    } else if (ends_with("conv1d.bias")) {
      uniform(-0.1f, 0.1f);
    } else if (ends_with("dt_proj.bias")) {
      std::uniform_real_distribution<float> dt(0.001f, 0.1f);
      for (float& x : v) x = std::log(std::expm1(dt(rng)));  // softplus^-1
    } else {
      with_std(1.0 / std::sqrt(static_cast<double>(fan_in)));
    }
    tensors.push_back({name, shape, v.data()});
  }
  samba::write_safetensors((folder / "model.safetensors").string(), tensors, samba::DType::BF16);
}

fs::path work_root() {
  static const fs::path root = fs::temp_directory_path() / ("samba-cuda-parity-" + std::to_string(getpid()));
  return root;
}

// One model: its files, a CPU backend and a CUDA backend.
struct Pair {
  ModelConfig config;
  std::unique_ptr<samba::ModelFiles> files;
  std::unique_ptr<Backend> cpu;
  std::unique_ptr<Backend> gpu;
  samba::cuda::CudaBackend& cuda() { return dynamic_cast<samba::cuda::CudaBackend&>(*gpu); }
};

Pair open_pair(const ModelConfig& c, uint32_t seed, samba::Precision precision = samba::Precision::fast) {
  const fs::path folder = work_root() / c.name;
  write_random_model(c, folder, seed);
  Pair p;
  p.config = c;
  p.files = samba::ModelFiles::open(folder.string());
  p.cpu = samba::create_cpu_backend(*p.files);
  std::string why;
  p.gpu = samba::create_cuda_backend(*p.files, 0, &why, precision);
  if (!p.gpu) throw std::runtime_error("CUDA backend unavailable: " + why);
  return p;
}

std::vector<int32_t> random_tokens(size_t n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, vocab - 1);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = dist(rng);
  return t;
}

double rel_error(const std::vector<float>& got, const std::vector<float>& ref) {
  if (got.size() != ref.size()) return INFINITY;
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    num += (static_cast<double>(got[i]) - ref[i]) * (static_cast<double>(got[i]) - ref[i]);
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

int32_t argmax(const std::vector<float>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

double state_rel_error(const samba::ModelState& a, const samba::ModelState& b) {
  std::vector<float> fa, fb;
  for (const auto* group : {&a.conv, &a.ssm, &a.keys, &a.values})
    for (const auto& v : *group) fa.insert(fa.end(), v.begin(), v.end());
  for (const auto* group : {&b.conv, &b.ssm, &b.keys, &b.values})
    for (const auto& v : *group) fb.insert(fb.end(), v.begin(), v.end());
  return rel_error(fa, fb);
}

// Records every entropy value by (layer, position, head).
class RecordingSink : public samba::EntropySink {
 public:
  void consume(int layer, int64_t pos0, int n_pos, int n_head, const float* values) override {
    for (int i = 0; i < n_pos; ++i)
      for (int h = 0; h < n_head; ++h) {
        auto [it, fresh] = values_.emplace(std::make_tuple(layer, pos0 + i, h), values[i * n_head + h]);
        if (!fresh) ++duplicates_;
      }
  }
  const std::map<std::tuple<int, int64_t, int>, float>& values() const { return values_; }
  int duplicates() const { return duplicates_; }

 private:
  std::map<std::tuple<int, int64_t, int>, float> values_;
  int duplicates_ = 0;
};

struct Shape {
  std::string name;
  int layers, d, heads, kv_heads, head_size, intermediate, window, vocab;
};

std::ostream& operator<<(std::ostream& os, const Shape& s) { return os << s.name; }

class CudaParity : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override {
    const Shape& s = GetParam();
    pair_ = open_pair(make_config(s.name, s.layers, s.d, s.heads, s.kv_heads, s.head_size, s.intermediate, s.window,
                                  s.vocab),
                      static_cast<uint32_t>(std::hash<std::string>{}(s.name)));
  }
  Pair pair_;
};

TEST_P(CudaParity, FullSequenceLogitsAcrossChunks) {
  const ModelConfig& c = pair_.config;
  const auto tokens = random_tokens(5 * c.window + 3, c.vocab_size, 1);
  samba::ForwardOptions all;
  all.all_logits = true;
  std::vector<float> cpu, gpu;
  pair_.cpu->forward(tokens, &cpu, all);
  pair_.cuda().set_prefill_chunk(2 * c.window + 1);  // several chunks, each crossing the window
  pair_.gpu->forward(tokens, &gpu, all);
  ASSERT_EQ(gpu.size(), cpu.size());
  const double err = rel_error(gpu, cpu);
  std::printf("[%s] full-sequence logits (%zu tokens): rel. error %.3e\n", c.name.c_str(), tokens.size(), err);
  EXPECT_LT(err, 2e-2);
  EXPECT_EQ(pair_.gpu->position(), static_cast<int64_t>(tokens.size()));
}

// Teacher-forced: both backends read the CPU's greedy continuation, so a
// near-tie flipped by rounding costs one step, not every step after it.
struct GreedyAgreement {
  int same = 0, steps = 0, first_divergence = -1;
  double worst = 0;  // worst step's logits rel. error
};

GreedyAgreement greedy_against_cpu(Pair& pair, int steps) {
  const ModelConfig& c = pair.config;
  const auto prompt = random_tokens(2 * c.window + 5, c.vocab_size, 2);
  std::vector<float> cpu, gpu;
  pair.cpu->forward(prompt, &cpu);
  pair.gpu->forward(prompt, &gpu);
  GreedyAgreement r;
  r.steps = steps;
  for (int i = 0; i < steps; ++i) {
    const int32_t want = argmax(cpu), got = argmax(gpu);
    if (want == got)
      ++r.same;
    else if (r.first_divergence < 0)
      r.first_divergence = i;
    r.worst = std::max(r.worst, rel_error(gpu, cpu));
    const std::vector<int32_t> next{want};
    pair.cpu->forward(next, &cpu);
    pair.gpu->forward(next, &gpu);
  }
  std::printf("[%s] greedy decode (%s): %d/%d tokens identical (first difference at step %d), worst step logits "
              "rel. error %.3e\n",
              c.name.c_str(), pair.cuda().decode_path().c_str(), r.same, steps, r.first_divergence, r.worst);
  return r;
}

TEST_P(CudaParity, GreedyDecode256Steps) {
  const GreedyAgreement r = greedy_against_cpu(pair_, 256);
  EXPECT_GE(r.same, static_cast<int>(std::ceil(0.95 * r.steps)));
  EXPECT_LT(r.worst, 2e-2);
}

// The same with the decode steps that are opt-in (SAMBA_CUDA_DECODE_FUSED=1:
// the conv step inside in_proj's GEMV, RoPE inside the decode attention, the
// GEMV's 8-deep load batch in the tuner's choice).
TEST_P(CudaParity, GreedyDecode256StepsWithFusedSteps) {
  const Shape& s = GetParam();
  setenv("SAMBA_CUDA_DECODE_FUSED", "1", 1);
  Pair fused;
  try {
    fused = open_pair(make_config(s.name + "_fused", s.layers, s.d, s.heads, s.kv_heads, s.head_size, s.intermediate,
                                  s.window, s.vocab),
                      static_cast<uint32_t>(std::hash<std::string>{}(s.name)));
  } catch (...) {
    unsetenv("SAMBA_CUDA_DECODE_FUSED");
    throw;
  }
  unsetenv("SAMBA_CUDA_DECODE_FUSED");
  const GreedyAgreement r = greedy_against_cpu(fused, 256);
  EXPECT_NE(fused.cuda().decode_path().find("fused"), std::string::npos) << fused.cuda().decode_path();
  EXPECT_GE(r.same, static_cast<int>(std::ceil(0.95 * r.steps)));
  EXPECT_LT(r.worst, 2e-2);
}

// The entropy computation itself is checked to 1e-4 nats against float64 on
// identical inputs (test_cuda_kernels_gpu). Between backends the inputs
// differ: the GPU feeds bf16 activations to its GEMMs and attention, and a
// float64 model with that rounding (tools/bench/entropy_precision_sim.py)
// shows the same spread as measured here — mean ~1.5e-3 nats, tail ~1-2e-2 —
// and that only fp32 (or bf16x2-split) activations everywhere bring the tail
// under 1e-3. So this asserts the bf16 level: mean < 3e-3, max < 5e-2.
TEST_P(CudaParity, EntropyMatchesCpuInPrefillAndDecode) {
  const ModelConfig& c = pair_.config;
  const auto tokens = random_tokens(3 * c.window + 7, c.vocab_size, 3);
  RecordingSink cpu_sink, gpu_sink;
  samba::ForwardOptions cpu_opt, gpu_opt;
  cpu_opt.entropy = &cpu_sink;
  gpu_opt.entropy = &gpu_sink;
  pair_.cpu->forward(tokens, nullptr, cpu_opt);
  pair_.cuda().set_prefill_chunk(c.window + 3);
  pair_.gpu->forward(tokens, nullptr, gpu_opt);
  for (int i = 0; i < 20; ++i) {
    const std::vector<int32_t> next{tokens[i]};
    pair_.cpu->forward(next, nullptr, cpu_opt);
    pair_.gpu->forward(next, nullptr, gpu_opt);
  }
  const size_t expected = static_cast<size_t>(c.n_swa_layers()) * (tokens.size() + 20) * c.n_head;
  ASSERT_EQ(cpu_sink.values().size(), expected);
  ASSERT_EQ(gpu_sink.values().size(), expected);
  EXPECT_EQ(gpu_sink.duplicates(), 0);
  double worst = 0, mean = 0;
  for (const auto& [key, want] : cpu_sink.values()) {
    const auto it = gpu_sink.values().find(key);
    ASSERT_NE(it, gpu_sink.values().end());
    ASSERT_TRUE(std::isfinite(it->second));
    const double diff = std::abs(static_cast<double>(it->second) - want);
    worst = std::max(worst, diff);
    mean += diff;
  }
  mean /= static_cast<double>(expected);
  std::printf("[%s] entropy over %zu values: max |GPU - CPU| %.3e nats, mean %.3e\n", c.name.c_str(), expected, worst,
              mean);
  EXPECT_LT(mean, 3e-3);
  EXPECT_LT(worst, 5e-2);
}

// Chunking changes the GEMM shapes, so cuBLAS may sum in another order; a
// last-bit difference that flips a bf16 rounding then spreads like any bf16
// noise (measured ~3-5e-3 here, the same size as GPU vs CPU). A chunk-seam
// bug (conv state, key window, position) gives errors of order 1.
TEST_P(CudaParity, ChunkedPrefillOfEightWindowsEqualsOnePass) {
  const ModelConfig& c = pair_.config;
  const auto tokens = random_tokens(8 * c.window + 11, c.vocab_size, 4);
  auto& gpu = pair_.cuda();
  std::vector<float> one, chunked, cpu;
  gpu.set_prefill_chunk(static_cast<int>(tokens.size()));
  ASSERT_EQ(gpu.prefill_chunk(), static_cast<int>(tokens.size()));
  gpu.forward(tokens, &one);
  const samba::ModelState one_state = gpu.save_state();
  gpu.reset();
  gpu.set_prefill_chunk(c.window / 2 + 3);
  gpu.forward(tokens, &chunked);
  const samba::ModelState chunked_state = gpu.save_state();
  pair_.cpu->forward(tokens, &cpu);
  const double err = rel_error(chunked, one), state_err = state_rel_error(chunked_state, one_state);
  std::printf("[%s] %zu tokens in chunks of %d vs one pass: logits rel. error %.3e, state %.3e; vs CPU %.3e\n",
              c.name.c_str(), tokens.size(), c.window / 2 + 3, err, state_err, rel_error(chunked, cpu));
  EXPECT_LT(err, 1e-2);
  EXPECT_LT(state_err, 1e-2);
  EXPECT_LT(rel_error(chunked, cpu), 2e-2);
  EXPECT_EQ(chunked_state.position, one_state.position);
}

TEST_P(CudaParity, SnapshotRoundTripsOnTheGpuAndAcrossBackends) {
  const ModelConfig& c = pair_.config;
  const auto prompt = random_tokens(2 * c.window + 9, c.vocab_size, 5);
  const auto cont = random_tokens(16, c.vocab_size, 6);
  auto continue_with = [&](Backend& b) {
    std::vector<float> all, step;
    for (int32_t t : cont) {
      b.forward(std::vector<int32_t>{t}, &step);
      all.insert(all.end(), step.begin(), step.end());
    }
    return all;
  };
  // GPU -> bytes -> GPU: bitwise the same continuation.
  pair_.gpu->forward(prompt, nullptr);
  const std::vector<uint8_t> bytes = samba::serialize_state(pair_.gpu->save_state());
  EXPECT_EQ(bytes.size(), samba::state_bytes(c));
  const std::vector<float> first = continue_with(*pair_.gpu);
  pair_.gpu->reset();
  pair_.gpu->load_state(samba::deserialize_state(c, bytes.data(), bytes.size()));
  EXPECT_EQ(pair_.gpu->position(), static_cast<int64_t>(prompt.size()));
  const std::vector<float> again = continue_with(*pair_.gpu);
  EXPECT_EQ(rel_error(again, first), 0.0) << "GPU snapshot restore changed the continuation";

  // CPU state -> GPU, GPU state -> CPU.
  pair_.cpu->forward(prompt, nullptr);
  const samba::ModelState cpu_state = pair_.cpu->save_state();
  const std::vector<float> cpu_cont = continue_with(*pair_.cpu);
  pair_.gpu->load_state(cpu_state);
  const std::vector<float> gpu_from_cpu = continue_with(*pair_.gpu);
  pair_.cpu->load_state(samba::deserialize_state(c, bytes.data(), bytes.size()));
  const std::vector<float> cpu_from_gpu = continue_with(*pair_.cpu);
  std::printf("[%s] snapshot: CPU->GPU continuation rel. error %.3e, GPU->CPU %.3e\n", c.name.c_str(),
              rel_error(gpu_from_cpu, cpu_cont), rel_error(cpu_from_gpu, cpu_cont));
  EXPECT_LT(rel_error(gpu_from_cpu, cpu_cont), 2e-2);
  EXPECT_LT(rel_error(cpu_from_gpu, cpu_cont), 2e-2);
}

TEST_P(CudaParity, DeviceGreedyEqualsHostArgmax) {
  const ModelConfig& c = pair_.config;
  const auto prompt = random_tokens(c.window + 3, c.vocab_size, 7);
  std::vector<float> logits;
  pair_.gpu->forward(prompt, &logits);
  const samba::ModelState after_prompt = pair_.gpu->save_state();
  const int32_t first = argmax(logits);
  std::vector<int32_t> host;
  int32_t next = first;
  for (int i = 0; i < 64; ++i) {
    pair_.gpu->forward(std::vector<int32_t>{next}, &logits);
    next = argmax(logits);
    host.push_back(next);
  }
  pair_.gpu->load_state(after_prompt);
  const std::vector<int32_t> device = pair_.cuda().decode_greedy(first, 64);
  EXPECT_EQ(device, host);
  EXPECT_EQ(pair_.gpu->position(), static_cast<int64_t>(prompt.size()) + 64);
}

TEST_P(CudaParity, BadInputIsAnErrorNotACrash) {
  const ModelConfig& c = pair_.config;
  std::vector<float> logits;
  try {
    pair_.gpu->forward(std::vector<int32_t>{1, c.vocab_size}, &logits);
    FAIL() << "no error for a token outside the vocabulary";
  } catch (const samba::Error& e) {
    EXPECT_EQ(e.kind(), samba::ErrorKind::InvalidArgument);
  }
  samba::ModelState other = samba::ModelState::empty(c);
  other.config_fingerprint ^= 1;
  EXPECT_THROW(pair_.gpu->load_state(other), samba::Error);
  // The backend still works afterwards.
  pair_.gpu->forward(std::vector<int32_t>{1, 2, 3}, &logits);
  EXPECT_EQ(logits.size(), static_cast<size_t>(c.vocab_size));
}

std::vector<Shape> parity_shapes() {
  return {Shape{"tiny_mha_hs16", 4, 64, 4, 4, 16, 128, 16, 512}, Shape{"gqa_hs32", 6, 128, 4, 2, 32, 256, 32, 1000},
          Shape{"mid_hs64", 6, 256, 4, 4, 64, 512, 64, 2048}, Shape{"gqa_hs128", 4, 256, 2, 1, 128, 512, 128, 4096}};
}

std::string shape_name(const ::testing::TestParamInfo<Shape>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Models, CudaParity, ::testing::ValuesIn(parity_shapes()), shape_name);

// ---- the exact precision (fp32 activations) against the CPU backend ------
// Both backends now compute in fp32 from the same (bf16-stored) weights; they
// differ only in summation order and in exp/log implementations, i.e. in
// fp32 rounding (~6e-8 relative per operation). Over these models' depth the
// CPU itself stays within ~1e-6 of a float64 reference (test_cpu_parity,
// measured ~7e-7), so two fp32 implementations agree to a few 1e-6: the
// logits bound of 1e-4 is ~50x that and ~200x tighter than the bf16 bound of
// 2e-2, and entropy must meet the 1e-3 nats at every value.

// Records the order of deliveries: (layer, pos0, n_pos) per consume call.
class OrderSink : public RecordingSink {
 public:
  void consume(int layer, int64_t pos0, int n_pos, int n_head, const float* values) override {
    calls.emplace_back(layer, pos0, n_pos);
    RecordingSink::consume(layer, pos0, n_pos, n_head, values);
  }
  std::vector<std::tuple<int, int64_t, int>> calls;
};

class CudaExactParity : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override {
    const Shape& s = GetParam();
    pair_ = open_pair(make_config(s.name, s.layers, s.d, s.heads, s.kv_heads, s.head_size, s.intermediate, s.window,
                                  s.vocab),
                      static_cast<uint32_t>(std::hash<std::string>{}(s.name)), samba::Precision::exact);
  }
  Pair pair_;
};

TEST_P(CudaExactParity, DescribesItsPrecision) {
  EXPECT_EQ(pair_.cuda().precision(), samba::Precision::exact);
  EXPECT_NE(pair_.gpu->description().find("fp32 activations"), std::string::npos) << pair_.gpu->description();
  EXPECT_EQ(pair_.cuda().decode_path().rfind("cuBLAS", 0), 0u) << pair_.cuda().decode_path();
}

TEST_P(CudaExactParity, EntropyWithin1e3OfCpuInPrefillAndDecode) {
  const ModelConfig& c = pair_.config;
  const auto tokens = random_tokens(3 * c.window + 7, c.vocab_size, 3);
  RecordingSink cpu_sink;
  OrderSink gpu_sink;
  samba::ForwardOptions cpu_opt, gpu_opt;
  cpu_opt.entropy = &cpu_sink;
  gpu_opt.entropy = &gpu_sink;
  pair_.cpu->forward(tokens, nullptr, cpu_opt);
  const int chunk = c.window + 3;
  pair_.cuda().set_prefill_chunk(chunk);
  pair_.gpu->forward(tokens, nullptr, gpu_opt);
  // The deferred delivery keeps the order: chunk after chunk, layers ascending
  // in each, positions contiguous, all before forward() returned.
  const int n_chunks = static_cast<int>((tokens.size() + chunk - 1) / chunk);
  ASSERT_EQ(gpu_sink.calls.size(), static_cast<size_t>(n_chunks * c.n_swa_layers()));
  for (int k = 0; k < n_chunks; ++k)
    for (int l = 0; l < c.n_swa_layers(); ++l) {
      const auto& [layer, pos0, n_pos] = gpu_sink.calls[static_cast<size_t>(k) * c.n_swa_layers() + l];
      EXPECT_EQ(layer, 2 * l + 1);
      EXPECT_EQ(pos0, static_cast<int64_t>(k) * chunk);
      EXPECT_EQ(n_pos, std::min<int64_t>(chunk, static_cast<int64_t>(tokens.size()) - pos0));
    }
  for (int i = 0; i < 20; ++i) {
    const std::vector<int32_t> next{tokens[i]};
    pair_.cpu->forward(next, nullptr, cpu_opt);
    pair_.gpu->forward(next, nullptr, gpu_opt);
  }
  const size_t expected = static_cast<size_t>(c.n_swa_layers()) * (tokens.size() + 20) * c.n_head;
  ASSERT_EQ(cpu_sink.values().size(), expected);
  ASSERT_EQ(gpu_sink.values().size(), expected);
  EXPECT_EQ(gpu_sink.duplicates(), 0);
  double worst = 0, mean = 0, worst_decode = 0;
  for (const auto& [key, want] : cpu_sink.values()) {
    const auto it = gpu_sink.values().find(key);
    ASSERT_NE(it, gpu_sink.values().end());
    ASSERT_TRUE(std::isfinite(it->second));
    const double diff = std::abs(static_cast<double>(it->second) - want);
    worst = std::max(worst, diff);
    if (std::get<1>(key) >= static_cast<int64_t>(tokens.size())) worst_decode = std::max(worst_decode, diff);
    mean += diff;
  }
  mean /= static_cast<double>(expected);
  std::printf("[%s exact] entropy over %zu values: max |GPU - CPU| %.3e nats (decode steps %.3e), mean %.3e\n",
              c.name.c_str(), expected, worst, worst_decode, mean);
  EXPECT_LT(worst, 1e-3);
  EXPECT_LT(mean, 1e-4);
}

TEST_P(CudaExactParity, FullSequenceLogitsAcrossChunks) {
  const ModelConfig& c = pair_.config;
  const auto tokens = random_tokens(5 * c.window + 3, c.vocab_size, 1);
  samba::ForwardOptions all;
  all.all_logits = true;
  std::vector<float> cpu, gpu;
  pair_.cpu->forward(tokens, &cpu, all);
  pair_.cuda().set_prefill_chunk(2 * c.window + 1);
  pair_.gpu->forward(tokens, &gpu, all);
  ASSERT_EQ(gpu.size(), cpu.size());
  const double err = rel_error(gpu, cpu);
  std::printf("[%s exact] full-sequence logits (%zu tokens): rel. error %.3e\n", c.name.c_str(), tokens.size(), err);
  EXPECT_LT(err, 1e-4);
}

// Teacher-forced like the fast test, but every step must agree.
TEST_P(CudaExactParity, GreedyDecode256StepsIdentical) {
  const ModelConfig& c = pair_.config;
  const auto prompt = random_tokens(2 * c.window + 5, c.vocab_size, 2);
  std::vector<float> cpu, gpu;
  pair_.cpu->forward(prompt, &cpu);
  pair_.gpu->forward(prompt, &gpu);
  int same = 0;
  double worst = 0;
  for (int i = 0; i < 256; ++i) {
    const int32_t want = argmax(cpu);
    if (argmax(gpu) == want) ++same;
    worst = std::max(worst, rel_error(gpu, cpu));
    const std::vector<int32_t> next{want};
    pair_.cpu->forward(next, &cpu);
    pair_.gpu->forward(next, &gpu);
  }
  std::printf("[%s exact] greedy decode: %d/256 tokens identical, worst step logits rel. error %.3e\n", c.name.c_str(),
              same, worst);
  EXPECT_EQ(same, 256);
  EXPECT_LT(worst, 1e-4);
}

TEST_P(CudaExactParity, ChunkedPrefillOfEightWindowsEqualsOnePass) {
  const ModelConfig& c = pair_.config;
  const auto tokens = random_tokens(8 * c.window + 11, c.vocab_size, 4);
  auto& gpu = pair_.cuda();
  std::vector<float> one, chunked, cpu;
  gpu.set_prefill_chunk(static_cast<int>(tokens.size()));
  ASSERT_EQ(gpu.prefill_chunk(), static_cast<int>(tokens.size()));
  gpu.forward(tokens, &one);
  const samba::ModelState one_state = gpu.save_state();
  gpu.reset();
  gpu.set_prefill_chunk(c.window / 2 + 3);
  gpu.forward(tokens, &chunked);
  const samba::ModelState chunked_state = gpu.save_state();
  pair_.cpu->forward(tokens, &cpu);
  const double err = rel_error(chunked, one), state_err = state_rel_error(chunked_state, one_state);
  std::printf("[%s exact] %zu tokens in chunks of %d vs one pass: logits rel. error %.3e, state %.3e; vs CPU %.3e\n",
              c.name.c_str(), tokens.size(), c.window / 2 + 3, err, state_err, rel_error(chunked, cpu));
  EXPECT_LT(err, 1e-4);
  EXPECT_LT(state_err, 1e-4);
  EXPECT_LT(rel_error(chunked, cpu), 1e-4);
  EXPECT_EQ(chunked_state.position, one_state.position);
}

TEST_P(CudaExactParity, SnapshotRoundTripsAcrossBackendsAndPrecisions) {
  const ModelConfig& c = pair_.config;
  const auto prompt = random_tokens(2 * c.window + 9, c.vocab_size, 5);
  const auto cont = random_tokens(16, c.vocab_size, 6);
  auto continue_with = [&](Backend& b) {
    std::vector<float> all, step;
    for (int32_t t : cont) {
      b.forward(std::vector<int32_t>{t}, &step);
      all.insert(all.end(), step.begin(), step.end());
    }
    return all;
  };
  // GPU-exact -> bytes -> GPU-exact: bitwise the same continuation.
  pair_.gpu->forward(prompt, nullptr);
  const samba::ModelState gpu_state = pair_.gpu->save_state();
  const std::vector<uint8_t> bytes = samba::serialize_state(gpu_state);
  const std::vector<float> first = continue_with(*pair_.gpu);
  pair_.gpu->reset();
  pair_.gpu->load_state(samba::deserialize_state(c, bytes.data(), bytes.size()));
  EXPECT_EQ(rel_error(continue_with(*pair_.gpu), first), 0.0) << "GPU snapshot restore changed the continuation";

  // CPU -> GPU-exact keeps every value (fp32 rings and states): saving it back is bitwise the CPU's state.
  pair_.cpu->forward(prompt, nullptr);
  const samba::ModelState cpu_state = pair_.cpu->save_state();
  const std::vector<float> cpu_cont = continue_with(*pair_.cpu);
  pair_.gpu->load_state(cpu_state);
  const samba::ModelState back = pair_.gpu->save_state();
  EXPECT_EQ(back.keys, cpu_state.keys);
  EXPECT_EQ(back.values, cpu_state.values);
  EXPECT_EQ(back.conv, cpu_state.conv);
  EXPECT_EQ(back.ssm, cpu_state.ssm);
  EXPECT_EQ(back.position, cpu_state.position);
  const std::vector<float> gpu_from_cpu = continue_with(*pair_.gpu);
  // GPU-exact -> CPU.
  pair_.cpu->load_state(gpu_state);
  const std::vector<float> cpu_from_gpu = continue_with(*pair_.cpu);
  std::printf("[%s exact] snapshot: state GPU vs CPU %.3e; CPU->GPU continuation rel. error %.3e, GPU->CPU %.3e\n",
              c.name.c_str(), state_rel_error(gpu_state, cpu_state), rel_error(gpu_from_cpu, cpu_cont),
              rel_error(cpu_from_gpu, cpu_cont));
  EXPECT_LT(state_rel_error(gpu_state, cpu_state), 1e-4);
  EXPECT_LT(rel_error(gpu_from_cpu, cpu_cont), 1e-4);
  EXPECT_LT(rel_error(cpu_from_gpu, cpu_cont), 1e-4);

  // Across precisions: a fast (bf16) backend continues from the exact one's
  // state (rings rounded to bf16) like the CPU does, to the bf16 tolerance.
  std::string why;
  auto fast = samba::create_cuda_backend(*pair_.files, 0, &why, samba::Precision::fast);
  ASSERT_TRUE(fast) << why;
  EXPECT_NE(fast->description().find("bf16 activations"), std::string::npos) << fast->description();
  fast->load_state(gpu_state);
  const samba::ModelState fast_state = fast->save_state();  // before the continuation moves it on
  EXPECT_LT(rel_error(continue_with(*fast), cpu_cont), 2e-2);
  pair_.gpu->load_state(fast_state);
  EXPECT_LT(rel_error(continue_with(*pair_.gpu), cpu_cont), 2e-2);
}

// Decode in the exact precision runs through cuBLAS inside the CUDA graph.
TEST_P(CudaExactParity, DeviceGreedyEqualsHostArgmax) {
  const ModelConfig& c = pair_.config;
  const auto prompt = random_tokens(c.window + 3, c.vocab_size, 7);
  std::vector<float> logits;
  pair_.gpu->forward(prompt, &logits);
  const samba::ModelState after_prompt = pair_.gpu->save_state();
  const int32_t first = argmax(logits);
  std::vector<int32_t> host;
  int32_t next = first;
  for (int i = 0; i < 64; ++i) {
    pair_.gpu->forward(std::vector<int32_t>{next}, &logits);
    next = argmax(logits);
    host.push_back(next);
  }
  pair_.gpu->load_state(after_prompt);
  EXPECT_EQ(pair_.cuda().decode_greedy(first, 64), host);
  EXPECT_EQ(pair_.gpu->position(), static_cast<int64_t>(prompt.size()) + 64);
}

INSTANTIATE_TEST_SUITE_P(
    Models, CudaExactParity,
    ::testing::Values(Shape{"tiny_mha_hs16", 4, 64, 4, 4, 16, 128, 16, 512},
                      Shape{"gqa_hs32", 6, 128, 4, 2, 32, 256, 32, 1000},
                      Shape{"mid_hs64", 6, 256, 4, 4, 64, 512, 64, 2048},
                      Shape{"gqa_hs128", 4, 256, 2, 1, 128, 512, 128, 4096}),
    [](const ::testing::TestParamInfo<Shape>& info) { return info.param.name; });

// A model that fits with bf16 activations but not with the exact precision's
// fp32 weight copy (~31 B parameters: 62 GB bf16, 185 GB with the copy) gets
// a reason that names the precision, not a crash and not a silent fallback.
TEST(CudaAvailability, ExactPrecisionReasonNamesIt) {
  std::string why;
  const ModelConfig big = make_config("big_for_exact", 48, 6144, 48, 48, 128, 24576, 2048, 32000);
  EXPECT_EQ(samba::cuda::create_cuda_backend_random(big, 1, &why, 0, samba::Precision::exact), nullptr);
  std::printf("big model in exact precision: %s\n", why.c_str());
  EXPECT_NE(why.find("not enough free GPU memory"), std::string::npos) << why;
  EXPECT_NE(why.find("exact precision"), std::string::npos) << why;
  EXPECT_NE(why.find("fp32 copy"), std::string::npos) << why;
}

TEST(CudaAvailability, ReasonsInsteadOfCrashes) {
  std::string why;
  // ~90 B parameters: more than any single GPU holds.
  const ModelConfig huge = make_config("huge", 96, 8192, 64, 8, 128, 32768, 2048, 32000);
  EXPECT_EQ(samba::cuda::create_cuda_backend_random(huge, 1, &why), nullptr);
  std::printf("huge model: %s\n", why.c_str());
  EXPECT_NE(why.find("not enough free GPU memory"), std::string::npos) << why;
  ModelConfig odd = make_config("odd_head", 2, 96, 4, 4, 24, 128, 16, 256);
  why.clear();
  EXPECT_EQ(samba::cuda::create_cuda_backend_random(odd, 1, &why), nullptr);
  EXPECT_NE(why.find("head_size"), std::string::npos) << why;
}

TEST(CudaAvailability, AutoPicksTheGpu) {
  const ModelConfig c = make_config("auto_pick", 2, 64, 4, 4, 16, 128, 16, 256);
  const fs::path folder = work_root() / c.name;
  write_random_model(c, folder, 9);
  const auto files = samba::ModelFiles::open(folder.string());
  samba::BackendChoice choice = samba::create_backend(*files, "auto");
  ASSERT_TRUE(choice.backend);
  EXPECT_EQ(choice.fallback_reason, "");
  EXPECT_EQ(choice.backend->description().rfind("cuda:", 0), 0u) << choice.backend->description();
}

// The persistent GEMV chain's tests run last (their own suite, instantiated
// after the others): if its barrier ever trapped, the CUDA context would be
// lost for every test after it.
class CudaChainParity : public CudaParity {};

// A CUDA backend of the pair's model, created while the environment holds
// `env` (name=value pairs, removed again afterwards).
std::unique_ptr<Backend> gpu_backend_with(Pair& pair, const std::vector<std::pair<std::string, std::string>>& env) {
  for (const auto& [name, value] : env) setenv(name.c_str(), value.c_str(), 1);
  std::string why;
  std::unique_ptr<Backend> b;
  try {
    b = samba::create_cuda_backend(*pair.files, 0, &why);
  } catch (...) {
    for (const auto& [name, value] : env) unsetenv(name.c_str());
    throw;
  }
  for (const auto& [name, value] : env) unsetenv(name.c_str());
  if (!b) throw std::runtime_error("CUDA backend unavailable: " + why);
  return b;
}

// The persistent GEMV chain (SAMBA_CUDA_DECODE_CHAIN=1) computes every row
// with the same code as the one-projection kernel: with the split forced to
// the same value in both, every decode step's logits are the same bits. With
// and without the fused conv step (which puts in_proj+conv and x_proj in one
// chain), for a one-warp and an eight-warp split.
TEST_P(CudaChainParity, ChainedProjectionsGiveTheSameBitsAsOneByOne) {
  const ModelConfig& c = pair_.config;
  const auto prompt = random_tokens(c.window + 9, c.vocab_size, 4);
  for (const char* split : {"1", "8"}) {
    for (const char* fused : {"0", "1"}) {
      SCOPED_TRACE(std::string("split ") + split + ", fused steps " + fused);
      std::vector<std::pair<std::string, std::string>> env{{"SAMBA_CUDA_GEMV_KSPLIT", split},
                                                           {"SAMBA_CUDA_DECODE_FUSED", fused}};
      auto one_by_one = gpu_backend_with(pair_, env);
      env.emplace_back("SAMBA_CUDA_DECODE_CHAIN", "1");
      auto chained = gpu_backend_with(pair_, env);
      const std::string path = dynamic_cast<samba::cuda::CudaBackend&>(*chained).decode_path();
      EXPECT_NE(path.find("chained"), std::string::npos) << path;
      std::vector<float> a, b;
      one_by_one->forward(prompt, &a);
      chained->forward(prompt, &b);
      ASSERT_EQ(a, b);  // prefill does not use the chain
      int identical = 0;
      for (int i = 0; i < 64; ++i) {
        const std::vector<int32_t> next{argmax(a)};
        one_by_one->forward(next, &a);
        chained->forward(next, &b);
        identical += a == b;
      }
      EXPECT_EQ(identical, 64) << "decode steps whose logits differ from the one-by-one kernels: " << 64 - identical;
    }
  }
}

// And against the CPU, with the tuner's own choices.
TEST_P(CudaChainParity, GreedyDecode256StepsWithChainedProjections) {
  Pair chained;
  chained.config = pair_.config;
  chained.cpu = samba::create_cpu_backend(*pair_.files);
  chained.gpu = gpu_backend_with(pair_, {{"SAMBA_CUDA_DECODE_CHAIN", "1"}});
  const GreedyAgreement r = greedy_against_cpu(chained, 256);
  EXPECT_GE(r.same, static_cast<int>(std::ceil(0.95 * r.steps)));
  EXPECT_LT(r.worst, 2e-2);
}

INSTANTIATE_TEST_SUITE_P(Models, CudaChainParity, ::testing::ValuesIn(parity_shapes()), shape_name);

}  // namespace

int main(int argc, char** argv) {
  std::string why;
  if (!samba::cuda_device_present(&why)) {
    std::printf("SKIPPED: the CUDA parity tests need a CUDA device: %s\n", why.c_str());
    return 77;
  }
  std::printf("device: %s\n", samba::cuda_device_summary().c_str());
  ::testing::InitGoogleTest(&argc, argv);
  const int result = RUN_ALL_TESTS();
  std::error_code ec;
  fs::remove_all(work_root(), ec);
  return result;
}

#else  // built without CUDA (no nvcc): nothing to test here

#include <cstdio>

int main() {
  std::printf("SKIPPED: the CUDA parity tests need a build with CUDA (this one was built without nvcc)\n");
  return 77;
}

#endif  // SAMBA_HAVE_CUDA
