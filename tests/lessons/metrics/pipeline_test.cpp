// pipeline_test.cpp: lesson 09's pipeline under concurrency, against the sequential computation.
//
//   - exact: a seeded stream (malformed lines, NaN/inf, poisoned points) from several producers
//     ends in the store with the aggregates of a sequential fold, bit for bit, in both stores;
//     every invalid reason and every handler error is counted; the balance holds. A gauge's
//     value is compared where the order is kept (one producer, one validator, one aggregator:
//     FIFO queues from end to end); with more workers, everything but it.
//   - overload: tiny queues that drop, and a flooding producer: the balance holds, the store
//     holds exactly what was processed, no series more than it was sent.
//   - flusher: an injected clock decides when a window closes (no sleeping, no timing).
//   - shutdown while producers send: no hang, the balance holds, the final flush is done.
//   - queries through futures while the producers send: each answer is a consistent moment.
#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "comparisons/common/random.hpp"
#include "lessons/09-metrics-pipeline/pipeline.hpp"
#include "lessons/09-metrics-pipeline/store_owner.hpp"
#include "lessons/09-metrics-pipeline/store_rwlock.hpp"
#include "lessons/09-metrics-pipeline/stream_gen.hpp"
#include "tests/support/findings.hpp"

using namespace cp::metrics;

namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;

// The stream of producer p: its own seed, derived from the run's.
std::vector<GenLine> stream(std::uint64_t seed, unsigned producer, std::size_t n) {
  StreamConfig sc;
  sc.seed = cp::derive_seed(seed, producer);
  sc.now_ms = kNow;
  StreamGen gen(sc);
  std::vector<GenLine> lines;
  for (std::size_t i = 0; i < n; ++i) lines.push_back(gen.next());
  return lines;
}

PipelineConfig config() {
  PipelineConfig c;
  c.intake_capacity = 64;  // small, so the block policy really blocks
  c.validated_capacity = 64;
  c.validators = 2;
  c.aggregators = 3;
  c.rules.host = "test";
  c.poison_prefix = "poison.";
  c.flush_interval_ms = 0;  // flushed by hand
  return c;
}

std::size_t lines_per_producer() {
#ifdef CP_SANITIZED
  return 1500;
#else
  return 2500;
#endif
}

// Runs `producers` threads, each submitting its stream; returns the store's totals after stop.
template <class Store>
Window run_exact(Store& store, std::uint64_t seed, unsigned producers, Expected& expected,
                 StatsSnapshot& stats, const PipelineConfig& cfg = config()) {
  ManualClock clock(kNow);
  std::vector<std::vector<GenLine>> streams;
  for (unsigned p = 0; p < producers; ++p) {
    streams.push_back(stream(seed, p, lines_per_producer()));
    for (const auto& g : streams.back()) expected.add(g);
  }
  Pipeline<Store> pipeline(cfg, store, clock);
  // A reader queries while the producers send: every answer must be one consistent moment
  // (its series counts add up to its point count) and time must not run backwards.
  std::atomic<bool> sending{true};
  cp::test::Findings reader;
  std::thread querier([&] {
    std::uint64_t last = 0;
    while (sending.load(std::memory_order_relaxed)) {  // relaxed: a flag; the join orders the rest
      const StoreView v = pipeline.query({}).get();
      std::uint64_t in_view = 0;
      for (const auto& [key, agg] : totals(v)) in_view += agg.count;
      if (in_view != v.points)
        reader.fail("a view counts ", in_view, " in its series but ", v.points, " points");
      if (v.points < last) reader.fail("a later view has fewer points");
      last = v.points;
    }
  });
  cp::test::run_threads(producers, [&](unsigned p) {
    for (std::size_t i = 0; i < streams[p].size(); ++i) {
      pipeline.submit(streams[p][i].text);
      if (p == 0 && i == streams[p].size() / 2) pipeline.flush_now();  // one flush mid-stream
    }
  });
  sending.store(false, std::memory_order_relaxed);
  querier.join();
  CP_REQUIRE_CLEAN(reader, seed);
  pipeline.stop();
  pipeline.stop();  // a second stop is harmless
  stats = pipeline.stats();
  return totals(pipeline.query({}).get());
}

void check_exact(const Window& got, const Expected& want, const StatsSnapshot& s,
                 std::uint64_t seed, bool order_kept = false) {
  INFO("seed " << seed << " (rerun with CP_SEED=" << seed << ") " << s.summary());
  CHECK(s.balanced());
  CHECK(s.received == want.lines);
  CHECK(s.processed == want.valid);
  CHECK(s.errors == want.poisoned);
  CHECK(s.dropped() == 0);
  for (std::size_t r = 0; r < kInvalidReasons; ++r) {
    INFO("reason " << to_string(static_cast<Invalid>(r)));
    CHECK(s.invalid[r] == want.invalid[r]);
  }
  CHECK(s.flushes == 2);  // the mid-stream one and the final one
  REQUIRE(got.size() == want.totals.size());
  for (const auto& [key, agg] : want.totals) {
    INFO("series " << key);
    REQUIRE(got.count(key) == 1);
    const Aggregate& g = got.at(key);
    CHECK(g.count == agg.count);
    CHECK(g.sum == agg.sum);
    CHECK(g.min == agg.min);
    CHECK(g.max == agg.max);
    CHECK(g.timings == agg.timings);
    CHECK(g.sampled == agg.sampled);
    CHECK(g.members == agg.members);
    CHECK(g.has_gauge == agg.has_gauge);
    if (order_kept) CHECK(g.gauge == agg.gauge);
  }
}

}  // namespace

TEST_CASE("pipeline: exact aggregates and balance, rwlock store", "[stress]") {
  const auto seed = cp::test::seed();
  for (unsigned producers : {1u, 4u}) {
    RwlockStore<> store(StoreConfig{8, kNow});
    Expected want;
    StatsSnapshot stats;
    const Window got = run_exact(store, seed, producers, want, stats);
    check_exact(got, want, stats, seed);
  }
}

TEST_CASE("pipeline: exact aggregates and balance, owner store", "[stress]") {
  const auto seed = cp::test::seed();
  for (unsigned producers : {1u, 4u}) {
    OwnerStore store(StoreConfig{8, kNow}, 64);
    Expected want;
    StatsSnapshot stats;
    const Window got = run_exact(store, seed, producers, want, stats);
    check_exact(got, want, stats, seed);
  }
}

TEST_CASE("pipeline: both stores give identical results", "[stress]") {
  const auto seed = cp::test::seed() + 1;
  RwlockStore<> a(StoreConfig{8, kNow});
  OwnerStore b(StoreConfig{8, kNow}, 64);
  Expected want_a, want_b;
  StatsSnapshot stats_a, stats_b;
  const Window got_a = run_exact(a, seed, 3, want_a, stats_a);
  const Window got_b = run_exact(b, seed, 3, want_b, stats_b);
  INFO("seed " << seed);
  CHECK(order_free(got_a) == order_free(got_b));
  CHECK(stats_a.invalid == stats_b.invalid);
  CHECK(stats_a.processed == stats_b.processed);
  CHECK(stats_a.errors == stats_b.errors);
}

TEST_CASE("pipeline: in arrival order, each gauge ends at its last value and deltas, both stores",
          "[unit]") {
  const auto seed = cp::test::seed() + 2;
  PipelineConfig one = config();
  one.validators = 1;
  one.aggregators = 1;
  {
    RwlockStore<> store(StoreConfig{8, kNow});
    Expected want;
    StatsSnapshot stats;
    const Window got = run_exact(store, seed, 1, want, stats, one);
    check_exact(got, want, stats, seed, true);
  }
  {
    OwnerStore store(StoreConfig{8, kNow}, 64);
    Expected want;
    StatsSnapshot stats;
    const Window got = run_exact(store, seed, 1, want, stats, one);
    check_exact(got, want, stats, seed, true);
  }
}

TEST_CASE("pipeline: drop policy under a flood keeps the balance", "[stress]") {
  const auto seed = cp::test::seed() + 2;
  ManualClock clock(kNow);
  RwlockStore<> store(StoreConfig{8, kNow});
  PipelineConfig cfg = config();
  cfg.intake_capacity = 4;
  cfg.validated_capacity = 2;
  cfg.intake_policy = StagePolicy::drop;
  cfg.validated_policy = StagePolicy::drop;
  cfg.validators = 1;
  cfg.aggregators = 1;
  std::vector<std::vector<GenLine>> streams;
  Expected want;
  for (unsigned p = 0; p < 3; ++p) {
    streams.push_back(stream(seed, p, lines_per_producer()));
    for (const auto& g : streams.back()) want.add(g);
  }
  Pipeline<RwlockStore<>> pipeline(cfg, store, clock);
  cp::test::run_threads(3, [&](unsigned p) {
    for (const auto& g : streams[p]) pipeline.submit(g.text);
  });
  pipeline.stop();
  const StatsSnapshot s = pipeline.stats();
  const Window got = totals(pipeline.query({}).get());
  INFO("seed " << seed << " " << s.summary() << " dropped at intake " << s.dropped_intake
               << ", validated " << s.dropped_validated);
  CHECK(s.balanced());
  CHECK(s.received == want.lines);
  CHECK(s.refused_stopped == 0);
  CHECK(s.dropped() > 0);  // three producers against queues of 4 and 2: some drops
  std::uint64_t in_store = 0;
  for (const auto& [key, agg] : got) {
    in_store += agg.count;
    INFO("series " << key);
    REQUIRE(want.totals.count(key) == 1);
    CHECK(agg.count <= want.totals.at(key).count);
  }
  CHECK(in_store == s.processed);
}

TEMPLATE_TEST_CASE("flusher: windows close on the injected clock", "[unit]", RwlockStore<>,
                   OwnerStore) {
  ManualClock clock(kNow);
  TestType store(StoreConfig{2, kNow});
  Stats stats;
  Flusher<TestType> flusher(store, clock, 1000, stats);
  auto point = [](double v) {
    Point p;
    p.name = "x";
    p.value = v;
    return p;
  };
  store.add(point(1));
  clock.advance(999);
  CHECK_FALSE(flusher.tick());  // not yet due
  clock.advance(1);
  CHECK(flusher.tick());        // window [kNow, kNow + 1000)
  store.add(point(2));
  store.add(point(3));
  clock.advance(3500);          // late: one flush for the missed intervals
  CHECK(flusher.tick());
  CHECK_FALSE(flusher.tick());
  clock.advance(1000);
  CHECK(flusher.tick());        // an empty window is recorded too
  store.add(point(4));

  const StoreView v = store.query({"", true}).get();
  CHECK(stats.snapshot().flushes == 3);
  CHECK(v.flushes == 3);
  REQUIRE(v.history.size() == 2);  // history keeps 2; the first window is in the totals only
  CHECK(v.history[0].start_ms == kNow + 1000);
  CHECK(v.history[0].end_ms == kNow + 4500);
  CHECK(v.history[0].series.at("x|c|").sum == 5);
  CHECK(v.history[1].start_ms == kNow + 4500);
  CHECK(v.history[1].end_ms == kNow + 5500);
  CHECK(v.history[1].series.empty());
  CHECK(v.current_start_ms == kNow + 5500);
  CHECK(v.current.at("x|c|").sum == 4);
  CHECK(v.flushed_totals.at("x|c|").count == 3);
  const Window all = totals(v);
  CHECK(all.at("x|c|").count == 4);
  CHECK(all.at("x|c|").sum == 10);
  CHECK(all.at("x|c|").min == 1);
  CHECK(all.at("x|c|").max == 4);
  CHECK(v.points == 4);
}

TEMPLATE_TEST_CASE("pipeline: stop while producers are sending", "[stress]", RwlockStore<>,
                   OwnerStore) {
  const auto seed = cp::test::seed() + 3;
  ManualClock clock(kNow);
  TestType store(StoreConfig{4, kNow});
  PipelineConfig cfg = config();
  cfg.flush_interval_ms = 5;  // the flusher thread runs (on the manual clock, which we move)
  Pipeline<TestType> pipeline(cfg, store, clock);
  std::atomic<bool> stop_seen{false};
  std::atomic<std::uint64_t> accepted{0}, refused{0};
  std::vector<std::thread> producers;
  for (unsigned p = 0; p < 3; ++p)
    producers.emplace_back([&, p] {
      StreamConfig sc;
      sc.seed = cp::derive_seed(seed, p);
      sc.now_ms = kNow;
      StreamGen gen(sc);
      // Send until refused (the intake closed), then a few more to see them refused too.
      for (int after = 0; after < 10;) {
        const Intake r = pipeline.submit(gen.next().text);
        if (r == Intake::refused) {
          ++after;
          refused.fetch_add(1, std::memory_order_relaxed);  // a count; join orders it
          stop_seen.store(true, std::memory_order_relaxed);
        } else {
          accepted.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  // Let the producers get going, move the clock so the flusher has windows to close.
  while (pipeline.stats().received < 2000) {
    clock.advance(1);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  pipeline.stop();
  for (auto& t : producers) t.join();
  const StatsSnapshot s = pipeline.stats();
  const StoreView v = pipeline.query({}).get();
  INFO("seed " << seed << " " << s.summary());
  CHECK(stop_seen.load());
  CHECK(s.balanced());
  CHECK(s.received == accepted.load() + refused.load());
  CHECK(s.refused_stopped == refused.load());
  CHECK(s.processed > 0);
  CHECK(s.flushes >= 1);
  CHECK(v.flushes == s.flushes);
  CHECK(v.current.empty());  // the final flush took the last window
  std::uint64_t in_store = 0;
  for (const auto& [key, agg] : totals(v)) in_store += agg.count;
  CHECK(in_store == s.processed);
  CHECK(v.points == s.processed);
}

// ---- Exceptions from every user-supplied callable: the clock and the store -----------------
//
// Declared outcome: nothing kills a worker or escapes stop() or the destructor. A line whose
// clock read or store add throws is counted in `errors` (the line balance holds); a flush whose
// clock read or store flush throws is counted in `flush_errors` (the window stays open, the
// next tick tries again). The callables are seeded: call n throws iff a hash of (seed, n) says.

namespace {

bool seeded_throw(std::uint64_t seed, std::uint64_t call, unsigned percent) {
  return cp::Xoshiro256(cp::derive_seed(seed, call)).percent(percent);
}

// FlakyClock: 1 ms later on every read; once armed, some reads throw.
class FlakyClock final : public Clock {
 public:
  FlakyClock(std::uint64_t seed, unsigned percent) : seed_(seed), percent_(percent) {}
  std::int64_t now_ms() const override {
    // relaxed: call numbering and tallies, read after the pipeline's threads are joined.
    const std::uint64_t n = calls_.fetch_add(1, std::memory_order_relaxed);
    if (armed_.load(std::memory_order_relaxed) && seeded_throw(seed_, n, percent_)) {
      throws_.fetch_add(1, std::memory_order_relaxed);
      throw std::runtime_error("clock failed");
    }
    return kNow + static_cast<std::int64_t>(n);
  }
  void arm() { armed_.store(true, std::memory_order_relaxed); }
  std::uint64_t throws() const { return throws_.load(std::memory_order_relaxed); }

 private:
  std::uint64_t seed_;
  unsigned percent_;
  mutable std::atomic<std::uint64_t> calls_{0}, throws_{0};
  std::atomic<bool> armed_{false};
};

// FlakyStore: the rwlock store, with adds and flushes that throw (seeded) before touching it.
class FlakyStore {
 public:
  FlakyStore(std::uint64_t seed, unsigned add_pct, unsigned flush_pct)
      : inner_(StoreConfig{8, kNow}), seed_(seed), add_pct_(add_pct), flush_pct_(flush_pct) {}
  // relaxed everywhere: numbering and tallies, read after the pipeline's threads are joined.
  void add(const Point& p) {
    if (seeded_throw(seed_, 2 * adds_.fetch_add(1, std::memory_order_relaxed), add_pct_)) {
      add_throws_.fetch_add(1, std::memory_order_relaxed);
      throw std::runtime_error("store add failed");
    }
    inner_.add(p);
  }
  void flush(std::int64_t end_ms) {
    if (seeded_throw(seed_, 2 * flushes_.fetch_add(1, std::memory_order_relaxed) + 1,
                     flush_pct_)) {
      flush_throws_.fetch_add(1, std::memory_order_relaxed);
      throw std::runtime_error("store flush failed");
    }
    inner_.flush(end_ms);
  }
  std::future<StoreView> query(Query q) { return inner_.query(std::move(q)); }
  std::uint64_t add_throws() const { return add_throws_.load(std::memory_order_relaxed); }
  std::uint64_t flush_calls() const { return flushes_.load(std::memory_order_relaxed); }
  std::uint64_t flush_throws() const { return flush_throws_.load(std::memory_order_relaxed); }

 private:
  RwlockStore<> inner_;
  std::uint64_t seed_;
  unsigned add_pct_, flush_pct_;
  std::atomic<std::uint64_t> adds_{0}, add_throws_{0}, flushes_{0}, flush_throws_{0};
};

// Feeds two producers' streams through a pipeline with a flusher thread (5 ms polls).
template <class Store>
StatsSnapshot run_flaky(Store& store, Clock& clock, std::uint64_t seed, Expected& want,
                        bool poison, std::function<void()> armed = {}) {
  std::vector<std::vector<GenLine>> streams;
  for (unsigned p = 0; p < 2; ++p) {
    streams.push_back(stream(seed, p, lines_per_producer() / 4));
    for (const auto& g : streams.back()) want.add(g);
  }
  PipelineConfig cfg = config();
  cfg.flush_interval_ms = 5;
  if (!poison) cfg.poison_prefix.clear();
  Pipeline<Store> pipeline(cfg, store, clock);
  if (armed) armed();
  cp::test::run_threads(2, [&](unsigned p) {
    for (const auto& g : streams[p]) pipeline.submit(g.text);
  });
  pipeline.stop();  // must not throw, whatever the final flush met
  return pipeline.stats();
}

}  // namespace

TEST_CASE("faults: a throwing clock fails the line or the flush it dated, counted",
          "[interleaving]") {
  const auto seed = cp::test::seed() + 4;
  for (unsigned pct : {5u, 50u}) {
    FlakyClock clock(seed, pct);
    RwlockStore<> store(StoreConfig{8, kNow});
    Expected want;
    const StatsSnapshot s = run_flaky(store, clock, seed, want, false, [&] { clock.arm(); });
    INFO("seed " << seed << ", " << pct << "% " << s.summary());
    CHECK(s.balanced());
    CHECK(s.received == want.lines);
    CHECK(s.errors + s.flush_errors == clock.throws());  // each throw counted once
    CHECK(s.processed == store.query({}).get().points);
  }
}

TEST_CASE("faults: a store whose add or flush throws: counted, the workers carry on",
          "[interleaving]") {
  const auto seed = cp::test::seed() + 5;
  for (unsigned pct : {5u, 50u}) {
    FlakyClock clock(seed, 0);  // never throws; moves on with every read, so flushes fall due
    FlakyStore store(seed, pct, pct);
    Expected want;
    const StatsSnapshot s = run_flaky(store, clock, seed, want, true);
    INFO("seed " << seed << ", " << pct << "% " << s.summary());
    CHECK(s.balanced());
    CHECK(s.received == want.lines);
    CHECK(s.invalid == want.invalid);
    CHECK(s.errors == want.poisoned + store.add_throws());
    CHECK(s.processed == want.valid - store.add_throws());
    CHECK(s.processed == store.query({}).get().points);
    CHECK(s.flush_errors == store.flush_throws());
    CHECK(s.flushes + s.flush_errors == store.flush_calls());
    CHECK(s.flushes + s.flush_errors >= 1);  // the final flush was tried at least
  }
}

TEST_CASE("faults: a clock that throws while the pipeline starts: the constructor throws, "
          "no thread is left running",
          "[interleaving]") {
  FlakyClock clock(0, 100);
  clock.arm();  // the flusher's first read (its first due time) throws
  RwlockStore<> store(StoreConfig{8, kNow});
  PipelineConfig cfg = config();
  cfg.flush_interval_ms = 5;
  CHECK_THROWS_AS(Pipeline<RwlockStore<>>(cfg, store, clock), std::runtime_error);
}
