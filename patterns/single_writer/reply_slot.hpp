// reply_slot.hpp: ReplySlot<R>, a one-shot, reusable, allocation-free reply path.
//
// The caller owns the slot (on its stack, or thread_local for reuse), puts its address in the
// command, and wait()s; the owner thread fulfil()s it exactly once. After wait() returns, the
// slot is empty again and can carry the next request. No heap, no mutex, no promise/future.
//
//   state_: empty --fulfil--> ready                      (caller was not asleep: 1 RMW)
//           empty --wait: going to sleep--> sleeping
//           sleeping --fulfil--> notifying --notify, then--> ready   (caller was asleep)
//
//   | state     | value_   | who may touch the slot next                 |
//   |-----------|----------|---------------------------------------------|
//   | empty     | none     | fulfiller (once), waiter (registers sleep)  |
//   | sleeping  | none     | fulfiller                                   |
//   | notifying | set      | fulfiller (it is inside notify_one)         |
//   | ready     | set      | waiter only: the fulfiller is done with it  |
//
// Why the extra "notifying" state: a waiter that wakes (even spuriously) and sees "ready"
// returns and may destroy the slot at once. The fulfiller must therefore make "ready" its very
// last access; when it has to notify, it notifies first (state "notifying", which the waiter
// does not leave on) and stores "ready" after.
//
// Waiting: spins kSpins re-checks (a reply from a running owner thread often arrives within a
// microsecond), then sleeps on the state word (C++20 atomic wait, a futex on Linux).
//
// Contract: one waiter thread (the owner of the slot) and one fulfil() per request. R must be
// move-constructible. wait() from the thread that must fulfil would never return.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <thread>
#include <utility>

#include "patterns/common/traits.hpp"
#include "patterns/single_writer/wait_strategy.hpp"

namespace cp::sw {

template <class R>
class ReplySlot {
 public:
  static constexpr cp::Waiting waiting = cp::Waiting::blocks;  // after a short spin
  static constexpr int kSpins = 200;

  ReplySlot() = default;
  ReplySlot(const ReplySlot&) = delete;
  ReplySlot& operator=(const ReplySlot&) = delete;

  // fulfil: used by the owner thread, once per request. After it returns the slot may already
  // be gone (the waiter returned): it touches nothing of the slot after its last store.
  void fulfil(R reply) {
    value_.emplace(std::move(reply));
    std::uint32_t s = kEmpty;
    // release (success): pairs with the waiter's acquire load that sees kReady: it publishes
    // value_. acquire (failure) is not needed: failure means kSleeping, then we CAS again.
    if (state_.compare_exchange_strong(s, kReady, std::memory_order_release,
                                       std::memory_order_relaxed))
      return;
    // The waiter sleeps (s == kSleeping); only we change the state now.
    // relaxed: the value is published by the release store of kReady below.
    state_.store(kNotifying, std::memory_order_relaxed);
    state_.notify_one();
    // release: pairs with the waiter's acquire load of kReady; our last access to the slot.
    state_.store(kReady, std::memory_order_release);
  }

  // wait: used by the slot's owner after sending the request; returns the reply and leaves
  // the slot empty for the next request.
  R wait() {
    for (int i = 0; i < kSpins; ++i) {
      // acquire: pairs with fulfil()'s release of kReady.
      if (state_.load(std::memory_order_acquire) == kReady) return take();
      cpu_relax();
    }
    std::uint32_t s = kEmpty;
    // acquire (failure, s == kReady): pairs with fulfil()'s release CAS. On success it orders
    // nothing (registering as a sleeper publishes nothing), so relaxed would do: C++17 allows a
    // failure order stronger than the success order (P0418R2). But GCC 12, this project's
    // compiler, still applies the old rule (-Winvalid-memory-model) and makes such a CAS
    // seq_cst; acquire on success costs nothing extra on x86.
    if (state_.compare_exchange_strong(s, kSleeping, std::memory_order_acquire,
                                       std::memory_order_acquire)) {
      s = kSleeping;
    }
    for (;;) {
      if (s == kReady) return take();
      if (s == kSleeping) {
        state_.wait(kSleeping, std::memory_order_acquire);  // acquire: as the load below
      } else {
        std::this_thread::yield();  // kNotifying: the fulfiller is inside notify_one
      }
      // acquire: pairs with fulfil()'s release of kReady.
      s = state_.load(std::memory_order_acquire);
    }
  }

  // ready: whether a reply is waiting (for polling callers). Owner of the slot only.
  bool ready() const { return state_.load(std::memory_order_acquire) == kReady; }  // as wait()

 private:
  static constexpr std::uint32_t kEmpty = 0, kSleeping = 1, kNotifying = 2, kReady = 3;

  R take() {
    R r = std::move(*value_);
    value_.reset();
    // relaxed: only the owner touches the slot now; the next request's hand-off to the owner
    // thread (the ring's release/acquire) orders this store before the next fulfil().
    state_.store(kEmpty, std::memory_order_relaxed);
    return r;
  }

  std::atomic<std::uint32_t> state_{kEmpty};
  std::optional<R> value_;
};

}  // namespace cp::sw
