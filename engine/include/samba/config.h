// The SAMBA model configuration (model-spec.md section 1), read from the
// Hugging Face style config.json of a model folder. Keys (ours):
//   "model_type": "samba", "name", "n_layer", "d_model", "n_head",
//   "n_query_groups" (KV heads; default n_head), "head_size" (default d_model/n_head),
//   "intermediate_size", "sliding_window" (W, default 2048), "vocab_size",
//   "rms_norm_eps" (1e-5), "tie_word_embeddings" (true; false is rejected for now),
//   "rope_theta" (10000), "mamba_d_state" (16), "mamba_d_conv" (4),
//   "mamba_d_inner" (default 2*d_model), "mamba_dt_rank" (default ceil(d_model/16)),
//   "bos_token_id" (1), "eos_token_id" (2), "train_length" (0 = unknown).
#pragma once

#include <cstdint>
#include <string>

namespace samba {

struct ModelConfig {
  std::string name = "samba";
  int n_layer = 0;          // blocks; even = Mamba, odd = SWA
  int d_model = 0;
  int n_head = 0;           // query heads
  int n_kv_head = 0;        // KV groups (n_query_groups); == n_head for MHA
  int head_size = 0;        // d_model / n_head unless given
  int intermediate = 0;     // SwiGLU hidden size I
  int window = 2048;        // W keys including the query itself
  int vocab_size = 0;
  float norm_eps = 1e-5f;
  bool tie_embeddings = true;
  float rope_base = 10000.0f;
  // Mamba
  int d_inner = 0;          // 2 * d_model unless given
  int d_state = 16;
  int d_conv = 4;
  int dt_rank = 0;          // ceil(d_model / 16) unless given
  // Tokens; -1 when the model has none.
  int bos_token_id = 1;
  int eos_token_id = 2;
  // Length the model was trained on (for UI marks); 0 if unknown.
  int train_length = 0;

  bool is_mamba_layer(int i) const { return i % 2 == 0; }
  int n_mamba_layers() const { return (n_layer + 1) / 2; }
  int n_swa_layers() const { return n_layer / 2; }
  int q_dim() const { return n_head * head_size; }
  int kv_dim() const { return n_kv_head * head_size; }

  // Number of parameters, counting the tied embedding once.
  int64_t parameter_count() const;
  // A stable 64-bit fingerprint of every field that changes the numerics;
  // model-state snapshots carry it so a snapshot cannot be loaded into
  // another model.
  uint64_t fingerprint() const;
  // Throws samba::Error(InvalidModel) naming `source` when a field is
  // missing, out of range or inconsistent.
  void validate(const std::string& source) const;
};

// Parses config.json text. Unknown keys are ignored; missing required keys or
// wrong types throw samba::Error naming `source`. Derived fields (head_size,
// d_inner, dt_rank) are filled in.
ModelConfig parse_config_json(const std::string& json_text, const std::string& source);
// Reads and parses `<folder>/config.json`.
ModelConfig load_config(const std::string& model_folder);
// Writes the config as config.json text (used by tools and tests).
std::string config_to_json(const ModelConfig& config);

}  // namespace samba
