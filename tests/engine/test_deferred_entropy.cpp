// The bookkeeping of the CUDA backend's overlapped entropy output
// (engine/src/cuda/deferred_entropy.h): each prefill chunk's entropy reaches
// the sink one chunk late, exactly once, in order, layer by layer, with the
// right positions; nothing is delivered after a discard or twice after a
// failing sink. Host logic only, so it runs without a GPU.
#include <gtest/gtest.h>

#include <stdexcept>
#include <tuple>
#include <vector>

#include "cuda/deferred_entropy.h"

namespace {

using samba::cuda::DeferredEntropy;

struct Call {
  int layer;
  int64_t pos0;
  int n_pos;
  std::vector<float> values;
};

class ListSink : public samba::EntropySink {
 public:
  void consume(int layer, int64_t pos0, int n_pos, int n_head, const float* values) override {
    calls.push_back({layer, pos0, n_pos, std::vector<float>(values, values + static_cast<size_t>(n_pos) * n_head)});
    if (throw_on_next) {
      throw_on_next = false;
      throw std::runtime_error("sink failed");
    }
  }
  std::vector<Call> calls;
  bool throw_on_next = false;
};

// Two pinned slots stand-in: slot s holds the entropy of the chunk copied
// into it, [layers][n_pos][heads], value = 1000 * chunk + 100 * layer + i.
class Slots {
 public:
  Slots(int layers, int heads) : layers_(layers), heads_(heads) {}
  void fill(int slot, int chunk, int n_pos) {
    auto& v = data_[slot];
    v.assign(static_cast<size_t>(layers_) * n_pos * heads_, 0.0f);
    for (int l = 0; l < layers_; ++l)
      for (int i = 0; i < n_pos * heads_; ++i) v[static_cast<size_t>(l) * n_pos * heads_ + i] = 1000.0f * chunk + 100.0f * l + i;
  }
  DeferredEntropy::Fetch fetch() {
    return [this](int slot) -> const float* {
      fetched.push_back(slot);
      return data_[slot].data();
    };
  }
  std::vector<int> fetched;

 private:
  int layers_, heads_;
  std::vector<float> data_[DeferredEntropy::kSlots];
};

TEST(DeferredEntropy, DeliversEachChunkOneLateInOrder) {
  const std::vector<int> swa = {1, 3, 5};
  const int heads = 2;
  DeferredEntropy d(swa, heads);
  Slots slots(3, heads);
  ListSink sink;
  const int sizes[] = {4, 4, 3};
  int64_t pos = 100;  // a forward that starts after earlier tokens
  for (int k = 0; k < 3; ++k) {
    const int slot = k % DeferredEntropy::kSlots;
    slots.fill(slot, k, sizes[k]);
    d.enqueued(&sink, slot, pos, sizes[k], slots.fetch());
    pos += sizes[k];
    // Chunk k waits; chunk k-1 has been delivered now.
    EXPECT_TRUE(d.has_pending());
    EXPECT_EQ(d.pending_slot(), slot);
    EXPECT_EQ(sink.calls.size(), static_cast<size_t>(3 * k)) << "after chunk " << k;
  }
  d.flush(slots.fetch());
  EXPECT_FALSE(d.has_pending());
  ASSERT_EQ(sink.calls.size(), 9u);
  int64_t expect_pos = 100;
  for (int k = 0; k < 3; ++k) {
    for (int l = 0; l < 3; ++l) {
      const Call& c = sink.calls[static_cast<size_t>(k) * 3 + l];
      EXPECT_EQ(c.layer, swa[l]);
      EXPECT_EQ(c.pos0, expect_pos);
      EXPECT_EQ(c.n_pos, sizes[k]);
      ASSERT_EQ(c.values.size(), static_cast<size_t>(sizes[k]) * heads);
      for (size_t i = 0; i < c.values.size(); ++i) EXPECT_EQ(c.values[i], 1000.0f * k + 100.0f * l + i);
    }
    expect_pos += sizes[k];
  }
  EXPECT_EQ(slots.fetched, (std::vector<int>{0, 1, 0}));  // each chunk's slot, fetched once, when delivered
  d.flush(slots.fetch());  // nothing left: no second delivery
  EXPECT_EQ(sink.calls.size(), 9u);
}

TEST(DeferredEntropy, ThePendingSlotCannotBeReused) {
  DeferredEntropy d({1}, 1);
  Slots slots(1, 1);
  ListSink sink;
  slots.fill(0, 0, 2);
  d.enqueued(&sink, 0, 0, 2, slots.fetch());
  EXPECT_THROW(d.enqueued(&sink, 0, 2, 2, slots.fetch()), samba::Error);
  EXPECT_THROW(d.enqueued(&sink, 2, 2, 2, slots.fetch()), samba::Error);
  EXPECT_TRUE(sink.calls.empty());
  EXPECT_EQ(d.pending_slot(), 0);
}

TEST(DeferredEntropy, DiscardDropsThePendingChunk) {
  DeferredEntropy d({1, 3}, 1);
  Slots slots(2, 1);
  ListSink sink;
  slots.fill(0, 0, 5);
  d.enqueued(&sink, 0, 0, 5, slots.fetch());
  d.discard();
  EXPECT_FALSE(d.has_pending());
  EXPECT_EQ(d.pending_slot(), -1);
  d.flush(slots.fetch());
  EXPECT_TRUE(sink.calls.empty());
  EXPECT_TRUE(slots.fetched.empty());
  // A fresh run after the discard starts clean, in either slot.
  slots.fill(0, 7, 1);
  d.enqueued(&sink, 0, 50, 1, slots.fetch());
  d.flush(slots.fetch());
  ASSERT_EQ(sink.calls.size(), 2u);
  EXPECT_EQ(sink.calls[0].pos0, 50);
  EXPECT_EQ(sink.calls[0].values[0], 7000.0f);
}

// A sink that throws while chunk k-1 is delivered (during chunk k's
// enqueue): chunk k-1 is not delivered again, chunk k waits until the caller
// discards it (what forward() does on any exception).
TEST(DeferredEntropy, AFailingSinkNeverGetsAChunkTwice) {
  DeferredEntropy d({1}, 1);
  Slots slots(1, 1);
  ListSink sink;
  slots.fill(0, 0, 3);
  d.enqueued(&sink, 0, 0, 3, slots.fetch());
  slots.fill(1, 1, 3);
  sink.throw_on_next = true;
  EXPECT_THROW(d.enqueued(&sink, 1, 3, 3, slots.fetch()), std::runtime_error);
  ASSERT_EQ(sink.calls.size(), 1u);
  EXPECT_EQ(sink.calls[0].pos0, 0);
  EXPECT_EQ(d.pending_slot(), 1);
  d.discard();
  d.flush(slots.fetch());
  EXPECT_EQ(sink.calls.size(), 1u);
  // And a sink failing on the final flush: the chunk is gone after it too.
  slots.fill(0, 2, 2);
  d.enqueued(&sink, 0, 6, 2, slots.fetch());
  sink.throw_on_next = true;
  EXPECT_THROW(d.flush(slots.fetch()), std::runtime_error);
  EXPECT_FALSE(d.has_pending());
  d.flush(slots.fetch());
  EXPECT_EQ(sink.calls.size(), 2u);
}

}  // namespace
