#include "cpu/cpu_ops.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace samba::cpu {

namespace {
// One slice of y = x W^T: output features [o0, o1).
void linear_slice(const float* x, int rows, int in, const float* weight, int out, float* y,
                  float beta, int o0, int o1) {
  const int n = o1 - o0;
  if (n <= 0) return;
  const float* w = weight + static_cast<size_t>(o0) * in;
  if (rows == 1) {
    // Decode: one token is a matrix-vector product, memory bound on W.
    cblas_sgemv(CblasRowMajor, CblasNoTrans, n, in, 1.0f, w, in, x, 1, beta, y + o0, 1);
  } else {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, n, in, 1.0f, x, in, w, in, beta,
                y + o0, out);
  }
}
}  // namespace

// Threads come from OpenMP only: each takes a slice of W's rows and runs a
// single-threaded BLAS call on it. Letting OpenBLAS's own pool and OpenMP's
// both spin on the same cores made decode ten times slower on a busy 2-core
// machine.
void linear(const float* x, int rows, int in, const float* weight, int out, float* y,
            bool accumulate) {
  const float beta = accumulate ? 1.0f : 0.0f;
  const long work = static_cast<long>(rows) * in * out;
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads == 1 || work < 32768) {
    linear_slice(x, rows, in, weight, out, y, beta, 0, out);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    // Slices rounded to 16 rows keep each thread's stores on its own lines.
    const int step = ((out + nt - 1) / nt + 15) / 16 * 16;
    const int o0 = std::min(out, t * step), o1 = std::min(out, o0 + step);
    linear_slice(x, rows, in, weight, out, y, beta, o0, o1);
  }
}

void rms_norm(const float* x, int rows, int n, const float* w, float eps, float* y) {
#pragma omp parallel for if (rows > 8)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + static_cast<int64_t>(r) * n;
    float* yr = y + static_cast<int64_t>(r) * n;
    double sum = 0.0;  // accumulate in double: n can be a few thousand
    for (int i = 0; i < n; ++i) sum += static_cast<double>(xr[i]) * xr[i];
    const float scale = static_cast<float>(1.0 / std::sqrt(sum / n + eps));
    for (int i = 0; i < n; ++i) yr[i] = xr[i] * scale * w[i];
  }
}

SAMBA_HOT_CLONES
float softmax_with_entropy(float* scores, int lo, int hi, int len) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int j = lo; j <= hi; ++j) m = std::max(m, scores[j]);
  float l = 0.0f, S = 0.0f;
#pragma omp simd reduction(+ : l, S)
  for (int j = lo; j <= hi; ++j) {
    const float shifted = scores[j] - m;  // <= 0: no cancellation with m later
    const float e = fast_exp(shifted);
    l += e;
    S += e * shifted;
    scores[j] = e;
  }
  const float inv = 1.0f / l;
  for (int j = 0; j < lo; ++j) scores[j] = 0.0f;
#pragma omp simd
  for (int j = lo; j <= hi; ++j) scores[j] *= inv;
  for (int j = hi + 1; j < len; ++j) scores[j] = 0.0f;
  return std::log(l) - S * inv;
}

void apply_rope(float* q, int q_heads, float* k, int k_heads, int rows, int head_size, int64_t pos0,
                float base) {
  const int half = head_size / 2;
  std::vector<double> inv_freq(half);
  for (int j = 0; j < half; ++j) inv_freq[j] = std::pow(static_cast<double>(base), -2.0 * j / head_size);
#pragma omp parallel for if (rows > 8)
  for (int t = 0; t < rows; ++t) {
    const double pos = static_cast<double>(pos0 + t);
    for (int j = 0; j < half; ++j) {
      // Angles in double: positions grow without bound (1M tokens and more).
      // One cos/sin serves the queries and the keys.
      const double angle = pos * inv_freq[j];
      const float c = static_cast<float>(std::cos(angle));
      const float s = static_cast<float>(std::sin(angle));
      for (int h = 0; h < q_heads + k_heads; ++h) {
        float* head = h < q_heads ? q + (static_cast<int64_t>(t) * q_heads + h) * head_size
                                  : k + (static_cast<int64_t>(t) * k_heads + (h - q_heads)) * head_size;
        const float x1 = head[j];
        const float x2 = head[j + half];
        head[j] = x1 * c - x2 * s;
        head[j + half] = x1 * s + x2 * c;
      }
    }
  }
}

}  // namespace samba::cpu
