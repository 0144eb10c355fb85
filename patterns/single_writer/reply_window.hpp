// reply_window.hpp: ReplyWindow<R>, the reply path of a pipelining producer.
//
// A producer that keeps many requests in flight (Engine::submit_to) needs their replies back in
// the order it sent them. One ReplySlot per request works (lessons/05's first version did), but
// the owner then pays a compare-and-swap per reply, and the producer polls one cache line per
// request, a line the owner is writing at the same moment. ReplyWindow is the Disruptor's answer
// turned around: a small ring of reply cells owned by one producer, filled by the owner in
// request order, and made visible with ONE release store per batch (publish), not per reply.
//
//   producer (one thread)                       owner (the engine's thread)
//   ---------------------                       ---------------------------
//   reserve() -> send request (ring)            put(reply)      per request, plain write
//   ...                                         publish()       once per batch (or per quarter
//   take() -> oldest reply, waits if needed                     window): 2 stores + wake
//
// Why a window and not an unbounded queue: the producer can have at most capacity() requests
// outstanding (reserve() refuses more), so the owner never waits for room to put a reply, and
// no reply is ever dropped. The producer's memory is fixed: capacity() cells, no allocation per
// request.
//
// Waiting: take() uses the Wait strategy (wait_strategy.hpp) on the published count; publish()
// signals it. With BlockingWaitStrategy a producer that outruns the owner sleeps in the kernel
// and costs the owner one atomic RMW per batch to check for sleepers.
//
// Lifetime: the producer may destroy the window as soon as in_flight() == 0 (its last take()
// returned or threw), even while the owner is still running. So the owner's last access to a
// window must be the store that hands the last reply over. publish() therefore stores the count
// with a kOwnerInside bit, signals, and then stores the count again without the bit; take()
// returns only once the bit is clear (ReplySlot's "notifying" state, for a count). A failure
// (the engine halted) is handed over the same way: it is a put (put_failure), published like
// a reply, so there is no separate last access for it.
//
// Contract:
//   - reserve / take / try_take / in_flight / has_room: the producer thread only (one thread;
//     another thread may take over after a happens-before hand-off, e.g. a join);
//   - put / put_failure / fail_unpublished / publish: the owner thread only, exactly one put
//     or put_failure per reserved request, in the order the requests were reserved
//     (Engine::submit_to guarantees it: rings are FIFO per producer). After a failure every
//     later request fails too (the engine halted for good; engine.hpp): take() of each throws
//     EngineStopped;
//   - the owner touches the window only while one of its requests is not handed over yet, and
//     calls publish() only after a put since the last publish;
//   - a reserved request that was never sent must be returned with unreserve().
//   R must be default-constructible and move-assignable.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>

#include "patterns/single_writer/overload.hpp"
#include "patterns/single_writer/ring_capacity.hpp"
#include "patterns/single_writer/sequence.hpp"
#include "patterns/single_writer/wait_strategy.hpp"

namespace cp::sw {

template <class R, WaitStrategy Wait = BlockingWaitStrategy>
class ReplyWindow {
  static_assert(std::is_default_constructible_v<R> && std::is_move_assignable_v<R>);

 public:
  using reply_type = R;

  // capacity: requests in flight at most; a power of two (else std::invalid_argument).
  explicit ReplyWindow(std::size_t capacity)
      : mask_(checked_ring_capacity(capacity) - 1),
        publish_every_(capacity >= 4 ? capacity / 4 : 1),
        cells_(std::make_unique<R[]>(capacity)) {}

  ReplyWindow(const ReplyWindow&) = delete;
  ReplyWindow& operator=(const ReplyWindow&) = delete;

  std::size_t capacity() const { return mask_ + 1; }

  // ---- used by the producer ----

  // in_flight: requests reserved and not yet taken.
  std::size_t in_flight() const { return static_cast<std::size_t>(reserved_ - taken_); }
  bool has_room() const { return in_flight() < capacity(); }

  // reserve: claims the reply cell of the next request. Throws std::logic_error when the window
  // is full: take() a reply first.
  void reserve() {
    if (!has_room()) throw std::logic_error("ReplyWindow::reserve: window full; take() first");
    ++reserved_;
  }
  // unreserve: gives back the last reservation (its request was not sent, e.g. stopped).
  void unreserve() { --reserved_; }

  // take: the reply to the oldest outstanding request, waiting for it if needed. Precondition:
  // in_flight() > 0 (else std::logic_error: there is nothing to wait for).
  // Throws EngineStopped if the engine halted before answering that request.
  // When it returns (or throws), the owner is done with that request's hand-off: once
  // in_flight() == 0 the window may be destroyed at once.
  R take() {
    if (in_flight() == 0) throw std::logic_error("ReplyWindow::take: no request in flight");
    // acquire: pairs with publish()'s first release store; makes the owner's put() visible.
    wait_.wait_until([this] { return count(published_.load(std::memory_order_acquire)) > taken_; });
    // The owner may still be inside publish() (signalling us): wait for its last store, so
    // that no access of the owner to this window is left when we return.
    // acquire: pairs with publish()'s second release store.
    while ((published_.load(std::memory_order_acquire) & kOwnerInside) != 0)
      std::this_thread::yield();
    return take_published();
  }

  // try_take: like take, but returns false at once if the oldest reply is not handed over
  // yet. Throws EngineStopped, as take() does, if the engine halted before answering it.
  bool try_take(R& out) {
    if (in_flight() == 0) return false;
    // acquire: as in take(); a reply whose publish() has not finished is not ready yet.
    const std::uint64_t p = published_.load(std::memory_order_acquire);
    if (count(p) <= taken_ || (p & kOwnerInside) != 0) return false;
    out = take_published();
    return true;
  }

  // ---- used by the owner ----
  // The owner touches a window only while one of its requests is not handed over yet; the
  // hand-off of the last one is publish()'s final store. Hence the engine publishes a window
  // once per batch at most after its last put, and never after the halt has answered it.

  // put: the reply to the next request of this window (request order). Not visible to the
  // producer before publish(). Returns whether this is the first put since the last publish
  // (the owner uses it to list the windows it must publish at the end of a batch).
  bool put(R reply) {
    cells_[written_ & mask_] = std::move(reply);
    return ++written_ - 1 == published_by_owner_;
  }

  // put_failure: answers the next request with EngineStopped (the engine halted). The halt
  // is for good: every later put of this window is a failure too. Returns as put() does.
  bool put_failure() {
    fail_from(written_);
    return ++written_ - 1 == published_by_owner_;
  }

  // fail_unpublished: turns every reply put since the last publish into a failure (the batch
  // that made them was not made durable: engine.hpp, held replies).
  void fail_unpublished() { fail_from(published_by_owner_); }

  // publish_due: whether so many replies wait unpublished (a quarter of the window) that the
  // owner should publish now rather than at the end of its batch: a producer whose window is
  // full is waiting for the oldest of them, and would otherwise idle through the whole batch.
  bool publish_due() const { return written_ - published_by_owner_ >= publish_every_; }

  // publish: hands every put so far over to the producer, and wakes it if it sleeps.
  // Precondition: a put since the last publish (the window is alive only while one is
  // outstanding). Its last access to the window is its last store.
  void publish() {
    published_by_owner_ = written_;
    const std::uint64_t n = written_;
    // release: pairs with take()'s acquire in wait_until: the producer may see the replies
    // now, but must not return before the store below (kOwnerInside).
    published_.store(n << 1 | kOwnerInside, std::memory_order_release);
    wait_.signal();
    // release: pairs with take()'s acquire load that sees kOwnerInside clear. The owner's
    // last access to this window for these requests: the producer may free it after this.
    published_.store(n << 1, std::memory_order_release);
  }

 private:
  static constexpr std::uint64_t kOwnerInside = 1;  // low bit of published_
  static constexpr std::uint64_t kNoFailure = ~std::uint64_t{0};
  static std::uint64_t count(std::uint64_t published) { return published >> 1; }

  // take_published: the oldest reply; its publish() has finished (see take()).
  R take_published() {
    // relaxed: written by the owner before the publish() our caller's acquire load saw, when
    // it concerns this request (index >= failed_from_); an older value means "not failed".
    if (taken_++ >= failed_from_.load(std::memory_order_relaxed)) throw EngineStopped("reply window");
    return std::move(cells_[(taken_ - 1) & mask_]);
  }

  void fail_from(std::uint64_t index) {
    if (index >= failed_from_owner_) return;
    failed_from_owner_ = index;
    // relaxed: published by the release store of the publish() that covers `index`.
    failed_from_.store(index, std::memory_order_relaxed);
  }

  const std::size_t mask_;
  const std::uint64_t publish_every_;
  std::unique_ptr<R[]> cells_;
  // Producer's counters (its thread only).
  alignas(kCacheLine) std::uint64_t reserved_ = 0;
  std::uint64_t taken_ = 0;
  // Owner's counters (its thread only).
  alignas(kCacheLine) std::uint64_t written_ = 0;
  std::uint64_t published_by_owner_ = 0;
  std::uint64_t failed_from_owner_ = kNoFailure;
  // Shared, written by the owner, read by the producer: the replies handed over (count << 1)
  // and kOwnerInside while publish() is still signalling; the first request answered by a
  // failure (kNoFailure: none).
  alignas(kCacheLine) std::atomic<std::uint64_t> published_{0};
  std::atomic<std::uint64_t> failed_from_{kNoFailure};
  Wait wait_;
};

}  // namespace cp::sw
