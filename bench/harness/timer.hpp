// timer.hpp: the clock every timed operation uses, and the timer floor it imposes.
//
//   BenchClock          - std::chrono::steady_clock (vDSO clock_gettime: ~15-30 ns a call on the
//                         2-core machines here): windows, warm-ups and open-loop timetables.
//                         The closed rows' latency passes read LatencyTimer instead (rdtscp
//                         where the TSC is invariant and monotonic across the cores, else this
//                         clock: latency_clock.hpp).
//   elapsed_ns          - nanoseconds between two readings.
//   measure_timer_floor - the p50 of timing an empty operation through the same histogram and
//                         LatencyTimer: the smallest latency a closed row can show. Results
//                         print it; a p50 within a few floors measures mostly the clock.
//   measure_steady_clock_floor - the same with steady_clock: the floor of programs that time
//                         with BenchClock (queue_compare, stack_compare).
#pragma once

#include <chrono>
#include <cstdint>
#include <ratio>

#include "bench/harness/histogram.hpp"
#include "bench/harness/latency_clock.hpp"

namespace cp::bench {

using BenchClock = std::chrono::steady_clock;
static_assert(BenchClock::is_steady);

inline std::uint64_t elapsed_ns(BenchClock::time_point start, BenchClock::time_point end) {
  // libstdc++'s steady_clock already counts nanoseconds, so the cast below is free.
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
}

struct TimerFloor {
  std::uint64_t p50_ns = 0;
  std::uint64_t p99_ns = 0;
  double mean_ns = 0;
  std::uint64_t samples = 0;
};

// measure_timer_floor: times `samples` empty operations exactly as a latency pass times one
// design call (two LatencyTimer readings around it, recorded into a LatencyHistogram).
inline TimerFloor measure_timer_floor(std::uint64_t samples = 200'000) {
  LatencyHistogram histogram;
  const LatencyTimer timer;
  for (std::uint64_t i = 0; i < samples; ++i) {
    const std::uint64_t t0 = timer.now();
    asm volatile("" ::: "memory");  // the empty operation: keeps the two reads apart
    histogram.record(timer.elapsed_ns(t0, timer.now()));
  }
  return {histogram.value_at_percentile(50), histogram.value_at_percentile(99), histogram.mean(),
          histogram.count()};
}

// measure_steady_clock_floor: the same with two BenchClock (steady_clock) readings: the floor of
// the programs that time with BenchClock directly (bench/queues, bench/stack), whatever clock
// the latency passes of `compare` chose.
inline TimerFloor measure_steady_clock_floor(std::uint64_t samples = 200'000) {
  LatencyHistogram histogram;
  for (std::uint64_t i = 0; i < samples; ++i) {
    const auto t0 = BenchClock::now();
    asm volatile("" ::: "memory");
    histogram.record(elapsed_ns(t0, BenchClock::now()));
  }
  return {histogram.value_at_percentile(50), histogram.value_at_percentile(99), histogram.mean(),
          histogram.count()};
}

}  // namespace cp::bench
