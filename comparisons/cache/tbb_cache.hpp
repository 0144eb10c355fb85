// tbb_cache.hpp (cache): a peer, not one of our patterns. oneTBB's tbb::concurrent_hash_map
// (Debian libtbb-dev, oneTBB 2021) run through the same contract, driver and histogram as our
// caches, with the smallest eviction we could add on top that keeps the contract.
//
//   TbbMapLock     - the lock concurrent_hash_map puts in each bucket and each element
//                    (tbb::spin_rw_mutex), with its Waiting claim (spins)
//   TbbHashMapCache - design "tbb-hash-map": the map does every concurrent access; a count of
//                    taken slots bounds it, and a tbb::concurrent_queue of insertion tickets
//                    with a referenced bit per entry picks victims (CLOCK, second chance)
//
// What a user of oneTBB gets. concurrent_hash_map is a hash table of buckets, each with a
// reader-writer spin lock over its chain, and of nodes, each with its own reader-writer spin
// lock. find(const_accessor&, key) returns holding the element's lock shared, find/insert with
// an accessor& hold it exclusive, until the accessor is released or destroyed: the accessor is
// a lock guard. So: copy the 64-byte value out and release at once (get below); never hold an
// accessor while taking another (an evictor waiting for an element that a put holds while the
// put waits for the evictor's would spin for ever). erase(key) unlinks under the bucket lock
// and then waits for the element's readers to leave before freeing it.
//
// What it lacks for the contract: a capacity. It grows without bound and evicts nothing. The
// eviction added on top is ClockTickets (clock_tickets.hpp, shared with the libcds-feldman
// peer): a count of taken slots bounded by C, and a queue of insertion tickets that CLOCK
// sweeps. With C >= N the map can never hold more than N <= C keys: no slot count, no tickets,
// nothing is ever evicted, and the cache is concurrent_hash_map itself.
//
// Guarantees. Linearizable: every get/put/erase on a key happens under that key's bucket and
// element locks (a get's value is copied under the element's shared lock; erase unlinks under
// the bucket's exclusive lock). With eviction a get may miss an entry another put just evicted,
// which the contract allows; a put of a new key that races another put of the same key may
// evict one entry for nothing (it gives the slot back). Not lock-free; waiting spins (see
// TbbMapLock). Unlike our designs it allocates while running: a node per new key (freed when
// the entry is erased or evicted) and, now and then, a page of the ticket queue.
//
// When to use it: the peer row says what a well-kept general-purpose concurrent map costs for
// this workload. Reads take two shared locks (bucket, element), each an atomic add on a line
// shared with other readers of that bucket or key: hot Zipf keys bounce those lines between
// cores, as the rwlock designs' reader count does, only spread over many locks.
#pragma once

#include <oneapi/tbb/concurrent_hash_map.h>
#include <oneapi/tbb/spin_rw_mutex.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "comparisons/cache/clock_tickets.hpp"
#include "comparisons/cache/contract.hpp"
#include "comparisons/common/random.hpp"

namespace cp {

// TbbMapLock: tbb::spin_rw_mutex, the lock of every bucket and element of a
// concurrent_hash_map (oneTBB 2021 without TBB_PREVIEW_CONCURRENT_HASH_MAP_EXTENSIONS: the
// mutex type is fixed, oneapi/tbb/concurrent_hash_map.h). How it waits, from its source
// (oneapi/tbb/spin_rw_mutex.h, detail/_utils.h atomic_backoff) and its documentation ("unfair
// spinning reader-writer lock with backoff"; lock() "spins if the lock is taken"): a waiter
// spins with exponential `pause` backoff (1, 2, 4, 8, 16 pauses) and after that calls
// sched_yield between attempts. It never sleeps in the kernel: when nothing else is runnable
// yield returns at once, so a waiter keeps its core busy. Hence Waiting::spins. (An accessor
// waiting for an element lock also gives up the bucket lock and yields between rounds.)
struct TbbMapLock : tbb::spin_rw_mutex {
  static constexpr Waiting waiting = Waiting::spins;
};

class TbbHashMapCache {
 public:
  // The lock every access takes (bucket and element). Not named `lock_type` on purpose: the
  // shared check (tests/support/trait_checks.hpp) judges "spins" by the waiter's share of a
  // core, which a yielding spinner loses on a loaded 2-core machine (measured here: 40% of a
  // core beside one busy thread, 0.1% beside two). tests/conformance/cache/tbb_cache_test.cpp
  // checks the claim by what load does not change: the waiter never sleeps in the kernel.
  using map_lock_type = TbbMapLock;
  static constexpr DesignTraits traits{
      .name = "tbb-hash-map",
      .family = Family::peer,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,  // every access locks a bucket and an element
      .waiting = map_lock_type::waiting,
      .eviction = "CLOCK (second chance)",
  };

  explicit TbbHashMapCache(CacheConfig config)
      : config_(check(config)),
        evicting_(config_.capacity < config_.key_space),
        clock_(config_.capacity),
        // Buckets for every entry the cache can hold (the map grows by itself past that, but
        // would do it while the clients run). Capped: a bucket is 16 bytes.
        map_(std::min<std::uint64_t>({config_.capacity, config_.key_space, kMaxReservedBuckets})) {}

  // get: used by any thread. The element's shared lock is held for the copy only.
  std::optional<CacheValue> get(std::uint64_t key) {
    if (key >= config_.key_space) return std::nullopt;
    Map::const_accessor a;
    if (!map_.find(a, key)) return std::nullopt;
    const CacheValue copy = a->second.value;
    mark_referenced(a->second);
    a.release();
    return copy;
  }

  // put: used by any thread. Evicts one entry when a new key finds every slot taken.
  CacheError put(std::uint64_t key, const CacheValue& value) {
    if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
    if (!evicting_) {
      Map::accessor a;
      map_.insert(a, key);  // new or not, returns holding the element exclusive
      a->second.value = value;
      return CacheError::ok;
    }
    {
      Map::accessor a;
      if (map_.find(a, key)) {
        a->second.value = value;
        mark_referenced(a->second);  // an overwrite is a use, as in rwlock_cache.hpp
        return CacheError::ok;
      }
    }  // released before take_slot: we hold no element lock while evicting
    clock_.take_slot([this](const ClockTicket& t, bool may_spare) { return judge(t, may_spare); });
    ClockTicket ticket{key, 0};
    {
      Map::accessor a;
      bool fresh = false;
      try {
        fresh = map_.insert(a, key);  // allocates the node before linking it
      } catch (...) {
        clock_.release_slot();  // std::bad_alloc: nothing was inserted
        throw;
      }
      if (!fresh) {
        // Another put inserted the key after our find: overwrite it, hand the slot back.
        a->second.value = value;
        mark_referenced(a->second);
        a.release();
        clock_.release_slot();
        return CacheError::ok;
      }
      // A fresh entry: readers that found it wait on its lock until the value is in.
      ticket.stamp = clock_.next_stamp();
      a->second.value = value;
      a->second.stamp = ticket.stamp;  // referenced starts clear: a get earns the second chance
    }
    clock_.queue(ticket, [this](const ClockTicket& t) { return is_live(t); });
    return CacheError::ok;
  }

  // erase: used by any thread. The erased entry's ticket stays in the queue, stale.
  bool erase(std::uint64_t key) {
    if (key >= config_.key_space) return false;
    if (!map_.erase(key)) return false;
    if (evicting_) clock_.release_slot();
    return true;
  }

  // size: the map's own count (an atomic it keeps); <= capacity at every instant (see above).
  std::size_t size() { return map_.size(); }

  std::size_t capacity() const { return config_.capacity; }

  // tickets_queued: tickets in the eviction queue, stale ones included; for tests. Exact when
  // no other thread runs, approximate otherwise.
  std::size_t tickets_queued() const { return clock_.tickets_queued(); }

 private:
  static constexpr std::uint64_t kMaxReservedBuckets = std::uint64_t{1} << 20;

  struct Entry {
    CacheValue value{};
    std::uint64_t stamp = 0;  // which insertion this entry is: matches its one ticket
    // Set by gets under the element's shared lock (hence atomic, and mutable: a
    // const_accessor sees a const Entry), read and cleared by evictions under the element's
    // exclusive lock.
    mutable std::atomic<std::uint8_t> referenced{0};
  };

  // The default tbb_hash_compare uses std::hash, the identity on integers in libstdc++, and
  // the map picks a bucket by the low bits: strided keys would share buckets. mix64 spreads
  // them, as the striped designs do.
  struct MixedKeyHash {
    std::size_t hash(std::uint64_t key) const { return static_cast<std::size_t>(mix64(key)); }
    bool equal(std::uint64_t a, std::uint64_t b) const { return a == b; }
  };

  // std::allocator, not the default tbb_allocator: CacheValue is alignas(64), which
  // tbb_allocator does not honour (it asks for bytes only) and operator new does. It also
  // keeps every allocation visible to ThreadSanitizer's interceptors.
  using Map = tbb::concurrent_hash_map<std::uint64_t, Entry, MixedKeyHash,
                                       std::allocator<std::pair<const std::uint64_t, Entry>>>;

  static void mark_referenced(const Entry& e) {
    // Relaxed both: the bit carries no data. Pairs with the load/clear in evict_one() through
    // the element's lock: the evictor's exclusive acquisition comes after this reader's
    // shared release. Test first: a hot key's bit is already set, so readers do not write it.
    if (e.referenced.load(std::memory_order_relaxed) == 0)
      e.referenced.store(1, std::memory_order_relaxed);
  }

  // judge: ClockTickets' look at a popped ticket's entry, under the element's exclusive lock.
  ClockVerdict judge(const ClockTicket& t, bool may_spare) {
    Map::accessor a;
    if (!map_.find(a, t.key) || a->second.stamp != t.stamp) return ClockVerdict::stale;
    // Relaxed: under the element's exclusive lock; see mark_referenced().
    if (may_spare && a->second.referenced.load(std::memory_order_relaxed) != 0) {
      a->second.referenced.store(0, std::memory_order_relaxed);
      return ClockVerdict::spared;  // the accessor is released before the ticket is queued
    }
    // False when a concurrent erase(key) unlinked it first; that erase frees the slot.
    return map_.erase(a) ? ClockVerdict::evicted : ClockVerdict::lost;
  }

  bool is_live(const ClockTicket& t) {
    Map::const_accessor a;
    return map_.find(a, t.key) && a->second.stamp == t.stamp;
  }

  const CacheConfig config_;
  const bool evicting_;  // capacity < key_space: slots, tickets and eviction are needed
  ClockTickets clock_;
  Map map_;
};

}  // namespace cp
