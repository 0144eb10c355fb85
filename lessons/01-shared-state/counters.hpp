// counters.hpp: lesson 01's four counters and the harness that hammers them.
//
//   RacyCounter      - read, then write, as two separate steps: loses updates (a bug on purpose).
//   MutexCounter     - the read-modify-write inside a cp::Mutex: exact.
//   AtomicCounter    - one std::atomic fetch_add: exact, and no lock.
//   PerThreadCounter - each thread counts in its own cache line; a read sums them: exact once
//                      the writers have stopped, and writers never share a line.
//   hammer()         - starts N threads together (std::latch) and has each increment K times.
//
// The racy counter is the lesson's bug, made *well-defined* so that it can be observed: a
// plain `int` incremented from two threads is a data race, which is undefined behaviour in
// C++ (the compiler may assume it never happens, e.g. keep the value in a register and add
// K at once). Here the value lives in a std::atomic accessed with relaxed loads and stores,
// so every step is defined and each increment really is "load, add one, store" - the window
// in which another thread's update is overwritten is exactly what the lesson shows.
#pragma once

#include <absl/base/thread_annotations.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

#include "patterns/mutex/mutex.hpp"

namespace cp::lessons {

// RacyCounter: a lost-update bug on purpose. `widen_window` yields between the load and the
// store, which makes a loss near-certain even when the threads share one core.
// [quote: racy]
class RacyCounter {
 public:
  void increment(bool widen_window = false) {
    // Relaxed: no ordering is wanted (or given); each access is atomic, the pair is not.
    const std::int64_t seen = value_.load(std::memory_order_relaxed);
    if (widen_window) std::this_thread::yield();  // another thread may increment here...
    value_.store(seen + 1, std::memory_order_relaxed);  // ...and this store erases it
  }
  std::int64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};
// [end quote]

// MutexCounter: the same read-modify-write, made one indivisible step by a lock.
// [quote: mutex]
class MutexCounter {
 public:
  void increment() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    ++value_;  // no other thread can be between our read and our write
  }
  std::int64_t get() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    return value_;
  }

 private:
  Mutex mu_;
  std::int64_t value_ ABSL_GUARDED_BY(mu_) = 0;
};
// [end quote]

// AtomicCounter: the hardware does the read-modify-write as one instruction (lock xadd).
// [quote: atomic]
class AtomicCounter {
 public:
  void increment() {
    // Relaxed: only the count matters, no other data is published with it. The final read
    // after the threads are joined is ordered by join(), not by this atomic.
    value_.fetch_add(1, std::memory_order_relaxed);
  }
  std::int64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> value_{0};
};
// [end quote]

// PerThreadCounter: shared-nothing for writers. Slot i is written only by thread i, so a
// plain load + store is enough (no read-modify-write instruction); each slot has its own
// cache line so the writers never invalidate each other's caches. get() sums the slots: the
// sum is exact once writers have stopped; while they run, it is some value in between.
// [quote: per-thread]
class PerThreadCounter {
 public:
  explicit PerThreadCounter(unsigned threads) : slots_(std::make_unique<Slot[]>(threads)),
                                                threads_(threads) {}

  void increment(unsigned thread) {  // only thread `thread` may call this with its index
    auto& v = slots_[thread].value;
    // Relaxed: the only writer of this slot is us; get()'s relaxed loads pair with this store.
    v.store(v.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  std::int64_t get() const {
    std::int64_t sum = 0;
    for (unsigned i = 0; i < threads_; ++i) sum += slots_[i].value.load(std::memory_order_relaxed);
    return sum;
  }

 private:
  struct alignas(64) Slot {  // 64 bytes: one cache line on x86-64 and most ARM cores
    std::atomic<std::int64_t> value{0};
  };
  std::unique_ptr<Slot[]> slots_;
  unsigned threads_;
};
// [end quote]

// hammer: runs `threads` threads that each call increment(thread_index) `per_thread` times,
// all released at once by a latch so they really overlap; returns the wall time.
// [quote: hammer]
template <class Increment>
std::chrono::nanoseconds hammer(unsigned threads, std::int64_t per_thread, Increment increment) {
  std::latch start(threads + 1);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      start.arrive_and_wait();  // nobody begins before everybody is ready
      for (std::int64_t i = 0; i < per_thread; ++i) increment(t);
    });
  const auto begin = std::chrono::steady_clock::now();
  start.arrive_and_wait();
  for (auto& w : workers) w.join();
  return std::chrono::steady_clock::now() - begin;
}
// [end quote]

// LostUpdates: what one run of the racy counter observed.
struct LostUpdates {
  std::int64_t expected = 0, counted = 0;
  std::int64_t lost() const { return expected - counted; }
};

// run_racy: one round of the racy counter on `threads` threads.
inline LostUpdates run_racy(unsigned threads, std::int64_t per_thread, bool widen_window) {
  RacyCounter counter;
  hammer(threads, per_thread, [&](unsigned) { counter.increment(widen_window); });
  return {static_cast<std::int64_t>(threads) * per_thread, counter.get()};
}

}  // namespace cp::lessons
