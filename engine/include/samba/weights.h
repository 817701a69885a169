// The weights of a SAMBA model, gathered from all *.safetensors files of a
// model folder and checked against what the config implies (names of
// model-spec section 1, with the fused QKV split into q/k/v by the importer).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "samba/config.h"
#include "samba/safetensors.h"

namespace samba {

// Tensor names and shapes a config implies. Our folder layout uses the
// reference names with the QKV already split:
//   transformer.wte.weight [V,d]         (lm_head.weight optional when tied)
//   transformer.h.{i}.norm_1.weight [d]  transformer.h.{i}.norm_2.weight [d]
//   Mamba (even i): attn.A_log [di,n] attn.D [di] attn.in_proj.weight [2di,d]
//     attn.conv1d.weight [di,1,4] attn.conv1d.bias [di] attn.x_proj.weight [r+2n,di]
//     attn.dt_proj.weight [di,r] attn.dt_proj.bias [di] attn.out_proj.weight [d,di]
//   SWA (odd i): attn.q_proj.weight [H*hs,d] attn.k_proj.weight [G*hs,d]
//     attn.v_proj.weight [G*hs,d] attn.proj.weight [d,H*hs]
//   mlp.swiglu.w1.weight [I,d] w2.weight [I,d] w3.weight [d,I]
//   transformer.ln_f.weight [d]
// A fused reference tensor attn.attn.weight [(H+2G)*hs, d] is accepted in
// place of q/k/v and split with the grouped layout of the spec.
std::map<std::string, std::vector<int64_t>> expected_tensors(const ModelConfig& config);

// Splits a fused grouped QKV weight [(H+2G)*hs, d] (for each group g: the q
// rows of its H/G heads, then k_g, then v_g) into q [H*hs,d], k [G*hs,d],
// v [G*hs,d]. Row-major float data.
void split_fused_qkv(const ModelConfig& config, const std::vector<float>& fused,
                     std::vector<float>& q, std::vector<float>& k, std::vector<float>& v);

// A view of one tensor inside a mapped file, with its dtype. Backends decide
// how to convert (fp32 on the CPU, bf16 on the GPU) without an fp32 copy of
// the whole model passing through host memory first.
struct WeightRef {
  const SafetensorsFile* file = nullptr;
  const TensorInfo* info = nullptr;
  std::vector<float> owned;  // set instead of file/info for derived tensors (split QKV)
  std::vector<float> to_f32() const;
  int64_t numel() const;
};

// A validated model folder: config, mapped weight files, tensor index.
class ModelFiles {
 public:
  // Reads config.json and every *.safetensors in `folder`; checks that each
  // expected tensor exists exactly once with the expected shape and that no
  // unexpected tensor is present. Errors name the file and the tensor.
  static std::unique_ptr<ModelFiles> open(const std::string& folder);

  const std::string& folder() const { return folder_; }
  const ModelConfig& config() const { return config_; }
  // Throws samba::Error if `name` is not an expected tensor.
  const WeightRef& get(const std::string& name) const;
  // Bytes of all weight data as stored (for memory estimates).
  uint64_t stored_bytes() const { return stored_bytes_; }

 private:
  std::string folder_;
  ModelConfig config_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, WeightRef> weights_;
  uint64_t stored_bytes_ = 0;
};

}  // namespace samba
