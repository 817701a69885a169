// Memory-mapped safetensors files, validated before any tensor is touched.
//
// Format: 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32"|"BF16"|"F16", "shape": [...], "data_offsets": [b, e]},
//  "__metadata__": {...}}, then the data region. Every check here exists
// because a hostile or truncated file must give an error, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace samba {

enum class DType { F32, BF16, F16 };
const char* dtype_name(DType dtype);
size_t dtype_size(DType dtype);
// "[2, 3]": a tensor shape as error messages show it.
std::string shape_text(const std::vector<int64_t>& shape);

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t offset = 0;   // from the start of the data region
  uint64_t nbytes = 0;
  int64_t numel() const;
};

class SafetensorsFile {
 public:
  // Maps and validates the file: header length within the file, JSON well
  // formed, known dtypes, shapes non-negative, nbytes == numel * dtype size,
  // offsets inside the data region and non-overlapping. Throws samba::Error.
  static std::unique_ptr<SafetensorsFile> open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(const std::string& name) const;
  // Raw bytes of a tensor inside the mapping (valid while this object lives).
  std::span<const uint8_t> bytes(const TensorInfo& info) const;
  // The tensor converted to fp32.
  std::vector<float> to_f32(const TensorInfo& info) const;

 private:
  SafetensorsFile() = default;
  std::string path_;
  std::map<std::string, TensorInfo> tensors_;
  const uint8_t* map_ = nullptr;
  size_t map_size_ = 0;
  const uint8_t* data_ = nullptr;  // start of the data region
  size_t data_size_ = 0;
};

// Writes a safetensors file (fp32 or bf16 data given as fp32 values).
// Used by tests and tools; writes to a temporary name and renames, so a
// failure never leaves a half-written model behind.
struct TensorToWrite {
  std::string name;
  std::vector<int64_t> shape;
  const float* data = nullptr;
};
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       DType dtype = DType::F32);

// bf16 / f16 helpers (round-to-nearest-even for float -> bf16).
float bf16_to_f32(uint16_t v);
uint16_t f32_to_bf16(float v);
float f16_to_f32(uint16_t v);

}  // namespace samba
