// rwlock_counter.hpp: the counter workload with a read-write lock (patterns/rwlock).
// get and total share the lock; add excludes. Templated on the lock so that std::shared_mutex
// and absl::Mutex run the same code:
//   RwLockCounter<SharedMutex>      "rwlock-std"
//   RwLockCounter<AbslSharedMutex>  "rwlock-absl"
#pragma once

#include <absl/base/thread_annotations.h>

#include <cstdint>
#include <type_traits>
#include <string_view>
#include <vector>

#include "comparisons/counter/contract.hpp"
#include "comparisons/counter/reference.hpp"
#include "patterns/rwlock/shared_mutex.hpp"

namespace cp {

template <class M>
class RwLockCounter {
 public:
  using lock_type = M;
  static constexpr DesignTraits traits{
      .name = M::design_name,
      .family = Family::rwlock,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = M::waiting,
  };

  explicit RwLockCounter(CounterConfig config)
      : keys_(CounterReference::check(config).keys), values_(keys_, 0) {}

  CounterError add(std::uint32_t key, std::int64_t delta) {
    if (key >= keys_) return CounterError::unknown_key;
    WriteLock<M> lock(mu_);
    values_[key] = wrapping_add(values_[key], delta);
    return CounterError::ok;
  }

  CounterRead get(std::uint32_t key) {
    if (key >= keys_) return {CounterError::unknown_key, 0};
    ReadLock<M> lock(mu_);
    return {CounterError::ok, values_[key]};
  }

  std::int64_t total() {
    ReadLock<M> lock(mu_);
    std::int64_t sum = 0;
    for (std::int64_t v : values_) sum = wrapping_add(sum, v);
    return sum;
  }

  std::uint32_t keys() const { return keys_; }

 private:
  const std::uint32_t keys_;
  M mu_;
  std::vector<std::int64_t> values_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cp
