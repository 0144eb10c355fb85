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
//   take() -> oldest reply, waits if needed                     window): release store + wake
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
// Contract:
//   - reserve / take / try_take / in_flight / has_room: the producer thread only (one thread;
//     another thread may take over after a happens-before hand-off, e.g. a join);
//   - put / publish / fail: the owner thread only, exactly one put per reserved request, in the
//     order the requests were reserved (Engine::submit_to guarantees it: rings are FIFO per
//     producer), until fail(): the requests not put by then get no reply, and take() of the
//     first of them throws EngineStopped (the engine halted; engine.hpp).
//   - a reserved request that was never sent must be returned with unreserve().
//   R must be default-constructible and move-assignable.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
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
  R take() {
    if (in_flight() == 0) throw std::logic_error("ReplyWindow::take: no request in flight");
    // acquire: pairs with publish()'s release store; makes the owner's put() visible. And
    // with fail()'s release store.
    wait_.wait_until([this] {
      return published_.load(std::memory_order_acquire) > taken_ ||
             failed_.load(std::memory_order_acquire);
    });
    if (published_.load(std::memory_order_acquire) <= taken_) {  // as above
      ++taken_;  // that request is answered: by the failure
      throw EngineStopped("reply window");
    }
    return std::move(cells_[taken_++ & mask_]);
  }

  // try_take: like take, but returns false at once if the oldest reply is not published yet.
  // Throws EngineStopped, as take() does, if the engine halted before answering it.
  bool try_take(R& out) {
    if (in_flight() == 0) return false;
    // acquire: as in take().
    if (published_.load(std::memory_order_acquire) <= taken_) {
      if (!failed_.load(std::memory_order_acquire)) return false;
      if (published_.load(std::memory_order_acquire) <= taken_) {  // as take()
        ++taken_;
        throw EngineStopped("reply window");
      }
    }
    out = std::move(cells_[taken_++ & mask_]);
    return true;
  }

  // ---- used by the owner ----

  // put: the reply to the next request of this window (request order). Not visible to the
  // producer before publish(). Returns whether this is the first put since the last publish
  // (the owner uses it to list the windows it must publish at the end of a batch).
  bool put(R reply) {
    cells_[written_++ & mask_] = std::move(reply);
    return written_ - 1 == published_by_owner_;
  }

  // publish_due: whether so many replies wait unpublished (a quarter of the window) that the
  // owner should publish now rather than at the end of its batch: a producer whose window is
  // full is waiting for the oldest of them, and would otherwise idle through the whole batch.
  bool publish_due() const { return written_ - published_by_owner_ >= publish_every_; }

  // publish: makes every put so far visible to the producer, and wakes it if it sleeps.
  void publish() {
    if (published_by_owner_ == written_) return;
    published_by_owner_ = written_;
    // release: pairs with the producer's acquire loads in take()/try_take().
    published_.store(written_, std::memory_order_release);
    wait_.signal();
  }

  // fail: no reply will come for the requests not put so far (the engine halted). Publish
  // first: the replies already put still reach the producer.
  void fail() {
    if (failed_.load(std::memory_order_relaxed)) return;  // our own store
    // release: pairs with take()'s acquire load of failed_.
    failed_.store(true, std::memory_order_release);
    wait_.signal();
  }

 private:
  const std::size_t mask_;
  const std::uint64_t publish_every_;
  std::unique_ptr<R[]> cells_;
  // Producer's counters (its thread only).
  alignas(kCacheLine) std::uint64_t reserved_ = 0;
  std::uint64_t taken_ = 0;
  // Owner's counters (its thread only).
  alignas(kCacheLine) std::uint64_t written_ = 0;
  std::uint64_t published_by_owner_ = 0;
  // Shared: written by the owner once per batch, read by the producer.
  alignas(kCacheLine) std::atomic<std::uint64_t> published_{0};
  std::atomic<bool> failed_{false};  // written by the owner, once
  Wait wait_;
};

}  // namespace cp::sw
