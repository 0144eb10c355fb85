// actor_cache.hpp: the cache workload with actors (patterns/actor), the cache actor of
// scenario C, with optional expiring entries.
//
//   CacheShard          - one actor's state: an exact LRU of its share of the capacity, plus
//                         each entry's expiry time when a TTL is set.
//   ActorCacheOptions   - ttl (0: entries never expire, the contract's cache) and the clock
//                         the TTL is measured with (injectable, for tests).
//   ActorCache "actor"  - kCacheActors actors, key -> actor by hash (sharded LRU, the capacity
//                         split as StripedMutexCache splits it), on kActorWorkers threads.
//                         get/put/erase are asks; size() and clear() ask every actor.
//
// Linearizable per key (one actor owns a key and handles its messages in order), so with
// C >= N it is a linearizable map. size() sums the actors one after another: exact at
// quiescence, <= capacity always.
//
// TTL (an extension of the contract, off in the conformance suite): an entry put at time t is
// gone from t + ttl on: a get returns none, an erase returns false, size() does not count it.
// Expired entries are removed when touched, and all at once by size(). An expiry time kept for
// a key the LRU has since evicted is harmless (the LRU is asked first) and is swept once the
// table holds twice the capacity.
//
// Bad input is answered on the caller's side (validate_put), without a message.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "comparisons/cache/contract.hpp"
#include "comparisons/cache/lru.hpp"
#include "comparisons/cache/shard_capacity.hpp"
#include "comparisons/common/actor_pool.hpp"
#include "comparisons/common/random.hpp"

namespace cp {

using CacheClock = std::function<std::chrono::steady_clock::time_point()>;

struct ActorCacheOptions {
  std::chrono::nanoseconds ttl{0};  // 0: entries never expire
  CacheClock clock;                 // empty: std::chrono::steady_clock::now
};

struct CacheShard {
  enum class Op : std::uint8_t { get, put, erase, clear, size };
  struct message {
    Op op = Op::get;
    std::uint64_t key = 0;
    CacheValue value{};  // put only
  };
  struct reply {
    bool hit = false;        // get: found; erase: was present
    std::uint64_t size = 0;  // size
    CacheValue value{};      // get, if hit
  };
  using time_point = std::chrono::steady_clock::time_point;

  CacheShard(std::size_t capacity, const ActorCacheOptions& options)
      : lru(capacity), ttl(options.ttl), clock(options.clock) {}

  // [quote: cache-ttl]
  reply handle(message& m) {
    switch (m.op) {
      case Op::get:
        drop_if_expired(m.key);
        if (const CacheValue* v = lru.get(m.key)) return {true, 0, *v};
        return {};
      case Op::put:
        lru.put(m.key, m.value);
        if (ttl.count() > 0) {
          expires[m.key] = now() + ttl;
          if (expires.size() > 2 * lru.capacity() + 16) sweep_evicted();
        }
        return {};
      case Op::erase: {
        drop_if_expired(m.key);
        if (ttl.count() > 0) expires.erase(m.key);
        return {lru.erase(m.key), 0, {}};
      }
      case Op::clear:
        lru.reset(lru.capacity());
        expires.clear();
        return {};
      case Op::size:
        if (ttl.count() > 0) drop_all_expired();
        return {false, lru.size(), {}};
    }
    return {};
  }

  time_point now() const { return clock ? clock() : std::chrono::steady_clock::now(); }

  void drop_if_expired(std::uint64_t key) {
    if (ttl.count() == 0) return;
    const auto it = expires.find(key);
    if (it == expires.end() || now() < it->second) return;
    expires.erase(it);
    lru.erase(key);
  }
  // [end quote]

  void drop_all_expired() {
    const time_point t = now();
    std::vector<std::uint64_t> gone;
    for (const auto& [key, when] : expires)
      if (t >= when) gone.push_back(key);
    for (std::uint64_t k : gone) {
      expires.erase(k);
      lru.erase(k);
    }
  }

  void sweep_evicted() {
    std::vector<std::uint64_t> gone;
    for (const auto& [key, when] : expires)
      if (!lru.peek(key)) gone.push_back(key);
    for (std::uint64_t k : gone) expires.erase(k);
  }

  ExactLru lru;
  std::chrono::nanoseconds ttl;
  CacheClock clock;
  absl::flat_hash_map<std::uint64_t, time_point> expires;  // ttl > 0 only
};

class ActorCache {
 public:
  static constexpr unsigned kCacheActors = 4;
  static constexpr DesignTraits traits{
      .name = "actor",
      .family = Family::actor,
      .thread_safe = true,
      .linearizable_reads = true,  // per key: one actor, mailbox order
      .lock_free = false,
      .waiting = Waiting::blocks,
      .queue_bound = kActorMailboxBound,  // per actor
      .overload = Overload::block,
      .owned_threads = kActorWorkers,
      .eviction = "sharded LRU (per shard exact)",
  };

  explicit ActorCache(CacheConfig config, ActorCacheOptions options = {})
      : config_(check(config)), system_(actor_pool_config()) {
    const std::vector<std::size_t> share = shard_capacities(
        config_, kCacheActors, [](std::uint64_t k) { return actor_index(k); });
    for (unsigned a = 0; a < kCacheActors; ++a) {
      const std::size_t cap = share[a];
      actors_.push_back(system_.spawn<CacheShard>(
          [cap, options] { return CacheShard(cap, options); }, actor_options()));
    }
  }

  std::optional<CacheValue> get(std::uint64_t key) {
    if (key >= config_.key_space) return std::nullopt;
    const CacheShard::reply r = ask(actor_of(key), {CacheShard::Op::get, key, {}});
    if (!r.hit) return std::nullopt;
    return r.value;
  }

  CacheError put(std::uint64_t key, const CacheValue& value) {
    if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
    ask(actor_of(key), {CacheShard::Op::put, key, value});
    return CacheError::ok;
  }

  bool erase(std::uint64_t key) {
    if (key >= config_.key_space) return false;
    return ask(actor_of(key), {CacheShard::Op::erase, key, {}}).hit;
  }

  // clear: empties every actor, one after another (an extension of the contract).
  void clear() {
    for (auto& a : actors_) ask(a, {CacheShard::Op::clear, 0, {}});
  }

  std::size_t size() {
    std::size_t sum = 0;
    for (auto& a : actors_) sum += static_cast<std::size_t>(ask(a, {CacheShard::Op::size, 0, {}}).size);
    return sum;
  }

  std::size_t capacity() const { return config_.capacity; }

  static std::size_t actor_index(std::uint64_t key) { return mix64(key) % kCacheActors; }

 private:
  static CacheShard::reply ask(actor::ActorRef<CacheShard>& a, CacheShard::message m) {
    return reply_or_throw(a.ask(std::move(m), kActorAskTimeout), "actor cache");
  }
  actor::ActorRef<CacheShard>& actor_of(std::uint64_t key) { return actors_[actor_index(key)]; }

  const CacheConfig config_;
  actor::ActorSystem system_;  // its destructor drains every actor, joins
  std::vector<actor::ActorRef<CacheShard>> actors_;
};

}  // namespace cp
