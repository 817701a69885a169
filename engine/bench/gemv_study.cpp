// What stands between the decode step and its bandwidth floor: the GEMV's own
// streaming rate, or the boundaries between its ~80 launches a token. For each
// projection of the Samba_1.3B shape, with the kernel choice the decode tuner
// makes:
//   - in sequence: 18 distinct matrices (as the 18 layers have), one launch
//     each, back to back in a CUDA graph with programmatic dependent launch,
//     as a decode step runs them: time per launch and the rate it reads at;
//   - one launch: a single matrix with 18 times the rows (the same bytes), so
//     the kernel streams without boundaries: its steady rate;
//   - chained: the 18 launches as persistent chains of up to 8 projections
//     (gemv_chain.cu, opt-in in decode with SAMBA_CUDA_DECODE_CHAIN=1).
// The difference, per launch, is what a boundary costs (ramp-up, tail, the
// next launch's start): the part a persistent decode kernel could win back.
#ifdef SAMBA_HAVE_CUDA
#include "gemv_study.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "../src/cuda/cuda_check.h"
#include "../src/cuda/device_memory.h"
#include "../src/cuda/ops.h"
#include "event_timing.h"

namespace samba_bench {

namespace {

struct Shape {
  const char* name;
  int rows;  // output rows (for SwiGLU: of each half)
  int K;
  int mode;
};

// Samba_1.3B (model-spec §1): d 2304, d_inner 4608, SwiGLU 6144, 18 heads of 128.
const Shape kShapes[] = {
    {"norm+w1|w2+swiglu", 6144, 2304, samba::cuda::kGemvSwiGLU},
    {"w3 (+residual)", 2304, 6144, samba::cuda::kGemvAccumulate},
    {"norm+in_proj", 9216, 2304, samba::cuda::kGemvStore},
    {"norm+qkv", 6912, 2304, samba::cuda::kGemvStore},
    {"out_proj (+residual)", 2304, 4608, samba::cuda::kGemvAccumulate},
    {"proj (+residual)", 2304, 2304, samba::cuda::kGemvAccumulate},
    {"x_proj", 176, 4608, samba::cuda::kGemvStore},
};
constexpr int kLayers = 18;
constexpr int kReplays = 20;

template <class T>
T* as(const samba::cuda::DeviceBuffer& b) {
  return static_cast<T*>(b.get());
}

// Milliseconds of one replay of `launches` captured as a graph (median of kReplays).
template <class Launches>
double graph_ms(cudaStream_t stream, Launches launches) {
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  SAMBA_CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  launches();
  SAMBA_CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
  SAMBA_CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
  cudaGraphDestroy(graph);
  const double s = median_event_seconds(stream, kReplays, [&] { SAMBA_CUDA_CHECK(cudaGraphLaunch(exec, stream)); });
  cudaGraphExecDestroy(exec);
  return 1e3 * s;
}

std::string fmt(const char* f, double v) {
  char text[64];
  std::snprintf(text, sizeof(text), f, v);
  return text;
}

}  // namespace

std::string run_gemv_study() {
  using samba::cuda::GemvArgs;
  std::ostringstream md;
  md << "GEMV study (samba-bench --gemv-study): Samba_1.3B projections, " << kLayers
     << " distinct matrices each, the decode tuner's choice of split and load batch; medians of " << kReplays
     << " graph replays.\n\n"
     << "| projection | MB a launch | split, batch | in sequence: us a launch | in sequence: TB/s | "
        "one launch of 18x the rows: TB/s | boundary cost, us a launch | chained: us a launch | chained: TB/s |\n"
     << "|---|---|---|---|---|---|---|---|---|\n";
  cudaStream_t stream;
  SAMBA_CUDA_CHECK(cudaStreamCreate(&stream));
  samba::cuda::DeviceBuffer counter(sizeof(unsigned long long), "the chain's barrier counter");
  SAMBA_CUDA_CHECK(cudaMemsetAsync(counter.get(), 0, sizeof(unsigned long long), stream));
  for (const Shape& s : kShapes) {
    const int weight_rows = s.mode == samba::cuda::kGemvSwiGLU ? 2 * s.rows : s.rows;
    const size_t matrix_elems = static_cast<size_t>(weight_rows) * s.K;
    const double matrix_bytes = 2.0 * static_cast<double>(matrix_elems);
    samba::cuda::DeviceBuffer weights(matrix_elems * kLayers * sizeof(__nv_bfloat16), "the study's weights");
    samba::cuda::DeviceBuffer x(static_cast<size_t>(s.K) * sizeof(float), "the study's input");
    samba::cuda::DeviceBuffer y(static_cast<size_t>(weight_rows) * kLayers * sizeof(float), "the study's output");
    // Small non-zero bf16 weights and fp32 inputs: timing does not depend on the values.
    SAMBA_CUDA_CHECK(cudaMemsetAsync(as<void>(weights), 0x3c, matrix_elems * kLayers * 2, stream));
    SAMBA_CUDA_CHECK(cudaMemsetAsync(as<void>(x), 0x3c, static_cast<size_t>(s.K) * 4, stream));
    SAMBA_CUDA_CHECK(cudaMemsetAsync(as<void>(y), 0, static_cast<size_t>(weight_rows) * kLayers * 4, stream));

    std::vector<GemvArgs> layers(kLayers);
    for (int l = 0; l < kLayers; ++l) {
      GemvArgs& a = layers[l];
      a.w = as<__nv_bfloat16>(weights) + matrix_elems * l;
      a.N = s.rows;
      a.K = s.K;
      a.x = as<float>(x);
      a.y = as<float>(y);
      a.mode = s.mode;
    }
    const samba::cuda::GemvChoice choice = samba::cuda::gemv_tune(layers, as<float>(y), stream, true);
    for (GemvArgs& a : layers) a.ksplit = choice.ksplit, a.batch = choice.batch;
    const double seq_ms = graph_ms(stream, [&] {
      for (const GemvArgs& a : layers) samba::cuda::gemv(a, stream);
    });

    // The same bytes in one launch: all 18 matrices as one of 18x the rows (plain store).
    GemvArgs one = layers[0];
    one.N = weight_rows * kLayers;
    one.mode = samba::cuda::kGemvStore;
    std::vector<GemvArgs> single{one};
    const samba::cuda::GemvChoice one_choice = samba::cuda::gemv_tune(single, as<float>(y), stream, true);
    one.ksplit = one_choice.ksplit, one.batch = one_choice.batch;
    const double one_ms = graph_ms(stream, [&] { samba::cuda::gemv(one, stream); });

    // The same launches as persistent chains of up to kGemvChainMaxOps.
    const double chain_ms = graph_ms(stream, [&] {
      samba::cuda::GemvChainArgs chain;
      chain.counter = as<unsigned long long>(counter);
      for (const GemvArgs& a : layers) {
        chain.ops[chain.n_ops] = a;
        chain.ops[chain.n_ops].batch = 4;
        if (++chain.n_ops == samba::cuda::kGemvChainMaxOps) {
          samba::cuda::gemv_chain(chain, stream);
          chain.n_ops = 0;
        }
      }
      if (chain.n_ops > 0) samba::cuda::gemv_chain(chain, stream);
    });

    const double per_launch_us = 1e3 * seq_ms / kLayers;
    const double seq_rate = matrix_bytes * kLayers / (seq_ms * 1e-3) / 1e12;
    const double one_rate = matrix_bytes * kLayers / (one_ms * 1e-3) / 1e12;
    const double boundary_us = 1e3 * (seq_ms - one_ms) / kLayers;
    md << "| " << s.name << " | " << fmt("%.1f", matrix_bytes / 1e6) << " | " << choice.ksplit << ", " << choice.batch
       << " | " << fmt("%.2f", per_launch_us) << " | " << fmt("%.2f", seq_rate) << " | " << fmt("%.2f", one_rate)
       << " | " << fmt("%.2f", boundary_us) << " | " << fmt("%.2f", 1e3 * chain_ms / kLayers) << " | "
       << fmt("%.2f", matrix_bytes * kLayers / (chain_ms * 1e-3) / 1e12) << " |\n";
    std::printf("gemv study: %-22s %6.1f MB  split %d batch %d  %7.2f us/launch  %.2f TB/s in sequence, "
                "%.2f TB/s in one launch, %.2f TB/s chained\n",
                s.name, matrix_bytes / 1e6, choice.ksplit, choice.batch, per_launch_us, seq_rate, one_rate,
                matrix_bytes * kLayers / (chain_ms * 1e-3) / 1e12);
    std::fflush(stdout);
  }
  SAMBA_CUDA_CHECK(cudaStreamDestroy(stream));
  return md.str();
}

}  // namespace samba_bench
#endif
