// trait_checks.hpp: checks of the claims every design makes in its traits (patterns/common/traits.hpp).
//
// - consistency: the reference alone is not thread-safe; lock-based designs are not lock-free;
//   a queue bound comes with an overload policy and vice versa.
// - waiting: a design that names its lock (`using lock_type = ...`) must wait the way it says.
//   We hold the lock on one thread and count how often a second thread, waiting for it, sleeps
//   in the kernel (voluntary context switches, getrusage RUSAGE_THREAD): a blocking waiter
//   sleeps at least once; a spinning one, even one that yields, is only ever preempted
//   (involuntary switches). A count, unlike the share of a core the waiter gets, does not
//   depend on how busy the machine is.
#pragma once

#include <sys/resource.h>
#include <time.h>

#include <algorithm>

#include <atomic>
#include <chrono>
#include <thread>

#include "patterns/common/traits.hpp"
#include "tests/support/findings.hpp"

namespace cp::test {

inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <class D>
Findings check_traits_consistent() {
  Findings f;
  constexpr DesignTraits t = D::traits;
  if (t.name.empty()) f.fail("the design has no name");
  if ((t.family == Family::reference) == t.thread_safe)
    f.fail("only the reference may be (and must be) not thread-safe");
  if ((t.family == Family::mutex || t.family == Family::rwlock) && t.lock_free)
    f.fail("a lock-based design cannot be lock-free");
  if (t.lock_free && t.waiting == Waiting::blocks) f.fail("a lock-free design cannot block");
  if ((t.queue_bound == 0) != (t.overload == Overload::not_applicable))
    f.fail("queue_bound and overload policy must come together");
  if constexpr (requires { typename D::lock_type; }) {
    if (D::lock_type::waiting != t.waiting) f.fail("traits.waiting differs from its lock's");
    if (t.lock_free) f.fail("a design with a lock type claims to be lock-free");
  }
  return f;
}

// voluntary_switches: how many times the calling thread has slept in the kernel so far.
inline long voluntary_switches() {
  rusage r{};
  getrusage(RUSAGE_THREAD, &r);
  return r.ru_nvcsw;
}

// Holds M for `hold` on another thread while this thread locks it; returns how many times this
// thread slept while it waited.
template <class M>
long sleeps_while_waiting(std::chrono::milliseconds hold = std::chrono::milliseconds(100)) {
  M m;
  std::atomic<bool> held{false};
  std::thread holder([&] {
    m.lock();
    held.store(true, std::memory_order_release);  // pairs with the acquire load below
    std::this_thread::sleep_for(hold);
    m.unlock();
  });
  while (!held.load(std::memory_order_acquire)) std::this_thread::yield();
  const long before = voluntary_switches();
  m.lock();
  const long sleeps = voluntary_switches() - before;
  m.unlock();
  holder.join();
  return sleeps;
}

// least_sleeps_while_waiting: the fewest sleeps of three attempts (a page fault served from
// disk could count once in one attempt; a spinning waiter never sleeps in all three).
template <class M>
long least_sleeps_while_waiting() {
  long least = sleeps_while_waiting<M>();
  for (int attempt = 1; attempt < 3 && least > 0; ++attempt)
    least = std::min(least, sleeps_while_waiting<M>());
  return least;
}

template <class D>
Findings check_waiting_claim() {
  Findings f;
  if constexpr (requires { typename D::lock_type; }) {
    using M = typename D::lock_type;
    if (D::traits.waiting == Waiting::blocks) {
      const long sleeps = sleeps_while_waiting<M>();
      if (sleeps < 1)
        f.fail("claims to block, but a waiter never slept in 100 ms (it spun)");
    }
    if (D::traits.waiting == Waiting::spins) {
      const long sleeps = least_sleeps_while_waiting<M>();
      if (sleeps > 0)
        f.fail("claims to spin, but a waiter slept ", sleeps, " times (in the best of 3 tries)");
    }
  }
  return f;
}

}  // namespace cp::test
