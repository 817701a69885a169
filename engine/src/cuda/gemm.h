// Every projection of the model goes through cuBLAS: y[T][N] = x[T][K] W[N][K]^T
// (+ beta * y), fp32 accumulation and output; bf16 operands in the fast mode,
// fp32 operands in full fp32 (no TF32) in the exact mode. With beta = 1 the
// GEMM adds its result into the fp32 residual stream, which is how the
// residual adds of the model are fused (no separate pass over the stream).
#pragma once

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace samba::cuda {

class Gemm {
 public:
  // `workspace` (device memory that outlives this object) lets cuBLAS run
  // inside CUDA graph capture without allocating.
  // `pedantic` (the exact mode) sets the handle's math mode to
  // CUBLAS_PEDANTIC_MATH, so no GEMM on it may use TF32 or other reduced
  // precision, whatever the environment (NVIDIA_TF32_OVERRIDE) says.
  Gemm(cudaStream_t stream, void* workspace, size_t workspace_bytes, bool pedantic = false);
  ~Gemm();
  Gemm(const Gemm&) = delete;
  Gemm& operator=(const Gemm&) = delete;

  // bf16 x bf16 -> fp32. Row t of x starts at x + t * ld_x; of y at y + t * ld_y.
  void linear(const __nv_bfloat16* x, int ld_x, const __nv_bfloat16* w, int T, int N, int K, float* y, int ld_y,
              float beta = 0.0f);
  // fp32 x fp32 -> fp32 in full fp32 (CUBLAS_COMPUTE_32F_PEDANTIC: no TF32),
  // the exact mode's projections (against fp32 copies of the bf16 weights).
  void linear(const float* x, int ld_x, const float* w, int T, int N, int K, float* y, int ld_y,
              float beta = 0.0f);
  // fp32 x fp32 -> fp32 in full fp32 (no TF32), for the small dt projection
  // whose output goes through exp(): precision matters more than speed there.
  void linear_f32(const float* x, int ld_x, const float* w, int T, int N, int K, float* y, int ld_y);

  static constexpr size_t kWorkspaceBytes = 32u << 20;

 private:
  cublasHandle_t handle_ = nullptr;
};

}  // namespace samba::cuda
