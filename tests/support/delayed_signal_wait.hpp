// delayed_signal_wait.hpp: DelayedSignalWait, a wait strategy for lifetime tests ([interleaving]).
//
// The receiver of a hand-off object (a reply window, a ring) may free it the moment it has what
// it waited for. The sender's signal() comes after its hand-off store, so a signal() on the
// object's own wait strategy can run on freed memory. This strategy makes that window long:
// signal() sleeps when the calling thread set delay_signals_here, then writes the object.
//   - a strategy destroyed while a signal() is inside it is counted (any build);
//   - the write after the sleep is a heap-use-after-free under ASan.
// wait_until yields between checks (no sleeping waiters, so no lost wake-up to reason about).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <thread>

#include "patterns/common/traits.hpp"

namespace cp::test {

// Set on a thread whose signal() calls should be delayed (the sender under test).
inline thread_local bool delay_signals_here = false;

class DelayedSignalWait {
 public:
  static constexpr std::string_view name = "delayed-signal";
  static constexpr cp::Waiting waiting = cp::Waiting::spins;
  static constexpr std::chrono::milliseconds kDelay{30};
  // Strategies destroyed while a signal() was running in them (reset it per test).
  static inline std::atomic<int> destroyed_while_signalling{0};

  DelayedSignalWait() = default;
  ~DelayedSignalWait() {
    if (in_signal_.load() != 0) destroyed_while_signalling.fetch_add(1);
  }
  DelayedSignalWait(const DelayedSignalWait&) = delete;
  DelayedSignalWait& operator=(const DelayedSignalWait&) = delete;

  template <class Ready>
  void wait_until(Ready&& ready) {
    while (!ready()) std::this_thread::yield();
  }
  void signal() noexcept {
    in_signal_.fetch_add(1);
    if (delay_signals_here) std::this_thread::sleep_for(kDelay);
    signals_.fetch_add(1);
    in_signal_.fetch_sub(1);
  }

 private:
  std::atomic<int> in_signal_{0};
  std::atomic<std::uint64_t> signals_{0};
};

}  // namespace cp::test
