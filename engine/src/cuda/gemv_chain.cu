// A persistent chain of decode projections: up to kGemvChainMaxOps GEMVs that
// follow one another in a decode step (e.g. proj -> norm+w1|w2+SwiGLU -> w3 ->
// the next layer's norm+in_proj+conv -> x_proj) in ONE launch, separated by
// grid-wide barriers instead of kernel boundaries.
//
// Why: a decode step of Samba_1.3B is ~80 GEMV launches of 2-57 MB each, and
// each boundary costs a ramp-up, a tail where few warps still stream, and the
// next launch's start (samba-bench --gemv-study measures it). Here the grid is
// one wave (every block resident: as many as fit on each SM), so there is no
// ramp-up after the first op; and a warp that has finished its rows of one op
// prefetches into L2 the first weights of its rows of the next before it
// waits at the barrier, so the weight stream keeps going through the tail.
//
// Every row is computed by GemvRowWork (gemv_row.cuh) with the same split and
// batch as the one-projection kernel would use: the chain gives the same bits.
// An op's input (and the residual it accumulates into) was written by other
// SMs earlier in this kernel, so those reads go through L2 only (ld.global.cg):
// an SM's L1 is not kept coherent with the other SMs' writes.
//
// The barrier: one 64-bit counter in device memory that only grows. Each
// block adds 1 at each barrier and waits for the count of the whole grid; at
// the end it adds the barriers the chain did not use, so every chain launch
// adds exactly kGemvChainMaxOps - 1 per block and a launch finds its base by
// rounding the counter down (it reads it after the previous kernel in the
// stream has finished, and before it arrives at its own first barrier).
// Residency: the grid is sized from the occupancy calculator, so it is one
// wave only while nothing else holds SM slots: one chain at a time on the
// device (two backends decoding at once on two streams, or another process
// sharing the GPU, could leave both chains short of blocks). The chain calls
// allow_next_kernel_launch() only once every block runs (the dependent's
// blocks then cannot take a slot one of ours waits for). A barrier that
// waits over two seconds (blocks not co-resident after all) traps, so the
// failure is an error, not a hang.
#include <algorithm>
#include <string>

#include "cuda/cuda_check.h"
#include "cuda/device_traits.h"
#include "cuda/gemv_row.cuh"
#include "cuda/ops.h"
#include "cuda/pdl.cuh"
#include "samba/error.h"

namespace samba::cuda {

namespace {

constexpr int kWarps = 8;  // 256 threads; a row group is kWarps / ksplit rows
constexpr int kMaxBarriers = kGemvChainMaxOps - 1;

__device__ __forceinline__ unsigned long long load_acquire(const unsigned long long* p) {
  unsigned long long v;
  asm volatile("ld.acquire.gpu.global.u64 %0, [%1];" : "=l"(v) : "l"(p) : "memory");
  return v;
}

__device__ __forceinline__ unsigned long long global_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

// Thread 0 of each block arrives and waits for `arrivals` past the launch's
// base count (kept in shared memory: only thread 0 needs it).
__device__ __forceinline__ void grid_barrier(unsigned long long* counter, const unsigned long long* base,
                                             unsigned long long arrivals) {
  __syncthreads();  // the block's writes of this op are done
  if (threadIdx.x == 0) {
    const unsigned long long target = *base + arrivals;
    __threadfence();  // ... and visible to the whole GPU before we arrive
    atomicAdd(counter, 1ull);
    const unsigned long long start = global_ns();
    while (load_acquire(counter) < target) {
      __nanosleep(64);
      if (global_ns() - start > 2000000000ull) __trap();  // 2 s: the grid is not co-resident
    }
    __threadfence();
  }
  __syncthreads();
}

// L2 prefetch of the first batch of the weights this block's warps will read
// first in `op`: per warp and batch step, the 512 contiguous bytes its lanes
// load (fewer where the row ends), as one bulk prefetch marked evict-first
// like the loads that will use them (sm_90; a plain line prefetch before).
template <int KSPLIT, int BATCH, int NR>
__device__ __forceinline__ void prefetch_first_batch(const GemvArgs& op, int warp, int lane) {
  constexpr int kRowsPerGroup = kWarps / KSPLIT;
  const int row = blockIdx.x * kRowsPerGroup + warp / KSPLIT;
  if (row >= op.N || lane != 0) return;
  const int part = warp % KSPLIT;
  constexpr int kStep = KSPLIT * 32 * 8;
  const uint64_t policy = l2_evict_first_policy();
#pragma unroll
  for (int r = 0; r < NR; ++r) {
    const bf16* base = op.w + static_cast<size_t>(r == 0 ? row : row + op.N) * op.K;
#pragma unroll
    for (int b = 0; b < BATCH; ++b) {
      const int k = part * 32 * 8 + b * kStep;  // lane 0's element; the warp's 256 follow
      if (k >= op.K) break;
      const unsigned bytes = static_cast<unsigned>(min(256, op.K - k)) * 2;  // K % 8 == 0: a multiple of 16
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
      asm volatile("cp.async.bulk.prefetch.L2.global.L2::cache_hint [%0], %1, %2;" ::"l"(base + k), "r"(bytes),
                   "l"(policy)
                   : "memory");
#else
      (void)bytes, (void)policy;
      asm volatile("prefetch.global.L2 [%0];" ::"l"(base + k));
#endif
    }
  }
}

// All row groups of one op, grid-stride (all warps of a block loop the same
// number of times, so the __syncthreads inside add_parts is uniform).
template <int KSPLIT, typename TIn, int MODE>
__device__ __forceinline__ void run_op(const GemvArgs& op, float (*partial)[3], int warp, int lane) {
  using Work = GemvRowWork<KSPLIT, 4, TIn, MODE, /*IN_KERNEL_INPUTS=*/true>;
  constexpr int kRowsPerGroup = kWarps / KSPLIT;
  const int part = warp % KSPLIT;
  const int groups = (op.N + kRowsPerGroup - 1) / kRowsPerGroup;
  const TIn* x = static_cast<const TIn*>(op.x);
  for (int g = blockIdx.x; g < groups; g += gridDim.x) {
    const int row = g * kRowsPerGroup + warp / KSPLIT;
    const bool valid = row < op.N;
    Work work;
    work.start(op.w, op.N, op.K, valid ? row : op.N - 1, part, lane);
    work.run(x, op.norm_w, op.K);
    work.add_parts(reinterpret_cast<float(*)[Work::NR + 1]>(partial), warp, part, lane);
    if (part == 0 && lane == 0 && valid) work.epilogue(row, op.K, op.norm_w, op.eps, op.y, op.conv);
    if (KSPLIT > 1) __syncthreads();  // the next group reuses `partial`
  }
}

template <typename TIn, int MODE>
__device__ __forceinline__ void run_op_split(const GemvArgs& op, float (*partial)[3], int warp, int lane) {
  switch (op.ksplit) {
    case 1: run_op<1, TIn, MODE>(op, partial, warp, lane); break;
    case 2: run_op<2, TIn, MODE>(op, partial, warp, lane); break;
    case 4: run_op<4, TIn, MODE>(op, partial, warp, lane); break;
    default: run_op<8, TIn, MODE>(op, partial, warp, lane); break;
  }
}

template <typename TIn>
__device__ __forceinline__ void run_op_mode(const GemvArgs& op, float (*partial)[3], int warp, int lane) {
  switch (op.mode) {
    case kGemvStore: run_op_split<TIn, kGemvStore>(op, partial, warp, lane); break;
    case kGemvAccumulate: run_op_split<TIn, kGemvAccumulate>(op, partial, warp, lane); break;
    case kGemvSwiGLU: run_op_split<TIn, kGemvSwiGLU>(op, partial, warp, lane); break;
    default: run_op_split<TIn, kGemvConv>(op, partial, warp, lane); break;
  }
}

__device__ __forceinline__ void prefetch_op(const GemvArgs& op, int warp, int lane) {
  const bool swiglu = op.mode == kGemvSwiGLU;
  switch (op.ksplit) {
    case 1: swiglu ? prefetch_first_batch<1, 4, 2>(op, warp, lane) : prefetch_first_batch<1, 4, 1>(op, warp, lane); break;
    case 2: swiglu ? prefetch_first_batch<2, 4, 2>(op, warp, lane) : prefetch_first_batch<2, 4, 1>(op, warp, lane); break;
    case 4: swiglu ? prefetch_first_batch<4, 4, 2>(op, warp, lane) : prefetch_first_batch<4, 4, 1>(op, warp, lane); break;
    default: swiglu ? prefetch_first_batch<8, 4, 2>(op, warp, lane) : prefetch_first_batch<8, 4, 1>(op, warp, lane); break;
  }
}

__global__ void __launch_bounds__(kWarps * 32, 3) gemv_chain_kernel(const __grid_constant__ GemvChainArgs chain) {
  __shared__ float partial[kWarps][3];  // NR + 1 <= 3
  __shared__ unsigned long long base;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  prefetch_op(chain.ops[0], warp, lane);  // weights: nothing earlier in the stream writes them
  wait_for_previous_kernel();
  if (threadIdx.x == 0) {
    const unsigned long long period = static_cast<unsigned long long>(kMaxBarriers) * gridDim.x;
    base = load_acquire(chain.counter) / period * period;
  }
  for (int i = 0; i < chain.n_ops; ++i) {
    const GemvArgs& op = chain.ops[i];
    if (op.x_bf16)
      run_op_mode<bf16>(op, partial, warp, lane);
    else
      run_op_mode<float>(op, partial, warp, lane);
    if (i == 0) allow_next_kernel_launch();  // every block of the chain is running by now
    if (i + 1 < chain.n_ops) {
      prefetch_op(chain.ops[i + 1], warp, lane);
      grid_barrier(chain.counter, &base, static_cast<unsigned long long>(i + 1) * gridDim.x);
    }
  }
  if (threadIdx.x == 0) atomicAdd(chain.counter, static_cast<unsigned long long>(kMaxBarriers - (chain.n_ops - 1)));
}

}  // namespace

int gemv_chain_blocks() {
  static const int blocks = [] {
    int per_sm = 0;
    SAMBA_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, gemv_chain_kernel, kWarps * 32, 0));
    return std::max(1, per_sm) * device_traits().sms;
  }();
  return blocks;
}

void gemv_chain(const GemvChainArgs& chain, cudaStream_t stream) {
  if (chain.n_ops < 1 || chain.n_ops > kGemvChainMaxOps || !chain.counter)
    throw Error(ErrorKind::InvalidArgument, "CUDA backend: a GEMV chain needs 1.." +
                                                std::to_string(kGemvChainMaxOps) + " projections and a counter");
  for (int i = 0; i < chain.n_ops; ++i) {
    const GemvArgs& op = chain.ops[i];
    if (op.batch != 0 && op.batch != 4)
      throw Error(ErrorKind::InvalidArgument, "CUDA backend: the GEMV chain loads in batches of 4");
    if (op.ksplit != 1 && op.ksplit != 2 && op.ksplit != 4 && op.ksplit != 8)
      throw Error(ErrorKind::InvalidArgument, "CUDA backend: a GEMV chain op needs its split (1, 2, 4 or 8)");
    if (op.mode == kGemvConv && (op.conv.taps < 2 || op.conv.taps > 8 || op.conv.channels > op.N))
      throw Error(ErrorKind::InvalidModel, "CUDA backend: the fused conv step needs 2..8 taps and channels <= rows");
  }
  launch_with_pdl(gemv_chain_kernel, dim3(static_cast<unsigned>(gemv_chain_blocks())), dim3(kWarps * 32), 0, stream,
                  chain);
}

}  // namespace samba::cuda
