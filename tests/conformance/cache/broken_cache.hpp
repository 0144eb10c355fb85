// broken_cache.hpp: deliberately broken caches, never registered in CacheDesigns. The
// [suite-catches-bugs] tests run the ordinary checks on them and require a report: a check
// that cannot fail these proves nothing about the real designs.
//
//   StaleReadCache      - a per-thread read memo in front of a correct cache, invalidated
//                         only by the thread's own puts and erases: single-threaded it is
//                         correct; with two threads a get can return a value that another
//                         thread overwrote or erased before the get began.
//   OverCapacityCache   - an exact LRU that holds one entry more than capacity() says.
//   AcceptsCorruptCache - put() checks the key but not the checksum.
//   RareReorderCache    - a map behind one mutex, except that one put in 1,000 is parked and
//                         applied just after the next put to the same key: two writes land
//                         in the wrong order (for C >= N configurations only).
//   EvenSplitStripedCache - shards by hash with the capacity split evenly, even when C >= N:
//                         a shard that receives more keys than its share evicts, so a "map"
//                         configuration loses entries (the trap StripedMutexCache avoids).
//   ReservingCacheT<Hooks> - the lock-free cache as it was: a put of a new key reserves a unit
//                         of capacity, then CASes its entry in. A put stalled between the two
//                         holds room that no entry backs; at capacity 1 every other insert
//                         spins until it resumes. Correct at quiescence, not lock-free.
// None has a data race (the memo is thread-local, ReservingCacheT uses atomics, the rest sits
// behind a mutex), so they run under ThreadSanitizer like everything else.
#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "comparisons/cache/contract.hpp"
#include "comparisons/cache/lru.hpp"
#include "comparisons/cache/mutex_cache.hpp"
#include "patterns/lock_free/hazard_pointers.hpp"
#include "patterns/lock_free/hooks.hpp"
#include "patterns/mutex/mutex.hpp"

namespace cp::test {

class StaleReadCache {
 public:
  static constexpr DesignTraits traits{
      .name = "broken-stale-read",
      .family = Family::mutex,
      .thread_safe = true,
      .linearizable_reads = true,  // the false claim
      .lock_free = false,
      .waiting = Waiting::blocks,
      .eviction = "exact LRU",
  };

  explicit StaleReadCache(CacheConfig config) : inner_(config) {}

  std::optional<CacheValue> get(std::uint64_t key) {
    auto& m = memo();
    if (const auto it = m.find(key); it != m.end()) return it->second;  // the bug: may be stale
    auto v = inner_.get(key);
    if (v) m[key] = *v;
    // Lets another client run now, as a preemption would: the bug shows only when another
    // thread's put lands between two of this thread's gets, and on a loaded machine (one
    // free core for three clients) a client's 12 calls otherwise run in one time slice.
    std::this_thread::yield();
    return v;
  }
  CacheError put(std::uint64_t key, const CacheValue& value) {
    memo().erase(key);  // only this thread's memo is invalidated
    return inner_.put(key, value);
  }
  bool erase(std::uint64_t key) {
    memo().erase(key);
    return inner_.erase(key);
  }
  std::size_t size() { return inner_.size(); }
  std::size_t capacity() const { return inner_.capacity(); }

 private:
  // The calling thread's memo for this instance (a new instance, even at a reused address,
  // gets a fresh id, so memos never leak between instances).
  absl::flat_hash_map<std::uint64_t, CacheValue>& memo() {
    thread_local std::uint64_t owner = 0;
    thread_local absl::flat_hash_map<std::uint64_t, CacheValue> values;
    if (owner != id_) {
      values.clear();
      owner = id_;
    }
    return values;
  }
  static std::uint64_t next_id() {
    static std::atomic<std::uint64_t> ids{0};
    return ids.fetch_add(1, std::memory_order_relaxed) + 1;  // relaxed: only uniqueness matters
  }

  MutexCache inner_;
  const std::uint64_t id_ = next_id();
};

class OverCapacityCache {
 public:
  static constexpr DesignTraits traits{
      .name = "broken-over-capacity",
      .family = Family::mutex,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = Waiting::blocks,
      .eviction = "exact LRU",
  };

  explicit OverCapacityCache(CacheConfig config) : config_(check(config)) {
    MutexLock lock(mu_);
    lru_.reset(config.capacity + 1);  // the bug: off by one
  }
  std::optional<CacheValue> get(std::uint64_t key) {
    if (key >= config_.key_space) return std::nullopt;
    MutexLock lock(mu_);
    if (const CacheValue* v = lru_.get(key)) return *v;
    return std::nullopt;
  }
  CacheError put(std::uint64_t key, const CacheValue& value) {
    if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
    MutexLock lock(mu_);
    lru_.put(key, value);
    return CacheError::ok;
  }
  bool erase(std::uint64_t key) {
    if (key >= config_.key_space) return false;
    MutexLock lock(mu_);
    return lru_.erase(key);
  }
  std::size_t size() {
    MutexLock lock(mu_);
    return lru_.size();
  }
  std::size_t capacity() const { return config_.capacity; }

 private:
  const CacheConfig config_;
  Mutex mu_;
  ExactLru lru_ ABSL_GUARDED_BY(mu_);
};

class AcceptsCorruptCache {
 public:
  static constexpr DesignTraits traits{
      .name = "broken-accepts-corrupt",
      .family = Family::mutex,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = Waiting::blocks,
      .eviction = "exact LRU",
  };

  explicit AcceptsCorruptCache(CacheConfig config) : config_(check(config)), inner_(config) {}
  std::optional<CacheValue> get(std::uint64_t key) { return inner_.get(key); }
  CacheError put(std::uint64_t key, const CacheValue& value) {
    if (key >= config_.key_space) return CacheError::key_out_of_range;
    if (value.key != key) return CacheError::key_mismatch;
    // The bug: no checksum check.
    return inner_.put_unchecked(key, value);
  }
  bool erase(std::uint64_t key) { return inner_.erase(key); }
  std::size_t size() { return inner_.size(); }
  std::size_t capacity() const { return config_.capacity; }

 private:
  struct Unchecked {
    explicit Unchecked(CacheConfig config) {
      MutexLock lock(mu);
      lru.reset(config.capacity);
    }
    std::optional<CacheValue> get(std::uint64_t key) {
      MutexLock lock(mu);
      if (const CacheValue* v = lru.get(key)) return *v;
      return std::nullopt;
    }
    CacheError put_unchecked(std::uint64_t key, const CacheValue& value) {
      MutexLock lock(mu);
      lru.put(key, value);
      return CacheError::ok;
    }
    bool erase(std::uint64_t key) {
      MutexLock lock(mu);
      return lru.erase(key);
    }
    std::size_t size() {
      MutexLock lock(mu);
      return lru.size();
    }
    Mutex mu;
    ExactLru lru ABSL_GUARDED_BY(mu);
  };
  const CacheConfig config_;
  Unchecked inner_;
};

class EvenSplitStripedCache {
 public:
  static constexpr std::size_t kShards = 16;
  static constexpr DesignTraits traits{
      .name = "broken-even-split",
      .family = Family::mutex,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = Waiting::blocks,
      .eviction = "sharded LRU (per shard exact)",
  };

  explicit EvenSplitStripedCache(CacheConfig config) : config_(check(config)) {
    for (std::size_t s = 0; s < kShards; ++s)  // the bug: C/16 each, whatever N is
      shards_.push_back(std::make_unique<MutexCache>(
          CacheConfig{config.key_space, std::max<std::size_t>(config.capacity / kShards, 1)}));
  }
  std::optional<CacheValue> get(std::uint64_t key) { return shard(key).get(key); }
  CacheError put(std::uint64_t key, const CacheValue& value) { return shard(key).put(key, value); }
  bool erase(std::uint64_t key) { return shard(key).erase(key); }
  std::size_t size() {
    std::size_t n = 0;
    for (auto& s : shards_) n += s->size();
    return n;
  }
  std::size_t capacity() const { return config_.capacity; }

 private:
  MutexCache& shard(std::uint64_t key) { return *shards_[mix64(key) % kShards]; }
  const CacheConfig config_;
  std::vector<std::unique_ptr<MutexCache>> shards_;
};

// RareReorderCache: one put in kReorderEvery answers ok at once but is only parked; it is
// applied right after the next put to the same key, so the older write overwrites the newer
// one, and a get in between misses it. Every value it returns is intact and was put for its
// key; only the order is wrong, which only a check of the history can see. No eviction: use
// it with C >= N.
class RareReorderCache {
 public:
  static constexpr std::uint64_t kReorderEvery = 1000;
  using lock_type = Mutex;
  static constexpr DesignTraits traits{
      .name = "broken-rare-reorder",
      .family = Family::mutex,
      .thread_safe = true,
      .linearizable_reads = true,  // the false claim
      .lock_free = false,
      .waiting = Waiting::blocks,
      .eviction = "none (a map)",
  };

  explicit RareReorderCache(CacheConfig config) : config_(check(config)) {}

  std::optional<CacheValue> get(std::uint64_t key) {
    MutexLock lock(mu_);
    if (const auto it = values_.find(key); it != values_.end()) return it->second;
    return std::nullopt;
  }
  CacheError put(std::uint64_t key, const CacheValue& value) {
    if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
    MutexLock lock(mu_);
    // relaxed: only picks which put gets parked; it orders nothing.
    const bool park = puts_.fetch_add(1, std::memory_order_relaxed) % kReorderEvery ==
                      kReorderEvery - 1;
    if (park && !parked_.contains(key)) {
      parked_[key] = value;
      return CacheError::ok;
    }
    values_[key] = value;
    if (const auto it = parked_.find(key); it != parked_.end()) {
      values_[key] = it->second;  // the bug: the older write lands last
      parked_.erase(it);
    }
    return CacheError::ok;
  }
  bool erase(std::uint64_t key) {
    MutexLock lock(mu_);
    return values_.erase(key) > 0;
  }
  std::size_t size() {
    MutexLock lock(mu_);
    return values_.size();
  }
  std::size_t capacity() const { return config_.capacity; }

 private:
  const CacheConfig config_;
  Mutex mu_;
  absl::flat_hash_map<std::uint64_t, CacheValue> values_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::uint64_t, CacheValue> parked_ ABSL_GUARDED_BY(mu_);
  // Shared by every instance: histories are short, so the one reorder in a thousand puts
  // falls in some later history rather than never.
  static inline std::atomic<std::uint64_t> puts_{0};
};

template <class Hooks = lf::NoHooks>
class ReservingCacheT {
 public:
  explicit ReservingCacheT(CacheConfig config) : config_(config), slots_(config.key_space) {}
  ReservingCacheT(const ReservingCacheT&) = delete;
  ReservingCacheT& operator=(const ReservingCacheT&) = delete;
  ~ReservingCacheT() {
    for (auto& s : slots_) delete s.load(std::memory_order_relaxed);
  }

  std::optional<CacheValue> get(std::uint64_t key) {
    if (key >= config_.key_space) return std::nullopt;
    auto hp = lf::HazardDomain::global().make_hazard_pointer();
    const Node* n = hp.protect(slots_[key]);
    if (n == nullptr) return std::nullopt;
    return n->value;
  }
  CacheError put(std::uint64_t key, const CacheValue& value) {
    if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
    Node* fresh = new Node{value};
    Node* cur = slots_[key].load(std::memory_order_relaxed);
    for (;;) {
      Hooks::at(lf::HookPoint::swap_before_cas, fresh);
      if (cur != nullptr) {
        if (slots_[key].compare_exchange_weak(cur, fresh)) {
          lf::HazardDomain::global().retire(cur);
          return CacheError::ok;
        }
        continue;
      }
      reserve_unit();  // the bug: a unit held across the hook below and the CAS
      Hooks::at(lf::HookPoint::cache_inserted, fresh);  // here: reserved, not yet in its slot
      Node* expected = nullptr;
      if (slots_[key].compare_exchange_strong(expected, fresh)) return CacheError::ok;
      size_.fetch_sub(1);
      cur = expected;
    }
  }
  bool erase(std::uint64_t key) {
    if (key >= config_.key_space) return false;
    Node* old = slots_[key].exchange(nullptr);
    if (old == nullptr) return false;
    size_.fetch_sub(1);
    lf::HazardDomain::global().retire(old);
    return true;
  }
  std::size_t size() const { return static_cast<std::size_t>(std::max<std::int64_t>(size_.load(), 0)); }
  std::size_t capacity() const { return config_.capacity; }

 private:
  struct Node {
    CacheValue value;
  };
  void reserve_unit() {
    std::int64_t s = size_.load();
    for (;;) {
      if (s < static_cast<std::int64_t>(config_.capacity)) {
        if (size_.compare_exchange_weak(s, s + 1)) return;
        continue;
      }
      if (evict_one()) return;
      s = size_.load();
    }
  }
  bool evict_one() {  // FIFO over the slots is enough here
    const std::uint64_t i = hand_.fetch_add(1) % config_.key_space;
    auto hp = lf::HazardDomain::global().make_hazard_pointer();
    Node* n = hp.protect(slots_[i]);
    if (n == nullptr || !slots_[i].compare_exchange_strong(n, nullptr)) return false;
    hp.reset_protection();
    lf::HazardDomain::global().retire(n);
    return true;  // its unit is ours
  }

  const CacheConfig config_;
  std::vector<std::atomic<Node*>> slots_;
  std::atomic<std::int64_t> size_{0};
  std::atomic<std::uint64_t> hand_{0};
};

}  // namespace cp::test
