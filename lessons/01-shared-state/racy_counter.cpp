// racy_counter.cpp (target l01_racy_counter): SHOWS A BUG ON PURPOSE.
//
// Several threads increment one shared counter with "load, add one, store" as two steps.
// When two threads load the same value, both store value+1 and one increment is lost. The
// program prints how many increments were lost out of how many were made.
//
// The counter is a std::atomic used with relaxed loads and stores, so the program is
// well-defined C++ and the loss is an ordinary, observable outcome. With a plain `int` and
// `counter++` the same program would be a data race: undefined behaviour, which the compiler
// may turn into anything (counters.hpp and the lesson's README say more).
#include <cstdio>

#include "lessons/01-shared-state/counters.hpp"
#include "lessons/common/cli.hpp"

int main(int argc, char** argv) {
  long long threads = 2, increments = 10'000'000;
  bool widen = false;
  cp::lessons::Cli cli("l01_racy_counter",
                       "shows a shared counter losing updates when increments race");
  cli.option("threads", threads, "threads incrementing the one counter", 1, 256)
      .option("increments", increments, "increments per thread", 1, 1'000'000'000)
      .flag("widen", widen, "yield between the load and the store: losses even on one core");
  cli.parse(argc, argv);

  const auto r = cp::lessons::run_racy(static_cast<unsigned>(threads), increments, widen);
  std::printf("%lld threads x %lld increments: expected %lld, counted %lld\n", threads,
              increments, static_cast<long long>(r.expected), static_cast<long long>(r.counted));
  if (r.lost() > 0) {
    std::printf("LOST %lld updates (%.1f%% of all increments): two threads read the same value,\n"
                "both wrote value+1, and one increment vanished.\n",
                static_cast<long long>(r.lost()), 100.0 * r.lost() / r.expected);
  } else if (threads == 1) {
    std::printf("nothing lost: one thread cannot race with itself.\n");
  } else {
    std::printf("no update lost this time: the threads happened not to overlap (too few\n"
                "increments, or a busy machine). Run again with more --increments or --widen.\n");
  }
  return 0;
}

// How to run:
//   ./build/release/lessons/01-shared-state/l01_racy_counter
//   ./build/release/lessons/01-shared-state/l01_racy_counter --threads=4 --increments=100000
//   ./build/release/lessons/01-shared-state/l01_racy_counter --threads=1   (nothing is lost)
// What to expect: with 2 or more threads, a large share of the increments is lost (tens of
// percent on a 2-core machine); the exact number changes from run to run. With --threads=1
// the count is exact: the bug needs two threads. The default is 10 million increments per
// thread: a million take about a millisecond, less than a time slice, and on a busy machine
// the threads often do not overlap at all (nothing lost); ten million overlap in every run.
