#include "cpu/cpu_attention.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "cpu/cpu_ops.h"
#include "samba/backend.h"

namespace samba::cpu {

void AttentionScratch::reserve(const ModelConfig& c, int max_tokens) {
  const size_t T = static_cast<size_t>(max_tokens);
  const size_t L = T + c.window - 1;  // keys one chunk can see
  q.resize(T * c.q_dim());
  k.resize(T * c.kv_dim());
  v.resize(T * c.kv_dim());
  keys.resize(L * c.kv_dim());
  values.resize(L * c.kv_dim());
  // One [T, L] score block per head, so heads run in parallel.
  scores.resize(std::max(T * L, static_cast<size_t>(c.window)) * c.n_head);
  attn.resize(T * c.q_dim());
  entropy.resize(T * c.n_head);
}

namespace {

// One new token: read the ring directly (copying W keys would cost more
// than the weights). Heads are independent, so they run in parallel.
void decode_attention(const ModelConfig& c, int64_t pos, const float* ring_k,
                      const float* ring_v, AttentionScratch& s) {
  const int H = c.n_head, G = c.n_kv_head, hs = c.head_size, W = c.window;
  const int kv_dim = c.kv_dim(), per_group = H / G;
  const int64_t first = std::max<int64_t>(0, pos - W + 1);
  const int n = static_cast<int>(pos - first + 1);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
#pragma omp parallel for if (static_cast<long>(n) * H > 2048)
  for (int h = 0; h < H; ++h) {
    const int g = h / per_group;
    const float* qh = &s.q[static_cast<size_t>(h) * hs];
    float* sc = &s.scores[static_cast<size_t>(h) * W];
    for (int j = 0; j < n; ++j) {
      const float* kj = ring_k + static_cast<size_t>((first + j) % W) * kv_dim + g * hs;
      float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
      for (int e = 0; e < hs; ++e) dot += qh[e] * kj[e];
      sc[j] = dot * scale;
    }
    s.entropy[h] = softmax_with_entropy(sc, 0, n - 1, n);
    float* oh = &s.attn[static_cast<size_t>(h) * hs];
    std::fill(oh, oh + hs, 0.0f);
    for (int j = 0; j < n; ++j) {
      const float* vj = ring_v + static_cast<size_t>((first + j) % W) * kv_dim + g * hs;
      const float p = sc[j];
      for (int e = 0; e < hs; ++e) oh[e] += p * vj[e];
    }
  }
}

// A chunk of T > 1 tokens: gather the visible keys (the W-1 before the
// chunk from the ring, then the chunk's own) contiguously and use GEMMs per
// head; rows outside each query's window are masked in the softmax.
void chunk_attention(const ModelConfig& c, int T, int64_t pos0, const float* ring_k,
                     const float* ring_v, AttentionScratch& s, bool want_entropy) {
  const int H = c.n_head, G = c.n_kv_head, hs = c.head_size, W = c.window;
  const int kv_dim = c.kv_dim(), q_dim = c.q_dim(), per_group = H / G;
  const int prev = static_cast<int>(std::min<int64_t>(pos0, W - 1));
  const int L = prev + T;
  for (int j = 0; j < prev; ++j) {
    const size_t slot = static_cast<size_t>((pos0 - prev + j) % W);
    std::memcpy(&s.keys[static_cast<size_t>(j) * kv_dim], ring_k + slot * kv_dim, sizeof(float) * kv_dim);
    std::memcpy(&s.values[static_cast<size_t>(j) * kv_dim], ring_v + slot * kv_dim, sizeof(float) * kv_dim);
  }
  std::memcpy(&s.keys[static_cast<size_t>(prev) * kv_dim], s.k.data(), sizeof(float) * T * kv_dim);
  std::memcpy(&s.values[static_cast<size_t>(prev) * kv_dim], s.v.data(), sizeof(float) * T * kv_dim);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hs));
  // Key index i in `keys` is absolute position pos0 - prev + i; query t sees
  // keys lo(t)..hi(t). Rows go in blocks of kRowBlock so that each block's
  // GEMMs cover only the keys some row of the block can see: the band, not
  // the whole [T, L] rectangle (which wasted T / (W + T) of the work).
  constexpr int kRowBlock = 64;
  auto lo_of = [&](int t) {
    return static_cast<int>(std::max<int64_t>(0, pos0 + t - W + 1) - (pos0 - prev));
  };
  // Heads in parallel, each with single-threaded BLAS calls (see linear()).
#pragma omp parallel for schedule(dynamic) if (H > 1)
  for (int h = 0; h < H; ++h) {
    const int g = h / per_group;
    float* scores = s.scores.data() + static_cast<size_t>(h) * T * L;
    for (int r0 = 0; r0 < T; r0 += kRowBlock) {
      const int rows = std::min(kRowBlock, T - r0);
      const int k0 = lo_of(r0), k1 = prev + r0 + rows - 1;  // keys of this block
      const int n = k1 - k0 + 1;
      float* block = scores + static_cast<size_t>(r0) * L + k0;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, n, hs, scale,
                  &s.q[static_cast<size_t>(r0) * q_dim + h * hs], q_dim,
                  &s.keys[static_cast<size_t>(k0) * kv_dim + g * hs], kv_dim, 0.0f, block, L);
      for (int t = r0; t < r0 + rows; ++t) {
        const float ent = softmax_with_entropy(scores + static_cast<size_t>(t) * L + k0, lo_of(t) - k0,
                                               prev + t - k0, n);
        if (want_entropy) s.entropy[static_cast<size_t>(t) * H + h] = ent;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, hs, n, 1.0f, block, L,
                  &s.values[static_cast<size_t>(k0) * kv_dim + g * hs], kv_dim, 0.0f,
                  &s.attn[static_cast<size_t>(r0) * q_dim + h * hs], q_dim);
    }
  }
}

}  // namespace

void attention_forward(const AttentionWeights& w, const ModelConfig& c, const float* u, int T,
                       int64_t pos0, float* ring_k, float* ring_v, float* out,
                       AttentionScratch& s, EntropySink* entropy, int layer) {
  const int d = c.d_model, W = c.window, kv_dim = c.kv_dim();
  linear(u, T, d, w.q.data(), c.q_dim(), s.q.data());
  linear(u, T, d, w.k.data(), kv_dim, s.k.data());
  linear(u, T, d, w.v.data(), kv_dim, s.v.data());
  apply_rope(s.q.data(), c.n_head, s.k.data(), c.n_kv_head, T, c.head_size, pos0, c.rope_base);
  if (T == 1) {
    const size_t slot = static_cast<size_t>(pos0 % W);
    std::memcpy(ring_k + slot * kv_dim, s.k.data(), sizeof(float) * kv_dim);
    std::memcpy(ring_v + slot * kv_dim, s.v.data(), sizeof(float) * kv_dim);
    decode_attention(c, pos0, ring_k, ring_v, s);
  } else {
    chunk_attention(c, T, pos0, ring_k, ring_v, s, entropy != nullptr);
    // Keep the chunk's last min(T, W) keys; earlier ones fall out of every
    // later window.
    for (int t = std::max(0, T - W); t < T; ++t) {
      const size_t slot = static_cast<size_t>((pos0 + t) % W);
      std::memcpy(ring_k + slot * kv_dim, &s.k[static_cast<size_t>(t) * kv_dim], sizeof(float) * kv_dim);
      std::memcpy(ring_v + slot * kv_dim, &s.v[static_cast<size_t>(t) * kv_dim], sizeof(float) * kv_dim);
    }
  }
  if (entropy) entropy->consume(layer, pos0, T, c.n_head, s.entropy.data());
  linear(s.attn.data(), T, c.q_dim(), w.proj.data(), d, out, /*accumulate=*/true);
}

}  // namespace samba::cpu
