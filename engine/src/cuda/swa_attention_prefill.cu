// Sliding-window flash attention for a prefill chunk, on bf16 tensor cores.
//
// A block takes 64 consecutive queries of one head (4 warps x 16 rows) and
// walks the keys in tiles of 64, only over the band its queries can see:
// [first query - W + 1, last query]. Tiles outside that band are never
// loaded, so the cost per query is O(W), not O(position). Per tile:
//   S = Q K^T (mma, fp32), mask to each row's window, online softmax with
//   running max m and sum l; for the entropy also S_sum = sum e^(s-m) s,
//   rescaled with l — one extra multiply-add per score;
//   O = O * alpha + P V (P converted to bf16 in registers: the C fragment
//   layout of two adjacent 8-key tiles is the A fragment layout of one
//   16-key step, so P never goes through shared memory).
// End: O / l, and H = m + ln l - S_sum / l.
//
// The pipelined form (the default) adds what the first one lacked, which
// kept it near 100 TFLOP/s: the next K/V tile is copied with cp.async into
// a second buffer while this one is computed; K and V fragments come from
// shared memory with ldmatrix (one instruction per two 8x8 fragments pairs
// instead of 2-byte loads and packing); and tiles every key of which every
// query row of the warp sees skip the mask. SAMBA_CUDA_ATTENTION=simple
// selects the first form (benchmarks, and the fallback of gpu-check.sh).
//
// The lean form (SAMBA_CUDA_ATTENTION=lean, not yet run on a GPU) is the
// pipelined one with less per-tile row work, for the entropy's cost at head
// size 64 (docs/BENCHMARKS.md): each of the 4 lanes sharing a row keeps its
// own l and S_sum (alpha is the same for all four), added up once after the
// key loop instead of with shuffles on every tile; and head size 64 is held
// to 168 registers (ptxas, sm_90: the pipelined form takes 155 without the
// entropy, 3 blocks an SM, and 172 with it, only 2), so the entropy no
// longer costs a third of the SM's blocks. No spills either way.
#include <cstdlib>
#include <cstring>

#include "cuda/cuda_check.h"
#include "cuda/mma.cuh"
#include "cuda/head_size_dispatch.h"
#include "cuda/ops.h"
#include "samba/error.h"

namespace samba::cuda {

namespace {
constexpr int kBlockQ = 64;   // queries per block
constexpr int kBlockK = 64;   // keys per tile
constexpr int kThreads = 128;

template <int HS>
constexpr int kTileLd = HS + 8;  // padded shared row (bank spread, 16-byte aligned rows)

// Shared memory of one block: one K and one V tile (simple), or two of each.
template <int HS, bool PIPELINED>
constexpr size_t shared_bytes() {
  return (PIPELINED ? 2 : 1) * 2 * kBlockK * kTileLd<HS> * sizeof(bf16);
}

// A masked score. Finite on purpose: its probability __expf(kMasked - m)
// is exactly 0 and so is 0 * kMasked, so the entropy's sum of p * s needs
// no test per score (with -inf, 0 * -inf would be NaN). A row whose maximum
// is still kMasked has seen no visible key and takes 0 as its reference.
constexpr float kMasked = -1e30f;

template <int HS, bool ENTROPY, bool PIPELINED, bool LEAN>
__global__ void __launch_bounds__(kThreads, LEAN && HS == 64 ? 3 : 1)
    flash_swa_kernel(const PrefillAttentionArgs a, float scale) {
  constexpr int KS = HS / 16;   // k-steps of Q K^T
  constexpr int DT = HS / 8;    // 8-wide column tiles of O
  constexpr int LD = kTileLd<HS>;
  extern __shared__ __align__(16) bf16 shared[];

  const int H = a.n_head, G = a.n_kv_head, T = a.T;
  const int h = blockIdx.y;
  const int g = h / (H / G);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int gq = lane >> 2, tq = lane & 3;
  const int q_first = blockIdx.x * kBlockQ;
  const int row_lo = q_first + warp * 16 + gq, row_hi = row_lo + 8;
  const int ld_q = H * HS, ld_kv = G * HS;

  // Q fragments stay in registers for the whole key loop.
  uint32_t qf[KS][4];
  {
    const bf16* q_lo = a.q + static_cast<size_t>(row_lo) * ld_q + h * HS;
    const bf16* q_hi = a.q + static_cast<size_t>(row_hi) * ld_q + h * HS;
#pragma unroll
    for (int ks = 0; ks < KS; ++ks) {
      const int col = ks * 16 + tq * 2;
      qf[ks][0] = row_lo < T ? *reinterpret_cast<const uint32_t*>(q_lo + col) : 0u;
      qf[ks][1] = row_hi < T ? *reinterpret_cast<const uint32_t*>(q_hi + col) : 0u;
      qf[ks][2] = row_lo < T ? *reinterpret_cast<const uint32_t*>(q_lo + col + 8) : 0u;
      qf[ks][3] = row_hi < T ? *reinterpret_cast<const uint32_t*>(q_hi + col + 8) : 0u;
    }
  }

  // The band of key rows this block's queries can see.
  const int q_last = min(q_first + kBlockQ, T) - 1;
  const int64_t band_lo = a.q_pos0 + q_first - a.window + 1 - a.key_pos0;
  const int64_t band_hi = a.q_pos0 + q_last - a.key_pos0;  // inclusive
  const int j_begin = static_cast<int>(band_lo > 0 ? band_lo : 0);
  const int j_end = static_cast<int>(band_hi + 1 < a.n_keys ? band_hi + 1 : a.n_keys);  // exclusive

  const int64_t qa_lo = a.q_pos0 + row_lo, qa_hi = a.q_pos0 + row_hi;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f}, ssum[2] = {0.0f, 0.0f};
  float o[DT][4];
#pragma unroll
  for (int d = 0; d < DT; ++d) o[d][0] = o[d][1] = o[d][2] = o[d][3] = 0.0f;

  // Tile rows j0 .. j0 + kBlockK - 1 (zeros past j_end) into buffer `stage`.
  const auto load_tile = [&](int stage, int j0) {
    bf16* k_tile = shared + stage * 2 * kBlockK * LD;
    bf16* v_tile = k_tile + kBlockK * LD;
    for (int idx = threadIdx.x; idx < kBlockK * (HS / 8); idx += kThreads) {
      const int r = idx / (HS / 8), c8 = (idx % (HS / 8)) * 8;
      const int j = j0 + r;
      const size_t src = static_cast<size_t>(j < j_end ? j : j_begin) * ld_kv + g * HS + c8;
      if constexpr (PIPELINED) {
        const int bytes = j < j_end ? 16 : 0;
        cp_async_16(&k_tile[r * LD + c8], a.k + src, bytes);
        cp_async_16(&v_tile[r * LD + c8], a.v + src, bytes);
      } else {
        uint4 kv = make_uint4(0, 0, 0, 0), vv = make_uint4(0, 0, 0, 0);
        if (j < j_end) {
          kv = *reinterpret_cast<const uint4*>(a.k + src);
          vv = *reinterpret_cast<const uint4*>(a.v + src);
        }
        *reinterpret_cast<uint4*>(&k_tile[r * LD + c8]) = kv;
        *reinterpret_cast<uint4*>(&v_tile[r * LD + c8]) = vv;
      }
    }
    if constexpr (PIPELINED) cp_async_commit();
  };

  // The warp's 16 query rows, for the whole-tile visibility test.
  const int64_t qw_first = a.q_pos0 + q_first + warp * 16, qw_last = qw_first + 15;
  if constexpr (PIPELINED) {
    if (j_begin < j_end) load_tile(0, j_begin);
  }
  for (int j0 = j_begin, it = 0; j0 < j_end; j0 += kBlockK, ++it) {
    const int stage = PIPELINED ? (it & 1) : 0;
    if constexpr (PIPELINED) {
      // Start the next tile's copy into the other buffer (free: the barrier
      // at the end of the previous iteration), then wait for this one.
      if (j0 + kBlockK < j_end) {
        load_tile(stage ^ 1, j0 + kBlockK);
        cp_async_wait<1>();
      } else {
        cp_async_wait<0>();
      }
      __syncthreads();
    } else {
      __syncthreads();  // the previous tile is no longer read
      load_tile(0, j0);
      __syncthreads();
    }
    const bf16* k_tile = shared + stage * 2 * kBlockK * LD;
    const bf16* v_tile = k_tile + kBlockK * LD;

    // S = Q K^T for 8 tiles of 8 keys.
    float s[8][4];
#pragma unroll
    for (int nt = 0; nt < 8; ++nt) s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
    if constexpr (PIPELINED) {
      // Lane l addresses row l % 8 of matrix l / 8: keys of tile nt (+1 for
      // matrices 2, 3), dims ks * 16 (+8 for matrices 1, 3).
      const int mi = lane >> 3, ri = lane & 7;
#pragma unroll
      for (int ks = 0; ks < KS; ++ks) {
#pragma unroll
        for (int nt = 0; nt < 8; nt += 2) {
          uint32_t b[4];
          ldmatrix_x4(b, &k_tile[((nt + (mi >> 1)) * 8 + ri) * LD + ks * 16 + (mi & 1) * 8]);
          mma_bf16_16816(s[nt], qf[ks], b[0], b[1]);
          mma_bf16_16816(s[nt + 1], qf[ks], b[2], b[3]);
        }
      }
    } else {
#pragma unroll
      for (int nt = 0; nt < 8; ++nt) {
        const bf16* krow = &k_tile[(nt * 8 + gq) * LD + tq * 2];
#pragma unroll
        for (int ks = 0; ks < KS; ++ks) {
          const uint32_t b0 = *reinterpret_cast<const uint32_t*>(krow + ks * 16);
          const uint32_t b1 = *reinterpret_cast<const uint32_t*>(krow + ks * 16 + 8);
          mma_bf16_16816(s[nt], qf[ks], b0, b1);
        }
      }
    }

    // Scale and mask: key j (absolute key_pos0 + j) is visible to query p
    // when p - W < key <= p. A tile whose keys all lie in every row's window
    // needs no mask (warp-uniform test).
    const int64_t ka_first = a.key_pos0 + j0, ka_last = ka_first + kBlockK - 1;
    const bool all_visible =
        PIPELINED && j0 + kBlockK <= j_end && ka_last <= qw_first && ka_first > qw_last - a.window;
    if (all_visible) {
#pragma unroll
      for (int nt = 0; nt < 8; ++nt)
#pragma unroll
        for (int e = 0; e < 4; ++e) s[nt][e] *= scale;
    } else {
#pragma unroll
      for (int nt = 0; nt < 8; ++nt) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          const int j = j0 + nt * 8 + tq * 2 + (e & 1);
          const int64_t ka = a.key_pos0 + j;
          const int64_t qa = e < 2 ? qa_lo : qa_hi;
          const bool visible = j < j_end && ka <= qa && ka > qa - a.window;
          s[nt][e] = visible ? s[nt][e] * scale : kMasked;
        }
      }
    }

    // Online softmax per row (rows gq and gq+8; 4 lanes share a row).
#pragma unroll
    for (int rr = 0; rr < 2; ++rr) {
      float mx = -INFINITY;
#pragma unroll
      for (int nt = 0; nt < 8; ++nt) mx = fmaxf(mx, fmaxf(s[nt][2 * rr], s[nt][2 * rr + 1]));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      const float m_new = fmaxf(m[rr], mx);
      const float m_ref = m_new <= kMasked ? 0.0f : m_new;  // a fully masked row so far
      const float alpha = __expf(m[rr] - m_ref);
      float row_l = 0.0f, row_s = 0.0f;
#pragma unroll
      for (int nt = 0; nt < 8; ++nt) {
#pragma unroll
        for (int e = 2 * rr; e < 2 * rr + 2; ++e) {
          const float sv = s[nt][e];
          const float p = __expf(sv - m_ref);
          row_l += p;
          if (ENTROPY) row_s += p * sv;  // the one multiply-add: masked scores give 0 * finite
          s[nt][e] = p;
        }
      }
      if constexpr (!LEAN) {
        row_l += __shfl_xor_sync(0xffffffffu, row_l, 1);
        row_l += __shfl_xor_sync(0xffffffffu, row_l, 2);
        if (ENTROPY) {
          row_s += __shfl_xor_sync(0xffffffffu, row_s, 1);
          row_s += __shfl_xor_sync(0xffffffffu, row_s, 2);
        }
      }
      if (ENTROPY) ssum[rr] = ssum[rr] * alpha + row_s;
      l[rr] = l[rr] * alpha + row_l;
      m[rr] = m_new;
#pragma unroll
      for (int d = 0; d < DT; ++d) {
        o[d][2 * rr] *= alpha;
        o[d][2 * rr + 1] *= alpha;
      }
    }

    // O += P V, 16 keys per k-step.
#pragma unroll
    for (int kk = 0; kk < 4; ++kk) {
      uint32_t pa[4];
      pa[0] = pack_bf16x2(s[2 * kk][0], s[2 * kk][1]);
      pa[1] = pack_bf16x2(s[2 * kk][2], s[2 * kk][3]);
      pa[2] = pack_bf16x2(s[2 * kk + 1][0], s[2 * kk + 1][1]);
      pa[3] = pack_bf16x2(s[2 * kk + 1][2], s[2 * kk + 1][3]);
      if constexpr (PIPELINED) {
        // Lane l addresses row l % 8 of matrix l / 8: keys kk * 16 (+8 for
        // matrices 1, 3), dims of column tile d (d + 1 for matrices 2, 3).
        const int mi = lane >> 3, ri = lane & 7;
        const bf16* v0 = &v_tile[(kk * 16 + (mi & 1) * 8 + ri) * LD + (mi >> 1) * 8];
#pragma unroll
        for (int d = 0; d < DT; d += 2) {
          uint32_t b[4];
          ldmatrix_x4_trans(b, v0 + d * 8);
          mma_bf16_16816(o[d], pa, b[0], b[1]);
          mma_bf16_16816(o[d + 1], pa, b[2], b[3]);
        }
      } else {
        const bf16* v0 = &v_tile[(kk * 16 + tq * 2) * LD + gq];
#pragma unroll
        for (int d = 0; d < DT; ++d) {
          const bf16* vp = v0 + d * 8;
          const uint32_t b0 = pack_bf16x2(vp[0], vp[LD]);
          const uint32_t b1 = pack_bf16x2(vp[8 * LD], vp[9 * LD]);
          mma_bf16_16816(o[d], pa, b0, b1);
        }
      }
    }
    if constexpr (PIPELINED) __syncthreads();  // this buffer is refilled two tiles on
  }

  if constexpr (LEAN) {  // the 4 lanes of a row add up their own l and S_sum once
#pragma unroll
    for (int rr = 0; rr < 2; ++rr) {
      l[rr] += __shfl_xor_sync(0xffffffffu, l[rr], 1);
      l[rr] += __shfl_xor_sync(0xffffffffu, l[rr], 2);
      if (ENTROPY) {
        ssum[rr] += __shfl_xor_sync(0xffffffffu, ssum[rr], 1);
        ssum[rr] += __shfl_xor_sync(0xffffffffu, ssum[rr], 2);
      }
    }
  }

#pragma unroll
  for (int rr = 0; rr < 2; ++rr) {
    const int row = rr == 0 ? row_lo : row_hi;
    if (row >= T) continue;
    const float inv = l[rr] > 0.0f ? 1.0f / l[rr] : 0.0f;
    bf16* out = a.out + static_cast<size_t>(row) * ld_q + h * HS + tq * 2;
#pragma unroll
    for (int d = 0; d < DT; ++d)
      *reinterpret_cast<uint32_t*>(out + d * 8) = pack_bf16x2(o[d][2 * rr] * inv, o[d][2 * rr + 1] * inv);
    if (ENTROPY && tq == 0)
      a.entropy[static_cast<size_t>(row) * H + h] = m[rr] + logf(l[rr]) - ssum[rr] * inv;
  }
}

// SAMBA_CUDA_ATTENTION=simple|lean picks a form when the caller leaves it to
// the launcher (kernel 0); anything else, or nothing, is the pipelined form.
int forced_kernel() {
  static const int forced = [] {
    const char* v = std::getenv("SAMBA_CUDA_ATTENTION");
    if (v && std::strcmp(v, "simple") == 0) return 1;
    if (v && std::strcmp(v, "lean") == 0) return 3;
    return 2;
  }();
  return forced;
}

template <int HS, bool ENTROPY, bool PIPELINED, bool LEAN>
void launch_kernel(const PrefillAttentionArgs& a, dim3 grid, float scale, cudaStream_t stream) {
  constexpr size_t bytes = shared_bytes<HS, PIPELINED>();
  const auto kernel = flash_swa_kernel<HS, ENTROPY, PIPELINED, LEAN>;
  if constexpr (bytes > 48 * 1024) {
    // Above 48 KiB a kernel must ask for its dynamic shared memory (once per device).
    static const bool opted_in = [&] {
      SAMBA_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                            static_cast<int>(bytes)));
      return true;
    }();
    (void)opted_in;
  }
  kernel<<<grid, kThreads, bytes, stream>>>(a, scale);
  SAMBA_CUDA_CHECK_LAUNCH();
}

template <int HS, bool ENTROPY>
void launch_form(int form, const PrefillAttentionArgs& a, dim3 grid, float scale, cudaStream_t stream) {
  if (form == 1)
    launch_kernel<HS, ENTROPY, false, false>(a, grid, scale, stream);
  else if (form == 3)
    launch_kernel<HS, ENTROPY, true, true>(a, grid, scale, stream);
  else
    launch_kernel<HS, ENTROPY, true, false>(a, grid, scale, stream);
}

template <int HS>
void launch(const PrefillAttentionArgs& a, cudaStream_t stream) {
  const dim3 grid((a.T + kBlockQ - 1) / kBlockQ, a.n_head);
  const float scale = 1.0f / sqrtf(static_cast<float>(HS));
  const int form = a.kernel == 0 ? forced_kernel() : a.kernel;
  if (a.entropy)
    launch_form<HS, true>(form, a, grid, scale, stream);
  else
    launch_form<HS, false>(form, a, grid, scale, stream);
}
}  // namespace

bool prefill_attention_supports(int head_size) { return attention_head_size_supported(head_size); }

void swa_attention_prefill(const PrefillAttentionArgs& a, cudaStream_t stream) {
  if (a.T <= 0) return;
  with_head_size(a.head_size, [&](auto hs) { launch<decltype(hs)::value>(a, stream); });
}

}  // namespace samba::cuda
