// backoff.hpp: what a lock-free loop does after its CAS lost to another thread's.
//
//   spin_pause            - the CPU's "I am spinning" hint (x86 pause, Arm yield).
//   NoBackoff             - retry at once. The default: no spinning unless measured to pay.
//   ExponentialBackoff<Min, Max> - pause Min times after the first lost CAS, twice as many
//                           after each further one, up to Max; past Max, yield the core.
//
// Why back off. Two cores retrying a CAS on one line at once each pull the line away from the
// other, and both lose more often. A thread that pauses after losing lets the winner finish
// several operations on a line it holds; the loser then finds the line quiet. libcds's
// TreiberStack does this by default (cds::backoff::Default: 16 pauses, doubling to 16,384,
// then yield). lessons/06-lock-free/beyond-the-stack.md measures ours both ways.
//
// When not: one thread, or no contention; and on few cores a long spin is time the other
// runnable threads lose, which is why the pause count is bounded and then yields.
// A back-off object lives for one operation (its count starts anew with each call).
#pragma once

#include <thread>

namespace cp::lf {

inline void spin_pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

struct NoBackoff {
  static constexpr const char* name = "none";
  void operator()() noexcept {}
};

template <unsigned Min, unsigned Max>
class ExponentialBackoff {
  static_assert(0 < Min && Min <= Max);

 public:
  static constexpr const char* name = "exponential";
  void operator()() noexcept {
    if (pauses_ > Max) {
      std::this_thread::yield();
      return;
    }
    for (unsigned i = 0; i < pauses_; ++i) spin_pause();
    pauses_ *= 2;
  }

 private:
  unsigned pauses_ = Min;
};

}  // namespace cp::lf
