// lock_pitfalls_test.cpp: lesson 03's cures work: copy-out publishes what holding the lock
// would have, never loses a refresh, and the global lock order completes every transfer.
// (The deadlock itself is tested in shows_bug_test.cpp.)
#include <catch2/catch.hpp>

#include <atomic>

#include "lessons/03-lock-pitfalls/deadlock.hpp"
#include "lessons/03-lock-pitfalls/slow_work.hpp"
#include "tests/support/findings.hpp"

using namespace cp::lessons;
using namespace std::chrono_literals;

TEST_CASE("l03: copy-out publishes the same prices as holding the lock", "[unit]") {
  PriceBook holding(50), copy_out(50);
  for (int i = 0; i < 20; ++i) {
    holding.refresh_holding_lock(0us);
    CHECK(copy_out.refresh_copy_out(0us));  // alone, a copy-out refresh always publishes
  }
  const auto [h, hv] = holding.snapshot();
  const auto [c, cv] = copy_out.snapshot();
  CHECK(hv == 20);
  CHECK(cv == 20);
  CHECK(h == c);
  CHECK(h[0] != 100);  // and something did change
}

// Two refreshers race with copy-out while readers take snapshots. A refresh computed from
// stale prices must be refused, so the final prices are exactly `version` reprices of the
// initial ones, and every snapshot a reader sees is one of those states.
TEST_CASE("l03: concurrent copy-out refreshes never lose an update", "[stress]") {
  constexpr std::size_t kItems = 20;
  constexpr int kPerRefresher = 150;
  std::vector<std::vector<Cents>> state_at{PriceBook(kItems).snapshot().first};
  for (int v = 1; v <= 2 * kPerRefresher; ++v) state_at.push_back(reprice(state_at.back(), 0us));

  PriceBook book(kItems);
  std::atomic<int> refreshers_done{0};
  std::atomic<std::uint64_t> refused{0}, bad_snapshots{0};
  cp::test::run_threads(4, [&](unsigned t) {
    if (t < 2) {
      for (int published = 0; published < kPerRefresher;) {
        if (book.refresh_copy_out(0us)) ++published;
        else refused.fetch_add(1, std::memory_order_relaxed);
      }
      refreshers_done.fetch_add(1, std::memory_order_relaxed);
    } else {
      while (refreshers_done.load(std::memory_order_relaxed) < 2) {
        const auto [prices, version] = book.snapshot();
        if (version >= state_at.size() || prices != state_at[version])
          bad_snapshots.fetch_add(1, std::memory_order_relaxed);
      }
    }
  });
  const auto [prices, version] = book.snapshot();
  CHECK(version == 2 * kPerRefresher);
  CHECK(prices == state_at.back());
  CHECK(bad_snapshots.load() == 0);
  INFO("stale refreshes refused: " << refused.load());
}

TEST_CASE("l03: latency histogram bounds are powers of two, capped by the maximum", "[unit]") {
  LatencyHistogram h;
  for (int i = 0; i < 98; ++i) h.record(100);  // bucket [64, 128)
  h.record(5'000);                              // bucket [4096, 8192)
  h.record(1'000'000);
  CHECK(h.count == 100);
  CHECK(h.upper_bound_ns(0.5) == 128);
  CHECK(h.upper_bound_ns(0.99) == 8192);
  CHECK(h.upper_bound_ns(1.0) == 1'000'000);
  CHECK(h.max_ns == 1'000'000);
}

TEST_CASE("l03: the reader measurement runs both refresh methods", "[stress]") {
  for (long long pace : {0, 50}) {
    INFO("pace " << pace << " us");
    const auto holding = measure_readers(Refresh::holding_lock, 2, 60ms, 2ms, 1ms,
                                         std::chrono::microseconds(pace));
    const auto copy = measure_readers(Refresh::copy_out, 2, 60ms, 2ms, 1ms,
                                      std::chrono::microseconds(pace));
    CHECK(holding.waits.count > 0);
    CHECK(copy.waits.count > 0);
    CHECK(holding.refreshes > 0);
    CHECK(copy.refreshes > 0);
  }
}

TEST_CASE("l03: transfers in one global lock order complete and conserve money", "[stress]") {
  Account a(1, "A", 1000), b(2, "B", 1000);
  run_transfers_in_global_order(a, b, 20'000, 7);
  CHECK(a.read_balance() == 1000);
  CHECK(b.read_balance() == 1000);

  // More threads, three accounts, every direction: a cycle A->B->C->A cannot deadlock either.
  Account x(1, "X", 0), y(2, "Y", 0), z(3, "Z", 0);
  Account* ring[] = {&x, &y, &z};
  cp::test::run_threads(6, [&](unsigned t) {
    Account& from = *ring[t % 3];
    Account& to = *ring[(t + (t < 3 ? 1 : 2)) % 3];
    for (int i = 0; i < 5'000; ++i) transfer_in_global_order(from, to, 1);
  });
  // Each account sends 5000 clockwise and 5000 anticlockwise, and receives the same.
  CHECK(x.read_balance() == 0);
  CHECK(y.read_balance() == 0);
  CHECK(z.read_balance() == 0);
}
