// mutex_cache.hpp: the cache workload with mutexes (patterns/mutex).
//
//   MutexCache         - one lock around one exact LRU. Every call serialises, get included:
//                        an LRU get moves its entry to the front of the recency list, so a get
//                        is a write and a shared (read) lock would not be enough anyway.
//   StripedMutexCache  - S cache-line-aligned shards, each its own lock and its own exact LRU;
//                        a key's shard is chosen by a hash of the key, so calls on keys of
//                        different shards proceed in parallel. The price: eviction is exact
//                        only within a shard ("sharded LRU"): a put evicts its shard's least
//                        recent key, which may be more recent than another shard's.
//
// Both are linearizable: every operation on a key runs under the one lock that guards that
// key. size() of the striped design visits the shards one at a time; it is exact at
// quiescence and never exceeds the capacity, because each shard's LRU is bounded by its share.
#pragma once

#include <absl/base/thread_annotations.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "comparisons/cache/contract.hpp"
#include "comparisons/cache/shard_capacity.hpp"
#include "comparisons/cache/lru.hpp"
#include "patterns/mutex/mutex.hpp"

namespace cp {

class MutexCache {
 public:
  using lock_type = Mutex;
  static constexpr DesignTraits traits{
      .name = "mutex",
      .family = Family::mutex,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = lock_type::waiting,
      .eviction = "exact LRU",
  };

  explicit MutexCache(CacheConfig config) : config_(check(config)) {
    MutexLock lock(mu_);
    lru_.reset(config_.capacity);
  }

  std::optional<CacheValue> get(std::uint64_t key) ABSL_LOCKS_EXCLUDED(mu_) {
    if (key >= config_.key_space) return std::nullopt;
    MutexLock lock(mu_);
    if (const CacheValue* v = lru_.get(key)) return *v;  // the 64-byte copy, under the lock
    return std::nullopt;
  }

  CacheError put(std::uint64_t key, const CacheValue& value) ABSL_LOCKS_EXCLUDED(mu_) {
    // Validation reads only the caller's value and the immutable config: outside the lock.
    if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
    MutexLock lock(mu_);
    lru_.put(key, value);
    return CacheError::ok;
  }

  bool erase(std::uint64_t key) ABSL_LOCKS_EXCLUDED(mu_) {
    if (key >= config_.key_space) return false;
    MutexLock lock(mu_);
    return lru_.erase(key);
  }

  std::size_t size() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    return lru_.size();
  }

  std::size_t capacity() const { return config_.capacity; }

 private:
  const CacheConfig config_;
  Mutex mu_;
  ExactLru lru_ ABSL_GUARDED_BY(mu_);
};

class StripedMutexCache {
 public:
  using lock_type = Mutex;
  static constexpr std::size_t kMaxShards = 16;
  static constexpr DesignTraits traits{
      .name = "mutex-striped",
      .family = Family::mutex,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = lock_type::waiting,
      .eviction = "sharded LRU (per shard exact)",
  };

  // The shard count is a power of two (a mask picks the shard), at most kMaxShards and at
  // most the capacity, so that every shard can hold something. The capacity is split by
  // shard_capacities (shard_capacity.hpp), which keeps C >= N free of evictions.
  explicit StripedMutexCache(CacheConfig config)
      : config_(check(config)), shard_count_(shard_count_for(config.capacity)),
        shards_(new Shard[shard_count_]) {
    const std::vector<std::size_t> share = shard_capacities(
        config_, shard_count_, [this](std::uint64_t k) { return shard_index(k); });
    for (std::size_t s = 0; s < shard_count_; ++s) {
      MutexLock lock(shards_[s].mu);
      shards_[s].lru.reset(share[s]);
    }
  }

  std::optional<CacheValue> get(std::uint64_t key) {
    if (key >= config_.key_space) return std::nullopt;
    Shard& s = shard_of(key);
    MutexLock lock(s.mu);
    if (const CacheValue* v = s.lru.get(key)) return *v;
    return std::nullopt;
  }

  CacheError put(std::uint64_t key, const CacheValue& value) {
    if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
    Shard& s = shard_of(key);
    MutexLock lock(s.mu);
    s.lru.put(key, value);
    return CacheError::ok;
  }

  bool erase(std::uint64_t key) {
    if (key >= config_.key_space) return false;
    Shard& s = shard_of(key);
    MutexLock lock(s.mu);
    return s.lru.erase(key);
  }

  // size: the shards' sizes, each read under its own lock (not one instant's sum while
  // writers run; exact at quiescence; <= capacity always, as each shard is bounded).
  std::size_t size() {
    std::size_t sum = 0;
    for (std::size_t i = 0; i < shard_count_; ++i) {
      MutexLock lock(shards_[i].mu);
      sum += shards_[i].lru.size();
    }
    return sum;
  }

  std::size_t capacity() const { return config_.capacity; }
  std::size_t shard_count() const { return shard_count_; }

 private:
  // One shard per cache line (or more): two shards' locks never share a line, so threads
  // working on different shards do not invalidate each other's lock word.
  struct alignas(64) Shard {
    Mutex mu;
    ExactLru lru ABSL_GUARDED_BY(mu);
  };

  static std::size_t shard_count_for(std::size_t capacity) {
    std::size_t n = 1;
    while (n * 2 <= kMaxShards && n * 2 <= capacity) n *= 2;
    return n;
  }

  // mix64 first: with the mask alone, keys sharing their low bits (a stride of 16, say, as
  // ids often have) would all land in one shard.
  std::size_t shard_index(std::uint64_t key) const {
    return static_cast<std::size_t>(mix64(key) & (shard_count_ - 1));
  }
  Shard& shard_of(std::uint64_t key) { return shards_[shard_index(key)]; }

  const CacheConfig config_;
  const std::size_t shard_count_;
  const std::unique_ptr<Shard[]> shards_;
};

}  // namespace cp
