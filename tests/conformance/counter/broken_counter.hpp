// broken_counter.hpp: counters with classic bugs, used only to prove that the conformance
// checks catch them (catches_bugs_test.cpp, lin_test.cpp). Never registered in CounterDesigns.
//
//   LostUpdateCounter    - read-modify-write split into two critical sections.
//   RareStaleReadCounter - one get in 1,000 returns the key's value from before its latest add.
#pragma once

#include <atomic>
#include <cstdint>
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

// RareStaleReadCounter: a correct mutex counter, except that one get in kStaleEvery answers
// with the key's value from before its latest add, as a lagging replica or a missed
// invalidation would. Every value it returns was once true and the counts at quiescence are
// exact, so only a check of the history (what a get returned after which add had completed)
// can see it.
class RareStaleReadCounter {
 public:
  static constexpr std::uint64_t kStaleEvery = 1000;
  using lock_type = Mutex;
  static constexpr DesignTraits traits{.name = "broken-rare-stale-read",
                                       .family = Family::mutex,
                                       .thread_safe = true,
                                       .linearizable_reads = true,
                                       .lock_free = false,
                                       .waiting = Waiting::blocks};

  explicit RareStaleReadCounter(CounterConfig config) : keys_(config.keys) {
    MutexLock lock(mu_);
    values_.assign(keys_, 0);
    previous_.assign(keys_, 0);
  }

  CounterError add(std::uint32_t key, std::int64_t delta) {
    if (key >= keys_) return CounterError::unknown_key;
    MutexLock lock(mu_);
    previous_[key] = values_[key];
    values_[key] = wrapping_add(values_[key], delta);
    return CounterError::ok;
  }

  CounterRead get(std::uint32_t key) {
    if (key >= keys_) return {CounterError::unknown_key, 0};
    MutexLock lock(mu_);
    // relaxed: only picks which get goes stale; it orders nothing.
    if (gets_.fetch_add(1, std::memory_order_relaxed) % kStaleEvery == kStaleEvery - 1)
      return {CounterError::ok, previous_[key]};
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
  std::vector<std::int64_t> previous_ ABSL_GUARDED_BY(mu_);
  // Shared by every RareStaleReadCounter: a history is short, so the one stale read in a
  // thousand falls in some later history rather than never.
  static inline std::atomic<std::uint64_t> gets_{0};
};

}  // namespace cp::test
