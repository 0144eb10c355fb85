// exact_counter_demo.hpp: the main shared by l01_mutex_counter and l01_atomic_counter: parse
// the arguments, hammer one counter from several threads, print whether the count is exact
// and what an increment cost. Exit code 0 when exact.
#pragma once

#include <cstdio>

#include "lessons/01-shared-state/counters.hpp"
#include "lessons/common/cli.hpp"

namespace cp::lessons {

template <class Counter>
int run_exact_counter_demo(const char* program, const char* summary, int argc, char** argv) {
  long long threads = 2, increments = 1'000'000;
  Cli cli(program, summary);
  cli.option("threads", threads, "threads incrementing the one counter", 1, 256)
      .option("increments", increments, "increments per thread", 1, 1'000'000'000);
  cli.parse(argc, argv);

  Counter counter;
  const auto elapsed = hammer(static_cast<unsigned>(threads), increments,
                              [&](unsigned) { counter.increment(); });
  const long long expected = threads * increments, counted = counter.get();
  std::printf("%lld threads x %lld increments: expected %lld, counted %lld -> %s\n", threads,
              increments, expected, counted, counted == expected ? "exact" : "WRONG");
  std::printf("wall time %.1f ms, %.1f ns per increment (all threads together)\n",
              elapsed.count() / 1e6, static_cast<double>(elapsed.count()) / expected);
  return counted == expected ? 0 : 1;
}

}  // namespace cp::lessons
