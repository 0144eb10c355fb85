// mutex_counter.cpp (target l01_mutex_counter): the first fix for the lost updates.
//
// The same workload as l01_racy_counter, but each increment happens inside a cp::Mutex, so
// the read and the write of one increment can no longer be separated by another thread's.
// The program prints the count (always exact) and what an increment cost.
#include <cstdio>

#include "lessons/01-shared-state/counters.hpp"
#include "lessons/common/cli.hpp"

int main(int argc, char** argv) {
  long long threads = 2, increments = 1'000'000;
  cp::lessons::Cli cli("l01_mutex_counter", "the racy counter fixed with a mutex: exact");
  cli.option("threads", threads, "threads incrementing the one counter", 1, 256)
      .option("increments", increments, "increments per thread", 1, 1'000'000'000);
  cli.parse(argc, argv);

  cp::lessons::MutexCounter counter;
  const auto elapsed = cp::lessons::hammer(static_cast<unsigned>(threads), increments,
                                           [&](unsigned) { counter.increment(); });
  const long long expected = threads * increments, counted = counter.get();
  std::printf("%lld threads x %lld increments: expected %lld, counted %lld -> %s\n", threads,
              increments, expected, counted, counted == expected ? "exact" : "WRONG");
  std::printf("wall time %.1f ms, %.1f ns per increment (all threads together)\n",
              elapsed.count() / 1e6, static_cast<double>(elapsed.count()) / expected);
  return counted == expected ? 0 : 1;
}

// How to run:
//   ./build/release/lessons/01-shared-state/l01_mutex_counter --threads=4
// What to expect: "exact" every time. Compare the ns per increment with --threads=1: with
// more threads each increment costs several times more, because the lock's cache line moves
// between cores and waiting threads sleep and wake (l01_cost_bench measures it properly).
