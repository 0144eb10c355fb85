// reference.hpp (cache): the sequential reference. One thread, no synchronization: the
// correctness oracle of the conformance suite and the speed-of-light row of the comparison.
// Exact LRU (comparisons/cache/lru.hpp): get and put make a key the most recent; a put into a
// full cache evicts the least recent key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "comparisons/cache/contract.hpp"
#include "comparisons/cache/lru.hpp"

namespace cp {

class CacheReference {
 public:
  static constexpr DesignTraits traits{
      .name = "reference",
      .family = Family::reference,
      .thread_safe = false,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = Waiting::never,
      .eviction = "exact LRU",
  };

  explicit CacheReference(CacheConfig config)
      : config_(check(config)), lru_(config.capacity) {}

  std::optional<CacheValue> get(std::uint64_t key) {
    if (key >= config_.key_space) return std::nullopt;
    if (const CacheValue* v = lru_.get(key)) return *v;
    return std::nullopt;
  }

  CacheError put(std::uint64_t key, const CacheValue& value) {
    if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
    lru_.put(key, value);
    return CacheError::ok;
  }

  bool erase(std::uint64_t key) { return key < config_.key_space && lru_.erase(key); }

  std::size_t size() const { return lru_.size(); }
  std::size_t capacity() const { return config_.capacity; }

  // keys_most_recent_first: the exact LRU order (tests, docs).
  std::vector<std::uint64_t> keys_most_recent_first() const {
    return lru_.keys_most_recent_first();
  }

 private:
  CacheConfig config_;
  ExactLru lru_;
};

}  // namespace cp
