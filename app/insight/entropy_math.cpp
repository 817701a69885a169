#include "entropy_math.h"

#include <cmath>
#include <limits>

namespace sambalens {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

double maxEntropyAt(qint64 position, int window) {
  return std::log(double(qMin<qint64>(position + 1, qMax(window, 1))));
}

double sumMaxEntropy(qint64 from, qint64 to, int window) {
  if (to <= from) return 0.0;
  const qint64 w = qMax(window, 1);
  // Positions below W - 1 see i+1 keys: sum ln(i+1) = lgamma(b+1) - lgamma(a+1).
  const qint64 growingEnd = qMin(to, w);  // positions [from, growingEnd) have i+1 <= W
  double sum = 0.0;
  if (growingEnd > from) sum += std::lgamma(double(growingEnd) + 1.0) - std::lgamma(double(from) + 1.0);
  const qint64 fullFrom = qMax(from, w);
  if (to > fullFrom) sum += double(to - fullFrom) * std::log(double(w));
  return sum;
}

double bucketValue(const EntropyRunRecord& run, int swa, int head, int bucket, bool normalised) {
  if (bucket < 0 || bucket >= run.buckets) return kNaN;
  const EntropyBucketStat& s = run.stat(swa, head, bucket);
  if (s.count <= 0) return kNaN;
  if (!normalised) return s.mean;
  const qint64 from = run.bucketFrom(bucket);
  const double maxSum = sumMaxEntropy(from, from + s.count, run.model.window);
  if (maxSum <= 0.0) return kNaN;
  return double(s.mean) * double(s.count) / maxSum;
}

double rangeMean(const EntropyRunRecord& run, int swa, int head, qint64 from, qint64 to, bool normalised) {
  double sum = 0.0;
  double weight = 0.0;
  for (int b = 0; b < run.buckets; ++b) {
    const qint64 lo = run.bucketFrom(b), hi = lo + run.bucketWidth;
    if (hi <= from || lo >= to) continue;
    const double v = bucketValue(run, swa, head, b, normalised);
    if (std::isnan(v)) continue;
    const double n = double(run.stat(swa, head, b).count);
    sum += v * n;
    weight += n;
  }
  return weight > 0 ? sum / weight : kNaN;
}

double scaleMaximum(const EntropyRunRecord& run, bool normalised) {
  if (normalised) return 1.0;
  const double top = maxEntropyAt(qMax<qint64>(run.tokens(), 1) - 1, run.model.window);
  return top > 0 ? top : 1.0;
}

}  // namespace sambalens
