// The CUDA backend's kernels one by one against plain host loops in double
// precision, on random inputs (a wrong index shows up here, named, before it
// disappears into a whole-model logit difference). Needs a CUDA device:
// without one the program says so and exits 77, which ctest reports as
// skipped.
#ifdef SAMBA_HAVE_CUDA
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/gemm.h"
#include "cuda/ops.h"
#include "samba/safetensors.h"

namespace {

using samba::cuda::bf16;

// A device copy of a host vector, and back.
template <class T>
class DeviceArray {
 public:
  explicit DeviceArray(size_t n) : n_(n) { check(cudaMalloc(&ptr_, std::max<size_t>(n, 1) * sizeof(T))); }
  explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) {
    check(cudaMemcpy(ptr_, host.data(), n_ * sizeof(T), cudaMemcpyHostToDevice));
  }
  ~DeviceArray() { cudaFree(ptr_); }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  T* get() const { return ptr_; }
  std::vector<T> host() const {
    std::vector<T> out(n_);
    check(cudaDeviceSynchronize());
    check(cudaMemcpy(out.data(), ptr_, n_ * sizeof(T), cudaMemcpyDeviceToHost));
    return out;
  }
  static void check(cudaError_t e) { ASSERT_EQ(e, cudaSuccess) << cudaGetErrorString(e); }

 private:
  T* ptr_ = nullptr;
  size_t n_ = 0;
};

std::vector<float> random_floats(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// bf16 values (as raw bits) and the fp32 values they stand for.
struct Bf16Data {
  std::vector<uint16_t> bits;
  std::vector<float> values;
};
Bf16Data random_bf16(size_t n, float lo, float hi, uint32_t seed) {
  Bf16Data d;
  const std::vector<float> f = random_floats(n, lo, hi, seed);
  for (float x : f) {
    d.bits.push_back(samba::f32_to_bf16(x));
    d.values.push_back(samba::bf16_to_f32(d.bits.back()));
  }
  return d;
}

std::vector<float> to_float(const std::vector<uint16_t>& bits) {
  std::vector<float> out;
  for (uint16_t b : bits) out.push_back(samba::bf16_to_f32(b));
  return out;
}

double rel_error(const std::vector<float>& got, const std::vector<double>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

// Sliding-window attention of one query over keys, in double: output and entropy.
void reference_attention(const float* q, const std::vector<const float*>& keys, const std::vector<const float*>& values,
                         int hs, double* out, double* entropy) {
  std::vector<double> s(keys.size());
  double m = -INFINITY;
  for (size_t j = 0; j < keys.size(); ++j) {
    double dot = 0;
    for (int e = 0; e < hs; ++e) dot += static_cast<double>(q[e]) * keys[j][e];
    s[j] = dot / std::sqrt(static_cast<double>(hs));
    m = std::max(m, s[j]);
  }
  double l = 0;
  for (double& v : s) v = std::exp(v - m), l += v;
  double h = 0;
  for (int e = 0; e < hs; ++e) out[e] = 0;
  for (size_t j = 0; j < keys.size(); ++j) {
    const double p = s[j] / l;
    if (p > 0) h -= p * std::log(p);
    for (int e = 0; e < hs; ++e) out[e] += p * values[j][e];
  }
  *entropy = h;
}

struct AttentionCase {
  int head_size, n_head, n_kv_head, window, T, prev;
  int kernel = 0;  // prefill: 1 = simple, 2 = pipelined, 3 = lean (0: the launcher's choice)
};

class PrefillAttention : public ::testing::TestWithParam<AttentionCase> {};

TEST_P(PrefillAttention, MatchesBandMaskedSoftmax) {
  const AttentionCase c = GetParam();
  const int H = c.n_head, G = c.n_kv_head, hs = c.head_size, T = c.T, nk = c.prev + T;
  const int64_t q_pos0 = 1000 + c.prev, key_pos0 = 1000;  // the chunk starts `prev` keys after the buffer
  const Bf16Data q = random_bf16(static_cast<size_t>(T) * H * hs, -2, 2, 1);
  const Bf16Data k = random_bf16(static_cast<size_t>(nk) * G * hs, -2, 2, 2);
  const Bf16Data v = random_bf16(static_cast<size_t>(nk) * G * hs, -1, 1, 3);
  DeviceArray<uint16_t> dq(q.bits), dk(k.bits), dv(v.bits);
  DeviceArray<uint16_t> dout(static_cast<size_t>(T) * H * hs);
  DeviceArray<float> dent(static_cast<size_t>(T) * H);
  samba::cuda::PrefillAttentionArgs a;
  a.q = reinterpret_cast<const bf16*>(dq.get());
  a.k = reinterpret_cast<const bf16*>(dk.get());
  a.v = reinterpret_cast<const bf16*>(dv.get());
  a.out = reinterpret_cast<bf16*>(dout.get());
  a.entropy = dent.get();
  a.T = T;
  a.n_head = H;
  a.n_kv_head = G;
  a.head_size = hs;
  a.window = c.window;
  a.n_keys = nk;
  a.q_pos0 = q_pos0;
  a.key_pos0 = key_pos0;
  a.kernel = c.kernel;
  samba::cuda::swa_attention_prefill(a, nullptr);
  const std::vector<float> out = to_float(dout.host());
  const std::vector<float> ent = dent.host();
  // Without the entropy output the same kernel gives the same attention.
  DeviceArray<uint16_t> dout_plain(static_cast<size_t>(T) * H * hs);
  a.out = reinterpret_cast<bf16*>(dout_plain.get());
  a.entropy = nullptr;
  samba::cuda::swa_attention_prefill(a, nullptr);
  EXPECT_EQ(dout_plain.host(), dout.host()) << "output without entropy";

  std::vector<double> want(out.size()), want_ent(ent.size());
  for (int t = 0; t < T; ++t) {
    const int64_t p = q_pos0 + t;
    for (int h = 0; h < H; ++h) {
      const int g = h / (H / G);
      std::vector<const float*> ks, vs;
      for (int j = 0; j < nk; ++j) {
        const int64_t kp = key_pos0 + j;
        if (kp <= p && kp > p - c.window) {
          ks.push_back(&k.values[(static_cast<size_t>(j) * G + g) * hs]);
          vs.push_back(&v.values[(static_cast<size_t>(j) * G + g) * hs]);
        }
      }
      reference_attention(&q.values[(static_cast<size_t>(t) * H + h) * hs], ks, vs, hs,
                          &want[(static_cast<size_t>(t) * H + h) * hs], &want_ent[static_cast<size_t>(t) * H + h]);
    }
  }
  EXPECT_LT(rel_error(out, want), 1e-2) << "attention output";
  double max_ent = 0;
  for (size_t i = 0; i < ent.size(); ++i) max_ent = std::max(max_ent, std::abs(ent[i] - want_ent[i]));
  EXPECT_LT(max_ent, 1e-4) << "entropy";
}

// Each shape through every form (last field: 1 simple, 2 pipelined, 3 lean). The
// 512-key window over 700 queries has many whole tiles inside every row's
// window (the pipelined kernel skips their mask) and a long double-buffered band.
INSTANTIATE_TEST_SUITE_P(
    Shapes, PrefillAttention,
    ::testing::Values(AttentionCase{16, 4, 4, 16, 70, 15, 1}, AttentionCase{32, 4, 2, 50, 150, 37, 1},
                      AttentionCase{64, 8, 2, 100, 200, 99, 1}, AttentionCase{128, 2, 1, 64, 130, 0, 1},
                      AttentionCase{64, 2, 2, 300, 64, 299, 1}, AttentionCase{16, 4, 4, 16, 70, 15, 2},
                      AttentionCase{32, 4, 2, 50, 150, 37, 2}, AttentionCase{64, 8, 2, 100, 200, 99, 2},
                      AttentionCase{128, 2, 1, 64, 130, 0, 2}, AttentionCase{64, 2, 2, 300, 64, 299, 2},
                      AttentionCase{128, 4, 2, 512, 700, 511, 2}, AttentionCase{128, 4, 2, 512, 700, 511, 1},
                      // the lean form (3): per-lane row sums; head size 64 held to 3 blocks an SM
                      AttentionCase{16, 4, 4, 16, 70, 15, 3}, AttentionCase{32, 4, 2, 50, 150, 37, 3},
                      AttentionCase{64, 8, 2, 100, 200, 99, 3}, AttentionCase{64, 2, 2, 300, 64, 299, 3},
                      AttentionCase{64, 32, 4, 512, 700, 511, 3}, AttentionCase{128, 4, 2, 512, 700, 511, 3}));

class DecodeAttention : public ::testing::TestWithParam<AttentionCase> {};

// Decode attention of case `c` over bf16 rings held as raw bits; the caller
// sets q (or qkv and inv_freq for the fused RoPE).
samba::cuda::DecodeAttentionArgs decode_args(const AttentionCase& c, DeviceArray<uint16_t>& k_ring,
                                             DeviceArray<uint16_t>& v_ring, const DeviceArray<int64_t>& pos,
                                             DeviceArray<float>& partial, DeviceArray<uint16_t>& out,
                                             DeviceArray<float>& entropy) {
  samba::cuda::DecodeAttentionArgs a;
  a.k_ring = reinterpret_cast<bf16*>(k_ring.get());
  a.v_ring = reinterpret_cast<bf16*>(v_ring.get());
  a.pos = pos.get();
  a.partial = partial.get();
  a.out = reinterpret_cast<bf16*>(out.get());
  a.entropy = entropy.get();
  a.n_head = c.n_head;
  a.n_kv_head = c.n_kv_head;
  a.head_size = c.head_size;
  a.window = c.window;
  return a;
}

// `prev` is the query position: below W the ring is partly filled, above it wraps.
TEST_P(DecodeAttention, MatchesRingSoftmax) {
  const AttentionCase c = GetParam();
  const int H = c.n_head, G = c.n_kv_head, hs = c.head_size, W = c.window;
  const int64_t pos = c.prev;
  const Bf16Data q = random_bf16(static_cast<size_t>(H) * hs, -2, 2, 4);
  const Bf16Data k = random_bf16(static_cast<size_t>(W) * G * hs, -2, 2, 5);
  const Bf16Data v = random_bf16(static_cast<size_t>(W) * G * hs, -1, 1, 6);
  DeviceArray<uint16_t> dq(q.bits), dk(k.bits), dv(v.bits);
  DeviceArray<int64_t> dpos(std::vector<int64_t>{pos});
  // Zeroed: the kernel's per-head tickets live at its end.
  DeviceArray<float> partial(std::vector<float>(samba::cuda::decode_attention_workspace_floats(H, hs, W), 0.0f));
  DeviceArray<uint16_t> dout(static_cast<size_t>(H) * hs);
  DeviceArray<float> dent(H);
  samba::cuda::DecodeAttentionArgs a = decode_args(c, dk, dv, dpos, partial, dout, dent);
  a.q = reinterpret_cast<const bf16*>(dq.get());
  samba::cuda::swa_attention_decode(a, nullptr);
  // Twice, output cleared in between: the per-head tickets must reset
  // themselves or the second launch never merges its blocks.
  DeviceArray<uint16_t>::check(cudaMemset(dout.get(), 0, static_cast<size_t>(H) * hs * 2));
  samba::cuda::swa_attention_decode(a, nullptr);
  const std::vector<float> out = to_float(dout.host());
  const std::vector<float> ent = dent.host();
  const int n_valid = static_cast<int>(std::min<int64_t>(pos + 1, W));
  std::vector<double> want(out.size()), want_ent(H);
  for (int h = 0; h < H; ++h) {
    const int g = h / (H / G);
    std::vector<const float*> ks, vs;
    for (int j = 0; j < n_valid; ++j) {
      ks.push_back(&k.values[(static_cast<size_t>(j) * G + g) * hs]);
      vs.push_back(&v.values[(static_cast<size_t>(j) * G + g) * hs]);
    }
    reference_attention(&q.values[static_cast<size_t>(h) * hs], ks, vs, hs, &want[static_cast<size_t>(h) * hs],
                        &want_ent[h]);
  }
  EXPECT_LT(rel_error(out, want), 1e-2);
  for (int h = 0; h < H; ++h) EXPECT_NEAR(ent[h], want_ent[h], 1e-4) << "head " << h;
}

INSTANTIATE_TEST_SUITE_P(Shapes, DecodeAttention,
                         ::testing::Values(AttentionCase{16, 4, 4, 16, 1, 0}, AttentionCase{32, 4, 2, 50, 1, 20},
                                           AttentionCase{64, 8, 2, 300, 1, 1234},
                                           AttentionCase{128, 4, 4, 2048, 1, 5000},
                                           AttentionCase{128, 2, 1, 2048, 1, 700}));

class FusedRopeDecodeAttention : public ::testing::TestWithParam<AttentionCase> {};

// Decode attention with RoPE fused in (qkv given) equals rope_split_qkv
// followed by the plain kernel, to the bit: output, entropy, and the ring
// after the step (the rotated key and the value in slot pos % W, the rest
// untouched). `prev` is the position; the ring is partly filled below W.
TEST_P(FusedRopeDecodeAttention, EqualsRopeThenAttention) {
  const AttentionCase c = GetParam();
  const int H = c.n_head, G = c.n_kv_head, hs = c.head_size, W = c.window, fused = (H + 2 * G) * hs;
  const int64_t pos = c.prev;
  const auto qkv = random_floats(static_cast<size_t>(fused), -2, 2, 7);
  const Bf16Data k0 = random_bf16(static_cast<size_t>(W) * G * hs, -2, 2, 8);
  const Bf16Data v0 = random_bf16(static_cast<size_t>(W) * G * hs, -1, 1, 9);
  DeviceArray<float> dqkv(qkv);
  DeviceArray<int64_t> dpos(std::vector<int64_t>{pos});
  DeviceArray<double> inv_freq(samba::cuda::rope_inv_freq(hs, 10000.0f));
  const size_t workspace = samba::cuda::decode_attention_workspace_floats(H, hs, W);
  struct Result {
    std::vector<uint16_t> out, k, v;
    std::vector<float> entropy;
  };
  const auto run = [&](bool fuse) {
    DeviceArray<uint16_t> dk(k0.bits), dv(v0.bits), dq(static_cast<size_t>(H) * hs), dout(static_cast<size_t>(H) * hs);
    DeviceArray<float> partial(std::vector<float>(workspace, 0.0f)), dent(H);
    samba::cuda::DecodeAttentionArgs a = decode_args(c, dk, dv, dpos, partial, dout, dent);
    if (fuse) {
      a.qkv = dqkv.get();
      a.inv_freq = inv_freq.get();
    } else {
      samba::cuda::RopeArgs r;
      r.qkv = dqkv.get();
      r.T = 1;
      r.n_head = H;
      r.n_kv_head = G;
      r.head_size = hs;
      r.pos = dpos.get();
      r.inv_freq = inv_freq.get();
      r.q = reinterpret_cast<bf16*>(dq.get());
      r.k = reinterpret_cast<bf16*>(dk.get());
      r.v = reinterpret_cast<bf16*>(dv.get());
      r.ring_window = W;
      samba::cuda::rope_split_qkv(r, nullptr);
      a.q = reinterpret_cast<const bf16*>(dq.get());
    }
    samba::cuda::swa_attention_decode(a, nullptr);
    return Result{dout.host(), dk.host(), dv.host(), dent.host()};
  };
  const Result plain = run(false), fused_result = run(true);
  EXPECT_EQ(fused_result.out, plain.out);
  EXPECT_EQ(fused_result.entropy, plain.entropy);
  EXPECT_EQ(fused_result.k, plain.k);
  EXPECT_EQ(fused_result.v, plain.v);
  EXPECT_NE(plain.k, k0.bits);  // the step did write the new key
}

INSTANTIATE_TEST_SUITE_P(Shapes, FusedRopeDecodeAttention,
                         ::testing::Values(AttentionCase{16, 4, 4, 16, 1, 0}, AttentionCase{32, 4, 2, 50, 1, 20},
                                           AttentionCase{64, 8, 2, 300, 1, 1234},
                                           AttentionCase{64, 32, 4, 2048, 1, 1000003},
                                           AttentionCase{128, 4, 4, 2048, 1, 5000},
                                           AttentionCase{128, 2, 1, 2048, 1, 700}));

struct ScanCase {
  int T, d_inner, kernel;  // kernel: 1 = one step at a time, 2 = blocks of d_state steps, 3 = split over time
  int segment_length = 0;  // kernel 3: steps per segment (0 = its own choice)
};

class SelectiveScan : public ::testing::TestWithParam<ScanCase> {};

TEST_P(SelectiveScan, MatchesSequentialScanAndCarriesState) {
  const ScanCase sc = GetParam();
  const int T = sc.T, di = sc.d_inner, N = 16, r = 5, ld_bc = r + 2 * N, ld_z = 2 * di;
  const auto x = random_floats(static_cast<size_t>(T) * di, -1, 1, 7);
  const auto dt = random_floats(static_cast<size_t>(T) * di, -4, 1, 8);
  const auto bias = random_floats(di, -1, 0.5f, 9);
  auto A = random_floats(static_cast<size_t>(di) * N, 0.5f, 3, 10);
  for (float& a : A) a = -a;
  const auto bc = random_floats(static_cast<size_t>(T) * ld_bc, -1, 1, 11);
  const auto z = random_floats(static_cast<size_t>(T) * ld_z, -2, 2, 12);
  const auto D = random_floats(di, 0.5f, 1.5f, 13);
  const auto h0 = random_floats(static_cast<size_t>(di) * N, -1, 1, 14);
  DeviceArray<float> dx(x), ddt(dt), dbias(bias), dA(A), dbc(bc), dz(z), dD(D), dh(h0);
  DeviceArray<uint16_t> dy(static_cast<size_t>(T) * di);
  samba::cuda::ScanArgs s;
  s.x = dx.get();
  s.dt = ddt.get();
  s.dt_bias = dbias.get();
  s.A = dA.get();
  s.B = dbc.get() + r;
  s.C = dbc.get() + r + N;
  s.ld_bc = ld_bc;
  s.z = dz.get() + di;  // z is the second half of xz rows
  s.ld_z = ld_z;
  s.D = dD.get();
  s.state = dh.get();
  s.y = reinterpret_cast<bf16*>(dy.get());
  s.T = T;
  s.d_inner = di;
  s.d_state = N;
  s.kernel = sc.kernel;
  DeviceArray<float> scratch(samba::cuda::scan_segment_scratch_floats(di, N));
  if (sc.kernel == 3) {
    s.segment_scratch = scratch.get();
    s.segment_length = sc.segment_length;
  }
  samba::cuda::selective_scan(s, nullptr);
  const std::vector<float> y = to_float(dy.host());
  const std::vector<float> h = dh.host();

  std::vector<double> want_y(y.size()), want_h(h0.begin(), h0.end());
  for (int c = 0; c < di; ++c) {
    for (int t = 0; t < T; ++t) {
      const double v = dt[t * di + c] + bias[c];
      const double d = v > 20 ? v : std::log1p(std::exp(v));
      double acc = 0;
      for (int n = 0; n < N; ++n) {
        double& hn = want_h[static_cast<size_t>(c) * N + n];
        hn = std::exp(d * A[c * N + n]) * hn + d * x[t * di + c] * bc[t * ld_bc + r + n];
        acc += hn * bc[t * ld_bc + r + N + n];
      }
      const double zv = z[t * ld_z + di + c];
      want_y[static_cast<size_t>(t) * di + c] = (acc + D[c] * x[t * di + c]) * zv / (1 + std::exp(-zv));
    }
  }
  EXPECT_LT(rel_error(y, want_y), 1e-2) << "gated output (bf16)";
  EXPECT_LT(rel_error(h, want_h), 1e-5) << "final state (fp32)";
}

// Lengths that end mid-block (37, 300) and cover the unroll tails; channel
// counts that end mid-thread-block (70, 45). The time-split scan: segments
// that end mid-tile and mid-batch (300 = 9 x 32 + 12), many segments with a
// short last one (1000 = 10 x 96 + 40), one segment, its own choice of length,
// and more channels than one thread block (200).
INSTANTIATE_TEST_SUITE_P(Kernels, SelectiveScan,
                         ::testing::Values(ScanCase{37, 70, 1}, ScanCase{37, 70, 2}, ScanCase{300, 45, 2},
                                           ScanCase{300, 45, 1}, ScanCase{16, 70, 2}, ScanCase{300, 45, 3, 32},
                                           ScanCase{1000, 70, 3, 96}, ScanCase{37, 70, 3, 64},
                                           ScanCase{1000, 200, 3, 0}, ScanCase{2048, 45, 3, 32}));

// 45 channels take the one-value kernel; 48 and 520 (more than one thread
// block) the four-channel one, whose runs of 8 tokens end mid-chunk here.
class CausalConv : public ::testing::TestWithParam<int> {};

TEST_P(CausalConv, ChunksOfAnyLengthEqualOnePass) {
  const int di = GetParam(), K = 4, T = 30;
  const auto x = random_floats(static_cast<size_t>(T) * 2 * di, -1, 1, 15);  // xz rows, x = first half
  const auto w = random_floats(static_cast<size_t>(di) * K, -1, 1, 16);
  const auto b = random_floats(di, -0.2f, 0.2f, 17);
  // Reference: one pass from a zero state.
  std::vector<double> want(static_cast<size_t>(T) * di);
  for (int c = 0; c < di; ++c)
    for (int t = 0; t < T; ++t) {
      double acc = b[c];
      for (int k = 0; k < K; ++k) {
        const int s = t - (K - 1) + k;
        if (s >= 0) acc += w[c * K + k] * x[s * 2 * di + c];
      }
      want[static_cast<size_t>(t) * di + c] = acc / (1 + std::exp(-acc));
    }
  // Device: chunks of 1, 2, 6 and 21 tokens carrying the state.
  DeviceArray<float> dx(x), dw(w), db(b), state(std::vector<float>(static_cast<size_t>(di) * (K - 1), 0.0f));
  DeviceArray<float> out(static_cast<size_t>(T) * di);
  DeviceArray<uint16_t> out_bf16(static_cast<size_t>(T) * di);
  int t0 = 0;
  for (int len : {1, 2, 6, 21}) {
    samba::cuda::causal_conv1d(dx.get() + static_cast<size_t>(t0) * 2 * di, 2 * di, state.get(), dw.get(), db.get(),
                               len, di, K, out.get() + static_cast<size_t>(t0) * di,
                               reinterpret_cast<bf16*>(out_bf16.get()) + static_cast<size_t>(t0) * di, nullptr);
    t0 += len;
  }
  EXPECT_LT(rel_error(out.host(), want), 1e-6);
  const std::vector<float> st = state.host();
  for (int c = 0; c < di; ++c)
    for (int j = 0; j < K - 1; ++j) EXPECT_EQ(st[c * (K - 1) + j], x[(T - (K - 1) + j) * 2 * di + c]);
  EXPECT_LT(rel_error(to_float(out_bf16.host()), want), 1e-2) << "bf16 copy";
}

INSTANTIATE_TEST_SUITE_P(Channels, CausalConv, ::testing::Values(45, 48, 520));

class Rope : public ::testing::TestWithParam<int> {};

// T = 3 takes the decode kernel (a block per head), T = 7 the prefill one.
TEST_P(Rope, RotatesHalvesAtLargePositions) {
  const int T = GetParam(), H = 2, G = 1, hs = 64, fused = (H + 2 * G) * hs, W = 8;
  const int64_t pos0 = 1000003;
  const auto qkv = random_floats(static_cast<size_t>(T) * fused, -1, 1, 18);
  DeviceArray<float> dqkv(qkv);
  DeviceArray<int64_t> dpos(std::vector<int64_t>{pos0});
  DeviceArray<double> inv_freq(samba::cuda::rope_inv_freq(hs, 10000.0f));
  DeviceArray<uint16_t> q(static_cast<size_t>(T) * H * hs), k(static_cast<size_t>(W) * G * hs),
      v(static_cast<size_t>(W) * G * hs);
  samba::cuda::RopeArgs a;
  a.qkv = dqkv.get();
  a.T = T;
  a.n_head = H;
  a.n_kv_head = G;
  a.head_size = hs;
  a.pos = dpos.get();
  a.inv_freq = inv_freq.get();
  a.q = reinterpret_cast<bf16*>(q.get());
  a.k = reinterpret_cast<bf16*>(k.get());
  a.v = reinterpret_cast<bf16*>(v.get());
  a.ring_window = W;  // decode-style destination: slot pos % W
  samba::cuda::rope_split_qkv(a, nullptr);
  const auto qh = to_float(q.host()), kh = to_float(k.host()), vh = to_float(v.host());
  for (int t = 0; t < T; ++t) {
    const int64_t p = pos0 + t;
    const int slot = static_cast<int>(p % W);
    for (int head = 0; head < H + G; ++head) {
      const float* src = &qkv[static_cast<size_t>(t) * fused + head * hs];
      const float* got = head < H ? &qh[(static_cast<size_t>(t) * H + head) * hs] : &kh[static_cast<size_t>(slot) * G * hs];
      for (int j = 0; j < hs / 2; ++j) {
        const double ang = static_cast<double>(p) * std::pow(10000.0, -2.0 * j / hs);
        const double o1 = src[j] * std::cos(ang) - src[j + hs / 2] * std::sin(ang);
        const double o2 = src[j] * std::sin(ang) + src[j + hs / 2] * std::cos(ang);
        ASSERT_NEAR(got[j], o1, 1e-2) << "t " << t << " head " << head << " j " << j;
        ASSERT_NEAR(got[j + hs / 2], o2, 1e-2);
      }
    }
    for (int e = 0; e < G * hs; ++e)
      ASSERT_NEAR(vh[static_cast<size_t>(slot) * G * hs + e], qkv[static_cast<size_t>(t) * fused + (H + G) * hs + e], 1e-2);
  }
}

INSTANTIATE_TEST_SUITE_P(Tokens, Rope, ::testing::Values(3, 7));

TEST(Argmax, PicksLowestIndexOfTheMaximum) {
  std::vector<float> values = random_floats(32000, -5, 5, 19);
  values[31000] = 9.0f;
  values[12345] = 9.0f;
  DeviceArray<float> dv(values);
  DeviceArray<int32_t> out(1);
  samba::cuda::argmax(dv.get(), static_cast<int>(values.size()), out.get(), nullptr);
  EXPECT_EQ(out.host()[0], 12345);
}

TEST(Gemm, LinearAndAccumulateMatchHost) {
  const int T = 5, N = 70, K = 48;
  const Bf16Data x = random_bf16(static_cast<size_t>(T) * K, -1, 1, 20);
  const Bf16Data w = random_bf16(static_cast<size_t>(N) * K, -1, 1, 21);
  const auto y0 = random_floats(static_cast<size_t>(T) * N, -1, 1, 22);
  DeviceArray<uint16_t> dx(x.bits), dw(w.bits);
  DeviceArray<float> dy(y0);
  DeviceArray<char> blas(samba::cuda::Gemm::kWorkspaceBytes);
  {
    samba::cuda::Gemm gemm(nullptr, blas.get(), samba::cuda::Gemm::kWorkspaceBytes);
    gemm.linear(reinterpret_cast<const bf16*>(dx.get()), K, reinterpret_cast<const bf16*>(dw.get()), T, N, K, dy.get(),
                N, 1.0f);
  }
  std::vector<double> want(y0.begin(), y0.end());
  for (int t = 0; t < T; ++t)
    for (int n = 0; n < N; ++n)
      for (int k = 0; k < K; ++k) want[t * N + n] += static_cast<double>(x.values[t * K + k]) * w.values[n * K + k];
  EXPECT_LT(rel_error(dy.host(), want), 1e-5);
}

// d = 300 takes the four-values-a-load path, 301 the one-value path.
class RmsNorm : public ::testing::TestWithParam<int> {};

TEST_P(RmsNorm, MatchesHost) {
  const int T = 7, d = GetParam();
  const auto x = random_floats(static_cast<size_t>(T) * d, -3, 3, 23);
  const auto w = random_floats(d, 0.5f, 1.5f, 24);
  DeviceArray<float> dx(x), dw(w);
  DeviceArray<uint16_t> out(static_cast<size_t>(T) * d);
  samba::cuda::rms_norm(dx.get(), d, dw.get(), T, d, 1e-5f, reinterpret_cast<bf16*>(out.get()), nullptr);
  std::vector<double> want(x.size());
  for (int t = 0; t < T; ++t) {
    double ss = 0;
    for (int i = 0; i < d; ++i) ss += static_cast<double>(x[t * d + i]) * x[t * d + i];
    const double inv = 1.0 / std::sqrt(ss / d + 1e-5);
    for (int i = 0; i < d; ++i) want[t * d + i] = x[t * d + i] * inv * w[i];
  }
  EXPECT_LT(rel_error(to_float(out.host()), want), 5e-3);
}

INSTANTIATE_TEST_SUITE_P(Widths, RmsNorm, ::testing::Values(300, 301));


struct GemvCase {
  int N, K, mode;
  bool x_bf16, norm;
  int ksplit = 0;  // warps per row; 0 = the launcher's own choice
  int batch = 0;   // loads in flight per lane and row (4, 8); 0 = the default
};

class Gemv : public ::testing::TestWithParam<GemvCase> {};

// The decode projection against a double loop: optional fused RMSNorm of the
// input, store / accumulate / SwiGLU output, fp32 or bf16 input.
TEST_P(Gemv, MatchesHostMatrixVector) {
  const GemvCase c = GetParam();
  const int rows = c.mode == samba::cuda::kGemvSwiGLU ? 2 * c.N : c.N;
  const Bf16Data w = random_bf16(static_cast<size_t>(rows) * c.K, -1, 1, 30);
  const Bf16Data xb = random_bf16(c.K, -2, 2, 31);  // bf16-exact values serve both input types
  const auto nw = random_floats(c.K, 0.5f, 1.5f, 32);
  const auto y0 = random_floats(c.N, -1, 1, 33);
  DeviceArray<uint16_t> dw(w.bits), dxb(xb.bits);
  DeviceArray<float> dxf(xb.values), dnw(nw), dy(y0);
  samba::cuda::GemvArgs a;
  a.w = reinterpret_cast<const bf16*>(dw.get());
  a.N = c.N;
  a.K = c.K;
  a.x = c.x_bf16 ? static_cast<const void*>(dxb.get()) : static_cast<const void*>(dxf.get());
  a.x_bf16 = c.x_bf16;
  a.norm_w = c.norm ? dnw.get() : nullptr;
  a.y = dy.get();
  a.mode = c.mode;
  a.ksplit = c.ksplit;
  a.batch = c.batch;
  samba::cuda::gemv(a, nullptr);
  std::vector<double> x(xb.values.begin(), xb.values.end());
  if (c.norm) {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double inv = 1 / std::sqrt(ss / c.K + 1e-5);
    for (int k = 0; k < c.K; ++k) x[k] *= inv * nw[k];
  }
  auto dot = [&](int row) {
    double acc = 0;
    for (int k = 0; k < c.K; ++k) acc += static_cast<double>(w.values[static_cast<size_t>(row) * c.K + k]) * x[k];
    return acc;
  };
  std::vector<double> want(c.N);
  for (int n = 0; n < c.N; ++n) {
    if (c.mode == samba::cuda::kGemvStore) want[n] = dot(n);
    if (c.mode == samba::cuda::kGemvAccumulate) want[n] = y0[n] + dot(n);
    if (c.mode == samba::cuda::kGemvSwiGLU) {
      const double g = dot(n);
      want[n] = g / (1 + std::exp(-g)) * dot(c.N + n);
    }
  }
  EXPECT_LT(rel_error(dy.host(), want), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Shapes, Gemv,
                         ::testing::Values(GemvCase{176, 4608, samba::cuda::kGemvStore, false, false},
                                           GemvCase{9216, 2304, samba::cuda::kGemvStore, false, true},
                                           GemvCase{2304, 4608, samba::cuda::kGemvAccumulate, true, false},
                                           GemvCase{6144, 2304, samba::cuda::kGemvSwiGLU, false, true},
                                           GemvCase{37, 64, samba::cuda::kGemvAccumulate, false, true},
                                           GemvCase{32000, 2048, samba::cuda::kGemvStore, false, true},
                                           GemvCase{64, 8200, samba::cuda::kGemvSwiGLU, true, false}));

// Every split the decode tuner can pick (gemv_tune) gives the same result,
// including K that is not a multiple of the split's stride.
INSTANTIATE_TEST_SUITE_P(Splits, Gemv,
                         ::testing::Values(GemvCase{2304, 6144, samba::cuda::kGemvAccumulate, false, false, 1},
                                           GemvCase{2304, 6144, samba::cuda::kGemvAccumulate, false, false, 2},
                                           GemvCase{1536, 4104, samba::cuda::kGemvStore, true, true, 4},
                                           GemvCase{176, 4608, samba::cuda::kGemvStore, false, true, 8},
                                           GemvCase{300, 2312, samba::cuda::kGemvSwiGLU, false, true, 8},
                                           GemvCase{1000, 3080, samba::cuda::kGemvSwiGLU, true, true, 4}));

// The same with eight loads in flight per lane: K shorter than one batch,
// K not a multiple of a batch, every split and mode.
INSTANTIATE_TEST_SUITE_P(Batch8, Gemv,
                         ::testing::Values(GemvCase{2304, 6144, samba::cuda::kGemvAccumulate, false, false, 1, 8},
                                           GemvCase{9216, 2304, samba::cuda::kGemvStore, true, true, 2, 8},
                                           GemvCase{1536, 4104, samba::cuda::kGemvStore, true, true, 4, 8},
                                           GemvCase{176, 4608, samba::cuda::kGemvStore, false, true, 8, 8},
                                           GemvCase{300, 2312, samba::cuda::kGemvSwiGLU, false, true, 8, 8},
                                           GemvCase{6144, 2304, samba::cuda::kGemvSwiGLU, true, false, 1, 8},
                                           GemvCase{37, 64, samba::cuda::kGemvAccumulate, false, true, 1, 8}));

// in_proj with the conv step in its epilogue (kGemvConv) equals the GEMV
// followed by causal_conv1d's own decode step: same y, same conv output (fp32
// and bf16) and the same shifted state, to the bit, for every split/batch.
TEST(GemvConv, EqualsGemvThenConvStep) {
  const int di = 1000, N = 2 * di, K = 768, taps = 4, keep = taps - 1;
  const Bf16Data w = random_bf16(static_cast<size_t>(N) * K, -1, 1, 37);
  const auto x = random_floats(K, -1, 1, 38);
  const auto nw = random_floats(K, 0.5f, 1.5f, 39);
  const auto conv_w = random_floats(static_cast<size_t>(di) * taps, -1, 1, 40);
  const auto conv_b = random_floats(di, -0.5f, 0.5f, 41);
  const auto state0 = random_floats(static_cast<size_t>(di) * keep, -1, 1, 42);
  DeviceArray<uint16_t> dw(w.bits);
  DeviceArray<float> dx(x), dnw(nw), dcw(conv_w), dcb(conv_b);
  for (const auto& [ksplit, batch] : std::vector<std::pair<int, int>>{{1, 4}, {2, 4}, {1, 8}, {2, 8}}) {
    SCOPED_TRACE("ksplit " + std::to_string(ksplit) + ", batch " + std::to_string(batch));
    samba::cuda::GemvArgs a;
    a.w = reinterpret_cast<const bf16*>(dw.get());
    a.N = N;
    a.K = K;
    a.x = dx.get();
    a.norm_w = dnw.get();
    a.ksplit = ksplit;
    a.batch = batch;
    // Reference: store, then the conv kernel's decode step.
    DeviceArray<float> y_ref(static_cast<size_t>(N)), st_ref(state0), out_ref(static_cast<size_t>(di));
    DeviceArray<uint16_t> out16_ref(static_cast<size_t>(di));
    a.y = y_ref.get();
    a.mode = samba::cuda::kGemvStore;
    samba::cuda::gemv(a, nullptr);
    samba::cuda::causal_conv1d(y_ref.get(), N, st_ref.get(), dcw.get(), dcb.get(), 1, di, taps, out_ref.get(),
                               reinterpret_cast<bf16*>(out16_ref.get()), nullptr);
    // Fused.
    DeviceArray<float> y(static_cast<size_t>(N)), st(state0), out(static_cast<size_t>(di));
    DeviceArray<uint16_t> out16(static_cast<size_t>(di));
    a.y = y.get();
    a.mode = samba::cuda::kGemvConv;
    a.conv.w = dcw.get();
    a.conv.b = dcb.get();
    a.conv.state = st.get();
    a.conv.channels = di;
    a.conv.taps = taps;
    a.conv.out = out.get();
    a.conv.out_bf16 = reinterpret_cast<bf16*>(out16.get());
    samba::cuda::gemv(a, nullptr);
    EXPECT_EQ(y.host(), y_ref.host());
    EXPECT_EQ(out.host(), out_ref.host());
    EXPECT_EQ(out16.host(), out16_ref.host());
    EXPECT_EQ(st.host(), st_ref.host());
    EXPECT_NE(st.host(), state0);  // the state did move
  }
}

// The decode form of the scan: dt projected inside the kernel from dt_low
// equals the scan on a precomputed dt.
TEST(SelectiveScanDecode, FusedDtProjectionEqualsPrecomputed) {
  const int T = 6, di = 40, N = 16, r = 7, ld_bc = r + 2 * N;
  const auto x = random_floats(static_cast<size_t>(T) * di, -1, 1, 40);
  const auto bias = random_floats(di, -1, 0.5f, 41);
  auto A = random_floats(static_cast<size_t>(di) * N, 0.5f, 3, 42);
  for (float& a : A) a = -a;
  const auto bc = random_floats(static_cast<size_t>(T) * ld_bc, -1, 1, 43);
  const auto z = random_floats(static_cast<size_t>(T) * di, -2, 2, 44);
  const auto D = random_floats(di, 0.5f, 1.5f, 45);
  const auto dtw = random_floats(static_cast<size_t>(di) * r, -0.5f, 0.5f, 46);
  std::vector<float> dt(static_cast<size_t>(T) * di);
  for (int t = 0; t < T; ++t)
    for (int c = 0; c < di; ++c) {
      double acc = 0;
      for (int j = 0; j < r; ++j) acc += static_cast<double>(dtw[c * r + j]) * bc[t * ld_bc + j];
      dt[t * di + c] = static_cast<float>(acc);
    }
  DeviceArray<float> dx(x), dbias(bias), dA(A), dbc(bc), dz(z), dD(D), ddtw(dtw), ddt(dt);
  const std::vector<float> h0(static_cast<size_t>(di) * N, 0.25f);
  DeviceArray<float> h_fused(h0), h_plain(h0);
  DeviceArray<uint16_t> y_fused(static_cast<size_t>(T) * di), y_plain(static_cast<size_t>(T) * di);
  samba::cuda::ScanArgs s;
  s.x = dx.get();
  s.dt_bias = dbias.get();
  s.A = dA.get();
  s.B = dbc.get() + r;
  s.C = dbc.get() + r + N;
  s.ld_bc = ld_bc;
  s.z = dz.get();
  s.ld_z = di;
  s.D = dD.get();
  s.T = T;
  s.d_inner = di;
  s.d_state = N;
  samba::cuda::ScanArgs plain = s;
  plain.dt = ddt.get();
  plain.state = h_plain.get();
  plain.y = reinterpret_cast<bf16*>(y_plain.get());
  samba::cuda::selective_scan(plain, nullptr);
  samba::cuda::ScanArgs fused = s;
  fused.dt_w = ddtw.get();
  fused.dt_low = dbc.get();
  fused.ld_dt_low = ld_bc;
  fused.dt_rank = r;
  fused.state = h_fused.get();
  fused.y = reinterpret_cast<bf16*>(y_fused.get());
  for (int t = 0; t < T; ++t) {  // one step at a time, as decode runs it
    fused.T = 1;
    fused.x = dx.get() + t * di;
    fused.dt_low = dbc.get() + t * ld_bc;
    fused.B = dbc.get() + t * ld_bc + r;
    fused.C = dbc.get() + t * ld_bc + r + N;
    fused.z = dz.get() + t * di;
    fused.y = reinterpret_cast<bf16*>(y_fused.get()) + t * di;
    samba::cuda::selective_scan(fused, nullptr);
  }
  const std::vector<float> hf = h_fused.host(), hp = h_plain.host();
  std::vector<double> hp_d(hp.begin(), hp.end());
  EXPECT_LT(rel_error(hf, hp_d), 1e-5);
  const std::vector<float> yp = to_float(y_plain.host());
  EXPECT_LT(rel_error(to_float(y_fused.host()), std::vector<double>(yp.begin(), yp.end())), 1e-2);
}

// ---- the exact precision's fp32 kernels (Precision::exact) ----------------
// Against the same double loops as above, on fp32 inputs: the outputs are
// fp32 now, so the bounds are fp32 rounding (~1e-6 relative), not bf16's.

class PrefillAttentionF32 : public ::testing::TestWithParam<AttentionCase> {};

TEST_P(PrefillAttentionF32, MatchesBandMaskedSoftmaxInFp32) {
  const AttentionCase c = GetParam();
  const int H = c.n_head, G = c.n_kv_head, hs = c.head_size, T = c.T, nk = c.prev + T;
  const int64_t q_pos0 = 1000 + c.prev, key_pos0 = 1000;
  const auto q = random_floats(static_cast<size_t>(T) * H * hs, -2, 2, 51);
  const auto k = random_floats(static_cast<size_t>(nk) * G * hs, -2, 2, 52);
  const auto v = random_floats(static_cast<size_t>(nk) * G * hs, -1, 1, 53);
  DeviceArray<float> dq(q), dk(k), dv(v), dout(static_cast<size_t>(T) * H * hs), dent(static_cast<size_t>(T) * H);
  samba::cuda::PrefillAttentionArgsT<float> a;
  a.q = dq.get();
  a.k = dk.get();
  a.v = dv.get();
  a.out = dout.get();
  a.entropy = dent.get();
  a.T = T;
  a.n_head = H;
  a.n_kv_head = G;
  a.head_size = hs;
  a.window = c.window;
  a.n_keys = nk;
  a.q_pos0 = q_pos0;
  a.key_pos0 = key_pos0;
  samba::cuda::swa_attention_prefill(a, nullptr);
  const std::vector<float> out = dout.host(), ent = dent.host();
  std::vector<double> want(out.size()), want_ent(ent.size());
  for (int t = 0; t < T; ++t) {
    const int64_t p = q_pos0 + t;
    for (int h = 0; h < H; ++h) {
      const int g = h / (H / G);
      std::vector<const float*> ks, vs;
      for (int j = 0; j < nk; ++j) {
        const int64_t kp = key_pos0 + j;
        if (kp <= p && kp > p - c.window) {
          ks.push_back(&k[(static_cast<size_t>(j) * G + g) * hs]);
          vs.push_back(&v[(static_cast<size_t>(j) * G + g) * hs]);
        }
      }
      reference_attention(&q[(static_cast<size_t>(t) * H + h) * hs], ks, vs, hs,
                          &want[(static_cast<size_t>(t) * H + h) * hs], &want_ent[static_cast<size_t>(t) * H + h]);
    }
  }
  EXPECT_LT(rel_error(out, want), 1e-5) << "attention output";
  double max_ent = 0;
  for (size_t i = 0; i < ent.size(); ++i) max_ent = std::max(max_ent, std::abs(ent[i] - want_ent[i]));
  EXPECT_LT(max_ent, 2e-5) << "entropy";
  // Without the entropy output the attention itself is the same (the same
  // arithmetic; only the compiler's scheduling may differ between the two
  // kernel instances, so the bound is fp32 rounding, not bitwise).
  a.entropy = nullptr;
  DeviceArray<float> dout2(out.size());
  a.out = dout2.get();
  samba::cuda::swa_attention_prefill(a, nullptr);
  EXPECT_LT(rel_error(dout2.host(), std::vector<double>(out.begin(), out.end())), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Shapes, PrefillAttentionF32,
                         ::testing::Values(AttentionCase{16, 4, 4, 16, 70, 15}, AttentionCase{32, 4, 2, 50, 150, 37},
                                           AttentionCase{64, 8, 2, 100, 200, 99}, AttentionCase{128, 2, 1, 64, 130, 0},
                                           AttentionCase{64, 2, 2, 300, 64, 299},
                                           AttentionCase{128, 4, 2, 1000, 97, 999}));

class DecodeAttentionF32 : public ::testing::TestWithParam<AttentionCase> {};

TEST_P(DecodeAttentionF32, MatchesRingSoftmaxInFp32) {
  const AttentionCase c = GetParam();
  const int H = c.n_head, G = c.n_kv_head, hs = c.head_size, W = c.window;
  const int64_t pos = c.prev;
  const auto q = random_floats(static_cast<size_t>(H) * hs, -2, 2, 54);
  const auto k = random_floats(static_cast<size_t>(W) * G * hs, -2, 2, 55);
  const auto v = random_floats(static_cast<size_t>(W) * G * hs, -1, 1, 56);
  DeviceArray<float> dq(q), dk(k), dv(v), dout(static_cast<size_t>(H) * hs), dent(H);
  DeviceArray<int64_t> dpos(std::vector<int64_t>{pos});
  DeviceArray<float> partial(std::vector<float>(samba::cuda::decode_attention_workspace_floats(H, hs, W), 0.0f));
  samba::cuda::DecodeAttentionArgsT<float> a;
  a.q = dq.get();
  a.k_ring = dk.get();
  a.v_ring = dv.get();
  a.pos = dpos.get();
  a.partial = partial.get();
  a.out = dout.get();
  a.entropy = dent.get();
  a.n_head = H;
  a.n_kv_head = G;
  a.head_size = hs;
  a.window = W;
  samba::cuda::swa_attention_decode(a, nullptr);
  DeviceArray<float>::check(cudaMemset(dout.get(), 0, static_cast<size_t>(H) * hs * sizeof(float)));
  samba::cuda::swa_attention_decode(a, nullptr);  // the tickets reset themselves
  const std::vector<float> out = dout.host(), ent = dent.host();
  const int n_valid = static_cast<int>(std::min<int64_t>(pos + 1, W));
  std::vector<double> want(out.size()), want_ent(H);
  for (int h = 0; h < H; ++h) {
    const int g = h / (H / G);
    std::vector<const float*> ks, vs;
    for (int j = 0; j < n_valid; ++j) {
      ks.push_back(&k[(static_cast<size_t>(j) * G + g) * hs]);
      vs.push_back(&v[(static_cast<size_t>(j) * G + g) * hs]);
    }
    reference_attention(&q[static_cast<size_t>(h) * hs], ks, vs, hs, &want[static_cast<size_t>(h) * hs], &want_ent[h]);
  }
  EXPECT_LT(rel_error(out, want), 1e-5);
  for (int h = 0; h < H; ++h) EXPECT_NEAR(ent[h], want_ent[h], 2e-5) << "head " << h;
}

INSTANTIATE_TEST_SUITE_P(Shapes, DecodeAttentionF32,
                         ::testing::Values(AttentionCase{16, 4, 4, 16, 1, 0}, AttentionCase{32, 4, 2, 50, 1, 20},
                                           AttentionCase{64, 8, 2, 300, 1, 1234},
                                           AttentionCase{128, 4, 4, 2048, 1, 5000},
                                           AttentionCase{128, 2, 1, 2048, 1, 700}));

// The scan's fp32 output form: y in fp32 (every kernel, expf), state as before.
TEST(SelectiveScanF32, BothKernelsMatchSequentialScanInFp32) {
  const int T = 300, di = 45, N = 16, r = 5, ld_bc = r + 2 * N, ld_z = 2 * di;
  const auto x = random_floats(static_cast<size_t>(T) * di, -1, 1, 57);
  const auto dt = random_floats(static_cast<size_t>(T) * di, -4, 1, 58);
  const auto bias = random_floats(di, -1, 0.5f, 59);
  auto A = random_floats(static_cast<size_t>(di) * N, 0.5f, 3, 60);
  for (float& a : A) a = -a;
  const auto bc = random_floats(static_cast<size_t>(T) * ld_bc, -1, 1, 61);
  const auto z = random_floats(static_cast<size_t>(T) * ld_z, -2, 2, 62);
  const auto D = random_floats(di, 0.5f, 1.5f, 63);
  const auto h0 = random_floats(static_cast<size_t>(di) * N, -1, 1, 64);
  std::vector<double> want_y(static_cast<size_t>(T) * di), want_h(h0.begin(), h0.end());
  for (int c = 0; c < di; ++c)
    for (int t = 0; t < T; ++t) {
      const double v = dt[t * di + c] + bias[c];
      const double d = v > 20 ? v : std::log1p(std::exp(v));
      double acc = 0;
      for (int n = 0; n < N; ++n) {
        double& hn = want_h[static_cast<size_t>(c) * N + n];
        hn = std::exp(d * A[c * N + n]) * hn + d * x[t * di + c] * bc[t * ld_bc + r + n];
        acc += hn * bc[t * ld_bc + r + N + n];
      }
      const double zv = z[t * ld_z + di + c];
      want_y[static_cast<size_t>(t) * di + c] = (acc + D[c] * x[t * di + c]) * zv / (1 + std::exp(-zv));
    }
  DeviceArray<float> scratch(samba::cuda::scan_segment_scratch_floats(di, N));
  for (int kernel : {1, 2, 3}) {
    DeviceArray<float> dx(x), ddt(dt), dbias(bias), dA(A), dbc(bc), dz(z), dD(D), dh(h0), dy(static_cast<size_t>(T) * di);
    samba::cuda::ScanArgsT<float> s;
    s.x = dx.get();
    s.dt = ddt.get();
    s.dt_bias = dbias.get();
    s.A = dA.get();
    s.B = dbc.get() + r;
    s.C = dbc.get() + r + N;
    s.ld_bc = ld_bc;
    s.z = dz.get() + di;
    s.ld_z = ld_z;
    s.D = dD.get();
    s.state = dh.get();
    s.y = dy.get();
    s.T = T;
    s.d_inner = di;
    s.d_state = N;
    s.kernel = kernel;
    s.segment_scratch = scratch.get();
    s.segment_length = 32;  // kernel 3: ten segments, the last one mid-tile
    samba::cuda::selective_scan(s, nullptr);
    EXPECT_LT(rel_error(dy.host(), want_y), 1e-5) << "kernel " << kernel << ": gated output (fp32)";
    EXPECT_LT(rel_error(dh.host(), want_h), 1e-5) << "kernel " << kernel << ": final state";
  }
}

class RmsNormF32 : public ::testing::TestWithParam<int> {};

TEST_P(RmsNormF32, MatchesHostInFp32) {
  const int T = 9, d = GetParam();
  const auto x = random_floats(static_cast<size_t>(T) * d, -3, 3, 65);
  const auto w = random_floats(d, 0.5f, 1.5f, 66);
  DeviceArray<float> dx(x), dw(w), out(static_cast<size_t>(T) * d);
  samba::cuda::rms_norm(dx.get(), d, dw.get(), T, d, 1e-5f, out.get(), nullptr);
  std::vector<double> want(x.size());
  for (int t = 0; t < T; ++t) {
    double ss = 0;
    for (int i = 0; i < d; ++i) ss += static_cast<double>(x[t * d + i]) * x[t * d + i];
    const double inv = 1.0 / std::sqrt(ss / d + 1e-5);
    for (int i = 0; i < d; ++i) want[t * d + i] = x[t * d + i] * inv * w[i];
  }
  EXPECT_LT(rel_error(out.host(), want), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Widths, RmsNormF32, ::testing::Values(2304, 2302));

// I = 300 takes the four-values-a-load path, 301 the one-value path.
class SwigluF32 : public ::testing::TestWithParam<int> {};

TEST_P(SwigluF32, MatchesHostInBothTypes) {
  const int T = 3, I = GetParam();
  const auto gu = random_floats(static_cast<size_t>(T) * 2 * I, -4, 4, 67);
  DeviceArray<float> dgu(gu), out(static_cast<size_t>(T) * I);
  DeviceArray<uint16_t> out_bf16(static_cast<size_t>(T) * I);
  samba::cuda::swiglu(dgu.get(), T, I, out.get(), nullptr);
  samba::cuda::swiglu(dgu.get(), T, I, reinterpret_cast<bf16*>(out_bf16.get()), nullptr);
  std::vector<double> want(static_cast<size_t>(T) * I);
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < I; ++i) {
      const double g = gu[t * 2 * I + i], u = gu[t * 2 * I + I + i];
      want[t * I + i] = g / (1 + std::exp(-g)) * u;
    }
  EXPECT_LT(rel_error(out.host(), want), 1e-6);
  EXPECT_LT(rel_error(to_float(out_bf16.host()), want), 1e-2);
}

INSTANTIATE_TEST_SUITE_P(Widths, SwigluF32, ::testing::Values(300, 301));

TEST(RopeF32, RotatesHalvesInFp32) {
  const int T = 3, H = 2, G = 1, hs = 64, fused = (H + 2 * G) * hs, prev = 5;
  const int64_t pos0 = 1000003;
  const auto qkv = random_floats(static_cast<size_t>(T) * fused, -1, 1, 68);
  DeviceArray<float> dqkv(qkv);
  DeviceArray<int64_t> dpos(std::vector<int64_t>{pos0});
  DeviceArray<double> inv_freq(samba::cuda::rope_inv_freq(hs, 10000.0f));
  DeviceArray<float> q(static_cast<size_t>(T) * H * hs), k(static_cast<size_t>(prev + T) * G * hs),
      v(static_cast<size_t>(prev + T) * G * hs);
  samba::cuda::RopeArgsT<float> a;
  a.qkv = dqkv.get();
  a.T = T;
  a.n_head = H;
  a.n_kv_head = G;
  a.head_size = hs;
  a.pos = dpos.get();
  a.inv_freq = inv_freq.get();
  a.q = q.get();
  a.k = k.get();
  a.v = v.get();
  a.dst_row0 = prev;  // prefill-style destination: the key buffer after `prev` older rows
  samba::cuda::rope_split_qkv(a, nullptr);
  const auto qh = q.host(), kh = k.host(), vh = v.host();
  for (int t = 0; t < T; ++t) {
    const int64_t p = pos0 + t;
    for (int head = 0; head < H + G; ++head) {
      const float* src = &qkv[static_cast<size_t>(t) * fused + head * hs];
      const float* got = head < H ? &qh[(static_cast<size_t>(t) * H + head) * hs] : &kh[static_cast<size_t>(prev + t) * G * hs];
      for (int j = 0; j < hs / 2; ++j) {
        const double ang = static_cast<double>(p) * std::pow(10000.0, -2.0 * j / hs);
        ASSERT_NEAR(got[j], src[j] * std::cos(ang) - src[j + hs / 2] * std::sin(ang), 2e-6) << "t " << t << " j " << j;
        ASSERT_NEAR(got[j + hs / 2], src[j] * std::sin(ang) + src[j + hs / 2] * std::cos(ang), 2e-6);
      }
    }
    for (int e = 0; e < G * hs; ++e)
      ASSERT_EQ(vh[static_cast<size_t>(prev + t) * G * hs + e], qkv[static_cast<size_t>(t) * fused + (H + G) * hs + e]);
  }
}

// fp32 GEMM: no TF32 allowed. K = 1024 makes TF32's 10-bit mantissa show as a
// ~1e-3 relative error; full fp32 stays near 1e-7.
TEST(GemmF32, LinearIsFullFp32WithoutTf32) {
  const int T = 7, N = 96, K = 1024;
  const auto x = random_floats(static_cast<size_t>(T) * K, -1, 1, 69);
  const auto w = random_floats(static_cast<size_t>(N) * K, -1, 1, 70);
  const auto y0 = random_floats(static_cast<size_t>(T) * N, -1, 1, 71);
  DeviceArray<float> dx(x), dw(w), dy(y0), dy_store(static_cast<size_t>(T) * N);
  DeviceArray<char> blas(samba::cuda::Gemm::kWorkspaceBytes);
  {
    samba::cuda::Gemm gemm(nullptr, blas.get(), samba::cuda::Gemm::kWorkspaceBytes, /*pedantic=*/true);
    gemm.linear(dx.get(), K, dw.get(), T, N, K, dy.get(), N, 1.0f);
    gemm.linear(dx.get(), K, dw.get(), T, N, K, dy_store.get(), N);
  }
  std::vector<double> want(y0.begin(), y0.end()), want_store(static_cast<size_t>(T) * N, 0.0);
  for (int t = 0; t < T; ++t)
    for (int n = 0; n < N; ++n) {
      double acc = 0;
      for (int k = 0; k < K; ++k) acc += static_cast<double>(x[t * K + k]) * w[n * K + k];
      want[t * N + n] += acc;
      want_store[t * N + n] = acc;
    }
  EXPECT_LT(rel_error(dy.host(), want), 1e-6);
  EXPECT_LT(rel_error(dy_store.host(), want_store), 1e-6);
}

TEST(WidenBf16, IsExact) {
  const Bf16Data w = random_bf16(100003, -3, 3, 72);
  DeviceArray<uint16_t> dw(w.bits);
  DeviceArray<float> out(w.bits.size());
  samba::cuda::widen_bf16(reinterpret_cast<const bf16*>(dw.get()), w.bits.size(), out.get(), nullptr);
  EXPECT_EQ(out.host(), w.values);
}

// Key-window moves by bytes: fp32 rows gathered from and stored to a ring.
TEST(KeyWindowF32, GatherAndStoreFp32Rows) {
  const int W = 8, row = 64, count = 6;
  const int64_t first = 13;  // wraps around the ring
  const auto ring = random_floats(static_cast<size_t>(W) * row, -1, 1, 73);
  DeviceArray<float> dring(ring), buf(static_cast<size_t>(count) * row);
  samba::cuda::gather_window(dring.get(), W, first, count, row * sizeof(float), buf.get(), nullptr);
  const auto got = buf.host();
  for (int i = 0; i < count; ++i)
    for (int e = 0; e < row; ++e) ASSERT_EQ(got[i * row + e], ring[((first + i) % W) * row + e]) << i;
  const auto fresh = random_floats(static_cast<size_t>(count) * row, -1, 1, 74);
  DeviceArray<float> dfresh(fresh);
  samba::cuda::store_window(dfresh.get(), first, count, W, row * sizeof(float), dring.get(), nullptr);
  const auto after = dring.host();
  for (int i = 0; i < count; ++i)
    for (int e = 0; e < row; ++e) ASSERT_EQ(after[((first + i) % W) * row + e], fresh[i * row + e]) << i;
}

// The exact mode's conv writes no bf16 copy (null pointer) and the same fp32 output.
TEST_P(CausalConv, WithoutBf16CopyGivesTheSameFp32Output) {
  const int di = GetParam(), K = 4, T = 9;
  const auto x = random_floats(static_cast<size_t>(T) * 2 * di, -1, 1, 75);
  const auto w = random_floats(static_cast<size_t>(di) * K, -1, 1, 76);
  const auto b = random_floats(di, -0.2f, 0.2f, 77);
  const std::vector<float> zero(static_cast<size_t>(di) * (K - 1), 0.0f);
  DeviceArray<float> dx(x), dw(w), db(b), s1(zero), s2(zero), o1(static_cast<size_t>(T) * di), o2(static_cast<size_t>(T) * di);
  DeviceArray<uint16_t> o1_bf16(static_cast<size_t>(T) * di);
  for (int t0 : {0, 4, 5}) {  // a chunk of 4, one token (the decode kernel), a chunk of 4
    const int len = t0 == 4 ? 1 : 4;
    samba::cuda::causal_conv1d(dx.get() + static_cast<size_t>(t0) * 2 * di, 2 * di, s1.get(), dw.get(), db.get(), len,
                               di, K, o1.get() + static_cast<size_t>(t0) * di,
                               reinterpret_cast<bf16*>(o1_bf16.get()) + static_cast<size_t>(t0) * di, nullptr);
    samba::cuda::causal_conv1d(dx.get() + static_cast<size_t>(t0) * 2 * di, 2 * di, s2.get(), dw.get(), db.get(), len,
                               di, K, o2.get() + static_cast<size_t>(t0) * di, nullptr, nullptr);
  }
  EXPECT_EQ(o2.host(), o1.host());
  EXPECT_EQ(s2.host(), s1.host());
}
// Last in this file: if the chain ever failed its barrier (a trap), the
// CUDA context would be lost for every test after it.
// The persistent chain of projections (gemv_chain) against the same
// projections launched one by one with the same splits: a decode-like chain
// where each op reads what the one before wrote (attention proj into the
// residual, norm + w1|w2 + SwiGLU, w3 into the residual, norm + in_proj with
// the conv step, x_proj from the conv output), every split, bf16 and fp32
// inputs. Same bits in every output and in the conv state, over several
// launches in a row and over graph replays (the barrier counter carries on
// from launch to launch).
TEST(GemvChain, EqualsTheSameProjectionsOneByOne) {
  const int d = 512, qd = 384, I = 1000, di = 640, taps = 4, n_dbc = 56;
  const Bf16Data w_proj = random_bf16(static_cast<size_t>(d) * qd, -0.1f, 0.1f, 60);
  const Bf16Data w12 = random_bf16(static_cast<size_t>(2 * I) * d, -0.1f, 0.1f, 61);
  const Bf16Data w3 = random_bf16(static_cast<size_t>(d) * I, -0.1f, 0.1f, 62);
  const Bf16Data w_in = random_bf16(static_cast<size_t>(2 * di) * d, -0.1f, 0.1f, 63);
  const Bf16Data w_x = random_bf16(static_cast<size_t>(n_dbc) * di, -0.1f, 0.1f, 64);
  const Bf16Data attn = random_bf16(qd, -1, 1, 65);
  const auto x0 = random_floats(d, -1, 1, 66);
  const auto norm2 = random_floats(d, 0.5f, 1.5f, 67);
  const auto norm1 = random_floats(d, 0.5f, 1.5f, 68);
  const auto conv_w = random_floats(static_cast<size_t>(di) * taps, -0.5f, 0.5f, 69);
  const auto conv_b = random_floats(di, -0.1f, 0.1f, 70);
  const auto state0 = random_floats(static_cast<size_t>(di) * (taps - 1), -1, 1, 71);
  DeviceArray<uint16_t> dproj(w_proj.bits), d12(w12.bits), d3(w3.bits), din(w_in.bits), dxw(w_x.bits), dattn(attn.bits);
  DeviceArray<float> dn2(norm2), dn1(norm1), dcw(conv_w), dcb(conv_b);
  DeviceArray<unsigned long long> counter(std::vector<unsigned long long>{0});

  // One set of activations: the residual stream, SwiGLU output, in_proj
  // output, conv state and outputs, x_proj output.
  struct Activations {
    DeviceArray<float> x, gate_up, xz, state, xc, dbc;
    DeviceArray<uint16_t> xc16;
    Activations(const std::vector<float>& x0, const std::vector<float>& state0, int I, int di, int n_dbc)
        : x(x0), gate_up(static_cast<size_t>(I)), xz(static_cast<size_t>(2 * di)), state(state0),
          xc(static_cast<size_t>(di)), dbc(static_cast<size_t>(n_dbc)), xc16(static_cast<size_t>(di)) {}
  };
  auto ops_for = [&](Activations& act, const std::array<int, 5>& splits) {
    std::vector<samba::cuda::GemvArgs> ops(5);
    auto set = [&](samba::cuda::GemvArgs& a, const DeviceArray<uint16_t>& w, int N, int K, const void* x, bool x_bf16,
                   const float* norm_w, float* y, int mode, int split) {
      a.w = reinterpret_cast<const bf16*>(w.get());
      a.N = N;
      a.K = K;
      a.x = x;
      a.x_bf16 = x_bf16;
      a.norm_w = norm_w;
      a.y = y;
      a.mode = mode;
      a.ksplit = split;
      a.batch = 4;
    };
    set(ops[0], dproj, d, qd, dattn.get(), true, nullptr, act.x.get(), samba::cuda::kGemvAccumulate, splits[0]);
    set(ops[1], d12, I, d, act.x.get(), false, dn2.get(), act.gate_up.get(), samba::cuda::kGemvSwiGLU, splits[1]);
    set(ops[2], d3, d, I, act.gate_up.get(), false, nullptr, act.x.get(), samba::cuda::kGemvAccumulate, splits[2]);
    set(ops[3], din, 2 * di, d, act.x.get(), false, dn1.get(), act.xz.get(), samba::cuda::kGemvConv, splits[3]);
    ops[3].conv.w = dcw.get();
    ops[3].conv.b = dcb.get();
    ops[3].conv.state = act.state.get();
    ops[3].conv.channels = di;
    ops[3].conv.taps = taps;
    ops[3].conv.out = act.xc.get();
    ops[3].conv.out_bf16 = reinterpret_cast<bf16*>(act.xc16.get());
    set(ops[4], dxw, n_dbc, di, act.xc.get(), false, nullptr, act.dbc.get(), samba::cuda::kGemvStore, splits[4]);
    return ops;
  };
  auto expect_same = [](const Activations& got, const Activations& want) {
    EXPECT_EQ(got.x.host(), want.x.host());
    EXPECT_EQ(got.gate_up.host(), want.gate_up.host());
    EXPECT_EQ(got.xz.host(), want.xz.host());
    EXPECT_EQ(got.state.host(), want.state.host());
    EXPECT_EQ(got.xc.host(), want.xc.host());
    EXPECT_EQ(got.xc16.host(), want.xc16.host());
    EXPECT_EQ(got.dbc.host(), want.dbc.host());
  };
  // Every launch adds (kGemvChainMaxOps - 1) per block, whatever its length.
  unsigned long long launches = 0;
  auto expect_counter = [&] {
    EXPECT_EQ(counter.host()[0], launches * (samba::cuda::kGemvChainMaxOps - 1) *
                                     static_cast<unsigned long long>(samba::cuda::gemv_chain_blocks()));
  };
  for (const auto& splits : {std::array<int, 5>{1, 1, 2, 1, 8}, std::array<int, 5>{8, 4, 8, 2, 4}}) {
    SCOPED_TRACE("splits " + std::to_string(splits[0]) + std::to_string(splits[1]) + std::to_string(splits[2]) +
                 std::to_string(splits[3]) + std::to_string(splits[4]));
    Activations want(x0, state0, I, di, n_dbc), got(x0, state0, I, di, n_dbc);
    const auto one_by_one = ops_for(want, splits);
    const auto chained = ops_for(got, splits);
    samba::cuda::GemvChainArgs chain;
    for (const auto& op : chained) chain.ops[chain.n_ops++] = op;
    chain.counter = counter.get();
    // Three launches in a row on the stream...
    for (int step = 0; step < 3; ++step) {
      for (const auto& op : one_by_one) samba::cuda::gemv(op, nullptr);
      samba::cuda::gemv_chain(chain, nullptr);
      ++launches;
    }
    expect_same(got, want);
    expect_counter();
    EXPECT_NE(got.state.host(), state0);  // the chain did work
    // ... then a captured graph of two chains of different lengths, replayed three times.
    cudaStream_t stream;
    ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
    samba::cuda::GemvChainArgs first = chain, rest = chain;
    first.n_ops = 2;
    rest.n_ops = 3;
    for (int i = 0; i < 3; ++i) rest.ops[i] = chain.ops[i + 2];
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    ASSERT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), cudaSuccess);
    samba::cuda::gemv_chain(first, stream);
    samba::cuda::gemv_chain(rest, stream);
    ASSERT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
    ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
    for (int replay = 0; replay < 3; ++replay) {
      for (const auto& op : one_by_one) samba::cuda::gemv(op, nullptr);
      ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);  // one chain at a time on the device, nothing beside it
      ASSERT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
      ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
      launches += 2;
    }
    expect_same(got, want);
    expect_counter();
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    cudaStreamDestroy(stream);
  }
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

}  // namespace

int main(int argc, char** argv) {
  std::string why;
  if (!samba::cuda_device_present(&why)) {
    std::printf("SKIPPED: the CUDA kernel tests need a CUDA device: %s\n", why.c_str());
    return 77;
  }
  std::printf("device: %s\n", samba::cuda_device_summary().c_str());
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

#else  // built without CUDA (no nvcc): nothing to test here

#include <cstdio>

int main() {
  std::printf("SKIPPED: the CUDA kernel tests need a build with CUDA (this one was built without nvcc)\n");
  return 77;
}

#endif  // SAMBA_HAVE_CUDA
