// slow_work_demo.cpp (target l03_slow_work_under_lock): a lock held across slow work.
//
// A price book behind one mutex serves lookups from reader threads, while a refresher
// periodically recomputes every price with slow work (a sleep standing for a call to a
// pricing service). Run 1 does the slow work while holding the lock; run 2 copies the prices
// out under the lock, computes with no lock held, and reacquires the lock to publish. The
// program prints, for each, how many lookups the readers managed per second and how long a
// lookup waited (p50, p99, p99.9, max): the cost that the lock holder puts on everyone else.
#include <cstdio>

#include "lessons/03-lock-pitfalls/slow_work.hpp"
#include "lessons/common/cli.hpp"

namespace {

std::string human(std::int64_t ns) {
  char buf[32];
  if (ns < 10'000) std::snprintf(buf, sizeof buf, "%lld ns", static_cast<long long>(ns));
  else if (ns < 1'000'000) std::snprintf(buf, sizeof buf, "%.0f us", ns / 1e3);
  else std::snprintf(buf, sizeof buf, "%.1f ms", ns / 1e6);
  return buf;
}

std::string bound(std::int64_t ns) { return "<" + human(ns); }

// One row: throughput from the closed-loop run, latency from the paced (open-loop) run.
void print_row(const char* label, const cp::lessons::ReaderReport& fast,
               const cp::lessons::ReaderReport& paced) {
  std::printf("  %-17s %11.0f %9s | %10.0f %9s %9s %9s %9s\n", label, fast.lookups_per_second(),
              human(fast.waits.max_ns).c_str(), paced.lookups_per_second(),
              bound(paced.waits.upper_bound_ns(0.50)).c_str(),
              bound(paced.waits.upper_bound_ns(0.99)).c_str(),
              bound(paced.waits.upper_bound_ns(0.999)).c_str(), human(paced.waits.max_ns).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  long long readers = 1, run_ms = 1000, slow_ms = 20, pause_ms = 5, pace_us = 20;
  cp::lessons::Cli cli("l03_slow_work_under_lock",
                       "what holding a lock across slow work costs the other threads");
  cli.option("readers", readers, "threads looking prices up", 1, 64)
      .option("run-ms", run_ms, "how long each of the four runs lasts", 10, 600'000)
      .option("slow-ms", slow_ms, "the slow work of one refresh", 1, 10'000)
      .option("pause-ms", pause_ms, "pause between refreshes", 0, 10'000)
      .option("pace-us", pace_us, "paced runs: one lookup per reader every N us", 1, 1'000'000);
  cli.parse(argc, argv);

  using std::chrono::microseconds, std::chrono::milliseconds;
  using cp::lessons::Refresh;
  std::printf("%lld reader(s) look prices up for %lld ms; a refresher does %lld ms of slow work,\n"
              "then pauses %lld ms, again and again.\n"
              "Left: readers as fast as they can (closed loop). Right: each reader offers one\n"
              "lookup every %lld us, timed from when it was due (open loop).\n",
              readers, run_ms, slow_ms, pause_ms, pace_us);
  std::printf("  %-17s %11s %9s | %10s %9s %9s %9s %9s\n", "refresh", "lookups/s", "max wait",
              "lookups/s", "p50", "p99", "p99.9", "max");
  const auto run = [&](Refresh how, long long pace) {
    return cp::lessons::measure_readers(how, static_cast<unsigned>(readers), milliseconds(run_ms),
                                        microseconds(slow_ms * 1000), microseconds(pause_ms * 1000),
                                        microseconds(pace));
  };
  const auto holding_fast = run(Refresh::holding_lock, 0);
  const auto holding_paced = run(Refresh::holding_lock, pace_us);
  print_row("holding the lock", holding_fast, holding_paced);
  const auto copy_fast = run(Refresh::copy_out, 0);
  const auto copy_paced = run(Refresh::copy_out, pace_us);
  print_row("copy-out", copy_fast, copy_paced);
  std::printf("copy-out: %.1fx the lookups as fast as possible; paced p99 %s instead of %s.\n",
              copy_fast.lookups_per_second() / holding_fast.lookups_per_second(),
              bound(copy_paced.waits.upper_bound_ns(0.99)).c_str(),
              bound(holding_paced.waits.upper_bound_ns(0.99)).c_str());
  return 0;
}

// How to run:
//   ./build/release/lessons/03-lock-pitfalls/l03_slow_work_under_lock
//   ./build/release/lessons/03-lock-pitfalls/l03_slow_work_under_lock --slow-ms=50 --pause-ms=0
// One reader by default: reader + refresher fit the 2 cores of the machines measured here;
// with --readers=2 the threads outnumber the cores and preemption adds noise to both rows.
// What to expect: holding the lock, readers get through only while the refresher pauses, so
// the closed-loop lookups/s drop several times and the longest wait is about --slow-ms; the
// paced run shows what that means for callers: p50 and p99 of milliseconds, because most
// lookups fall due while a refresh holds the lock. With copy-out the longest closed-loop wait
// is microseconds (one copy of 1000 prices, plus scheduling noise) and the paced percentiles
// stay in the microseconds. Percentiles are power-of-two bucket bounds ("<64 us"), accurate
// to a factor of two. Both refresh methods publish the same prices (the tests check it).
