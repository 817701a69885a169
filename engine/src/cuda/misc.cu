// Small device helpers: setting the device-side position that a captured
// decode graph reads (the graph's argmax kernel advances it), and
// deterministic pseudo-random fills (benchmarks build real-shape models
// directly on the device instead of writing gigabytes of files).
#include <algorithm>

#include "cuda/cuda_check.h"
#include "cuda/ops.h"

namespace samba::cuda {

namespace {
__global__ void set_position_kernel(int64_t* pos, int64_t value) { *pos = value; }

// splitmix64 of (seed, index): independent of the launch shape.
__device__ __forceinline__ float uniform01(uint64_t seed, size_t i) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ull * (static_cast<uint64_t>(i) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
}

__global__ void fill_bf16_kernel(bf16* out, size_t n, uint64_t seed, float lo, float hi) {
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    out[i] = __float2bfloat16(lo + (hi - lo) * uniform01(seed, i));
}

__global__ void fill_f32_kernel(float* out, size_t n, uint64_t seed, float lo, float hi) {
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    out[i] = lo + (hi - lo) * uniform01(seed, i);
}

__global__ void fill_constant_kernel(float* out, size_t n, float value) {
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<size_t>(gridDim.x) * blockDim.x)
    out[i] = value;
}

unsigned grid_for(size_t n) { return static_cast<unsigned>(std::min<size_t>((n + 255) / 256, 8192)); }
}  // namespace

void set_position(int64_t* pos, int64_t value, cudaStream_t stream) {
  set_position_kernel<<<1, 1, 0, stream>>>(pos, value);
  SAMBA_CUDA_CHECK_LAUNCH();
}

void fill_uniform_bf16(bf16* out, size_t n, uint64_t seed, float lo, float hi, cudaStream_t stream) {
  if (n == 0) return;
  fill_bf16_kernel<<<grid_for(n), 256, 0, stream>>>(out, n, seed, lo, hi);
  SAMBA_CUDA_CHECK_LAUNCH();
}

void fill_uniform_f32(float* out, size_t n, uint64_t seed, float lo, float hi, cudaStream_t stream) {
  if (n == 0) return;
  fill_f32_kernel<<<grid_for(n), 256, 0, stream>>>(out, n, seed, lo, hi);
  SAMBA_CUDA_CHECK_LAUNCH();
}

void fill_constant_f32(float* out, size_t n, float value, cudaStream_t stream) {
  if (n == 0) return;
  fill_constant_kernel<<<grid_for(n), 256, 0, stream>>>(out, n, value);
  SAMBA_CUDA_CHECK_LAUNCH();
}

}  // namespace samba::cuda
