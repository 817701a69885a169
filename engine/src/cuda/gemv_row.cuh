// One row (or one KSPLIT-th of a row) of the decode GEMV, as one warp does it:
// shared by the one-projection kernel (gemv.cu) and the persistent chain of
// projections (gemv_chain.cu), so both compute every row with the same
// operations in the same order and give the same bits.
//
// A warp with part p of KSPLIT reads W in 16-byte loads at k = (p*32 +
// lane)*8, then every KSPLIT*256 elements; BATCH of them are issued before
// any is used (enough bytes in flight to cover the memory latency). With a
// norm, the warp also sums x^2 on the way (it reads all of its part of x)
// and the row sums are scaled by rsqrt(mean(x^2) + eps) at the end.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/ops.h"
#include "cuda/reduce.cuh"
#include "cuda/streaming_load.cuh"

namespace samba::cuda {

__device__ __forceinline__ void gemv_load8(const float* x, int k, float (&v)[8]) {
  const float4 a = *reinterpret_cast<const float4*>(x + k);
  const float4 b = *reinterpret_cast<const float4*>(x + k + 4);
  v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
}
__device__ __forceinline__ void gemv_load8(const bf16* x, int k, float (&v)[8]) {
  const uint4 raw = *reinterpret_cast<const uint4*>(x + k);
  const bf16* b = reinterpret_cast<const bf16*>(&raw);
#pragma unroll
  for (int e = 0; e < 8; ++e) v[e] = __bfloat162float(b[e]);
}
// The same through L2 only (ld.global.cg): for inputs written earlier in the
// same kernel by other SMs, which this SM's L1 may still hold stale copies of.
__device__ __forceinline__ void gemv_load8_l2(const float* x, int k, float (&v)[8]) {
  const float4 a = __ldcg(reinterpret_cast<const float4*>(x + k));
  const float4 b = __ldcg(reinterpret_cast<const float4*>(x + k + 4));
  v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
}
__device__ __forceinline__ void gemv_load8_l2(const bf16* x, int k, float (&v)[8]) {
  const uint4 raw = __ldcg(reinterpret_cast<const uint4*>(x + k));
  const bf16* b = reinterpret_cast<const bf16*>(&raw);
#pragma unroll
  for (int e = 0; e < 8; ++e) v[e] = __bfloat162float(b[e]);
}

// causal_conv1d's decode step for one channel, in the same order of
// operations (so both give the same bits): taps-1 carried inputs, then `in`.
__device__ __forceinline__ void gemv_conv_step(const GemvConv& conv, int c, float in) {
  const int keep = conv.taps - 1;
  float* st = conv.state + static_cast<size_t>(c) * keep;
  const float* wc = conv.w + static_cast<size_t>(c) * conv.taps;
  float acc = conv.b[c] + wc[keep] * in;
  for (int k = 0; k < keep; ++k) acc += wc[k] * st[k];
  for (int k = 0; k + 1 < keep; ++k) st[k] = st[k + 1];
  st[keep - 1] = in;
  const float out = silu(acc);
  conv.out[c] = out;
  if (conv.out_bf16) conv.out_bf16[c] = __float2bfloat16(out);
}

// IN_KERNEL_INPUTS: x (and y, for accumulate) may have been written earlier
// in the same kernel (the persistent chain): read them through L2 only.
template <int KSPLIT, int BATCH, typename TIn, int MODE, bool IN_KERNEL_INPUTS = false>
struct GemvRowWork {
  static constexpr int NR = MODE == kGemvSwiGLU ? 2 : 1;  // SwiGLU: rows n and N + n
  static constexpr int kStep = KSPLIT * 32 * 8;            // elements between one lane's loads

  const bf16* rows[NR];
  float acc[NR];
  float sumsq;
  int k;
  uint4 wv[BATCH][NR];
  uint64_t policy;

  // Points the warp at row n (already clamped to a valid row) and issues its
  // first batch of weight loads (which nothing earlier in the stream writes).
  __device__ __forceinline__ void start(const bf16* w, int N, int K, int n, int part, int lane) {
    rows[0] = w + static_cast<size_t>(n) * K;
    if (NR == 2) rows[NR - 1] = w + static_cast<size_t>(n + N) * K;
#pragma unroll
    for (int r = 0; r < NR; ++r) acc[r] = 0.0f;
    sumsq = 0.0f;
    k = (part * 32 + lane) * 8;
    policy = l2_evict_first_policy();
    load_batch(K);
  }

  __device__ __forceinline__ void load_batch(int K) {
#pragma unroll
    for (int b = 0; b < BATCH; ++b) {
      const int kb = k + b * kStep;
#pragma unroll
      for (int r = 0; r < NR; ++r)
        wv[b][r] = kb < K ? load_streaming(rows[r] + kb, policy) : make_uint4(0, 0, 0, 0);
    }
  }

  __device__ __forceinline__ void consume_batch(const TIn* __restrict__ x, const float* __restrict__ norm_w, int K) {
#pragma unroll
    for (int b = 0; b < BATCH; ++b) {
      const int kb = k + b * kStep;
      if (kb >= K) break;
      float xv[8];
      if (IN_KERNEL_INPUTS)
        gemv_load8_l2(x, kb, xv);
      else
        gemv_load8(x, kb, xv);
      if (norm_w) {
        float nw[8];
        gemv_load8(norm_w, kb, nw);
#pragma unroll
        for (int e = 0; e < 8; ++e) {
          sumsq += xv[e] * xv[e];
          xv[e] *= nw[e];
        }
      }
#pragma unroll
      for (int r = 0; r < NR; ++r) {
        const bf16* wb = reinterpret_cast<const bf16*>(&wv[b][r]);
#pragma unroll
        for (int e = 0; e < 8; ++e) acc[r] += __bfloat162float(wb[e]) * xv[e];
      }
    }
  }

  // The rest of the warp's part of the row, after start(); then the warp's sums.
  __device__ __forceinline__ void run(const TIn* __restrict__ x, const float* __restrict__ norm_w, int K) {
    for (;;) {
      consume_batch(x, norm_w, K);
      k += BATCH * kStep;
      if (k >= K) break;
      load_batch(K);
    }
#pragma unroll
    for (int r = 0; r < NR; ++r) acc[r] = warp_sum(acc[r]);
    if (norm_w) sumsq = warp_sum(sumsq);
  }

  // KSPLIT > 1: the parts of each row are added through shared memory
  // (`partial`: one slot per warp of the block, warps of a row adjacent,
  // part 0 first). Ends with the sums in the row's part-0 warp; every warp of
  // the block must call it.
  __device__ __forceinline__ void add_parts(float (*partial)[NR + 1], int warp, int part, int lane) {
    if (KSPLIT == 1) return;
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

  // Lane 0 of the row's part-0 warp: scale by the norm and write the output.
  __device__ __forceinline__ void epilogue(int row, int K, const float* norm_w, float eps, float* __restrict__ y,
                                           const GemvConv& conv) {
    const float scale = norm_w ? rsqrtf(sumsq / static_cast<float>(K) + eps) : 1.0f;
    const float v = acc[0] * scale;
    if (MODE == kGemvStore)
      y[row] = v;
    else if (MODE == kGemvAccumulate)
      y[row] = (IN_KERNEL_INPUTS ? __ldcg(y + row) : y[row]) + v;
    else if (MODE == kGemvSwiGLU)
      y[row] = silu(v) * (acc[NR - 1] * scale);
    else {
      y[row] = v;
      if (row < conv.channels) gemv_conv_step(conv, row, v);
    }
  }
};

}  // namespace samba::cuda
