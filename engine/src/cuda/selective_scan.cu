// Mamba-1 selective scan, fp32, for a chunk of T tokens (T = 1 is the decode
// state update). Parallel over (channel, state): the d_state lanes of one
// channel sit in one warp segment and sum h . C with shuffles; sequential
// over time, in groups of kUnroll steps whose loads are issued before the
// recurrence needs them (the recurrence itself is one FMA per step).
//   dt = softplus(dt_raw + bias); h = exp(dt A) h + dt x B; y = h . C + D x
//   out = y * silu(z)
// The chunk starts from `state` and leaves its final state there, so a long
// input can be read in chunks and resumed.
//
// Two kernels. The step kernel does one time step per iteration (decode,
// short inputs, and the dt projection fused in). The blocked kernel (prefill)
// takes d_state steps at a time: lane n of a channel loads x, dt, z of step
// t0 + n and computes its softplus once, then the steps broadcast them with
// shuffles while each lane keeps h_n; the d_state partial sums h_n C_n of the
// d_state steps are reduced in one butterfly (d_state - 1 shuffles instead
// of log2(d_state) per step), after which lane n holds step t0 + n's output.
// The next block's loads are issued before the current block is computed.
//
// The output type Y is the backend's activation type: bf16 (fast mode) or
// fp32 (exact mode, which also uses expf where the fast mode uses __expf).
#include <cstdlib>
#include <cstring>

#include "cuda/activation.cuh"
#include "cuda/cuda_check.h"
#include "cuda/d_state_dispatch.h"
#include "cuda/ops.h"
#include "cuda/pdl.cuh"
#include "cuda/reduce.cuh"
#include "samba/error.h"

namespace samba::cuda {

namespace {
constexpr int kThreads = 128;
constexpr int kUnroll = 4;

__device__ __forceinline__ float softplus(float v) { return v > 20.0f ? v : log1pf(expf(v)); }

// dt before bias for step t: loaded, or projected here from dt_low with the
// N lanes of the channel splitting the rank (all lanes get the sum).
template <int N, class Y>
__device__ __forceinline__ float raw_dt(const ScanArgsT<Y>& a, size_t t, int c, int n) {
  if (!a.dt_w) return a.dt[t * a.d_inner + c];
  const float* wr = a.dt_w + static_cast<size_t>(c) * a.dt_rank;
  const float* lo = a.dt_low + t * a.ld_dt_low;
  float s = 0.0f;
  for (int j = n; j < a.dt_rank; j += N) s += wr[j] * lo[j];
#pragma unroll
  for (int offset = N / 2; offset > 0; offset >>= 1) s += __shfl_xor_sync(0xffffffffu, s, offset, N);
  return s;
}

template <int N, class Y>
__global__ void __launch_bounds__(kThreads) scan_kernel(const ScanArgsT<Y> a) {
  wait_for_previous_kernel();  // decode launches it early (PDL): x, B, C come from the kernels before
  allow_next_kernel_launch();  // decode: the out_proj GEMV may start streaming its weights
  const int gid = blockIdx.x * blockDim.x + threadIdx.x;
  const int n = gid % N;
  const bool active = gid / N < a.d_inner;
  // Threads past the last channel still take part in the shuffles.
  const int c = active ? gid / N : a.d_inner - 1;
  const int di = a.d_inner, T = a.T;
  const float A = a.A[static_cast<size_t>(c) * N + n];
  const float bias = a.dt_bias[c];
  const float Dc = a.D[c];
  float h = a.state[static_cast<size_t>(c) * N + n];
  const float* __restrict__ xs = a.x;
  const float* __restrict__ Bs = a.B;
  const float* __restrict__ Cs = a.C;
  const float* __restrict__ zs = a.z;
  Y* __restrict__ ys = a.y;

  int t = 0;
  for (; t + kUnroll <= T; t += kUnroll) {
    float xv[kUnroll], dv[kUnroll], bv[kUnroll], cv[kUnroll], yp[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const size_t row = static_cast<size_t>(t + u);
      xv[u] = xs[row * di + c];
      dv[u] = raw_dt<N>(a, row, c, n);
      bv[u] = Bs[row * a.ld_bc + n];
      cv[u] = Cs[row * a.ld_bc + n];
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const float dt = softplus(dv[u] + bias);
      h = expf(dt * A) * h + dt * xv[u] * bv[u];
      yp[u] = h * cv[u];
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
#pragma unroll
      for (int offset = N / 2; offset > 0; offset >>= 1) yp[u] += __shfl_xor_sync(0xffffffffu, yp[u], offset, N);
    }
    if (n == 0 && active) {
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        const size_t row = static_cast<size_t>(t + u);
        const float zv = zs[row * a.ld_z + c];
        ys[row * di + c] = from_float<Y>((yp[u] + Dc * xv[u]) * silu(zv));
      }
    }
  }
  for (; t < T; ++t) {
    const size_t row = static_cast<size_t>(t);
    const float xv = xs[row * di + c];
    const float dt = softplus(raw_dt<N>(a, row, c, n) + bias);
    h = expf(dt * A) * h + dt * xv * Bs[row * a.ld_bc + n];
    float yp = h * Cs[row * a.ld_bc + n];
#pragma unroll
    for (int offset = N / 2; offset > 0; offset >>= 1) yp += __shfl_xor_sync(0xffffffffu, yp, offset, N);
    if (n == 0 && active) {
      const float zv = zs[row * a.ld_z + c];
      ys[row * di + c] = from_float<Y>((yp + Dc * xv) * silu(zv));
    }
  }
  if (active) a.state[static_cast<size_t>(c) * N + n] = h;
}

template <int N>
struct StepBlock {
  float x, dt, z;   // this lane's step t0 + n
  float B[N], C[N]; // every step of the block, state n
};

template <int N, class Y>
__device__ __forceinline__ void load_block(const ScanArgsT<Y>& a, int t0, int c, int n, float bias, StepBlock<N>& b) {
  const int t = t0 + n;
  if (t < a.T) {
    const size_t row = static_cast<size_t>(t);
    b.x = a.x[row * a.d_inner + c];
    b.dt = softplus(a.dt[row * a.d_inner + c] + bias);
    b.z = a.z[row * a.ld_z + c];
  } else {  // past the end: dt = 0 leaves h unchanged
    b.x = 0.0f;
    b.dt = 0.0f;
    b.z = 0.0f;
  }
#pragma unroll
  for (int i = 0; i < N; ++i) {
    const int ti = t0 + i;
    b.B[i] = ti < a.T ? a.B[static_cast<size_t>(ti) * a.ld_bc + n] : 0.0f;
    b.C[i] = ti < a.T ? a.C[static_cast<size_t>(ti) * a.ld_bc + n] : 0.0f;
  }
}

template <int N, class Y>
__global__ void __launch_bounds__(kThreads) scan_blocked_kernel(const ScanArgsT<Y> a) {
  const int gid = blockIdx.x * blockDim.x + threadIdx.x;
  const int n = gid % N;
  const bool active = gid / N < a.d_inner;
  const int c = active ? gid / N : a.d_inner - 1;
  const float A = a.A[static_cast<size_t>(c) * N + n];
  const float bias = a.dt_bias[c];
  const float Dc = a.D[c];
  float h = a.state[static_cast<size_t>(c) * N + n];
  StepBlock<N> cur, next;
  load_block<N>(a, 0, c, n, bias, next);
  for (int t0 = 0; t0 < a.T; t0 += N) {
    cur = next;
    if (t0 + N < a.T) load_block<N>(a, t0 + N, c, n, bias, next);
    float v[N];
#pragma unroll
    for (int i = 0; i < N; ++i) {
      const float dt = __shfl_sync(0xffffffffu, cur.dt, i, N);
      const float xv = __shfl_sync(0xffffffffu, cur.x, i, N);
      h = act_exp<Y>(dt * A) * h + (dt * xv) * cur.B[i];
      v[i] = h * cur.C[i];
    }
    // Reduce-scatter over the N lanes: after the round of width w, lane n
    // holds the partial sums of the w steps whose index agrees with n in
    // the bits above w; at the end v[0] is the full sum for step t0 + n.
#pragma unroll
    for (int half = N / 2; half >= 1; half /= 2) {
      const bool upper = (n & half) != 0;
#pragma unroll
      for (int i = 0; i < half; ++i) {
        const float send = upper ? v[i] : v[i + half];
        const float keep = upper ? v[i + half] : v[i];
        v[i] = keep + __shfl_xor_sync(0xffffffffu, send, half, N);
      }
    }
    const int t = t0 + n;
    if (active && t < a.T)
      a.y[static_cast<size_t>(t) * a.d_inner + c] = from_float<Y>((v[0] + Dc * cur.x) * silu(cur.z));
  }
  if (active) a.state[static_cast<size_t>(c) * N + n] = h;
}

// SAMBA_CUDA_SCAN=sequential|blocked|segmented forces the automatic choice
// (benchmarks and comparisons); 0 = not forced.
int forced_kernel() {
  static const int forced = [] {
    const char* v = std::getenv("SAMBA_CUDA_SCAN");
    if (!v) return 0;
    if (std::strcmp(v, "sequential") == 0) return 1;
    if (std::strcmp(v, "blocked") == 0) return 2;
    if (std::strcmp(v, "segmented") == 0) return 3;
    return 0;
  }();
  return forced;
}

// Chunks at least this long go to the time-split scan when the caller gave
// its scratch: below it, d_inner x d_state lanes already keep the GPU busy
// for the few steps there are.
constexpr int kSegmentedMinSteps = 256;

template <int N, class Y>
void launch(const ScanArgsT<Y>& a, cudaStream_t stream) {
  const size_t threads = static_cast<size_t>(a.d_inner) * N;
  const unsigned blocks = static_cast<unsigned>((threads + kThreads - 1) / kThreads);
  int kernel = a.kernel;
  if (kernel == 0 && !a.dt_w) {
    kernel = forced_kernel();
    if (kernel == 3 && !a.segment_scratch) kernel = 0;
    if (kernel == 0) kernel = a.T >= kSegmentedMinSteps && a.segment_scratch ? 3 : (a.T >= 2 * N ? 2 : 1);
  }
  if (kernel == 0 || a.dt_w) kernel = 1;
  if (kernel == 3) {
    selective_scan_segmented(a, stream);
    return;
  }
  if (kernel == 2)  // never with dt_w: that forced kernel 1 above
    scan_blocked_kernel<N, Y><<<blocks, kThreads, 0, stream>>>(a);
  else if (a.T == 1)
    launch_with_pdl(scan_kernel<N, Y>, dim3(blocks), dim3(kThreads), 0, stream, a);  // decode
  else
    scan_kernel<N, Y><<<blocks, kThreads, 0, stream>>>(a);
  SAMBA_CUDA_CHECK_LAUNCH();
}

template <class Y>
void dispatch(const ScanArgsT<Y>& a, cudaStream_t stream) {
  if (a.T <= 0) return;
  with_d_state(a.d_state, [&](auto n) { launch<decltype(n)::value>(a, stream); });
}
}  // namespace

void selective_scan(const ScanArgsT<bf16>& a, cudaStream_t stream) { dispatch(a, stream); }

void selective_scan(const ScanArgsT<float>& a, cudaStream_t stream) { dispatch(a, stream); }

}  // namespace samba::cuda
