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

namespace {

// ---- plan: what runs, and how long it should take ----------------------------------------

struct RunPlan {
  std::vector<TableRows> tables;  // the selected tables with their selected designs
  std::size_t total_runs = 0;     // closed rows count once per repetition
  double closed_seconds = 0;      // one closed run: warm-up, throughput window, latency pass
  double open_seconds = 0;        // one open run: warm-up, window, then its floor likewise
};

RunPlan plan_run(const CompareOptions& opts, const RunOptions& run_options) {
  RunPlan plan;
  auto selected = [&](const std::string& workload) {
    return std::find(opts.workloads.begin(), opts.workloads.end(), workload) !=
           opts.workloads.end();
  };
  for (TableRows& t : registered_table_rows(opts.knobs)) {
    if (!selected(t.workload)) continue;
    std::erase_if(t.designs, [&](const DesignRows& d) { return !opts.wants_design(d.name); });
    plan.tables.push_back(std::move(t));
  }
  for (const TableRows& t : plan.tables)
    for (const DesignRows& d : t.designs)
      for (const PlannedRow& row : plan_design_rows(opts, d.traits))
        plan.total_runs += row.load == LoadModel::closed ? opts.repeats : 1;
  const double warmup = run_options.warmup_for(opts.seconds);
  plan.closed_seconds = warmup + opts.seconds + run_options.latency_for(opts.seconds);
  plan.open_seconds = 2 * (warmup + opts.seconds);
  return plan;
}

// ---- progress: one line that rewrites itself on a terminal -------------------------------

// Progress: after every run. ProgressStyle::bar (a terminal): one line, a bar, the run and an
// ETA, rewritten in place; a failing run leaves a line of its own above it. periodic (a log):
// the first and last runs, every failure, and one line every kPeriodSeconds. every_run: a line
// per run (tests read them).
class Progress {
 public:
  static constexpr double kPeriodSeconds = 10;

  Progress(std::ostream& out, ProgressStyle style, std::size_t total, double seconds_per_run)
      : out_(out), style_(style), total_(total), seconds_per_run_(seconds_per_run),
        started_(std::chrono::steady_clock::now()) {}

  // run_done(title, plan, r, round, repeats, runs): `runs` more runs are done; r is the last.
  void run_done(const std::string& title, const PlannedRow& plan, const RunResult& r,
                unsigned round, unsigned repeats, std::size_t runs) {
    done_ += runs;
    const double elapsed = seconds_since_start();
    // Per run: the planned window plus what the runs so far took beyond theirs (builds,
    // prefills, checks), spread over them.
    const double overhead = std::max(0.0, elapsed - done_ * seconds_per_run_) / done_;
    const double eta = (total_ - std::min(done_, total_)) * (seconds_per_run_ + overhead);
    std::ostringstream what;
    what << "[" << done_ << "/" << total_ << "] " << title << " " << r.design << " x"
         << plan.threads << " " << load_label(r);
    if (plan.load == LoadModel::closed) what << " (round " << round << "/" << repeats << ")";
    std::ostringstream line;
    line << what.str() << ": " << format_rate(r.throughput) << " ops/s";
    if (r.load == LoadModel::open) line << " (offered " << format_rate(r.offered_rate) << ")";
    line << ", p99 " << format_ns(static_cast<double>(r.latency.p99)) << ", "
         << (r.verdict.passed ? "pass" : "FAIL: " + r.verdict.detail) << "  ETA "
         << format_eta(eta);
    const bool last = done_ >= total_;
    switch (style_) {
      case ProgressStyle::every_run:
        out_ << line.str() << "\n";
        break;
      case ProgressStyle::periodic:
        if (done_ == runs || last || !r.verdict.passed || elapsed >= next_print_) {
          out_ << line.str() << "\n";
          next_print_ = elapsed + kPeriodSeconds;
        }
        break;
      case ProgressStyle::bar: {
        if (!r.verdict.passed) out_ << "\r\x1b[K" << line.str() << "\n";
        constexpr int kBar = 24;
        const int filled = static_cast<int>(kBar * static_cast<double>(done_) / total_);
        std::string status = "\r\x1b[K[" + std::string(filled, '#') +
                             std::string(kBar - std::min(filled, kBar), '.') + "] " + what.str();
        if (status.size() > 100) status.resize(100);
        out_ << status << "  ETA " << format_eta(eta) << (last ? "\n" : "");
        break;
      }
    }
    out_.flush();
  }

  double seconds_since_start() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }
  std::size_t done() const { return done_; }

 private:
  std::ostream& out_;
  ProgressStyle style_;
  std::size_t total_;
  double seconds_per_run_;
  std::chrono::steady_clock::time_point started_;
  std::size_t done_ = 0;
  double next_print_ = 0;
};

// ---- measure and verify: one table -------------------------------------------------------

// TableRun: one table's rows: closed rows as interleaved repetitions (measure_closed), then
// open rows at a percent of their closed row's median (measure_open), each series verified
// after its last window; rows() gives them in plan order.
class TableRun {
 public:
  TableRun(const TableRows& table, const CompareOptions& opts, const RunOptions& run_options,
           Progress& progress)
      : table_(table), opts_(opts), run_options_(run_options), progress_(progress),
        slots_(table.designs.size()) {
    for (std::size_t i = 0; i < table.designs.size(); ++i)
      for (const PlannedRow& plan : plan_design_rows(opts, table.designs[i].traits))
        slots_[i].push_back(Slot{plan, {}, nullptr, {}});
  }

  // measure_closed: one series per closed row, built in round 1 and verified after the last
  // (a fresh driver per window where the state grows with the run: RowSeriesSession); each
  // round measures one window of every row, round-robin over the designs (A B C, A B C, ...),
  // so that drift of the machine hits every design alike. A design whose idle threads spin (a
  // yielding or busy-spin wait strategy) would steal the cores of the others meanwhile: its
  // repetitions run back to back in round 1.
  void measure_closed() {
    for (unsigned round = 1; round <= opts_.repeats; ++round) {
      for (std::size_t i = 0; i < table_.designs.size(); ++i) {
        const DesignRows& d = table_.designs[i];
        for (Slot& slot : slots_[i]) {
          if (slot.plan.load != LoadModel::closed) continue;
          if (round == 1 && !start_series(d, slot)) continue;
          if (!slot.series) continue;
          for (unsigned k = round; k <= (d.idle_spins ? opts_.repeats : round); ++k) {
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
          if (d.idle_spins || (round == opts_.repeats && !has_open(i, slot.plan.threads))) {
            slot.closed.finish(slot.series->finish());
            slot.series.reset();
          }
        }
      }
    }
  }

  // measure_open: each open row at a percent of the median of its closed row's repetitions,
  // on the closed row's driver (a fresh one if it was not kept), then one check for them all.
  void measure_open() {
    for (std::size_t i = 0; i < table_.designs.size(); ++i) {
      const DesignRows& d = table_.designs[i];
      for (Slot& closed : slots_[i]) {
        if (closed.plan.load != LoadModel::closed) continue;
        std::vector<Slot*> open;
        for (Slot& o : slots_[i])
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
            closed.series = d.make(closed.plan.threads, opts_.seconds, opts_.seed, run_options_);
          } catch (const std::exception& e) {
            why = e.what();
          }
        }
        for (Slot* o : open) {
          if (why.empty()) {
            try {
              o->open = closed.series->measure_open(offered_rate_for(base, o->plan.rate_percent));
            } catch (const std::exception& e) {
              o->open = could_not_run(d, o->plan, e.what());
            }
          } else {
            o->open = could_not_run(d, o->plan, why);
          }
          finished(d, o->open, o->plan, 1, 1);
        }
        if (closed.series) verify_open(closed, open, kept);
      }
    }
  }

  // rows: the table's rows in plan order, ids from first_id + 1 on, vs ref set.
  std::vector<ReportRow> rows(std::size_t first_id) {
    std::vector<ReportRow> rows;
    for (auto& design_slots : slots_) {
      for (Slot& slot : design_slots) {
        const std::string id = "r" + std::to_string(first_id + rows.size() + 1);
        if (slot.plan.load == LoadModel::closed) {
          Spread spread = slot.closed.spread();
          rows.push_back(ReportRow::of(id, table_.title, slot.closed.result()));
          rows.back().spread = std::move(spread);
        } else {
          rows.push_back(ReportRow::of(id, table_.title, std::move(slot.open)));
        }
      }
    }
    const auto ref = reference_throughput(rows);
    for (auto& row : rows) row.vs_ref = vs_ref_of_medians(row.result.throughput, ref);
    return rows;
  }

  const std::string& params() const { return params_; }

 private:
  struct Slot {
    PlannedRow plan;
    RepeatedRow closed;
    std::unique_ptr<RowSeries> series;  // closed slots: from round 1 to the last window
    RunResult open;
  };

  // start_series: the slot's driver, or a "could not run" row for every repetition.
  bool start_series(const DesignRows& d, Slot& slot) {
    try {
      slot.series = d.make(slot.plan.threads, opts_.seconds, opts_.seed, run_options_);
      return true;
    } catch (const std::exception& e) {
      RunResult r = could_not_run(d, slot.plan, e.what());
      finished(d, r, slot.plan, 1, opts_.repeats);
      slot.closed.add(std::move(r));
      return false;
    }
  }

  bool has_open(std::size_t design, unsigned threads) const {
    return std::any_of(slots_[design].begin(), slots_[design].end(), [&](const Slot& o) {
      return o.plan.load == LoadModel::open && o.plan.threads == threads;
    });
  }

  // verify_open: the check of every window of the series, given to its closed and open rows.
  void verify_open(Slot& closed, const std::vector<Slot*>& open, bool kept) {
    const Verdict verdict = closed.series->finish();
    closed.series.reset();
    if (kept) closed.closed.finish(verdict);
    for (Slot* o : open) {
      if (o->open.verdict.passed) o->open.verdict = verdict;
      note_unissued(o->open);
    }
  }

  // could_not_run(d, plan, why): the row of a run that threw before it ran.
  RunResult could_not_run(const DesignRows& d, const PlannedRow& plan, const std::string& why) {
    RunResult r;
    r.workload = table_.workload;
    r.design = d.name;
    r.traits = d.traits;
    r.pipelined = d.pipelined;
    r.batched = d.batched;
    r.threads = plan.threads;
    r.load = plan.load;
    r.requested_seconds = opts_.seconds;
    r.seed = opts_.seed;
    r.verdict = {false, "could not run: " + why};
    return r;
  }

  // finished(d, r, plan, round, runs): bookkeeping and the progress after each run.
  void finished(const DesignRows& d, RunResult& r, const PlannedRow& plan, unsigned round,
                std::size_t runs) {
    r.rate_percent = plan.rate_percent;
    if (params_.empty()) params_ = r.params;
    r.params += d.params_suffix;
    progress_.run_done(table_.title, plan, r, round, opts_.repeats, runs);
  }

  const TableRows& table_;
  const CompareOptions& opts_;
  const RunOptions& run_options_;
  Progress& progress_;
  std::vector<std::vector<Slot>> slots_;  // per design (table order), per planned row
  std::string params_;
};

// ---- report: where the results go ----------------------------------------------------------

// open_outputs: the --out directory and the --csv file, checked before anything runs (a bad
// path is a usage error: the message, and false).
bool open_outputs(const CompareOptions& opts, std::ofstream& csv, std::ostream& progress) {
  if (!opts.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(opts.out_dir, ec);
    if (ec || !std::filesystem::is_directory(opts.out_dir)) {
      progress << "compare: --out: cannot create directory '" << opts.out_dir << "'\n";
      return false;
    }
  }
  if (!opts.csv_path.empty()) {
    csv.open(opts.csv_path);
    if (!csv) {
      progress << "compare: --csv: cannot write '" << opts.csv_path << "'\n";
      return false;
    }
  }
  return true;
}

// write_outputs: the CSV and the result files; false if one could not be written.
bool write_outputs(std::ostream& out, std::ostream& progress, std::ofstream& csv,
                   const std::vector<ReportRow>& all_rows, const RunContext& ctx,
                   const std::ostringstream& summary, const std::string& tables) {
  bool ok = true;
  const CompareOptions& opts = ctx.options;
  if (csv.is_open()) {
    csv << rows_csv_header() << "\n";
    for (const auto& row : all_rows) csv << rows_csv_line(row, ctx) << "\n";
    csv.flush();
    ok &= static_cast<bool>(csv);
    out << "CSV:     " << opts.csv_path << (csv ? "" : " (WRITE ERROR)") << "\n";
  }
  if (!opts.out_dir.empty()) {
    out << "results: " << opts.out_dir
        << "/{rows.csv,percentiles.csv,results.json,summary.txt,tables.txt}\n";
    out.flush();
    // summary.txt: everything the terminal got, up to and including the line above.
    std::string error = write_result_files(opts.out_dir, all_rows, ctx, summary.str());
    if (error.empty()) {
      std::ofstream file(std::filesystem::path(opts.out_dir) / "tables.txt");
      file << tables;
      if (!file) error = "cannot write " + opts.out_dir + "/tables.txt";
    }
    if (!error.empty()) {
      progress << "compare: " << error << "\n";
      ok = false;
    }
  }
  out.flush();
  return ok;
}

}  // namespace

int run_compare(const std::vector<std::string>& args, std::ostream& terminal,
                std::ostream& progress, ProgressStyle style) {
  const Catalogue catalogue = build_catalogue();
  const ParsedOptions parsed = parse_compare_options(args, catalogue);
  if (!parsed.options) {
    progress << "compare: " << parsed.error << "\n";
    return 2;
  }
  const CompareOptions& opts = *parsed.options;
  if (opts.help) {
    terminal << compare_usage(opts);
    return 0;
  }
  if (opts.list) {
    print_design_list(terminal);
    return 0;
  }
  std::ofstream csv;
  if (!open_outputs(opts, csv, progress)) return 2;

  // Everything `terminal` gets also goes into summary.txt; the full tables (every column, the
  // whole check text) go to tables.txt only.
  std::ostringstream summary, tables;
  TeeBuffer tee(terminal.rdbuf(), summary.rdbuf());
  std::ostream out(&tee);

  disable_abseil_deadlock_detection();
  RunContext ctx{MachineInfo::detect(), measure_timer_floor(), opts, self_executable()};
  print_run_header(out, ctx.machine, ctx.floor, opts);
  out.flush();

  // plan -> measure -> verify -> report, table by table.
  RunOptions run_options{};
  if (opts.open_wait == "sleep") run_options.open_wait = OpenWait::sleep;
  else if (opts.open_wait == "spin-tail") run_options.open_wait = OpenWait::spin_tail;
  else if (opts.open_wait == "spin") run_options.open_wait = OpenWait::spin;
  const RunPlan plan = plan_run(opts, run_options);
  Progress bar(progress, style, plan.total_runs, plan.closed_seconds);
  std::size_t failed = 0, rows_done = 0;
  std::vector<ReportRow> all_rows;
  for (const TableRows& table : plan.tables) {
    TableRun run(table, opts, run_options, bar);
    run.measure_closed();
    run.measure_open();  // verified inside, with the closed row it takes its rate from
    std::vector<ReportRow> rows = run.rows(rows_done);
    rows_done += rows.size();
    if (rows.empty()) continue;
    for (const auto& row : rows) failed += row.result.verdict.passed ? 0 : 1;
    print_compact_table(out, table.title, run.params(), rows, ctx.floor);
    print_table(tables, table.title, run.params(), rows, ctx.floor);
    out.flush();
    for (auto& row : rows) all_rows.push_back(std::move(row));
  }

  out << "\n" << rows_done << " rows (" << bar.done() << " runs) in "
      << format_fixed(bar.seconds_since_start(), 1) << " s; "
      << (failed ? std::to_string(failed) + " FAILED their correctness check"
                 : std::string("all passed their correctness check"))
      << "\n";
  if (!write_outputs(out, progress, csv, all_rows, ctx, summary, tables.str())) return 1;
  return failed ? 1 : 0;
}

}  // namespace cp::bench
