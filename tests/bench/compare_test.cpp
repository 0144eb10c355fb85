// compare_test.cpp: the runner and the `compare` command end to end, on the counter workload
// with tiny durations.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/harness/compare_app.hpp"
#include "bench/harness/design_rows_of.hpp"
#include "bench/harness/runner.hpp"
#include "comparisons/counter/designs.hpp"
#include "comparisons/counter/driver.hpp"
#include "comparisons/counter/mutex_counter.hpp"
#include "tests/support/findings.hpp"
#include "tests/support/run_command.hpp"

namespace {

constexpr double kTinySeconds = 0.02;

// A race-free but wrong counter: it drops every add to key 0 (the hottest Zipf key).
class DropsKeyZeroCounter {
 public:
  static constexpr cp::DesignTraits traits{
      .name = "drops-key-0",
      .family = cp::Family::mutex,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = cp::Waiting::blocks,
  };
  explicit DropsKeyZeroCounter(cp::CounterConfig config) : inner_(config) {}
  cp::CounterError add(std::uint32_t key, std::int64_t delta) {
    return key == 0 ? cp::CounterError::ok : inner_.add(key, delta);
  }
  cp::CounterRead get(std::uint32_t key) { return inner_.get(key); }
  std::int64_t total() { return inner_.total(); }
  std::uint32_t keys() const { return inner_.keys(); }

 private:
  cp::MutexCounter inner_;
};

// A counter whose add throws: the runner must turn it into a failed verdict, not a crash.
class ThrowingCounter : public DropsKeyZeroCounter {
 public:
  static constexpr cp::DesignTraits traits{
      .name = "throws",
      .family = cp::Family::mutex,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = cp::Waiting::blocks,
  };
  using DropsKeyZeroCounter::DropsKeyZeroCounter;
  cp::CounterError add(std::uint32_t, std::int64_t) { throw std::runtime_error("boom"); }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

int count_lines(const std::string& path) {
  std::ifstream in(path);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}


}  // namespace

TEST_CASE("runner: every counter design passes its check at 1 and 2 threads", "[unit]") {
  const std::uint64_t seed = cp::test::seed();
  cp::bench::for_each_design<cp::CounterDesigns>([&]<class D>() {
    for (unsigned threads : {1u, 2u}) {
      if (!D::traits.thread_safe && threads > 1) continue;
      const auto r = cp::bench::run_closed_loop<cp::CounterDriver<D>>(cp::CounterParams{},
                                                                      threads, kTinySeconds, seed);
      INFO(D::traits.name << " x" << threads << " seed " << seed << ": " << r.verdict.detail);
      REQUIRE(r.verdict.passed);
      REQUIRE(r.design == D::traits.name);
      REQUIRE(r.workload == "counter");
      REQUIRE(r.threads == threads);
      REQUIRE(r.ops > 0);
      REQUIRE(r.ops % cp::bench::kOpsPerStopCheck == 0);
      // The latency pass (after the untimed window) recorded whole rounds of timed calls.
      REQUIRE(r.histogram.count() > 0);
      REQUIRE(r.histogram.count() % cp::bench::kOpsPerStopCheck == 0);
      REQUIRE(r.predrawn);  // the counter driver draws ahead: the window cycled its buffer
      REQUIRE(r.wall_seconds >= kTinySeconds);
      REQUIRE(r.throughput == Approx(r.ops / r.wall_seconds));
      REQUIRE(r.latency.p50 <= r.latency.p99);
      REQUIRE(r.latency.p99 <= r.latency.p999);
      REQUIRE(r.latency.p999 <= r.latency.max);
      REQUIRE_FALSE(r.params.empty());
    }
  });
}

TEST_CASE("runner: rejects bad arguments and runs the reference at 1 thread only", "[unit]") {
  using RefDriver = cp::CounterDriver<cp::CounterReference>;
  using MutexDriver = cp::CounterDriver<cp::MutexCounter>;
  REQUIRE_THROWS_AS(cp::bench::run_closed_loop<RefDriver>({}, 2, kTinySeconds, 1),
                    std::invalid_argument);
  REQUIRE_THROWS_AS(cp::bench::run_closed_loop<MutexDriver>({}, 0, kTinySeconds, 1),
                    std::invalid_argument);
  REQUIRE_THROWS_AS(cp::bench::run_closed_loop<MutexDriver>({}, 1, 0.0, 1),
                    std::invalid_argument);
  REQUIRE_THROWS_AS(cp::bench::run_closed_loop<MutexDriver>({}, 1, -1.0, 1),
                    std::invalid_argument);
}

TEST_CASE("runner: a wrong design fails its verdict, a throwing design fails without a crash",
          "[unit]") {
  const auto wrong = cp::bench::run_closed_loop<cp::CounterDriver<DropsKeyZeroCounter>>(
      {}, 2, kTinySeconds, cp::test::seed());
  INFO(wrong.verdict.detail);
  REQUIRE_FALSE(wrong.verdict.passed);
  REQUIRE(contains(wrong.verdict.detail, "keys off="));

  const auto throws = cp::bench::run_closed_loop<cp::CounterDriver<ThrowingCounter>>(
      {}, 2, kTinySeconds, cp::test::seed());
  REQUIRE_FALSE(throws.verdict.passed);
  REQUIRE(contains(throws.verdict.detail, "boom"));
}

TEST_CASE("compare: counter end to end prints a passing table and writes CSV", "[unit]") {
  const std::string csv_path =
      (std::filesystem::temp_directory_path() /
       ("compare_test_counter_" + std::to_string(getpid()) + ".csv"))
          .string();
  std::ostringstream out, progress;
  const int status = cp::bench::run_compare(
      {"--workload", "counter", "--seconds", "0.02", "--repeats", "2", "--threads", "1,2",
       "--load", "closed", "--csv", csv_path},
      out, progress);
  const std::string text = out.str();
  INFO(text << "\n--- progress ---\n" << progress.str());
  REQUIRE(status == 0);
  for (const char* part : {"timer floor:", "machine:", "build:", "deadlock detection OFF",
                           "== counter ==", "keys=64", "design", "threads", "ops/s", "p50", "p99",
                           "vs ref", "check", "reference", "mutex", "harness", "1.00x",
                           "pass", "all passed"})
    REQUIRE(contains(text, part));
  REQUIRE_FALSE(contains(text, "FAIL"));

  // Rows: the reference at 1 thread, each other design (and batch row) at 1 and 2 threads; plus
  // the header.
  std::size_t designs = std::tuple_size_v<cp::bench::CounterWorkload::DesignRegistry>;
  const int expected_rows = 1 + 2 * static_cast<int>(designs - 1);
  REQUIRE(count_lines(csv_path) == 1 + expected_rows);
  const std::string runs = std::to_string(2 * expected_rows);  // 2 repetitions each
  REQUIRE(contains(progress.str(), "[" + runs + "/" + runs + "]"));
  std::remove(csv_path.c_str());
}

// Closed rows are repetitions run round-robin over the designs (and, within a design, its thread
// counts): round 1 runs every row once, then round 2, ... The progress lines show the order.
TEST_CASE("compare: closed-row repetitions are interleaved across designs", "[unit]") {
  std::ostringstream out, progress;
  const int status = cp::bench::run_compare(
      {"--workload", "counter", "--design", "reference,mutex,rwlock-std", "--seconds", "0.005",
       "--repeats", "3", "--threads", "1,2", "--load", "closed"},
      out, progress);
  INFO(out.str() << "\n--- progress ---\n" << progress.str());
  REQUIRE(status == 0);
  std::vector<std::string> order;  // "<design> x<threads> <round>" per progress line
  std::istringstream lines(progress.str());
  for (std::string line; std::getline(lines, line);) {
    const auto name_at = line.find("] counter ") + 10;
    const auto closed_at = line.find(" closed (round ");
    REQUIRE(closed_at != std::string::npos);
    order.push_back(line.substr(name_at, closed_at - name_at) + " " +
                    line.substr(closed_at + 15, 1));
  }
  std::vector<std::string> expected;
  for (const char* round : {"1", "2", "3"})
    for (const char* row : {"reference x1", "mutex x1", "mutex x2", "rwlock-std x1",
                            "rwlock-std x2"})
      expected.push_back(std::string(row) + " " + round);
  REQUIRE(order == expected);
  // One table row per design and thread count (not per repetition), a median of 3.
  REQUIRE(contains(out.str(), "median of 3 interleaved repetitions"));
  REQUIRE(contains(out.str(), "5 rows (15 runs)"));
}

// The single-writer.wait knob runs the single-writer designs with the named strategy (their
// rows' params say which); the other designs are unchanged.
TEST_CASE("compare: single-writer.wait picks the designs' wait strategy", "[unit]") {
  const std::string csv_path =
      (std::filesystem::temp_directory_path() /
       ("compare_test_wait_" + std::to_string(getpid()) + ".csv"))
          .string();
  std::ostringstream out, progress;
  const int status = cp::bench::run_compare(
      {"--workload", "counter", "--design", "reference,single-writer", "--seconds", "0.02",
       "--threads", "1", "--load", "closed", "--set", "single-writer.wait=blocking", "--csv",
       csv_path},
      out, progress);
  INFO(out.str() << "\n--- progress ---\n" << progress.str());
  REQUIRE(status == 0);
  REQUIRE(contains(out.str(), "single-writer.wait=blocking"));
  // The row's params name the strategy of the instantiation that ran (D::wait_strategy::name),
  // so they show whether the knob reached the dispatch.
  std::ifstream csv(csv_path);
  std::string line, sw_row;
  while (std::getline(csv, line))
    if (contains(line, ",single-writer,")) sw_row = line;  // its design (and family) column
  std::remove(csv_path.c_str());
  REQUIRE(contains(sw_row, "wait=blocking"));
  using Blocking = cp::SingleWriterCounter::with_wait<cp::sw::BlockingWaitStrategy>;
  STATIC_REQUIRE(std::is_same_v<Blocking::wait_strategy, cp::sw::BlockingWaitStrategy>);
  STATIC_REQUIRE(std::is_same_v<cp::SingleWriterCounter::wait_strategy,
                                cp::sw::PhasedBackoffWaitStrategy>);
  STATIC_REQUIRE(cp::bench::kTakesWaitStrategy<cp::SingleWriterCounter>);
  STATIC_REQUIRE_FALSE(cp::bench::kTakesWaitStrategy<cp::MutexCounter>);
}

TEST_CASE("compare: the executable's exit status: 2 for bad usage, 0 for --list/--help",
          "[unit]") {
  const std::string compare = CP_COMPARE_PATH;
  for (const char* bad :
       {"--workload nonesuch", "--design nonesuch", "--threads 0", "--threads x", "--seconds 0",
        "--seconds -1", "--frobnicate", "--profile fast", "--load sideways", "--rates 0",
        "--rates 50,x", "--open-threads 0", "--set counter.keys=0", "--set nonesuch.knob=1",
        "--set counter.theta=1.5", "--set cache.mix=mixed", "--out", "--csv", "--out=",
        "--csv /nonexistent-dir/x.csv", "--out /proc/version/sub", "--list=1", "counter"}) {
    // Exit 2, and exactly one line on stderr that names the program.
    const auto [status, output] = cp::test::run_command(compare + " " + bad + " 2>&1 >/dev/null");
    INFO(bad << " -> " << output);
    REQUIRE(status == 2);
    REQUIRE(output.rfind("compare: ", 0) == 0);
    REQUIRE(std::count(output.begin(), output.end(), '\n') == 1);
  }
  const auto [list_status, list] = cp::test::run_command(compare + " --list");
  REQUIRE(list_status == 0);
  REQUIRE(contains(list, "counter:"));
  REQUIRE(contains(list, "reference"));
  REQUIRE(contains(list, "single-thread only"));
  const auto [help_status, help] = cp::test::run_command(compare + " --help");
  REQUIRE(help_status == 0);
  REQUIRE(contains(help, "usage: compare"));
  const auto [run_status, table] =
      cp::test::run_command(compare + " --workload counter --design mutex --threads 2 --seconds 0.02 "
                            "--repeats 1 --load closed 2>&1");
  REQUIRE(run_status == 0);
  REQUIRE(contains(table, "[1/1] counter mutex x2 closed (round 1/1)"));
  REQUIRE(contains(table, "(vs ref: no 1-thread reference row in this run)"));
}
