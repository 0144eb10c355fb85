// task_flow.cpp (target l04c_task_flow): lesson 04b's order flow with Payment written as
// coroutines on one thread, beside 04b's thread versions, measured the same way.
//
// The same seeded workload as l04_order_flow runs through six Payments: 04b's three thread
// versions (1 the check inline, 2 call Fraud and wait, 3 send and keep serving) and the three
// task versions of task_payment_service.hpp (1 the task sleeps inline, 2 the task co_awaits
// Fraud's verdict, 3 a task per check, spawned, while the serving task goes on). For each it
// prints throughput and the confirmation latency (p50, p99, max) of known customers' orders
// and of new customers' first orders, and whether every order was confirmed exactly once:
// first as fast as the window allows (closed loop), then paced at --rate orders/s (open
// loop, latency from when each order was due). It prints the load average before and after,
// because other work on the machine moves these numbers.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "lessons/04-services-own-state/task_payment_service.hpp"
#include "lessons/common/cli.hpp"

namespace {

using namespace cp::lessons::services;

std::string human(std::uint64_t ns) {
  char buf[32];
  if (ns < 10'000) std::snprintf(buf, sizeof buf, "%llu ns", static_cast<unsigned long long>(ns));
  else if (ns < 10'000'000) std::snprintf(buf, sizeof buf, "%.0f us", static_cast<double>(ns) / 1e3);
  else std::snprintf(buf, sizeof buf, "%.1f ms", static_cast<double>(ns) / 1e6);
  return buf;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  if (!(in >> a >> b >> c)) return "unknown";
  return a + " " + b + " " + c;
}

// Several runs of one row: median of each figure, and the range of the two that matter most.
struct Runs {
  std::vector<double> rate, known_p50, known_p99, new_p50, new_p99;
  bool all_once = true;
  void add(const FlowReport& r) {
    const auto& k = r.basket.known_latency_ns;
    const auto& n = r.basket.new_latency_ns;
    rate.push_back(r.basket.orders_per_second());
    known_p50.push_back(static_cast<double>(k.value_at_percentile(50)));
    known_p99.push_back(static_cast<double>(k.value_at_percentile(99)));
    new_p50.push_back(static_cast<double>(n.value_at_percentile(50)));
    new_p99.push_back(static_cast<double>(n.value_at_percentile(99)));
    all_once = all_once && r.every_order_confirmed_once();
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
double lowest(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double highest(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }
std::string h(double ns) { return human(static_cast<std::uint64_t>(ns)); }

// range(): "lo-hi" in the unit human() picks for the median, so a range stays short.
std::string range(double median_ns, double lo_ns, double hi_ns) {
  char buf[48];
  if (median_ns < 10'000) std::snprintf(buf, sizeof buf, "[%.0f-%.0f]", lo_ns, hi_ns);
  else if (median_ns < 10'000'000) std::snprintf(buf, sizeof buf, "[%.0f-%.0f]", lo_ns / 1e3, hi_ns / 1e3);
  else std::snprintf(buf, sizeof buf, "[%.1f-%.1f]", lo_ns / 1e6, hi_ns / 1e6);
  return buf;
}

// The table fits 100 columns: a row names its form and version number; the legend names them.
void print_header(const char* rate_label) {
  std::printf("  %-8s  %-22s | %-7s %-22s | %-8s %-8s | %s\n", "version", rate_label,
              "known", "known p99 [range]", "new p50", "new p99", "once");
}

void print_row(const char* kind, const char* version, const Runs& r) {
  char label[16], rate[64], p99[64];
  std::snprintf(label, sizeof label, "%s %c", kind, version[0]);
  std::snprintf(rate, sizeof rate, "%6.0f [%.0f-%.0f]", median(r.rate), lowest(r.rate),
                highest(r.rate));
  std::snprintf(p99, sizeof p99, "%s %s", h(median(r.known_p99)).c_str(),
                range(median(r.known_p99), lowest(r.known_p99), highest(r.known_p99)).c_str());
  std::printf("  %-8s  %-22s | %-7s %-22s | %-8s %-8s | %s\n", label, rate,
              h(median(r.known_p50)).c_str(), p99, h(median(r.new_p50)).c_str(),
              h(median(r.new_p99)).c_str(), r.all_once ? "yes" : "NO");
}

}  // namespace

int main(int argc, char** argv) {
  long long orders = 20000, known = 1000, fresh = 200, check_us = 2000, window = 64, rate = 10000,
            seed = 1, threads_too = 1, repeats = 3;
  cp::lessons::Cli cli("l04c_task_flow",
                       "lesson 04b's order flow with Payment as coroutines on one thread, beside "
                       "the thread versions");
  cli.option("orders", orders, "orders the Basket sends", 1, 10'000'000)
      .option("known", known, "known customers (no fraud check)", 1, 1'000'000)
      .option("new", fresh, "new customers: one first order each, checked", 0, 1'000'000)
      .option("check-us", check_us, "how long one fraud check takes, in microseconds", 0,
              10'000'000)
      .option("window", window, "orders in flight at most (rings hold window + 1)", 1, 1 << 20)
      .option("rate", rate, "paced runs: orders per second (0: skip the paced runs)", 0,
              100'000'000)
      .option("seed", seed, "workload seed", 0, 1LL << 62)
      .option("threads-too", threads_too, "1: also run 04b's thread versions (0: tasks only)", 0,
              1)
      .option("repeats", repeats, "runs of each row (median and [min-max] are printed)", 1, 100);
  cli.parse(argc, argv);
  if (fresh > orders) {
    std::fprintf(stderr, "l04c_task_flow: --new must be at most --orders (try --help)\n");
    return 2;
  }

  const Workload workload = make_workload(static_cast<std::size_t>(orders),
                                          static_cast<std::size_t>(known),
                                          static_cast<std::size_t>(fresh),
                                          static_cast<std::uint64_t>(seed));
  std::printf("%lld orders (seed %lld): %lld from %lld known customers, %lld first orders of new\n"
              "customers, each needing a fraud check of %lld us. At most %lld orders in flight.\n"
              "Threads: Basket (main), Order, Payment, Fraud; %u hardware threads. %lld runs a row.\n"
              "Load average before: %s\n",
              orders, seed, orders - fresh, known, fresh, check_us, window,
              std::thread::hardware_concurrency(), repeats, load_average().c_str());
  std::printf("Versions: 1 the check inline in Payment (a task: sleeps inline), 2 call Fraud and\n"
              "wait (a task: co_await Fraud), 3 send it and keep serving (a task: spawn it).\n"
              "known = known customers' p50; once = every order confirmed exactly once.\n");

  bool all_ok = true;
  const auto run_all = [&](double r) {
    const FlowConfig config{FraudCheckMode::send_and_continue,
                            std::chrono::microseconds(check_us),
                            static_cast<std::size_t>(window), r};
    if (threads_too) {
      for (const FraudCheckMode mode : {FraudCheckMode::inline_in_payment,
                                        FraudCheckMode::call_and_wait,
                                        FraudCheckMode::send_and_continue}) {
        FlowConfig c = config;
        c.mode = mode;
        Runs runs;
        for (long long i = 0; i < repeats; ++i) runs.add(run_order_flow(workload, c));
        all_ok = all_ok && runs.all_once;
        print_row("thread", to_string(mode), runs);
      }
    }
    for (const TaskCheckMode mode : {TaskCheckMode::blocks_thread, TaskCheckMode::awaits_inline,
                                     TaskCheckMode::starts_and_goes_on}) {
      Runs runs;
      for (long long i = 0; i < repeats; ++i) runs.add(run_task_order_flow(workload, mode, config));
      all_ok = all_ok && runs.all_once;
      print_row("tasks", to_string(mode), runs);
    }
  };

  std::printf("\nAs fast as the window allows (closed loop):\n");
  print_header("orders/s [range]");
  run_all(0);
  if (rate > 0) {
    std::printf("\nPaced at %lld orders/s (open loop; latency from when each order was due):\n",
                rate);
    print_header("achieved/s [range]");
    run_all(static_cast<double>(rate));
  }
  std::printf("\nLoad average after: %s\n", load_average().c_str());
  if (!all_ok) {
    std::printf("\nFAILED: some order was not confirmed exactly once\n");
    return 1;
  }
  return 0;
}

// How to run:
//   ./build/release/lessons/04-services-own-state/l04c_task_flow
//   ./build/release/lessons/04-services-own-state/l04c_task_flow --threads-too=0 --rate=0
// What to expect: the task rows rank as 04b's thread rows do. Task versions 1 and 2 run at
// about the rate of thread versions 1 and 2 (the checks one after another: about
// --new x --check-us of the run), and known customers' p99 is milliseconds, although in
// version 2 no thread is blocked: the one task that takes requests waits. Task version 3 is
// many times faster and its known customers' p99 falls to the hundreds of microseconds or
// below, as thread version 3's does. Every row says "yes" (exit code 1 if not). On a loaded
// machine every figure moves; compare rows of one run, and look at the load average lines.
