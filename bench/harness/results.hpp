// results.hpp: what a script reads: the result files of one `compare --out DIR` run.
//
//   RunContext          - what every file repeats: machine, timer floor, options, executable.
//   rows_csv_header     - rows.csv's header (the column order is a spec; see bench/README.md).
//   rows_csv_line       - one row: fingerprint, params, traits, load, throughput, latencies,
//                         verdict.
//   percentiles_csv_*   - every row's HDR-style latency curve, one line per point.
//   json_escape         - a JSON string literal.
//   results_json        - the whole run in Google Benchmark's JSON schema (plus our fields).
//   write_result_files  - rows.csv, percentiles.csv, results.json, summary.txt into a directory.
//
// Latencies are integers in nanoseconds. For open rows the latency columns are measured from
// each operation's intended start and the service_* columns (appended after the spec's
// columns) hold execute() time only; for closed rows both are the same. A closed row's ops/s is
// the median of its repetitions; repeats, min, max, spread and wide_spread follow at the end,
// then, for open rows, the clients' wait policy (open_wait) and the harness's floor at the
// row's schedule (floor_p50_ns, floor_p99_ns; empty for closed rows); last, a batch row's
// commands per call (batch; empty for every other row).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "bench/harness/options.hpp"
#include "bench/harness/report.hpp"
#include "bench/harness/runner.hpp"
#include "bench/harness/timer.hpp"

namespace cp::bench {

struct RunContext {
  MachineInfo machine;
  TimerFloor floor;
  CompareOptions options;
  std::string executable;  // /proc/self/exe
};

inline std::string self_executable() {
  std::error_code ec;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("compare") : path.string();
}

// read_load_averages: /proc/loadavg's 1, 5 and 15 minute load averages (empty if unreadable).
inline std::vector<double> read_load_averages() {
  std::ifstream in("/proc/loadavg");
  std::vector<double> loads;
  double v = 0;
  for (int i = 0; i < 3 && (in >> v); ++i) loads.push_back(v);
  return loads;
}

inline std::string rows_csv_header() {
  return "run_id,profile,date_utc,git,cpu,cores,compiler,build,workload,table,params,design,"
         "family,thread_safe,linearizable_reads,lock_free,waiting,pipelined,owned_threads,"
         "threads,runnable_threads,load,rate_percent,offered_per_s,achieved_per_s,"
         "seconds_requested,seed,ops,wall_s,ops_per_s,vs_ref,mean_ns,min_ns,p50_ns,p90_ns,"
         "p99_ns,p999_ns,p9999_ns,max_ns,timer_floor_ns,p50_near_floor,passed,detail,"
         "service_p50_ns,service_p99_ns,service_p999_ns,service_max_ns,unissued,"
         "repeats,ops_per_s_min,ops_per_s_max,spread,wide_spread,"
         "open_wait,floor_p50_ns,floor_p99_ns,batch";
}

inline std::string rows_csv_line(const ReportRow& row, const RunContext& ctx) {
  const RunResult& r = row.result;
  const MachineInfo& m = ctx.machine;
  const bool open = r.load == LoadModel::open;
  std::ostringstream out;
  auto field = [&](const auto& value) { out << value << ','; };
  auto text = [&](std::string_view value) { out << CsvWriter::quote(value) << ','; };
  text(row.run_id);
  text(to_string(ctx.options.profile));
  text(m.date_utc);
  text(m.git_revision);
  text(m.cpu);
  field(m.cores);
  text(m.compiler);
  text(m.build_type);
  text(r.workload);
  text(row.table);
  text(r.params);
  text(r.design);
  text(to_string(r.traits.family));
  field(int{r.traits.thread_safe});
  field(int{r.traits.linearizable_reads});
  field(int{r.traits.lock_free});
  text(to_string(r.traits.waiting));
  field(int{r.pipelined});
  field(r.traits.owned_threads);
  field(r.threads);
  field(r.runnable_threads());
  text(to_string(r.load));
  out << (open ? format_percent(r.rate_percent) : std::string()) << ',';
  out << (open ? format_fixed(r.offered_rate, 1) : std::string()) << ',';
  out << format_fixed(r.throughput, 1) << ',';  // achieved_per_s
  field(r.requested_seconds);
  field(r.seed);
  field(r.ops);
  out << format_fixed(r.wall_seconds, 6) << ',';
  out << format_fixed(r.throughput, 1) << ',';  // ops_per_s
  out << (row.vs_ref ? format_fixed(*row.vs_ref, 4) : std::string()) << ',';
  field(std::llround(r.latency.mean));
  field(r.latency.min);
  field(r.latency.p50);
  field(r.latency.p90);
  field(r.latency.p99);
  field(r.latency.p999);
  field(r.latency.p9999);
  field(r.latency.max);
  field(ctx.floor.p50_ns);
  field(int{near_timer_floor(r.latency.p50, ctx.floor)});
  field(int{r.verdict.passed});
  text(r.verdict.detail);
  field(r.service.p50);
  field(r.service.p99);
  field(r.service.p999);
  field(r.service.max);
  field(r.unissued);
  // Closed rows: ops_per_s above is the median of `repeats` interleaved repetitions.
  const Spread& s = row.spread;
  field(s.count());
  out << (s.empty() ? std::string() : format_fixed(s.min(), 1)) << ',';
  out << (s.empty() ? std::string() : format_fixed(s.max(), 1)) << ',';
  out << (s.empty() ? std::string() : format_fixed(s.fraction(), 4)) << ',';
  out << int{s.wide()} << ',';
  // Open rows: how the clients waited, and the harness's floor at the row's schedule.
  out << (open ? std::string(to_string(r.open_wait)) : std::string()) << ',';
  out << (open && r.floor_measured ? std::to_string(r.floor.p50) : std::string()) << ',';
  out << (open && r.floor_measured ? std::to_string(r.floor.p99) : std::string()) << ',';
  // Batch rows: commands per call (their latency is per batch); empty for every other row.
  out << (r.batched ? std::to_string(r.commands_per_call) : std::string());
  return out.str();
}

inline std::string percentiles_csv_header() {
  return "run_id,workload,table,design,threads,load,rate_percent,percentile,latency_ns";
}

inline std::string percentiles_csv_lines(const ReportRow& row) {
  const RunResult& r = row.result;
  std::string prefix = CsvWriter::quote(row.run_id) + "," + CsvWriter::quote(r.workload) + "," +
                       CsvWriter::quote(row.table) + "," + CsvWriter::quote(r.design) + "," +
                       std::to_string(r.threads) + "," + std::string(to_string(r.load)) + "," +
                       (r.load == LoadModel::open ? format_percent(r.rate_percent) : "") + ",";
  std::string lines;
  for (const auto& point : row.curve)
    lines += prefix + format_percent(point.percentile) + "," +
             std::to_string(point.latency_ns) + "\n";
  return lines;
}

inline std::string json_escape(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", static_cast<unsigned>(c));
          out += buffer;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// A JSON number: finite doubles with up to 17 significant digits; anything else is null.
inline std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

// benchmark_name: "<table>/<design>/threads:<n>/<closed|open:NN%>".
inline std::string benchmark_name(const ReportRow& row) {
  const RunResult& r = row.result;
  return row.table + "/" + r.design + "/threads:" + std::to_string(r.threads) + "/" +
         (r.load == LoadModel::closed ? std::string("closed")
                                      : "open:" + format_percent(r.rate_percent) + "%");
}

// results_json: Google Benchmark's schema ({"context": ..., "benchmarks": [...]}), one
// benchmark per row; a family is one table x design, its instances the thread counts and loads.
inline std::string results_json(const std::vector<ReportRow>& rows, const RunContext& ctx) {
  const MachineInfo& m = ctx.machine;
  std::ostringstream out;
  out << "{\n  \"context\": {\n"
      << "    \"date\": " << json_escape(m.date_utc) << ",\n"
      << "    \"host_name\": " << json_escape(m.host_name) << ",\n"
      << "    \"executable\": " << json_escape(ctx.executable) << ",\n"
      << "    \"num_cpus\": " << m.cores << ",\n"
      << "    \"mhz_per_cpu\": " << std::llround(m.mhz_per_cpu) << ",\n"
      << "    \"cpu_scaling_enabled\": false,\n"
      << "    \"caches\": [],\n"
      << "    \"load_avg\": [";
  const auto loads = read_load_averages();
  for (std::size_t i = 0; i < loads.size(); ++i) out << (i ? ", " : "") << json_number(loads[i]);
  out << "],\n"
#if defined(NDEBUG)
      << "    \"library_build_type\": \"release\",\n"
#else
      << "    \"library_build_type\": \"debug\",\n"
#endif
      << "    \"cpu_model\": " << json_escape(m.cpu) << ",\n"
      << "    \"compiler\": " << json_escape(m.compiler) << ",\n"
      << "    \"build_type\": " << json_escape(m.build_type) << ",\n"
      << "    \"git_revision\": " << json_escape(m.git_revision) << ",\n"
      << "    \"profile\": " << json_escape(to_string(ctx.options.profile)) << ",\n"
      << "    \"timer_floor_ns\": " << ctx.floor.p50_ns << ",\n"
      << "    \"timer_floor_p99_ns\": " << ctx.floor.p99_ns << ",\n"
      << "    \"seed\": " << ctx.options.seed << ",\n"
      << "    \"seconds_per_row\": " << json_number(ctx.options.seconds) << ",\n"
      << "    \"repeats\": " << ctx.options.repeats << ",\n"
      << "    \"wide_spread_fraction\": " << json_number(kWideSpreadFraction) << ",\n"
      << "    \"load\": " << json_escape(to_string(ctx.options.load)) << ",\n"
      << "    \"closed_threads\": " << json_escape(join_numbers(ctx.options.closed_thread_counts()))
      << ",\n"
      << "    \"open_threads\": " << json_escape(join_numbers(ctx.options.open_threads)) << ",\n"
      << "    \"rates_percent\": " << json_escape(join_percents(ctx.options.rates)) << ",\n"
      << "    \"knobs\": {";
  const auto knobs = knob_values(ctx.options.knobs);
  for (std::size_t i = 0; i < knobs.size(); ++i)
    out << (i ? ", " : "") << json_escape(knobs[i].first) << ": " << json_escape(knobs[i].second);
  out << "}\n  },\n  \"benchmarks\": [";

  std::map<std::pair<std::string, std::string>, std::pair<int, int>> families;  // -> index, n
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ReportRow& row = rows[i];
    const RunResult& r = row.result;
    auto [it, inserted] = families.try_emplace({row.table, r.design},
                                               static_cast<int>(families.size()), 0);
    const int family = it->second.first, instance = it->second.second++;
    const bool open = r.load == LoadModel::open;
    const std::string name = benchmark_name(row);
    out << (i ? "," : "") << "\n    {\n"
        << "      \"name\": " << json_escape(name) << ",\n"
        << "      \"family_index\": " << family << ",\n"
        << "      \"per_family_instance_index\": " << instance << ",\n"
        << "      \"run_name\": " << json_escape(name) << ",\n"
        << "      \"run_type\": \"iteration\",\n"
        << "      \"repetitions\": " << std::max<std::size_t>(1, row.spread.count()) << ",\n"
        << "      \"repetition_index\": 0,\n"
        << "      \"threads\": " << r.threads << ",\n"
        << "      \"iterations\": " << r.ops << ",\n"
        << "      \"real_time\": " << json_number(r.latency.mean) << ",\n"
        << "      \"cpu_time\": " << json_number(r.latency.mean) << ",\n"
        << "      \"time_unit\": \"ns\",\n"
        << "      \"items_per_second\": " << json_number(r.throughput) << ",\n"
        << "      \"run_id\": " << json_escape(row.run_id) << ",\n"
        << "      \"workload\": " << json_escape(r.workload) << ",\n"
        << "      \"table\": " << json_escape(row.table) << ",\n"
        << "      \"design\": " << json_escape(r.design) << ",\n"
        << "      \"params\": " << json_escape(r.params) << ",\n"
        << "      \"load\": " << json_escape(to_string(r.load)) << ",\n"
        << "      \"rate_percent\": " << (open ? json_number(r.rate_percent) : "null") << ",\n"
        << "      \"offered_per_s\": " << (open ? json_number(r.offered_rate) : "null") << ",\n"
        << "      \"achieved_per_s\": " << json_number(r.throughput) << ",\n"
        << "      \"runnable_threads\": " << r.runnable_threads() << ",\n"
        << "      \"pipelined\": " << (r.pipelined ? "true" : "false") << ",\n"
        << "      \"vs_ref\": " << (row.vs_ref ? json_number(*row.vs_ref) : "null") << ",\n"
        << "      \"mean_ns\": " << std::llround(r.latency.mean) << ",\n"
        << "      \"min_ns\": " << r.latency.min << ",\n"
        << "      \"p50_ns\": " << r.latency.p50 << ",\n"
        << "      \"p90_ns\": " << r.latency.p90 << ",\n"
        << "      \"p99_ns\": " << r.latency.p99 << ",\n"
        << "      \"p999_ns\": " << r.latency.p999 << ",\n"
        << "      \"p9999_ns\": " << r.latency.p9999 << ",\n"
        << "      \"max_ns\": " << r.latency.max << ",\n"
        << "      \"service_p50_ns\": " << r.service.p50 << ",\n"
        << "      \"service_p99_ns\": " << r.service.p99 << ",\n"
        << "      \"unissued\": " << r.unissued << ",\n"
        << "      \"open_wait\": "
        << (open ? "\"" + std::string(to_string(r.open_wait)) + "\"" : std::string("null"))
        << ",\n"
        << "      \"floor_p50_ns\": "
        << (open && r.floor_measured ? std::to_string(r.floor.p50) : std::string("null"))
        << ",\n"
        << "      \"floor_p99_ns\": "
        << (open && r.floor_measured ? std::to_string(r.floor.p99) : std::string("null"))
        << ",\n"
        << "      \"batch\": "
        << (r.batched ? std::to_string(r.commands_per_call) : std::string("null")) << ",\n"
        << "      \"ops_per_s_samples\": [";
    for (std::size_t k = 0; k < row.spread.count(); ++k)
      out << (k ? ", " : "") << json_number(row.spread.samples[k]);
    out << "],\n"
        << "      \"spread\": "
        << (row.spread.count() > 1 ? json_number(row.spread.fraction()) : "null") << ",\n"
        << "      \"wide_spread\": " << (row.spread.wide() ? "true" : "false") << ",\n"
        << "      \"p50_near_floor\": "
        << (near_timer_floor(r.latency.p50, ctx.floor) ? "true" : "false") << ",\n"
        << "      \"passed\": " << (r.verdict.passed ? "true" : "false") << ",\n"
        << "      \"detail\": " << json_escape(r.verdict.detail) << "\n"
        << "    }";
  }
  out << "\n  ]\n}\n";
  return out.str();
}

// write_result_files: the four files into `dir` (created if missing). Returns "" or what
// failed, in one line.
inline std::string write_result_files(const std::string& dir, const std::vector<ReportRow>& rows,
                                      const RunContext& ctx, const std::string& summary) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create '" + dir + "': " + ec.message();
  auto write = [&](const std::string& name, const std::string& content) -> std::string {
    const std::string path = (std::filesystem::path(dir) / name).string();
    std::ofstream file(path, std::ios::binary);
    file << content;
    file.flush();
    return file ? std::string() : "cannot write '" + path + "'";
  };
  std::string rows_csv = rows_csv_header() + "\n", curves = percentiles_csv_header() + "\n";
  for (const auto& row : rows) {
    rows_csv += rows_csv_line(row, ctx) + "\n";
    curves += percentiles_csv_lines(row);
  }
  const std::string json = results_json(rows, ctx);
  for (const auto& [name, content] : {std::pair<const char*, const std::string*>{"rows.csv", &rows_csv},
                                      {"percentiles.csv", &curves},
                                      {"results.json", &json},
                                      {"summary.txt", &summary}})
    if (auto error = write(name, *content); !error.empty()) return error;
  return "";
}

}  // namespace cp::bench
