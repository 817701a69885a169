// Decode projections (one token): y = W x with W bf16 [N][K], x fp32 or
// bf16, fp32 accumulation. One token's GEMMs are matrix-vector products that
// only stream W from memory, so this kernel is built for that:
//   - each lane reads W in 16-byte loads, a batch of BATCH (4 or 8) of them
//     issued before any is used, so enough bytes are in flight to cover the
//     memory latency even when few warps share an SM (8 holds twice the
//     registers, so fewer warps fit: which is faster depends on the shape);
//   - KSPLIT warps share a row when the matrix has few rows (w3, out_proj,
//     x_proj...): one warp per row would leave most SMs short of loads; the
//     split is chosen from the row count and the number of SMs;
//   - the weights are read evict-first (streaming_load.cuh), so they do not
//     push out of L2 what the step reads again;
//   - programmatic dependent launch (sm_90): the kernel may be launched
//     while the previous kernel of the stream is still finishing. It reads
//     its first batch of weights (which nothing in the stream writes) and
//     only then waits for the previous kernel's results, so the launch gap
//     and the previous kernel's tail overlap with weight streaming. It also
//     lets the next kernel launch as soon as all of its own blocks run.
// Fused around it, so a decode step needs fewer launches:
//   - RMSNorm of the input: the dot product uses x * w_norm and each warp sums
//     x^2 on the way (it reads all of x anyway); the row sums are scaled by
//     rsqrt(mean(x^2) + eps) at the end. The input stays fp32, so decode is at
//     least as precise as the prefill GEMMs on bf16 activations.
//   - output: store, accumulate into the residual stream, SwiGLU (rows n
//     and N + n of the fused w1|w2 matrix give silu(gate) * up), or store
//     and run the conv step of the row's channel (in_proj of a Mamba layer).
#include <cstdlib>

#include "cuda/cuda_check.h"
#include "cuda/device_traits.h"
#include "cuda/ops.h"
#include "cuda/gemv_row.cuh"
#include "cuda/pdl.cuh"
#include "samba/error.h"

namespace samba::cuda {

namespace {

// WARPS warps per block, KSPLIT of them per row (each takes every KSPLIT-th
// 256-element step of K; shared memory adds the parts up). For SwiGLU a warp
// also does row N + n. The row's work is GemvRowWork (gemv_row.cuh).
template <int WARPS, int KSPLIT, int BATCH, typename TIn, int MODE>
__global__ void __launch_bounds__(WARPS * 32) gemv_kernel(const bf16* __restrict__ w, int N, int K,
                                                          const TIn* __restrict__ x,
                                                          const float* __restrict__ norm_w, float eps,
                                                          float* __restrict__ y, const GemvConv conv) {
  using Work = GemvRowWork<KSPLIT, BATCH, TIn, MODE>;
  constexpr int kRowsPerBlock = WARPS / KSPLIT;
  __shared__ float partial[WARPS][Work::NR + 1];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int row = blockIdx.x * kRowsPerBlock + warp / KSPLIT;
  const int part = warp % KSPLIT;
  const bool valid = row < N;
  Work work;
  work.start(w, N, K, valid ? row : N - 1, part, lane);  // first weights: nothing earlier writes them
  wait_for_previous_kernel();  // x (and y, for accumulate) come from earlier kernels
  allow_next_kernel_launch();
  work.run(x, norm_w, K);
  work.add_parts(partial, warp, part, lane);
  if (part != 0 || lane != 0 || !valid) return;
  work.epilogue(row, K, norm_w, eps, y, conv);
}

// Warps per row: enough rows x parts to give every SM ~24 warps (about 48 KiB
// of weight loads in flight with a batch of 4), while each part keeps at least
// two batches of K. SAMBA_CUDA_GEMV_KSPLIT=1|2|4|8 forces a value (benchmarks).
int choose_ksplit(int rows, int K) {
  if (const char* env = std::getenv("SAMBA_CUDA_GEMV_KSPLIT")) {
    const int forced = std::atoi(env);
    if (forced == 1 || forced == 2 || forced == 4 || forced == 8) return forced;
  }
  const int target_warps = device_traits().sms * 24;
  int ks = 1;
  while (ks < 8 && rows * ks < target_warps && K >= ks * 2 * 32 * 8 * 2) ks *= 2;
  return ks;
}

template <int WARPS, int KSPLIT, int BATCH, typename TIn, int MODE>
void launch_kernel(const GemvArgs& a, const TIn* x, cudaStream_t stream) {
  constexpr int rows_per_block = WARPS / KSPLIT;
  launch_with_pdl(gemv_kernel<WARPS, KSPLIT, BATCH, TIn, MODE>,
                  dim3(static_cast<unsigned>((a.N + rows_per_block - 1) / rows_per_block)), dim3(WARPS * 32), 0, stream,
                  a.w, a.N, a.K, x, a.norm_w, a.eps, a.y, a.conv);
}

template <int WARPS, int KSPLIT, int BATCH, typename TIn>
void launch_mode(const GemvArgs& a, const TIn* x, cudaStream_t stream) {
  switch (a.mode) {
    case kGemvStore:
      launch_kernel<WARPS, KSPLIT, BATCH, TIn, kGemvStore>(a, x, stream);
      break;
    case kGemvAccumulate:
      launch_kernel<WARPS, KSPLIT, BATCH, TIn, kGemvAccumulate>(a, x, stream);
      break;
    case kGemvConv:
      launch_kernel<WARPS, KSPLIT, BATCH, TIn, kGemvConv>(a, x, stream);
      break;
    default:
      launch_kernel<WARPS, KSPLIT, BATCH, TIn, kGemvSwiGLU>(a, x, stream);
      break;
  }
}

template <int BATCH, typename TIn>
void launch_split(const GemvArgs& a, const TIn* x, cudaStream_t stream) {
  switch (a.ksplit > 0 ? a.ksplit : choose_ksplit(a.N, a.K)) {
    case 1:
      launch_mode<4, 1, BATCH, TIn>(a, x, stream);
      break;
    case 2:
      launch_mode<4, 2, BATCH, TIn>(a, x, stream);
      break;
    case 4:
      launch_mode<4, 4, BATCH, TIn>(a, x, stream);
      break;
    default:
      launch_mode<8, 8, BATCH, TIn>(a, x, stream);
      break;
  }
}

template <typename TIn>
void launch_input(const GemvArgs& a, const TIn* x, cudaStream_t stream) {
  if (a.batch == 8)
    launch_split<8, TIn>(a, x, stream);
  else
    launch_split<4, TIn>(a, x, stream);
}
}  // namespace

bool gemv_supports(int K) { return K % 8 == 0; }

GemvChoice gemv_tune(std::vector<GemvArgs> instances, float* scratch_y, cudaStream_t stream, bool try_batch8) {
  if (instances.empty()) return {};
  if (std::getenv("SAMBA_CUDA_GEMV_KSPLIT")) return {choose_ksplit(instances[0].N, instances[0].K), 4};
  for (GemvArgs& a : instances) a.y = scratch_y;
  cudaEvent_t start = nullptr, stop = nullptr;
  SAMBA_CUDA_CHECK(cudaEventCreate(&start));
  SAMBA_CUDA_CHECK(cudaEventCreate(&stop));
  GemvChoice best;
  float best_ms = 0.0f;
  try {
    for (int batch : {4, 8}) {
      if (batch == 8 && !try_batch8) break;
      for (int ks = 1; ks <= 8; ks *= 2) {
        // Each part of a row must keep at least half a batch of loads.
        if (ks > 1 && instances[0].K < ks * 32 * 8 * batch / 2) break;
        for (GemvArgs& a : instances) a.ksplit = ks, a.batch = batch;
        float fastest = 0.0f;
        for (int pass = 0; pass < 4; ++pass) {  // pass 0 warms up (module load, instruction cache)
          SAMBA_CUDA_CHECK(cudaEventRecord(start, stream));
          for (const GemvArgs& a : instances) gemv(a, stream);
          SAMBA_CUDA_CHECK(cudaEventRecord(stop, stream));
          SAMBA_CUDA_CHECK(cudaEventSynchronize(stop));
          float ms = 0.0f;
          SAMBA_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
          if (pass > 0 && (fastest == 0.0f || ms < fastest)) fastest = ms;
        }
        if (best.ksplit == 0 || fastest < best_ms) best = {ks, batch}, best_ms = fastest;
      }
    }
  } catch (...) {
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    throw;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return best;
}

void gemv(const GemvArgs& a, cudaStream_t stream) {
  if (a.mode == kGemvConv && (a.conv.taps < 2 || a.conv.taps > 8 || a.conv.channels > a.N))
    throw Error(ErrorKind::InvalidModel, "CUDA backend: the fused conv step needs 2..8 taps and channels <= rows");
  if (a.x_bf16)
    launch_input(a, static_cast<const bf16*>(a.x), stream);
  else
    launch_input(a, static_cast<const float*>(a.x), stream);
}

}  // namespace samba::cuda
