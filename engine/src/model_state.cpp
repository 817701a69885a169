#include "samba/model_state.h"

#include <cstring>
#include <string>

#include "samba/error.h"

namespace samba {

ModelState ModelState::empty(const ModelConfig& c) {
  ModelState s;
  s.config_fingerprint = c.fingerprint();
  const size_t keep = static_cast<size_t>(c.d_conv - 1);
  for (int i = 0; i < c.n_layer; ++i) {
    if (c.is_mamba_layer(i)) {
      s.conv.emplace_back(static_cast<size_t>(c.d_inner) * keep, 0.0f);
      s.ssm.emplace_back(static_cast<size_t>(c.d_inner) * c.d_state, 0.0f);
    } else {
      s.keys.emplace_back(static_cast<size_t>(c.window) * c.kv_dim(), 0.0f);
      s.values.emplace_back(static_cast<size_t>(c.window) * c.kv_dim(), 0.0f);
    }
  }
  return s;
}

namespace {

constexpr char kMagic[4] = {'S', 'M', 'B', 'S'};
constexpr uint32_t kVersion = 1;

// FNV-1a over the payload: cheap, and enough to catch a torn or bit-rotted
// blob (this is an integrity check, not a security boundary).
uint64_t fnv1a(const uint8_t* data, size_t size) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 1099511628211ull;
  }
  return h;
}

template <typename T>
void put(std::vector<uint8_t>& out, const T& value) {
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof(T));
}

void put_arrays(std::vector<uint8_t>& out, const std::vector<std::vector<float>>& arrays) {
  for (const auto& a : arrays) {
    const auto* p = reinterpret_cast<const uint8_t*>(a.data());
    out.insert(out.end(), p, p + a.size() * sizeof(float));
  }
}

}  // namespace

uint64_t state_bytes(const ModelConfig& c) {
  const uint64_t header = sizeof(kMagic) + sizeof(uint32_t) + 2 * sizeof(uint64_t);
  const uint64_t mamba = static_cast<uint64_t>(c.n_mamba_layers()) * c.d_inner * ((c.d_conv - 1) + c.d_state);
  const uint64_t swa = static_cast<uint64_t>(c.n_swa_layers()) * 2 * c.window * c.kv_dim();
  return header + (mamba + swa) * sizeof(float) + sizeof(uint64_t);
}

std::vector<uint8_t> serialize_state(const ModelState& state) {
  std::vector<uint8_t> out;
  out.insert(out.end(), kMagic, kMagic + 4);
  put(out, kVersion);
  put(out, state.config_fingerprint);
  put(out, static_cast<uint64_t>(state.position));
  put_arrays(out, state.conv);
  put_arrays(out, state.ssm);
  put_arrays(out, state.keys);
  put_arrays(out, state.values);
  put(out, fnv1a(out.data(), out.size()));
  return out;
}

ModelState deserialize_state(const ModelConfig& config, const uint8_t* data, size_t size) {
  if (size != state_bytes(config))
    throw Error(ErrorKind::InvalidArgument,
                "model state snapshot has " + std::to_string(size) + " bytes, this model needs " +
                    std::to_string(state_bytes(config)));
  if (std::memcmp(data, kMagic, 4) != 0) throw Error(ErrorKind::InvalidArgument, "not a model state snapshot");
  uint32_t version;
  std::memcpy(&version, data + 4, sizeof version);
  if (version != kVersion)
    throw Error(ErrorKind::InvalidArgument, "model state snapshot version " + std::to_string(version) + " is not supported");
  uint64_t checksum;
  std::memcpy(&checksum, data + size - sizeof checksum, sizeof checksum);
  if (checksum != fnv1a(data, size - sizeof checksum))
    throw Error(ErrorKind::InvalidArgument, "model state snapshot is corrupt (checksum mismatch)");
  ModelState s = ModelState::empty(config);
  uint64_t fingerprint, position;
  std::memcpy(&fingerprint, data + 8, sizeof fingerprint);
  std::memcpy(&position, data + 16, sizeof position);
  if (fingerprint != config.fingerprint())
    throw Error(ErrorKind::InvalidArgument, "model state snapshot was made with a different model");
  s.position = static_cast<int64_t>(position);
  size_t offset = 24;
  for (auto* arrays : {&s.conv, &s.ssm, &s.keys, &s.values})
    for (auto& a : *arrays) {
      std::memcpy(a.data(), data + offset, a.size() * sizeof(float));
      offset += a.size() * sizeof(float);
    }
  return s;
}

}  // namespace samba
