// compare_app.hpp: the `compare` command as a function, so tests can run it in-process.
//
//   build_catalogue - workload and design names, for the option parser and --list.
//   run_compare     - parse, run every selected row, print tables (+ CSV); returns the exit
//                     status: 0 all rows passed, 1 some row's correctness check failed, 2 bad
//                     usage. Progress (one line per row) goes to `progress`.
#pragma once

#include <absl/synchronization/mutex.h>

#include <algorithm>
#include <chrono>
#include <iomanip>
#include <exception>
#include <fstream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "bench/harness/options.hpp"
#include "bench/harness/report.hpp"
#include "bench/harness/runner.hpp"
#include "bench/harness/timer.hpp"
#include "bench/harness/workloads.hpp"

namespace cp::bench {

// Benchmarks run with Abseil's lock-order tracking off: Debian builds it on, and it costs
// ~40 ns per uncontended lock. Tests keep it on. Idempotent.
inline void disable_abseil_deadlock_detection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

inline Catalogue build_catalogue() {
  Catalogue catalogue;
  auto workloads = registered_workloads();
  for_each_in_tuple(workloads, [&](auto& w) {
    using W = std::remove_cvref_t<decltype(w)>;
    CatalogueEntry entry{w.name, {}};
    for_each_design<typename W::DesignRegistry>(
        [&]<class D>() { entry.designs.emplace_back(D::traits.name); });
    catalogue.push_back(std::move(entry));
  });
  return catalogue;
}

inline void print_design_list(std::ostream& out) {
  auto workloads = registered_workloads();
  for_each_in_tuple(workloads, [&](auto& w) {
    using W = std::remove_cvref_t<decltype(w)>;
    out << w.name << ":\n";
    std::size_t width = 0;
    for_each_design<typename W::DesignRegistry>(
        [&]<class D>() { width = std::max(width, D::traits.name.size()); });
    for_each_design<typename W::DesignRegistry>([&]<class D>() {
      const DesignTraits& t = D::traits;
      out << "  " << std::left << std::setw(static_cast<int>(width)) << std::string(t.name)
          << std::right << "  [" << to_string(t.family) << "; "
          << (t.thread_safe ? "thread-safe" : "single-thread only") << "; reads "
          << (t.linearizable_reads ? "linearizable" : "not linearizable") << "; "
          << (t.lock_free ? "lock-free" : "not lock-free") << "; waiting "
          << to_string(t.waiting);
      if (t.queue_bound) out << "; queue bound " << t.queue_bound;
      if (t.overload != Overload::not_applicable) out << "; overload " << to_string(t.overload);
      if (t.exposes_commit_order) out << "; exposes commit order";
      if (!t.eviction.empty()) out << "; eviction " << t.eviction;
      out << "]\n";
    });
  });
}

inline int run_compare(const std::vector<std::string>& args, std::ostream& out,
                       std::ostream& progress) {
  const Catalogue catalogue = build_catalogue();
  const ParsedOptions parsed = parse_compare_options(args, catalogue);
  if (!parsed.options) {
    progress << "compare: " << parsed.error << "\n";
    return 2;
  }
  const CompareOptions& opts = *parsed.options;
  if (opts.help) {
    out << compare_usage();
    return 0;
  }
  if (opts.list) {
    print_design_list(out);
    return 0;
  }

  std::ofstream csv;
  if (!opts.csv_path.empty()) {
    csv.open(opts.csv_path);
    if (!csv) {
      progress << "compare: --csv: cannot write '" << opts.csv_path << "'\n";
      return 2;
    }
    csv << CsvWriter::header() << "\n";
  }

  disable_abseil_deadlock_detection();
  const MachineInfo machine = MachineInfo::detect();
  const TimerFloor floor = measure_timer_floor();
  print_run_header(out, machine, floor, opts.seconds, opts.seed);
  out.flush();

  auto selected = [&](const std::string& workload) {
    return std::find(opts.workloads.begin(), opts.workloads.end(), workload) !=
           opts.workloads.end();
  };
  // A design that is not thread-safe (the reference) runs once, at 1 thread: the baseline.
  auto thread_counts = [&](const DesignTraits& t) {
    return t.thread_safe ? opts.threads : std::vector<unsigned>{1};
  };

  auto workloads = registered_workloads();
  std::size_t total_rows = 0;
  for_each_in_tuple(workloads, [&](auto& w) {
    using W = std::remove_cvref_t<decltype(w)>;
    if (!selected(w.name)) return;
    for_each_design<typename W::DesignRegistry>([&]<class D>() {
      if (opts.wants_design(D::traits.name))
        total_rows += w.tables.size() * thread_counts(D::traits).size();
    });
  });

  const auto started = std::chrono::steady_clock::now();
  std::size_t done = 0, failed = 0;
  for_each_in_tuple(workloads, [&](auto& w) {
    using W = std::remove_cvref_t<decltype(w)>;
    if (!selected(w.name)) return;
    for (const auto& table : w.tables) {
      std::vector<RunResult> rows;
      std::string params;
      for_each_design<typename W::DesignRegistry>([&]<class D>() {
        using Driver = typename W::template Driver<D>;
        if (!opts.wants_design(D::traits.name)) return;
        for (unsigned threads : thread_counts(D::traits)) {
          RunResult r;
          try {
            r = run_closed_loop<Driver>(table.params, threads, opts.seconds, opts.seed);
          } catch (const std::exception& e) {
            r.workload = w.name;
            r.design = std::string(D::traits.name);
            r.traits = D::traits;
            r.threads = threads;
            r.requested_seconds = opts.seconds;
            r.seed = opts.seed;
            r.verdict = {false, std::string("could not run: ") + e.what()};
          }
          if (params.empty()) params = r.params;
          ++done;
          progress << "[" << done << "/" << total_rows << "] " << table.title << " " << r.design
                   << " x" << threads << ": " << format_rate(r.throughput) << " ops/s, p99 "
                   << format_ns(static_cast<double>(r.latency.p99)) << ", "
                   << (r.verdict.passed ? "pass" : "FAIL: " + r.verdict.detail) << "\n";
          progress.flush();
          rows.push_back(std::move(r));
        }
      });
      if (rows.empty()) continue;
      print_table(out, table.title, params, rows, floor);
      out.flush();
      const auto ref = reference_throughput(rows);
      for (const auto& r : rows) {
        failed += r.verdict.passed ? 0 : 1;
        if (csv.is_open()) csv << CsvWriter::line(r, table.title, ref, machine, floor) << "\n";
      }
    }
  });

  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out << "\n" << done << " rows in " << format_fixed(elapsed, 1) << " s; "
      << (failed ? std::to_string(failed) + " FAILED their correctness check"
                 : std::string("all passed their correctness check"));
  if (csv.is_open()) {
    csv.flush();
    out << "; CSV: " << opts.csv_path << (csv ? "" : " (WRITE ERROR)");
  }
  out << "\n";
  if (csv.is_open() && !csv) return 1;
  return failed ? 1 : 0;
}

}  // namespace cp::bench
