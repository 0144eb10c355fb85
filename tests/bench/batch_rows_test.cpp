// batch_rows_test.cpp: the comparison's work-stealing batch rows (bench/harness/batch_rows.hpp):
// they count commands, not calls; their check is the workload's own and can fail; a command
// that fails inside a batch fails the row; `compare` labels them and explains the label.
#include <catch2/catch.hpp>

#include <cstdint>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/harness/batch_rows.hpp"
#include "bench/harness/compare_app.hpp"
#include "bench/harness/open_loop.hpp"
#include "bench/harness/runner.hpp"
#include "tests/support/findings.hpp"

namespace {

using cp::bench::BatchDriver;
using cp::bench::BatchRow;
using cp::bench::CacheBatchAdapter;
using cp::bench::CounterBatchAdapter;
using cp::bench::OrderBatchAdapter;

constexpr double kTinySeconds = 0.05;
// The closed rows below run a count of batches, not a duration: each client runs exactly
// kCallsPerClient batches untimed, then as many timed, however slow the build (TSan) or the
// machine is. A duration let a slow batch decide how many batches a window held.
constexpr std::uint64_t kCallsPerClient = 6;
const cp::bench::RunOptions kCounted{.calls_per_client = kCallsPerClient};

// Answers every add as applied but drops the adds to key 0 (the hottest Zipf key).
class DropsKeyZeroInBatches : public cp::WorkStealingCounter {
 public:
  using WorkStealingCounter::WorkStealingCounter;
  std::vector<cp::ws::BatchReply<cp::CounterRead>> run_batch(
      std::span<const cp::CounterBatchCommand> batch) {
    std::vector<cp::CounterBatchCommand> changed(batch.begin(), batch.end());
    for (auto& c : changed)
      if (c.op == cp::CounterBatchOp::add && c.key == 0) c.delta = 0;
    return WorkStealingCounter::run_batch(changed);
  }
};

// Its handler throws on the 8th command of every batch (the design's test hook).
class ThrowsInBatches : public cp::WorkStealingCounter {
 public:
  explicit ThrowsInBatches(cp::CounterConfig config)
      : WorkStealingCounter(config, cp::ws::DesignOptions{.arena_threads = 2, .hook = [](std::size_t i) {
                              if (i == 7) throw std::runtime_error("bad command");
                            }}) {}
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

template <class Row>
void check_counts(const typename BatchDriver<Row>::Params& params, unsigned threads) {
  const std::uint64_t seed = cp::test::seed();
  const auto r = cp::bench::run_closed_loop<BatchDriver<Row>>(params, threads, kTinySeconds, seed,
                                                              kCounted);
  INFO(r.workload << " x" << threads << " seed " << seed << ": " << r.verdict.detail);
  REQUIRE(r.verdict.passed);
  REQUIRE(r.design == "work-stealing batch");
  REQUIRE(r.batched);
  REQUIRE(r.commands_per_call == params.batch);
  // The latency pass records one entry per batch...
  REQUIRE(r.histogram.count() == threads * kCallsPerClient);
  // ...and the throughput pass's ops count its commands.
  REQUIRE(r.ops == threads * kCallsPerClient * params.batch);
  REQUIRE(r.throughput == Approx(r.ops / r.wall_seconds));
  REQUIRE(contains(r.params, "batch=" + std::to_string(params.batch)));
}

}  // namespace

TEST_CASE("batch rows: ops count commands, the histogram counts batches", "[unit]") {
  for (unsigned threads : {1u, 2u}) {
    check_counts<BatchRow<cp::WorkStealingCounter, CounterBatchAdapter>>(
        cp::CounterParams{.batch = 64}, threads);
    check_counts<BatchRow<cp::WorkStealingCache, CacheBatchAdapter>>(
        cp::CacheParams{.key_space = 2000, .capacity = 500, .batch = 64}, threads);
    check_counts<BatchRow<cp::WorkStealingOrderEngine, OrderBatchAdapter>>(
        cp::OrderParams{.prefill_per_side = 8, .batch = 64}, threads);
  }
}

TEST_CASE("batch rows: the workload's check runs on the batch replies and can fail", "[unit]") {
  const std::uint64_t seed = cp::test::seed();
  const auto wrong = cp::bench::run_closed_loop<
      BatchDriver<BatchRow<DropsKeyZeroInBatches, CounterBatchAdapter>>>(
      cp::CounterParams{.batch = 64}, 2, kTinySeconds, seed, kCounted);
  INFO("seed " << seed << ": " << wrong.verdict.detail);
  REQUIRE_FALSE(wrong.verdict.passed);
  REQUIRE(contains(wrong.verdict.detail, "keys off="));

  const auto failing = cp::bench::run_closed_loop<
      BatchDriver<BatchRow<ThrowsInBatches, CounterBatchAdapter>>>(
      cp::CounterParams{.batch = 64}, 1, kTinySeconds, seed, kCounted);
  INFO(failing.verdict.detail);
  REQUIRE_FALSE(failing.verdict.passed);
  REQUIRE(contains(failing.verdict.detail, "commands failed in a batch"));
  // The failed command changed nothing: the rest of the check still holds.
  REQUIRE(contains(failing.verdict.detail, "exact:"));
}

TEST_CASE("batch rows: an open row's schedule is in batches, its rate in commands", "[unit]") {
  const std::uint64_t seed = cp::test::seed();
  using Driver = BatchDriver<BatchRow<cp::WorkStealingCounter, CounterBatchAdapter>>;
  const double offered = 64 * 200.0;  // 200 batches of 64 a second
  const auto r = cp::bench::run_open_loop<Driver>(cp::CounterParams{.batch = 64}, 1, offered, 0.2,
                                                  seed);
  INFO("seed " << seed << ": " << r.verdict.detail);
  REQUIRE(r.verdict.passed);
  REQUIRE(r.offered_rate == offered);
  REQUIRE(r.ops % 64 == 0);
  REQUIRE(r.histogram.count() * 64 == r.ops + r.unissued);
  REQUIRE(r.ops + r.unissued <= 64 * (40 + 1));  // 0.2 s x 200 batches/s, give or take an edge
}

TEST_CASE("compare: batch rows are labelled, explained and compared with the reference",
          "[unit]") {
  std::ostringstream out, progress;
  const int status = cp::bench::run_compare(
      {"--workload", "counter", "--design", "reference,work-stealing batch", "--seconds", "0.02",
       "--repeats", "2", "--threads", "1", "--load", "closed", "--set",
       "work-stealing.batch=128"},
      out, progress);
  const std::string text = out.str();
  INFO(text << "\n--- progress ---\n" << progress.str());
  REQUIRE(status == 0);
  REQUIRE(contains(text, "work-stealing batch#"));
  REQUIRE(contains(text, "# batch row: each call hands over a batch of 128 commands"));
  REQUIRE(contains(text, "ops/s counts\ncommands"));
  REQUIRE(contains(text, "2 rows (4 runs)"));
  // Its vs ref is a number (the reference row ran in the same interleaved rounds).
  std::istringstream lines(text);
  bool found = false;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("work-stealing batch#", 0) == 0) {
      found = true;
      // "?" after the x: the repetitions' spread was wide (a slow sanitizer build, a loaded
      // machine); the value is still a ratio.
      REQUIRE((contains(line, "x  pass") || contains(line, "x?  pass")));
    }
  REQUIRE(found);

  std::ostringstream bad_out, bad_progress;
  REQUIRE(cp::bench::run_compare({"--set", "work-stealing.batch=0"}, bad_out, bad_progress) == 2);
  REQUIRE(contains(bad_progress.str(), "work-stealing.batch"));
}
