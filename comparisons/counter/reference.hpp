// reference.hpp (counter): the sequential reference. One thread, no synchronization: the
// correctness oracle and the speed-of-light row of the comparison.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "comparisons/counter/contract.hpp"

namespace cp {

class CounterReference {
 public:
  static constexpr DesignTraits traits{
      .name = "reference",
      .family = Family::reference,
      .thread_safe = false,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = Waiting::never,
  };

  explicit CounterReference(CounterConfig config) : values_(check(config).keys, 0) {}

  CounterError add(std::uint32_t key, std::int64_t delta) {
    if (key >= values_.size()) return CounterError::unknown_key;
    values_[key] = wrapping_add(values_[key], delta);
    return CounterError::ok;
  }

  CounterRead get(std::uint32_t key) const {
    if (key >= values_.size()) return {CounterError::unknown_key, 0};
    return {CounterError::ok, values_[key]};
  }

  std::int64_t total() const {
    std::int64_t sum = 0;
    for (std::int64_t v : values_) sum = wrapping_add(sum, v);
    return sum;
  }

  std::uint32_t keys() const { return static_cast<std::uint32_t>(values_.size()); }

  static const CounterConfig& check(const CounterConfig& config) {
    if (config.keys == 0) throw std::invalid_argument("counter: keys must be > 0");
    return config;
  }

 private:
  std::vector<std::int64_t> values_;
};

}  // namespace cp
