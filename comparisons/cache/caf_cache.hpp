// caf_cache.hpp: the cache workload on CAF 0.17 (Debian libcaf-dev), a peer row, not one of our
// patterns.
//
//   CafCache "caf" - the ActorCache of actor_cache.hpp with CAF as the runtime: the same 4
//                    shard actors (CacheShard: an exact LRU of its share of the capacity, no
//                    TTL), the same key -> actor hash, run by a caf::actor_system of
//                    kActorWorkers scheduler threads. get/put/erase are asks; size() and
//                    clear() ask every actor.
//
// The "actor" and "caf" rows differ in the runtime only (comparisons/common/caf_pool.hpp).
// Linearizable per key (one actor owns a key, mailbox order); size() is exact at quiescence and
// <= capacity always. Mailboxes are unbounded (CAF 0.17 has none bounded): queue_bound 0.
// Threads: as CafCounter (caf_counter.hpp). The CAF code is in caf_cache.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "comparisons/cache/contract.hpp"
#include "comparisons/common/actor_pool.hpp"

namespace cp {

class CafCache {
 public:
  static constexpr DesignTraits traits{
      .name = "caf",
      .family = Family::peer,
      .thread_safe = true,
      .linearizable_reads = true,  // per key: one actor, mailbox order
      .lock_free = false,
      .waiting = Waiting::blocks,  // a caller sleeps on its reply's future
      .owned_threads = kActorWorkers,
      .eviction = "sharded LRU (per shard exact)",
  };

  explicit CafCache(CacheConfig config);
  ~CafCache();  // drains every actor, stops the actor_system
  CafCache(const CafCache&) = delete;
  CafCache& operator=(const CafCache&) = delete;

  std::optional<CacheValue> get(std::uint64_t key);
  CacheError put(std::uint64_t key, const CacheValue& value);
  bool erase(std::uint64_t key);
  void clear();  // empties every actor, one after another (an extension of the contract)
  std::size_t size();
  std::size_t capacity() const { return config_.capacity; }

 private:
  struct Actors;  // caf_cache.cpp

  const CacheConfig config_;
  std::unique_ptr<Actors> actors_;
};

}  // namespace cp
