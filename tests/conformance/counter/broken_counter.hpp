// broken_counter.hpp: a counter with a classic bug, used only to prove that the conformance
// checks catch it (catches_bugs_test.cpp). Never registered in CounterDesigns.
#pragma once

#include <thread>
#include <vector>

#include "comparisons/counter/contract.hpp"
#include "patterns/mutex/mutex.hpp"

namespace cp::test {

// LostUpdateCounter: read-modify-write split into two critical sections. Every single access
// is locked (so no data race, TSan stays quiet), but two adds can read the same old value and
// one of them is lost. The "check-then-act" bug.
class LostUpdateCounter {
 public:
  using lock_type = Mutex;
  static constexpr DesignTraits traits{.name = "broken-lost-update",
                                       .family = Family::mutex,
                                       .thread_safe = true,
                                       .linearizable_reads = true,
                                       .lock_free = false,
                                       .waiting = Waiting::blocks};

  explicit LostUpdateCounter(CounterConfig config) : keys_(config.keys) {
    MutexLock lock(mu_);
    values_.assign(keys_, 0);
  }

  CounterError add(std::uint32_t key, std::int64_t delta) {
    if (key >= keys_) return CounterError::unknown_key;
    std::int64_t old;
    {
      MutexLock lock(mu_);
      old = values_[key];
    }
    std::this_thread::yield();  // widens the window, as a preemption would
    MutexLock lock(mu_);
    values_[key] = wrapping_add(old, delta);
    return CounterError::ok;
  }

  CounterRead get(std::uint32_t key) {
    if (key >= keys_) return {CounterError::unknown_key, 0};
    MutexLock lock(mu_);
    return {CounterError::ok, values_[key]};
  }

  std::int64_t total() {
    MutexLock lock(mu_);
    std::int64_t sum = 0;
    for (auto v : values_) sum = wrapping_add(sum, v);
    return sum;
  }

  std::uint32_t keys() const { return keys_; }

 private:
  const std::uint32_t keys_;
  Mutex mu_;
  std::vector<std::int64_t> values_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cp::test
