// Looking inside the model: attention entropy reduced into position buckets
// with memory bounded whatever the input length, and per-token surprisal.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "samba/backend.h"
#include "samba/config.h"

namespace samba {

class CancelToken;

// Collects H(l,h,i) into buckets of consecutive positions: per (SWA layer,
// head, bucket) the mean, min and max. When the number of buckets would pass
// `max_buckets`, neighbouring buckets merge and the bucket width doubles,
// so memory stays O(layers x heads x max_buckets) for any length.
class EntropyBuckets final : public EntropySink {
 public:
  struct Stat {
    double sum = 0;
    float min = 0, max = 0;
    int64_t count = 0;
    double mean() const { return count ? sum / static_cast<double>(count) : 0.0; }
  };

  EntropyBuckets(const ModelConfig& config, int64_t initial_width = 1, int max_buckets = 1024);
  void consume(int layer, int64_t pos0, int n_pos, int n_head, const float* values) override;

  int n_swa_layers() const { return n_swa_; }
  int n_heads() const { return n_head_; }
  int64_t bucket_width() const { return width_; }
  int n_buckets() const { return n_buckets_; }
  // Block index (odd) of SWA layer number `swa`.
  int layer_of(int swa) const { return 2 * swa + 1; }
  const Stat& at(int swa, int head, int bucket) const;
  // Mean entropy of (swa, head) over positions [from, to) at bucket resolution.
  double mean_over(int swa, int head, int64_t from, int64_t to) const;
  // Entropy of uniform attention at position i: ln(min(i+1, W)).
  double max_entropy(int64_t position) const;

 private:
  void grow_to(int64_t bucket);
  Stat& slot(int swa, int head, int bucket);
  int n_swa_, n_head_, max_buckets_, window_;
  int64_t width_;
  int n_buckets_ = 0;
  std::vector<Stat> stats_;  // [swa][head][max_buckets]
};

// -ln p(token_i | tokens before it) for i >= 1 (entry 0 is 0: no prefix),
// read in chunks with progress and cancellation; the backend is reset first.
std::vector<float> token_surprisal(Backend& backend, std::span<const int32_t> tokens,
                                   int chunk_tokens = 512, EntropySink* entropy = nullptr,
                                   const std::function<void(int64_t, int64_t)>& on_progress = {},
                                   const CancelToken* cancel = nullptr);

}  // namespace samba
