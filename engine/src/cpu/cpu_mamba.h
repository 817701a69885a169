// The Mamba-1 mixer on the CPU for a chunk of tokens, continuing from and
// updating the layer's conv window and SSM state (model-spec section 1).
#pragma once

#include <vector>

#include "cpu/cpu_weights.h"
#include "samba/config.h"

namespace samba::cpu {

struct MambaScratch {
  std::vector<float> xz, xc, dbc, dt_low, dt, y;
  void reserve(const ModelConfig& c, int max_tokens);
};

// u: [T, d] normalised input; out += mixer output ([T, d], accumulated so
// the residual add costs nothing). conv_state: [di][d_conv-1] oldest first;
// ssm_state: [di][d_state]. Both fp32 and updated in place.
void mamba_forward(const MambaWeights& w, const ModelConfig& c, const float* u, int T,
                   float* conv_state, float* ssm_state, float* out, MambaScratch& s);

}  // namespace samba::cpu
