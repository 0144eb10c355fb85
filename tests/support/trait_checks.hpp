// trait_checks.hpp: checks of the claims every design makes in its traits (patterns/common/traits.hpp).
//
// - consistency: the reference alone is not thread-safe; lock-based designs are not lock-free;
//   a queue bound comes with an overload policy and vice versa.
// - waiting: a design that names its lock (`using lock_type = ...`) must wait the way it says.
//   We hold the lock on one thread and measure the CPU time a second thread spends waiting
//   for it: a blocking waiter sleeps (little CPU), a spinning one burns its core.
#pragma once

#include <time.h>

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

// Holds M for `hold` on one thread while another thread locks it; returns the waiter's CPU
// time as a fraction of the time it waited.
template <class M>
double waiter_cpu_fraction(std::chrono::milliseconds hold = std::chrono::milliseconds(300)) {
  M m;
  std::atomic<bool> held{false};
  double fraction = 0;
  std::thread holder([&] {
    m.lock();
    held.store(true, std::memory_order_release);
    std::this_thread::sleep_for(hold);
    m.unlock();
  });
  while (!held.load(std::memory_order_acquire)) std::this_thread::yield();
  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = thread_cpu_seconds();
  m.lock();
  const double cpu = thread_cpu_seconds() - cpu0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  m.unlock();
  holder.join();
  fraction = wall > 0 ? cpu / wall : 0;
  return fraction;
}

template <class D>
Findings check_waiting_claim() {
  Findings f;
  if constexpr (requires { typename D::lock_type; }) {
    const double fraction = waiter_cpu_fraction<typename D::lock_type>();
    if (D::traits.waiting == Waiting::blocks && fraction > 0.25)
      f.fail("claims to block, but a waiter used ", fraction * 100, "% of a core");
    if (D::traits.waiting == Waiting::spins && fraction < 0.5)
      f.fail("claims to spin, but a waiter used only ", fraction * 100, "% of a core");
  }
  return f;
}

}  // namespace cp::test
