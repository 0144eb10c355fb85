// cache_test.cpp: the cache conformance suite, run against every registered design, plus the
// proof that its checks catch the deliberately broken caches of broken_cache.hpp.
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include "comparisons/cache/designs.hpp"
#include "comparisons/cache/driver.hpp"
#include "tests/conformance/cache/broken_cache.hpp"
#include "tests/conformance/cache/cache_checks.hpp"
#include "tests/support/design_test.hpp"
#include "tests/support/progress_check.hpp"
#include "tests/support/trait_checks.hpp"

using namespace cp;
using namespace cp::test;

static_assert([]<class... D>(std::tuple<D...>*) { return (CacheDesign<D> && ...); }(
                  static_cast<CacheDesigns*>(nullptr)),
              "every registered cache design satisfies the contract");
static_assert([]<class... D>(std::tuple<D...>*) { return (WorkloadDriver<CacheDriver<D>> && ...); }(
                  static_cast<CacheDesigns*>(nullptr)),
              "the cache driver drives every registered design");

namespace {

// No eviction (C >= N): the cache is a map. Eviction: C well below N.
constexpr CacheConfig kMapConfig{.key_space = 40, .capacity = 64};
constexpr CacheConfig kTightMapConfig{.key_space = 40, .capacity = 40};
constexpr CacheConfig kEvictingConfig{.key_space = 40, .capacity = 8};

// Thread counts a design runs at: the reference is single-threaded.
template <class D>
std::vector<unsigned> stress_thread_counts() {
  std::vector<unsigned> counts;
  for (unsigned n : kStressThreadCounts)
    if (D::traits.thread_safe || n == 1) counts.push_back(n);
  return counts;
}

}  // namespace

// ---- unit -----------------------------------------------------------------------------------

CP_DESIGN_TEST(cache_unit, "cache: replies match the reference without eviction", "[unit]",
               CacheDesigns) {
  const auto s = seed();
  INFO("config key_space 40, capacity 64");
  CP_REQUIRE_CLEAN(check_cache_matches_reference<TestType>(s, kMapConfig), s);
  INFO("config key_space 40, capacity 40");
  CP_REQUIRE_CLEAN(check_cache_matches_reference<TestType>(s + 1, kTightMapConfig), s + 1);
}

CP_DESIGN_TEST(cache_unit_lru, "cache: exact-LRU designs match the reference with eviction",
               "[unit]", CacheDesigns) {
  if constexpr (TestType::traits.eviction == "exact LRU") {
    const auto s = seed();
    INFO("config key_space 40, capacity 8");
    CP_REQUIRE_CLEAN(check_cache_matches_reference<TestType>(s, kEvictingConfig), s);
  }
}

CP_DESIGN_TEST(cache_eviction_order, "cache: evictions follow the declared policy", "[unit]",
               CacheDesigns) {
  INFO("eviction: " << TestType::traits.eviction);
  CP_REQUIRE_CLEAN(check_cache_eviction_order<TestType>(), 0);
}

CP_DESIGN_TEST(cache_bad_config, "cache: zero capacity or key space is refused", "[unit]",
               CacheDesigns) {
  REQUIRE_THROWS_AS(TestType(CacheConfig{.key_space = 10, .capacity = 0}), std::invalid_argument);
  REQUIRE_THROWS_AS(TestType(CacheConfig{.key_space = 0, .capacity = 10}), std::invalid_argument);
}

// ---- stress ---------------------------------------------------------------------------------

CP_DESIGN_TEST(cache_integrity, "cache: values intact, size <= capacity", "[stress]",
               CacheDesigns) {
  const auto s = seed();
  for (unsigned threads : stress_thread_counts<TestType>()) {
    INFO("threads " << threads << ", key_space 512, capacity 64 (evicting)");
    CP_REQUIRE_CLEAN(check_cache_concurrent_integrity<TestType>(
                         s + threads, threads, 20'000, CacheConfig{.key_space = 512, .capacity = 64}),
                     s + threads);
    INFO("threads " << threads << ", key_space 64, capacity 64 (no eviction)");
    CP_REQUIRE_CLEAN(check_cache_concurrent_integrity<TestType>(
                         s + threads, threads, 20'000, CacheConfig{.key_space = 64, .capacity = 64}),
                     s + threads);
  }
}

CP_DESIGN_TEST(cache_linearizable, "cache: a linearizable map without eviction", "[stress]",
               CacheDesigns) {
  if constexpr (TestType::traits.linearizable_reads) {
    const auto s = seed();
    for (unsigned threads : stress_thread_counts<TestType>()) {
      INFO("threads " << threads << ", key_space 32, capacity 32");
      CP_REQUIRE_CLEAN(check_cache_linearizable<TestType>(s + threads, threads, 20'000,
                                                          CacheConfig{.key_space = 32, .capacity = 32},
                                                          /*may_evict=*/false),
                       s + threads);
    }
  }
}

CP_DESIGN_TEST(cache_no_stale_reads, "cache: with eviction, no overwritten or erased value",
               "[stress]", CacheDesigns) {
  const auto s = seed();
  for (unsigned threads : stress_thread_counts<TestType>()) {
    INFO("threads " << threads << ", key_space 64, capacity 8");
    CP_REQUIRE_CLEAN(check_cache_linearizable<TestType>(s + threads, threads, 20'000,
                                                        CacheConfig{.key_space = 64, .capacity = 8},
                                                        /*may_evict=*/true),
                     s + threads);
  }
}

CP_DESIGN_TEST(cache_driver, "cache: the benchmark driver's check passes", "[stress]",
               CacheDesigns) {
  const auto s = seed();
  for (CacheMix mix : {CacheMix::read_heavy, CacheMix::write_heavy}) {
    const unsigned threads = TestType::traits.thread_safe ? 2 : 1;
    CacheDriver<TestType> driver(
        CacheParams{.key_space = 2'000, .capacity = 500, .theta = 0.99, .mix = mix}, threads, s);
    std::vector<typename CacheDriver<TestType>::Thread> states;
    for (unsigned i = 0; i < threads; ++i) states.push_back(driver.make_thread(i));
    run_threads(threads, [&](unsigned i) {
      for (int op = 0; op < 20'000; ++op) {
        driver.next(states[i]);
        driver.execute(states[i]);
      }
    });
    const Verdict v = driver.verify(states);
    INFO("seed " << s << ", " << driver.describe() << ": " << v.detail);
    REQUIRE(v.passed);
    REQUIRE(driver.describe().find(to_string(mix)) != std::string::npos);
  }
}

// ---- traits ---------------------------------------------------------------------------------

CP_DESIGN_TEST(cache_traits, "cache: declared traits hold", "[trait]", CacheDesigns) {
  CP_REQUIRE_CLEAN(check_traits_consistent<TestType>(), 0);
  CP_REQUIRE_CLEAN(check_waiting_claim<TestType>(), 0);
  REQUIRE_FALSE(TestType::traits.eviction.empty());
}

// ---- progress: one operation parked at every hook visit, the others finish ----------------

namespace {

// CacheParkScenario: a fresh design with `prefill` keys (1..prefill) put, a parked operation
// on key 0 and workers on keys 1..N-1 (put, get, and every third call an erase). Worker t
// records in its own entries; check() runs after the joins.
enum class ParkedCacheOp { insert, overwrite, erase };

template <class D>
struct CacheParkScenario {
  CacheConfig config;
  ParkedCacheOp op;
  std::unique_ptr<D> design;
  CacheValue parked_value = make_cache_value(0, 1'000'000);
  std::array<std::uint64_t, 2> done{};
  std::array<std::uint64_t, 2> errors{};

  CacheParkScenario(CacheConfig c, ParkedCacheOp o, std::uint64_t prefill)
      : config(c), op(o), design(std::make_unique<D>(c)) {
    if (op != ParkedCacheOp::insert) (void)design->put(0, make_cache_value(0, 1));
    for (std::uint64_t k = 1; k <= prefill; ++k) (void)design->put(k, make_cache_value(k, 1));
  }
  void parked_op() {
    if (op == ParkedCacheOp::erase) {
      (void)design->erase(0);
    } else {
      (void)design->put(0, parked_value);
    }
  }
  void other_op(unsigned t) {
    const std::uint64_t i = done[t]++;
    const std::uint64_t key = 1 + (2 * i + t) % (config.key_space - 1);
    if (i % 3 == 2) {
      (void)design->erase(key);
    } else if (design->put(key, make_cache_value(key, 2 + i)) != CacheError::ok) {
      ++errors[t];
    }
    if (const auto v = design->get(key); v && (v->key != key || !intact(*v))) ++errors[t];
  }
  Findings check() {
    Findings f;
    if (errors[0] + errors[1] != 0) f.fail(errors[0] + errors[1], " refused puts or bad gets");
    std::size_t present = 0;
    for (std::uint64_t k = 0; k < config.key_space; ++k)
      if (const auto v = design->get(k)) {
        ++present;
        if (v->key != k || !intact(*v)) f.fail("key ", k, " holds a bad value");
      }
    if (present > config.capacity)
      f.fail(present, " keys present, capacity ", config.capacity);
    if (design->size() != present)
      f.fail("size() = ", design->size(), " but ", present, " keys present");
    const auto zero = design->get(0);
    if (op == ParkedCacheOp::erase ? zero.has_value()
                                   : (zero && *zero != parked_value) ||
                                         (!zero && config.capacity >= config.key_space))
      f.fail("key 0 after the parked operation: ", zero ? "a value" : "absent");
    return f;
  }
};

template <class D>
Findings check_cache_progress(CacheConfig config, ParkedCacheOp op, std::uint64_t prefill,
                              int ops_each) {
  return park_at_every_visit([&] { return CacheParkScenario<D>(config, op, prefill); }, 2,
                             ops_each, std::chrono::seconds(60));
}

}  // namespace

// A design that declares lock_free = true offers `with_hooks<H>`, so a thread can be parked
// inside put(), at each of its hook points in turn (its new entry built before the CAS that
// publishes it, and whatever the design does after); the others must still complete all
// their puts, gets and erases, on neighbouring keys. Afterwards the parked put has landed
// (no eviction: a get returns it) and the entries present equal size() <= capacity.
CP_DESIGN_TEST(cache_progress, "cache: lock-free, others progress while one put is parked",
               "[trait]", CacheDesigns) {
  if constexpr (TestType::traits.lock_free) {
    using Hooked = typename TestType::template with_hooks<lf::ScriptedHooks>;
    for (const CacheConfig config : {kMapConfig, kEvictingConfig}) {
      INFO("key_space " << config.key_space << ", capacity " << config.capacity);
      CP_REQUIRE_CLEAN(check_cache_progress<Hooked>(config, ParkedCacheOp::insert, 0, 500), 0);
    }
  }
}

// The same at capacity, where a new entry must make room: capacity 1 and 8, full, and the
// parked operation an insert (which must evict), an overwrite or an erase (which gives back
// room), parked at every hook visit. A design that holds a unit of capacity in a window
// (reserved before its entry is in, or still counted after its entry is gone) stops every
// other insert there: nothing else can be evicted to make room.
CP_DESIGN_TEST(cache_progress_full, "cache: lock-free when full, parked at every hook",
               "[interleaving]", CacheDesigns) {
  if constexpr (TestType::traits.lock_free) {
    using Hooked = typename TestType::template with_hooks<lf::ScriptedHooks>;
    for (const CacheConfig config : {CacheConfig{.key_space = 8, .capacity = 1}, kEvictingConfig})
      for (const ParkedCacheOp op :
           {ParkedCacheOp::insert, ParkedCacheOp::overwrite, ParkedCacheOp::erase}) {
        INFO("key_space " << config.key_space << ", capacity " << config.capacity
                          << ", parked op " << static_cast<int>(op) << " (insert, overwrite, erase)");
        const std::uint64_t prefill = op == ParkedCacheOp::insert ? config.capacity
                                                                  : config.capacity - 1;
        CP_REQUIRE_CLEAN(check_cache_progress<Hooked>(config, op, prefill, 200), 0);
      }
  }
}

// ---- the suite catches bugs -----------------------------------------------------------------

// The progress check at every hook catches the cache that reserves capacity before its CAS
// (the lock-free cache's old bug): at capacity 1, parked between its reservation and its CAS,
// the insert stops every other insert. The patience is short here: the others complete
// nothing however long they are given.
TEST_CASE("cache suite catches: a put that holds reserved capacity across its CAS blocks inserts",
          "[suite-catches-bugs]") {
  using Hooked = ReservingCacheT<lf::ScriptedHooks>;
  const Findings found = park_at_every_visit(
      [] { return CacheParkScenario<Hooked>({.key_space = 8, .capacity = 1}, ParkedCacheOp::insert, 1); },
      2, 50, std::chrono::milliseconds(200));
  INFO(found.report());
  REQUIRE_FALSE(found.ok());
  REQUIRE(found.report().find("parked at visit 2 of 2") != std::string::npos);  // reserved
}

TEST_CASE("cache suite catches: a per-thread read memo returns stale values",
          "[suite-catches-bugs]") {
  // Needs two threads to interleave; a round where they happened not to is retried, with a
  // bound far above what a 2-core machine needs (one round in practice).
  const auto s = seed();
  Findings found;
  int round = 0;
  for (; round < 20 && found.ok(); ++round)
    found = check_cache_linearizable<StaleReadCache>(s + round, 4, 20'000,
                                                     CacheConfig{.key_space = 32, .capacity = 32},
                                                     /*may_evict=*/false);
  INFO("seed " << s << ", caught in round " << round << ":\n" << found.report());
  REQUIRE_FALSE(found.ok());
  // Single-threaded it is correct: the memo is invalidated by the thread's own writes.
  CP_REQUIRE_CLEAN(check_cache_matches_reference<StaleReadCache>(s, kMapConfig), s);
}

TEST_CASE("cache suite catches: a cache that holds more than its capacity",
          "[suite-catches-bugs]") {
  const auto s = seed();
  const Findings found = check_cache_concurrent_integrity<OverCapacityCache>(
      s, 1, 5'000, CacheConfig{.key_space = 512, .capacity = 64});
  INFO(found.report());
  REQUIRE_FALSE(found.ok());
  REQUIRE_FALSE(check_cache_eviction_order<OverCapacityCache>().ok());
}

TEST_CASE("cache suite catches: a put that accepts a corrupt value", "[suite-catches-bugs]") {
  const auto s = seed();
  const Findings found = check_cache_matches_reference<AcceptsCorruptCache>(s, kMapConfig);
  INFO(found.report());
  REQUIRE_FALSE(found.ok());
}

TEST_CASE("cache suite catches: a sharded cache that evicts although C >= N",
          "[suite-catches-bugs]") {
  // Deterministic: 32 keys hashed into 16 shards of 2 entries each overflow some shard.
  const auto s = seed();
  const Findings found = check_cache_linearizable<EvenSplitStripedCache>(
      s, 1, 5'000, CacheConfig{.key_space = 32, .capacity = 32}, /*may_evict=*/false);
  INFO(found.report());
  REQUIRE_FALSE(found.ok());
  REQUIRE_FALSE(check_cache_matches_reference<EvenSplitStripedCache>(s, kMapConfig).ok());
}
