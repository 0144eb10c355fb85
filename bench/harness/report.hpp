// report.hpp: what a person reads: the run's header and a table per workload table.
//
//   MachineInfo          - the fingerprint printed with every result: CPU, cores, compiler,
//                          build, git revision, date, host.
//   format_ns            - 850 ns / 1.25 us / 3.40 ms / 1.20 s
//   format_rate          - 12.3 M / 850 k / 999
//   CurvePoint           - one point of a row's latency percentile curve.
//   ReportRow            - a finished row as the reports keep it (the histogram reduced to its
//                          curve), with its run id, table and vs-ref ratio.
//   load_label           - "closed" / "open 50%".
//   reference_throughput - the table's 1-thread closed reference row's ops/s (the median of its
//                          repetitions): the vs-ref base.
//   format_spread        - "12%" (Spread::fraction of a row's repetitions), "-" for none.
//   print_run_header     - machine, timer floor, profile and settings, knobs, method.
//   print_table          - rows design x threads x load: ops/s (median), spread, p50, p99,
//                          p99.9, max, service p99, runnable threads, vs ref, check; a row whose
//                          spread is wide is marked "?" and named under the table (tables.txt).
//   below_harness_floor / oversubscribed - an open row the floor cannot resolve (its floor
//                          p99 above the design's own p99), one whose runnable threads exceed
//                          the cores.
//   print_compact_table  - the terminal's table, at most 120 columns: design, threads, load,
//                          ops/s, spread, p50, p99, vs ref, check, and a note for open rows.
//   CsvWriter            - RFC 4180 quoting (the files are written by results.hpp).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <vector>

#include "bench/harness/build_info.hpp"
#include "bench/harness/open_loop.hpp"
#include "bench/harness/options.hpp"
#include "bench/harness/repeats.hpp"
#include "bench/harness/runner.hpp"
#include "bench/harness/timer.hpp"
#include "patterns/common/traits.hpp"

namespace cp::bench {

// A p50 below this many timer floors mostly measures the clock, not the operation.
inline constexpr double kNearFloorFactor = 3.0;

struct MachineInfo {
  std::string cpu;          // "model name" of /proc/cpuinfo
  unsigned cores = 0;       // std::thread::hardware_concurrency()
  std::string compiler;
  std::string build_type;   // CMAKE_BUILD_TYPE (+ sanitizers)
  std::string git_revision; // at configure time
  std::string date_utc;     // when the run started
  std::string host_name;
  double mhz_per_cpu = 0;   // "cpu MHz" of /proc/cpuinfo; 0 if unknown

  static MachineInfo detect() {
    MachineInfo m;
    m.cpu = "unknown CPU";
    std::ifstream cpuinfo("/proc/cpuinfo");
    auto value_of = [](const std::string& line) {
      const auto colon = line.find(':');
      if (colon == std::string::npos) return std::string();
      const auto begin = line.find_first_not_of(" \t", colon + 1);
      return begin == std::string::npos ? std::string() : line.substr(begin);
    };
    bool have_cpu = false, have_mhz = false;
    for (std::string line; (!have_cpu || !have_mhz) && std::getline(cpuinfo, line);) {
      if (!have_cpu && line.rfind("model name", 0) == 0) {
        if (auto v = value_of(line); !v.empty()) m.cpu = v;
        have_cpu = true;
      } else if (!have_mhz && line.rfind("cpu MHz", 0) == 0) {
        m.mhz_per_cpu = std::atof(value_of(line).c_str());
        have_mhz = true;
      }
    }
    char host[256] = {};
    m.host_name = gethostname(host, sizeof host - 1) == 0 ? host : "unknown";
    m.cores = std::thread::hardware_concurrency();
#if defined(__clang__)
    m.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
    m.compiler = "g++ " __VERSION__;
#else
    m.compiler = "unknown compiler";
#endif
    m.build_type = build_type_name();
#if defined(CP_SANITIZED)
    m.build_type += " + sanitizers";
#endif
#if !defined(NDEBUG)
    m.build_type += " (assertions on)";
#endif
    m.git_revision = build_git_revision();
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    m.date_utc = text;
    return m;
  }
};

inline std::string format_fixed(double value, int decimals) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(decimals) << value;
  return out.str();
}

// Three significant digits ("9.99", "10.0", "999"), as rounded, so 9.996 prints "10.0".
inline std::string three_digits(double v) {
  return format_fixed(v, v < 9.995 ? 2 : v < 99.95 ? 1 : 0);
}

// format_ns: whole nanoseconds below 1 us (the histogram is exact there), else 3 digits in
// the largest unit that keeps the number below 1000.
inline std::string format_ns(double ns) {
  if (ns < 999.5) return format_fixed(ns, 0) + " ns";
  if (ns < 999.5e3) return three_digits(ns / 1e3) + " us";
  if (ns < 999.5e6) return three_digits(ns / 1e6) + " ms";
  return three_digits(ns / 1e9) + " s";
}

inline std::string format_rate(double per_second) {
  if (per_second < 999.5) return format_fixed(per_second, 0);
  if (per_second < 999.5e3) return three_digits(per_second / 1e3) + " k";
  if (per_second < 999.5e6) return three_digits(per_second / 1e6) + " M";
  return three_digits(per_second / 1e9) + " G";
}

inline bool near_timer_floor(std::uint64_t p50_ns, const TimerFloor& floor) {
  return floor.p50_ns > 0 && static_cast<double>(p50_ns) < kNearFloorFactor * floor.p50_ns;
}

// percentile_curve_points: 0, 50, 75, 87.5, 93.75, ... (each step halves the remaining tail)
// up to the first point >= 99.999, then 100 (the max): the x axis of an HDR-style plot.
inline std::vector<double> percentile_curve_points() {
  std::vector<double> points;
  for (double tail = 1.0;; tail /= 2) {
    const double p = 100.0 * (1.0 - tail);
    points.push_back(p);
    if (p >= 99.999) break;
  }
  points.push_back(100.0);
  return points;
}

struct CurvePoint {
  double percentile = 0;
  std::uint64_t latency_ns = 0;
};

// percentile_curve: the histogram's value at each of percentile_curve_points().
inline std::vector<CurvePoint> percentile_curve(const LatencyHistogram& h) {
  std::vector<CurvePoint> curve;
  for (double p : percentile_curve_points()) curve.push_back({p, h.value_at_percentile(p)});
  return curve;
}

// ReportRow: a finished row. `result.histogram` is released once `curve` is taken (a full run
// keeps hundreds of rows; a histogram is 440 KiB): read `curve` and the summaries, not it.
struct ReportRow {
  std::string run_id;             // "r17": unique in the run
  std::string table;              // the table's title ("cache read-heavy")
  RunResult result;
  std::vector<CurvePoint> curve;  // latency (from the intended start for open rows)
  std::optional<double> vs_ref;   // median ops/s / the table's reference row's median ops/s
  Spread spread;                  // closed rows: each repetition's ops/s (open rows: empty)

  static ReportRow of(std::string run_id, std::string table, RunResult&& r) {
    ReportRow row{std::move(run_id), std::move(table), std::move(r), {}, std::nullopt, {}};
    row.curve = percentile_curve(row.result.histogram);
    LatencyHistogram released = std::move(row.result.histogram);  // frees its memory
    return row;
  }
};

// format_percent: "50", "87.5", "99.9" (no trailing zeros; up to 6 decimals).
inline std::string format_percent(double p) {
  std::string text = format_fixed(p, 6);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

// load_label: how a row's load model reads in a table: "closed", "open 50%".
inline std::string load_label(const RunResult& r) {
  if (r.load == LoadModel::closed) return "closed";
  return "open " + format_percent(r.rate_percent) + "%";
}

// reference_throughput: ops/s of the table's 1-thread closed row of the reference design.
inline std::optional<double> reference_throughput(const std::vector<ReportRow>& rows) {
  for (const auto& row : rows) {
    const RunResult& r = row.result;
    if (r.traits.family == Family::reference && r.design != kHarnessRowName && r.threads == 1 &&
        r.load == LoadModel::closed && r.throughput > 0)
      return r.throughput;
  }
  return std::nullopt;
}

inline std::string format_spread(const Spread& s) {
  if (s.count() < 2) return "-";
  return format_fixed(100 * s.fraction(), 0) + "%";
}

// reference_row: the table's 1-thread closed row of the reference design, or nullptr.
inline const ReportRow* reference_row(const std::vector<ReportRow>& rows) {
  for (const auto& row : rows) {
    const RunResult& r = row.result;
    if (r.traits.family == Family::reference && r.design != kHarnessRowName && r.threads == 1 &&
        r.load == LoadModel::closed)
      return &row;
  }
  return nullptr;
}

// An open row whose achieved rate is below this fraction of the offered one fell behind.
inline constexpr double kFellBehindFraction = 0.97;

inline bool fell_behind(const RunResult& r) {
  return r.load == LoadModel::open &&
         (r.unissued > 0 || r.throughput < kFellBehindFraction * r.offered_rate);
}

inline std::string join_numbers(const std::vector<unsigned>& v) {
  std::string text;
  for (unsigned n : v) text += (text.empty() ? "" : ",") + std::to_string(n);
  return text;
}

inline std::string join_percents(const std::vector<double>& v) {
  std::string text;
  for (double p : v) text += (text.empty() ? "" : ",") + format_percent(p);
  return text;
}

// load_average_1min: /proc/loadavg's first field, or -1 if unreadable.
inline double load_average_1min() {
  std::ifstream in("/proc/loadavg");
  double v = -1;
  return (in >> v) ? v : -1;
}

inline void print_run_header(std::ostream& out, const MachineInfo& m, const TimerFloor& floor,
                             const CompareOptions& o) {
  out << "machine:     " << m.cpu << ", " << m.cores << " cores, host " << m.host_name << "\n"
      << "build:       " << m.compiler << ", " << m.build_type << ", git " << m.git_revision
      << "\n"
      << "date:        " << m.date_utc << "\n"
      << "clock:       " << latency_clock_info().name()
      << " for the latency passes, steady_clock for windows and open schedules\n"
      << "             (" << latency_clock_info().why << ")\n"
      << "timer floor: p50 " << floor.p50_ns << " ns, p99 " << floor.p99_ns
      << " ns (an empty operation timed like every design call of a latency pass)\n"
      << "profile:     " << to_string(o.profile) << ": load " << to_string(o.load)
      << "; closed threads " << join_numbers(o.closed_thread_counts());
  if (o.wants_open())
    out << "; open threads " << join_numbers(o.open_threads) << " at "
        << join_percents(o.rates) << "% of the closed row, clients' wait "
        << (o.open_wait.empty() ? std::string("auto") : o.open_wait);
  out << ";\n             closed rows " << o.repeats << " x " << format_fixed(o.seconds, 2)
      << " s interleaved, open rows " << format_fixed(o.seconds, 2) << " s; seed " << o.seed
      << "\n"
      << "knobs:       ";
  std::size_t column = 13;
  bool first = true;
  for (const auto& [name, value] : knob_values(o.knobs)) {
    const std::string item = name + "=" + value;
    if (!first && column + 1 + item.size() > 100) {
      out << "\n             ";
      column = 13;
    } else if (!first) {
      out << ' ';
      ++column;
    }
    out << item;
    column += item.size();
    first = false;
  }
  out << "\n"
      << "method:      closed: each client issues its next op when the last returns (saturation;\n"
      << "             tails understated). ops/s: an untimed window of ops drawn beforehand (a\n"
      << "             cycled per-client buffer; the order stream draws in the loop), counted,\n"
      << "             the window timed once; latency: a separate pass after it, every op timed\n"
      << "             into per-thread log-linear histograms (<0.1% error) merged after join;\n"
      << "             the `harness` row is an empty design driven the same way (the ceiling);\n"
      << "             a closed row is the median of short repetitions run round-robin over\n"
      << "             the designs (A B C A B C ...), spread = (max - min) / median of\n"
      << "             the middle repetitions (of 5 or more, the lowest and highest left out),\n"
      << "             '?' above " << format_fixed(100 * kWideSpreadFraction, 0) << "%.\n"
      << "             open: ops on a fixed schedule at a % of the closed row's ops/s, latency\n"
      << "             from each op's intended start (coordinated omission corrected)\n"
      << "abseil:      mutex deadlock detection OFF for this benchmark (kIgnore: it costs\n"
      << "             ~40 ns per uncontended lock in Debian's build); tests keep it on\n";
  if (const double load = load_average_1min(); load >= 0) {
    out << "load:        1-minute load average " << format_fixed(load, 2) << " at the start";
    if (m.cores != 0 && load > 0.5 * m.cores)
      out << "\nWARNING:     other processes compete for the " << m.cores
          << " cores: every client preempted\n"
          << "             by them adds to the tails, most of all in open rows (a backlog)";
    out << "\n";
  }
}

// A describe() may name the row's thread count; the table spans several, so its heading drops
// a "threads=N" token (the CSV keeps each row's full params).
inline std::string without_threads_token(std::string params) {
  const auto at = params.find("threads=");
  if (at == std::string::npos || (at > 0 && params[at - 1] != ' ')) return params;
  auto end = params.find(' ', at);
  end = end == std::string::npos ? params.size() : end + 1;
  params.erase(at, end - at);
  while (!params.empty() && params.back() == ' ') params.pop_back();
  return params;
}

// row_label: the design's name, "~" for a pipelined design, "#" for a batch row.
inline std::string row_label(const RunResult& r) {
  return r.design + (r.pipelined ? "~" : "") + (r.batched ? "#" : "");
}

// print_table: one workload table, rows in run order (design x threads x load).
inline void print_table(std::ostream& out, std::string_view title, std::string_view params,
                        const std::vector<ReportRow>& rows, const TimerFloor& floor) {
  out << "\n== " << title << " ==  " << without_threads_token(std::string(params)) << "\n";
  if (rows.empty()) {
    out << "(no rows)\n";
    return;
  }
  std::size_t design_width = 6;
  for (const auto& row : rows)  // the "~" of a pipelined design, the "#" of a batch row
    design_width = std::max(design_width, row_label(row.result).size());
  bool any_near_floor = false, any_behind = false, any_open = false, any_pipelined = false;
  bool any_slept = false, any_spun = false, any_spun_all = false;  // open rows' wait policies
  std::uint64_t batch = 0;  // a batch row's commands per call (0: none in this table)
  std::vector<std::string> untrusted;  // rows whose repetitions disagree
  std::size_t repeats = 0;
  const ReportRow* ref_row = reference_row(rows);
  const bool ref_wide = ref_row != nullptr && ref_row->spread.wide();

  auto cell = [&](std::string_view text, int width) {
    out << std::setw(width) << std::string(text);
  };
  out << std::left << std::setw(static_cast<int>(design_width)) << "design" << std::right;
  cell("threads", 8);
  cell("run", 4);
  cell("load", 10);
  cell("ops/s", 10);
  cell("spread", 7);
  cell("p50", 11);
  cell("p99", 10);
  cell("p99.9", 10);
  cell("max", 10);
  cell("svc p99", 10);
  cell("floor p99", 10);
  cell("vs ref", 8);
  out << "  check\n";
  for (const auto& row : rows) {
    const RunResult& r = row.result;
    const bool near = near_timer_floor(r.latency.p50, floor);
    const bool behind = fell_behind(r);
    any_near_floor |= near;
    any_behind |= behind;
    any_open |= r.load == LoadModel::open;
    any_slept |= r.load == LoadModel::open && r.open_wait == OpenWait::sleep;
    any_spun |= r.load == LoadModel::open && r.open_wait == OpenWait::spin_tail;
    any_spun_all |= r.load == LoadModel::open && r.open_wait == OpenWait::spin;
    any_pipelined |= r.pipelined;
    if (r.batched) batch = r.commands_per_call;
    const bool wide = row.spread.wide();
    repeats = std::max(repeats, row.spread.count());
    if (wide) {
      std::ostringstream what;
      what << r.design << " x" << r.threads << " (" << format_rate(row.spread.min()) << ".."
           << format_rate(row.spread.max()) << ")";
      untrusted.push_back(what.str());
    }
    out << std::left << std::setw(static_cast<int>(design_width)) << row_label(r) << std::right;
    cell(std::to_string(r.threads), 8);
    cell(std::to_string(r.runnable_threads()), 4);
    cell(load_label(r), 10);
    cell(format_rate(r.throughput) + (behind ? "!" : "") + (wide ? "?" : ""), 10);
    cell(format_spread(row.spread), 7);
    cell(format_ns(static_cast<double>(r.latency.p50)) + (near ? "*" : " "), 11);
    cell(format_ns(static_cast<double>(r.latency.p99)), 10);
    cell(format_ns(static_cast<double>(r.latency.p999)), 10);
    cell(format_ns(static_cast<double>(r.latency.max)), 10);
    cell(r.load == LoadModel::open ? format_ns(static_cast<double>(r.service.p99)) : "-", 10);
    cell(r.load == LoadModel::open && r.floor_measured
             ? format_ns(static_cast<double>(r.floor.p99))
             : "-",
         10);
    cell(row.vs_ref && r.load == LoadModel::closed
             ? format_fixed(*row.vs_ref, 2) + "x" + (wide || ref_wide ? "?" : "")
             : "-",
         8);
    std::string detail = r.verdict.detail;
    if (detail.size() > 50) detail = detail.substr(0, 47) + "...";
    out << "  " << (r.verdict.passed ? "pass" : "FAIL") << (detail.empty() ? "" : "  ") << detail
        << "\n";
  }
  out << "run = runnable threads (clients + threads the design owns)";
  if (repeats > 1)
    out << "; closed rows: median of " << repeats
        << " interleaved repetitions, spread = (max - min) / median of the middle ones";
  if (any_open)
    out << "; open rows: ops/s achieved at the offered % of the closed row above, latency from\n"
        << "each op's intended start, svc p99 = execute() time only, floor p99 = the harness alone\n"
        << "(the same schedule with an empty operation, measured right after the row); the knee is\n"
        << "the lowest rate whose p99 > " << format_fixed(kKneeFactor, 0)
        << "x max(p50 at the lightest rate, floor p99 at that rate)";
  out << "\n";
  if (any_slept)
    out << "open clients slept to each intended start (absolute-deadline sleep, no spinning):\n"
        << "clients + owned threads exceed the cores (oversubscribed)\n";
  if (any_spun)
    out << "open clients spun the last " << kYieldAboveNs / 1000
        << " us before each start (a core was left over)\n";
  if (any_spun_all) out << "open clients spun the whole wait before each start (--open-wait spin)\n";
  if (!untrusted.empty()) {
    out << "? spread above " << format_fixed(100 * kWideSpreadFraction, 0)
        << "%: do not rank these rows (nor their vs ref):";
    for (const auto& u : untrusted) out << " " << u << ";";
    out << "\n";
  }
  if (ref_wide)
    out << "? the reference row's spread is wide: every vs ref of this table is uncertain\n";
  if (any_behind)
    out << "! achieved below " << format_fixed(kFellBehindFraction * 100, 0)
        << "% of the offered rate: the clients fell behind, the backlog is in the latency\n";
  if (any_near_floor)
    out << "* p50 below " << format_fixed(kNearFloorFactor, 0) << " timer floors ("
        << floor.p50_ns << " ns each): mostly the clock, not the operation\n";
  if (any_pipelined)
    out << "~ pipelined design: latency is the hand-off time, not the reply latency\n";
  if (batch != 0)
    out << "# batch row: each call hands over a batch of " << batch
        << " commands and gets every reply back; ops/s counts\n"
        << "commands (comparable with the other rows), the latency columns are per batch\n";
  if (!reference_throughput(rows)) out << "(vs ref: no 1-thread reference row in this run)\n";
}

// below_harness_floor: an open row whose harness floor p99 (the same schedule, an empty
// operation) is above the design's own p99 (execute() time): the clients' wake-up, not the
// design, makes its tail. Such a row is shown, never ranked.
inline bool below_harness_floor(const RunResult& r) {
  return r.load == LoadModel::open && r.floor_measured && r.floor.p99 > r.service.p99;
}

// oversubscribed: more runnable threads (clients + owned) than cores.
inline bool oversubscribed(const RunResult& r, unsigned cores) {
  return cores != 0 && r.runnable_threads() > cores;
}

// print_compact_table: the terminal's table (120 columns at most). Every column of every row,
// and the whole check text, are in tables.txt and the CSV.
inline void print_compact_table(std::ostream& out, std::string_view title,
                                std::string_view params, const std::vector<ReportRow>& rows,
                                const TimerFloor& floor,
                                unsigned cores = std::thread::hardware_concurrency()) {
  std::string heading = "\n== " + std::string(title) + " ==  " +
                        without_threads_token(std::string(params));
  if (heading.size() > 121) heading = heading.substr(0, 118) + "...";
  out << heading << "\n";
  if (rows.empty()) {
    out << "(no rows)\n";
    return;
  }
  std::size_t design_width = 6;
  for (const auto& row : rows) design_width = std::max(design_width, row_label(row.result).size());
  design_width = std::min<std::size_t>(design_width, 22);
  const ReportRow* ref_row = reference_row(rows);
  const bool ref_wide = ref_row != nullptr && ref_row->spread.wide();
  bool any_near = false, any_behind = false, any_wide = false, any_floor = false,
       any_over = false, any_pipelined = false, any_open = false;
  std::uint64_t batch = 0;
  auto cell = [&](std::string_view text, int width) { out << std::setw(width) << std::string(text); };
  out << std::left << std::setw(static_cast<int>(design_width)) << "design" << std::right;
  cell("threads", 8);
  cell("load", 9);
  cell("ops/s", 9);
  cell("spread", 7);
  cell("p50", 10);
  cell("p99", 10);
  cell("vs ref", 8);
  out << "  check  note\n";
  for (const auto& row : rows) {
    const RunResult& r = row.result;
    const bool near = near_timer_floor(r.latency.p50, floor);
    const bool behind = fell_behind(r);
    const bool wide = row.spread.wide();
    const bool below = below_harness_floor(r);
    const bool over = r.load == LoadModel::open && oversubscribed(r, cores);
    any_near |= near;
    any_behind |= behind;
    any_wide |= wide;
    any_floor |= below;
    any_over |= over;
    any_pipelined |= r.pipelined;
    any_open |= r.load == LoadModel::open;
    if (r.batched) batch = r.commands_per_call;
    std::string label = row_label(r);
    if (label.size() > design_width) label = label.substr(0, design_width - 1) + "~";
    out << std::left << std::setw(static_cast<int>(design_width)) << label << std::right;
    std::string threads = std::to_string(r.threads);
    if (r.traits.owned_threads) threads += "+" + std::to_string(r.traits.owned_threads);
    cell(threads, 8);
    cell(load_label(r), 9);
    cell(format_rate(r.throughput) + (behind ? "!" : "") + (wide ? "?" : ""), 9);
    cell(format_spread(row.spread), 7);
    cell(format_ns(static_cast<double>(r.latency.p50)) + (near ? "*" : ""), 10);
    cell(format_ns(static_cast<double>(r.latency.p99)), 10);
    cell(row.vs_ref && r.load == LoadModel::closed
             ? format_fixed(*row.vs_ref, 2) + "x" + (wide || ref_wide ? "?" : "")
             : "-",
         8);
    out << "  " << (r.verdict.passed ? "pass " : "FAIL ");
    std::string note;
    if (r.load == LoadModel::open && r.floor_measured)
      note = (below ? "below floor " : "floor ") + format_ns(static_cast<double>(r.floor.p99));
    if (over) note += std::string(note.empty() ? "" : ", ") + "oversub.";
    if (!r.verdict.passed) note = r.verdict.detail.substr(0, 28);
    out << (note.empty() ? "" : "  ") << note << "\n";
  }
  std::size_t repeats = 0;
  for (const auto& row : rows) repeats = std::max(repeats, row.spread.count());
  out << "threads: clients(+threads the design owns); ops/s: closed = ";
  if (repeats > 1) out << "median of " << repeats << " interleaved repetitions";
  else out << "one window";
  out << ", open = achieved\n";
  if (any_open)
    out << "open rows: latency from each op's intended start; floor = the harness floor's p99 (the"
        << " same schedule, an\nempty operation)\n";
  if (any_floor)
    out << "below floor: below the harness floor (its p99 exceeds the design's own p99): not"
        << " ranked\n";
  if (any_over)
    out << "oversub.: oversubscribed: clients + owned threads exceed the " << cores
        << " cores; clients sleep to each start\n";
  if (any_wide)
    out << "? spread above " << format_fixed(100 * kWideSpreadFraction, 0)
        << "%: do not rank these rows (nor their vs ref)\n";
  if (ref_wide) out << "? the reference row's spread is wide: every vs ref here is uncertain\n";
  if (any_behind)
    out << "! achieved below " << format_fixed(kFellBehindFraction * 100, 0)
        << "% of the offered rate (the backlog is in the latency)\n";
  if (any_near)
    out << "* p50 below " << format_fixed(kNearFloorFactor, 0) << " timer floors ("
        << floor.p50_ns << " ns each): mostly the clock\n";
  if (any_pipelined) out << "~ pipelined design: latency is the hand-off time, not a reply\n";
  if (batch != 0)
    out << "# batch row: each call hands over a batch of " << batch
        << " commands and gets every reply back; ops/s counts\n"
        << "commands (comparable with the other rows), the latency columns are per batch\n";
  if (!reference_throughput(rows)) out << "(vs ref: no 1-thread reference row in this run)\n";
}

// CsvWriter: RFC 4180 quoting.
class CsvWriter {
 public:
  static std::string quote(std::string_view value) {
    if (value.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(value);
    std::string quoted = "\"";
    for (char c : value) {
      if (c == '"') quoted += '"';
      quoted += c;
    }
    return quoted + '"';
  }
};

}  // namespace cp::bench
