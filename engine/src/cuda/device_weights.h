// The model's weights on the device: bf16 for every GEMM operand (the
// embedding, which is also the tied output head, included), fp32 for the
// norms and for the Mamba pieces the spec keeps in fp32 (conv, A, D, dt).
// q/k/v are stored as one fused [(H + 2G) hs, d] matrix and w1/w2 as one
// [2I, d] matrix, so each needs a single GEMM.
//
// The exact mode (Precision::exact) also keeps an fp32 copy of every GEMM
// matrix (the `_f32` members, null otherwise), widened on the device from the
// bf16 ones at load time: fp32 GEMMs against the same weight values the fast
// mode and the CPU backend (which widens bf16 to fp32 too) use.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "cuda/device_memory.h"
#include "samba/config.h"

namespace samba {
class ModelFiles;
}

namespace samba::cuda {

struct MambaLayerWeights {
  __nv_bfloat16* in_proj = nullptr;   // [2 di][d]
  float* conv_w = nullptr;            // [di][d_conv]
  float* conv_b = nullptr;            // [di]
  __nv_bfloat16* x_proj = nullptr;    // [r + 2n][di]
  float* dt_proj = nullptr;           // [di][r], fp32
  float* dt_bias = nullptr;           // [di]
  float* A = nullptr;                 // [di][n] = -exp(A_log)
  float* D = nullptr;                 // [di]
  __nv_bfloat16* out_proj = nullptr;  // [d][di]
  float* in_proj_f32 = nullptr;       // exact mode: fp32 copies
  float* x_proj_f32 = nullptr;
  float* out_proj_f32 = nullptr;
};

struct SwaLayerWeights {
  __nv_bfloat16* qkv = nullptr;       // [(H + 2G) hs][d]
  __nv_bfloat16* proj = nullptr;      // [d][H hs]
  float* qkv_f32 = nullptr;           // exact mode: fp32 copies
  float* proj_f32 = nullptr;
};

struct LayerWeights {
  float* norm_1 = nullptr;
  float* norm_2 = nullptr;
  __nv_bfloat16* w12 = nullptr;       // [2I][d]: gate rows, then up rows
  __nv_bfloat16* w3 = nullptr;        // [d][I]
  float* w12_f32 = nullptr;           // exact mode: fp32 copies
  float* w3_f32 = nullptr;
  MambaLayerWeights mamba;            // even layers
  SwaLayerWeights swa;                // odd layers
};

class DeviceWeights {
 public:
  // Copies the model folder's weights to the device, converting to the
  // dtypes above; no fp32 copy of the whole model passes through host memory.
  static DeviceWeights upload(const ModelFiles& files);
  // Deterministic pseudo-random weights of the config's exact shapes, made on
  // the device (for benchmarks of real-size shapes without weight files).
  static DeviceWeights random(const ModelConfig& config, uint64_t seed, cudaStream_t stream);
  // Bytes the weights take on the device.
  static uint64_t device_bytes(const ModelConfig& config);
  // Bytes of the exact mode's fp32 copies of the GEMM matrices.
  static uint64_t f32_copy_bytes(const ModelConfig& config);
  // Allocates and fills the fp32 copies (the `_f32` members), enqueued on
  // `stream`; the bf16 weights must be on the device (ordered before it).
  void make_f32_copies(const ModelConfig& config, cudaStream_t stream);

  __nv_bfloat16* embedding = nullptr;  // [V][d]
  float* embedding_f32 = nullptr;      // exact mode: fp32 copy for the tied head
  float* norm_f = nullptr;             // [d]
  std::vector<LayerWeights> layers;

 private:
  void layout(Arena& arena, const ModelConfig& config);
  // Hands out the `_f32` pointers; with `widen` set, also enqueues the copies.
  void layout_f32(Arena& arena, const ModelConfig& config, bool widen, cudaStream_t stream);
  DeviceBuffer memory_;
  DeviceBuffer memory_f32_;
};

}  // namespace samba::cuda
