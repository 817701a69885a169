// Splits the fused q|k|v projection, applies RoPE (GPT-NeoX half split) to q
// and k, and stores q for the attention kernel and k, v in their destination
// rows (the prefill key buffer, or the ring slot pos % W while decoding), in
// the activation type (bf16, or fp32 in the exact mode).
//
// Angles are pos * base^(-2j/hs) in double precision (rope_angle.cuh; the
// frequencies come from a table made once on the host), and each (token,
// frequency) pair computes its sin/cos once for all heads.
#include <cmath>

#include "cuda/activation.cuh"
#include "cuda/cuda_check.h"
#include "cuda/ops.h"
#include "cuda/pdl.cuh"
#include "cuda/rope_angle.cuh"

namespace samba::cuda {

namespace {
constexpr int kThreads = 256;

template <class Act>
__global__ void __launch_bounds__(kThreads) rope_kernel(const RopeArgsT<Act> a) {
  const int t = blockIdx.x;
  const int hs = a.head_size, half = hs / 2;
  const int H = a.n_head, G = a.n_kv_head;
  const int64_t pos = *a.pos + t;
  const int64_t row = a.ring_window > 0 ? pos % a.ring_window : static_cast<int64_t>(a.dst_row0) + t;
  const float* src = a.qkv + static_cast<size_t>(t) * (H + 2 * G) * hs;
  Act* q_out = a.q + static_cast<size_t>(t) * H * hs;
  Act* k_out = a.k + static_cast<size_t>(row) * G * hs;
  Act* v_out = a.v + static_cast<size_t>(row) * G * hs;
  // Thread -> (frequency j, first head); the heads of a j are strided
  // (half <= 64 for the head sizes supported, so every j has a thread).
  const int groups = kThreads / half;
  const int j = threadIdx.x % half;
  float sf, cf;
  rope_sincos(pos, a.inv_freq[j], &sf, &cf);
  for (int head = threadIdx.x / half; head < H + G; head += groups) {
    Act* dst = head < H ? q_out + head * hs : k_out + (head - H) * hs;
    float o1, o2;
    rope_rotate(src[head * hs + j], src[head * hs + j + half], sf, cf, &o1, &o2);
    dst[j] = from_float<Act>(o1);
    dst[j + half] = from_float<Act>(o2);
  }
  const float* v_src = src + (H + G) * hs;
  for (int i = threadIdx.x; i < G * hs; i += kThreads) v_out[i] = from_float<Act>(v_src[i]);
}

// Decode (a few tokens): one block per (token, head) instead of one per
// token. A single block took 4-7 us for the 36-54 heads of the benchmark
// shapes (Nsight Compute), almost all of it one thread's walk over the
// heads; a block per head is one load, one rotation, one store. Blocks
// H + G ... H + 2G - 1 copy the value heads. Launched with programmatic
// dependent launch: the launch overlaps the qkv GEMV's tail.
template <class Act>
__global__ void rope_heads_kernel(const RopeArgsT<Act> a) {
  wait_for_previous_kernel();
  allow_next_kernel_launch();
  const int t = blockIdx.x, head = blockIdx.y, j = threadIdx.x;
  const int hs = a.head_size, half = hs / 2;
  const int H = a.n_head, G = a.n_kv_head;
  const int64_t pos = *a.pos + t;
  const int64_t row = a.ring_window > 0 ? pos % a.ring_window : static_cast<int64_t>(a.dst_row0) + t;
  const float* src = a.qkv + static_cast<size_t>(t) * (H + 2 * G) * hs + static_cast<size_t>(head) * hs;
  if (head >= H + G) {
    Act* v_out = a.v + static_cast<size_t>(row) * G * hs + static_cast<size_t>(head - H - G) * hs;
    v_out[j] = from_float<Act>(src[j]);
    v_out[j + half] = from_float<Act>(src[j + half]);
    return;
  }
  float sf, cf;
  rope_sincos(pos, a.inv_freq[j], &sf, &cf);
  Act* dst = head < H ? a.q + static_cast<size_t>(t) * H * hs + static_cast<size_t>(head) * hs
                      : a.k + static_cast<size_t>(row) * G * hs + static_cast<size_t>(head - H) * hs;
  float o1, o2;
  rope_rotate(src[j], src[j + half], sf, cf, &o1, &o2);
  dst[j] = from_float<Act>(o1);
  dst[j + half] = from_float<Act>(o2);
}

constexpr int kMaxHeadsKernelTokens = 4;

template <class Act>
void launch(const RopeArgsT<Act>& a, cudaStream_t stream) {
  if (a.T <= 0) return;
  if (a.T > kMaxHeadsKernelTokens) {
    rope_kernel<Act><<<a.T, kThreads, 0, stream>>>(a);
    SAMBA_CUDA_CHECK_LAUNCH();
    return;
  }
  launch_with_pdl(rope_heads_kernel<Act>, dim3(static_cast<unsigned>(a.T), static_cast<unsigned>(a.n_head + 2 * a.n_kv_head)),
                  dim3(static_cast<unsigned>(a.head_size / 2)), 0, stream, a);
}
}  // namespace

std::vector<double> rope_inv_freq(int head_size, float base) {
  std::vector<double> inv(head_size / 2);
  for (int j = 0; j < head_size / 2; ++j) inv[j] = std::pow(static_cast<double>(base), -2.0 * j / head_size);
  return inv;
}

void rope_split_qkv(const RopeArgsT<bf16>& a, cudaStream_t stream) { launch(a, stream); }

void rope_split_qkv(const RopeArgsT<float>& a, cudaStream_t stream) { launch(a, stream); }

}  // namespace samba::cuda
