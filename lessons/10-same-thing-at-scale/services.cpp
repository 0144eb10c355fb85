// l10_services: lesson 04's order flow with each service in its own process, talking over
// NATS subjects, beside the same flow in one process; the services' code is lesson 04's.
//
// Without --role (the driver): starts a nats-server on 127.0.0.1 in a temporary folder, then
// for each fraud-check version of lesson 04b runs the seeded workload in one process (rings)
// and across four processes (this program again with --role=order, payment and fraud; the
// Basket stays here). For each run it prints throughput, known and new customers'
// confirmation latency, whether every order was confirmed exactly once, how many
// confirmations overtook an earlier order's, and whether the Basket got the same replies as
// in the one-process run. Exit code 0 if every run was clean and every reply the same.
//
// With --role: one service process (the driver starts these; see services_over_nats.hpp).
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>

#include "lessons/04-services-own-state/order_flow.hpp"
#include "lessons/05-single-writer-engine/crash_recovery.hpp"
#include "lessons/10-same-thing-at-scale/services_over_nats.hpp"
#include "lessons/common/cli.hpp"
#include "patterns/distributed/nats_servers.hpp"

namespace dist = cp::dist;
namespace l10 = cp::lessons::l10;
namespace svc = cp::lessons::services;

namespace {

std::string human(std::uint64_t ns) {
  char buf[32];
  if (ns < 10'000) std::snprintf(buf, sizeof buf, "%lluns", static_cast<unsigned long long>(ns));
  else if (ns < 10'000'000) std::snprintf(buf, sizeof buf, "%.0fus", static_cast<double>(ns) / 1e3);
  else std::snprintf(buf, sizeof buf, "%.1fms", static_cast<double>(ns) / 1e6);
  return buf;
}

std::string p50_p99(const cp::bench::LatencyHistogram& h) {
  return human(h.value_at_percentile(50)) + " " + human(h.value_at_percentile(99));
}

void print_row(const char* where, const svc::FlowReport& r, const l10::Ordering& ord,
               const char* same) {
  std::printf("  %-10s %9.0f | %-17s | %-17s | %-5s | %6zu | %s\n", where,
              r.basket.orders_per_second(), p50_p99(r.basket.known_latency_ns).c_str(),
              p50_p99(r.basket.new_latency_ns).c_str(),
              r.every_order_confirmed_once() ? "yes" : "NO", ord.ahead_of_earlier, same);
}

// libnats's library-wide threads and memory, released at exit (LeakSanitizer then sees only
// ours). Opened first: closing a library never opened crashes inside libnats.
struct NatsLibraryForThisProcess {
  NatsLibraryForThisProcess() { nats_Open(-1); }
  ~NatsLibraryForThisProcess() { nats_CloseAndWait(2000); }
};

}  // namespace

int main(int argc, char** argv) {
  const NatsLibraryForThisProcess nats_library;
  std::string role, url, prefix = "l10";
  long long orders = 2000, known = 100, fresh = 20, check_us = 2000, window = 32, seed = 1,
            mode = 3;
  cp::lessons::Cli cli("l10_services",
                       "lesson 04's services as separate processes over NATS subjects, beside "
                       "the one-process run");
  cli.option("orders", orders, "orders the Basket sends", 1, 1'000'000)
      .option("known", known, "known customers (no fraud check)", 1, 100'000)
      .option("new", fresh, "new customers: one first order each, checked", 0, 100'000)
      .option("check-us", check_us, "how long one fraud check takes, in microseconds", 0,
              10'000'000)
      .option("window", window, "orders in flight at most (rings hold window + 1)", 1, 4096)
      .option("seed", seed, "workload seed", 0, 1LL << 62)
      .text("role", role, "order, payment or fraud: run one service (the driver starts these)")
      .text("url", url, "with --role: the NATS server")
      .text("prefix", prefix, "with --role: the subjects' prefix (default l10)")
      .option("mode", mode, "with --role: the fraud-check version, 1, 2 or 3", 1, 3);
  cli.parse(argc, argv);

  try {
    if (!role.empty()) {  // one service process
      const auto r = l10::role_from(role);
      if (!r || url.empty()) {
        std::fprintf(stderr, "l10_services: --role needs order|payment|fraud and --url\n");
        return 2;
      }
      l10::run_service_process({*r, url, prefix, static_cast<svc::FraudCheckMode>(mode - 1),
                                std::chrono::microseconds(check_us),
                                static_cast<std::size_t>(window),
                                static_cast<std::size_t>(known)});
      return 0;
    }
    if (fresh > orders) {
      std::fprintf(stderr, "l10_services: --new must be at most --orders (try --help)\n");
      return 2;
    }

    const auto workload =
        svc::make_workload(static_cast<std::size_t>(orders), static_cast<std::size_t>(known),
                           static_cast<std::size_t>(fresh), static_cast<std::uint64_t>(seed));
    cp::lessons::l05::TempDir dir("l10_services_");
    std::filesystem::create_directories(dir.path() / "nats");
    dist::NatsServers servers({dir.path() / "nats", 1});
    std::printf("%lld orders (seed %lld), %lld first orders of new customers, a fraud check of "
                "%lld us,\nat most %lld in flight. nats-server on %s.\n",
                orders, seed, fresh, check_us, window, servers.url(0).c_str());
    std::printf("\n  %-10s %9s | %-17s | %-17s | %-5s | %6s | %s\n", "where", "orders/s",
                "known p50 p99", "new p50 p99", "once", "ahead", "same replies");

    const std::string self = std::filesystem::canonical("/proc/self/exe").string();
    bool all_ok = true;
    for (const svc::FraudCheckMode m :
         {svc::FraudCheckMode::inline_in_payment, svc::FraudCheckMode::call_and_wait,
          svc::FraudCheckMode::send_and_continue}) {
      const svc::FlowConfig config{m, std::chrono::microseconds(check_us),
                                   static_cast<std::size_t>(window), 0};
      std::printf("%s\n", svc::to_string(m));
      const svc::FlowReport local = svc::run_order_flow(workload, config);
      const l10::Ordering local_order = l10::ordering_of(local.basket, workload);
      print_row("1 process", local, local_order, "(reference)");

      l10::AcrossProcessesOptions options;
      options.program = self;
      options.url = servers.url(0);
      options.prefix = prefix;
      options.log_dir = dir.path();
      const auto remote = l10::run_order_flow_across_processes(workload, config, options);
      const l10::Ordering remote_order = l10::ordering_of(remote.flow.basket, workload);
      const bool same = l10::same_replies(local.basket, remote.flow.basket) &&
                        remote_order.each_customer_in_send_order &&
                        remote_order.known_in_send_order;
      print_row("4 procs", remote.flow, remote_order, same ? "yes" : "NO");
      if (!remote.clean()) std::printf("  FAILED across processes: %s\n", remote.failure.c_str());
      all_ok = all_ok && local.every_order_confirmed_once() && remote.clean() && same;
    }
    std::printf("\n%s\n", all_ok ? "OK: every order confirmed once, the same replies in both runs"
                                 : "FAILED: see the rows above");
    return all_ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "l10_services: %s\n", e.what());
    return 1;
  }
}

// How to run:
//   ./build/release/lessons/10-same-thing-at-scale/l10_services
//   ./build/release/lessons/10-same-thing-at-scale/l10_services --check-us=10000 --new=40
// What to expect: in every version the four-process run confirms every order once and tells
// the Basket exactly what the one-process run told it ("same replies: yes"). Versions 1 and 2
// confirm in send order ("ahead" 0) in both runs; version 3 lets known customers' orders
// overtake the new customers' checks, in both runs. Across processes each hop is a trip
// through the NATS server, so throughput is lower and latencies higher (see hop_costs.txt).
