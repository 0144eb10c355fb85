// wait_strategy.hpp: how a ring's consumer waits for data and its producers wait for space.
//
//   BusySpinWaitStrategy  - re-checks in a tight loop (with the CPU's pause hint). Lowest
//                           latency; burns a whole core per waiter. Only when every waiting
//                           thread has a core of its own.
//   YieldingWaitStrategy  - spins a little, then calls std::this_thread::yield between checks.
//                           Still burns CPU while waiting (yield returns at once when nothing
//                           else is runnable), but lets another runnable thread have the core.
//   BlockingWaitStrategy  - spins a little, then sleeps in the kernel (C++20 atomic wait, a
//                           futex on Linux). Costs no CPU while waiting; costs the waker one
//                           atomic read-modify-write per signal, plus a syscall when someone
//                           sleeps.
//   PhasedBackoffWaitStrategy - spins for ~kSpinFor, then yields until ~kYieldFor has passed,
//                           then blocks as BlockingWaitStrategy does. For round trips: a reply
//                           that comes within microseconds is caught while spinning (no
//                           futex on either side); a long wait still costs no CPU.
//   WaitStrategy          - the concept all four satisfy.
//
// One interface serves both directions (Disruptor's WaitStrategy has the same shape):
//
//   waiter side:   strategy.wait_until(ready);   // returns once ready() is true
//   waker side:    <store that can make ready() true>; strategy.signal();
//
// `ready` is any callable returning bool; it must re-read the atomics it depends on each call.
// The strategy knows nothing about what is awaited (a cursor, a per-slot flag, a closed bit,
// two rings at once), which is what lets select.hpp share one strategy between two rings.
//
// On 2 cores with more threads than cores, a spinning waiter can occupy the core that the
// thread it waits for needs: every wait then lasts a scheduler time slice. That is the trap
// measuring.md describes; it is why tests that oversubscribe use Yielding or Blocking.
//
// ---- BlockingWaitStrategy: no lost wake-up, and a cheap signal() when nobody sleeps --------
//
// A sleeper registers in `sleepers_` (a seq_cst RMW), then re-checks ready(), then sleeps on
// `epoch_` for the value it read *before* registering. signal() reads `sleepers_` with an RMW
// (fetch_add(0)) and, only if someone may sleep, bumps `epoch_` and notifies. Two cases:
//   - signal's RMW comes after the registration in sleepers_'s modification order: it sees a
//     sleeper, so it bumps epoch_; the sleeper's wait(epoch) returns (value changed).
//   - it comes before: the registering RMW reads from it (RMWs always read the latest value),
//     so it synchronizes with it, and the re-check of ready() sees the waker's store.
// An RMW (not a plain load) on the waker's side is what makes the second case hold without a
// standalone fence: the waker needs store-then-load ordering, which only a locked instruction
// gives on x86 (a seq_cst store would cost the same). The 32-bit epoch can wrap (2^32 signals
// between a sleeper's read and its sleep): we accept that as impossible in practice.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <string_view>
#include <thread>

#include "patterns/common/traits.hpp"
#include "patterns/single_writer/sequence.hpp"

namespace cp::sw {

// The CPU's "I am spinning" hint: lets the sibling hyper-thread run and saves power.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// signal() must be noexcept: it runs after a hand-off store (a ring's publish, a window's
// count), where a throw could not be handled without losing or repeating that hand-off.
template <class W>
concept WaitStrategy = requires(W& w, bool (*ready)()) {
  { W::name } -> std::convertible_to<std::string_view>;
  { W::waiting } -> std::convertible_to<cp::Waiting>;
  w.wait_until(ready);
  { w.signal() } noexcept;
};

class BusySpinWaitStrategy {
 public:
  static constexpr std::string_view name = "busy-spin";
  static constexpr cp::Waiting waiting = cp::Waiting::spins;

  // Used by waiters: spins until ready().
  template <class Ready>
  void wait_until(Ready&& ready) noexcept(noexcept(ready())) {
    while (!ready()) cpu_relax();
  }
  // Used by wakers: nothing to do, the waiter is looking.
  void signal() noexcept {}
};

class YieldingWaitStrategy {
 public:
  static constexpr std::string_view name = "yielding";
  static constexpr cp::Waiting waiting = cp::Waiting::spins;
  static constexpr int kSpinsBeforeYield = 100;

  // Used by waiters: spins kSpinsBeforeYield times, then yields between checks.
  template <class Ready>
  void wait_until(Ready&& ready) noexcept(noexcept(ready())) {
    for (int i = 0; i < kSpinsBeforeYield; ++i) {
      if (ready()) return;
      cpu_relax();
    }
    while (!ready()) std::this_thread::yield();
  }
  // Used by wakers: nothing to do, the waiter is looking.
  void signal() noexcept {}
};

class BlockingWaitStrategy {
 public:
  static constexpr std::string_view name = "blocking";
  static constexpr cp::Waiting waiting = cp::Waiting::blocks;
  static constexpr int kSpinsBeforeSleep = 100;

  // Used by waiters (any number): spins briefly, then sleeps until a signal() may have made
  // ready() true. See the essay above for why no wake-up is lost.
  template <class Ready>
  void wait_until(Ready&& ready) {
    for (int i = 0; i < kSpinsBeforeSleep; ++i) {
      if (ready()) return;
      cpu_relax();
    }
    for (;;) {
      // acquire: pairs with the release fetch_add in signal(); any epoch value will do, it only
      // has to be read before we register.
      const std::uint32_t epoch = epoch_.load(std::memory_order_acquire);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);  // pairs with signal()'s fetch_add(0)
      if (ready()) {
        // relaxed: an RMW, so it stays in the release sequence signal() reads from.
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
        return;
      }
      // acquire: pairs with signal()'s release fetch_add on epoch_.
      epoch_.wait(epoch, std::memory_order_acquire);
      sleepers_.fetch_sub(1, std::memory_order_relaxed);  // as above
      if (ready()) return;
    }
  }

  // Used by wakers, after the store that may make a waiter's ready() true.
  void signal() noexcept {
    // seq_cst RMW: pairs with the sleeper's registering fetch_add (see the essay).
    if (sleepers_.fetch_add(0, std::memory_order_seq_cst) == 0) return;
    // release: pairs with the acquire load/wait of epoch_ in wait_until.
    epoch_.fetch_add(1, std::memory_order_release);
    epoch_.notify_all();
  }

 private:
  alignas(kCacheLine) std::atomic<std::uint32_t> sleepers_{0};
  std::atomic<std::uint32_t> epoch_{0};
};

// PhasedBackoffWaitStrategy: the Disruptor's PhasedBackoffWaitStrategy with a blocking
// fallback. Why the phases: a futex sleep and wake-up costs the waiter ~5-50 us of latency and
// the waker a syscall; a round trip to an owner thread that is running takes under a
// microsecond. Spinning through the first few microseconds catches that case; yielding next
// keeps the core usable by other runnable threads (2 cores, 8 clients + owner) while still
// reacting in microseconds; blocking last bounds the CPU a long wait burns.
// The clock is read once every kChecksPerClockRead re-checks (a steady_clock read costs ~20 ns
// here, a re-check a few).
class PhasedBackoffWaitStrategy {
 public:
  static constexpr std::string_view name = "phased-backoff";
  static constexpr cp::Waiting waiting = cp::Waiting::blocks;  // after the spin and yield phases
  static constexpr std::chrono::nanoseconds kSpinFor{10'000};
  static constexpr std::chrono::nanoseconds kYieldFor{100'000};
  static constexpr int kChecksPerClockRead = 16;

  // Used by waiters: spin, then yield, then sleep until ready().
  template <class Ready>
  void wait_until(Ready&& ready) {
    if (ready()) return;
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
      for (int i = 0; i < kChecksPerClockRead; ++i) {
        if (ready()) return;
        cpu_relax();
      }
      if (std::chrono::steady_clock::now() - start >= kSpinFor) break;
    }
    for (;;) {
      for (int i = 0; i < kChecksPerClockRead; ++i) {
        if (ready()) return;
        std::this_thread::yield();
      }
      if (std::chrono::steady_clock::now() - start >= kYieldFor) break;
    }
    fallback_.wait_until(ready);
  }

  // Used by wakers: wakes a waiter in the blocking phase (cheap when nobody sleeps).
  void signal() noexcept { fallback_.signal(); }

 private:
  BlockingWaitStrategy fallback_;
};

static_assert(WaitStrategy<BusySpinWaitStrategy>);
static_assert(WaitStrategy<PhasedBackoffWaitStrategy>);
static_assert(WaitStrategy<YieldingWaitStrategy>);
static_assert(WaitStrategy<BlockingWaitStrategy>);

}  // namespace cp::sw
