// Decode projections (one token): y = W x with W bf16 [N][K], x fp32 or
// bf16, fp32 accumulation. One token's GEMMs are matrix-vector products that
// only stream W from memory, so this kernel is built for that: a warp owns a
// row, its lanes walk K in 16-byte weight loads (four steps unrolled, so
// several loads are in flight per lane) and a shuffle sums the row; blocks
// are small (4 warps) so there are many of them and the last wave is short. Fused around it, so a decode step
// needs fewer launches (each costs microseconds in a graph of ~150):
//   - RMSNorm of the input: the dot product uses x * w_norm and each warp sums
//     x^2 on the way (it reads all of x anyway); the row sums are scaled by
//     rsqrt(mean(x^2) + eps) at the end. The input stays fp32, so decode is at
//     least as precise as the prefill GEMMs on bf16 activations.
//   - output: store, accumulate into the residual stream, or SwiGLU (rows n
//     and N + n of the fused w1|w2 matrix give silu(gate) * up).
#include "cuda/cuda_check.h"
#include "cuda/ops.h"
#include "cuda/reduce.cuh"

namespace samba::cuda {

namespace {
constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;

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

// KSPLIT warps share one row (each takes every KSPLIT-th 256-element step of
// K; shared memory adds them up), so a small matrix still spreads over many
// warps; large matrices use one warp per row and many small blocks, so the
// last wave of blocks is short. For SwiGLU a warp also does row N + n.
template <int KSPLIT, typename TIn, int MODE>
__global__ void __launch_bounds__(kThreads) gemv_kernel(const bf16* __restrict__ w, int N, int K,
                                                        const TIn* __restrict__ x, const float* __restrict__ norm_w,
                                                        float eps, float* __restrict__ y) {
  constexpr int NR = MODE == kGemvSwiGLU ? 2 : 1;
  constexpr int kRowsPerBlock = kWarps / KSPLIT;
  __shared__ float partial[kWarps][NR + 1];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int row = blockIdx.x * kRowsPerBlock + warp / KSPLIT;
  const int part = warp % KSPLIT;
  const bool valid = row < N;
  const int n = valid ? row : N - 1;
  const bf16* rows[NR];
  rows[0] = w + static_cast<size_t>(n) * K;
  if (NR == 2) rows[NR - 1] = w + static_cast<size_t>(n + N) * K;
  float acc[NR];
#pragma unroll
  for (int r = 0; r < NR; ++r) acc[r] = 0.0f;
  float sumsq = 0.0f;
#pragma unroll 4
  for (int k = (part * 32 + lane) * 8; k < K; k += KSPLIT * 32 * 8) {
    uint4 wv[NR];
#pragma unroll
    for (int r = 0; r < NR; ++r) wv[r] = __ldg(reinterpret_cast<const uint4*>(rows[r] + k));
    float xv[8];
    load8(x, k, xv);
    if (norm_w) {
      float nw[8];
      load8(norm_w, k, nw);
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        sumsq += xv[e] * xv[e];
        xv[e] *= nw[e];
      }
    }
#pragma unroll
    for (int r = 0; r < NR; ++r) {
      const bf16* wb = reinterpret_cast<const bf16*>(&wv[r]);
#pragma unroll
      for (int e = 0; e < 8; ++e) acc[r] += __bfloat162float(wb[e]) * xv[e];
    }
  }
#pragma unroll
  for (int r = 0; r < NR; ++r) acc[r] = warp_sum(acc[r]);
  if (norm_w) sumsq = warp_sum(sumsq);
  if (KSPLIT > 1) {
    if (lane == 0) {
#pragma unroll
      for (int r = 0; r < NR; ++r) partial[warp][r] = acc[r];
      partial[warp][NR] = sumsq;
    }
    __syncthreads();
    if (part != 0) return;
#pragma unroll
    for (int r = 0; r < NR; ++r) {
      acc[r] = 0.0f;
      for (int i = 0; i < KSPLIT; ++i) acc[r] += partial[warp + i][r];
    }
    sumsq = 0.0f;
    for (int i = 0; i < KSPLIT; ++i) sumsq += partial[warp + i][NR];
  }
  if (lane != 0 || !valid) return;
  const float scale = norm_w ? rsqrtf(sumsq / static_cast<float>(K) + eps) : 1.0f;
  const float v = acc[0] * scale;
  if (MODE == kGemvStore)
    y[row] = v;
  else if (MODE == kGemvAccumulate)
    y[row] += v;
  else
    y[row] = silu(v) * (acc[NR - 1] * scale);
}

template <int KSPLIT, typename TIn>
void launch_split(const GemvArgs& a, const TIn* x, cudaStream_t stream) {
  constexpr int rows_per_block = kWarps / KSPLIT;
  const unsigned blocks = static_cast<unsigned>((a.N + rows_per_block - 1) / rows_per_block);
  switch (a.mode) {
    case kGemvStore:
      gemv_kernel<KSPLIT, TIn, kGemvStore><<<blocks, kThreads, 0, stream>>>(a.w, a.N, a.K, x, a.norm_w, a.eps, a.y);
      break;
    case kGemvAccumulate:
      gemv_kernel<KSPLIT, TIn, kGemvAccumulate><<<blocks, kThreads, 0, stream>>>(a.w, a.N, a.K, x, a.norm_w, a.eps,
                                                                                 a.y);
      break;
    default:
      gemv_kernel<KSPLIT, TIn, kGemvSwiGLU><<<blocks, kThreads, 0, stream>>>(a.w, a.N, a.K, x, a.norm_w, a.eps, a.y);
      break;
  }
  SAMBA_CUDA_CHECK_LAUNCH();
}

template <typename TIn>
void launch_input(const GemvArgs& a, const TIn* x, cudaStream_t stream) {
  // Small matrices (x_proj: a few hundred rows) would leave most of the GPU
  // idle with one warp per row.
  if (a.N < 1024)
    launch_split<4, TIn>(a, x, stream);
  else
    launch_split<1, TIn>(a, x, stream);
}
}  // namespace

bool gemv_supports(int K) { return K % 8 == 0; }

void gemv(const GemvArgs& a, cudaStream_t stream) {
  if (a.x_bf16)
    launch_input(a, static_cast<const bf16*>(a.x), stream);
  else
    launch_input(a, static_cast<const float*>(a.x), stream);
}

}  // namespace samba::cuda
