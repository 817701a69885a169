// The prefill selective scan split over time, for long chunks.
//
// Why: the per-lane scan (selective_scan.cu) keeps one (channel, state) pair
// per lane and walks all T steps in order. At real shapes that is only
// d_inner * d_state lanes (e.g. 73,728 for Samba_1.3B), register-heavy, with
// a serial chain per step: the H200 sat at ~12% of its issue rate (949 us
// for 4096 tokens of Samba_1.3B, a quarter of the whole prefill).
//
// How: the recurrence h_t = e_t h_{t-1} + b_t (e_t = exp(dt_t A), b_t =
// dt_t x_t B_t) is linear in h, so a segment of steps maps a start state h0
// to P h0 + h_loc, where P = exp(A * sum(dt)) and h_loc is the segment's
// result from h0 = 0. Three kernels:
//   1. summary: every (segment, channel) runs its segment from zero and
//      writes h_loc and sum(dt);
//   2. prefix: every (channel, state) folds the summaries in order from the
//      carried state, leaving each segment's true start state in place of
//      its h_loc, and writes the final state back to `state`;
//   3. output: every (segment, channel) runs its segment again from its
//      start state and writes the gated output y.
// Each thread owns a whole channel: its d_state states are independent
// chains (instruction-level parallelism of d_state), no shuffles are needed
// for h . C, and softplus(dt) is computed once per step, not once per state.
// The segments multiply the threads until the GPU is full. B and C rows are
// shared by all channels, so a block stages them in shared memory per tile.
// The arithmetic is done twice (kernels 1 and 3); it is no longer what
// limits the scan, the exp units are (d_state exponentials per step).
#include <algorithm>
#include <cstdlib>

#include "cuda/activation.cuh"
#include "cuda/cuda_check.h"
#include "cuda/d_state_dispatch.h"
#include "cuda/ops.h"
#include "cuda/reduce.cuh"
#include "samba/error.h"

namespace samba::cuda {

namespace {
constexpr int kThreads = 128;  // channels per block
constexpr int kTile = 32;      // steps whose B (and C) rows a block stages at once
constexpr int kBatch = 8;      // steps whose x, dt (and z) a thread loads before using them

__device__ __forceinline__ float softplus(float v) { return v > 20.0f ? v : log1pf(expf(v)); }

// The per-channel inputs of kBatch steps, loaded before any is used so the
// loads overlap. Steps at or past `end` get dt = 0, which leaves h unchanged.
struct StepInputs {
  float x[kBatch], dt[kBatch], z[kBatch];
};

template <bool kWithZ, class Y>
__device__ __forceinline__ void load_steps(const ScanArgsT<Y>& a, int t, int end, int c, float bias, StepInputs& in) {
#pragma unroll
  for (int i = 0; i < kBatch; ++i) {
    const size_t row = static_cast<size_t>(t + i < end ? t + i : t);  // past the end: any valid row
    in.x[i] = a.x[row * a.d_inner + c];
    in.dt[i] = a.dt[row * a.d_inner + c];
    if (kWithZ) in.z[i] = a.z[row * a.ld_z + c];
  }
#pragma unroll
  for (int i = 0; i < kBatch; ++i) in.dt[i] = t + i < end ? softplus(in.dt[i] + bias) : 0.0f;
}

// Stages rows [t, t + steps) of B (and C) for the block: s[i][n].
template <int N, bool kWithC, class Y>
__device__ __forceinline__ void stage_bc(const ScanArgsT<Y>& a, int t, int steps, float (*sB)[N], float (*sC)[N]) {
  __syncthreads();  // the previous tile is no longer read
  for (int i = threadIdx.x; i < steps * N; i += blockDim.x) {
    const size_t off = static_cast<size_t>(t + i / N) * a.ld_bc + i % N;
    sB[i / N][i % N] = a.B[off];
    if (kWithC) sC[i / N][i % N] = a.C[off];
  }
  __syncthreads();
}

template <int N, class Y>
__global__ void __launch_bounds__(kThreads) summary_kernel(const ScanArgsT<Y> a, int seg_len, float* __restrict__ h_loc,
                                                          float* __restrict__ dt_sum) {
  __shared__ float sB[kTile][N];
  const int s = blockIdx.y;
  const int c_raw = blockIdx.x * kThreads + threadIdx.x;
  const bool active = c_raw < a.d_inner;
  const int c = active ? c_raw : a.d_inner - 1;  // idle threads still help stage B
  const int t0 = s * seg_len, t1 = min(a.T, t0 + seg_len);
  float A[N], h[N];
#pragma unroll
  for (int n = 0; n < N; ++n) {
    A[n] = a.A[static_cast<size_t>(c) * N + n];
    h[n] = 0.0f;
  }
  const float bias = a.dt_bias[c];
  float sum = 0.0f;
  for (int tile = t0; tile < t1; tile += kTile) {
    const int steps = min(kTile, t1 - tile);
    stage_bc<N, false>(a, tile, steps, sB, nullptr);
    for (int i0 = 0; i0 < steps; i0 += kBatch) {
      StepInputs in;
      load_steps<false>(a, tile + i0, t1, c, bias, in);
#pragma unroll
      for (int i = 0; i < kBatch; ++i) {
        if (i0 + i >= steps) break;
        const float dt = in.dt[i], dx = dt * in.x[i];
        sum += dt;
#pragma unroll
        for (int n = 0; n < N; ++n) h[n] = act_exp<Y>(dt * A[n]) * h[n] + dx * sB[i0 + i][n];
      }
    }
  }
  if (!active) return;
  const size_t base = (static_cast<size_t>(s) * a.d_inner + c) * N;
#pragma unroll
  for (int n = 0; n < N; ++n) h_loc[base + n] = h[n];
  dt_sum[static_cast<size_t>(s) * a.d_inner + c] = sum;
}

// One thread per (channel, state): start states of every segment, in place.
template <int N, class Y>
__global__ void prefix_kernel(const ScanArgsT<Y> a, int segments, float* __restrict__ h_loc,
                              const float* __restrict__ dt_sum) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= a.d_inner * N) return;
  const int c = i / N;
  const float A = a.A[i];
  float h = a.state[i];
  for (int s = 0; s < segments; ++s) {
    const size_t at = static_cast<size_t>(s) * a.d_inner * N + i;
    const float local = h_loc[at];
    h_loc[at] = h;
    h = act_exp<Y>(A * dt_sum[static_cast<size_t>(s) * a.d_inner + c]) * h + local;
  }
  a.state[i] = h;
}

template <int N, class Y>
__global__ void __launch_bounds__(kThreads) output_kernel(const ScanArgsT<Y> a, int seg_len,
                                                         const float* __restrict__ h_start) {
  __shared__ float sB[kTile][N];
  __shared__ float sC[kTile][N];
  const int s = blockIdx.y;
  const int c_raw = blockIdx.x * kThreads + threadIdx.x;
  const bool active = c_raw < a.d_inner;
  const int c = active ? c_raw : a.d_inner - 1;
  const int t0 = s * seg_len, t1 = min(a.T, t0 + seg_len);
  float A[N], h[N];
  const size_t base = (static_cast<size_t>(s) * a.d_inner + c) * N;
#pragma unroll
  for (int n = 0; n < N; ++n) {
    A[n] = a.A[static_cast<size_t>(c) * N + n];
    h[n] = h_start[base + n];
  }
  const float bias = a.dt_bias[c];
  const float Dc = a.D[c];
  for (int tile = t0; tile < t1; tile += kTile) {
    const int steps = min(kTile, t1 - tile);
    stage_bc<N, true>(a, tile, steps, sB, sC);
    for (int i0 = 0; i0 < steps; i0 += kBatch) {
      StepInputs in;
      load_steps<true>(a, tile + i0, t1, c, bias, in);
#pragma unroll
      for (int i = 0; i < kBatch; ++i) {
        if (i0 + i >= steps) break;
        const float dt = in.dt[i], dx = dt * in.x[i];
        float acc = 0.0f;
#pragma unroll
        for (int n = 0; n < N; ++n) {
          h[n] = act_exp<Y>(dt * A[n]) * h[n] + dx * sB[i0 + i][n];
          acc += h[n] * sC[i0 + i][n];
        }
        if (active) {
          const size_t row = static_cast<size_t>(tile + i0 + i);
          a.y[row * a.d_inner + c] = from_float<Y>((acc + Dc * in.x[i]) * silu(in.z[i]));
        }
      }
    }
  }
}

// Segment length: enough segments that channels x segments fill the GPU
// about once (more only adds summaries to fold), in whole tiles.
int segment_length(int T, int d_inner, int resident_threads) {
  const long long want = (static_cast<long long>(T) * d_inner + resident_threads - 1) / resident_threads;
  int len = static_cast<int>(std::min<long long>(std::max<long long>(want, kTile), T));
  len = (len + kTile - 1) / kTile * kTile;
  // The scratch holds kMaxScanSegments summaries.
  while ((T + len - 1) / len > kMaxScanSegments) len += kTile;
  return std::min(len, T);
}

template <int N, class Y>
int resident_threads() {
  static const int threads = [] {
    int dev = 0, sms = 0, blocks = 0;
    SAMBA_CUDA_CHECK(cudaGetDevice(&dev));
    SAMBA_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
    SAMBA_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, output_kernel<N, Y>, kThreads, 0));
    return std::max(1, sms * blocks * kThreads);
  }();
  return threads;
}

// SAMBA_CUDA_SCAN_SEGMENT=steps forces the segment length (benchmarks).
int forced_segment_length() {
  static const int forced = [] {
    const char* v = std::getenv("SAMBA_CUDA_SCAN_SEGMENT");
    return v ? std::max(0, std::atoi(v)) : 0;
  }();
  return forced;
}

template <int N, class Y>
void launch(const ScanArgsT<Y>& a, cudaStream_t stream) {
  if (a.T <= 0) return;
  if (!a.segment_scratch) throw Error(ErrorKind::InvalidArgument, "CUDA backend: segmented scan without scratch");
  int seg_len = a.segment_length > 0 ? a.segment_length : forced_segment_length();
  if (seg_len <= 0) seg_len = segment_length(a.T, a.d_inner, resident_threads<N, Y>());
  // A length given by the caller or SAMBA_CUDA_SCAN_SEGMENT that would need more segment
  // summaries than the scratch holds is lengthened to fit, not refused.
  seg_len = std::max(seg_len, (a.T + kMaxScanSegments - 1) / kMaxScanSegments);
  const int segments = (a.T + seg_len - 1) / seg_len;
  float* h_loc = a.segment_scratch;
  float* dt_sum = h_loc + static_cast<size_t>(kMaxScanSegments) * a.d_inner * N;
  const dim3 grid((a.d_inner + kThreads - 1) / kThreads, segments);
  summary_kernel<N, Y><<<grid, kThreads, 0, stream>>>(a, seg_len, h_loc, dt_sum);
  SAMBA_CUDA_CHECK_LAUNCH();
  const int pairs = a.d_inner * N;
  prefix_kernel<N, Y><<<(pairs + 255) / 256, 256, 0, stream>>>(a, segments, h_loc, dt_sum);
  SAMBA_CUDA_CHECK_LAUNCH();
  output_kernel<N, Y><<<grid, kThreads, 0, stream>>>(a, seg_len, h_loc);
  SAMBA_CUDA_CHECK_LAUNCH();
}

template <class Y>
void dispatch(const ScanArgsT<Y>& a, cudaStream_t stream) {
  with_d_state(a.d_state, [&](auto n) { launch<decltype(n)::value>(a, stream); });
}
}  // namespace

size_t scan_segment_scratch_floats(int d_inner, int d_state) {
  return static_cast<size_t>(kMaxScanSegments) * d_inner * (d_state + 1);
}

void selective_scan_segmented(const ScanArgsT<bf16>& a, cudaStream_t stream) { dispatch(a, stream); }

void selective_scan_segmented(const ScanArgsT<float>& a, cudaStream_t stream) { dispatch(a, stream); }

}  // namespace samba::cuda
