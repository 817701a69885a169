// Sliding-window attention on the CPU for a chunk of tokens: query at
// absolute position p sees keys max(0, p-W+1)..p (W keys including itself).
// Keys before the chunk come from the layer's ring buffer of the last W
// keys/values (slot = position % W), which is updated afterwards.
#pragma once

#include <cstdint>
#include <vector>

#include "cpu/cpu_weights.h"
#include "samba/config.h"

namespace samba {
class EntropySink;
}

namespace samba::cpu {

struct AttentionScratch {
  std::vector<float> q, k, v, keys, values, scores, attn, entropy;
  void reserve(const ModelConfig& c, int max_tokens);
};

// u: [T, d] normalised input; out += attention output. ring_k/ring_v:
// [W][G*hs]. `layer` is the block index, passed to `entropy` if not null.
void attention_forward(const AttentionWeights& w, const ModelConfig& c, const float* u, int T,
                       int64_t pos0, float* ring_k, float* ring_v, float* out,
                       AttentionScratch& s, EntropySink* entropy, int layer);

}  // namespace samba::cpu
