// report.hpp: what a person reads (a table per workload) and what a script reads (CSV).
//
//   MachineInfo        - the fingerprint printed with every result: CPU, cores, compiler, build.
//   format_ns          - 850 ns / 1.25 us / 3.40 ms / 1.20 s
//   format_rate        - 12.3 M / 850 k / 999
//   reference_throughput - the 1-thread reference row's ops/s: the "vs ref" denominator.
//   print_run_header   - machine, timer floor, method, deadlock-detection note.
//   print_table        - rows design x threads: ops/s, p50, p99, p99.9, max, vs ref, check.
//   CsvWriter          - one line per row with every parameter and the fingerprint.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/harness/runner.hpp"
#include "bench/harness/timer.hpp"
#include "comparisons/common/traits.hpp"

// Filled in by bench/CMakeLists.txt (target cp_bench_harness); defaults for other builds.
#ifndef CP_BUILD_TYPE
#define CP_BUILD_TYPE "unknown"
#endif
#ifndef CP_GIT_REVISION
#define CP_GIT_REVISION "unknown"
#endif

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

  static MachineInfo detect() {
    MachineInfo m;
    m.cpu = "unknown CPU";
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
      if (line.rfind("model name", 0) == 0) {
        if (const auto colon = line.find(':'); colon != std::string::npos)
          m.cpu = line.substr(line.find_first_not_of(" \t", colon + 1));
        break;
      }
    }
    m.cores = std::thread::hardware_concurrency();
#if defined(__clang__)
    m.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
    m.compiler = "g++ " __VERSION__;
#else
    m.compiler = "unknown compiler";
#endif
    m.build_type = CP_BUILD_TYPE;
#if defined(CP_SANITIZED)
    m.build_type += " + sanitizers";
#endif
#if !defined(NDEBUG)
    m.build_type += " (assertions on)";
#endif
    m.git_revision = CP_GIT_REVISION;
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

// reference_throughput: ops/s of the 1-thread row of the workload's reference design, if run.
inline std::optional<double> reference_throughput(const std::vector<RunResult>& rows) {
  for (const auto& r : rows)
    if (r.traits.family == Family::reference && r.threads == 1 && r.throughput > 0)
      return r.throughput;
  return std::nullopt;
}

inline void print_run_header(std::ostream& out, const MachineInfo& m, const TimerFloor& floor,
                             double seconds, std::uint64_t seed) {
  out << "machine:     " << m.cpu << ", " << m.cores << " cores\n"
      << "build:       " << m.compiler << ", " << m.build_type << ", git " << m.git_revision
      << "\n"
      << "date:        " << m.date_utc << "\n"
      << "timer floor: p50 " << floor.p50_ns << " ns, p99 " << floor.p99_ns
      << " ns (steady_clock, empty operation timed like every design call)\n"
      << "method:      closed loop, every operation timed into per-thread log-linear\n"
      << "             histograms (<0.1% error) merged after join; " << format_fixed(seconds, 2)
      << " s per row after a short warm-up; seed " << seed << "\n"
      << "abseil:      mutex deadlock detection OFF for this benchmark (kIgnore: it costs\n"
      << "             ~40 ns per uncontended lock in Debian's build); tests keep it on\n";
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

// print_table: one workload (or one mix of it). `title` names it, `params` is describe().
inline void print_table(std::ostream& out, std::string_view title, std::string_view params,
                        const std::vector<RunResult>& rows, const TimerFloor& floor) {
  out << "\n== " << title << " ==  " << without_threads_token(std::string(params)) << "\n";
  if (rows.empty()) {
    out << "(no rows)\n";
    return;
  }
  std::size_t design_width = 6;
  for (const auto& r : rows) design_width = std::max(design_width, r.design.size());
  const auto ref = reference_throughput(rows);
  bool any_near_floor = false;

  auto cell = [&](std::string_view text, int width) {
    out << std::setw(width) << std::string(text);
  };
  out << std::left << std::setw(static_cast<int>(design_width)) << "design" << std::right;
  cell("threads", 8);
  cell("ops/s", 10);
  cell("p50", 11);
  cell("p99", 10);
  cell("p99.9", 10);
  cell("max", 10);
  cell("vs ref", 8);
  out << "  check\n";
  for (const auto& r : rows) {
    const bool near = near_timer_floor(r.latency.p50, floor);
    any_near_floor |= near;
    out << std::left << std::setw(static_cast<int>(design_width)) << r.design << std::right;
    cell(std::to_string(r.threads), 8);
    cell(format_rate(r.throughput), 10);
    cell(format_ns(static_cast<double>(r.latency.p50)) + (near ? "*" : " "), 11);
    cell(format_ns(static_cast<double>(r.latency.p99)), 10);
    cell(format_ns(static_cast<double>(r.latency.p999)), 10);
    cell(format_ns(static_cast<double>(r.latency.max)), 10);
    cell(ref ? format_fixed(r.throughput / *ref, 2) + "x" : "-", 8);
    std::string detail = r.verdict.detail;
    if (detail.size() > 60) detail = detail.substr(0, 57) + "...";
    out << "  " << (r.verdict.passed ? "pass" : "FAIL") << (detail.empty() ? "" : "  ") << detail
        << "\n";
  }
  if (any_near_floor)
    out << "* p50 below " << format_fixed(kNearFloorFactor, 0) << " timer floors ("
        << floor.p50_ns << " ns each): mostly the clock, not the operation\n";
  if (!ref) out << "(vs ref: no 1-thread reference row in this run)\n";
}

// CsvWriter: RFC 4180 quoting; the header names every column.
class CsvWriter {
 public:
  static std::string header() {
    return "date_utc,git,cpu,cores,compiler,build,workload,table,params,design,family,"
           "thread_safe,linearizable_reads,lock_free,waiting,threads,seconds_requested,seed,"
           "ops,wall_s,ops_per_s,vs_ref,mean_ns,min_ns,p50_ns,p90_ns,p99_ns,p999_ns,p9999_ns,"
           "max_ns,timer_floor_ns,p50_near_floor,passed,detail";
  }

  static std::string line(const RunResult& r, std::string_view table, std::optional<double> ref,
                          const MachineInfo& m, const TimerFloor& floor) {
    std::ostringstream out;
    auto field = [&](const auto& value) { out << value << ','; };
    auto text = [&](std::string_view value) { out << quote(value) << ','; };
    text(m.date_utc);
    text(m.git_revision);
    text(m.cpu);
    field(m.cores);
    text(m.compiler);
    text(m.build_type);
    text(r.workload);
    text(table);
    text(r.params);
    text(r.design);
    text(to_string(r.traits.family));
    field(int{r.traits.thread_safe});
    field(int{r.traits.linearizable_reads});
    field(int{r.traits.lock_free});
    text(to_string(r.traits.waiting));
    field(r.threads);
    field(r.requested_seconds);
    field(r.seed);
    field(r.ops);
    out << format_fixed(r.wall_seconds, 6) << ',';
    out << format_fixed(r.throughput, 1) << ',';
    out << (ref ? format_fixed(r.throughput / *ref, 4) : std::string()) << ',';
    out << format_fixed(r.latency.mean, 1) << ',';
    field(r.latency.min);
    field(r.latency.p50);
    field(r.latency.p90);
    field(r.latency.p99);
    field(r.latency.p999);
    field(r.latency.p9999);
    field(r.latency.max);
    field(floor.p50_ns);
    field(int{near_timer_floor(r.latency.p50, floor)});
    field(int{r.verdict.passed});
    out << quote(r.verdict.detail);
    return out.str();
  }

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
