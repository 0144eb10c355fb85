// services_across_processes_test.cpp: a NATS subject as a channel (patterns/distributed/
// nats_channel.hpp), and lesson 04's services as separate processes over NATS subjects
// (lessons/10-same-thing-at-scale/services_over_nats.hpp): every order confirmed once, the
// Basket told exactly what the one-process run told it, lesson 04b's ordering kept, every
// process gone afterwards. Every server and process is started by the test and stopped by it.
#include <catch2/catch.hpp>

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "lessons/10-same-thing-at-scale/services_over_nats.hpp"
#include "patterns/distributed/nats_channel.hpp"
#include "patterns/distributed/nats_servers.hpp"
#include "patterns/single_writer/select.hpp"
#include "tests/support/temp_dir.hpp"

using namespace cp::dist;
using namespace std::chrono_literals;
namespace l10 = cp::lessons::l10;
namespace svc = cp::lessons::services;

// (The program's one NatsLibraryForThisProcess is in jetstream_log_test.cpp.)

namespace {

struct Item {
  std::uint32_t from = 0;
  std::uint64_t n = 0;
};

// Everything `r` delivers until its sender closes it (bounded by the sender's close).
template <class R>
std::vector<Item> read_to_end(R& r) {
  std::vector<Item> out;
  while (r.wait_for_data()) r.consume_batch([&out](Item& i, std::uint64_t) { out.push_back(i); }, 64);
  return out;
}

bool process_gone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

}  // namespace

TEST_CASE("NatsSender to NatsReceiver: in order, then the end, like a ring", "[unit]") {
  cp::test::TempDir dir;
  NatsServers servers({dir.path(), 1});
  NatsConnection a(servers.urls()), b(servers.urls());
  NatsReceiver<Item> in(b, "t.items", 64);
  subscribed(b);
  NatsSender<Item> out(a, "t.items", 64);
  for (std::uint64_t i = 0; i < 500; ++i) CHECK(out.push({1, i}));
  out.close();
  CHECK_FALSE(out.push({1, 999}));  // after close: refused, as a ring refuses
  const std::vector<Item> got = read_to_end(in);  // the pump waits while the ring is full
  REQUIRE(got.size() == 500);
  for (std::uint64_t i = 0; i < got.size(); ++i) CHECK(got[i].n == i);
  CHECK(in.drained());
  CHECK(in.dropped() == 0);
}

TEST_CASE("SelectTwo over two NATS subjects: both inputs read, then both ends seen", "[unit]") {
  cp::test::TempDir dir;
  NatsServers servers({dir.path(), 1});
  NatsConnection sender(servers.urls()), receiver(servers.urls());
  cp::sw::BlockingWaitStrategy inputs;
  NatsReceiver<Item> x(receiver, "t.x", 16, &inputs), y(receiver, "t.y", 16, &inputs);
  subscribed(receiver);
  cp::sw::SelectTwo select(x, y, inputs);
  std::vector<Item> got;
  {
    std::jthread producer([&] {  // the sending process's side: two subjects, one after the other
      NatsSender<Item> sx(sender, "t.x", 16), sy(sender, "t.y", 16);
      for (std::uint64_t i = 0; i < 100; ++i) {
        sx.push({0, i});
        sy.push({1, i});
      }
      sx.close();
      sy.close();
    });
    const auto take = [&got](Item& i, std::uint64_t) { got.push_back(i); };
    while (select.wait_any()) select.drain_fair(take, take, 8);
  }
  REQUIRE(got.size() == 200);
  std::uint64_t next[2] = {0, 0};
  for (const Item& i : got) CHECK(i.n == next[i.from]++);  // each subject in its sender's order
  CHECK(next[0] == 100);
  CHECK(next[1] == 100);
}

TEST_CASE("NatsReceiver: a message that is not a T is counted and dropped, the rest arrive",
          "[unit]") {
  cp::test::TempDir dir;
  NatsServers servers({dir.path(), 1});
  NatsConnection c(servers.urls());
  NatsReceiver<Item> in(c, "t.mixed", 16);
  subscribed(c);
  NatsSender<Item> out(c, "t.mixed", 16);
  out.push({0, 1});
  publish(c, "t.mixed", "not an Item");
  out.push({0, 2});
  out.close();
  const std::vector<Item> got = read_to_end(in);
  REQUIRE(got.size() == 2);
  CHECK(got[0].n == 1);
  CHECK(got[1].n == 2);
  CHECK(in.dropped() == 1);
}

// The services' own code is lesson 04's; only the wiring differs. The Basket must be told the
// same as in one process, in each of lesson 04b's fraud-check versions.
TEST_CASE("l10: lesson 04's services as four processes over NATS reply as in one process",
          "[unit]") {
  const auto mode = GENERATE(svc::FraudCheckMode::inline_in_payment,
                             svc::FraudCheckMode::call_and_wait,
                             svc::FraudCheckMode::send_and_continue);
  const std::uint64_t seed = 7;
  INFO("fraud-check version " << svc::to_string(mode) << ", workload seed " << seed);
  cp::test::TempDir dir;
  NatsServers servers({dir.path(), 1});
  const auto workload = svc::make_workload(200, 20, 8, seed);
  const svc::FlowConfig config{mode, 1000us, 16, 0};

  const svc::FlowReport local = svc::run_order_flow(workload, config);
  l10::AcrossProcessesOptions options;
  options.program = CP_L10_SERVICES_EXE;
  options.url = servers.urls();
  options.prefix = "t";
  options.log_dir = dir.path();
  options.patience = 20s;
  const auto remote = l10::run_order_flow_across_processes(workload, config, options);
  INFO("failure: " << remote.failure);

  REQUIRE(local.every_order_confirmed_once());
  CHECK(remote.all_ready);
  CHECK_FALSE(remote.abandoned);
  CHECK(remote.all_reported);
  CHECK(remote.exit_status == std::vector<int>{0, 0, 0});  // each process ended by itself
  CHECK(remote.flow.every_order_confirmed_once());         // and every service agrees
  CHECK(remote.flow.checks_asked == local.checks_asked);
  CHECK(l10::same_replies(local.basket, remote.flow.basket));

  const l10::Ordering lo = l10::ordering_of(local.basket, workload);
  const l10::Ordering ro = l10::ordering_of(remote.flow.basket, workload);
  CHECK(ro.each_customer_in_send_order);
  CHECK(ro.known_in_send_order);
  if (mode != svc::FraudCheckMode::send_and_continue) {
    // Blocking versions: Payment answers in request order, so the Basket hears in send order,
    // in one process and across four alike.
    CHECK(lo.ahead_of_earlier == 0);
    CHECK(ro.ahead_of_earlier == 0);
    CHECK(remote.flow.basket.arrivals.size() == local.basket.arrivals.size());
    for (std::size_t i = 0; i < remote.flow.basket.arrivals.size(); ++i)
      CHECK(remote.flow.basket.arrivals[i].order == local.basket.arrivals[i].order);
  }
}

TEST_CASE("l10: a service process killed mid-run ends the run, and nothing is left running",
          "[unit]") {
  cp::test::TempDir dir;
  NatsServers servers({dir.path(), 1});
  const auto workload = svc::make_workload(100, 10, 2, 3);
  // Version 2 with a 5 s check: Payment waits for Fraud, which we kill before the first
  // order. Without the watchdog the Basket would wait for Payment's answer for ever.
  const svc::FlowConfig config{svc::FraudCheckMode::call_and_wait, 5s, 8, 0};
  std::vector<pid_t> pids;
  l10::AcrossProcessesOptions options;
  options.program = CP_L10_SERVICES_EXE;
  options.url = servers.urls();
  options.prefix = "t";
  options.log_dir = dir.path();
  options.patience = 20s;
  options.on_ready = [&pids](const std::vector<pid_t>& p) {
    pids = p;
    ::kill(p.at(2), SIGKILL);  // Fraud
  };
  const auto remote = l10::run_order_flow_across_processes(workload, config, options);
  CHECK(remote.all_ready);
  CHECK(remote.abandoned);
  CHECK_FALSE(remote.clean());
  CHECK(remote.flow.basket.order_ended_early);  // the Basket's input ended: it stopped
  CHECK(remote.flow.basket.confirmed < remote.flow.basket.sent);
  CHECK(remote.exit_status == std::vector<int>{128 + SIGTERM, 128 + SIGTERM, 128 + SIGKILL});
  REQUIRE(pids.size() == 3);
  for (const pid_t p : pids) CHECK(process_gone(p));
}
