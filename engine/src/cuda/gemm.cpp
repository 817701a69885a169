#include "cuda/gemm.h"

#include "cuda/cuda_check.h"

namespace samba::cuda {

Gemm::Gemm(cudaStream_t stream, void* workspace, size_t workspace_bytes, bool pedantic) {
  SAMBA_CUBLAS_CHECK(cublasCreate(&handle_));
  SAMBA_CUBLAS_CHECK(cublasSetStream(handle_, stream));
  SAMBA_CUBLAS_CHECK(cublasSetWorkspace(handle_, workspace, workspace_bytes));
  SAMBA_CUBLAS_CHECK(cublasSetMathMode(handle_, pedantic ? CUBLAS_PEDANTIC_MATH : CUBLAS_DEFAULT_MATH));
}

Gemm::~Gemm() {
  if (handle_) cublasDestroy(handle_);
}

// Row-major y[T][N] = x[T][K] W[N][K]^T is column-major y^T[N][T] = W^T... :
// in cuBLAS terms C (N x T, ld_y) = op(A) (N x K) * B (K x T) with A = W seen
// as a K x N column-major matrix (ld K) transposed, and B = x seen as K x T.
void Gemm::linear(const __nv_bfloat16* x, int ld_x, const __nv_bfloat16* w, int T, int N, int K, float* y,
                  int ld_y, float beta) {
  if (T <= 0) return;
  const float alpha = 1.0f;
  SAMBA_CUBLAS_CHECK(cublasGemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, N, T, K, &alpha, w, CUDA_R_16BF, K, x,
                                  CUDA_R_16BF, ld_x, &beta, y, CUDA_R_32F, ld_y, CUBLAS_COMPUTE_32F,
                                  CUBLAS_GEMM_DEFAULT));
}

void Gemm::linear(const float* x, int ld_x, const float* w, int T, int N, int K, float* y, int ld_y,
                  float beta) {
  if (T <= 0) return;
  const float alpha = 1.0f;
  SAMBA_CUBLAS_CHECK(cublasGemmEx(handle_, CUBLAS_OP_T, CUBLAS_OP_N, N, T, K, &alpha, w, CUDA_R_32F, K, x,
                                  CUDA_R_32F, ld_x, &beta, y, CUDA_R_32F, ld_y, CUBLAS_COMPUTE_32F_PEDANTIC,
                                  CUBLAS_GEMM_DEFAULT));
}

void Gemm::linear_f32(const float* x, int ld_x, const float* w, int T, int N, int K, float* y, int ld_y) {
  linear(x, ld_x, w, T, N, K, y, ld_y, 0.0f);
}

}  // namespace samba::cuda
