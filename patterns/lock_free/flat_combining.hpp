// flat_combining.hpp: flat combining (Hendler, Incze, Shavit, Tzafrir 2010) over a sequential
// core, with a Treiber-style publication stack.
//
//   FlatCombiner<Core, Hooks> - apply(f) runs f(core) as if alone with the core, and returns its
//                               result. Hooks (patterns/lock_free/hooks.hpp, NoHooks by default:
//                               no code) let a test park the combiner inside a batch.
//
// How. A caller writes its request (a pointer to f) into a record, pushes the record onto a
// lock-free stack of pending requests, then tries to take the combiner role (one atomic flag).
// The thread that gets it takes the whole stack with one exchange, applies every request to
// the core in arrival order, hands each caller its result, and repeats while requests keep
// arriving. The others wait for their own record to say "done": a short spin, then a futex
// sleep (std::atomic::wait) that the combiner ends with notify_one, only if they did sleep.
//
// Why. Under contention a lock makes every thread take the core's cache lines in turn; here one
// thread keeps them hot and runs a batch, and the callers only touch their own record and the
// stack's top. Each call is applied at one instant between its push and its "done", so the
// object is linearizable if the core is a correct sequential object.
//
// Not lock-free, and not pretending to be: a combiner stalled in the middle of a batch stalls
// every caller whose request it holds, exactly as a preempted lock holder would. Waiters block.
// (tests/conformance/order/order_test.cpp parks a combiner at HookPoint::fc_before_apply and
// checks that a published request is not completed until it is released.)
//
// The publication stack is push-only plus "take everything" (exchange with null), so it has no
// ABA problem and needs no reclamation: a record is never popped alone, and a push's CAS
// succeeds only if the top is still the one its `next` points at.
//
// Records are owned by the combiner (a ThreadRecords list, claimed per call, given back after),
// so a record outlives every call that uses it: a late notify_one from a combiner lands on a
// live atomic (at worst waking the record's next user, which rechecks and sleeps again).
//
// No request is ever stranded (a caller asleep with its request pending and no combiner): a
// combiner, after releasing the role, looks at the stack again and takes the role back if it
// is not empty. A caller, after pushing, reads the flag. All four accesses are seq_cst, so in
// their single total order either the caller's read sees the role free (and it combines), or
// the old combiner's second look comes after the push and sees it (see try_combine()).
//
// When not to use: with no contention every call pays a push, an exchange and a flag more
// than a plain mutex; and the combiner's own call waits for everyone else's.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "patterns/lock_free/backoff.hpp"  // spin_pause
#include "patterns/lock_free/hooks.hpp"
#include "patterns/lock_free/thread_records.hpp"

namespace cp::lf {

template <class Core, class Hooks = NoHooks>
class FlatCombiner {
 public:
  // Spins before a waiter sleeps (each: a check of its record and of the role, then a pause).
  // comparisons/order/flat_combining_order.hpp says why this default.
  static constexpr unsigned kDefaultSpins = 256;
  // Batches one combiner takes before it looks at the role again (bounds a session when
  // others are ready to combine).
  static constexpr unsigned kMaxPasses = 8;

  template <class... Args>
  explicit FlatCombiner(unsigned spins, Args&&... args)
      : spins_(spins), core_(std::forward<Args>(args)...) {}
  FlatCombiner(const FlatCombiner&) = delete;
  FlatCombiner& operator=(const FlatCombiner&) = delete;

  // apply: f(core) with no other call's f running; returns what f returned (or rethrows what
  // it threw: a throw from f reaches its own caller only, and the combiner goes on with the
  // batch). f runs on whichever thread is the combiner, while this one waits.
  // Re-entrance: f must not call apply() on this combiner (the inner call would wait for
  // the combiner, which is running f). Such an inner call throws std::logic_error at once,
  // inside f. (A cycle through two combiners, f of A calling B whose f calls A, is not
  // detected: it deadlocks like two locks taken in opposite orders.)
  template <class F>
  auto apply(F&& f) -> std::invoke_result_t<F&, Core&> {
    using R = std::invoke_result_t<F&, Core&>;
    if (combining() == this)
      throw std::logic_error("FlatCombiner::apply called from inside one of its operations");
    std::exception_ptr error;
    if constexpr (std::is_void_v<R>) {
      auto thunk = [&](Core& c) {
        try { f(c); } catch (...) { error = std::current_exception(); }
      };
      submit(thunk);
      if (error) std::rethrow_exception(error);
    } else {
      std::optional<R> result;
      auto thunk = [&](Core& c) {
        try { result.emplace(f(c)); } catch (...) { error = std::current_exception(); }
      };
      submit(thunk);
      if (error) std::rethrow_exception(error);
      return std::move(*result);
    }
  }

  // Statistics for tests and the lesson (relaxed: counts only).
  std::uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  std::uint64_t combined() const { return combined_.load(std::memory_order_relaxed); }

 private:
  static constexpr std::uint32_t kPending = 0, kSleeping = 1, kDone = 2;

  // combining: the combiner this thread is running a batch for, if any (see apply()).
  static const FlatCombiner*& combining() {
    thread_local const FlatCombiner* c = nullptr;
    return c;
  }

  struct alignas(64) Request {
    // ThreadRecords' fields:
    std::atomic<bool> in_use{false};
    Request* next = nullptr;
    // The call: written by its owner before the push, read by the combiner after its exchange.
    void (*run)(void* ctx, Core& core) = nullptr;
    void* ctx = nullptr;
    Request* next_pending = nullptr;
    std::atomic<std::uint32_t> status{kPending};
  };

  template <class Thunk>
  void submit(Thunk& thunk) {
    Request& r = *records_.claim();
    r.run = [](void* ctx, Core& c) { (*static_cast<Thunk*>(ctx))(c); };
    r.ctx = &thunk;
    // Relaxed: the push's release publishes it with the request.
    r.status.store(kPending, std::memory_order_relaxed);
    push(r);
    Hooks::at(HookPoint::fc_published, &r);
    wait_or_combine(r);
    records_.give_back(&r);
  }

  void push(Request& r) {
    Request* top = pending_.load(std::memory_order_relaxed);
    do {
      r.next_pending = top;
      // seq_cst: releases the request to the combiner's exchange, and takes part in the
      // no-stranding argument (see the top of the file).
    } while (!pending_.compare_exchange_weak(top, &r, std::memory_order_seq_cst,
                                             std::memory_order_relaxed));
  }

  void wait_or_combine(Request& r) {
    for (unsigned i = 0;; ++i) {
      // Acquire: pairs with serve()'s release exchange: the result is visible.
      if (r.status.load(std::memory_order_acquire) == kDone) return;
      if (try_combine()) continue;  // we served everything pending, ours included
      if (i < spins_) {
        spin_pause();
        continue;
      }
      std::uint32_t s = kPending;
      // Acquire on failure (s == kDone), as the load above. On success it orders nothing
      // (registering as a sleeper publishes nothing) and relaxed would do: C++17 dropped the
      // rule that success be at least as strong as failure (P0418R2), but GCC 12 still warns
      // about it (-Winvalid-memory-model), and on the way to a futex sleep it costs nothing.
      if (!r.status.compare_exchange_strong(s, kSleeping, std::memory_order_acquire,
                                            std::memory_order_acquire))
        return;
      while (r.status.load(std::memory_order_acquire) == kSleeping)  // acquire: as above
        r.status.wait(kSleeping, std::memory_order_acquire);
      return;
    }
  }

  // try_combine: takes the role if it is free, serves until the stack is empty, gives it back.
  // The accesses to role_ and the last look at pending_ are seq_cst: the no-stranding
  // argument needs one total order of "caller pushed, then read the role" and "combiner freed
  // the role, then looked at the stack" (a Dekker pattern: release/acquire would let each miss
  // the other). The exchange that takes a batch is not part of it: acquire (pairing with the
  // push's release) is enough. It is a read-modify-write, so it reads the newest stack in
  // pending_'s modification order: a request pushed before it is in its batch, and a request
  // pushed after it is seen by the seq_cst last look (or by the caller's read of the role).
  bool try_combine() {
    if (role_.load(std::memory_order_seq_cst) || role_.exchange(true, std::memory_order_seq_cst))
      return false;
    const FlatCombiner* outer = combining();  // another combiner's batch, if f called us
    combining() = this;
    struct Restore {
      const FlatCombiner* outer;
      ~Restore() { combining() = outer; }
    } restore{outer};
    for (;;) {
      for (unsigned pass = 0; pass < kMaxPasses; ++pass) {
        Request* batch = pending_.exchange(nullptr, std::memory_order_acquire);  // see above
        if (batch == nullptr) break;
        serve(batch);
      }
      role_.store(false, std::memory_order_seq_cst);
      if (pending_.load(std::memory_order_seq_cst) == nullptr) return true;
      // Requests arrived after our last exchange; their owners may already sleep.
      if (role_.exchange(true, std::memory_order_seq_cst)) return true;  // another combines
    }
  }

  // serve: applies a batch (newest first as taken) oldest first, completing each request.
  void serve(Request* newest) {
    Request* oldest = nullptr;
    while (newest != nullptr) {  // reverse: arrival order
      Request* n = newest->next_pending;
      newest->next_pending = oldest;
      oldest = newest;
      newest = n;
    }
    std::uint64_t served = 0;
    while (oldest != nullptr) {
      Request* next = oldest->next_pending;  // read first: once done, its owner may reuse it
      Hooks::at(HookPoint::fc_before_apply, oldest);  // a stall here stalls the whole batch
      oldest->run(oldest->ctx, core_);
      ++served;
      // Release: the result written by run() happens before the owner's acquire of kDone.
      if (oldest->status.exchange(kDone, std::memory_order_release) == kSleeping)
        oldest->status.notify_one();  // the record outlives the call: see the top
      oldest = next;
    }
    batches_.fetch_add(1, std::memory_order_relaxed);  // statistics only
    combined_.fetch_add(served, std::memory_order_relaxed);
  }

  const unsigned spins_;
  alignas(64) std::atomic<Request*> pending_{nullptr};
  alignas(64) std::atomic<bool> role_{false};
  alignas(64) Core core_;  // touched by the combiner only
  std::atomic<std::uint64_t> batches_{0};
  std::atomic<std::uint64_t> combined_{0};
  ThreadRecords<Request> records_;
};

}  // namespace cp::lf
