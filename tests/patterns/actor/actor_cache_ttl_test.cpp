// actor_cache_ttl_test.cpp: ActorCache's expiring entries (comparisons/cache/actor_cache.hpp),
// an extension of the cache contract, on an injected clock: no test here sleeps.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "comparisons/cache/actor_cache.hpp"

using namespace cp;
using namespace std::chrono_literals;

namespace {

struct TestClock {
  std::atomic<std::int64_t> ns{0};
  CacheClock fn() {
    return [this] {
      // relaxed: the test moves the clock between asks; each ask's hand-off (the mailbox
      // lock) orders the store before the actor's read.
      return std::chrono::steady_clock::time_point(
          std::chrono::nanoseconds(ns.load(std::memory_order_relaxed)));
    };
  }
  void set(std::chrono::nanoseconds t) { ns.store(t.count(), std::memory_order_relaxed); }
};

CacheValue value_for(std::uint64_t key, std::uint64_t version = 1) {
  return make_cache_value(key, version);
}

}  // namespace

TEST_CASE("actor cache TTL: an entry is gone from put time + ttl on", "[unit]") {
  TestClock clock;
  ActorCache cache(CacheConfig{.key_space = 1000, .capacity = 1000},
                   ActorCacheOptions{.ttl = 10s, .clock = clock.fn()});
  REQUIRE(cache.put(1, value_for(1)) == CacheError::ok);
  clock.set(9s);
  REQUIRE(cache.get(1));
  CHECK(cache.get(1)->version == 1);
  clock.set(10s);
  CHECK_FALSE(cache.get(1));  // expired exactly at put + ttl
  CHECK(cache.size() == 0);

  REQUIRE(cache.put(2, value_for(2)) == CacheError::ok);  // at 10 s
  clock.set(15s);
  REQUIRE(cache.put(3, value_for(3)) == CacheError::ok);  // at 15 s
  clock.set(20s);
  CHECK(cache.size() == 1);       // 2 expired, 3 not
  CHECK_FALSE(cache.erase(2));    // an expired entry is not present
  CHECK(cache.get(3));
  clock.set(25s);
  CHECK_FALSE(cache.erase(3));
  CHECK(cache.size() == 0);
}

TEST_CASE("actor cache TTL: a put refreshes the expiry, clear empties", "[unit]") {
  TestClock clock;
  ActorCache cache(CacheConfig{.key_space = 100, .capacity = 100},
                   ActorCacheOptions{.ttl = 10s, .clock = clock.fn()});
  clock.set(30s);
  REQUIRE(cache.put(4, value_for(4, 1)) == CacheError::ok);
  clock.set(35s);
  REQUIRE(cache.put(4, value_for(4, 2)) == CacheError::ok);
  clock.set(44s);
  REQUIRE(cache.get(4));
  CHECK(cache.get(4)->version == 2);
  clock.set(45s);
  CHECK_FALSE(cache.get(4));
  for (std::uint64_t k = 0; k < 50; ++k) REQUIRE(cache.put(k, value_for(k)) == CacheError::ok);
  CHECK(cache.size() == 50);
  cache.clear();
  CHECK(cache.size() == 0);
  CHECK_FALSE(cache.get(7));
}

TEST_CASE("actor cache TTL: with eviction, only live values of the right key come back",
          "[unit]") {
  TestClock clock;
  ActorCache cache(CacheConfig{.key_space = 4096, .capacity = 64},
                   ActorCacheOptions{.ttl = 100s, .clock = clock.fn()});
  // Many more keys than the capacity: the expiry table is swept of evicted keys as it grows.
  for (std::uint64_t k = 0; k < 4096; ++k) {
    clock.set(std::chrono::milliseconds(k));
    REQUIRE(cache.put(k, value_for(k, k + 1)) == CacheError::ok);
  }
  CHECK(cache.size() <= 64);
  std::size_t hits = 0;
  for (std::uint64_t k = 0; k < 4096; ++k) {
    if (const auto v = cache.get(k)) {
      ++hits;
      CHECK(v->key == k);
      CHECK(v->version == k + 1);
      CHECK(intact(*v));
    }
  }
  CHECK(hits > 0);
  clock.set(std::chrono::milliseconds(4095) + 100s);  // everything has expired now
  CHECK(cache.size() == 0);
  for (std::uint64_t k = 4000; k < 4096; ++k) CHECK_FALSE(cache.get(k));
}
