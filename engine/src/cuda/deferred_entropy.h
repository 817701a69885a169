// Delivers the attention entropy of prefill chunks to an EntropySink one
// chunk late, so the host-side sink runs while the GPU computes the next
// chunk instead of the GPU idling while the sink runs (issue 3: entropy
// output may cost at most 5% of prefill time).
//
// The backend copies chunk k's entropy into one of two pinned host slots
// (asynchronously, followed by an event), enqueues chunk k+1's kernels, and
// only then hands chunk k to the sink; the last chunk is flushed before
// forward() returns. This class is the bookkeeping of that, with no CUDA in
// it (so it is unit-tested without a device): which chunk is pending, in
// which slot, at which positions, and that each chunk reaches the sink
// exactly once, in order, layer by layer.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "samba/backend.h"
#include "samba/error.h"

namespace samba::cuda {

class DeferredEntropy {
 public:
  static constexpr int kSlots = 2;
  // Waits until the copy of the chunk in `slot` has landed and returns its
  // values, [n_swa_layers][n_pos][n_head].
  using Fetch = std::function<const float*(int slot)>;

  // `swa_layers`: the block index of each SWA layer, in order.
  DeferredEntropy(std::vector<int> swa_layers, int n_head) : layers_(std::move(swa_layers)), n_head_(n_head) {}

  // A chunk's entropy copy into `slot` has been enqueued (its kernels are
  // queued on the GPU). Remembers it, then delivers the chunk before it,
  // whose copy was enqueued earlier: the host works on that one while the
  // GPU works on this one. The pending chunk's slot may not be reused.
  void enqueued(EntropySink* sink, int slot, int64_t pos0, int n_pos, const Fetch& fetch) {
    if (slot < 0 || slot >= kSlots || (pending_ && pending_->slot == slot))
      throw Error(ErrorKind::InvalidArgument,
                  "entropy slot " + std::to_string(slot) + " is not free (a chunk still waits in it)");
    std::optional<Pending> previous = std::exchange(pending_, Pending{sink, slot, pos0, n_pos});
    if (previous) deliver(*previous, fetch);
  }

  // Delivers the pending chunk, if any (the end of a forward pass).
  void flush(const Fetch& fetch) {
    std::optional<Pending> last = std::exchange(pending_, std::nullopt);
    if (last) deliver(*last, fetch);
  }

  // Forgets the pending chunk without delivering it (after an error, or a
  // reset): it is never delivered later, nor twice.
  void discard() { pending_.reset(); }

  bool has_pending() const { return pending_.has_value(); }
  // The slot the pending chunk holds, -1 when none.
  int pending_slot() const { return pending_ ? pending_->slot : -1; }

 private:
  struct Pending {
    EntropySink* sink;
    int slot;
    int64_t pos0;
    int n_pos;
  };

  // Taken out of pending_ before the sink runs, so a sink that throws does
  // not get the chunk again.
  void deliver(const Pending& p, const Fetch& fetch) const {
    const float* values = fetch(p.slot);
    const size_t per_layer = static_cast<size_t>(p.n_pos) * n_head_;
    for (size_t l = 0; l < layers_.size(); ++l)
      p.sink->consume(layers_[l], p.pos0, p.n_pos, n_head_, values + l * per_layer);
  }

  std::vector<int> layers_;
  int n_head_;
  std::optional<Pending> pending_;
};

}  // namespace samba::cuda
