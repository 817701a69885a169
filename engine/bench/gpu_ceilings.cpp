#ifdef SAMBA_HAVE_CUDA
#include "gpu_ceilings.h"

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "../src/cuda/cuda_check.h"
#include "../src/cuda/device_memory.h"
#include "../src/cuda/gemm.h"
#include "event_timing.h"

namespace samba_bench {

namespace {

constexpr double kH200CopyBytesPerSecond = 4.3e12;  // gpu-machine.md, measured on the H200
constexpr double kH200GemmFlops = 790e12;

// 1 GiB copied device to device: twice the L2 of any current card many times over.
double measure_copy(cudaStream_t stream) {
  const size_t bytes = size_t{1} << 30;
  samba::cuda::DeviceBuffer src(bytes, "the copy-rate source"), dst(bytes, "the copy-rate destination");
  SAMBA_CUDA_CHECK(cudaMemsetAsync(src.get(), 1, bytes, stream));
  const double s = median_event_seconds(stream, 9, [&] {
    SAMBA_CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice, stream));
  });
  return 2.0 * static_cast<double>(bytes) / s;  // every byte read once and written once
}

// The engine's own GEMM call (Gemm::linear, bf16 in, fp32 out) on 8192^3.
double measure_gemm(cudaStream_t stream) {
  const int n = 8192;
  const size_t elems = static_cast<size_t>(n) * n;
  samba::cuda::DeviceBuffer a(elems * sizeof(__nv_bfloat16), "the GEMM-rate input"),
      b(elems * sizeof(__nv_bfloat16), "the GEMM-rate weights"), c(elems * sizeof(float), "the GEMM-rate output"),
      workspace(samba::cuda::Gemm::kWorkspaceBytes, "the GEMM-rate workspace");
  // Small non-zero values (every bf16 0x3c3c ~ 0.0115): tensor cores take longer on
  // real data than on zeros, so zeros would flatter the ceiling.
  SAMBA_CUDA_CHECK(cudaMemsetAsync(a.get(), 0x3c, a.bytes(), stream));
  SAMBA_CUDA_CHECK(cudaMemsetAsync(b.get(), 0x3c, b.bytes(), stream));
  samba::cuda::Gemm gemm(stream, workspace.get(), workspace.bytes());
  const auto* x = static_cast<const __nv_bfloat16*>(a.get());
  const auto* w = static_cast<const __nv_bfloat16*>(b.get());
  const double s =
      median_event_seconds(stream, 9, [&] { gemm.linear(x, n, w, n, n, n, static_cast<float*>(c.get()), n); });
  return 2.0 * n * static_cast<double>(n) * n / s;
}

std::string rate(double value, double unit, const char* name) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.2f %s", value / unit, name);
  return text;
}

}  // namespace

GpuCeilings measure_gpu_ceilings() {
  GpuCeilings g;
  cudaStream_t stream;
  SAMBA_CUDA_CHECK(cudaStreamCreate(&stream));
  g.copy_bytes_per_second = measure_copy(stream);
  g.gemm_flops = measure_gemm(stream);
  SAMBA_CUDA_CHECK(cudaStreamDestroy(stream));
  cudaDeviceProp prop{};
  SAMBA_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  g.reference_card = std::string(prop.name).find("H200") != std::string::npos;
  g.floor_copy_bytes_per_second = g.reference_card ? kH200CopyBytesPerSecond : g.copy_bytes_per_second;
  g.floor_gemm_flops = g.reference_card ? kH200GemmFlops : g.gemm_flops;
  return g;
}

std::string GpuCeilings::describe() const {
  const std::string measured = "measured on this card just before the runs: device copy " +
                               rate(copy_bytes_per_second, 1e12, "TB/s") + " (read + write), bf16 GEMM 8192^3 " +
                               rate(gemm_flops, 1e12, "TFLOP/s");
  if (reference_card)
    return "Floors: decode = bytes/token over 4.3 TB/s, prefill = GEMM FLOPs/token over 790 TFLOP/s "
           "(the H200's figures, gpu-machine.md; " + measured + ")";
  return "Floors: decode = bytes/token over " + rate(floor_copy_bytes_per_second, 1e12, "TB/s") +
         ", prefill = GEMM FLOPs/token over " + rate(floor_gemm_flops, 1e12, "TFLOP/s") +
         ": this card is not the H200 the issue's fixed figures (4.3 TB/s, 790 TFLOP/s) describe, so the "
         "floors use its own rates, " + measured;
}

}  // namespace samba_bench
#endif
