// lin_test.cpp: the general linearizability checker on every cache design that declares
// linearizable reads (configured as a map, C >= N), and on broken caches it must reject.
#include <catch2/catch.hpp>

#include "comparisons/cache/designs.hpp"
#include "tests/conformance/cache/broken_cache.hpp"
#include "tests/conformance/cache/cache_lin.hpp"
#include "tests/support/design_test.hpp"

using namespace cp;
using namespace cp::test;

// Default suite: a few hundred histories per design; `ctest --preset long` runs 10,000.
constexpr unsigned kHistories = 300 / kSanitizerSlowdown;
constexpr unsigned kLongHistories = 10'000;

CP_DESIGN_TEST(cache_lin, "cache: recorded histories are linearizable (C >= N)", "[trait]",
               CacheDesigns) {
  if constexpr (TestType::traits.thread_safe && TestType::traits.linearizable_reads) {
    const auto s = seed();
    CP_REQUIRE_CLEAN(check_cache_histories<TestType>(s, kHistories), s);
  }
}

CP_DESIGN_TEST(cache_lin_long, "cache: 10,000 recorded histories are linearizable (C >= N)",
               "[long]", CacheDesigns) {
  if constexpr (TestType::traits.thread_safe && TestType::traits.linearizable_reads) {
    const auto s = seed();
    CP_REQUIRE_CLEAN(check_cache_histories<TestType>(s, kLongHistories), s);
  }
}

TEST_CASE("linearizability checker catches the broken caches", "[suite-catches-bugs]") {
  const auto s = seed();
  lin::HistoryTally<CacheModel::Input, CacheModel::Output> tally;
  SECTION("a per-thread read memo (stale reads)") {
    const Findings f = check_cache_histories<StaleReadCache>(s, 300, &tally);
    INFO("seed " << s << "\n" << f.report());
    CHECK(tally.failed > 0);
  }
  SECTION("a put that accepts a corrupt value") {
    const Findings f = check_cache_histories<AcceptsCorruptCache>(s, 100, &tally);
    INFO("seed " << s << "\n" << f.report());
    CHECK(tally.failed > 0);
  }
  SECTION("shards that evict although C >= N") {
    // 8 keys, capacity 8, split over 16 shards of one entry: two of the 8 keys share a shard,
    // and putting one evicts the other.
    const CacheModel eight{.config = {.key_space = 8, .capacity = 8}};
    const Findings f = check_cache_histories<EvenSplitStripedCache>(s, 300, &tally, eight);
    INFO("seed " << s << "\n" << f.report());
    CHECK(tally.failed > 0);
  }
  SECTION("two writes reordered, one put in a thousand") {
    // About 5 puts per history: a reorder every ~200 histories, caught when a later get or
    // the overwritten value shows it.
    const Findings f = check_cache_histories<RareReorderCache>(s, 4'000, &tally);
    INFO("seed " << s << "\n" << f.report());
    CHECK(tally.failed > 0);
    CHECK(tally.failed < tally.histories / 10);  // rare indeed: most histories are fine
  }
  WARN("smallest failing history (" << tally.smallest_failing.size() << " calls, seed "
                                    << tally.smallest_seed << "):\n"
                                    << lin::format_history(CacheModel{}, tally.smallest_failing));
}
