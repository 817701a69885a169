// The model's weights in fp32 host memory, laid out for the CPU backend.
#pragma once

#include <vector>

#include "samba/config.h"

namespace samba {
class ModelFiles;
}

namespace samba::cpu {

struct MambaWeights {
  std::vector<float> in_proj;    // [2*di, d]
  std::vector<float> conv_w;     // [di, d_conv]
  std::vector<float> conv_b;     // [di]
  std::vector<float> x_proj;     // [r + 2n, di]
  std::vector<float> dt_proj_w;  // [di, r]
  std::vector<float> dt_proj_b;  // [di]
  std::vector<float> A;          // [di, n] = -exp(A_log), precomputed once
  std::vector<float> D;          // [di]
  std::vector<float> out_proj;   // [d, di]
};

struct AttentionWeights {
  std::vector<float> q, k, v;  // [H*hs, d], [G*hs, d], [G*hs, d]
  std::vector<float> proj;     // [d, H*hs]
};

struct LayerWeights {
  std::vector<float> norm_1, norm_2;  // [d]
  MambaWeights mamba;                 // even layers
  AttentionWeights attn;              // odd layers
  std::vector<float> w1, w2, w3;      // SwiGLU: gate [I,d], up [I,d], down [d,I]
};

struct Weights {
  std::vector<float> embedding;  // [V, d], also the tied output head
  std::vector<LayerWeights> layers;
  std::vector<float> norm_f;     // [d]

  static Weights load(const ModelFiles& files);
  size_t bytes() const;
};

}  // namespace samba::cpu
