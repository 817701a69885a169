// Sliding-window flash attention for a prefill chunk in fp32 on CUDA cores:
// the exact mode (Precision::exact), where q, k, v, the probabilities P and
// the output stay fp32 so the attention entropy matches an fp32 CPU to
// rounding (the bf16 tensor-core kernel rounds P and V to bf16, which is
// what moves entropy by up to ~2e-2 nats).
//
// A block takes kBQ = 32 consecutive queries of one head and walks the keys
// in tiles of kBK = 32, only over the band its queries can see
// [first query - W + 1, last query] (tiles outside it are never loaded). Per
// tile, with 128 threads: thread (rg, kg), rg = tid / 8, kg = tid % 8, owns
// query rows rg and rg + 16 and keys kg + 8u (u < 4), i.e. a 2 x 4 block of
// scores, each a dot product over the head read as float4 from shared memory.
//   S = Q K^T * scale, masked to each row's window;
//   online softmax per row (the 8 threads of a row reduce with shuffles):
//   running max m, l = sum e^(s-m), and for the entropy S_sum = sum e^(s-m) s,
//   rescaled with l when m changes — one extra multiply-add per score;
//   P goes to shared memory, V replaces K in the tile buffer, and
//   O = O * alpha + P V with each thread holding its two rows' share of the
//   head dimensions (kg * VEC + 8 * VEC * v).
// End: O / l, H = m + ln l - S_sum / l. exp is expf throughout.
//
// Shared memory (floats): Q 32 x (HS+4), one K/V tile 32 x (HS+4), P 32 x 36:
// 38.4 KB at HS = 128, under the 48 KB static limit. Row padding of 4 floats
// keeps rows 16-byte aligned, and the 8 keys a quarter-warp reads with one
// float4 load each fall into 8 distinct 4-bank groups (HS + 4 = 4 mod 32 for
// HS >= 32; 20 for HS = 16, also distinct), so the reads are conflict-free.
#include "cuda/cuda_check.h"
#include "cuda/head_size_dispatch.h"
#include "cuda/ops.h"
#include "samba/error.h"

namespace samba::cuda {

namespace {
constexpr int kBQ = 32;  // queries per block
constexpr int kBK = 32;  // keys per tile
constexpr int kThreads = 128;
constexpr int kLDP = kBK + 4;  // padded P row

// VEC consecutive floats of shared or global memory (VEC = 2 or 4).
template <int VEC>
struct Vec;
template <>
struct Vec<2> {
  float2 v;
  __device__ __forceinline__ void load(const float* p) { v = *reinterpret_cast<const float2*>(p); }
  __device__ __forceinline__ float operator[](int i) const { return i == 0 ? v.x : v.y; }
  __device__ __forceinline__ static void store(float* p, const float* x) {
    *reinterpret_cast<float2*>(p) = make_float2(x[0], x[1]);
  }
};
template <>
struct Vec<4> {
  float4 v;
  __device__ __forceinline__ void load(const float* p) { v = *reinterpret_cast<const float4*>(p); }
  __device__ __forceinline__ float operator[](int i) const { return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w; }
  __device__ __forceinline__ static void store(float* p, const float* x) {
    *reinterpret_cast<float4*>(p) = make_float4(x[0], x[1], x[2], x[3]);
  }
};

// rows [0, kBK) of a K or V tile starting at key row j0 into `tile` (zeros
// past j_end, so masked products stay finite).
template <int HS>
__device__ __forceinline__ void load_tile(const float* __restrict__ src, int ld, int col0, int j0, int j_end,
                                          float* tile) {
  constexpr int LD = HS + 4;
  for (int idx = threadIdx.x; idx < kBK * (HS / 4); idx += kThreads) {
    const int r = idx / (HS / 4), c4 = (idx % (HS / 4)) * 4;
    const int j = j0 + r;
    float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (j < j_end) v = *reinterpret_cast<const float4*>(src + static_cast<size_t>(j) * ld + col0 + c4);
    *reinterpret_cast<float4*>(&tile[r * LD + c4]) = v;
  }
}

template <int HS, bool ENTROPY>
__global__ void __launch_bounds__(kThreads, 2) flash_swa_f32_kernel(const PrefillAttentionArgsT<float> a, float scale) {
  constexpr int LD = HS + 4;
  constexpr int VEC = HS >= 32 ? 4 : 2;  // output dimensions per vector access
  constexpr int NV = HS / (8 * VEC);     // vectors per row per thread
  __shared__ __align__(16) float q_tile[kBQ * LD];
  __shared__ __align__(16) float kv_tile[kBK * LD];
  __shared__ __align__(16) float p_tile[kBQ * kLDP];

  const int H = a.n_head, G = a.n_kv_head, T = a.T;
  const int h = blockIdx.y;
  const int g = h / (H / G);
  const int q_first = blockIdx.x * kBQ;
  const int ld_q = H * HS, ld_kv = G * HS;
  const int rg = threadIdx.x >> 3, kg = threadIdx.x & 7;
  const int rows[2] = {rg, rg + 16};

  for (int idx = threadIdx.x; idx < kBQ * (HS / 4); idx += kThreads) {
    const int r = idx / (HS / 4), c4 = (idx % (HS / 4)) * 4;
    const int t = q_first + r;
    float4 v = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (t < T) v = *reinterpret_cast<const float4*>(a.q + static_cast<size_t>(t) * ld_q + h * HS + c4);
    *reinterpret_cast<float4*>(&q_tile[r * LD + c4]) = v;
  }
  // (made visible by the __syncthreads at the top of the key loop)

  // The band of key rows this block's queries can see.
  const int q_last = min(q_first + kBQ, T) - 1;
  const int64_t band_lo = a.q_pos0 + q_first - a.window + 1 - a.key_pos0;
  const int64_t band_hi = a.q_pos0 + q_last - a.key_pos0;  // inclusive
  const int j_begin = static_cast<int>(band_lo > 0 ? band_lo : 0);
  const int j_end = static_cast<int>(band_hi + 1 < a.n_keys ? band_hi + 1 : a.n_keys);  // exclusive

  int64_t qa[2];
  float m[2], l[2], ssum[2];
  float o[2][NV][VEC];
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    qa[i] = a.q_pos0 + q_first + rows[i];
    m[i] = -INFINITY;
    l[i] = 0.0f;
    ssum[i] = 0.0f;
#pragma unroll
    for (int v = 0; v < NV; ++v)
#pragma unroll
      for (int c = 0; c < VEC; ++c) o[i][v][c] = 0.0f;
  }

  for (int j0 = j_begin; j0 < j_end; j0 += kBK) {
    __syncthreads();  // the previous tile's V and P are no longer read (and Q is written)
    load_tile<HS>(a.k, ld_kv, g * HS, j0, j_end, kv_tile);
    __syncthreads();

    float s[2][4];
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int u = 0; u < 4; ++u) s[i][u] = 0.0f;
#pragma unroll 4
    for (int d = 0; d < HS; d += 4) {
      const float4 q0 = *reinterpret_cast<const float4*>(&q_tile[rows[0] * LD + d]);
      const float4 q1 = *reinterpret_cast<const float4*>(&q_tile[rows[1] * LD + d]);
#pragma unroll
      for (int u = 0; u < 4; ++u) {
        const float4 k = *reinterpret_cast<const float4*>(&kv_tile[(kg + 8 * u) * LD + d]);
        s[0][u] = fmaf(q0.x, k.x, s[0][u]);
        s[0][u] = fmaf(q0.y, k.y, s[0][u]);
        s[0][u] = fmaf(q0.z, k.z, s[0][u]);
        s[0][u] = fmaf(q0.w, k.w, s[0][u]);
        s[1][u] = fmaf(q1.x, k.x, s[1][u]);
        s[1][u] = fmaf(q1.y, k.y, s[1][u]);
        s[1][u] = fmaf(q1.z, k.z, s[1][u]);
        s[1][u] = fmaf(q1.w, k.w, s[1][u]);
      }
    }

    // Scale and mask: key j (absolute key_pos0 + j) is visible to query p
    // when p - W < key <= p. Then the online softmax of each row; the 8
    // threads of a row are consecutive lanes (xor 1, 2, 4).
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      float mx = -INFINITY;
#pragma unroll
      for (int u = 0; u < 4; ++u) {
        const int j = j0 + kg + 8 * u;
        const int64_t ka = a.key_pos0 + j;
        const bool visible = j < j_end && ka <= qa[i] && ka > qa[i] - a.window;
        s[i][u] = visible ? s[i][u] * scale : -INFINITY;
        mx = fmaxf(mx, s[i][u]);
      }
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 4));
      const float m_new = fmaxf(m[i], mx);
      const float m_ref = m_new == -INFINITY ? 0.0f : m_new;  // a fully masked row so far
      const float alpha = expf(m[i] - m_ref);
      float row_l = 0.0f, row_s = 0.0f;
#pragma unroll
      for (int u = 0; u < 4; ++u) {
        const float sv = s[i][u];
        const float p = expf(sv - m_ref);
        row_l += p;
        if (ENTROPY) row_s += p > 0.0f ? p * sv : 0.0f;
        p_tile[rows[i] * kLDP + kg + 8 * u] = p;
      }
      row_l += __shfl_xor_sync(0xffffffffu, row_l, 1);
      row_l += __shfl_xor_sync(0xffffffffu, row_l, 2);
      row_l += __shfl_xor_sync(0xffffffffu, row_l, 4);
      if (ENTROPY) {
        row_s += __shfl_xor_sync(0xffffffffu, row_s, 1);
        row_s += __shfl_xor_sync(0xffffffffu, row_s, 2);
        row_s += __shfl_xor_sync(0xffffffffu, row_s, 4);
        ssum[i] = ssum[i] * alpha + row_s;
      }
      l[i] = l[i] * alpha + row_l;
      m[i] = m_new;
#pragma unroll
      for (int v = 0; v < NV; ++v)
#pragma unroll
        for (int c = 0; c < VEC; ++c) o[i][v][c] *= alpha;
    }

    __syncthreads();  // every K read done, P complete
    load_tile<HS>(a.v, ld_kv, g * HS, j0, j_end, kv_tile);
    __syncthreads();

    // O += P V over the tile's keys, four at a time.
#pragma unroll 2
    for (int jj = 0; jj < kBK; jj += 4) {
      const float4 p0 = *reinterpret_cast<const float4*>(&p_tile[rows[0] * kLDP + jj]);
      const float4 p1 = *reinterpret_cast<const float4*>(&p_tile[rows[1] * kLDP + jj]);
      const float pa[4] = {p0.x, p0.y, p0.z, p0.w};
      const float pb[4] = {p1.x, p1.y, p1.z, p1.w};
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float* vrow = &kv_tile[(jj + e) * LD + kg * VEC];
#pragma unroll
        for (int v = 0; v < NV; ++v) {
          Vec<VEC> vv;
          vv.load(vrow + v * 8 * VEC);
#pragma unroll
          for (int c = 0; c < VEC; ++c) {
            o[0][v][c] = fmaf(pa[e], vv[c], o[0][v][c]);
            o[1][v][c] = fmaf(pb[e], vv[c], o[1][v][c]);
          }
        }
      }
    }
  }

#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const int row = q_first + rows[i];
    if (row >= T) continue;
    const float inv = l[i] > 0.0f ? 1.0f / l[i] : 0.0f;
    float* out = a.out + static_cast<size_t>(row) * ld_q + h * HS + kg * VEC;
#pragma unroll
    for (int v = 0; v < NV; ++v) {
      float x[VEC];
#pragma unroll
      for (int c = 0; c < VEC; ++c) x[c] = o[i][v][c] * inv;
      Vec<VEC>::store(out + v * 8 * VEC, x);
    }
    if (ENTROPY && kg == 0) a.entropy[static_cast<size_t>(row) * H + h] = m[i] + logf(l[i]) - ssum[i] * inv;
  }
}

template <int HS>
void launch(const PrefillAttentionArgsT<float>& a, cudaStream_t stream) {
  const dim3 grid((a.T + kBQ - 1) / kBQ, a.n_head);
  const float scale = 1.0f / sqrtf(static_cast<float>(HS));
  if (a.entropy)
    flash_swa_f32_kernel<HS, true><<<grid, kThreads, 0, stream>>>(a, scale);
  else
    flash_swa_f32_kernel<HS, false><<<grid, kThreads, 0, stream>>>(a, scale);
  SAMBA_CUDA_CHECK_LAUNCH();
}
}  // namespace

void swa_attention_prefill(const PrefillAttentionArgsT<float>& a, cudaStream_t stream) {
  if (a.T <= 0) return;
  with_head_size(a.head_size, [&](auto hs) { launch<decltype(hs)::value>(a, stream); });
}

}  // namespace samba::cuda
