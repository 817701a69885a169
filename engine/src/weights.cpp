// A model folder: config.json plus every *.safetensors shard, checked
// tensor by tensor against the names and shapes the config implies.
#include "samba/weights.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "samba/error.h"

namespace samba {
namespace {

namespace fs = std::filesystem;

std::string layer_prefix(int i) { return "transformer.h." + std::to_string(i) + "."; }

std::string file_name(const SafetensorsFile& file) {
  return fs::path(file.path()).filename().string();
}

// A list of names for an error message, cut short when long.
std::string name_list(const std::vector<std::string>& names, size_t limit = 5) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < limit; ++i) {
    if (i) out += ", ";
    out += "'" + names[i] + "'";
  }
  if (names.size() > limit) out += " and " + std::to_string(names.size() - limit) + " more";
  return out;
}

// The fused reference QKV weight of SWA layer i, if that layer is attention.
std::optional<int> fused_qkv_layer(const ModelConfig& config, const std::string& name) {
  for (int i = 1; i < config.n_layer; i += 2) {
    if (name == layer_prefix(i) + "attn.attn.weight") return i;
  }
  return std::nullopt;
}

}  // namespace

std::map<std::string, std::vector<int64_t>> expected_tensors(const ModelConfig& c) {
  const int64_t d = c.d_model, di = c.d_inner, n = c.d_state, r = c.dt_rank;
  std::map<std::string, std::vector<int64_t>> out;
  out["transformer.wte.weight"] = {c.vocab_size, d};
  out["transformer.ln_f.weight"] = {d};
  for (int i = 0; i < c.n_layer; ++i) {
    const std::string p = layer_prefix(i);
    out[p + "norm_1.weight"] = {d};
    out[p + "norm_2.weight"] = {d};
    if (c.is_mamba_layer(i)) {
      out[p + "attn.A_log"] = {di, n};
      out[p + "attn.D"] = {di};
      out[p + "attn.in_proj.weight"] = {2 * di, d};
      out[p + "attn.conv1d.weight"] = {di, 1, c.d_conv};
      out[p + "attn.conv1d.bias"] = {di};
      out[p + "attn.x_proj.weight"] = {r + 2 * n, di};
      out[p + "attn.dt_proj.weight"] = {di, r};
      out[p + "attn.dt_proj.bias"] = {di};
      out[p + "attn.out_proj.weight"] = {d, di};
    } else {
      out[p + "attn.q_proj.weight"] = {c.q_dim(), d};
      out[p + "attn.k_proj.weight"] = {c.kv_dim(), d};
      out[p + "attn.v_proj.weight"] = {c.kv_dim(), d};
      out[p + "attn.proj.weight"] = {d, c.q_dim()};
    }
    out[p + "mlp.swiglu.w1.weight"] = {c.intermediate, d};
    out[p + "mlp.swiglu.w2.weight"] = {c.intermediate, d};
    out[p + "mlp.swiglu.w3.weight"] = {d, c.intermediate};
  }
  return out;
}

void split_fused_qkv(const ModelConfig& c, const std::vector<float>& fused, std::vector<float>& q,
                     std::vector<float>& k, std::vector<float>& v) {
  const size_t d = c.d_model, hs = c.head_size, groups = c.n_kv_head;
  const size_t heads_per_group = c.n_head / c.n_kv_head;
  const size_t head_block = hs * d;  // one head's rows
  if (fused.size() != (heads_per_group + 2) * groups * head_block) {
    throw Error(ErrorKind::InvalidArgument,
                "fused QKV weight has " + std::to_string(fused.size()) + " values, expected " +
                    std::to_string((heads_per_group + 2) * groups * head_block));
  }
  q.resize(c.n_head * head_block);
  k.resize(groups * head_block);
  v.resize(groups * head_block);
  // Group g holds [q heads g*hpg .. g*hpg+hpg-1; k_g; v_g], each hs rows of d.
  auto src = fused.begin();
  for (size_t g = 0; g < groups; ++g) {
    for (size_t j = 0; j < heads_per_group; ++j, src += head_block) {
      std::copy(src, src + head_block, q.begin() + (g * heads_per_group + j) * head_block);
    }
    std::copy(src, src + head_block, k.begin() + g * head_block);
    src += head_block;
    std::copy(src, src + head_block, v.begin() + g * head_block);
    src += head_block;
  }
}

std::vector<float> WeightRef::to_f32() const {
  if (file == nullptr) return owned;
  return file->to_f32(*info);
}

int64_t WeightRef::numel() const {
  if (file == nullptr) return static_cast<int64_t>(owned.size());
  return info->numel();
}

std::unique_ptr<ModelFiles> ModelFiles::open(const std::string& folder) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) {
    throw Error(ErrorKind::Io, folder + ": model folder does not exist or is not a folder");
  }
  auto model = std::unique_ptr<ModelFiles>(new ModelFiles());
  model->folder_ = folder;
  model->config_ = load_config(folder);
  const ModelConfig& config = model->config_;

  std::vector<std::string> paths;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder, ec)) {
    if (entry.path().extension() == ".safetensors" && entry.is_regular_file(ec)) {
      paths.push_back(entry.path().string());
    }
  }
  if (ec) throw Error(ErrorKind::Io, folder + ": cannot list the folder (" + ec.message() + ")");
  if (paths.empty()) {
    throw Error(ErrorKind::InvalidModel,
                folder + ": no *.safetensors weight files in the model folder");
  }
  std::sort(paths.begin(), paths.end());  // shard order must not depend on the file system
  for (const std::string& path : paths) model->files_.push_back(SafetensorsFile::open(path));

  const auto expected = expected_tensors(config);
  const std::vector<int64_t> embedding_shape = expected.at("transformer.wte.weight");
  // Where each stored tensor lives; a name in two shards is ambiguous.
  std::map<std::string, const SafetensorsFile*> owner;
  std::vector<std::string> unexpected;
  for (const auto& file : model->files_) {
    for (const auto& [name, info] : file->tensors()) {
      const auto [it, inserted] = owner.emplace(name, file.get());
      if (!inserted) {
        throw Error(ErrorKind::InvalidModel,
                    folder + ": tensor '" + name + "' is stored twice, in '" +
                        file_name(*it->second) + "' and in '" + file_name(*file) + "'");
      }
      model->stored_bytes_ += info.nbytes;
      const bool tied_head = name == "lm_head.weight" && config.tie_embeddings;
      if (!expected.count(name) && !tied_head && !fused_qkv_layer(config, name)) {
        unexpected.push_back("'" + name + "' in " + file_name(*file));
      }
    }
  }
  if (!unexpected.empty()) {
    std::string list;
    for (size_t i = 0; i < unexpected.size() && i < 5; ++i) list += (i ? ", " : "") + unexpected[i];
    if (unexpected.size() > 5) list += " and " + std::to_string(unexpected.size() - 5) + " more";
    throw Error(ErrorKind::InvalidModel,
                folder + ": unexpected tensor(s) not part of the model config.json describes: " +
                    list);
  }

  auto check_shape = [&](const std::string& name, const std::vector<int64_t>& want) {
    const SafetensorsFile* file = owner.at(name);
    const TensorInfo* info = file->find(name);
    if (info->shape != want) {
      throw Error(ErrorKind::InvalidModel,
                  file->path() + ": tensor '" + name + "' has shape " + shape_text(info->shape) +
                      " but config.json implies " + shape_text(want));
    }
    return info;
  };
  if (owner.count("lm_head.weight")) check_shape("lm_head.weight", embedding_shape);

  // A reference checkpoint stores the fused QKV; split it into q/k/v here.
  for (int i = 1; i < config.n_layer; i += 2) {
    const std::string p = layer_prefix(i);
    const std::string fused_name = p + "attn.attn.weight";
    if (!owner.count(fused_name)) continue;
    for (const char* part : {"attn.q_proj.weight", "attn.k_proj.weight", "attn.v_proj.weight"}) {
      if (owner.count(p + part)) {
        throw Error(ErrorKind::InvalidModel,
                    folder + ": layer " + std::to_string(i) + " stores both the fused '" +
                        fused_name + "' and '" + p + part + "'; keep one form");
      }
    }
    const TensorInfo* info = check_shape(
        fused_name, {static_cast<int64_t>(config.q_dim()) + 2 * config.kv_dim(), config.d_model});
    WeightRef q, k, v;
    split_fused_qkv(config, owner.at(fused_name)->to_f32(*info), q.owned, k.owned, v.owned);
    model->weights_.emplace(p + "attn.q_proj.weight", std::move(q));
    model->weights_.emplace(p + "attn.k_proj.weight", std::move(k));
    model->weights_.emplace(p + "attn.v_proj.weight", std::move(v));
  }

  std::vector<std::string> missing;
  for (const auto& [name, shape] : expected) {
    if (model->weights_.count(name)) continue;  // split from a fused tensor
    if (!owner.count(name)) {
      missing.push_back(name + " " + shape_text(shape));
      continue;
    }
    WeightRef ref;
    ref.file = owner.at(name);
    ref.info = check_shape(name, shape);
    model->weights_.emplace(name, std::move(ref));
  }
  if (!missing.empty()) {
    throw Error(ErrorKind::InvalidModel,
                folder + ": " + std::to_string(missing.size()) + " tensor(s) missing from the " +
                    std::to_string(paths.size()) + " weight file(s): " + name_list(missing));
  }
  return model;
}

const WeightRef& ModelFiles::get(const std::string& name) const {
  const auto it = weights_.find(name);
  if (it == weights_.end()) {
    throw Error(ErrorKind::InvalidArgument,
                folder_ + ": '" + name + "' is not a tensor of this model");
  }
  return it->second;
}

}  // namespace samba
