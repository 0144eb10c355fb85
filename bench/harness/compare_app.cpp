// compare_app.cpp: run_compare, the `compare` command's loop over tables, designs and rounds
// (see compare_app.hpp), and the catalogue behind --list. The designs' rows come compiled from
// bench/harness/rows/ (design_rows.hpp says why).
#include "bench/harness/compare_app.hpp"

#include <chrono>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <memory>
#include <sstream>

#include "bench/harness/design_rows.hpp"
#include "bench/harness/open_loop.hpp"
#include "bench/harness/repeats.hpp"
#include "bench/harness/report.hpp"
#include "bench/harness/results.hpp"
#include "bench/harness/sweep.hpp"
#include "bench/harness/timer.hpp"

namespace cp::bench {

Catalogue build_catalogue() {
  Catalogue catalogue;
  for (const TableRows& t : registered_table_rows(Knobs{})) {
    if (!catalogue.empty() && catalogue.back().workload == t.workload) continue;  // one per workload
    CatalogueEntry entry{t.workload, {}};
    for (const DesignRows& d : t.designs) entry.designs.push_back(d.name);
    catalogue.push_back(std::move(entry));
  }
  return catalogue;
}

// The traits printed are those of the registered designs with the default knobs (a
// single-writer design with its default wait strategy).
void print_design_list(std::ostream& out) {
  std::string last_workload;
  for (const TableRows& table : registered_table_rows(Knobs{})) {
    if (table.workload == last_workload) continue;  // a second table of the same designs
    last_workload = table.workload;
    out << table.workload << ":\n";
    std::size_t width = 0;
    for (const DesignRows& d : table.designs) width = std::max(width, d.name.size());
    for (const DesignRows& d : table.designs) {
      const DesignTraits& t = d.traits;
      out << "  " << std::left << std::setw(static_cast<int>(width)) << d.name << std::right
          << "  [" << to_string(t.family) << "; "
          << (t.thread_safe ? "thread-safe" : "single-thread only") << "; reads "
          << (t.linearizable_reads ? "linearizable" : "not linearizable") << "; "
          << (t.lock_free ? "lock-free" : "not lock-free") << "; waiting "
          << to_string(t.waiting);
      if (t.queue_bound) out << "; queue bound " << t.queue_bound;
      if (t.overload != Overload::not_applicable) out << "; overload " << to_string(t.overload);
      if (t.exposes_commit_order) out << "; exposes commit order";
      if (t.owned_threads) out << "; owns " << t.owned_threads << " thread(s)";
      if (d.pipelined) out << "; pipelined";
      if (d.batched) out << "; batch row (work-stealing.batch commands per call)";
      if (!t.eviction.empty()) out << "; eviction " << t.eviction;
      out << "]\n";
    }
  }
}

int run_compare(const std::vector<std::string>& args, std::ostream& terminal,
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

  // Every selected table with its selected designs; a design's rows are built through `make`.
  std::vector<TableRows> tables;
  for (TableRows& t : registered_table_rows(opts.knobs)) {
    if (!selected(t.workload)) continue;
    std::erase_if(t.designs, [&](const DesignRows& d) { return !opts.wants_design(d.name); });
    tables.push_back(std::move(t));
  }
  std::size_t total_runs = 0;  // closed rows count once per repetition
  for (const TableRows& t : tables)
    for (const DesignRows& d : t.designs)
      for (const PlannedRow& plan : plan_design_rows(opts, d.traits.thread_safe))
        total_runs += plan.load == LoadModel::closed ? opts.repeats : 1;

  const auto started = std::chrono::steady_clock::now();
  std::size_t done = 0, failed = 0, rows_done = 0;
  std::vector<ReportRow> all_rows;
  for (const TableRows& table : tables) {
    // One slot per planned row of each design, in plan order; closed slots collect their
    // repetitions, open slots their one run.
    struct Slot {
      PlannedRow plan;
      RepeatedRow closed;
      std::unique_ptr<RowSeries> series;  // closed slots: from round 1 to the last window
      RunResult open;
    };
    std::vector<std::vector<Slot>> slots(table.designs.size());  // per design, in table order
    std::string params;

    // could_not_run(d, plan, why): the row of a run that threw before it ran.
    auto could_not_run = [&](const DesignRows& d, const PlannedRow& plan,
                             const std::string& why) {
      RunResult r;
      r.workload = table.workload;
      r.design = d.name;
      r.traits = d.traits;
      r.pipelined = d.pipelined;
      r.batched = d.batched;
      r.threads = plan.threads;
      r.load = plan.load;
      r.requested_seconds = opts.seconds;
      r.seed = opts.seed;
      r.verdict = {false, "could not run: " + why};
      return r;
    };
    // finished(d, r, plan, round, runs): bookkeeping and one progress line per run.
    auto finished = [&](const DesignRows& d, RunResult& r, const PlannedRow& plan,
                        unsigned round, std::size_t runs) {
      r.rate_percent = plan.rate_percent;
      if (params.empty()) params = r.params;
      r.params += d.params_suffix;
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

    // Closed rows: one series per row, built in round 1 and verified after the last (a fresh
    // driver per window where the state grows with the run: RowSeriesSession); each
    // round measures one window of every row, round-robin over the designs (round 1: A B C,
    // round 2: A B C, ...), so that drift of the machine hits every design alike. A design
    // whose idle threads would spin (a yielding or busy-spin wait strategy) would steal the
    // cores of the others meanwhile: its repetitions run back to back in round 1.
    for (std::size_t i = 0; i < table.designs.size(); ++i)
      for (const PlannedRow& plan : plan_design_rows(opts, table.designs[i].traits.thread_safe))
        slots[i].push_back(Slot{plan, {}, nullptr, {}});
    for (unsigned round = 1; round <= opts.repeats; ++round) {
      for (std::size_t i = 0; i < table.designs.size(); ++i) {
        const DesignRows& d = table.designs[i];
        for (Slot& slot : slots[i]) {
          if (slot.plan.load != LoadModel::closed) continue;
          if (round == 1) {
            try {
              slot.series = d.make(slot.plan.threads, opts.seconds, opts.seed, run_options);
            } catch (const std::exception& e) {
              RunResult r = could_not_run(d, slot.plan, e.what());
              finished(d, r, slot.plan, round, opts.repeats);
              slot.closed.add(std::move(r));
              continue;
            }
          }
          if (!slot.series) continue;
          for (unsigned k = round; k <= (d.idle_spins ? opts.repeats : round); ++k) {
            RunResult r;
            try {
              r = slot.series->measure_closed();
            } catch (const std::exception& e) {  // a fresh driver failed to build
              r = could_not_run(d, slot.plan, e.what());
            }
            finished(d, r, slot.plan, k, 1);
            slot.closed.add(std::move(r));
          }
          // A row with open rows at its thread count keeps its driver for them.
          const bool has_open = std::any_of(slots[i].begin(), slots[i].end(), [&](const Slot& o) {
            return o.plan.load == LoadModel::open && o.plan.threads == slot.plan.threads;
          });
          if (d.idle_spins || (round == opts.repeats && !has_open)) {
            slot.closed.finish(slot.series->finish());
            slot.series.reset();
          }
        }
      }
    }
    // Open rows: each at a percent of the median of its closed row's repetitions, on the
    // closed row's driver (a fresh one if it was not kept), then one check for all of them.
    for (std::size_t i = 0; i < table.designs.size(); ++i) {
      const DesignRows& d = table.designs[i];
      for (Slot& closed : slots[i]) {
        if (closed.plan.load != LoadModel::closed) continue;
        std::vector<Slot*> open;
        for (Slot& o : slots[i])
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
            closed.series = d.make(closed.plan.threads, opts.seconds, opts.seed, run_options);
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
              o->open = could_not_run(d, o->plan, e.what());
            }
          } else {
            o->open = could_not_run(d, o->plan, why);
          }
          finished(d, o->open, o->plan, 1, 1);
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
    }

    std::vector<ReportRow> rows;
    for (auto& design_slots : slots) {
      for (Slot& slot : design_slots) {
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
