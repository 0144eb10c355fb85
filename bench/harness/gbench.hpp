// gbench.hpp: Google Benchmark front-end over the same rows as `compare`.
//
//   register_closed_loop_benchmarks(workload) - one benchmark per table x design x thread count.
//   gbench_main                               - the main() of bench/<workload>_bench.cpp.
//
// Each benchmark is one closed-loop row (Iterations(1)): one closed window of the design's
// compiled row (design_rows.hpp: DesignRows::make, the rows cp_compare_app builds once for
// `compare`), then its check, as run_closed_loop does; timed by the runner's own wall clock
// (UseManualTime). The designs' loops are not instantiated again here: each front-end is plain
// code linked with cp_compare_app (it was one of the slowest files of the build).
// The runner owns its client threads, so Google Benchmark's ->Threads() is not
// used: Benchmark 1.7 would sum user counters across threads and divide rates by the main
// thread's CPU time. Counters are therefore plain values, not kIsRate:
//   items_per_second, p50_ns, p99_ns, p999_ns, max_ns, correct (1/0).
// Environment: CP_BENCH_SECONDS (measured seconds per benchmark, default 0.5), CP_SEED.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bench/harness/build_info.hpp"
#include "bench/harness/compare_app.hpp"
#include "bench/harness/design_rows.hpp"
#include "bench/harness/options.hpp"
#include "bench/harness/runner.hpp"

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

// register_closed_loop_benchmarks(workload): registers the benchmarks of the workload named
// `workload` (what --workload accepts); returns how many (0: no such workload in this build).
inline int register_closed_loop_benchmarks(std::string_view workload) {
  int registered = 0;
  for (const TableRows& table : registered_table_rows(Knobs{})) {
    if (table.workload != workload) continue;
    for (const DesignRows& design : table.designs) {
      for (unsigned threads : kGbenchThreadCounts) {
        if (!design.traits.thread_safe && threads != 1) continue;  // the reference: 1 thread only
        const std::string name =
            table.title + "/" + design.name + "/threads:" + std::to_string(threads);
        benchmark::RegisterBenchmark(
            name.c_str(),
            [make = design.make, threads](benchmark::State& state) {
              auto& settings = GbenchSettings::instance();
              for (auto _ : state) {
                // One closed window, then the check (as run_closed_loop: a window whose client
                // threw has failed already and is not checked).
                const std::unique_ptr<RowSeries> row =
                    make(threads, settings.seconds, settings.seed, RunOptions{});
                RunResult r = row->measure_closed();
                if (r.verdict.passed) r.verdict = row->finish();
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
        ++registered;
      }
    }
  }
  return registered;
}

// gbench_main: registers `workload`'s benchmarks and runs them; exits 1 if a check failed, 2 if
// the build has no rows for the workload (a sanitizer build compiles the counter rows only).
inline int gbench_main(int argc, char** argv, std::string_view workload) {
  disable_abseil_deadlock_detection();
  if (register_closed_loop_benchmarks(workload) == 0) {
    std::cerr << argv[0] << ": no rows for workload '" << workload << "' in this build\n";
    return 2;
  }
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
