// Device memory: one owning allocation per purpose (weights, state,
// workspace), carved into tensors by a two-pass layout. Allocation failures
// become samba::Error(OutOfMemory) naming what did not fit and how much was free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace samba::cuda {

// Allocates `bytes` on the current device or throws OutOfMemory naming `what`.
void* device_alloc(size_t bytes, const std::string& what);
// Free and total memory of the current device, in bytes.
void device_memory_info(size_t* free_bytes, size_t* total_bytes);
std::string mib(uint64_t bytes);

// Owns one device allocation.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(size_t bytes, const std::string& what) : ptr_(device_alloc(bytes, what)), bytes_(bytes) {}
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept { swap(other); }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    swap(other);
    return *this;
  }
  void* get() const { return ptr_; }
  size_t bytes() const { return bytes_; }

 private:
  void swap(DeviceBuffer& other) noexcept {
    std::swap(ptr_, other.ptr_);
    std::swap(bytes_, other.bytes_);
  }
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Two-pass layout: run the layout function once with no base (it only
// counts bytes), allocate, then run it again to hand out the pointers.
class Arena {
 public:
  explicit Arena(char* base = nullptr) : base_(base) {}
  template <class T>
  T* take(size_t count) {
    const size_t offset = (used_ + 255) / 256 * 256;  // 256-byte aligned for vector loads and cuBLAS
    used_ = offset + count * sizeof(T);
    return base_ ? reinterpret_cast<T*>(base_ + offset) : nullptr;
  }
  size_t used() const { return used_; }

 private:
  char* base_;
  size_t used_ = 0;
};

}  // namespace samba::cuda
