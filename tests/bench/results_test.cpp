// results_test.cpp: the result files of `compare --out DIR`: the percentile curve, rows.csv's
// columns, percentiles.csv, results.json (parsed back by Python's json module) and summary.txt.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bench/harness/compare_app.hpp"
#include "bench/harness/histogram.hpp"
#include "bench/harness/report.hpp"
#include "bench/harness/results.hpp"
#include "tests/support/run_command.hpp"

namespace {

namespace fs = std::filesystem;

// The column order the report generator relies on (the shared spec), then our additions.
const std::vector<std::string> kSpecColumns = {
    "run_id", "profile", "date_utc", "git", "cpu", "cores", "compiler", "build", "workload",
    "table", "params", "design", "family", "thread_safe", "linearizable_reads", "lock_free",
    "waiting", "pipelined", "owned_threads", "threads", "runnable_threads", "load",
    "rate_percent", "offered_per_s", "achieved_per_s", "seconds_requested", "seed", "ops",
    "wall_s", "ops_per_s", "vs_ref", "mean_ns", "min_ns", "p50_ns", "p90_ns", "p99_ns",
    "p999_ns", "p9999_ns", "max_ns", "timer_floor_ns", "p50_near_floor", "passed", "detail"};

// RFC 4180 fields of one line (quoted fields may hold commas and doubled quotes).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}


// Checks results.json with Python's json module: valid JSON, Google Benchmark's keys, ours.
// Prints "ok <benchmarks>" or what is wrong.
const char* const kJsonCheck = R"PY(
import json, re, sys
d = json.load(open(sys.argv[1]))
ctx = d["context"]
for k in ["date", "host_name", "executable", "num_cpus", "mhz_per_cpu", "cpu_scaling_enabled",
          "caches", "load_avg", "library_build_type", "cpu_model", "compiler", "build_type",
          "git_revision", "profile", "timer_floor_ns", "knobs"]:
    assert k in ctx, "context lacks " + k
assert isinstance(ctx["num_cpus"], int) and ctx["cpu_scaling_enabled"] is False
assert isinstance(ctx["caches"], list) and isinstance(ctx["load_avg"], list)
assert isinstance(ctx["knobs"], dict) and ctx["knobs"]["counter.keys"] == "64", ctx["knobs"]
for name in sys.argv[2].split(","):
    assert name in ctx["knobs"], "knob missing: " + name
names = set()
for b in d["benchmarks"]:
    for k in ["name", "family_index", "per_family_instance_index", "run_name", "run_type",
              "repetitions", "repetition_index", "threads", "iterations", "real_time",
              "cpu_time", "time_unit", "items_per_second", "p50_ns", "p90_ns", "p99_ns",
              "p999_ns", "p9999_ns", "max_ns", "passed", "detail", "offered_per_s",
              "achieved_per_s", "runnable_threads"]:
        assert k in b, b["name"] + " lacks " + k
    assert re.fullmatch(r"[^/]+/[^/]+/threads:\d+/(closed|open:\d+(\.\d+)?%)", b["name"]), b["name"]
    assert b["run_type"] == "iteration" and b["time_unit"] == "ns"
    assert b["name"] not in names, "duplicate " + b["name"]
    names.add(b["name"])
    assert b["passed"] is True, b
    if b["name"].endswith("/closed"):
        assert b["offered_per_s"] is None
    else:
        assert b["offered_per_s"] > 0
    assert b["p50_ns"] <= b["p99_ns"] <= b["p999_ns"] <= b["max_ns"]
print("ok", len(d["benchmarks"]))
)PY";

}  // namespace

TEST_CASE("results: percentile curve points halve the tail up to 99.999, then 100", "[unit]") {
  const auto points = cp::bench::percentile_curve_points();
  REQUIRE(points.size() == 19);
  REQUIRE(points[0] == 0.0);
  REQUIRE(points[1] == 50.0);
  REQUIRE(points[2] == 75.0);
  REQUIRE(points[3] == 87.5);
  REQUIRE(points[4] == 93.75);
  for (std::size_t i = 1; i + 1 < points.size(); ++i)
    REQUIRE(100 - points[i] == Approx((100 - points[i - 1]) / 2));
  REQUIRE(points[points.size() - 2] >= 99.999);
  REQUIRE(points[points.size() - 3] < 99.999);
  REQUIRE(points.back() == 100.0);
  REQUIRE(cp::bench::format_percent(87.5) == "87.5");
  REQUIRE(cp::bench::format_percent(50) == "50");
  REQUIRE(cp::bench::format_percent(99.99923706054688) == "99.999237");
}

TEST_CASE("results: the curve reads the histogram: min, percentiles, max", "[unit]") {
  cp::bench::LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 100'000; ++v) h.record(v);
  h.record(5'000'000);  // one outlier: the max
  const auto curve = cp::bench::percentile_curve(h);
  REQUIRE(curve.size() == cp::bench::percentile_curve_points().size());
  REQUIRE(curve.front().latency_ns == 1);
  REQUIRE(curve.back().percentile == 100.0);
  REQUIRE(curve.back().latency_ns == 5'000'000);
  for (std::size_t i = 1; i < curve.size(); ++i) {
    REQUIRE(curve[i].latency_ns >= curve[i - 1].latency_ns);
    REQUIRE(curve[i].latency_ns == h.value_at_percentile(curve[i].percentile));
  }
  // p50 of 1..100000 (+1 outlier) is 50001, within the histogram's 0.1%.
  REQUIRE(curve[1].latency_ns >= 50'001);
  REQUIRE(curve[1].latency_ns <= 50'001 + 50'001 / 1024);
}

TEST_CASE("results: JSON strings escape quotes, backslashes and control characters",
          "[unit]") {
  REQUIRE(cp::bench::json_escape("plain") == "\"plain\"");
  REQUIRE(cp::bench::json_escape("a\"b\\c") == "\"a\\\"b\\\\c\"");
  REQUIRE(cp::bench::json_escape("x\ny\tz\x01") == "\"x\\ny\\tz\\u0001\"");
  REQUIRE(cp::bench::json_number(1.5) == "1.5");
  REQUIRE(cp::bench::json_number(0.0 / 0.0) == "null");
}

TEST_CASE("results: compare --out writes rows.csv, percentiles.csv, results.json, summary.txt",
          "[unit]") {
  const fs::path dir =
      fs::temp_directory_path() / ("compare_results_test_" + std::to_string(getpid()));
  fs::remove_all(dir);
  const fs::path csv = dir.string() + ".csv";
  std::ostringstream terminal, progress;
  const int status = cp::bench::run_compare(
      {"--workload", "counter", "--design", "reference,mutex", "--threads", "1,2", "--seconds",
       "0.02", "--repeats", "2", "--rates", "50,80", "--set", "counter.theta=0.5", "--out",
       dir.string(), "--csv",
       csv.string()},
      terminal, progress);
  INFO(terminal.str() << "\n--- progress ---\n" << progress.str());
  REQUIRE(status == 0);
  // Rows: reference closed + 2 open at 1 thread; mutex closed at 1 and 2, 2 open at 2.
  const std::size_t expected_rows = 3 + 4;

  // The terminal: the profile, every knob, the load column, progress with an ETA.
  const std::string text = terminal.str();
  for (const char* part : {"profile:     default", "knobs:", "counter.theta=0.5", "order.cross=20",
                           "timer floor:", "clock:", "load", "open 50%", "open 80%", "closed",
                           "floor ", "results: " })
    REQUIRE(text.find(part) != std::string::npos);
  // Every line of the terminal's tables fits 120 columns; the long columns are in tables.txt.
  std::istringstream terminal_lines(text);
  for (std::string line; std::getline(terminal_lines, line);) {
    if (line.rfind("results: ", 0) == 0 || line.rfind("CSV: ", 0) == 0) continue;  // paths
    INFO(line);
    REQUIRE(line.size() <= 120);
  }
  const std::string tables = read_all(dir / "tables.txt");
  for (const char* part : {"svc p99", "p99.9", "run", "== counter =="})
    REQUIRE(tables.find(part) != std::string::npos);
  REQUIRE(progress.str().find("ETA") != std::string::npos);

  // summary.txt is exactly what the terminal got.
  REQUIRE(read_all(dir / "summary.txt") == text);

  // rows.csv: the spec's columns in order, one line per row, every line as wide as the header.
  const auto rows = read_lines(dir / "rows.csv");
  REQUIRE(rows.size() == 1 + expected_rows);
  const auto header = csv_fields(rows[0]);
  REQUIRE(header.size() >= kSpecColumns.size());
  REQUIRE(std::vector<std::string>(header.begin(), header.begin() + kSpecColumns.size()) ==
          kSpecColumns);
  auto column = [&](const std::string& name) {
    return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) -
                                    header.begin());
  };
  std::set<std::string> run_ids;
  std::size_t open_rows = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto f = csv_fields(rows[i]);
    INFO(rows[i]);
    REQUIRE(f.size() == header.size());
    REQUIRE(run_ids.insert(f[column("run_id")]).second);
    REQUIRE(f[column("profile")] == "default");
    REQUIRE(f[column("passed")] == "1");
    REQUIRE(f[column("params")].find("theta=0.5") != std::string::npos);
    REQUIRE(std::stoul(f[column("runnable_threads")]) >= std::stoul(f[column("threads")]));
    REQUIRE(!f[column("vs_ref")].empty());  // the reference ran
    if (f[column("load")] == "open") {
      ++open_rows;
      REQUIRE((f[column("rate_percent")] == "50" || f[column("rate_percent")] == "80"));
      REQUIRE(std::stod(f[column("offered_per_s")]) > 0);
    } else {
      REQUIRE(f[column("load")] == "closed");
      REQUIRE(f[column("rate_percent")].empty());
      REQUIRE(f[column("offered_per_s")].empty());
    }
    REQUIRE(f[column("achieved_per_s")] == f[column("ops_per_s")]);
    REQUIRE(std::stoull(f[column("p50_ns")]) <= std::stoull(f[column("max_ns")]));
  }
  REQUIRE(open_rows == 4);
  // --csv holds the same table.
  REQUIRE(read_all(csv) == read_all(dir / "rows.csv"));

  // percentiles.csv: every row's curve, 19 points each, ending at percentile 100.
  const auto curves = read_lines(dir / "percentiles.csv");
  REQUIRE(curves[0] ==
          "run_id,workload,table,design,threads,load,rate_percent,percentile,latency_ns");
  REQUIRE(curves.size() == 1 + expected_rows * cp::bench::percentile_curve_points().size());
  std::set<std::string> curve_ids;
  for (std::size_t i = 1; i < curves.size(); ++i) {
    const auto f = csv_fields(curves[i]);
    REQUIRE(f.size() == 9);
    curve_ids.insert(f[0]);
  }
  REQUIRE(curve_ids == run_ids);
  REQUIRE(csv_fields(curves.back())[7] == "100");

  // results.json: parsed back by Python.
  const fs::path script = dir / "check_json.py";
  std::ofstream(script) << kJsonCheck;
  std::string knob_names;
  for (const auto& spec : cp::bench::knob_specs())
    knob_names += (knob_names.empty() ? "" : ",") + std::string(spec.name);
  const auto [py_status, py_output] =
      cp::test::run_command("/usr/bin/python3 " + script.string() + " " + (dir / "results.json").string() +
                  " " + knob_names + " 2>&1");
  INFO(py_output);
  REQUIRE(py_status == 0);
  REQUIRE(py_output == "ok " + std::to_string(expected_rows) + "\n");

  fs::remove_all(dir);
  fs::remove(csv);
}

// ---- closed rows as repetitions: median, spread and the wide-spread mark --------------------

TEST_CASE("repeats: the median and the spread of a row's repetitions", "[unit]") {
  using cp::bench::median_of;
  using cp::bench::Spread;
  REQUIRE(median_of({3, 1, 2}) == 2);
  REQUIRE(median_of({4, 1, 3, 2}) == 2.5);
  REQUIRE(median_of({7}) == 7);
  REQUIRE_THROWS_AS(median_of({}), std::invalid_argument);

  const Spread tight{{100, 104, 98, 101, 99}};
  REQUIRE(tight.median() == 100);
  REQUIRE(tight.min() == 98);
  REQUIRE(tight.max() == 104);
  // Five or more: the lowest and highest are left out (middle three: 99..101).
  REQUIRE(tight.fraction() == Approx(0.02));
  REQUIRE_FALSE(tight.wide());
  // One slow repetition out of five moves neither the median nor the spread; min() shows it.
  const Spread one_slow{{100, 104, 60, 101, 99}};
  REQUIRE(one_slow.median() == 100);
  REQUIRE(one_slow.min() == 60);
  REQUIRE(one_slow.fraction() == Approx(0.02));
  REQUIRE_FALSE(one_slow.wide());
  // Two slow ones of five widen it: the middle three are 60..100.
  const Spread two_slow{{100, 104, 60, 58, 101}};
  REQUIRE(two_slow.median() == 100);
  REQUIRE(two_slow.fraction() == Approx(0.41));
  REQUIRE(two_slow.wide());
  // Below five samples nothing is left out.
  REQUIRE((Spread{{100, 60, 101, 99}}).fraction() == Approx(41.0 / 99.5));
  // Exactly at the threshold is not wide; just above is.
  const double t = cp::bench::kWideSpreadFraction;
  REQUIRE_FALSE((Spread{{100, 100, 100 + 100 * t}}).wide());
  REQUIRE((Spread{{100, 100, 100 + 100 * t + 1}}).wide());
  REQUIRE((Spread{{5}}).fraction() == 0);
  REQUIRE((Spread{{0, 0, 0}}).fraction() == 0);
}

namespace {
cp::bench::RunResult window_of(double throughput, std::uint64_t ops, std::uint64_t latency_ns,
                               bool passed = true) {
  cp::bench::RunResult r;
  r.design = "mutex";
  r.threads = 2;
  r.throughput = throughput;
  r.ops = ops;
  r.wall_seconds = static_cast<double>(ops) / throughput;
  for (std::uint64_t i = 0; i < ops; ++i) r.histogram.record(latency_ns);
  if (!passed) r.verdict = {false, "exception in a client: boom"};
  return r;
}
}  // namespace

TEST_CASE("repeats: a repeated row is the median of its windows, every operation merged",
          "[unit]") {
  cp::bench::RepeatedRow row;
  REQUIRE(row.empty());
  row.add(window_of(300, 30, 100));
  row.add(window_of(100, 10, 1000));
  row.add(window_of(200, 20, 10));
  REQUIRE(row.passed());
  row.finish({true, "exact: 60 adds"});
  REQUIRE(row.spread().samples == std::vector<double>{300, 100, 200});  // run order
  const cp::bench::RunResult r = row.result();
  REQUIRE(r.throughput == 200);  // the median, not the mean or the sum
  REQUIRE(r.ops == 60);
  REQUIRE(r.latency.min == 10);
  REQUIRE(r.latency.max == 1000);
  REQUIRE(r.verdict.passed);
  REQUIRE(r.verdict.detail == "exact: 60 adds");

  // A failing window fails the row; the final check cannot overwrite it.
  cp::bench::RepeatedRow bad;
  bad.add(window_of(100, 10, 100));
  bad.add(window_of(100, 10, 100, false));
  bad.add(window_of(100, 10, 100));
  REQUIRE_FALSE(bad.passed());
  bad.finish({true, "exact"});
  REQUIRE(bad.result().verdict.detail == "exception in a client: boom");
  // ...and a failing final check fails a row whose windows all ran.
  cp::bench::RepeatedRow wrong;
  wrong.add(window_of(100, 10, 100));
  wrong.finish({false, "total 9, expected 10"});
  REQUIRE_FALSE(wrong.result().verdict.passed);

  REQUIRE(cp::bench::vs_ref_of_medians(150, 100.0) == Approx(1.5));
  REQUIRE_FALSE(cp::bench::vs_ref_of_medians(150, std::nullopt));
  REQUIRE_FALSE(cp::bench::vs_ref_of_medians(150, 0.0));
}

TEST_CASE("results: a row whose repetitions disagree is marked in the table, CSV and JSON",
          "[unit]") {
  using namespace cp::bench;
  auto make = [](std::string design, cp::Family family, std::vector<double> samples) {
    RepeatedRow rep;
    for (double s : samples) {
      RunResult r = window_of(s, 10, 100);
      r.design = design;
      r.traits.family = family;
      r.threads = 1;
      rep.add(std::move(r));
    }
    rep.finish({true, "ok"});
    Spread spread = rep.spread();
    ReportRow row = ReportRow::of("r1", "counter", rep.result());
    row.spread = std::move(spread);
    return row;
  };
  std::vector<ReportRow> rows;
  rows.push_back(make("reference", cp::Family::reference, {100, 101, 99, 100, 102}));
  rows.push_back(make("steady", cp::Family::mutex, {150, 151, 149, 150, 152}));
  rows.push_back(make("jumpy", cp::Family::mutex, {150, 90, 151, 95, 150}));  // two slow of five
  rows[1].run_id = "r2";
  rows[2].run_id = "r3";
  const auto ref = reference_throughput(rows);
  REQUIRE(ref == 100);
  for (auto& row : rows) row.vs_ref = vs_ref_of_medians(row.result.throughput, ref);
  REQUIRE(*rows[1].vs_ref == Approx(1.5));

  std::ostringstream table;
  print_table(table, "counter", "keys=64", rows, TimerFloor{20, 40});
  const std::string text = table.str();
  INFO(text);
  REQUIRE(text.find("spread") != std::string::npos);
  REQUIRE(text.find("median of 5 interleaved repetitions") != std::string::npos);
  REQUIRE(text.find("do not rank these rows (nor their vs ref): jumpy x1 (90..151);") !=
          std::string::npos);
  REQUIRE(text.find("steady x1") == std::string::npos);  // only the wide row is named
  REQUIRE(text.find("150?") != std::string::npos);      // its ops/s cell is marked
  REQUIRE(text.find("1.50x?") != std::string::npos);    // and its vs ref
  REQUIRE(text.find("1.50x ") != std::string::npos);    // the steady row's is not

  RunContext ctx{MachineInfo::detect(), TimerFloor{20, 40}, CompareOptions{}, "compare"};
  const auto header = csv_fields(rows_csv_header());
  auto column = [&](const ReportRow& row, const std::string& name) {
    const auto fields = csv_fields(rows_csv_line(row, ctx));
    REQUIRE(fields.size() == header.size());
    return fields[std::find(header.begin(), header.end(), name) - header.begin()];
  };
  REQUIRE(column(rows[2], "repeats") == "5");
  REQUIRE(column(rows[2], "ops_per_s") == "150.0");
  REQUIRE(column(rows[2], "ops_per_s_min") == "90.0");
  REQUIRE(column(rows[2], "ops_per_s_max") == "151.0");
  REQUIRE(column(rows[2], "spread") == "0.3667");  // the middle three: 95..150
  REQUIRE(column(rows[2], "wide_spread") == "1");
  REQUIRE(column(rows[1], "wide_spread") == "0");
  const std::string json = results_json(rows, ctx);
  REQUIRE(json.find("\"repetitions\": 5") != std::string::npos);
  REQUIRE(json.find("\"ops_per_s_samples\": [150, 90, 151, 95, 150]") != std::string::npos);
  REQUIRE(json.find("\"wide_spread\": true") != std::string::npos);
}

TEST_CASE("results: an open row carries its wait policy and harness floor, a closed row none",
          "[unit]") {
  using namespace cp::bench;
  RunResult closed;
  closed.design = "mutex";
  closed.threads = 2;
  RunResult open = closed;
  open.load = LoadModel::open;
  open.offered_rate = 1000;
  open.rate_percent = 10;
  open.open_wait = OpenWait::sleep;
  open.floor_measured = true;
  open.floor.p50 = 17'000;
  open.floor.p99 = 48'000;
  std::vector<ReportRow> rows;
  rows.push_back(ReportRow::of("r1", "counter", RunResult(closed)));
  rows.push_back(ReportRow::of("r2", "counter", std::move(open)));
  RunContext ctx{MachineInfo::detect(), TimerFloor{20, 40}, CompareOptions{}, "compare"};
  const auto header = csv_fields(rows_csv_header());
  auto column = [&](const ReportRow& row, const std::string& name) {
    const auto fields = csv_fields(rows_csv_line(row, ctx));
    REQUIRE(fields.size() == header.size());
    const auto at = std::find(header.begin(), header.end(), name);
    REQUIRE(at != header.end());
    return fields[at - header.begin()];
  };
  REQUIRE(column(rows[1], "open_wait") == "sleep");
  REQUIRE(column(rows[1], "floor_p50_ns") == "17000");
  REQUIRE(column(rows[1], "floor_p99_ns") == "48000");
  REQUIRE(column(rows[0], "open_wait").empty());
  REQUIRE(column(rows[0], "floor_p99_ns").empty());
  const std::string json = results_json(rows, ctx);
  REQUIRE(json.find("\"floor_p99_ns\": 48000") != std::string::npos);
  REQUIRE(json.find("\"open_wait\": \"sleep\"") != std::string::npos);
  REQUIRE(json.find("\"floor_p99_ns\": null") != std::string::npos);

  std::ostringstream table;
  print_table(table, "counter", "keys=64", rows, TimerFloor{20, 40});
  INFO(table.str());
  REQUIRE(table.str().find("floor p99") != std::string::npos);
  REQUIRE(table.str().find("48.0 us") != std::string::npos);
  REQUIRE(table.str().find("absolute-deadline sleep") != std::string::npos);
}
