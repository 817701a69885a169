// config.json <-> ModelConfig, with checks that turn every inconsistent or
// hostile config into a samba::Error that names the file and the key.
#include "samba/config.h"

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "samba/error.h"

namespace samba {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw Error(ErrorKind::InvalidModel, source + ": " + what);
}

const char* json_type_name(const json& value) {
  if (value.is_number_float()) return "a floating-point number";
  if (value.is_number()) return "an integer";
  if (value.is_boolean()) return "a boolean";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  if (value.is_object()) return "an object";
  if (value.is_null()) return "null";
  return "an unsupported value";
}

// Reads config keys with type and range checks; every error names the key.
class KeyReader {
 public:
  KeyReader(const json& root, const std::string& source) : root_(root), source_(source) {}

  bool has(const char* key) const { return root_.contains(key); }

  int integer(const char* key) const {
    const json& value = root_.at(key);
    if (!value.is_number_integer()) {
      fail(source_, std::string("key '") + key + "' must be an integer, found " +
                        json_type_name(value));
    }
    // Large values are stored as unsigned; check the range before narrowing.
    if (value.is_number_unsigned()) {
      const auto v = value.get<uint64_t>();
      if (v > static_cast<uint64_t>(std::numeric_limits<int>::max())) {
        fail(source_, std::string("key '") + key + "' = " + std::to_string(v) + " is too large");
      }
      return static_cast<int>(v);
    }
    const auto v = value.get<int64_t>();
    if (v > std::numeric_limits<int>::max() || v < std::numeric_limits<int>::min()) {
      fail(source_, std::string("key '") + key + "' = " + std::to_string(v) + " is out of range");
    }
    return static_cast<int>(v);
  }

  int required_integer(const char* key) const {
    if (!has(key)) fail(source_, std::string("missing required key '") + key + "'");
    return integer(key);
  }

  int optional_integer(const char* key, int fallback) const {
    return has(key) ? integer(key) : fallback;
  }

  // Token ids may be null in Hugging Face configs: that means "none" (-1).
  int optional_token_id(const char* key, int fallback) const {
    if (!has(key)) return fallback;
    if (root_.at(key).is_null()) return -1;
    return integer(key);
  }

  float optional_number(const char* key, float fallback) const {
    if (!has(key)) return fallback;
    const json& value = root_.at(key);
    if (!value.is_number()) {
      fail(source_, std::string("key '") + key + "' must be a number, found " +
                        json_type_name(value));
    }
    const double v = value.get<double>();
    if (!std::isfinite(v) || std::fabs(v) > std::numeric_limits<float>::max()) {
      fail(source_, std::string("key '") + key + "' must be a finite number");
    }
    return static_cast<float>(v);
  }

  bool optional_bool(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    const json& value = root_.at(key);
    if (!value.is_boolean()) {
      fail(source_, std::string("key '") + key + "' must be true or false, found " +
                        json_type_name(value));
    }
    return value.get<bool>();
  }

  std::string optional_string(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    const json& value = root_.at(key);
    if (!value.is_string()) {
      fail(source_, std::string("key '") + key + "' must be a string, found " +
                        json_type_name(value));
    }
    return value.get<std::string>();
  }

 private:
  const json& root_;
  const std::string& source_;
};

void require_positive(const std::string& source, const char* key, int value) {
  if (value < 1) {
    fail(source, std::string("'") + key + "' must be at least 1, found " + std::to_string(value));
  }
}

// FNV-1a over raw bytes: stable across runs and platforms of the same endianness.
class Fnv1a {
 public:
  void add_bytes(const void* data, size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) {
      hash_ ^= bytes[i];
      hash_ *= 0x100000001b3ULL;
    }
  }
  void add(int value) {
    const auto v = static_cast<int64_t>(value);
    add_bytes(&v, sizeof v);
  }
  void add(float value) {
    uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    add_bytes(&bits, sizeof bits);
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

// The double whose shortest decimal form is the float's (1e-05, not
// 9.999999747378752e-06), so config.json stays readable and round-trips.
double shortest_decimal(float value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::strtod(std::string(buffer, result.ptr).c_str(), nullptr);
}

}  // namespace

int64_t ModelConfig::parameter_count() const {
  const int64_t d = d_model, di = d_inner, n = d_state, r = dt_rank, inter = intermediate;
  const int64_t embedding = static_cast<int64_t>(vocab_size) * d;  // tied: counted once
  const int64_t norms = 2 * d;                                      // norm_1, norm_2
  const int64_t mlp = 3 * inter * d;                                // w1, w2, w3
  const int64_t mamba = di * n                 // A_log
                        + di                   // D
                        + 2 * di * d           // in_proj
                        + di * d_conv + di     // conv1d weight, bias
                        + (r + 2 * n) * di     // x_proj
                        + di * r + di          // dt_proj weight, bias
                        + d * di;              // out_proj
  const int64_t attention = static_cast<int64_t>(q_dim() + 2 * kv_dim()) * d  // q, k, v
                            + d * static_cast<int64_t>(q_dim());               // proj
  return embedding + d /* ln_f */ + n_layer * (norms + mlp) +
         n_mamba_layers() * mamba + n_swa_layers() * attention;
}

uint64_t ModelConfig::fingerprint() const {
  Fnv1a hash;
  const char tag[] = "samba-v1";  // a different architecture must never collide
  hash.add_bytes(tag, sizeof tag);
  for (int v : {n_layer, d_model, n_head, n_kv_head, head_size, intermediate, window, vocab_size,
                d_inner, d_state, d_conv, dt_rank, tie_embeddings ? 1 : 0}) {
    hash.add(v);
  }
  hash.add(norm_eps);
  hash.add(rope_base);
  return hash.value();
}

void ModelConfig::validate(const std::string& source) const {
  require_positive(source, "n_layer", n_layer);
  require_positive(source, "d_model", d_model);
  require_positive(source, "n_head", n_head);
  require_positive(source, "n_query_groups", n_kv_head);
  require_positive(source, "head_size", head_size);
  require_positive(source, "intermediate_size", intermediate);
  require_positive(source, "vocab_size", vocab_size);
  require_positive(source, "mamba_d_inner", d_inner);
  require_positive(source, "mamba_d_state", d_state);
  require_positive(source, "mamba_d_conv", d_conv);
  require_positive(source, "mamba_dt_rank", dt_rank);
  if (window < 1) {
    fail(source, "'sliding_window' must be at least 1 (the query attends to itself), found " +
                     std::to_string(window));
  }
  if (n_head % n_kv_head != 0) {
    fail(source, "'n_head' (" + std::to_string(n_head) +
                     ") must be divisible by 'n_query_groups' (" + std::to_string(n_kv_head) + ")");
  }
  if (head_size % 2 != 0) {
    fail(source, "'head_size' must be even for half-split RoPE, found " +
                     std::to_string(head_size));
  }
  if (!(norm_eps > 0.0f) || !std::isfinite(norm_eps)) {
    fail(source, "'rms_norm_eps' must be a positive number");
  }
  if (!(rope_base > 1.0f) || !std::isfinite(rope_base)) {
    fail(source, "'rope_theta' must be a number greater than 1");
  }
  if (!tie_embeddings) {
    fail(source, "'tie_word_embeddings' = false is not supported (SAMBA ties the output head "
                 "to the embedding)");
  }
  for (auto [key, id] : {std::pair{"bos_token_id", bos_token_id}, {"eos_token_id", eos_token_id}}) {
    if (id < -1 || id >= vocab_size) {
      fail(source, std::string("'") + key + "' = " + std::to_string(id) +
                       " is outside the vocabulary (0.." + std::to_string(vocab_size - 1) +
                       ", or -1 for none)");
    }
  }
  if (train_length < 0) fail(source, "'train_length' must not be negative");
  // q_dim() and kv_dim() are ints; the fused QKV row count must fit too.
  if ((static_cast<double>(n_head) + 2.0 * n_kv_head) * head_size >
      std::numeric_limits<int>::max()) {
    fail(source, "(n_head + 2 * n_query_groups) * head_size is too large");
  }
  // Sizes that pass the checks above can still multiply past int64 in the
  // tensor shapes; a trillion parameters is far beyond any real model.
  const double d = d_model;
  const double per_layer = 3.0 * intermediate * d + 4.0 * d_inner * d +
                           (static_cast<double>(n_head) + 2.0 * n_kv_head) * head_size * d +
                           d * n_head * head_size +
                           static_cast<double>(d_inner) * (2.0 * d_state + 2.0 * dt_rank + d_conv);
  const double approx = static_cast<double>(vocab_size) * d + n_layer * per_layer;
  if (approx > 1e12) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", approx);
    fail(source, std::string("the sizes imply about ") + text +
                     " parameters, more than this engine accepts (1e12)");
  }
}

ModelConfig parse_config_json(const std::string& json_text, const std::string& source) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    fail(source, std::string("not valid JSON (") + e.what() + ")");
  }
  if (!root.is_object()) fail(source, "must hold a JSON object, found " + std::string(json_type_name(root)));

  const KeyReader keys(root, source);
  const std::string model_type = keys.optional_string("model_type", "samba");
  if (model_type != "samba") {
    fail(source, "model_type '" + model_type +
                     "' is not supported: this engine runs SAMBA models (model_type \"samba\")");
  }

  ModelConfig c;
  c.name = keys.optional_string("name", c.name);
  c.n_layer = keys.required_integer("n_layer");
  c.d_model = keys.required_integer("d_model");
  c.n_head = keys.required_integer("n_head");
  c.intermediate = keys.required_integer("intermediate_size");
  c.vocab_size = keys.required_integer("vocab_size");
  // Check the sizes derived values depend on before deriving them.
  require_positive(source, "n_layer", c.n_layer);
  require_positive(source, "d_model", c.d_model);
  require_positive(source, "n_head", c.n_head);

  c.n_kv_head = keys.optional_integer("n_query_groups", c.n_head);
  const bool head_size_given = keys.has("head_size");
  if (head_size_given) {
    c.head_size = keys.integer("head_size");
  } else {
    if (c.d_model % c.n_head != 0) {
      fail(source, "'d_model' (" + std::to_string(c.d_model) + ") is not divisible by 'n_head' (" +
                       std::to_string(c.n_head) + "); give 'head_size' explicitly");
    }
    c.head_size = c.d_model / c.n_head;
  }
  c.window = keys.optional_integer("sliding_window", c.window);
  c.norm_eps = keys.optional_number("rms_norm_eps", c.norm_eps);
  c.tie_embeddings = keys.optional_bool("tie_word_embeddings", c.tie_embeddings);
  c.rope_base = keys.optional_number("rope_theta", c.rope_base);
  c.d_state = keys.optional_integer("mamba_d_state", c.d_state);
  c.d_conv = keys.optional_integer("mamba_d_conv", c.d_conv);
  if (c.d_model > std::numeric_limits<int>::max() / 2) {
    fail(source, "'d_model' = " + std::to_string(c.d_model) + " is too large");
  }
  c.d_inner = keys.optional_integer("mamba_d_inner", 2 * c.d_model);
  c.dt_rank = keys.optional_integer("mamba_dt_rank", (c.d_model + 15) / 16);
  c.bos_token_id = keys.optional_token_id("bos_token_id", c.bos_token_id);
  c.eos_token_id = keys.optional_token_id("eos_token_id", c.eos_token_id);
  c.train_length = keys.optional_integer("train_length", c.train_length);

  c.validate(source);
  return c;
}

ModelConfig load_config(const std::string& model_folder) {
  const std::string path = model_folder + "/config.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw Error(ErrorKind::InvalidModel,
                path + ": missing; a model folder needs a config.json describing the model");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw Error(ErrorKind::Io, path + ": cannot open (" + std::strerror(errno) + ")");
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw Error(ErrorKind::Io, path + ": read error");
  return parse_config_json(text.str(), path);
}

std::string config_to_json(const ModelConfig& c) {
  nlohmann::ordered_json j;
  j["model_type"] = "samba";
  j["name"] = c.name;
  j["n_layer"] = c.n_layer;
  j["d_model"] = c.d_model;
  j["n_head"] = c.n_head;
  j["n_query_groups"] = c.n_kv_head;
  j["head_size"] = c.head_size;
  j["intermediate_size"] = c.intermediate;
  j["sliding_window"] = c.window;
  j["vocab_size"] = c.vocab_size;
  j["rms_norm_eps"] = shortest_decimal(c.norm_eps);
  j["tie_word_embeddings"] = c.tie_embeddings;
  j["rope_theta"] = shortest_decimal(c.rope_base);
  j["mamba_d_state"] = c.d_state;
  j["mamba_d_conv"] = c.d_conv;
  j["mamba_d_inner"] = c.d_inner;
  j["mamba_dt_rank"] = c.dt_rank;
  j["bos_token_id"] = c.bos_token_id;
  j["eos_token_id"] = c.eos_token_id;
  j["train_length"] = c.train_length;
  return j.dump(2) + "\n";
}

}  // namespace samba
