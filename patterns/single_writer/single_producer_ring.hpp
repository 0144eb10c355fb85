// single_producer_ring.hpp: SingleProducerRing<T, Wait>, a bounded SPSC ring with sequences.
//
// One producer thread, one consumer thread. No compare-and-swap anywhere: each side owns the
// counter it writes and only reads the other's.
//
//   slot i of the ring holds the item with sequence s where s % capacity == i
//
//   published_ (written by the producer) : items [0, published_) are readable
//   consumed_  (written by the consumer) : items [0, consumed_)  are done, slots reusable
//   invariant : consumed_ <= published_ <= consumed_ + capacity
//
// Each side also keeps a private copy of the other side's counter (cached_consumed_,
// cached_published_) and re-reads the shared one only when the copy says "full" / "empty":
// on a busy ring most pushes and pops then touch no line the other thread writes.
//
// The consumer also frees slots lazily: while more published items are waiting (it is
// behind), it stores consumed_ only once every release_every_ items (capacity / 8, at most
// kReleaseEvery), and at once whenever it has caught up with what it saw published. Why: a
// consumer taking one item at a time wrote consumed_ per item, and a producer that found the
// ring full re-read it per item, so the line moved between the cores twice per item; this was
// the ring's slow mode in the 1-producer-1-consumer benchmark (bench/queues/README.md). A
// slot freed late delays a producer only while the consumer has work queued, never beyond the
// moment it catches up, so no wait can hang on it.
//
// Contract:
//   - bounded (capacity, a power of two); never allocates after construction;
//   - FIFO; the consumer sees items with sequences 0, 1, 2, ... in order;
//   - try_push/push/close: the single producer thread only (close() is "the producer is done",
//     like dropping the sender of a channel; a close from another thread would race with a
//     push in flight). For many producers or a close from anywhere, use MultiProducerRing;
//   - consume_batch/wait_for_data/has_data/drained: the single consumer thread only;
//   - closed()/size_approx()/capacity(): any thread.
//   - T must be default-constructible and move-assignable (slots hold a T each, always).
//   - Lifetime: a push's last access to the ring is its publish store; its signal() after it
//     goes to data_wait. So a consumer may destroy the ring as soon as it has the last item
//     it waits for if data_wait is a strategy it owns beyond the ring (constructor argument);
//     with the ring's own strategy, the ring must outlive every push (join the producer).
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
class SingleProducerRing {
  static_assert(std::is_default_constructible_v<T> && std::is_move_assignable_v<T>);

 public:
  using value_type = T;
  using wait_strategy = Wait;
  static constexpr bool single_producer = true;

  // `data_wait`: a strategy shared with other rings (see select.hpp), signalled when an item
  // is published or the ring closes; null means the ring's own.
  explicit SingleProducerRing(std::size_t capacity, Wait* data_wait = nullptr)
      : capacity_(checked_ring_capacity(capacity)),
        mask_(capacity_ - 1),
        release_every_(std::min<std::size_t>(kReleaseEvery, capacity_ / 8)),
        slots_(std::make_unique<T[]>(capacity_)),
        data_wait_(data_wait != nullptr ? data_wait : &own_data_wait_) {}

  SingleProducerRing(const SingleProducerRing&) = delete;
  SingleProducerRing& operator=(const SingleProducerRing&) = delete;

  // ---- used by the producer ----------------------------------------------------------------

  // try_push: appends `item` if there is room; never waits. Returns false (and leaves `item`
  // untouched) when the ring is full or closed.
  bool try_push(T&& item) {
    if (closed_.load(std::memory_order_relaxed)) return false;  // our own write (close())
    if (next_ - cached_consumed_ >= capacity_) {
      // acquire: pairs with the consumer's store_release of consumed_ in consume_batch, so its
      // reads of the slot we are about to overwrite are finished.
      cached_consumed_ = consumed_.load_acquire();
      if (next_ - cached_consumed_ >= capacity_) return false;
    }
    slots_[next_ & mask_] = std::move(item);
    ++next_;
    Wait* const wake = data_wait_;  // read before the hand-off: see "Lifetime" above
    // release: pairs with the consumer's load_acquire of published_ (has_data, drained).
    // Our last access to the ring: the consumer may free it once it has the item.
    published_.store_release(next_);
    wake->signal();
    return true;
  }

  // push: appends `item`, waiting with the strategy while the ring is full. Returns false only
  // if the ring is closed (by this same producer, so: after close()).
  bool push(T&& item) {
    for (;;) {
      if (try_push(std::move(item))) return true;
      if (closed_.load(std::memory_order_relaxed)) return false;  // our own write
      space_wait_.wait_until([this] {
        // acquire: as in try_push.
        cached_consumed_ = consumed_.load_acquire();
        return next_ - cached_consumed_ < capacity_;
      });
    }
  }

  // close: no more pushes; the consumer drains what was pushed, then wait_for_data() is false.
  void close() {
    // release: pairs with the consumer's load_acquire of closed_ in drained(): whoever sees
    // the ring closed sees every publish before it.
    closed_.store(true, std::memory_order_release);
    data_wait_->signal();
  }

  // ---- used by the consumer ----------------------------------------------------------------

  // consume_batch: calls f(T& item, std::uint64_t sequence) for each item available now, up
  // to max_batch, in order; then frees their slots with one store (deferred while more items
  // are waiting, up to release_every_ items; see the header). Returns the count. If f throws,
  // the items handed out so far (including the throwing one) count as consumed.
  template <class F>
  std::size_t consume_batch(F&& f, std::size_t max_batch) {
    if (cached_published_ - next_read_ < max_batch) {
      // acquire: pairs with the producer's store_release of published_ in try_push. Once per
      // batch: the batch takes everything published by now, not only what we saw last time.
      cached_published_ = published_.load_acquire();
    }
    const std::uint64_t end = next_read_ + std::min<std::uint64_t>(cached_published_ - next_read_, max_batch);
    Release release{*this};
    while (next_read_ != end) {
      const std::uint64_t seq = next_read_++;
      f(slots_[seq & mask_], seq);
    }
    return static_cast<std::size_t>(end - release.begin);
  }

  // wait_for_data: true when an item is available; false when the ring is closed and drained.
  bool wait_for_data() {
    if (has_data()) return true;
    if (drained()) return false;
    data_wait_->wait_until([this] { return has_data() || drained(); });
    return has_data();
  }

  // has_data: an item is available now (consumer only; refreshes the cached cursor).
  bool has_data() {
    if (next_read_ != cached_published_) return true;
    // acquire: pairs with the producer's store_release of published_ in try_push.
    cached_published_ = published_.load_acquire();
    return next_read_ != cached_published_;
  }

  // drained: closed, and every item pushed before close() consumed.
  bool drained() const {
    // acquire: pairs with close()'s release store; then published_ is final.
    if (!closed_.load(std::memory_order_acquire)) return false;
    return published_.load_acquire() == next_read_;  // acquire: as in has_data
  }

  // The sequence the next consumed item will get (= items consumed so far).
  std::uint64_t next_sequence() const { return next_read_; }

  // ---- any thread ---------------------------------------------------------------------------

  // acquire: pairs with close()'s release store.
  bool closed() const { return closed_.load(std::memory_order_acquire); }
  std::size_t capacity() const { return capacity_; }
  // Items pushed and not yet released by the consumer (released lazily: see the header); a
  // snapshot, never above capacity.
  std::size_t size_approx() const {
    // Published first, consumed second: consumed can only have grown meanwhile, so the
    // difference never exceeds capacity (it can undershoot, hence the clamp at 0).
    const std::uint64_t pub = published_.load_acquire();  // acquire: as in has_data
    const std::uint64_t done = consumed_.load_acquire();  // acquire: as in try_push
    return done >= pub ? 0 : static_cast<std::size_t>(pub - done);
  }

 private:
  struct Release {  // frees the batch's slots on every exit from consume_batch
    SingleProducerRing& ring;
    std::uint64_t begin = ring.next_read_;
    ~Release() {
      if (ring.next_read_ == begin) return;
      // Behind (more published items cached) and fewer than release_every_ unfreed: later.
      if (ring.next_read_ != ring.cached_published_ &&
          ring.next_read_ - ring.released_ < ring.release_every_)
        return;
      ring.released_ = ring.next_read_;
      // release: pairs with the producer's load_acquire of consumed_ (try_push, push).
      ring.consumed_.store_release(ring.next_read_);
      ring.space_wait_.signal();
    }
  };

  // The most items the consumer leaves unfreed while it is behind (capacity / 8 when smaller).
  static constexpr std::size_t kReleaseEvery = 32;

  const std::size_t capacity_;
  const std::size_t mask_;
  const std::size_t release_every_;
  const std::unique_ptr<T[]> slots_;
  Wait own_data_wait_;
  Wait space_wait_;
  Wait* const data_wait_;

  Sequence published_{0};  // written by the producer
  Sequence consumed_{0};   // written by the consumer
  alignas(kCacheLine) std::atomic<bool> closed_{false};

  // Producer-private.
  alignas(kCacheLine) std::uint64_t next_ = 0;
  std::uint64_t cached_consumed_ = 0;
  // Consumer-private.
  alignas(kCacheLine) std::uint64_t next_read_ = 0;
  std::uint64_t cached_published_ = 0;
  std::uint64_t released_ = 0;  // the last value stored to consumed_
};

}  // namespace cp::sw
