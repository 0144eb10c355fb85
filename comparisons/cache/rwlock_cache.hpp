// rwlock_cache.hpp: the cache workload with a read-write lock (patterns/rwlock) and CLOCK
// (second-chance) eviction. Templated on the lock so std::shared_mutex and absl::Mutex run the
// same code:
//   RwLockCache<SharedMutex>      "rwlock-std"
//   RwLockCache<AbslSharedMutex>  "rwlock-absl"
//
// Why CLOCK and not LRU. A read-write lock pays off only if reads take it shared. An exact LRU
// turns every get into a write: the entry moves to the front of the recency list, which
// rewrites up to four links and the list head, so a get would need the exclusive lock and the
// design would be a slower mutex. CLOCK (Corbato, 1968) approximates LRU with one
// "referenced" bit per entry: a get only sets its entry's bit, which a reader can do under the
// shared lock if the bit is an atomic. The entries sit in a fixed ring of slots; when a put
// needs room, the clock hand sweeps the ring: a slot whose bit is set gets a second chance
// (bit cleared, hand moves on), the first slot whose bit is clear is evicted. A key read since
// the hand last passed survives; eviction order is therefore approximate, not exact LRU.
//
//   get(key)    shared lock: find the slot, copy the value, set the referenced bit
//   put(key,v)  exclusive lock: overwrite in place (and mark referenced), or take a free slot,
//               or, when full, evict the slot the hand stops at and reuse it
//   erase(key)  exclusive lock: drop the index entry, return the slot to the free list
//
// Linearizable: each operation's effect happens inside its critical section, and shared
// sections never change anything but referenced bits, which no get's reply depends on.
// When not to use: when puts are frequent (each one excludes every reader), or critical
// sections are tiny (the reader count becomes the contended line; lessons/02). Alternatives:
// the striped mutex cache (parallel writers, exact LRU per shard), or lock-free readers.
#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <vector>

#include "comparisons/cache/contract.hpp"
#include "patterns/rwlock/shared_mutex.hpp"

namespace cp {

template <class M>
class RwLockCache {
 public:
  using lock_type = M;
  static constexpr DesignTraits traits{
      .name = M::design_name,
      .family = Family::rwlock,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = M::waiting,
      .eviction = "CLOCK (second chance)",
  };

  explicit RwLockCache(CacheConfig config)
      : config_(check_slots(config)),
        referenced_(new std::atomic<std::uint8_t>[config_.capacity]) {
    WriteLock<M> lock(mu_);
    values_.assign(config_.capacity, CacheValue{});
    slot_keys_.assign(config_.capacity, 0);
    // Reserved as in ExactLru: with <= capacity entries absl only rehashes in place.
    index_.reserve(std::max<std::size_t>(config_.capacity + config_.capacity / 4, 32));
    free_slots_.reserve(config_.capacity);
    for (std::size_t i = config_.capacity; i-- > 0;) {
      free_slots_.push_back(static_cast<std::uint32_t>(i));
      // Relaxed: published to other threads by the constructor's completion (the design is
      // shared only after it is built, through whatever hands it over).
      referenced_[i].store(0, std::memory_order_relaxed);
    }
  }

  // get: used by readers, concurrently with each other.
  std::optional<CacheValue> get(std::uint64_t key) {
    if (key >= config_.key_space) return std::nullopt;
    ReadLock<M> lock(mu_);
    const auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    const std::uint32_t slot = it->second;
    // The bit needs no ordering of its own, so both accesses are relaxed. It is written by
    // readers under the shared lock and read/cleared only by a put under the exclusive lock;
    // that put's lock() acquires after every shared section's unlock_shared() released, so
    // it sees every store made here, and no reader runs while it sweeps. The atomic is only
    // there because two readers may set the same bit at once. Test before set: a hot key's
    // bit is already set, and not storing keeps its cache line shared among the readers.
    if (referenced_[slot].load(std::memory_order_relaxed) == 0)
      referenced_[slot].store(1, std::memory_order_relaxed);
    return values_[slot];  // the 64-byte copy, under the shared lock
  }

  // put: used by writers; excludes readers and other writers.
  CacheError put(std::uint64_t key, const CacheValue& value) {
    if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
    WriteLock<M> lock(mu_);
    if (const auto it = index_.find(key); it != index_.end()) {
      values_[it->second] = value;
      // Relaxed: under the exclusive lock; readers see it through their lock_shared().
      referenced_[it->second].store(1, std::memory_order_relaxed);
      return CacheError::ok;
    }
    const std::uint32_t slot = free_slots_.empty() ? evict_one() : take_free_slot();
    values_[slot] = value;
    slot_keys_[slot] = key;
    // A new entry starts unreferenced: it earns its second chance with a get. The hand has
    // just passed this slot (when it was the victim), so the entry has a full sweep to do so.
    referenced_[slot].store(0, std::memory_order_relaxed);  // exclusive lock, as above
    index_.emplace(key, slot);
    return CacheError::ok;
  }

  bool erase(std::uint64_t key) {
    if (key >= config_.key_space) return false;
    WriteLock<M> lock(mu_);
    const auto it = index_.find(key);
    if (it == index_.end()) return false;
    free_slots_.push_back(it->second);  // reserved to capacity: never allocates
    index_.erase(it);
    return true;
  }

  std::size_t size() {
    ReadLock<M> lock(mu_);
    return index_.size();
  }

  std::size_t capacity() const { return config_.capacity; }

 private:
  static const CacheConfig& check_slots(const CacheConfig& config) {
    if (check(config).capacity > std::numeric_limits<std::uint32_t>::max())
      throw std::invalid_argument("RwLockCache: capacity must fit 32-bit slot numbers");
    return config;
  }

  std::uint32_t take_free_slot() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }

  // evict_one: the clock sweep. Only called when no slot is free, so every slot holds an
  // entry. Ends within one full turn plus one step: a turn clears every bit it passes.
  std::uint32_t evict_one() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (;;) {
      const std::uint32_t slot = hand_;
      hand_ = (hand_ + 1 == config_.capacity) ? 0 : hand_ + 1;
      // Relaxed: exclusive lock held; see get() for why that orders it against readers.
      if (referenced_[slot].load(std::memory_order_relaxed) != 0) {
        referenced_[slot].store(0, std::memory_order_relaxed);  // second chance
        continue;
      }
      index_.erase(slot_keys_[slot]);
      return slot;
    }
  }

  const CacheConfig config_;
  M mu_;
  absl::flat_hash_map<std::uint64_t, std::uint32_t> index_ ABSL_GUARDED_BY(mu_);  // key -> slot
  std::vector<CacheValue> values_ ABSL_GUARDED_BY(mu_);       // slot -> value
  std::vector<std::uint64_t> slot_keys_ ABSL_GUARDED_BY(mu_);  // slot -> key
  std::vector<std::uint32_t> free_slots_ ABSL_GUARDED_BY(mu_);
  std::uint32_t hand_ ABSL_GUARDED_BY(mu_) = 0;
  // slot -> referenced bit. Set by readers under the shared lock (hence atomic), cleared by
  // the sweep under the exclusive lock. The pointer itself never changes.
  const std::unique_ptr<std::atomic<std::uint8_t>[]> referenced_;
};

}  // namespace cp
