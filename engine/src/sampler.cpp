// Token sampling on the host: repetition penalty, temperature, top-k, top-p.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_set>

#include "samba/error.h"
#include "samba/generate.h"

namespace samba {

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {
  if (params.temperature < 0 || params.top_p <= 0 || params.top_p > 1 || params.top_k < 0 ||
      params.repetition_penalty <= 0)
    throw Error(ErrorKind::InvalidArgument,
                "sampling settings out of range (temperature >= 0, 0 < top_p <= 1, top_k >= 0, "
                "repetition_penalty > 0)");
}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> history) {
  const int V = static_cast<int>(logits.size());
  if (params_.repetition_penalty != 1.0f && !history.empty()) {
    const size_t from = history.size() > static_cast<size_t>(params_.repetition_window)
                            ? history.size() - params_.repetition_window
                            : 0;
    std::unordered_set<int32_t> seen(history.begin() + from, history.end());
    for (int32_t t : seen) {
      if (t < 0 || t >= V) continue;
      float& l = logits[t];
      l = l > 0 ? l / params_.repetition_penalty : l * params_.repetition_penalty;
    }
  }
  if (params_.temperature == 0.0f)
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());

  order_.resize(V);
  std::iota(order_.begin(), order_.end(), 0);
  int keep = V;
  auto by_logit = [&](int32_t a, int32_t b) { return logits[a] > logits[b]; };
  if (params_.top_k > 0 && params_.top_k < V) {
    keep = params_.top_k;
    std::partial_sort(order_.begin(), order_.begin() + keep, order_.end(), by_logit);
  } else {
    std::sort(order_.begin(), order_.end(), by_logit);
  }
  // Softmax over the kept candidates at this temperature (sorted, so the
  // first is the maximum).
  const float max_logit = logits[order_[0]];
  std::vector<double> probs(keep);
  double total = 0.0;
  for (int i = 0; i < keep; ++i) {
    probs[i] = std::exp((logits[order_[i]] - max_logit) / params_.temperature);
    total += probs[i];
  }
  if (params_.top_p < 1.0f) {
    double cumulative = 0.0;
    int cut = keep;
    for (int i = 0; i < keep; ++i) {
      cumulative += probs[i] / total;
      if (cumulative >= params_.top_p) {
        cut = i + 1;
        break;
      }
    }
    keep = cut;
    total = std::accumulate(probs.begin(), probs.begin() + keep, 0.0);
  }
  std::uniform_real_distribution<double> uniform(0.0, total);
  double r = uniform(rng_);
  for (int i = 0; i < keep; ++i) {
    r -= probs[i];
    if (r <= 0) return order_[i];
  }
  return order_[keep - 1];
}

}  // namespace samba
