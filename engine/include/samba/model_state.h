// The complete decode state of a model in a backend-independent layout, and
// its serialized form (a "snapshot"). Its size depends on the config only,
// never on how many tokens were read: that is what lets a session store the
// model's memory of a 1M-token document and resume from it in milliseconds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "samba/config.h"

namespace samba {

struct ModelState {
  uint64_t config_fingerprint = 0;
  int64_t position = 0;  // tokens read so far
  // Per Mamba layer (in layer order): conv inputs of the last d_conv-1 tokens
  // [d_inner][d_conv-1] (oldest first) and the SSM state [d_inner][d_state].
  std::vector<std::vector<float>> conv;
  std::vector<std::vector<float>> ssm;
  // Per SWA layer (in layer order): keys after RoPE and values of the last
  // min(position, W) tokens, in a ring of W slots indexed by pos % W,
  // each [W][n_kv_head * head_size].
  std::vector<std::vector<float>> keys;
  std::vector<std::vector<float>> values;

  // Zeroed state of the right shape for `config`.
  static ModelState empty(const ModelConfig& config);
};

// Serialization: "SMBS" magic, version, fingerprint, position, then the
// arrays as little-endian fp32 with a trailing checksum. deserialize checks
// everything and throws samba::Error on a mismatch or corruption.
std::vector<uint8_t> serialize_state(const ModelState& state);
ModelState deserialize_state(const ModelConfig& config, const uint8_t* data, size_t size);
// Bytes a serialized state of this config takes (constant in sequence length).
uint64_t state_bytes(const ModelConfig& config);

}  // namespace samba
