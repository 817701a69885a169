// Decode attention: one query per head against the ring buffer of the last
// W keys. The ring is split into blocks of kChunk keys, each handled by its
// own thread block (enough blocks to keep the memory system busy for one
// token); the last block of a head to finish (an atomic ticket) merges the
// partial softmaxes, so the whole step is one launch:
//   M = max m_s, L = sum l_s e^(m_s - M), O = sum o_s e^(m_s - M) / L,
//   entropy = M + ln L - (sum S_s e^(m_s - M)) / L,
// with S_s = sum_j e^(s_j - m_s) s_j for the entropy. The position comes from
// device memory, so the step can live in a CUDA graph: blocks past the filled
// part of the ring only report an empty result.
//
// With `qkv` set, RoPE is fused in: every block rotates its head's q into
// shared memory, and the block whose keys include the ring slot of the new
// token rotates that key and writes it and the value into the ring before
// it reads its keys (no other block reads that slot). One launch fewer per
// SWA layer and token; the same bf16 values as rope_split_qkv + this kernel.
//
// Templated on the activation type of q, the rings and the output: bf16
// (fast mode, __expf) or fp32 (exact mode, expf); each lane handles 8
// dimensions of a key either way (one 16-byte load of bf16, two of fp32).
#include <string>
#include <type_traits>

#include "cuda/activation.cuh"
#include "cuda/cuda_check.h"
#include "cuda/head_size_dispatch.h"
#include "cuda/ops.h"
#include "cuda/pdl.cuh"
#include "cuda/reduce.cuh"
#include "cuda/rope_angle.cuh"

#include "samba/error.h"

namespace samba::cuda {

namespace {
// 64 keys per block: W = 2048 gives 32 blocks per head, and each thread
// issues all of its key (then value) loads before using any of them.
constexpr int kChunk = 64;
constexpr int kThreads = 128;
constexpr int kMaxSplits = kThreads;  // the merge gives one thread to each split

int n_splits(int window) { return (window + kChunk - 1) / kChunk; }

// 8 consecutive values as loaded (registers), then widened to fp32.
template <class Act>
struct Raw8;
template <>
struct Raw8<bf16> {
  uint4 v;
};
template <>
struct Raw8<float> {
  float4 lo, hi;
};

__device__ __forceinline__ Raw8<bf16> load8(const bf16* p) { return {*reinterpret_cast<const uint4*>(p)}; }
__device__ __forceinline__ Raw8<float> load8(const float* p) {
  const float4* q = reinterpret_cast<const float4*>(p);
  return {q[0], q[1]};
}
template <class Act>
__device__ __forceinline__ Raw8<Act> zero8() {
  Raw8<Act> r;
  if constexpr (sizeof(Act) == 2) {
    r.v = make_uint4(0, 0, 0, 0);
  } else {
    r.lo = make_float4(0, 0, 0, 0);
    r.hi = r.lo;
  }
  return r;
}
__device__ __forceinline__ void widen8(const Raw8<bf16>& r, float (&out)[8]) {
  const bf16* b = reinterpret_cast<const bf16*>(&r.v);
#pragma unroll
  for (int e = 0; e < 8; ++e) out[e] = __bfloat162float(b[e]);
}
__device__ __forceinline__ void widen8(const Raw8<float>& r, float (&out)[8]) {
  out[0] = r.lo.x, out[1] = r.lo.y, out[2] = r.lo.z, out[3] = r.lo.w;
  out[4] = r.hi.x, out[5] = r.hi.y, out[6] = r.hi.z, out[7] = r.hi.w;
}

// Workspace: o [H][splits][HS], then stats [H][splits][3] = m, l, S, then
// one ticket counter per head (zero between launches: the merging block resets it).
template <int HS, class Act>
__global__ void __launch_bounds__(kThreads) decode_attention_kernel(const DecodeAttentionArgsT<Act> a, float scale) {
  wait_for_previous_kernel();  // launched early (PDL): q and the ring come from RoPE
  allow_next_kernel_launch();  // the proj GEMV may start streaming its weights
  constexpr int LPK = HS / 8;   // lanes per key: 8 dims (16 bytes) each
  constexpr int KPW = 32 / LPK; // keys per warp pass
  constexpr int VG = HS / 8;    // 8-dim groups of V
  constexpr int KSTRIDE = kThreads / VG;
  constexpr int KPASSES = (kChunk + (kThreads / 32) * KPW - 1) / ((kThreads / 32) * KPW);
  constexpr int VPASSES = (kChunk + KSTRIDE - 1) / KSTRIDE;
  __shared__ float probs[kChunk];
  __shared__ float scratch[32];
  __shared__ float reduce_buf[KSTRIDE * HS];
  __shared__ bool last;
  __shared__ float q_rotated[HS];  // fused RoPE: this head's q
  // RoPE for the new token (fused form): q of head h into q_rotated, and,
  // in the block whose keys j0 .. j0+n-1 hold the ring slot pos % W, the
  // rotated key and the value of group g into that slot. Rounded through
  // Act as rope_split_qkv stores them. Ends with a barrier, so the block's
  // own key and value loads see the slot.
  const auto rotate_new_token = [&](int h, int g, int64_t pos, int j0, int n) {
    constexpr int half = HS / 2;
    const int H = a.n_head, G = a.n_kv_head;
    const int slot = static_cast<int>(pos % a.window);
    const bool owner = slot >= j0 && slot < j0 + n;
    const size_t ring = static_cast<size_t>(slot) * G * HS + static_cast<size_t>(g) * HS;
    for (int j = threadIdx.x; j < half; j += kThreads) {
      float sf, cf;
      rope_sincos(pos, a.inv_freq[j], &sf, &cf);
      const float* qs = a.qkv + static_cast<size_t>(h) * HS;
      float o1, o2;
      rope_rotate(qs[j], qs[j + half], sf, cf, &o1, &o2);
      q_rotated[j] = to_float(from_float<Act>(o1));
      q_rotated[j + half] = to_float(from_float<Act>(o2));
      if (owner) {
        const float* ks = a.qkv + static_cast<size_t>(H + g) * HS;
        const float* vs = a.qkv + static_cast<size_t>(H + G + g) * HS;
        rope_rotate(ks[j], ks[j + half], sf, cf, &o1, &o2);
        a.k_ring[ring + j] = from_float<Act>(o1);
        a.k_ring[ring + j + half] = from_float<Act>(o2);
        a.v_ring[ring + j] = from_float<Act>(vs[j]);
        a.v_ring[ring + j + half] = from_float<Act>(vs[j + half]);
      }
    }
    __syncthreads();
  };

  const int H = a.n_head, G = a.n_kv_head, W = a.window;
  const int h = blockIdx.x, split = blockIdx.y, splits = gridDim.y;
  const int g = h / (H / G);
  const int64_t pos = *a.pos;
  const int n_valid = static_cast<int>(pos + 1 < W ? pos + 1 : W);  // ring slots 0..n_valid-1 are filled
  const int j0 = split * kChunk;
  const int n = min(kChunk, n_valid - j0);
  float* all_stats = a.partial + static_cast<size_t>(H) * splits * HS;
  unsigned* counters = reinterpret_cast<unsigned*>(all_stats + static_cast<size_t>(H) * splits * 3);
  float* o_out = a.partial + (static_cast<size_t>(h) * splits + split) * HS;
  float* stats = all_stats + (static_cast<size_t>(h) * splits + split) * 3;
  const int ld_kv = G * HS;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;

  if (n > 0) {  // block-uniform
    // Scores: LPK lanes per key, one 16-byte load each.
    const int sub = lane % LPK, key_in_warp = lane / LPK;
    float q[8];
    // Fused RoPE is a fast-mode (bf16) form only; leaving it out of the fp32
    // instance keeps that one free of register spills.
    if (std::is_same_v<Act, bf16> && a.qkv) {
      rotate_new_token(h, g, pos, j0, n);
#pragma unroll
      for (int e = 0; e < 8; ++e) q[e] = q_rotated[sub * 8 + e];
    } else {
      widen8(load8(a.q + h * HS + sub * 8), q);
    }
    Raw8<Act> k_raw[KPASSES];
#pragma unroll
    for (int p = 0; p < KPASSES; ++p) {
      const int jj = p * (kThreads / 32) * KPW + warp * KPW + key_in_warp;
      k_raw[p] = jj < n ? load8(a.k_ring + static_cast<size_t>(j0 + jj) * ld_kv + g * HS + sub * 8) : zero8<Act>();
    }
    // V does not depend on the scores: in bf16 its loads go out together
    // with the keys', so the block waits for memory once instead of twice
    // (fp32 would need twice the registers; it loads V after the softmax).
    const int vg = threadIdx.x % VG, ko = threadIdx.x / VG;
    Raw8<Act> v_raw[VPASSES];
    auto load_values = [&] {
#pragma unroll
      for (int p = 0; p < VPASSES; ++p) {
        const int jj = ko + p * KSTRIDE;
        v_raw[p] = jj < n ? load8(a.v_ring + static_cast<size_t>(j0 + jj) * ld_kv + g * HS + vg * 8) : zero8<Act>();
      }
    };
    if constexpr (sizeof(Act) == 2) load_values();
#pragma unroll
    for (int p = 0; p < KPASSES; ++p) {
      const int jj = p * (kThreads / 32) * KPW + warp * KPW + key_in_warp;
      float kf[8];
      widen8(k_raw[p], kf);
      float dot = 0.0f;
#pragma unroll
      for (int e = 0; e < 8; ++e) dot += q[e] * kf[e];
#pragma unroll
      for (int offset = LPK / 2; offset > 0; offset >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, offset);
      if (jj < n && sub == 0) probs[jj] = dot * scale;
    }
    __syncthreads();

    const float sv = threadIdx.x < n ? probs[threadIdx.x] : -INFINITY;
    const float m = block_max(sv, scratch);
    const float p = threadIdx.x < n ? act_exp<Act>(sv - m) : 0.0f;
    const float l = block_sum(p, scratch);
    const float s_sum = block_sum(threadIdx.x < n ? p * sv : 0.0f, scratch);
    if (threadIdx.x < n) probs[threadIdx.x] = p;
    __syncthreads();

    // O = sum p_j v_j: each thread one 8-dim group over a stride of keys.
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    if constexpr (sizeof(Act) != 2) load_values();
#pragma unroll
    for (int p = 0; p < VPASSES; ++p) {
      const int jj = ko + p * KSTRIDE;
      const float pj = jj < n ? probs[jj] : 0.0f;
      float vf[8];
      widen8(v_raw[p], vf);
#pragma unroll
      for (int e = 0; e < 8; ++e) acc[e] += pj * vf[e];
    }
#pragma unroll
    for (int e = 0; e < 8; ++e) reduce_buf[ko * HS + vg * 8 + e] = acc[e];
    __syncthreads();
    for (int d = threadIdx.x; d < HS; d += kThreads) {
      float sum = 0.0f;
      for (int k = 0; k < KSTRIDE; ++k) sum += reduce_buf[k * HS + d];
      o_out[d] = sum;
    }
    if (threadIdx.x == 0) {
      stats[0] = m;
      stats[1] = l;
      stats[2] = s_sum;
    }
  } else if (threadIdx.x == 0) {
    stats[0] = -INFINITY;
    stats[1] = 0.0f;
    stats[2] = 0.0f;
  }

  // Publish, take a ticket; the head's last block merges.
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) last = atomicAdd(&counters[h], 1u) == static_cast<unsigned>(splits - 1);
  __syncthreads();
  if (!last) return;
  __threadfence();
  // Merge: the splits' stats into shared memory once (one load per thread,
  // in parallel), then each output dimension sums its splits with those weights.
  __shared__ float weight[kMaxSplits];
  const float* st = all_stats + static_cast<size_t>(h) * splits * 3;
  const float* o_in = a.partial + static_cast<size_t>(h) * splits * HS;
  const float ms = threadIdx.x < splits ? __ldcg(st + threadIdx.x * 3) : -INFINITY;
  const float ls = threadIdx.x < splits ? __ldcg(st + threadIdx.x * 3 + 1) : 0.0f;
  const float ss = threadIdx.x < splits ? __ldcg(st + threadIdx.x * 3 + 2) : 0.0f;
  const float M = block_max(ls > 0.0f ? ms : -INFINITY, scratch);
  const float wgt = ls > 0.0f ? act_exp<Act>(ms - M) : 0.0f;
  const float L = block_sum(ls * wgt, scratch);
  const float S = block_sum(ss * wgt, scratch);
  if (threadIdx.x < splits) weight[threadIdx.x] = wgt;
  __syncthreads();
  const float inv = 1.0f / L;
  for (int d = threadIdx.x; d < HS; d += kThreads) {
    float acc = 0.0f;
#pragma unroll 8
    for (int s2 = 0; s2 < splits; ++s2) {
      const float ws = weight[s2];
      if (ws > 0.0f) acc += __ldcg(o_in + static_cast<size_t>(s2) * HS + d) * ws;
    }
    a.out[h * HS + d] = from_float<Act>(acc * inv);
  }
  if (threadIdx.x == 0) {
    if (a.entropy) a.entropy[h] = M + logf(L) - S * inv;
    counters[h] = 0;  // ready for the next step
  }
}

template <int HS, class Act>
void launch(const DecodeAttentionArgsT<Act>& a, cudaStream_t stream) {
  if (n_splits(a.window) > kMaxSplits)
    throw Error(ErrorKind::InvalidModel, "CUDA backend: sliding_window above " +
                                             std::to_string(kMaxSplits * kChunk) + " is not supported");
  const float scale = 1.0f / sqrtf(static_cast<float>(HS));
  launch_with_pdl(decode_attention_kernel<HS, Act>, dim3(a.n_head, n_splits(a.window)), dim3(kThreads), 0, stream, a,
                  scale);
}

template <class Act>
void dispatch(const DecodeAttentionArgsT<Act>& a, cudaStream_t stream) {
  with_head_size(a.head_size, [&](auto hs) { launch<decltype(hs)::value>(a, stream); });
}
}  // namespace

int decode_attention_max_window() { return kMaxSplits * kChunk; }

size_t decode_attention_workspace_floats(int n_head, int head_size, int window) {
  // partial outputs, stats, and n_head ticket counters (4 bytes each)
  return static_cast<size_t>(n_head) * n_splits(window) * (head_size + 3) + n_head;
}

void swa_attention_decode(const DecodeAttentionArgsT<bf16>& a, cudaStream_t stream) { dispatch(a, stream); }

void swa_attention_decode(const DecodeAttentionArgsT<float>& a, cudaStream_t stream) {
  if (a.qkv) throw Error(ErrorKind::InvalidModel, "CUDA backend: fused RoPE in the decode attention is bf16 only");
  dispatch(a, stream);
}

}  // namespace samba::cuda
