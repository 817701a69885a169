// The decode GEMV as a streaming kernel for sm_90: y = W x for one token,
// with the weights brought in by the Tensor Memory Accelerator (bulk async
// copies) so the stream of W never stops between rows.
//
// Why: Nsight Compute on the first GEMV kernel (gemv.cu) showed it reading W
// at 2.0-2.6 TB/s of the H200's ~4.3: its blocks live for one row and one to
// three round trips to memory, and grids of 1.4-1.6 waves leave the last
// wave's SMs half empty. A first streaming version that copied W with
// per-lane cp.async (16 bytes a lane) reached only 1.6 TB/s. Here:
//   - one block per SM, each with an equal, contiguous share of the rows;
//   - a tile is kWarps rows (one per warp; with SwiGLU also their N + n
//     partners) by a chunk of K (16 KiB in all); one thread asks the TMA for
//     the whole tile (a bulk copy per row segment) kStages tiles ahead, and
//     an mbarrier per stage says when its bytes have landed, so each SM has
//     ~80 KiB of weights in flight without spending registers or
//     instructions on them;
//   - the block takes under half of an SM's shared memory, so the next
//     kernel of the step (launched early, programmatic dependent launch) fits
//     beside it and requests its own first kStages tiles, which do not
//     depend on this kernel, while this one finishes: the weight stream goes
//     on across the kernel boundary. x is read through L1 (every warp of the
//     SM reads the same values).
// Output modes as in gemv.cu; the RMSNorm's sum of squares is taken once per
// block.
#include <algorithm>
#include <mutex>
#include <set>

#include "cuda/cuda_check.h"
#include "cuda/device_traits.h"
#include "cuda/gemv_kernels.h"
#include "cuda/pdl.cuh"
#include "cuda/reduce.cuh"

#include "samba/error.h"

namespace samba::cuda {

namespace {
constexpr int kWarps = 4;           // rows per tile, one per warp
constexpr int kStages = 6;          // tiles in flight per block
constexpr int kTileValues = 8192;   // bf16 values of a tile (16 KiB): kWarps x NR x chunk
constexpr int kBarrierBytes = 128;  // kStages mbarriers at the start of shared memory

// K is cut into `chunks` equal pieces of `chunk` values (a multiple of 8, so
// every row segment is a whole number of 16-byte units, as bulk copies need).
struct Chunking {
  int chunk = 0, chunks = 0;
};
Chunking chunking(int K, int NR) {
  const int max_chunk = kTileValues / (kWarps * NR);
  Chunking c;
  c.chunks = (K + max_chunk - 1) / max_chunk;
  c.chunk = ((K + c.chunks - 1) / c.chunks + 7) / 8 * 8;
  return c;
}

size_t smem_bytes(int K, int NR) {
  const Chunking c = chunking(K, NR);
  return kBarrierBytes + static_cast<size_t>(kStages) * kWarps * NR * c.chunk * sizeof(bf16);
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
__device__ __forceinline__ void load8(const float* x, int k, float (&v)[8]) {
  const float4 a = *reinterpret_cast<const float4*>(x + k);
  const float4 b = *reinterpret_cast<const float4*>(x + k + 4);
  v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
}
__device__ __forceinline__ void load8(const bf16* x, int k, float (&v)[8]) {
  const uint4 raw = *reinterpret_cast<const uint4*>(x + k);
  const bf16* b = reinterpret_cast<const bf16*>(&raw);
#pragma unroll
  for (int e = 0; e < 8; ++e) v[e] = __bfloat162float(b[e]);
}

__device__ __forceinline__ uint32_t smem_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void barrier_init(uint64_t* bar, unsigned count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem_address(bar)), "r"(count) : "memory");
}
__device__ __forceinline__ void barrier_expect_bytes(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_address(bar)), "r"(bytes)
               : "memory");
}
__device__ __forceinline__ bool barrier_try_wait(uint64_t* bar, uint32_t parity) {
  uint32_t done = 0;
  asm volatile(
      "{\n .reg .pred p;\n mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n selp.u32 %0, 1, 0, p;\n}"
      : "=r"(done)
      : "r"(smem_address(bar)), "r"(parity)
      : "memory");
  return done != 0;
}
// Global -> shared bulk copy; its bytes count toward `bar`'s transaction.
__device__ __forceinline__ void bulk_copy(void* dst, const void* src, uint32_t bytes, uint64_t* bar) {
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(
                   smem_address(dst)),
               "l"(src), "r"(bytes), "r"(smem_address(bar))
               : "memory");
}
#endif

template <int NR, typename TIn, int MODE>
__global__ void __launch_bounds__(kWarps * 32) gemv_tma_kernel(const bf16* __restrict__ w, int N, int K,
                                                               const TIn* __restrict__ x,
                                                               const float* __restrict__ norm_w, float eps,
                                                               float* __restrict__ y, int chunk, int chunks) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  extern __shared__ __align__(128) unsigned char smem[];
  uint64_t* bars = reinterpret_cast<uint64_t*>(smem);
  bf16* tiles = reinterpret_cast<bf16*>(smem + kBarrierBytes);  // [stage][warp][NR][chunk]
  __shared__ float scratch[32];
  const size_t tile_elems = static_cast<size_t>(kWarps) * NR * chunk;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;

  // This block's rows: an equal contiguous share, in groups of kWarps.
  const int r0 = static_cast<int>(static_cast<int64_t>(blockIdx.x) * N / gridDim.x);
  const int r1 = static_cast<int>(static_cast<int64_t>(blockIdx.x + 1) * N / gridDim.x);
  const int n_tiles = (r1 - r0 + kWarps - 1) / kWarps * chunks;

  // Tile t: rows r0 + (t / chunks) * kWarps ..., values (t % chunks) * chunk ...
  auto issue = [&](int t) {
    const int stage = t % kStages;
    const int row0 = r0 + (t / chunks) * kWarps, rows = min(kWarps, r1 - row0);
    const int k0 = (t % chunks) * chunk, len = min(chunk, K - k0);
    barrier_expect_bytes(&bars[stage], static_cast<uint32_t>(rows * NR * len * sizeof(bf16)));
    bf16* dst = tiles + stage * tile_elems;
    for (int r = 0; r < rows; ++r)
#pragma unroll
      for (int q = 0; q < NR; ++q)
        bulk_copy(dst + (r * NR + q) * chunk, w + (static_cast<size_t>(row0 + r) + static_cast<size_t>(q) * N) * K + k0,
                  static_cast<uint32_t>(len * sizeof(bf16)), &bars[stage]);
  };
  if (threadIdx.x == 0) {
    for (int s = 0; s < kStages; ++s) barrier_init(&bars[s], 1);
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    for (int t = 0; t < min(kStages, n_tiles); ++t) issue(t);  // weights: nothing earlier in the stream writes them
  }
  wait_for_previous_kernel();  // x (and y, for accumulate) come from earlier kernels
  allow_next_kernel_launch();

  float scale = 1.0f;
  if (norm_w) {
    float sumsq = 0.0f;
    for (int k = threadIdx.x; k < K; k += kWarps * 32) {
      float v;
      if constexpr (sizeof(TIn) == 2)
        v = __bfloat162float(x[k]);
      else
        v = x[k];
      sumsq += v * v;
    }
    scale = rsqrtf(block_sum(sumsq, scratch) / static_cast<float>(K) + eps);
  }
  __syncthreads();  // the initialised barriers are visible to every warp

  float acc[NR];
#pragma unroll
  for (int r = 0; r < NR; ++r) acc[r] = 0.0f;
  for (int t = 0; t < n_tiles; ++t) {
    const int stage = t % kStages;
    // A tile that never lands (a bad address) must fail the launch, not hang it.
    for (unsigned tries = 0; !barrier_try_wait(&bars[stage], static_cast<uint32_t>((t / kStages) & 1));)
      if (++tries == (1u << 26)) __trap();
    const int c = t % chunks;
    const int row = r0 + (t / chunks) * kWarps + warp;
    const int k0 = c * chunk, len = min(chunk, K - k0);
    if (row < r1) {
      const bf16* tw = tiles + stage * tile_elems + static_cast<size_t>(warp) * NR * chunk;
      for (int k = lane * 8; k < len; k += 256) {
        float xv[8];
        load8(x, k0 + k, xv);
        if (norm_w) {
          float nw[8];
          load8(norm_w, k0 + k, nw);
#pragma unroll
          for (int e = 0; e < 8; ++e) xv[e] *= nw[e];
        }
#pragma unroll
        for (int r = 0; r < NR; ++r) {
          const uint4 raw = *reinterpret_cast<const uint4*>(tw + r * chunk + k);
          const bf16* wb = reinterpret_cast<const bf16*>(&raw);
#pragma unroll
          for (int e = 0; e < 8; ++e) acc[r] += __bfloat162float(wb[e]) * xv[e];
        }
      }
    }
    if (c == chunks - 1) {
#pragma unroll
      for (int r = 0; r < NR; ++r) acc[r] = warp_sum(acc[r]);
      if (lane == 0 && row < r1) {
        const float v = acc[0] * scale;
        if (MODE == kGemvStore)
          y[row] = v;
        else if (MODE == kGemvAccumulate)
          y[row] += v;
        else
          y[row] = silu(v) * (acc[NR - 1] * scale);
      }
#pragma unroll
      for (int r = 0; r < NR; ++r) acc[r] = 0.0f;
    }
    __syncthreads();  // every warp is done with this stage: it may be refilled
    if (threadIdx.x == 0 && t + kStages < n_tiles) issue(t + kStages);
  }
#endif
}

// The opt-in above 48 KiB of dynamic shared memory, once per kernel, for
// the largest size any launch asks (one size for all: setting the limit per
// launch size would lower it under an earlier, larger launch).
void allow_shared_memory(const void* kernel) {
  static std::mutex mutex;
  static std::set<const void*> done;
  std::lock_guard<std::mutex> lock(mutex);
  if (!done.insert(kernel).second) return;
  SAMBA_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        static_cast<int>(smem_bytes(kTileValues, 1))));
}

template <typename TIn, int MODE>
void launch_kernel(const GemvArgs& a, const TIn* x, cudaStream_t stream) {
  constexpr int NR = MODE == kGemvSwiGLU ? 2 : 1;
  const auto kernel = gemv_tma_kernel<NR, TIn, MODE>;
  const size_t smem = smem_bytes(a.K, NR);
  const Chunking c = chunking(a.K, NR);
  allow_shared_memory(reinterpret_cast<const void*>(kernel));
  const int blocks = std::min(device_traits().sms, a.N);  // one per SM
  launch_with_pdl(kernel, dim3(static_cast<unsigned>(blocks)), dim3(kWarps * 32), smem, stream, a.w, a.N, a.K, x,
                  a.norm_w, a.eps, a.y, c.chunk, c.chunks);
}

template <typename TIn>
void launch_input(const GemvArgs& a, const TIn* x, cudaStream_t stream) {
  switch (a.mode) {
    case kGemvStore:
      launch_kernel<TIn, kGemvStore>(a, x, stream);
      break;
    case kGemvAccumulate:
      launch_kernel<TIn, kGemvAccumulate>(a, x, stream);
      break;
    default:
      launch_kernel<TIn, kGemvSwiGLU>(a, x, stream);
      break;
  }
}
}  // namespace

size_t gemv_streaming_smem_bytes(int K, bool swiglu) { return smem_bytes(K, swiglu ? 2 : 1); }

bool gemv_streaming_available() { return device_traits().major >= 9; }

void gemv_streaming(const GemvArgs& a, cudaStream_t stream) {
  if (!gemv_streaming_available())
    throw Error(ErrorKind::Device, "CUDA backend: the streaming GEMV needs compute capability 9.0");
  if (a.x_bf16)
    launch_input(a, static_cast<const bf16*>(a.x), stream);
  else
    launch_input(a, static_cast<const float*>(a.x), stream);
}

}  // namespace samba::cuda
