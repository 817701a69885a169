#include "cpu/cpu_ops.h"

#include <cblas.h>
#include <cmath>
#include <vector>

namespace samba::cpu {

void linear(const float* x, int rows, int in, const float* weight, int out, float* y,
            bool accumulate) {
  const float beta = accumulate ? 1.0f : 0.0f;
  if (rows == 1) {
    // Decode: one token is a matrix-vector product, memory bound on W.
    cblas_sgemv(CblasRowMajor, CblasNoTrans, out, in, 1.0f, weight, in, x, 1, beta, y, 1);
    return;
  }
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, out, in, 1.0f, x, in, weight, in,
              beta, y, out);
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

void apply_rope(float* x, int rows, int heads, int head_size, int64_t pos0, float base) {
  const int half = head_size / 2;
  std::vector<double> inv_freq(half);
  for (int j = 0; j < half; ++j) inv_freq[j] = std::pow(static_cast<double>(base), -2.0 * j / head_size);
#pragma omp parallel for if (rows > 8)
  for (int t = 0; t < rows; ++t) {
    const double pos = static_cast<double>(pos0 + t);
    for (int j = 0; j < half; ++j) {
      // Angles in double: positions grow without bound (1M tokens and more).
      const double angle = pos * inv_freq[j];
      const float c = static_cast<float>(std::cos(angle));
      const float s = static_cast<float>(std::sin(angle));
      for (int h = 0; h < heads; ++h) {
        float* head = x + (static_cast<int64_t>(t) * heads + h) * head_size;
        const float x1 = head[j];
        const float x2 = head[j + half];
        head[j] = x1 * c - x2 * s;
        head[j + half] = x1 * s + x2 * c;
      }
    }
  }
}

}  // namespace samba::cpu
