// Reading (mmap + full header validation) and writing of safetensors files.
// Every byte of a file is untrusted: all offsets and sizes are checked with
// overflow-safe arithmetic before any tensor data is touched.
#include "samba/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "samba/error.h"

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

namespace samba {
namespace {

using nlohmann::json;

// A real header is a few hundred bytes per tensor; 100 MiB is far beyond any
// model and stops a hostile length from making us parse gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

// A real header nests three levels ({name: {shape: [...]}}). Checking the
// depth before parsing keeps a hostile "[[[[..." from costing gigabytes.
constexpr int kMaxHeaderDepth = 16;

// Deepest bracket nesting outside JSON strings.
int nesting_depth(const char* text, size_t size) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < size; ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > kMaxHeaderDepth) break;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

[[noreturn]] void invalid(const std::string& path, const std::string& what) {
  throw Error(ErrorKind::InvalidModel, path + ": " + what);
}

[[noreturn]] void io_error(const std::string& path, const std::string& what, int err) {
  throw Error(ErrorKind::Io, path + ": " + what + " (" + std::strerror(err) + ")");
}

bool parse_dtype(const std::string& text, DType& dtype) {
  if (text == "F32") dtype = DType::F32;
  else if (text == "BF16") dtype = DType::BF16;
  else if (text == "F16") dtype = DType::F16;
  else return false;
  return true;
}

// A JSON integer >= 0 as uint64, or false (negative, fractional, not a number).
bool non_negative_integer(const json& value, uint64_t& out) {
  if (value.is_number_unsigned()) {
    out = value.get<uint64_t>();
    return true;
  }
  if (value.is_number_integer()) {
    const auto v = value.get<int64_t>();
    if (v < 0) return false;
    out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

// Short text for a header value in an error message. Nested values are not
// dumped: a hostile header could nest them deep enough to exhaust the stack.
std::string describe(const json& value) {
  if (value.is_object()) return "{...}";
  if (value.is_array()) {
    std::string text = "[";
    for (size_t i = 0; i < value.size() && text.size() < 40; ++i) {
      if (i) text += ", ";
      text += value[i].is_structured() ? (value[i].is_array() ? "[...]" : "{...}") : value[i].dump();
    }
    return text.size() < 40 ? text + "]" : text + ", ...]";
  }
  std::string text = value.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return text;
}

// Validates one header entry and fills `info`; `data_size` is the number of
// bytes after the header. Range checks against data_size happen later, so
// that a truncated file can be told apart from a bad offset.
TensorInfo parse_entry(const std::string& path, const std::string& name, const json& entry) {
  const std::string where = "tensor '" + name + "': ";
  if (!entry.is_object()) invalid(path, where + "header entry is not a JSON object");

  TensorInfo info;
  info.name = name;

  const auto dtype_it = entry.find("dtype");
  if (dtype_it == entry.end() || !dtype_it->is_string()) {
    invalid(path, where + "missing or non-string 'dtype'");
  }
  if (!parse_dtype(dtype_it->get<std::string>(), info.dtype)) {
    invalid(path, where + "unsupported dtype '" + dtype_it->get<std::string>() +
                      "' (supported: F32, BF16, F16)");
  }

  const auto shape_it = entry.find("shape");
  if (shape_it == entry.end() || !shape_it->is_array()) {
    invalid(path, where + "missing 'shape' array");
  }
  uint64_t numel = 1;
  for (const json& dim : *shape_it) {
    uint64_t extent = 0;
    if (!non_negative_integer(dim, extent)) {
      invalid(path, where + "shape " + describe(*shape_it) +
                        " has an entry that is not a non-negative integer: " + describe(dim));
    }
    if (extent > static_cast<uint64_t>(INT64_MAX)) {
      invalid(path, where + "shape entry " + std::to_string(extent) + " is too large");
    }
    if (__builtin_mul_overflow(numel, extent, &numel) || numel > static_cast<uint64_t>(INT64_MAX)) {
      invalid(path, where + "shape " + describe(*shape_it) + " has too many elements");
    }
    info.shape.push_back(static_cast<int64_t>(extent));
  }
  uint64_t expected_bytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(info.dtype)), &expected_bytes)) {
    invalid(path, where + "shape " + describe(*shape_it) + " is too large in bytes");
  }

  const auto offsets_it = entry.find("data_offsets");
  if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
    invalid(path, where + "'data_offsets' must be an array [begin, end]");
  }
  uint64_t begin = 0, end = 0;
  if (!non_negative_integer((*offsets_it)[0], begin) ||
      !non_negative_integer((*offsets_it)[1], end)) {
    invalid(path, where + "data_offsets " + describe(*offsets_it) +
                      " must be non-negative integers");
  }
  if (end < begin) {
    invalid(path, where + "data_offsets " + describe(*offsets_it) + " end before they begin");
  }
  info.offset = begin;
  info.nbytes = end - begin;
  if (info.nbytes != expected_bytes) {
    invalid(path, where + "data_offsets " + describe(*offsets_it) + " span " +
                      std::to_string(info.nbytes) + " bytes but shape " + shape_text(info.shape) +
                      " of " + dtype_name(info.dtype) + " needs " + std::to_string(expected_bytes));
  }
  return info;
}

// Offsets against the data region: overlap, out of range, or a truncated file.
void check_layout(const std::string& path, const std::map<std::string, TensorInfo>& tensors,
                  uint64_t data_size) {
  std::vector<const TensorInfo*> by_offset;
  for (const auto& [name, info] : tensors) by_offset.push_back(&info);
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->offset != b->offset ? a->offset < b->offset : a->nbytes < b->nbytes;
  });

  uint64_t covered_end = 0;       // end of the data seen so far
  const TensorInfo* last = nullptr;
  bool contiguous = true;         // tensors tile [0, covered_end) without gaps
  for (const TensorInfo* info : by_offset) {
    if (info->nbytes == 0) continue;  // empty tensors occupy nothing
    if (last && info->offset < covered_end) {
      invalid(path, "tensors '" + last->name + "' and '" + info->name +
                        "' overlap in the data region (bytes " + std::to_string(info->offset) +
                        ".." + std::to_string(covered_end) + ")");
    }
    if (info->offset != covered_end) contiguous = false;
    covered_end = info->offset + info->nbytes;  // no overflow: nbytes == end - begin
    last = info;
  }
  if (covered_end > data_size && contiguous) {
    // A well-formed layout that runs past the end: the file was cut short.
    invalid(path, "file is truncated: the header describes " + std::to_string(covered_end) +
                      " bytes of tensor data but only " + std::to_string(data_size) +
                      " bytes follow the header");
  }
  for (const TensorInfo* info : by_offset) {
    if (info->offset > data_size || info->nbytes > data_size - info->offset) {
      invalid(path, "tensor '" + info->name + "': data_offsets [" + std::to_string(info->offset) +
                        ", " + std::to_string(info->offset + info->nbytes) +
                        "] lie outside the data region of " + std::to_string(data_size) + " bytes");
    }
  }
}

uint16_t f32_to_f16(float value) {
  uint32_t bits = std::bit_cast<uint32_t>(value);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  bits &= 0x7fffffffu;
  if (bits >= 0x7f800000u) {  // inf or NaN (NaN stays a quiet NaN)
    return sign | (bits > 0x7f800000u ? 0x7e00u : 0x7c00u);
  }
  if (bits >= 0x477ff000u) return sign | 0x7c00u;  // rounds to >= 65520: overflow to inf
  if (bits < 0x38800000u) {  // below the smallest normal half: subnormal or zero
    if (bits < 0x33000000u) return sign;  // below half the smallest subnormal
    const uint32_t exponent = bits >> 23;
    const uint32_t mantissa = (bits & 0x7fffffu) | 0x800000u;
    const uint32_t shift = 126u - exponent;  // 14..24 for the values that reach here
    uint32_t half = mantissa >> shift;
    const uint32_t remainder = mantissa & ((1u << shift) - 1u);
    const uint32_t halfway = 1u << (shift - 1u);
    if (remainder > halfway || (remainder == halfway && (half & 1u))) ++half;
    return sign | static_cast<uint16_t>(half);
  }
  // Normal: rebias the exponent, round the mantissa to 10 bits (ties to even).
  uint32_t half = ((bits - 0x38000000u) >> 13);
  const uint32_t remainder = bits & 0x1fffu;
  if (remainder > 0x1000u || (remainder == 0x1000u && (half & 1u))) ++half;
  return sign | static_cast<uint16_t>(half);
}

// write() all of `size` bytes, retrying short writes and EINTR.
bool write_all(int fd, const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, std::min<size_t>(size, 1u << 30));
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::BF16: return "BF16";
    case DType::F16: return "F16";
  }
  return "?";
}

size_t dtype_size(DType dtype) { return dtype == DType::F32 ? 4 : 2; }

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t extent : shape) n *= extent;  // validated not to overflow at open
  return n;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

float bf16_to_f32(uint16_t v) { return std::bit_cast<float>(static_cast<uint32_t>(v) << 16); }

uint16_t f32_to_bf16(float v) {
  const uint32_t bits = std::bit_cast<uint32_t>(v);
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);  // keep NaN a (quiet) NaN
  }
  const uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);  // round to nearest, ties to even
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

float f16_to_f32(uint16_t v) {
  const uint32_t sign = static_cast<uint32_t>(v & 0x8000u) << 16;
  const uint32_t exponent = (v >> 10) & 0x1fu;
  const uint32_t mantissa = v & 0x3ffu;
  if (exponent == 0) {
    // Zero or subnormal: mantissa * 2^-24, exact in fp32.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
  }
  if (exponent == 31) {
    return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));  // inf / NaN
  }
  return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  // O_NONBLOCK: a FIFO named like a weight file must not hang the open.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) io_error(path, "cannot open weight file", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    io_error(path, "cannot stat weight file", err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    invalid(path, "not a regular file");
  }
  const auto file_size = static_cast<uint64_t>(st.st_size);
  if (file_size == 0) {
    ::close(fd);
    invalid(path, "file is empty (a safetensors file starts with an 8-byte header length)");
  }
  if (file_size < 8) {
    ::close(fd);
    invalid(path, "file is too short (" + std::to_string(file_size) +
                      " bytes) to hold the 8-byte header length");
  }
  void* map = ::mmap(nullptr, file_size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_err = errno;
  ::close(fd);  // the mapping keeps the file alive
  if (map == MAP_FAILED) io_error(path, "cannot memory-map weight file", map_err);

  // From here the object owns the mapping, so every throw unmaps it.
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  file->map_ = static_cast<const uint8_t*>(map);
  file->map_size_ = file_size;

  uint64_t header_size = 0;
  std::memcpy(&header_size, file->map_, 8);
  if (header_size > file_size - 8) {
    invalid(path, "header length " + std::to_string(header_size) + " is larger than the file (" +
                      std::to_string(file_size) + " bytes)");
  }
  if (header_size > kMaxHeaderBytes) {
    invalid(path, "header length " + std::to_string(header_size) + " exceeds the limit of " +
                      std::to_string(kMaxHeaderBytes) + " bytes");
  }

  const char* header_begin = reinterpret_cast<const char*>(file->map_ + 8);
  if (nesting_depth(header_begin, header_size) > kMaxHeaderDepth) {
    invalid(path, "header nests JSON deeper than " + std::to_string(kMaxHeaderDepth) +
                      " levels; a safetensors header needs 3");
  }
  json header;
  try {
    header = json::parse(header_begin, header_begin + header_size);
  } catch (const json::exception& e) {
    invalid(path, std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!header.is_object()) invalid(path, "header is not a JSON object");

  file->data_ = file->map_ + 8 + header_size;
  file->data_size_ = file_size - 8 - header_size;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) invalid(path, "'__metadata__' is not a JSON object");
      continue;
    }
    if (name.empty()) invalid(path, "a tensor has an empty name");
    file->tensors_.emplace(name, parse_entry(path, name, entry));
  }
  check_layout(path, file->tensors_, file->data_size_);
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(const_cast<uint8_t*>(map_), map_size_);
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::span<const uint8_t> SafetensorsFile::bytes(const TensorInfo& info) const {
  // Guards against a TensorInfo that belongs to another file.
  if (info.offset > data_size_ || info.nbytes > data_size_ - info.offset) {
    throw Error(ErrorKind::InvalidArgument,
                path_ + ": tensor '" + info.name + "' is not inside this file's data region");
  }
  return {data_ + info.offset, static_cast<size_t>(info.nbytes)};
}

std::vector<float> SafetensorsFile::to_f32(const TensorInfo& info) const {
  const std::span<const uint8_t> raw = bytes(info);
  const auto n = static_cast<size_t>(info.numel());
  std::vector<float> out(n);
  switch (info.dtype) {
    case DType::F32:
      if (n) std::memcpy(out.data(), raw.data(), n * 4);  // data may be unaligned: copy bytes
      break;
    case DType::BF16:
    case DType::F16: {
      const bool bf16 = info.dtype == DType::BF16;
      for (size_t i = 0; i < n; ++i) {
        uint16_t v = 0;
        std::memcpy(&v, raw.data() + 2 * i, 2);
        out[i] = bf16 ? bf16_to_f32(v) : f16_to_f32(v);
      }
      break;
    }
  }
  return out;
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       DType dtype) {
  // Validate everything and lay the header out before touching the disk.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  std::set<std::string> names;
  uint64_t offset = 0;
  std::vector<uint64_t> counts;
  for (const TensorToWrite& t : tensors) {
    if (t.name.empty() || t.name == "__metadata__" || !names.insert(t.name).second) {
      throw Error(ErrorKind::InvalidArgument,
                  path + ": tensor name '" + t.name + "' is empty, reserved or repeated");
    }
    uint64_t count = 1;
    for (int64_t extent : t.shape) {
      if (extent < 0 || __builtin_mul_overflow(count, static_cast<uint64_t>(extent), &count)) {
        throw Error(ErrorKind::InvalidArgument,
                    path + ": tensor '" + t.name + "' has an invalid shape " + shape_text(t.shape));
      }
    }
    if (count > 0 && t.data == nullptr) {
      throw Error(ErrorKind::InvalidArgument, path + ": tensor '" + t.name + "' has no data");
    }
    const uint64_t nbytes = count * dtype_size(dtype);
    header[t.name] = {{"dtype", dtype_name(dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    counts.push_back(count);
  }
  std::string header_text = header.dump();
  // Pad with spaces so the data region starts 8-byte aligned, as other writers do.
  header_text.append((8 - (header_text.size() % 8)) % 8, ' ');
  const uint64_t header_size = header_text.size();

  const std::string temp_path = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) io_error(path, "cannot create weight file", errno);
  auto fail_write = [&](const char* what) {
    const int err = errno;
    ::close(fd);
    ::unlink(temp_path.c_str());
    io_error(path, what, err);
  };

  if (!write_all(fd, &header_size, 8) || !write_all(fd, header_text.data(), header_text.size())) {
    fail_write("cannot write weight file");
  }
  std::vector<uint8_t> buffer;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorToWrite& t = tensors[i];
    const size_t n = counts[i];
    if (n == 0) continue;
    if (dtype == DType::F32) {
      if (!write_all(fd, t.data, n * 4)) fail_write("cannot write weight file");
      continue;
    }
    buffer.resize(n * 2);
    for (size_t j = 0; j < n; ++j) {
      const uint16_t v = dtype == DType::BF16 ? f32_to_bf16(t.data[j]) : f32_to_f16(t.data[j]);
      std::memcpy(buffer.data() + 2 * j, &v, 2);
    }
    if (!write_all(fd, buffer.data(), buffer.size())) fail_write("cannot write weight file");
  }
  if (::fsync(fd) != 0) fail_write("cannot flush weight file to disk");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp_path.c_str());
    io_error(path, "cannot close weight file", err);
  }
  if (::rename(temp_path.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp_path.c_str());
    io_error(path, "cannot move the finished weight file into place", err);
  }
  // Make the rename itself durable; failing here leaves a complete file, so
  // it is not worth an error.
  const std::string folder = std::filesystem::path(path).parent_path().string();
  const int dir_fd = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace samba
