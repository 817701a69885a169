// samba-bench: decode and prefill speed of the engine against the hardware's
// floors, on random weights of real model shapes.
//
//   samba-bench --backend cuda [--models 421M,1.3B,1.7B] [--contexts 4096,65536,1048576]
//               [--decode-steps 256] [--max-prefill-seconds 40] [--out table.md]
//   samba-bench --backend cpu [--threads N] [--out table.md]
//
// CUDA: for each model and context C the state is filled honestly by a
// prefill of C random tokens (timed: prefill tokens/s), then greedy decoding
// runs on the device through the CUDA graph (timed: decode tokens/s at
// context C). Floors: decode = bytes read per token / 4.3 TB/s (the H200's
// measured device copy rate); prefill = GEMM FLOPs per token / 790 TFLOP/s
// (its measured bf16 GEMM rate); on any other card, the same two rates
// measured on it at the start of the run (gpu_ceilings.h). Also: peak device
// memory, the cost of entropy output, decode through the public per-token
// API, and the cost of the exact precision (fp32 activations, what entropy
// analysis uses) on the 421M shape at 4K.
//
// CPU: a ~20M-parameter model written to a temporary folder; decode against
// weight bytes per token / memcpy bandwidth measured in the same run, prefill
// against the OpenBLAS sgemm rate on the model's own projection shapes,
// measured in the same run.
#include <cblas.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "samba/backend.h"
#include "samba/config.h"
#include "samba/error.h"
#include "samba/probes.h"
#include "samba/safetensors.h"
#include "samba/weights.h"

#ifdef SAMBA_HAVE_CUDA
#include <cuda_profiler_api.h>
#include <cuda_runtime.h>

#include "../src/cuda/cuda_backend.h"
#include "gemv_study.h"
#include "gpu_ceilings.h"
#endif

extern "C" void openblas_set_num_threads(int num_threads);

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

std::vector<int32_t> random_tokens(size_t n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, vocab - 1);
  std::vector<int32_t> t(n);
  for (auto& x : t) x = dist(rng);
  return t;
}

samba::ModelConfig preset(const std::string& name) {
  samba::ModelConfig c;
  c.name = name;
  c.vocab_size = 32000;
  c.window = 2048;
  if (name == "421M") {
    c.name = "Samba_421M";
    c.n_layer = 12, c.d_model = 1536, c.n_head = 12, c.n_kv_head = 12, c.head_size = 128, c.intermediate = 4096;
  } else if (name == "1.3B") {
    c.name = "Samba_1.3B";
    c.n_layer = 18, c.d_model = 2304, c.n_head = 18, c.n_kv_head = 18, c.head_size = 128, c.intermediate = 6144;
  } else if (name == "1.7B") {
    c.name = "Samba_1.7B-paper";
    c.n_layer = 24, c.d_model = 2048, c.n_head = 32, c.n_kv_head = 4, c.head_size = 64, c.intermediate = 8192;
  } else if (name == "cpu-20M") {
    c.name = "cpu-20M";
    c.n_layer = 8, c.d_model = 384, c.n_head = 6, c.n_kv_head = 6, c.head_size = 64, c.intermediate = 1024;
    c.vocab_size = 16000;
  } else {
    throw samba::Error(samba::ErrorKind::InvalidArgument,
                       "unknown model '" + name + "' (421M, 1.3B, 1.7B or cpu-20M)");
  }
  c.d_inner = 2 * c.d_model;
  c.dt_rank = (c.d_model + 15) / 16;
  c.validate(c.name);
  return c;
}

// Elements of every GEMM weight (the projections, not the embedding gather).
int64_t gemm_weight_elements(const samba::ModelConfig& c) {
  const int64_t d = c.d_model, di = c.d_inner, r = c.dt_rank, n = c.d_state, I = c.intermediate;
  int64_t total = 0;
  for (int i = 0; i < c.n_layer; ++i) {
    total += 3 * I * d;
    if (c.is_mamba_layer(i))
      total += 2 * di * d + (r + 2 * n) * di + di * r + d * di;
    else
      total += static_cast<int64_t>(c.q_dim() + 2 * c.kv_dim()) * d + d * c.q_dim();
  }
  return total;
}

// Mean number of keys a query sees over positions 0..C-1.
double mean_keys(const samba::ModelConfig& c, int64_t C) {
  const double W = c.window;
  if (C <= c.window) return (static_cast<double>(C) + 1) / 2;
  return (W * (W + 1) / 2 + (static_cast<double>(C) - W) * W) / static_cast<double>(C);
}

// Prefill: 2 FLOPs per weight per token in the projections, plus Q K^T and
// P V over the window (4 * H * hs per key). The LM head runs on the last
// token only and the scan is not matrix work: both left out.
double prefill_flops_per_token(const samba::ModelConfig& c, int64_t C) {
  const double attention = 4.0 * c.n_head * c.head_size * mean_keys(c, C) * c.n_swa_layers();
  return 2.0 * static_cast<double>(gemm_weight_elements(c)) + attention;
}

std::string format(const char* fmt, double v) {
  char text[64];
  std::snprintf(text, sizeof(text), fmt, v);
  return text;
}

std::string human_count(double v) {
  if (v >= 1e9) return format("%.2fB", v / 1e9);
  if (v >= 1e6) return format("%.1fM", v / 1e6);
  if (v >= 1e3) return format("%.0fK", v / 1e3);
  return format("%.0f", v);
}

[[maybe_unused]] std::string context_label(int64_t C) {
  if (C >= (1 << 20) && C % (1 << 20) == 0) return std::to_string(C >> 20) + "M";
  if (C >= 1024 && C % 1024 == 0) return std::to_string(C / 1024) + "K";
  return std::to_string(C);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

struct Options {
  std::string backend = "cuda";
  std::vector<std::string> models = {"421M", "1.3B", "1.7B"};
  std::vector<int64_t> contexts = {4096, 65536, 1048576};
  int decode_steps = 256;
  double max_prefill_seconds = 40;
  std::string profile_model;  // default: the first model
  int threads = 0;
  std::string out;
  std::string entropy_model;  // a model folder: measure the entropy probe's cost on it
  std::string trace_decode;   // a preset: only a few decode steps, inside cudaProfilerStart/Stop
  bool gemv_study = false;    // only the GEMV study (gemv_study.h)
};

// Counts what it receives, so the entropy path does real work on the host too.
class SummingSink : public samba::EntropySink {
 public:
  void consume(int, int64_t, int n_pos, int n_head, const float* values) override {
    for (int i = 0; i < n_pos * n_head; ++i) sum_ += values[i];
    count_ += static_cast<size_t>(n_pos) * n_head;
  }
  double sum_ = 0;
  size_t count_ = 0;
};

[[maybe_unused]] std::string table_header() {
  return "| model | params | context | prefill tok/s | % of prefill floor | decode tok/s | % of decode floor | "
         "decode bytes/token | notes |\n|---|---|---|---|---|---|---|---|---|\n";
}

#ifdef SAMBA_HAVE_CUDA
// Bytes one decode step must read: every weight once (the embedding as the
// tied head), the keys and values of min(C, W) positions per SWA layer, and
// the Mamba states read and written.
double decode_bytes_per_token(const samba::ModelConfig& c, int64_t C, uint64_t weight_bytes) {
  const double kv = 2.0 * 2.0 * std::min<int64_t>(C, c.window) * c.kv_dim() * c.n_swa_layers();
  const double mamba = 2.0 * 4.0 * c.n_mamba_layers() * static_cast<double>(c.d_inner) * (c.d_state + c.d_conv - 1);
  return static_cast<double>(weight_bytes) + kv + mamba;
}

size_t device_used_bytes() {
  size_t free_bytes = 0, total = 0;
  cudaMemGetInfo(&free_bytes, &total);
  return total - free_bytes;
}

// Where the time goes, for the first model: a stage profile (CUDA events,
// SAMBA_CUDA_PROFILE=1) of a 16K prefill and of 32 decode steps run without
// the graph, and decode through cuBLAS instead of the fused GEMV, with the graph.
std::string profile_section(const Options& opt) {
  const samba::ModelConfig c = preset(opt.profile_model.empty() ? opt.models.front() : opt.profile_model);
  std::ostringstream md;
  std::string why;
  setenv("SAMBA_CUDA_PROFILE", "1", 1);
  auto profiled = samba::cuda::create_cuda_backend_random(c, 7, &why);
  unsetenv("SAMBA_CUDA_PROFILE");
  if (!profiled) return "\nProfile not run: " + why + "\n";
  profiled->forward(random_tokens(4096, c.vocab_size, 1), nullptr);  // warm-up
  profiled->reset();
  (void)profiled->profile_report();
  const auto t0 = Clock::now();
  profiled->forward(random_tokens(16384, c.vocab_size, 2), nullptr);
  const double prefill_s = seconds_since(t0);
  const std::string prefill = profiled->profile_report();
  profiled->decode_greedy(5, 4);
  (void)profiled->profile_report();
  const auto t1 = Clock::now();
  profiled->decode_greedy(5, 32);
  const double decode_s = seconds_since(t1);
  const std::string decode = profiled->profile_report();
  profiled.reset();

  setenv("SAMBA_CUDA_DECODE_GEMV", "cublas", 1);
  auto cublas = samba::cuda::create_cuda_backend_random(c, 7, &why);
  unsetenv("SAMBA_CUDA_DECODE_GEMV");
  double cublas_rate = 0;
  std::string cublas_path;
  if (cublas) {
    cublas->forward(random_tokens(4096, c.vocab_size, 3), nullptr);
    cublas->decode_greedy(1, 8);
    std::vector<double> rates;
    for (int rep = 0; rep < 3; ++rep) {
      const auto t2 = Clock::now();
      cublas->decode_greedy(1, opt.decode_steps);
      rates.push_back(opt.decode_steps / seconds_since(t2));
    }
    cublas_rate = median(rates);
    cublas_path = cublas->decode_path();
  }
  md << "\n### Where the time goes (" << c.name << ")\n\n"
     << "Decode at 4K through cuBLAS GEMMs instead of the fused GEMV (" << cublas_path
     << "): " << format("%.0f", cublas_rate) << " tok/s.\n\n"
     << "Stage profile (CUDA events around each launch; adds its own overhead), 16K-token prefill in "
     << format("%.2f", prefill_s) << " s:\n\n```\n" << prefill << "```\n\n"
     << "32 decode steps without the graph (events between launches), " << format("%.1f", 1e3 * decode_s / 32)
     << " ms per step:\n\n```\n" << decode << "```\n";
  return md.str();
}

// The exact precision (fp32 activations and GEMMs, fp32 attention) on the
// 421M shape at 4K: prefill and decode tokens/s, against the fast figures of
// the same shape when the main table measured them (0 when it did not).
std::string exact_section(const Options& opt, double fast_prefill_4k, double fast_decode_4k) {
  const samba::ModelConfig c = preset("421M");
  std::string why;
  auto backend = samba::cuda::create_cuda_backend_random(c, 7, &why, 0, samba::Precision::exact);
  if (!backend) return "- Exact precision on " + c.name + ": not run: " + why + "\n";
  const int64_t C = 4096;
  const auto tokens = random_tokens(static_cast<size_t>(C), c.vocab_size, 17);
  backend->forward(tokens, nullptr);  // warm-up: cuBLAS heuristics
  backend->decode_greedy(1, 8);       // and the graph capture
  double prefill_s = 1e30;
  for (int rep = 0; rep < 2; ++rep) {
    backend->reset();
    const auto t0 = Clock::now();
    backend->forward(tokens, nullptr);
    backend->synchronize();
    prefill_s = std::min(prefill_s, seconds_since(t0));
  }
  backend->decode_greedy(tokens.back(), 8);
  std::vector<double> rates;
  for (int rep = 0; rep < 2; ++rep) {
    const auto t1 = Clock::now();
    backend->decode_greedy(1, opt.decode_steps);
    rates.push_back(opt.decode_steps / seconds_since(t1));
  }
  const double prefill_rate = static_cast<double>(C) / prefill_s;
  const double decode_rate = median(rates);
  std::printf("%s exact precision at 4K: prefill %.0f tok/s, decode %.0f tok/s (%s)\n", c.name.c_str(), prefill_rate,
              decode_rate, backend->decode_path().c_str());
  std::ostringstream md;
  md << "- Exact precision (" << backend->description() << "; decode " << backend->decode_path() << ") on "
     << c.name << " at 4K: prefill " << format("%.0f", prefill_rate) << " tok/s";
  if (fast_prefill_4k > 0) md << " (" << format("%.1f", fast_prefill_4k / prefill_rate) << "x slower than bf16)";
  md << ", decode " << format("%.0f", decode_rate) << " tok/s";
  if (fast_decode_4k > 0) md << " (" << format("%.1f", fast_decode_4k / decode_rate) << "x slower than bf16)";
  md << "; device memory held " << format("%.2f", static_cast<double>(backend->device_bytes()) / (1 << 30))
     << " GiB (bf16 weights + their fp32 copy).\n";
  return md.str();
}

std::string run_cuda(const Options& opt) {
  std::ostringstream md;
  std::printf("device: %s\n", samba::cuda_device_summary().c_str());
  const samba_bench::GpuCeilings ceilings = samba_bench::measure_gpu_ceilings();
  std::printf("%s\n", ceilings.describe().c_str());
  md << "Device: " << samba::cuda_device_summary() << ". " << ceilings.describe() << ". Random bf16 weights "
     << "of the real shapes, batch 1; each context is filled by a real prefill of that many tokens before "
     << "decoding, and decode runs greedy on the device, one CUDA-graph replay per token (fused GEMV "
     << "projections; prefill projections through cuBLAS).\n\n";
  md << table_header();
  std::ostringstream extra;
  double fast_prefill_421m_4k = 0, fast_decode_421m_4k = 0;
  for (const std::string& name : opt.models) {
    const samba::ModelConfig c = preset(name);
    const size_t used_before = device_used_bytes();
    std::string why;
    auto backend = samba::cuda::create_cuda_backend_random(c, 7, &why);
    if (!backend) {
      md << "| " << c.name << " | | | | | | | | not run: " << why << " |\n";
      continue;
    }
    std::printf("%s: %s parameters, backend holds %.2f GiB, prefill chunk %d, decode: %s\n", c.name.c_str(),
                human_count(static_cast<double>(c.parameter_count())).c_str(),
                static_cast<double>(backend->device_bytes()) / (1 << 30), backend->prefill_chunk(),
                backend->decode_path().c_str());
    std::fflush(stdout);
    // Warm-up: module load, cuBLAS heuristics, graph capture.
    backend->forward(random_tokens(4096, c.vocab_size, 1), nullptr);
    backend->decode_greedy(1, 8);
    backend->reset();
    size_t peak_used = device_used_bytes();

    double decode_4k = 0, decode_last = 0, prefill_rate = 0;
    int64_t last_context = 0;
    for (int64_t C : opt.contexts) {
      std::string note;
      const double projected = prefill_rate > 0 ? static_cast<double>(C) / prefill_rate : 0;
      if (projected > opt.max_prefill_seconds) {
        md << "| " << c.name << " | " << human_count(static_cast<double>(c.parameter_count())) << " | "
           << context_label(C) << " | | | | | | not run: a prefill of " << context_label(C) << " would take ~"
           << format("%.0f", projected) << " s at the rate measured, over this run's limit of "
           << format("%.0f", opt.max_prefill_seconds) << " s |\n";
        continue;
      }
      backend->reset();
      const auto tokens = random_tokens(static_cast<size_t>(C), c.vocab_size, static_cast<uint32_t>(C));
      const auto t0 = Clock::now();
      backend->forward(tokens, nullptr);
      backend->synchronize();
      const double prefill_s = seconds_since(t0);
      prefill_rate = static_cast<double>(C) / prefill_s;
      peak_used = std::max(peak_used, device_used_bytes());
      // Decode at context C: a few warm steps, then timed runs.
      backend->decode_greedy(tokens.back(), 8);
      std::vector<double> rates;
      for (int rep = 0; rep < 3; ++rep) {
        const auto t1 = Clock::now();
        backend->decode_greedy(1, opt.decode_steps);
        rates.push_back(opt.decode_steps / seconds_since(t1));
      }
      const double decode_rate = median(rates);
      const double decode_bytes = decode_bytes_per_token(c, C, samba::cuda::cuda_weight_bytes(c));
      const double decode_floor = ceilings.floor_copy_bytes_per_second / decode_bytes;
      const double prefill_floor = ceilings.floor_gemm_flops / prefill_flops_per_token(c, C);
      if (C == 4096) decode_4k = decode_rate;
      if (C == 4096 && name == "421M") {
        fast_prefill_421m_4k = prefill_rate;
        fast_decode_421m_4k = decode_rate;
      }
      decode_last = decode_rate;
      last_context = C;
      md << "| " << c.name << " | " << human_count(static_cast<double>(c.parameter_count())) << " | "
         << context_label(C) << " | " << format("%.0f", prefill_rate) << " | "
         << format("%.1f%%", 100.0 * prefill_rate / prefill_floor) << " | " << format("%.0f", decode_rate) << " | "
         << format("%.1f%%", 100.0 * decode_rate / decode_floor) << " | " << format("%.3f GB", decode_bytes / 1e9) << " | prefill "
         << format("%.2f", prefill_s) << " s; floors " << format("%.0f", prefill_floor) << " / "
         << format("%.0f", decode_floor) << " tok/s" << note << " |\n";
      std::printf("  context %s: prefill %.0f tok/s (%.2f s), decode %.0f tok/s\n", context_label(C).c_str(),
                  prefill_rate, prefill_s, decode_rate);
      std::fflush(stdout);
    }

    // Entropy output cost: the same 64K prefill with and without the sink.
    const int64_t E = 65536;
    const auto tokens = random_tokens(E, c.vocab_size, 99);
    std::vector<double> plain, with_entropy;
    for (int rep = 0; rep < 2; ++rep) {
      backend->reset();
      auto t0 = Clock::now();
      backend->forward(tokens, nullptr);
      plain.push_back(seconds_since(t0));
      SummingSink sink;
      samba::ForwardOptions options;
      options.entropy = &sink;
      backend->reset();
      t0 = Clock::now();
      backend->forward(tokens, nullptr, options);
      with_entropy.push_back(seconds_since(t0));
    }
    const double p = *std::min_element(plain.begin(), plain.end());
    const double e = *std::min_element(with_entropy.begin(), with_entropy.end());

    // Per-token decode through the public API (logits copied to the host each step).
    backend->reset();
    backend->forward(random_tokens(4096, c.vocab_size, 5), nullptr);
    std::vector<float> logits;
    const int api_steps = 64;
    const auto t_api = Clock::now();
    for (int i = 0; i < api_steps; ++i) backend->forward(std::vector<int32_t>{i + 3}, &logits);
    const double api_rate = api_steps / seconds_since(t_api);

    extra << "- " << c.name << ": peak device memory " << format("%.2f", static_cast<double>(peak_used - used_before) / (1 << 30))
          << " GiB (weights " << format("%.2f", static_cast<double>(samba::cuda::cuda_weight_bytes(c)) / (1 << 30))
          << " GiB); entropy output costs " << format("%+.1f%%", 100.0 * (e - p) / p) << " of a 64K prefill ("
          << format("%.3f", p) << " s without, " << format("%.3f", e) << " s with); decode through the public "
          << "forward() API with logits copied to the host each token: " << format("%.0f", api_rate)
          << " tok/s at 4K";
    if (decode_4k > 0 && last_context > 4096)
      extra << "; decode at " << context_label(last_context) << " is "
            << format("%.1f%%", 100.0 * decode_last / decode_4k) << " of decode at 4K";
    extra << ".\n";
  }
  md << "\n" << extra.str();
  md << exact_section(opt, fast_prefill_421m_4k, fast_decode_421m_4k);
  md << profile_section(opt);
  return md.str();
}
#endif

// ---------------------------------------------------------------- CPU ----

void write_random_model(const samba::ModelConfig& c, const fs::path& folder) {
  fs::create_directories(folder);
  std::ofstream(folder / "config.json") << samba::config_to_json(c);
  std::mt19937 rng(11);
  std::map<std::string, std::vector<float>> data;
  std::vector<samba::TensorToWrite> tensors;
  for (const auto& [name, shape] : samba::expected_tensors(c)) {
    size_t n = 1;
    for (int64_t s : shape) n *= static_cast<size_t>(s);
    std::vector<float>& v = data[name];
    v.resize(n);
    std::uniform_real_distribution<float> dist(-0.035f, 0.035f);
    for (float& x : v) x = dist(rng);
    if (name.find("norm") != std::string::npos || name.find("ln_f") != std::string::npos ||
        name.find("attn.D") != std::string::npos)
      std::fill(v.begin(), v.end(), 1.0f);
    if (name.find("A_log") != std::string::npos)
      for (size_t i = 0; i < n; ++i) v[i] = std::log(static_cast<float>(i % c.d_state + 1));
    if (name.find("dt_proj.bias") != std::string::npos) std::fill(v.begin(), v.end(), -4.6f);
    tensors.push_back({name, shape, v.data()});
  }
  samba::write_safetensors((folder / "model.safetensors").string(), tensors, samba::DType::F32);
}

// The cost of capturing attention entropy with the probe the app uses
// (EntropyBuckets: mean/min/max per position bucket) on a real model folder,
// e.g. the bundled default model, whose prefill is so fast that the host side
// of the capture could matter: a prefill of random tokens with and without it.
std::string run_entropy_cost(const Options& opt) {
  std::ostringstream md;
  const auto files = samba::ModelFiles::open(opt.entropy_model);
  const samba::ModelConfig& c = files->config();
  const int64_t E = opt.backend == "cpu" ? 16384 : 65536;
  const auto tokens = random_tokens(static_cast<size_t>(E), c.vocab_size, 17);
  std::vector<samba::Precision> precisions{samba::Precision::fast};
  if (opt.backend == "cuda") precisions.push_back(samba::Precision::exact);
  md << "\nEntropy capture on `" << opt.entropy_model << "` (" << human_count(static_cast<double>(c.parameter_count()))
     << " parameters), prefill of " << E << " random tokens, best of 3, with the app's probe (EntropyBuckets, "
     << "256 buckets):\n\n| backend | prefill s | with entropy s | cost |\n|---|---|---|---|\n";
  for (samba::Precision precision : precisions) {
    samba::BackendChoice choice = samba::create_backend(*files, opt.backend, static_cast<int>(E), precision);
    if (!choice.fallback_reason.empty()) {
      md << "| " << opt.backend << " " << samba::precision_name(precision) << " | | | not run: " << choice.fallback_reason
         << " |\n";
      continue;
    }
    samba::Backend& backend = *choice.backend;
    backend.forward(random_tokens(2048, c.vocab_size, 3), nullptr);  // warm-up
    std::vector<double> plain, with_entropy;
    for (int rep = 0; rep < 3; ++rep) {
      backend.reset();
      auto t0 = Clock::now();
      backend.forward(tokens, nullptr);
      plain.push_back(seconds_since(t0));
      samba::EntropyBuckets buckets(c, 1, 256);
      samba::ForwardOptions options;
      options.entropy = &buckets;
      backend.reset();
      t0 = Clock::now();
      backend.forward(tokens, nullptr, options);
      with_entropy.push_back(seconds_since(t0));
    }
    const double p = *std::min_element(plain.begin(), plain.end());
    const double e = *std::min_element(with_entropy.begin(), with_entropy.end());
    md << "| " << backend.description() << " | " << format("%.4f", p) << " | " << format("%.4f", e) << " | "
       << format("%+.1f%%", 100.0 * (e - p) / p) << " |\n";
    std::printf("entropy capture, %s: %.4f s -> %.4f s (%+.1f%%)\n", backend.description().c_str(), p, e,
                100.0 * (e - p) / p);
    std::fflush(stdout);
  }
  return md.str();
}

std::string run_cpu(const Options& opt) {
  const samba::ModelConfig c = preset("cpu-20M");
  const int threads = opt.threads > 0 ? opt.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const fs::path folder = fs::temp_directory_path() / ("samba-bench-" + std::to_string(getpid()));
  write_random_model(c, folder);
  auto files = samba::ModelFiles::open(folder.string());
  auto backend = samba::create_cpu_backend(*files, threads);
  openblas_set_num_threads(threads);

  // Memory bandwidth: a 256 MiB copy, bytes read plus bytes written, best of 5.
  const size_t copy_bytes = 256u << 20;
  std::vector<char> src(copy_bytes, 1), dst(copy_bytes, 0);
  double best_copy = 1e9;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = Clock::now();
    std::memcpy(dst.data(), src.data(), copy_bytes);
    best_copy = std::min(best_copy, seconds_since(t0));
  }
  const double bandwidth = 2.0 * copy_bytes / best_copy;

  // sgemm rate on the projections of one 256-token chunk of this model.
  const int M = 256;
  struct Shape {
    int n, k;
  };
  std::vector<Shape> shapes;
  for (int i = 0; i < c.n_layer; ++i) {
    if (c.is_mamba_layer(i)) {
      shapes.insert(shapes.end(), {{2 * c.d_inner, c.d_model}, {c.dt_rank + 2 * c.d_state, c.d_inner},
                                   {c.d_inner, c.dt_rank}, {c.d_model, c.d_inner}});
    } else {
      shapes.insert(shapes.end(), {{c.q_dim(), c.d_model}, {c.kv_dim(), c.d_model}, {c.kv_dim(), c.d_model},
                                   {c.d_model, c.q_dim()}});
    }
    shapes.insert(shapes.end(), {{c.intermediate, c.d_model}, {c.intermediate, c.d_model}, {c.d_model, c.intermediate}});
  }
  size_t max_n = 0, max_k = 0;
  for (const Shape& s : shapes) max_n = std::max<size_t>(max_n, s.n), max_k = std::max<size_t>(max_k, s.k);
  std::vector<float> A(M * max_k, 0.01f), B(max_n * max_k, 0.02f), Cm(M * max_n);
  double gemm_flops = 0;
  for (const Shape& s : shapes) gemm_flops += 2.0 * M * s.n * s.k;
  std::vector<double> gemm_times;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = Clock::now();
    for (const Shape& s : shapes)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, s.n, s.k, 1.0f, A.data(), s.k, B.data(), s.k, 0.0f,
                  Cm.data(), s.n);
    gemm_times.push_back(seconds_since(t0));
  }
  const double sgemm_rate = gemm_flops / median(gemm_times);
  // The backend threads through OpenMP with single-threaded BLAS calls.
  openblas_set_num_threads(1);

  // Prefill: 2048 tokens from an empty state.
  const auto tokens = random_tokens(2048, c.vocab_size, 3);
  std::vector<double> prefill_rates;
  for (int rep = 0; rep < 3; ++rep) {
    backend->reset();
    const auto t0 = Clock::now();
    backend->forward(tokens, nullptr);
    prefill_rates.push_back(tokens.size() / seconds_since(t0));
  }
  const double prefill_rate = median(prefill_rates);
  // Decode: 128 tokens after a 512-token prompt, logits to the caller each step.
  std::vector<double> decode_rates;
  std::vector<float> logits;
  for (int rep = 0; rep < 3; ++rep) {
    backend->reset();
    backend->forward(std::span<const int32_t>(tokens.data(), 512), &logits);
    const auto t0 = Clock::now();
    for (int i = 0; i < 128; ++i) backend->forward(std::vector<int32_t>{tokens[512 + i]}, &logits);
    decode_rates.push_back(128 / seconds_since(t0));
  }
  const double decode_rate = median(decode_rates);
  std::error_code ec;
  fs::remove_all(folder, ec);

  const double weight_bytes = 4.0 * static_cast<double>(c.parameter_count());  // fp32, every weight read once
  const double decode_floor = bandwidth / weight_bytes;
  // FLOPs a 2048-token prefill must do per token: the projections plus QK^T
  // and PV over each query's window (the same count as the GPU table).
  const double prefill_flops = prefill_flops_per_token(c, 2048);
  const double prefill_floor = sgemm_rate / prefill_flops;
  std::ostringstream md;
  md << "CPU: " << threads << " threads, " << backend->description() << ". Model: " << c.name << " ("
     << human_count(static_cast<double>(c.parameter_count())) << " parameters: " << c.n_layer << " blocks, d_model "
     << c.d_model << ", " << c.n_head << " heads of " << c.head_size << ", I " << c.intermediate << ", vocab "
     << c.vocab_size << "), random fp32 weights.\n\n"
     << "| measure | value | floor | % of floor |\n|---|---|---|---|\n"
     << "| memcpy bandwidth (read + written) | " << format("%.2f GB/s", bandwidth / 1e9) << " | | |\n"
     << "| OpenBLAS sgemm on the model's projection shapes (M=256) | " << format("%.1f GFLOP/s", sgemm_rate / 1e9)
     << " | | |\n"
     << "| decode tok/s (512-token context, logits each step) | " << format("%.1f", decode_rate) << " | "
     << format("%.1f", decode_floor) << " (" << format("%.1f MB", weight_bytes / 1e6) << " of weights / bandwidth) | "
     << format("%.0f%%", 100.0 * decode_rate / decode_floor) << " |\n"
     << "| prefill tok/s (2048 tokens) | " << format("%.1f", prefill_rate) << " | " << format("%.1f", prefill_floor)
     << " (sgemm rate / " << human_count(prefill_flops) << "FLOP per token: projections + attention) | "
     << format("%.0f%%", 100.0 * prefill_rate / prefill_floor) << " |\n";
  return md.str();
}

#ifdef SAMBA_HAVE_CUDA
// For a profiler attached with "capture from cudaProfilerStart" (ncu
// --profile-from-start off, nsys --capture-range=cudaProfilerApi): a 4096-token
// prefill and warm decode steps outside the capture, then `steps` decode
// steps (graph replays) inside it. Prints the wall time per step.
std::string run_trace_decode(const Options& opt) {
  const samba::ModelConfig c = preset(opt.trace_decode);
  std::string why;
  auto backend = samba::cuda::create_cuda_backend_random(c, 7, &why);
  if (!backend) return "trace not run: " + why + "\n";
  backend->forward(random_tokens(4096, c.vocab_size, 1), nullptr);
  backend->decode_greedy(5, 32);
  cudaDeviceSynchronize();
  const int steps = std::max(1, opt.decode_steps);
  cudaProfilerStart();
  const auto t0 = Clock::now();
  backend->decode_greedy(5, steps);
  const double s = seconds_since(t0);
  cudaProfilerStop();
  return c.name + ": " + std::to_string(steps) + " traced decode steps, " + format("%.1f", 1e6 * s / steps) +
         " us per step (wall, incl. profiler)\n";
}
#endif

void usage() {
  std::puts(
      "usage: samba-bench [--backend cuda|cpu] [--models 421M,1.3B,1.7B] [--contexts 4096,65536,1048576]\n"
      "                   [--decode-steps N] [--max-prefill-seconds S] [--threads N] [--out FILE.md]\n"
      "                   [--profile-model NAME] [--entropy-model DIR] [--trace-decode NAME] [--gemv-study]\n"
      "  --trace-decode NAME: only --decode-steps decode steps of that shape, between cudaProfilerStart/Stop\n"
      "  --gemv-study: only the decode GEMV's rate in a row of launches against one launch (1.3B shapes)\n"
      "  --entropy-model DIR: only the cost of entropy capture with the app's probe on that model folder");
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "samba-bench: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--backend") opt.backend = value();
    else if (a == "--models") opt.models = split(value(), ',');
    else if (a == "--contexts") {
      opt.contexts.clear();
      for (const auto& s : split(value(), ',')) opt.contexts.push_back(std::stoll(s));
    } else if (a == "--decode-steps") opt.decode_steps = std::stoi(value());
    else if (a == "--max-prefill-seconds") opt.max_prefill_seconds = std::stod(value());
    else if (a == "--threads") opt.threads = std::stoi(value());
    else if (a == "--profile-model") opt.profile_model = value();
    else if (a == "--out") opt.out = value();
    else if (a == "--entropy-model") opt.entropy_model = value();
    else if (a == "--trace-decode") opt.trace_decode = value();
    else if (a == "--gemv-study") opt.gemv_study = true;
    else if (a == "-h" || a == "--help") {
      usage();
      return 0;
    } else {
      std::fprintf(stderr, "samba-bench: unknown option %s\n", a.c_str());
      usage();
      return 2;
    }
  }
  try {
    std::string table;
    if (opt.gemv_study) {
#ifdef SAMBA_HAVE_CUDA
      std::string why;
      if (!samba::cuda_device_present(&why)) {
        std::fprintf(stderr, "samba-bench: no CUDA device: %s\n", why.c_str());
        return 77;
      }
      table = samba_bench::run_gemv_study();
#else
      std::fprintf(stderr, "samba-bench: this build has no CUDA backend\n");
      return 2;
#endif
    } else if (!opt.trace_decode.empty()) {
#ifdef SAMBA_HAVE_CUDA
      table = run_trace_decode(opt);
#else
      std::fprintf(stderr, "samba-bench: this build has no CUDA backend\n");
      return 2;
#endif
    } else if (!opt.entropy_model.empty()) {
#ifdef SAMBA_HAVE_CUDA
      std::string why;
      if (opt.backend == "cuda" && !samba::cuda_device_present(&why)) {
        std::fprintf(stderr, "samba-bench: no CUDA device: %s\n", why.c_str());
        return 77;
      }
#endif
      table = run_entropy_cost(opt);
    } else if (opt.backend == "cpu") {
      table = run_cpu(opt);
    } else if (opt.backend == "cuda") {
#ifdef SAMBA_HAVE_CUDA
      std::string why;
      if (!samba::cuda_device_present(&why)) {
        std::fprintf(stderr, "samba-bench: no CUDA device: %s\n", why.c_str());
        return 77;
      }
      table = run_cuda(opt);
#else
      std::fprintf(stderr, "samba-bench: this build has no CUDA backend\n");
      return 2;
#endif
    } else {
      std::fprintf(stderr, "samba-bench: --backend must be cuda or cpu\n");
      return 2;
    }
    std::printf("\n%s", table.c_str());
    if (!opt.out.empty()) std::ofstream(opt.out) << table;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "samba-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
