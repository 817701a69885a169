// Launchers of the CUDA backend's kernels, one operation per .cu file.
// Shapes are row-major; fp32 tensors carry the residual stream, the Mamba
// state and everything precision-sensitive (model-spec.md). The activations
// that feed the GEMMs and the attention have the backend's activation type
// `Act`: bf16 in the fast mode, fp32 in the exact mode (Precision::exact),
// so the launchers that produce or read them exist for both types.
// Every launcher enqueues on `stream` and checks the launch.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace samba::cuda {

using bf16 = __nv_bfloat16;

// embedding.cu: x[t][:] = float(table[tokens[t]][:]).
void embed_tokens(const int32_t* tokens, const bf16* table, int T, int d, float* x, cudaStream_t stream);

// rms_norm.cu: out[t] = x[t] * rsqrt(mean(x[t]^2) + eps) * w, computed in fp32,
// stored as the next GEMM's activation type. Row t of x starts at x + t * ld_x.
// (The residual add that precedes every norm happens inside the GEMM that
// produces the mixer/MLP output: cuBLAS accumulates into x with beta = 1, so
// the norm reads the updated stream once and nothing else touches it.)
void rms_norm(const float* x, int ld_x, const float* w, int T, int d, float eps, bf16* out,
              cudaStream_t stream);
void rms_norm(const float* x, int ld_x, const float* w, int T, int d, float eps, float* out,
              cudaStream_t stream);

// causal_conv1d.cu: depthwise causal conv over `taps` inputs (the last tap
// multiplies the current token), bias, SiLU. Inputs before the chunk come
// from `state` [channels][taps-1] (oldest first), which is then replaced by
// the chunk's last taps-1 inputs. Input row t starts at x + t * ld_x.
// `out_bf16` (a bf16 copy of `out` for the fast mode's x_proj GEMM) may be
// null: the exact mode reads `out` itself.
void causal_conv1d(const float* x, int ld_x, float* state, const float* w, const float* b, int T,
                   int channels, int taps, float* out, bf16* out_bf16, cudaStream_t stream);

// selective_scan.cu: the Mamba-1 selective scan over T steps for all
// channels in parallel, fp32 throughout, starting from `state` and leaving
// the final state there. Also applies D and the SiLU(z) gate. The gated
// output y has the activation type Y (bf16 or float).
template <class Y>
struct ScanArgsT {
  const float* x = nullptr;        // [T][d_inner] conv output
  const float* dt = nullptr;       // [T][d_inner] dt_proj output, before bias and softplus
  // Or, when dt_w is set, the dt projection is done here (decode: one launch
  // less): dt[t][c] = dt_w[c][:] . dt_low[t][:], dt_low row t at dt_low + t * ld_dt_low.
  const float* dt_w = nullptr;     // [d_inner][dt_rank], fp32
  const float* dt_low = nullptr;
  int ld_dt_low = 0, dt_rank = 0;
  const float* dt_bias = nullptr;  // [d_inner]
  const float* A = nullptr;        // [d_inner][d_state], already -exp(A_log)
  const float* B = nullptr;        // B[t][n] at B + t * ld_bc + n
  const float* C = nullptr;        // C[t][n] at C + t * ld_bc + n
  int ld_bc = 0;
  const float* z = nullptr;        // z[t][c] at z + t * ld_z + c
  int ld_z = 0;
  const float* D = nullptr;        // [d_inner]
  float* state = nullptr;          // [d_inner][d_state], in and out
  Y* y = nullptr;                  // [T][d_inner]
  int T = 0, d_inner = 0, d_state = 0;
  // Which kernel: 0 = chosen by T (environment SAMBA_CUDA_SCAN=sequential,
  // blocked or segmented forces one), 1 = one step at a time, 2 = blocks of
  // d_state steps (prefill),
  // 3 = split over time (selective_scan_segmented.cu), which needs the scratch
  // below; the automatic choice takes it for long chunks when it is given.
  int kernel = 0;
  float* segment_scratch = nullptr;  // scan_segment_scratch_floats(d_inner, d_state) floats
  int segment_length = 0;            // kernel 3: steps per segment (0 = chosen to fill the GPU; lengthened when the scratch needs it)
};
using ScanArgs = ScanArgsT<bf16>;
void selective_scan(const ScanArgsT<bf16>& args, cudaStream_t stream);
// fp32 output; exp() in full precision (expf, not __expf) in every kernel.
void selective_scan(const ScanArgsT<float>& args, cudaStream_t stream);

// selective_scan_segmented.cu: the same scan with the T steps split into
// segments that run in parallel (summaries from a zero state, folded in
// order, then each segment again from its true start state).
constexpr int kMaxScanSegments = 64;
size_t scan_segment_scratch_floats(int d_inner, int d_state);
void selective_scan_segmented(const ScanArgsT<bf16>& args, cudaStream_t stream);
void selective_scan_segmented(const ScanArgsT<float>& args, cudaStream_t stream);

// rope.cu: splits the fused projection [T][(H + 2G) * hs] (all q heads, then
// k heads, then v heads), rotates q and k at absolute positions *pos + t
// (GPT-NeoX half split, angles in double precision so positions in the
// millions stay exact), writes q [T][H * hs] and the keys/values rows.
// Destination row of token t: (*pos + t) % ring_window when ring_window > 0
// (decode: straight into the ring), else dst_row0 + t (prefill buffer).
// q, k and v have the activation type Act (bf16 or float).
template <class Act>
struct RopeArgsT {
  const float* qkv = nullptr;
  int T = 0, n_head = 0, n_kv_head = 0, head_size = 0;
  const double* inv_freq = nullptr;  // [head_size / 2] device table from rope_inv_freq()
  const int64_t* pos = nullptr;
  Act* q = nullptr;
  Act* k = nullptr;
  Act* v = nullptr;
  int ring_window = 0;
  int dst_row0 = 0;
};
using RopeArgs = RopeArgsT<bf16>;
void rope_split_qkv(const RopeArgsT<bf16>& args, cudaStream_t stream);
void rope_split_qkv(const RopeArgsT<float>& args, cudaStream_t stream);
// base^(-2j/hs) for j < hs/2, in double, computed as the CPU backend does.
std::vector<double> rope_inv_freq(int head_size, float base);

// kv_window.cu: moves rows between a ring of `window` slots (slot = pos % W)
// and a contiguous buffer. gather: dst[i] = ring[(first_pos + i) % W];
// store: ring[(first_pos + i) % W] = src[i]. Rows of row_bytes bytes (a
// multiple of 16: bf16 or fp32 rows of whole heads), so one kernel serves both
// activation types.
void gather_window(const void* ring, int window, int64_t first_pos, int count, size_t row_bytes, void* dst,
                   cudaStream_t stream);
void store_window(const void* src, int64_t first_pos, int count, int window, size_t row_bytes, void* ring,
                  cudaStream_t stream);

// swa_attention_prefill.cu: sliding-window flash attention for a chunk of
// queries on bf16 tensor cores (mma.sync m16n8k16, fp32 accumulation and
// softmax). Query t (absolute q_pos0 + t) sees keys at absolute positions
// max(0, p - W + 1) .. p; key row j holds absolute position key_pos0 + j.
// Key tiles entirely outside a query tile's window are never loaded.
// Optional entropy per (t, head): H = m + ln l - S/l, accumulated online.
template <class Act>
struct PrefillAttentionArgsT {
  const Act* q = nullptr;           // [T][H * hs]
  const Act* k = nullptr;           // [n_keys][G * hs]
  const Act* v = nullptr;           // [n_keys][G * hs]
  Act* out = nullptr;               // [T][H * hs]
  float* entropy = nullptr;       // [T][H] or null
  int T = 0, n_head = 0, n_kv_head = 0, head_size = 0, window = 0, n_keys = 0;
  int64_t q_pos0 = 0, key_pos0 = 0;
  // bf16 only: 0 = the pipelined kernel unless SAMBA_CUDA_ATTENTION=simple|lean,
  // 1 = the simple kernel, 2 = the pipelined kernel, 3 = its lean form
  // (swa_attention_prefill.cu; tests compare all three).
  int kernel = 0;
};
using PrefillAttentionArgs = PrefillAttentionArgsT<bf16>;
void swa_attention_prefill(const PrefillAttentionArgsT<bf16>& args, cudaStream_t stream);
bool prefill_attention_supports(int head_size);
// swa_attention_prefill_f32.cu: the same attention with fp32 q, k, v, P and
// output on CUDA cores (the exact mode): tiles of queries share K/V tiles in
// shared memory, key tiles outside the window band are skipped, online
// softmax and entropy as above with expf.
void swa_attention_prefill(const PrefillAttentionArgsT<float>& args, cudaStream_t stream);

// swa_attention_decode.cu: one query per head against the ring buffer
// (min(pos + 1, W) keys), split over key blocks then combined; reads the
// position from device memory so a captured graph can be replayed. q, the
// rings and the output have the activation type Act (bf16, or float with
// expf in the softmax).
template <class Act>
struct DecodeAttentionArgsT {
  const Act* q = nullptr;         // [H * hs]
  Act* k_ring = nullptr;          // [W][G * hs] (written only with qkv, below)
  Act* v_ring = nullptr;
  const int64_t* pos = nullptr;   // position of the query; its key is already in the ring
  float* partial = nullptr;       // decode_attention_workspace_floats(...) floats, zeroed once before first use
  Act* out = nullptr;             // [H * hs]
  float* entropy = nullptr;       // [H] or null
  int n_head = 0, n_kv_head = 0, head_size = 0, window = 0;
  // RoPE fused in (decode with the fused GEMV): when qkv is set, q is not
  // read; the kernel rotates q from qkv ([H + 2G][hs] fp32, the projection's
  // output), and the block that holds ring slot pos % W writes the rotated
  // key and the value there first — what rope_split_qkv would have done.
  const float* qkv = nullptr;
  const double* inv_freq = nullptr;  // [hs / 2], rope_inv_freq()
};
using DecodeAttentionArgs = DecodeAttentionArgsT<bf16>;
size_t decode_attention_workspace_floats(int n_head, int head_size, int window);
int decode_attention_max_window();
void swa_attention_decode(const DecodeAttentionArgsT<bf16>& args, cudaStream_t stream);
void swa_attention_decode(const DecodeAttentionArgsT<float>& args, cudaStream_t stream);

// gemv.cu: one-token projections y = W x (W bf16 [N][K], K % 8 == 0, x
// fp32 or bf16), optionally with the RMSNorm of x fused in (norm_w not null:
// x is replaced by x * rsqrt(mean(x^2) + eps) * norm_w). Modes: store y,
// accumulate into y (the residual stream), or SwiGLU over a fused [2N][K]
// matrix (y[n] = silu(row n . x) * (row N + n . x)).
// kGemvConv stores y and also makes the decode step of Mamba's causal conv
// on rows 0 .. conv.channels-1 (the x half of in_proj), exactly as
// causal_conv1d does for T = 1: the conv needs only its own channel, so the
// GEMV's epilogue does it and the step has one launch fewer per Mamba layer.
enum GemvMode { kGemvStore = 0, kGemvAccumulate = 1, kGemvSwiGLU = 2, kGemvConv = 3 };

struct GemvConv {
  const float* w = nullptr;  // [channels][taps]
  const float* b = nullptr;  // [channels]
  float* state = nullptr;    // [channels][taps-1], oldest first; shifted in place
  int channels = 0, taps = 0;
  float* out = nullptr;      // SiLU(conv) [channels]
  bf16* out_bf16 = nullptr;  // its bf16 copy, or null
};

struct GemvArgs {
  const bf16* w = nullptr;
  int N = 0, K = 0;
  const void* x = nullptr;
  bool x_bf16 = false;
  const float* norm_w = nullptr;
  float eps = 1e-5f;
  float* y = nullptr;
  int mode = kGemvStore;
  int ksplit = 0;  // warps per row (1, 2, 4, 8); 0 = chosen from the shape
  int batch = 0;   // 16-byte weight loads in flight per lane and row (4 or 8); 0 = 4
  GemvConv conv;   // kGemvConv only
};
bool gemv_supports(int K);
void gemv(const GemvArgs& args, cudaStream_t stream);
// Times every ksplit, and batch 4 and (with try_batch8) 8, on `instances` (one shape, e.g. the same projection of
// every layer: distinct weights, so the timing streams from memory as decode
// does and not from L2), with the outputs redirected to `scratch_y` (>= N
// floats), and returns the fastest. Not inside a stream capture.
struct GemvChoice {
  int ksplit = 0, batch = 0;
};
GemvChoice gemv_tune(std::vector<GemvArgs> instances, float* scratch_y, cudaStream_t stream, bool try_batch8);

// gemv_chain.cu: up to kGemvChainMaxOps projections that follow one another in
// a decode step, in one persistent launch with grid-wide barriers between
// them (op i+1 may read what op i wrote). Each op needs its ksplit set (1, 2,
// 4, 8; e.g. from gemv_tune) and batch 0 or 4; the results are the bits
// gemv() gives with the same split. `counter`: one 64-bit word of device
// memory, zeroed once, used by no one else (it only grows).
constexpr int kGemvChainMaxOps = 8;
struct GemvChainArgs {
  GemvArgs ops[kGemvChainMaxOps];
  int n_ops = 0;
  unsigned long long* counter = nullptr;
};
void gemv_chain(const GemvChainArgs& chain, cudaStream_t stream);
// Blocks of every chain launch: as many as fit on all SMs at once (they must
// all be resident: one chain at a time on the device). Each launch adds
// (kGemvChainMaxOps - 1) * gemv_chain_blocks() to the counter.
int gemv_chain_blocks();

// swiglu.cu: out[t][i] = silu(gate_up[t][i]) * gate_up[t][I + i].
void swiglu(const float* gate_up, int T, int I, bf16* out, cudaStream_t stream);
void swiglu(const float* gate_up, int T, int I, float* out, cudaStream_t stream);

// argmax.cu: *out = index of the largest of n values (lowest index on ties);
// also adds 1 to *advance_position when given (the end of a decode step).
void argmax(const float* values, int n, int32_t* out, cudaStream_t stream, int64_t* advance_position = nullptr);

// misc.cu: the device-side position (so a decode graph needs no host
// input) and deterministic pseudo-random fills for benchmarks.
void set_position(int64_t* pos, int64_t value, cudaStream_t stream);
void fill_uniform_bf16(bf16* out, size_t n, uint64_t seed, float lo, float hi, cudaStream_t stream);
void fill_uniform_f32(float* out, size_t n, uint64_t seed, float lo, float hi, cudaStream_t stream);
void fill_constant_f32(float* out, size_t n, float value, cudaStream_t stream);

// widen_bf16.cu: out[i] = float(in[i]) (exact): the fp32 copies of the
// weights that the exact mode's GEMMs read, made on the device at load time.
void widen_bf16(const bf16* in, size_t n, float* out, cudaStream_t stream);

}  // namespace samba::cuda
