// mutex_counter.hpp: the counter workload with mutexes (patterns/mutex).
//
//   MutexCounter         - one lock around all counters: simplest, every call serialises.
//   StripedMutexCounter  - keys spread over 16 cache-line-padded stripes, one lock each: adds
//                          to different stripes proceed in parallel; total() takes every stripe
//                          lock in index order (one global order, so it cannot deadlock) and is
//                          therefore still linearizable.
#pragma once

#include <absl/base/thread_annotations.h>

#include <array>
#include <cstdint>
#include <vector>

#include "comparisons/counter/contract.hpp"
#include "comparisons/counter/reference.hpp"
#include "patterns/mutex/mutex.hpp"

namespace cp {

class MutexCounter {
 public:
  using lock_type = Mutex;
  static constexpr DesignTraits traits{
      .name = "mutex",
      .family = Family::mutex,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = lock_type::waiting,
  };

  explicit MutexCounter(CounterConfig config)
      : keys_(CounterReference::check(config).keys), values_(keys_, 0) {}

  CounterError add(std::uint32_t key, std::int64_t delta) ABSL_LOCKS_EXCLUDED(mu_) {
    if (key >= keys_) return CounterError::unknown_key;
    MutexLock lock(mu_);
    values_[key] = wrapping_add(values_[key], delta);
    return CounterError::ok;
  }

  CounterRead get(std::uint32_t key) ABSL_LOCKS_EXCLUDED(mu_) {
    if (key >= keys_) return {CounterError::unknown_key, 0};
    MutexLock lock(mu_);
    return {CounterError::ok, values_[key]};
  }

  std::int64_t total() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    std::int64_t sum = 0;
    for (std::int64_t v : values_) sum = wrapping_add(sum, v);
    return sum;
  }

  std::uint32_t keys() const { return keys_; }

 private:
  const std::uint32_t keys_;
  Mutex mu_;
  std::vector<std::int64_t> values_ ABSL_GUARDED_BY(mu_);
};

class StripedMutexCounter {
 public:
  using lock_type = Mutex;
  static constexpr std::uint32_t kStripes = 16;
  static constexpr DesignTraits traits{
      .name = "mutex-striped",
      .family = Family::mutex,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = lock_type::waiting,
  };

  explicit StripedMutexCounter(CounterConfig config)
      : keys_(CounterReference::check(config).keys) {
    for (std::uint32_t s = 0; s < kStripes; ++s) {
      MutexLock lock(stripes_[s].mu);
      stripes_[s].values.assign(keys_ / kStripes + 1, 0);
    }
  }

  CounterError add(std::uint32_t key, std::int64_t delta) {
    if (key >= keys_) return CounterError::unknown_key;
    Stripe& s = stripes_[key % kStripes];
    MutexLock lock(s.mu);
    auto& v = s.values[key / kStripes];
    v = wrapping_add(v, delta);
    return CounterError::ok;
  }

  CounterRead get(std::uint32_t key) {
    if (key >= keys_) return {CounterError::unknown_key, 0};
    Stripe& s = stripes_[key % kStripes];
    MutexLock lock(s.mu);
    return {CounterError::ok, s.values[key / kStripes]};
  }

  // Holds all stripe locks at once so the sum is one instant's: taken in index order, released
  // in reverse. (The analysis cannot follow locks taken in a loop, hence the opt-out.)
  std::int64_t total() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (auto& s : stripes_) s.mu.lock();
    std::int64_t sum = 0;
    for (auto& s : stripes_)
      for (std::int64_t v : s.values) sum = wrapping_add(sum, v);
    for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) it->mu.unlock();
    return sum;
  }

  std::uint32_t keys() const { return keys_; }

 private:
  struct alignas(64) Stripe {
    Mutex mu;
    std::vector<std::int64_t> values ABSL_GUARDED_BY(mu);  // keys k with k % kStripes == s
  };
  const std::uint32_t keys_;
  std::array<Stripe, kStripes> stripes_;
};

}  // namespace cp
