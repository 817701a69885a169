// Optional timing of the backend's stages with CUDA events (environment
// variable SAMBA_CUDA_PROFILE=1): where a prefill chunk or a decode step
// spends its time, for the benchmark's notes. Off, it costs nothing; on, the
// decode step runs without its CUDA graph (events cannot be recorded inside
// a capture), so decode figures taken with it on are not the graph's.
#pragma once

#include <cuda_runtime.h>

#include <map>
#include <string>
#include <vector>

namespace samba::cuda {

class StageProfiler {
 public:
  explicit StageProfiler(bool enabled) : enabled_(enabled) {}
  ~StageProfiler();
  StageProfiler(const StageProfiler&) = delete;
  StageProfiler& operator=(const StageProfiler&) = delete;
  bool enabled() const { return enabled_; }

  class Scope {
   public:
    Scope(StageProfiler* p, const char* name, cudaStream_t s) : p_(p), s_(s) {
      if (p_) p_->begin(name, s_);
    }
    ~Scope() {
      if (p_) p_->end(s_);
    }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    StageProfiler* p_;
    cudaStream_t s_;
  };
  Scope scope(const char* name, cudaStream_t s) { return Scope(enabled_ ? this : nullptr, name, s); }

  // After the stream was synchronized: adds the recorded intervals up.
  void collect();
  // "stage: total ms (calls)", largest first.
  std::string report() const;
  void clear() { totals_.clear(); }

 private:
  void begin(const char* name, cudaStream_t s);
  void end(cudaStream_t s);
  cudaEvent_t event();

  struct Interval {
    std::string name;
    cudaEvent_t start, stop;
  };
  bool enabled_;
  std::vector<Interval> open_;     // begun, not ended (nesting allowed)
  std::vector<Interval> pending_;  // ended, not yet collected
  std::vector<cudaEvent_t> pool_;
  std::map<std::string, std::pair<double, long>> totals_;
};

}  // namespace samba::cuda
