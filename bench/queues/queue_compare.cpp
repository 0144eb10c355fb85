// queue_compare: our queues beside well-kept peers, in one run, through one histogram.
//
// Three scenarios per queue (bench/queues/README.md has the method and the caveats):
//   1p1c  1 producer -> 1 consumer: items/s, median of --repetitions, FIFO + exactly-once checked
//   2p1c  2 producers -> 1 consumer (multi-producer queues): per-producer FIFO + exactly-once
//   rtt   request/reply over two queues to an echo thread: round-trip latency percentiles
//
//   ./queue_compare                          # everything, defaults (~30 s on 2 cores)
//   ./queue_compare --queues boost-spsc,mutex-ring --scenario 1p1c --items 5000000
//   ./queue_compare --csv results/queues.csv
//
// Exit status: 0 every row passed its check, 1 some row failed, 2 bad usage.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/histogram.hpp"
#include "bench/harness/report.hpp"
#include "bench/harness/runner.hpp"
#include "bench/harness/timer.hpp"
#include "bench/queues/queue_adapters.hpp"
#include "bench/queues/queue_options.hpp"
#include "bench/queues/queue_scenarios.hpp"

namespace {

using namespace cp::bench;
using namespace cp::bench::queues;
using Queues = AllQueues<Item>;

struct Row {
  std::string scenario;  // 1p1c | 2p1c | rtt
  std::string queue;
  std::string library;
  bool multi_producer = false;
  bool batched = false;
  unsigned threads = 0;  // spinning threads of the scenario
  // transfers
  std::uint64_t items = 0;  // per repetition (as sent)
  bool fifo_checked = true;  // false: a multi-producer run of a queue without per-producer FIFO
  std::uint64_t reordered = 0;  // then: order breaks, all repetitions (TransferResult::reordered)
  std::vector<double> rates;
  double median_rate = 0, min_rate = 0, max_rate = 0;
  // round trips
  std::uint64_t round_trips = 0;
  LatencySummary latency;
  double vs_best = 0;  // transfers: rate / best rate; rtt: p50 / best p50
  bool passed = false;
  std::string detail;
};

// load_average: the 1-minute load average (/proc/loadavg), or -1. Printed before and after the
// run: the 2-core machines here are shared, and two spinning threads that the scheduler puts
// on one core (because another process holds the other) move capacity items per time slice.
double load_average() {
  std::ifstream in("/proc/loadavg");
  double one = -1;
  in >> one;
  return in ? one : -1;
}

double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

template <class Q>
Row run_transfer_row(const QueueCompareOptions& o, const std::string& scenario,
                     unsigned producers) {
  Row row;
  row.scenario = scenario;
  row.queue = std::string(Q::name);
  row.library = std::string(Q::library);
  row.multi_producer = Q::multi_producer;
  row.batched = uses_batch<Q>(o.batch);
  row.threads = producers + 1;
  row.fifo_checked = producers == 1 || Q::per_producer_fifo;
  TransferConfig c;
  c.capacity = o.capacity;
  c.producers = producers;
  c.batch = o.batch;
  c.max_seconds = o.seconds;
  // One unmeasured warm-up repetition (a tenth of the items): page faults, caches, clocks.
  c.items = std::max<std::uint64_t>(1, o.items / 10);
  c.max_seconds = o.seconds / 10;
  TransferResult warm = run_transfer<Q>(c);
  c.max_seconds = o.seconds;
  row.passed = warm.passed;
  row.detail = warm.passed ? "" : "warm-up: " + warm.detail;
  c.items = o.items;
  for (unsigned rep = 0; rep < o.repetitions && row.passed; ++rep) {
    TransferResult r = run_transfer<Q>(c);
    row.rates.push_back(r.items_per_second);
    row.items = r.sent;
    row.reordered += r.reordered;
    row.passed = r.passed;
    row.detail = r.passed ? r.detail + " (x" + std::to_string(o.repetitions) + ")" : r.detail;
  }
  if (!row.rates.empty()) {
    row.median_rate = median_of(row.rates);
    row.min_rate = *std::min_element(row.rates.begin(), row.rates.end());
    row.max_rate = *std::max_element(row.rates.begin(), row.rates.end());
  }
  return row;
}

template <class Q>
Row run_rtt_row(const QueueCompareOptions& o) {
  Row row;
  row.scenario = "rtt";
  row.queue = std::string(Q::name);
  row.library = std::string(Q::library);
  row.multi_producer = Q::multi_producer;
  row.threads = 2;
  RoundTripConfig c;
  c.capacity = o.capacity;
  c.round_trips = o.round_trips;
  c.warmup = std::max<std::uint64_t>(1, o.round_trips / 10);
  c.max_seconds = o.seconds;
  RoundTripResult r = run_round_trip<Q>(c);
  row.round_trips = r.histogram.count();
  row.latency = LatencySummary::of(r.histogram);
  row.passed = r.passed;
  row.detail = r.detail;
  return row;
}

void set_ratios(std::vector<Row>& rows) {
  double best_rate = 0, best_p50 = 0;
  for (const auto& r : rows) {
    if (!r.passed) continue;
    best_rate = std::max(best_rate, r.median_rate);
    if (r.round_trips && (best_p50 == 0 || r.latency.p50 < best_p50))
      best_p50 = static_cast<double>(r.latency.p50);
  }
  for (auto& r : rows) {
    if (r.scenario == "rtt")
      r.vs_best = best_p50 > 0 ? static_cast<double>(r.latency.p50) / best_p50 : 0;
    else
      r.vs_best = best_rate > 0 ? r.median_rate / best_rate : 0;
  }
}

// format_ratio: "1.00x", "12.3x", "1417x" (a disturbed row can be thousands of times off).
std::string format_ratio(double v) { return three_digits(v) + "x"; }

std::string check_cell(const Row& r) {
  std::string detail = r.detail;
  if (detail.size() > 70) detail = detail.substr(0, 67) + "...";
  return std::string(r.passed ? "pass" : "FAIL") + (detail.empty() ? "" : "  ") + detail;
}

void print_transfer_table(std::ostream& out, const std::string& title,
                          const QueueCompareOptions& o, const std::vector<Row>& rows,
                          unsigned threads) {
  out << "\n== " << title << " ==  items=" << o.items << " capacity=" << o.capacity
      << " repetitions=" << o.repetitions << " batch=" << o.batch << " threads=" << threads
      << " (busy-spin)\n";
  if (rows.empty()) {
    out << "(no rows)\n";
    return;
  }
  out << std::left << std::setw(20) << "queue" << std::right << std::setw(11) << "items/s"
      << std::setw(22) << "min .. max" << std::setw(8) << "spread" << std::setw(9) << "vs best"
      << "  check\n";
  for (const auto& r : rows) {
    const double spread = r.median_rate > 0 ? (r.max_rate - r.min_rate) / r.median_rate : 0;
    out << std::left << std::setw(20) << (r.queue + (r.batched ? " [b]" : "")) << std::right
        << std::setw(11) << format_rate(r.median_rate) << std::setw(22)
        << (format_rate(r.min_rate) + " .. " + format_rate(r.max_rate)) << std::setw(7)
        << format_fixed(spread * 100, 0) << "%" << std::setw(9) << format_ratio(r.vs_best) << "  "
        << check_cell(r) << "\n";
  }
  for (const auto& r : rows)
    if (!r.fifo_checked && r.passed)
      out << r.queue << ": exactly-once checked, per-producer order not (the library does not\n"
          << "  keep it under preemption, see queue_adapters.hpp): " << r.reordered
          << " order breaks in " << r.rates.size()
          << " repetitions (an item not directly after its producer's previous one)\n";
  out << "items/s: median of the repetitions (consumer's clock: start signal to last item);\n"
         "spread: (max - min) / median; vs best: median / the fastest passing median\n";
  if (o.batch > 1) out << "[b]: consumer used the queue's bulk pop (up to --batch items)\n";
}

void print_rtt_table(std::ostream& out, const QueueCompareOptions& o,
                     const std::vector<Row>& rows, const TimerFloor& floor) {
  out << "\n== rtt: request/reply round trip (client -> A -> echo -> B -> client) ==  "
         "round-trips="
      << o.round_trips << " capacity=" << o.capacity << " threads=2 (busy-spin)\n";
  if (rows.empty()) {
    out << "(no rows)\n";
    return;
  }
  out << std::left << std::setw(20) << "queue" << std::right << std::setw(9) << "trips"
      << std::setw(10) << "p50" << std::setw(10) << "p90" << std::setw(10) << "p99"
      << std::setw(10) << "p99.9" << std::setw(10) << "max" << std::setw(9) << "vs best"
      << "  check\n";
  bool any_near = false;
  for (const auto& r : rows) {
    const bool near = near_timer_floor(r.latency.p50, floor);
    any_near |= near;
    out << std::left << std::setw(20) << r.queue << std::right << std::setw(9)
        << format_rate(static_cast<double>(r.round_trips)) << std::setw(10)
        << (format_ns(static_cast<double>(r.latency.p50)) + (near ? "*" : "")) << std::setw(10)
        << format_ns(static_cast<double>(r.latency.p90)) << std::setw(10)
        << format_ns(static_cast<double>(r.latency.p99)) << std::setw(10)
        << format_ns(static_cast<double>(r.latency.p999)) << std::setw(10)
        << format_ns(static_cast<double>(r.latency.max)) << std::setw(9)
        << format_ratio(r.vs_best) << "  " << check_cell(r) << "\n";
  }
  out << "each round trip timed by the client (two steady_clock reads, one timer floor "
      << floor.p50_ns << " ns included); vs best: p50 / the lowest passing p50\n";
  if (any_near)
    out << "* p50 below " << format_fixed(kNearFloorFactor, 0)
        << " timer floors: mostly the clock, not the queue\n";
}

std::string csv_header() {
  return "date_utc,git,cpu,cores,compiler,build,scenario,queue,library,multi_producer,"
         "capacity,batched,threads,repetitions,items_per_rep,median_items_per_s,"
         "min_items_per_s,max_items_per_s,round_trips,mean_ns,min_ns,p50_ns,p90_ns,p99_ns,"
         "p999_ns,p9999_ns,max_ns,vs_best,timer_floor_ns,fifo_checked,reordered,passed,detail";
}

std::string csv_line(const Row& r, const QueueCompareOptions& o, const MachineInfo& m,
                     const TimerFloor& floor) {
  std::ostringstream out;
  auto text = [&](std::string_view v) { out << CsvWriter::quote(v) << ','; };
  auto field = [&](const auto& v) { out << v << ','; };
  const bool rtt = r.scenario == "rtt";
  text(m.date_utc);
  text(m.git_revision);
  text(m.cpu);
  field(m.cores);
  text(m.compiler);
  text(m.build_type);
  text(r.scenario);
  text(r.queue);
  text(r.library);
  field(int{r.multi_producer});
  field(o.capacity);
  field(int{r.batched});
  field(r.threads);
  field(rtt ? 1u : o.repetitions);
  field(r.items);
  out << format_fixed(r.median_rate, 1) << ',' << format_fixed(r.min_rate, 1) << ','
      << format_fixed(r.max_rate, 1) << ',';
  field(r.round_trips);
  out << format_fixed(r.latency.mean, 1) << ',';
  field(r.latency.min);
  field(r.latency.p50);
  field(r.latency.p90);
  field(r.latency.p99);
  field(r.latency.p999);
  field(r.latency.p9999);
  field(r.latency.max);
  out << format_fixed(r.vs_best, 4) << ',';
  field(floor.p50_ns);
  field(int{r.fifo_checked});
  field(r.reordered);
  field(int{r.passed});
  out << CsvWriter::quote(r.detail);
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  const auto names = queue_names<Queues>();
  const auto parsed =
      parse_queue_options(std::vector<std::string>(argv + 1, argv + argc), names);
  if (!parsed.options) {
    std::cerr << "queue_compare: " << parsed.error << "\n";
    return 2;
  }
  const QueueCompareOptions& o = *parsed.options;
  if (o.help) {
    std::cout << queue_compare_usage();
    return 0;
  }
  if (o.list) {
    for_each_queue<Queues>([]<class Q>() {
      std::cout << std::left << std::setw(20) << Q::name << std::setw(16)
                << (Q::multi_producer ? "multi-producer" : "single-producer")
                << std::setw(17) << (Q::multi_consumer ? "multi-consumer" : "single-consumer")
                << std::setw(19)
                << (!Q::multi_producer      ? "FIFO"
                    : Q::per_producer_fifo ? "per-producer-FIFO"
                                           : "no-producer-order")
                << std::setw(9) << (BlockingQueueAdapter<Q> ? "blocking" : "try-only")
                << std::setw(11) << (BatchConsumer<Q> ? "bulk-pop" : "-") << Q::library
                << "\n";
    });
    return 0;
  }

  std::ofstream csv;
  if (!o.csv_path.empty()) {
    csv.open(o.csv_path);
    if (!csv) {
      std::cerr << "queue_compare: cannot write --csv file '" << o.csv_path << "'\n";
      return 2;
    }
    csv << csv_header() << "\n";
  }

  const auto started = std::chrono::steady_clock::now();
  const MachineInfo machine = MachineInfo::detect();
  const TimerFloor floor = measure_steady_clock_floor();  // the clock the rows use
  std::cout << "machine:     " << machine.cpu << ", " << machine.cores << " cores\n"
            << "build:       " << machine.compiler << ", " << machine.build_type << ", git "
            << machine.git_revision << "\n"
            << "date:        " << machine.date_utc << "\n"
            << "load:        " << format_fixed(load_average(), 2)
            << " (1-min load average at the start; above ~0.5 other processes compete for\n"
            << "             the cores and the spinning threads: expect noise)\n"
            << "timer floor: p50 " << floor.p50_ns << " ns, p99 " << floor.p99_ns
            << " ns (steady_clock, empty operation timed like a round trip)\n"
            << "method:      a repetition moves --items items or runs --seconds ("
            << o.items << " / " << format_fixed(o.seconds, 2) << " s),\n"
            << "             whichever ends first, through a fresh queue; one unmeasured\n"
            << "             warm-up repetition (a tenth of that) first; every item checked\n"
            << "             (per-producer sequence numbers);\n"
            << "             waiting is busy-spin on try_push/try_pop (no pause, no yield)\n"
            << "threads:     1p1c and rtt run 2 spinning threads, 2p1c runs 3; the main\n"
            << "             thread sleeps in join. ";
  if (machine.cores != 0 && machine.cores < 3)
    std::cout << "On " << machine.cores << " cores, 3 spinning threads is\n"
              << "             oversubscription: a preempted consumer stalls the producers\n"
              << "             for a scheduler slice. Read 2p1c as that trap, not as a\n"
              << "             queue's multi-producer speed.\n";
  else
    std::cout << "\n";
  if (const double load = load_average(); machine.cores != 0 && load > machine.cores)
    std::cout << "WARNING:     the load average (" << format_fixed(load, 2) << ") exceeds the "
              << machine.cores << " cores: other processes hold the\n"
              << "             CPUs, and the rows below will show their scheduling more than\n"
              << "             the queues (e.g. round trips of a whole time slice). Rerun later.\n";

  bool all_passed = true;
  std::size_t row_count = 0;
  auto finish = [&](std::vector<Row>& rows) {
    set_ratios(rows);
    for (const auto& r : rows) {
      all_passed &= r.passed;
      ++row_count;
      if (csv) csv << csv_line(r, o, machine, floor) << "\n";
    }
  };
  auto progress = [](const Row& r) {
    std::cerr << "  " << r.scenario << " " << r.queue << ": "
              << (r.scenario == "rtt" ? "p50 " + format_ns(static_cast<double>(r.latency.p50))
                                      : format_rate(r.median_rate) + " items/s")
              << (r.passed ? "" : "  FAIL") << "\n";
  };

  for (const auto& scenario : o.scenarios) {
    std::vector<Row> rows;
    std::vector<std::string> skipped;
    for_each_queue<Queues>([&]<class Q>() {
      if (!o.wants_queue(Q::name)) return;
      if (scenario == "1p1c") {
        rows.push_back(run_transfer_row<Q>(o, scenario, 1));
      } else if (scenario == "2p1c") {
        if constexpr (Q::multi_producer) {
          rows.push_back(run_transfer_row<Q>(o, scenario, 2));
        } else {
          skipped.emplace_back(Q::name);
          return;
        }
      } else {
        rows.push_back(run_rtt_row<Q>(o));
      }
      progress(rows.back());
    });
    finish(rows);
    if (scenario == "1p1c") {
      print_transfer_table(std::cout, "1p1c: 1 producer -> 1 consumer", o, rows, 2);
    } else if (scenario == "2p1c") {
      print_transfer_table(std::cout, "2p1c: 2 producers -> 1 consumer", o, rows, 3);
      if (!skipped.empty()) {
        std::cout << "single-producer queues not run here:";
        for (const auto& s : skipped) std::cout << " " << s;
        std::cout << "\n";
      }
    } else {
      print_rtt_table(std::cout, o, rows, floor);
    }
    std::cout.flush();
  }

  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                           .count();
  std::cout << "\n" << row_count << " rows, " << (all_passed ? "all passed" : "SOME FAILED")
            << ", " << format_fixed(total, 1) << " s, load average at the end "
            << format_fixed(load_average(), 2)
            << (o.csv_path.empty() ? "" : "; CSV: " + o.csv_path) << "\n";
  return all_passed ? 0 : 1;
}
