// gbench.hpp: Google Benchmark front-end over the same closed-loop runner as `compare`.
//
//   register_closed_loop_benchmarks(workload) - one benchmark per table x design x thread count.
//   gbench_main                               - the main() of bench/<workload>_bench.cpp.
//
// Each benchmark is one runner call (Iterations(1)) timed by the runner's own wall clock
// (UseManualTime). The runner owns its client threads, so Google Benchmark's ->Threads() is not
// used: Benchmark 1.7 would sum user counters across threads and divide rates by the main
// thread's CPU time. Counters are therefore plain values, not kIsRate:
//   items_per_second, p50_ns, p99_ns, p999_ns, max_ns, correct (1/0).
// Environment: CP_BENCH_SECONDS (measured seconds per benchmark, default 0.5), CP_SEED.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench/harness/build_info.hpp"
#include "bench/harness/compare_app.hpp"
#include "bench/harness/options.hpp"
#include "bench/harness/runner.hpp"
#include "bench/harness/workloads.hpp"

namespace cp::bench {

inline constexpr unsigned kGbenchThreadCounts[] = {1, 2, 4, 8};

struct GbenchSettings {
  double seconds = kDefaultSeconds;
  std::uint64_t seed = kDefaultSeed;
  bool any_failed = false;  // set by a benchmark whose correctness check failed

  static GbenchSettings& instance() {
    static GbenchSettings settings = from_environment();
    return settings;
  }

  static GbenchSettings from_environment() {
    GbenchSettings s;
    if (const char* v = std::getenv("CP_BENCH_SECONDS"))
      if (const auto d = detail::parse_double(v); d && *d > 0) s.seconds = *d;
    if (const char* v = std::getenv("CP_SEED"))
      if (const auto n = detail::parse_unsigned(v)) s.seed = *n;
    return s;
  }
};

template <class W>
void register_closed_loop_benchmarks(const W& workload) {
  for (const auto& table : workload.tables) {
    for_each_design<typename W::DesignRegistry>([&]<class D>() {
      using Driver = typename W::template Driver<D>;
      for (unsigned threads : kGbenchThreadCounts) {
        if (!D::traits.thread_safe && threads != 1) continue;  // the reference: 1 thread only
        const std::string name =
            table.title + "/" + std::string(D::traits.name) + "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(
            name.c_str(),
            [params = table.params, threads](benchmark::State& state) {
              auto& settings = GbenchSettings::instance();
              for (auto _ : state) {
                const RunResult r =
                    run_closed_loop<Driver>(params, threads, settings.seconds, settings.seed);
                state.SetIterationTime(r.wall_seconds);
                state.counters["items_per_second"] = r.throughput;
                state.counters["p50_ns"] = static_cast<double>(r.latency.p50);
                state.counters["p99_ns"] = static_cast<double>(r.latency.p99);
                state.counters["p999_ns"] = static_cast<double>(r.latency.p999);
                state.counters["max_ns"] = static_cast<double>(r.latency.max);
                state.counters["correct"] = r.verdict.passed ? 1 : 0;
                if (!r.verdict.passed) {
                  settings.any_failed = true;
                  state.SetLabel("FAIL: " + r.verdict.detail);
                }
              }
            })
            ->Iterations(1)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      }
    });
  }
}

// gbench_main: registers `workload`'s benchmarks and runs them; exits 1 if a check failed.
template <class W>
int gbench_main(int argc, char** argv, const W& workload) {
  disable_abseil_deadlock_detection();
  register_closed_loop_benchmarks(workload);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::AddCustomContext("abseil_deadlock_detection", "off (kIgnore)");
  benchmark::AddCustomContext("timer_floor_p50_ns", std::to_string(measure_timer_floor().p50_ns));
  benchmark::AddCustomContext("cp_build_type", build_type_name());
  benchmark::AddCustomContext("cp_git_revision", build_git_revision());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return GbenchSettings::instance().any_failed ? 1 : 0;
}

}  // namespace cp::bench
