// compare_app.hpp: the `compare` command as a function, so tests can run it in-process.
//
//   build_catalogue - workload and design names, for the option parser and --list.
//   TeeBuffer       - a streambuf writing to two others (the terminal and summary.txt).
//   format_eta      - "1m23s".
//   run_compare     - parse, run every planned row (closed rows as interleaved repetitions,
//                     then open rows at a % of their median), print tables, write the result
//                     files; returns the exit status: 0 all
//                     rows passed, 1 some row's correctness check failed (or a file could not
//                     be written), 2 bad usage. Progress (one line per row, with an ETA) goes
//                     to `progress`; the header, tables and summary to `out`.
#pragma once

#include <absl/synchronization/mutex.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "bench/harness/open_loop.hpp"
#include "bench/harness/options.hpp"
#include "bench/harness/repeats.hpp"
#include "bench/harness/report.hpp"
#include "bench/harness/results.hpp"
#include "bench/harness/runner.hpp"
#include "bench/harness/sweep.hpp"
#include "bench/harness/timer.hpp"
#include "bench/harness/workloads.hpp"
#include "patterns/single_writer/wait_strategy.hpp"

namespace cp::bench {

// Benchmarks run with Abseil's lock-order tracking off: Debian builds it on, and it costs
// ~40 ns per uncontended lock. Tests keep it on. Idempotent.
inline void disable_abseil_deadlock_detection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

// kTakesWaitStrategy<D>: D is a single-writer design whose wait strategy is a parameter.
template <class D>
inline constexpr bool kTakesWaitStrategy =
    requires { typename D::template with_wait<sw::BlockingWaitStrategy>; };

// with_wait_knob<D>(name, f): calls f.template operator()<X>() with X = D's instantiation for
// the wait strategy `name` (the single-writer.wait knob) when D takes one, else X = D. Only
// these four instantiations are compiled, for the few designs that take a strategy.
template <class D, class F>
void with_wait_knob(const std::string& name, F&& f) {
  if constexpr (kTakesWaitStrategy<D>) {
    if (name == sw::PhasedBackoffWaitStrategy::name)
      return f.template operator()<typename D::template with_wait<sw::PhasedBackoffWaitStrategy>>();
    if (name == sw::YieldingWaitStrategy::name)
      return f.template operator()<typename D::template with_wait<sw::YieldingWaitStrategy>>();
    if (name == sw::BusySpinWaitStrategy::name)
      return f.template operator()<typename D::template with_wait<sw::BusySpinWaitStrategy>>();
    return f.template operator()<typename D::template with_wait<sw::BlockingWaitStrategy>>();
  } else {
    f.template operator()<D>();
  }
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
      if (t.owned_threads) out << "; owns " << t.owned_threads << " thread(s)";
      if (design_is_pipelined<D>()) out << "; pipelined";
      if (design_is_batch_row<D>()) out << "; batch row (work-stealing.batch commands per call)";
      if (!t.eviction.empty()) out << "; eviction " << t.eviction;
      out << "]\n";
    });
  });
}

// TeeBuffer: everything written goes to both buffers (the terminal and summary.txt).
class TeeBuffer : public std::streambuf {
 public:
  TeeBuffer(std::streambuf* first, std::streambuf* second) : first_(first), second_(second) {}

 protected:
  int overflow(int c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    const bool ok = first_->sputc(ch) != traits_type::eof() && second_->sputc(ch) != traits_type::eof();
    return ok ? c : traits_type::eof();
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const auto a = first_->sputn(s, n), b = second_->sputn(s, n);
    return std::min(a, b);
  }
  int sync() override {
    const int a = first_->pubsync(), b = second_->pubsync();
    return a == 0 && b == 0 ? 0 : -1;
  }

 private:
  std::streambuf* first_;
  std::streambuf* second_;
};

inline std::string format_eta(double seconds) {
  const long s = std::max(0L, static_cast<long>(seconds + 0.5));
  if (s < 60) return std::to_string(s) + "s";
  return std::to_string(s / 60) + "m" + (s % 60 < 10 ? "0" : "") + std::to_string(s % 60) + "s";
}

inline int run_compare(const std::vector<std::string>& args, std::ostream& terminal,
                       std::ostream& progress) {
  const Catalogue catalogue = build_catalogue();
  const ParsedOptions parsed = parse_compare_options(args, catalogue);
  if (!parsed.options) {
    progress << "compare: " << parsed.error << "\n";
    return 2;
  }
  const CompareOptions& opts = *parsed.options;
  if (opts.help) {
    terminal << compare_usage();
    return 0;
  }
  if (opts.list) {
    print_design_list(terminal);
    return 0;
  }

  // Where the results go, checked before anything runs (a bad path is a usage error).
  if (!opts.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opts.out_dir, ec);
    if (ec || !std::filesystem::is_directory(opts.out_dir)) {
      progress << "compare: --out: cannot create directory '" << opts.out_dir << "'\n";
      return 2;
    }
  }
  std::ofstream csv;
  if (!opts.csv_path.empty()) {
    csv.open(opts.csv_path);
    if (!csv) {
      progress << "compare: --csv: cannot write '" << opts.csv_path << "'\n";
      return 2;
    }
  }

  // Everything `terminal` gets also goes into summary.txt.
  std::ostringstream summary;
  TeeBuffer tee(terminal.rdbuf(), summary.rdbuf());
  std::ostream out(&tee);

  disable_abseil_deadlock_detection();
  RunContext ctx{MachineInfo::detect(), measure_timer_floor(), opts, self_executable()};
  print_run_header(out, ctx.machine, ctx.floor, opts);
  out.flush();

  auto selected = [&](const std::string& workload) {
    return std::find(opts.workloads.begin(), opts.workloads.end(), workload) !=
           opts.workloads.end();
  };
  const RunOptions run_options{};
  const double seconds_per_row = opts.seconds + run_options.warmup_for(opts.seconds);

  auto workloads = registered_workloads(opts.knobs);
  std::size_t total_runs = 0;  // closed rows count once per repetition
  for_each_in_tuple(workloads, [&](auto& w) {
    using W = std::remove_cvref_t<decltype(w)>;
    if (!selected(w.name)) return;
    for_each_design<typename W::DesignRegistry>([&]<class D>() {
      if (!opts.wants_design(D::traits.name))
        return;
      for (const PlannedRow& plan : plan_design_rows(opts, D::traits.thread_safe))
        total_runs += w.tables.size() * (plan.load == LoadModel::closed ? opts.repeats : 1);
    });
  });

  const auto started = std::chrono::steady_clock::now();
  std::size_t done = 0, failed = 0, rows_done = 0;
  std::vector<ReportRow> all_rows;
  for_each_in_tuple(workloads, [&](auto& w) {
    using W = std::remove_cvref_t<decltype(w)>;
    if (!selected(w.name)) return;
    for (const auto& table : w.tables) {
      // One slot per planned row of each design, in plan order; closed slots collect their
      // repetitions, open slots their one run.
      struct Slot {
        PlannedRow plan;
        RepeatedRow closed;
        std::unique_ptr<RowSeries> series;  // closed slots: from round 1 to the last window
        RunResult open;
      };
      std::vector<std::string> design_order;
      std::map<std::string, std::vector<Slot>> slots;
      std::string params;

      // could_not_run<D>(plan, why): the row of a run that threw before it ran.
      auto could_not_run = [&]<class D>(const PlannedRow& plan, const std::string& why) {
        RunResult r;
        r.workload = w.name;
        r.design = std::string(D::traits.name);
        r.traits = D::traits;
        r.pipelined = design_is_pipelined<D>();
        r.batched = design_is_batch_row<D>();
        r.threads = plan.threads;
        r.load = plan.load;
        r.requested_seconds = opts.seconds;
        r.seed = opts.seed;
        r.verdict = {false, "could not run: " + why};
        return r;
      };
      // finished<D>(r, plan, round, runs): bookkeeping and one progress line per run.
      auto finished = [&]<class D>(RunResult& r, const PlannedRow& plan, unsigned round,
                                   std::size_t runs) {
        r.rate_percent = plan.rate_percent;
        if (params.empty()) params = r.params;
        if constexpr (kTakesWaitStrategy<D>)
          r.params += " wait=" + std::string(D::wait_strategy::name);
        done += runs;
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const double overhead_per_run =
            std::max(0.0, elapsed - done * seconds_per_row) / static_cast<double>(done);
        const double eta = (total_runs - std::min(done, total_runs)) *
                           (seconds_per_row + overhead_per_run);
        progress << "[" << done << "/" << total_runs << "] " << table.title << " " << r.design
                 << " x" << plan.threads << " " << load_label(r);
        if (plan.load == LoadModel::closed)
          progress << " (round " << round << "/" << opts.repeats << ")";
        progress << ": " << format_rate(r.throughput) << " ops/s";
        if (r.load == LoadModel::open) progress << " (offered " << format_rate(r.offered_rate) << ")";
        progress << ", p99 " << format_ns(static_cast<double>(r.latency.p99)) << ", "
                 << (r.verdict.passed ? "pass" : "FAIL: " + r.verdict.detail) << "  ETA "
                 << format_eta(eta) << "\n";
        progress.flush();
      };

      // Closed rows: one driver per row, built in round 1 and verified after the last; each
      // round measures one window of every row, round-robin over the designs (round 1: A B C,
      // round 2: A B C, ...), so that drift of the machine hits every design alike. A design
      // whose idle threads would spin (a yielding or busy-spin wait strategy) would steal the
      // cores of the others meanwhile: its repetitions run back to back in round 1.
      for (unsigned round = 1; round <= opts.repeats; ++round) {
        for_each_design<typename W::DesignRegistry>([&]<class Registered>() {
          with_wait_knob<Registered>(opts.knobs.wait, [&]<class D>() {
            using Driver = typename W::template Driver<D>;
            const std::string name(D::traits.name);
            if (!opts.wants_design(name)) return;
            auto [it, first_time] = slots.try_emplace(name);
            if (first_time) {
              design_order.push_back(name);
              for (const PlannedRow& plan : plan_design_rows(opts, D::traits.thread_safe))
                it->second.push_back(Slot{plan, {}, nullptr, {}});
            }
            bool idle_spins = false;
            if constexpr (kTakesWaitStrategy<D>)
              idle_spins = D::wait_strategy::waiting != Waiting::blocks;
            for (Slot& slot : it->second) {
              if (slot.plan.load != LoadModel::closed) continue;
              if (round == 1) {
                try {
                  slot.series = std::make_unique<RowSeriesSession<Driver>>(
                      table.params, slot.plan.threads, opts.seconds, opts.seed, run_options);
                } catch (const std::exception& e) {
                  RunResult r = could_not_run.template operator()<D>(slot.plan, e.what());
                  finished.template operator()<D>(r, slot.plan, round, opts.repeats);
                  slot.closed.add(std::move(r));
                  continue;
                }
              }
              if (!slot.series) continue;
              for (unsigned k = round; k <= (idle_spins ? opts.repeats : round); ++k) {
                RunResult r = slot.series->measure_closed();
                finished.template operator()<D>(r, slot.plan, k, 1);
                slot.closed.add(std::move(r));
              }
              // A row with open rows at its thread count keeps its driver for them.
              const bool has_open = std::any_of(
                  it->second.begin(), it->second.end(), [&](const Slot& o) {
                    return o.plan.load == LoadModel::open && o.plan.threads == slot.plan.threads;
                  });
              if (idle_spins || (round == opts.repeats && !has_open)) {
                slot.closed.finish(slot.series->finish());
                slot.series.reset();
              }
            }
          });
        });
      }
      // Open rows: each at a percent of the median of its closed row's repetitions, on the
      // closed row's driver (a fresh one if it was not kept), then one check for all of them.
      for_each_design<typename W::DesignRegistry>([&]<class Registered>() {
        with_wait_knob<Registered>(opts.knobs.wait, [&]<class D>() {
          using Driver = typename W::template Driver<D>;
          const auto it = slots.find(std::string(D::traits.name));
          if (it == slots.end()) return;
          for (Slot& closed : it->second) {
            if (closed.plan.load != LoadModel::closed) continue;
            std::vector<Slot*> open;
            for (Slot& o : it->second)
              if (o.plan.load == LoadModel::open && o.plan.threads == closed.plan.threads)
                open.push_back(&o);
            if (open.empty()) continue;
            const double base = closed.closed.passed() ? closed.closed.spread().median() : 0;
            std::string why;
            const bool kept = closed.series != nullptr;  // else its check already ran
            if (!(base > 0)) {
              why = "no passing closed-loop row at " + std::to_string(closed.plan.threads) +
                    " threads to take a percent of";
            } else if (!closed.series) {
              try {
                closed.series = std::make_unique<RowSeriesSession<Driver>>(
                    table.params, closed.plan.threads, opts.seconds, opts.seed, run_options);
              } catch (const std::exception& e) {
                why = e.what();
              }
            }
            for (Slot* o : open) {
              if (why.empty()) {
                try {
                  o->open = closed.series->measure_open(
                      offered_rate_for(base, o->plan.rate_percent));
                } catch (const std::exception& e) {
                  o->open = could_not_run.template operator()<D>(o->plan, e.what());
                }
              } else {
                o->open = could_not_run.template operator()<D>(o->plan, why);
              }
              finished.template operator()<D>(o->open, o->plan, 1, 1);
            }
            if (closed.series) {
              const Verdict verdict = closed.series->finish();
              closed.series.reset();
              if (kept) closed.closed.finish(verdict);
              for (Slot* o : open) {
                if (o->open.verdict.passed) o->open.verdict = verdict;
                note_unissued(o->open);
              }
            }
          }
        });
      });

      std::vector<ReportRow> rows;
      for (const std::string& name : design_order) {
        for (Slot& slot : slots[name]) {
          std::string id = "r";
          id += std::to_string(rows_done + rows.size() + 1);
          if (slot.plan.load == LoadModel::closed) {
            Spread spread = slot.closed.spread();
            rows.push_back(ReportRow::of(id, table.title, slot.closed.result()));
            rows.back().spread = std::move(spread);
          } else {
            rows.push_back(ReportRow::of(id, table.title, std::move(slot.open)));
          }
        }
      }
      rows_done += rows.size();
      if (rows.empty()) continue;
      const auto ref = reference_throughput(rows);
      for (auto& row : rows) {
        row.vs_ref = vs_ref_of_medians(row.result.throughput, ref);
        failed += row.result.verdict.passed ? 0 : 1;
      }
      print_table(out, table.title, params, rows, ctx.floor);
      out.flush();
      for (auto& row : rows) all_rows.push_back(std::move(row));
    }
  });

  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out << "\n" << rows_done << " rows (" << done << " runs) in " << format_fixed(elapsed, 1)
      << " s; "
      << (failed ? std::to_string(failed) + " FAILED their correctness check"
                 : std::string("all passed their correctness check"))
      << "\n";
  bool write_failed = false;
  if (csv.is_open()) {
    csv << rows_csv_header() << "\n";
    for (const auto& row : all_rows) csv << rows_csv_line(row, ctx) << "\n";
    csv.flush();
    write_failed |= !csv;
    out << "CSV:     " << opts.csv_path << (csv ? "" : " (WRITE ERROR)") << "\n";
  }
  if (!opts.out_dir.empty()) {
    out << "results: " << opts.out_dir
        << "/{rows.csv,percentiles.csv,results.json,summary.txt}\n";
    out.flush();
    const std::string error = write_result_files(opts.out_dir, all_rows, ctx, summary.str());
    if (!error.empty()) {
      progress << "compare: " << error << "\n";
      write_failed = true;
    }
  }
  out.flush();
  if (write_failed) return 1;
  return failed ? 1 : 0;
}

}  // namespace cp::bench
