// multi_producer_ring.hpp: MultiProducerRing<T, Wait>, a bounded MPSC ring with sequences.
//
// Any number of producer threads, one consumer thread.
//
//   claim_     (CAS by producers)   : sequences [0, claim_) are taken by some producer;
//                                     its top bit (kClosedBit) is set by close()
//   slot.published (per slot)        : == s + 1 once the item with sequence s is written
//   consumed_  (written by consumer) : items [0, consumed_) done, their slots reusable
//   invariant : consumed_ <= claim_ <= consumed_ + capacity
//
// A producer claims sequence s with a CAS on claim_ only when s < consumed_ + capacity, so a
// claimed slot is always free: it writes the item and publishes it at once, never waiting
// while holding a claim (but a producer preempted there holds everyone up: see Contract). Producers finish out of order (s + 1 may be published before s),
// hence a per-slot flag (the Disruptor's "availability buffer", in the form of Vyukov's
// per-slot sequence): the consumer takes s only when slot s says "s is here". The flag holds
// s + 1, not a bool, so a stale flag from the previous lap (s + 1 - capacity) never matches.
//
// Why CAS and not fetch_add: fetch_add would claim a sequence even when the ring is full, and
// the producer would then have to wait with the claim held (try_push could not fail cleanly),
// and a close() could not tell which claims were accepted. With the closed bit living in
// claim_ itself, close() is one fetch_or that splits every push into "claimed before" (will be
// consumed) or "saw the bit" (returned false): no accepted item is ever lost, whatever thread
// closes and whenever.
//
// Contract:
//   - bounded, power-of-two capacity; no allocation after construction;
//   - per-producer FIFO; the consumer sees sequences 0, 1, 2, ... densely, in order;
//   - try_push/push/close/closed/size_approx/capacity: any thread;
//   - consume_batch/wait_for_data/has_data/drained/next_sequence: the one consumer thread;
//   - progress: not lock-free. Producers never wait for each other while there is room (a
//     failed CAS means another producer's claim succeeded). But a producer stalled between
//     its claim and its publish blocks the consumer at its slot (sequences are consumed in
//     order), and once the ring has filled up behind that slot it blocks every producer too
//     (try_push fails, push waits) until it resumes: the same as Vyukov's bounded queue;
//   - T must be default-constructible and move-assignable;
//   - Lifetime: a push's last access to the ring is its publish store; its signal() after it
//     goes to data_wait. So a consumer may destroy the ring as soon as it has the last item
//     it waits for if data_wait is a strategy it owns beyond the ring (constructor argument);
//     with the ring's own strategy, the ring must outlive every push (join the producers).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

#include "patterns/single_writer/ring_capacity.hpp"
#include "patterns/single_writer/sequence.hpp"
#include "patterns/single_writer/wait_strategy.hpp"

namespace cp::sw {

template <class T, WaitStrategy Wait = BlockingWaitStrategy>
class MultiProducerRing {
  static_assert(std::is_default_constructible_v<T> && std::is_move_assignable_v<T>);

 public:
  using value_type = T;
  using wait_strategy = Wait;
  static constexpr bool single_producer = false;
  static constexpr std::uint64_t kClosedBit = std::uint64_t{1} << 63;

  // `data_wait`: a strategy shared with other rings (see select.hpp); null means the ring's own.
  explicit MultiProducerRing(std::size_t capacity, Wait* data_wait = nullptr)
      : capacity_(checked_ring_capacity(capacity)),
        mask_(capacity_ - 1),
        slots_(std::make_unique<Slot[]>(capacity_)),
        data_wait_(data_wait != nullptr ? data_wait : &own_data_wait_) {}

  MultiProducerRing(const MultiProducerRing&) = delete;
  MultiProducerRing& operator=(const MultiProducerRing&) = delete;

  // ---- used by producers (any thread) -----------------------------------------------------

  // try_push: appends `item` if there is room; never waits. Returns false (and leaves `item`
  // untouched) when the ring is full or closed.
  bool try_push(T&& item) {
    std::uint64_t pos = claim_.load_relaxed();  // a guess; the CAS checks it
    for (;;) {
      if ((pos & kClosedBit) != 0) return false;
      // acquire: pairs with the consumer's store_release of consumed_ (its reads of the slot
      // we may overwrite are finished). Signed: a stale `pos` may be below consumed_.
      const auto in_use = static_cast<std::int64_t>(pos - consumed_.load_acquire());
      if (in_use >= static_cast<std::int64_t>(capacity_)) {
        const std::uint64_t now = claim_.load_relaxed();
        if (now == pos) return false;  // really full
        pos = now;                     // our guess was stale: look again
        continue;
      }
      // relaxed: the claim orders nothing by itself; the data is ordered by the acquire of
      // consumed_ above and the release of the slot flag below.
      if (claim_.compare_exchange_weak_relaxed(pos, pos + 1)) break;
    }
    Slot& slot = slots_[pos & mask_];
    slot.item = std::move(item);
    Wait* const wake = data_wait_;  // read before the hand-off: see "Lifetime" above
    // release: pairs with the consumer's acquire load of this flag (slot_ready). Our last
    // access to the ring: the consumer may free it once it has the item.
    slot.published.store(pos + 1, std::memory_order_release);
    wake->signal();
    return true;
  }

  // push: appends `item`, waiting with the strategy while the ring is full. Returns false only
  // when the ring is closed (before or while waiting); `item` is then untouched.
  bool push(T&& item) {
    for (;;) {
      if (try_push(std::move(item))) return true;
      if (closed()) return false;
      space_wait_.wait_until([this] { return closed() || has_space(); });
    }
  }

  // close: no more pushes are accepted from now on, on any thread; pushes that claimed a slot
  // before are consumed. Wakes producers waiting for space and the consumer. Idempotent.
  void close() {
    // acq_rel: release pairs with the consumer's load_acquire of claim_ in drained() (and with
    // producers' CAS, which then fails); acquire is not needed but costs nothing on an RMW.
    claim_.fetch_or_acq_rel(kClosedBit);
    data_wait_->signal();
    space_wait_.signal();
  }

  // ---- used by the consumer ----------------------------------------------------------------

  // consume_batch: calls f(T& item, std::uint64_t sequence) for each item available now (up to
  // the first gap left by a producer still writing), up to max_batch, in sequence order; then
  // frees their slots with one store. Returns the count. If f throws, the items handed out so
  // far (including the throwing one) count as consumed.
  template <class F>
  std::size_t consume_batch(F&& f, std::size_t max_batch) {
    Release release{*this};
    while (next_read_ - release.begin < max_batch && slot_ready(next_read_)) {
      const std::uint64_t seq = next_read_++;
      f(slots_[seq & mask_].item, seq);
    }
    return static_cast<std::size_t>(next_read_ - release.begin);
  }

  // wait_for_data: true when an item is available; false when the ring is closed and drained.
  bool wait_for_data() {
    if (has_data()) return true;
    if (drained()) return false;
    data_wait_->wait_until([this] { return has_data() || drained(); });
    return has_data();
  }

  bool has_data() const { return slot_ready(next_read_); }

  // drained: closed, and every item accepted before close() consumed.
  bool drained() const {
    // acquire: pairs with close()'s fetch_or (release).
    const std::uint64_t c = claim_.load_acquire();
    return (c & kClosedBit) != 0 && (c & ~kClosedBit) == next_read_;
  }

  std::uint64_t next_sequence() const { return next_read_; }

  // ---- any thread ---------------------------------------------------------------------------

  // acquire: pairs with close()'s fetch_or.
  bool closed() const { return (claim_.load_acquire() & kClosedBit) != 0; }
  std::size_t capacity() const { return capacity_; }
  // Items claimed and not yet released by the consumer; a snapshot, never above capacity.
  std::size_t size_approx() const {
    const std::uint64_t claimed = claim_.load_relaxed() & ~kClosedBit;  // first (see SPSC)
    const std::uint64_t done = consumed_.load_acquire();  // acquire: as in try_push
    return done >= claimed ? 0 : static_cast<std::size_t>(claimed - done);
  }

 private:
  struct Slot {
    std::atomic<std::uint64_t> published{0};  // s + 1 once the item with sequence s is in
    T item{};
  };

  struct Release {  // frees the batch's slots on every exit from consume_batch
    MultiProducerRing& ring;
    std::uint64_t begin = ring.next_read_;
    ~Release() {
      if (ring.next_read_ == begin) return;
      // release: pairs with the producers' load_acquire of consumed_ (try_push, has_space).
      ring.consumed_.store_release(ring.next_read_);
      ring.space_wait_.signal();
    }
  };

  bool slot_ready(std::uint64_t seq) const {
    // acquire: pairs with the producer's release store of the flag in try_push.
    return slots_[seq & mask_].published.load(std::memory_order_acquire) == seq + 1;
  }

  bool has_space() const {
    const std::uint64_t pos = claim_.load_relaxed() & ~kClosedBit;
    // acquire: as in try_push.
    return static_cast<std::int64_t>(pos - consumed_.load_acquire()) <
           static_cast<std::int64_t>(capacity_);
  }

  const std::size_t capacity_;
  const std::size_t mask_;
  const std::unique_ptr<Slot[]> slots_;
  Wait own_data_wait_;
  Wait space_wait_;
  Wait* const data_wait_;

  Sequence claim_{0};     // CAS by producers; fetch_or by close()
  Sequence consumed_{0};  // written by the consumer
  alignas(kCacheLine) std::uint64_t next_read_ = 0;  // consumer-private
};

}  // namespace cp::sw
