#include "cuda/stage_profiler.h"

#include <algorithm>
#include <cstdio>

#include "cuda/cuda_check.h"

namespace samba::cuda {

StageProfiler::~StageProfiler() {
  for (auto& i : open_) pool_.insert(pool_.end(), {i.start, i.stop});
  for (auto& i : pending_) pool_.insert(pool_.end(), {i.start, i.stop});
  for (cudaEvent_t e : pool_) cudaEventDestroy(e);
}

cudaEvent_t StageProfiler::event() {
  if (!pool_.empty()) {
    cudaEvent_t e = pool_.back();
    pool_.pop_back();
    return e;
  }
  cudaEvent_t e;
  SAMBA_CUDA_CHECK(cudaEventCreate(&e));
  return e;
}

void StageProfiler::begin(const char* name, cudaStream_t s) {
  Interval i{name, event(), event()};
  SAMBA_CUDA_CHECK(cudaEventRecord(i.start, s));
  open_.push_back(i);
}

void StageProfiler::end(cudaStream_t s) {
  Interval i = open_.back();
  open_.pop_back();
  SAMBA_CUDA_CHECK(cudaEventRecord(i.stop, s));
  pending_.push_back(i);
}

void StageProfiler::collect() {
  for (Interval& i : pending_) {
    float ms = 0;
    SAMBA_CUDA_CHECK(cudaEventElapsedTime(&ms, i.start, i.stop));
    auto& t = totals_[i.name];
    t.first += ms;
    t.second += 1;
    pool_.insert(pool_.end(), {i.start, i.stop});
  }
  pending_.clear();
}

std::string StageProfiler::report() const {
  std::vector<std::pair<std::string, std::pair<double, long>>> rows(totals_.begin(), totals_.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  std::string out;
  char line[160];
  for (const auto& [name, t] : rows) {
    std::snprintf(line, sizeof(line), "%-28s %9.3f ms  (%ld calls)\n", name.c_str(), t.first, t.second);
    out += line;
  }
  return out;
}

}  // namespace samba::cuda
