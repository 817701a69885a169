#include "samba/probes.h"

#include <algorithm>
#include <cmath>

#include "samba/error.h"
#include "samba/generate.h"

namespace samba {

EntropyBuckets::EntropyBuckets(const ModelConfig& config, int64_t initial_width, int max_buckets)
    : n_swa_(config.n_swa_layers()), n_head_(config.n_head),
      max_buckets_(std::max(2, max_buckets & ~1)), window_(config.window),
      width_(std::max<int64_t>(1, initial_width)) {
  stats_.resize(static_cast<size_t>(n_swa_) * n_head_ * max_buckets_);
}

EntropyBuckets::Stat& EntropyBuckets::slot(int swa, int head, int bucket) {
  return stats_[(static_cast<size_t>(swa) * n_head_ + head) * max_buckets_ + bucket];
}

const EntropyBuckets::Stat& EntropyBuckets::at(int swa, int head, int bucket) const {
  if (swa < 0 || swa >= n_swa_ || head < 0 || head >= n_head_ || bucket < 0 || bucket >= n_buckets_)
    throw Error(ErrorKind::InvalidArgument, "entropy bucket index out of range");
  return stats_[(static_cast<size_t>(swa) * n_head_ + head) * max_buckets_ + bucket];
}

void EntropyBuckets::grow_to(int64_t bucket) {
  while (bucket >= max_buckets_) {
    // Merge pairs: bucket b <- (2b, 2b+1); the width doubles.
    for (int s = 0; s < n_swa_; ++s)
      for (int h = 0; h < n_head_; ++h)
        for (int b = 0; b < max_buckets_ / 2; ++b) {
          Stat merged = slot(s, h, 2 * b);
          const Stat& other = slot(s, h, 2 * b + 1);
          if (other.count) {
            merged.min = merged.count ? std::min(merged.min, other.min) : other.min;
            merged.max = merged.count ? std::max(merged.max, other.max) : other.max;
            merged.sum += other.sum;
            merged.count += other.count;
          }
          slot(s, h, b) = merged;
        }
    for (int s = 0; s < n_swa_; ++s)
      for (int h = 0; h < n_head_; ++h)
        for (int b = max_buckets_ / 2; b < max_buckets_; ++b) slot(s, h, b) = Stat{};
    width_ *= 2;
    n_buckets_ = (n_buckets_ + 1) / 2;
    bucket /= 2;
  }
  n_buckets_ = std::max<int>(n_buckets_, static_cast<int>(bucket) + 1);
}

void EntropyBuckets::consume(int layer, int64_t pos0, int n_pos, int n_head, const float* values) {
  if (layer % 2 != 1 || layer / 2 >= n_swa_ || n_head != n_head_)
    throw Error(ErrorKind::InvalidArgument, "entropy for a layer this collector does not know");
  const int swa = layer / 2;
  for (int i = 0; i < n_pos; ++i) {
    const int64_t pos = pos0 + i;
    grow_to(pos / width_);
    const int bucket = static_cast<int>(pos / width_);
    for (int h = 0; h < n_head; ++h) {
      const float v = values[static_cast<size_t>(i) * n_head + h];
      Stat& st = slot(swa, h, bucket);
      st.min = st.count ? std::min(st.min, v) : v;
      st.max = st.count ? std::max(st.max, v) : v;
      st.sum += v;
      st.count += 1;
    }
  }
}

double EntropyBuckets::mean_over(int swa, int head, int64_t from, int64_t to) const {
  double sum = 0;
  int64_t count = 0;
  for (int b = 0; b < n_buckets_; ++b) {
    const int64_t lo = b * width_, hi = lo + width_;
    if (hi <= from || lo >= to) continue;
    const Stat& st = at(swa, head, b);
    sum += st.sum;
    count += st.count;
  }
  return count ? sum / static_cast<double>(count) : 0.0;
}

double EntropyBuckets::max_entropy(int64_t position) const {
  return std::log(static_cast<double>(std::min<int64_t>(position + 1, window_)));
}

std::vector<float> token_surprisal(Backend& backend, std::span<const int32_t> tokens, int chunk_tokens,
                                   EntropySink* entropy,
                                   const std::function<void(int64_t, int64_t)>& on_progress,
                                   const CancelToken* cancel) {
  if (chunk_tokens < 1) throw Error(ErrorKind::InvalidArgument, "chunk must be at least 1 token");
  backend.reset();
  const int V = backend.config().vocab_size;
  std::vector<float> surprisal(tokens.size(), 0.0f);
  std::vector<float> logits;
  ForwardOptions options;
  options.all_logits = true;
  options.entropy = entropy;
  const int64_t total = static_cast<int64_t>(tokens.size());
  for (int64_t start = 0; start < total; start += chunk_tokens) {
    if (cancel && cancel->cancelled())
      throw Error(ErrorKind::Cancelled, "cancelled after " + std::to_string(start) + " tokens");
    const int64_t n = std::min<int64_t>(chunk_tokens, total - start);
    backend.forward(tokens.subspan(start, n), &logits, options);
    for (int64_t t = 0; t < n && start + t + 1 < total; ++t) {
      const float* row = &logits[static_cast<size_t>(t) * V];
      const float m = *std::max_element(row, row + V);
      double z = 0.0;
      for (int v = 0; v < V; ++v) z += std::exp(static_cast<double>(row[v] - m));
      const int32_t next = tokens[start + t + 1];
      surprisal[start + t + 1] = static_cast<float>(std::log(z) - (row[next] - m));
    }
    if (on_progress) on_progress(start + n, total);
  }
  return surprisal;
}

}  // namespace samba
