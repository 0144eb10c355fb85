// services_over_nats.hpp: lesson 04's services, each in its own process, talking over NATS
// subjects instead of rings. The services' code is lesson 04's, unchanged: only the wiring
// (the template argument) differs.
//
//   OverNats              - the wiring: inputs are NatsReceivers, outputs NatsSenders
//                           (patterns/distributed/nats_channel.hpp).
//   ServiceRole           - order, payment, fraud: what one service process runs.
//   run_service_process() - one service process: subscribes its inputs, says it is ready,
//                           runs the service until its inputs end, reports its counters.
//   run_order_flow_across_processes()
//                         - the Basket's side (a test, or l10_services): starts the three
//                           service processes (the program given, with --role), waits until
//                           each is ready, runs the Basket over NATS, collects the counters,
//                           waits for every process to exit. Returns lesson 04's FlowReport.
//   Ordering, ordering_of() - the order in which confirmations arrived, compared with the
//                           send order: what lesson 04b's versions promise about it.
//
//          l10.orders         l10.charges        l10.checks
//   Basket ---------> Order ----------> Payment ---------> Fraud      (four processes)
//          <---------       <----------         <---------
//       l10.confirmations   l10.results         l10.verdicts
//
// Start-up: core NATS drops a message that no one is subscribed to, so nothing may be sent
// before every receiver exists. Each service process subscribes, flushes (the server has its
// subscriptions), then sends "ready" on the control subject; the Basket sends its first order
// only after all three. Every later message follows from an order, so none can be early.
//
// Shutdown: as in lesson 04, a shutdown message and close() travel down the chain, and each
// close is an end marker after the last message on its subject: every process reads all it
// was sent, closes its outputs, reports, and exits 0.
//
// Failure: if a service process dies (exits other than 0) before the Basket is done, or `patience` passes, the
// Basket's confirmation input is abandoned (it ends), the report says so, and every child is
// stopped (SIGTERM, then SIGKILL). Nothing outlives the call.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "lessons/04-services-own-state/order_flow.hpp"
#include "patterns/distributed/child_process.hpp"
#include "patterns/distributed/jetstream_log.hpp"
#include "patterns/distributed/nats_channel.hpp"

namespace cp::lessons::l10 {

namespace svc = cp::lessons::services;

// [quote: over-nats]
// The same services, another wiring: every input a subscription, every output a subject.
struct OverNats {
  template <class T>
  using Input = cp::dist::NatsReceiver<T>;
  template <class T>
  using Output = cp::dist::NatsSender<T>;
};
// [end quote]

enum class ServiceRole : std::uint8_t { order, payment, fraud };

inline const char* to_string(ServiceRole r) {
  switch (r) {
    case ServiceRole::order: return "order";
    case ServiceRole::payment: return "payment";
    case ServiceRole::fraud: return "fraud";
  }
  return "?";
}

inline std::optional<ServiceRole> role_from(const std::string& s) {
  for (const ServiceRole r : {ServiceRole::order, ServiceRole::payment, ServiceRole::fraud})
    if (s == to_string(r)) return r;
  return std::nullopt;
}

// What a service process says on the control subject: ready, then its counters when done.
struct ControlMsg {
  enum class Kind : std::uint8_t { ready, done } kind = Kind::ready;
  ServiceRole role = ServiceRole::order;
  std::uint64_t confirmed = 0, unknown_results = 0;            // Order
  std::uint64_t approved = 0, checks_asked = 0, max_waiting = 0;  // Payment
  std::uint64_t answered = 0, max_in_progress = 0;              // Fraud
};

struct ServiceProcessOptions {
  ServiceRole role = ServiceRole::order;
  std::string url;                  // a NATS server
  std::string prefix = "l10";       // subjects are <prefix>.orders, <prefix>.charges, ...
  svc::FraudCheckMode mode = svc::FraudCheckMode::send_and_continue;
  std::chrono::microseconds check_time{2000};
  std::size_t window = 64;
  std::size_t known_customers = 0;  // ids 0 .. known - 1 (make_workload's)
};

inline std::string subject(const std::string& prefix, const char* name) {
  return prefix + "." + name;
}

inline void send_control(const cp::dist::NatsConnection& c, const std::string& prefix,
                         const ControlMsg& m) {
  cp::dist::publish(c, subject(prefix, "control"),
                    std::string_view(reinterpret_cast<const char*>(&m), sizeof m));
  cp::dist::flush(c);
}

// [quote: service-process]
// run_service_process: one service in this process, its channels on NATS subjects.
inline void run_service_process(const ServiceProcessOptions& o) {
  namespace dist = cp::dist;
  // Each publish written at once: a service answers one message at a time, and libnats's
  // default (buffer ~1 ms, then write) would add a millisecond to every hop.
  dist::NatsConnection conn(o.url, std::chrono::seconds(5), std::chrono::seconds(10),
                            /*send_asap=*/true);
  const std::size_t cap = svc::channel_capacity(o.window);
  const auto on = [&o](const char* name) { return subject(o.prefix, name); };
  ControlMsg done{ControlMsg::Kind::done, o.role};
  cp::sw::BlockingWaitStrategy inputs;  // shared by a service's two inputs, as in lesson 04
  switch (o.role) {
    case ServiceRole::order: {
      dist::NatsReceiver<svc::OrderMsg> orders(conn, on("orders"), cap, &inputs);
      dist::NatsReceiver<svc::ChargeResult> results(conn, on("results"), cap, &inputs);
      dist::NatsSender<svc::ChargeRequest> charges(conn, on("charges"), cap);
      dist::NatsSender<svc::Confirmation> confirmations(conn, on("confirmations"), cap);
      svc::OrderService<OverNats> order(orders, results, inputs, charges, confirmations);
      dist::subscribed(conn);
      send_control(conn, o.prefix, {ControlMsg::Kind::ready, o.role});
      order.run();  // lesson 04's loop: until both inputs have ended
      done.confirmed = order.confirmed();
      done.unknown_results = order.unknown_results();
      break;
    }
    // [end quote]
    case ServiceRole::payment: {
      std::vector<svc::CustomerId> known;
      for (std::size_t c = 0; c < o.known_customers; ++c)
        known.push_back(static_cast<svc::CustomerId>(c));
      dist::NatsReceiver<svc::ChargeRequest> charges(conn, on("charges"), cap, &inputs);
      dist::NatsReceiver<svc::FraudVerdict> verdicts(conn, on("verdicts"), cap, &inputs);
      dist::NatsSender<svc::ChargeResult> results(conn, on("results"), cap);
      dist::NatsSender<svc::FraudCheck> checks(conn, on("checks"), cap);
      svc::PaymentService<OverNats> payment(o.mode, o.check_time, std::move(known), charges,
                                            verdicts, inputs, results, checks);
      dist::subscribed(conn);
      send_control(conn, o.prefix, {ControlMsg::Kind::ready, o.role});
      payment.run();
      done.approved = payment.approved();
      done.checks_asked = payment.checks_asked();
      done.max_waiting = payment.max_waiting_customers();
      break;
    }
    case ServiceRole::fraud: {
      dist::NatsReceiver<svc::FraudCheck> checks(conn, on("checks"), cap);
      dist::NatsSender<svc::FraudVerdict> verdicts(conn, on("verdicts"), cap);
      svc::FraudService<OverNats> fraud(o.check_time, checks, verdicts);
      dist::subscribed(conn);
      send_control(conn, o.prefix, {ControlMsg::Kind::ready, o.role});
      fraud.run();
      done.answered = fraud.answered();
      done.max_in_progress = fraud.max_in_progress();
      break;
    }
  }
  send_control(conn, o.prefix, done);
}

struct AcrossProcessesOptions {
  std::string program;               // the binary that runs a service with --role=<role>
  std::string url;                   // the NATS server
  std::string prefix = "l10";
  std::filesystem::path log_dir;     // the service processes' output goes to <role>.log here
  std::chrono::milliseconds patience{30000};  // the whole run, start-up to exit, at most
  // Called once every service is ready, before the first order, with the services' process
  // ids (order, payment, fraud): a test kills one here to see the failure path.
  std::function<void(const std::vector<pid_t>&)> on_ready;
};

struct AcrossProcessesReport {
  svc::FlowReport flow;
  bool all_ready = false;       // every service said ready in time
  bool all_reported = false;    // every service sent its counters
  bool abandoned = false;       // a service died or patience ran out: the run was cut short
  std::vector<int> exit_status; // order, payment, fraud (0: clean)
  std::string failure;          // what went wrong, if anything

  bool clean() const {
    if (!all_ready || !all_reported || abandoned) return false;
    for (const int s : exit_status)
      if (s != 0) return false;
    return flow.every_order_confirmed_once();
  }
};

inline AcrossProcessesReport run_order_flow_across_processes(const svc::Workload& w,
                                                             const svc::FlowConfig& config,
                                                             const AcrossProcessesOptions& o) {
  namespace dist = cp::dist;
  using SteadyClock = std::chrono::steady_clock;
  const auto deadline = SteadyClock::now() + o.patience;
  const auto left = [&deadline] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                          SteadyClock::now()));
  };
  AcrossProcessesReport report;
  dist::NatsConnection conn(o.url, std::chrono::seconds(5), std::chrono::seconds(10),
                            /*send_asap=*/true);
  const std::size_t cap = svc::channel_capacity(config.window);
  dist::Subscription control(conn, subject(o.prefix, "control"));
  dist::NatsReceiver<svc::Confirmation> confirmations(conn, subject(o.prefix, "confirmations"),
                                                      cap);
  dist::NatsSender<svc::OrderMsg> orders(conn, subject(o.prefix, "orders"), cap);
  dist::subscribed(conn);

  const ServiceRole roles[] = {ServiceRole::order, ServiceRole::payment, ServiceRole::fraud};
  std::vector<dist::ChildProcess> children;
  for (const ServiceRole r : roles) {
    children.emplace_back(
        std::vector<std::string>{
            o.program, std::string("--role=") + to_string(r), "--url=" + o.url,
            "--prefix=" + o.prefix, "--mode=" + std::to_string(static_cast<int>(config.mode) + 1),
            "--check-us=" + std::to_string(config.check_time.count()),
            "--window=" + std::to_string(config.window),
            "--known=" + std::to_string(w.known_customers.size())},
        (o.log_dir / (std::string(to_string(r)) + ".log")).string());
  }
  const auto any_exited = [&children] {
    for (auto& c : children)
      if (c.exited()) return true;
    return false;
  };
  // A service that exits 0 has finished its part (the end of the run races with the Basket's
  // last reads); one that exits otherwise died.
  const auto any_died = [&children] {
    for (auto& c : children)
      if (const auto s = c.exited(); s && *s != 0) return true;
    return false;
  };

  // Every service ready: each has subscribed its inputs.
  int ready = 0;
  while (ready < 3 && SteadyClock::now() < deadline && !any_exited()) {
    const auto bytes = control.next(std::min(left(), std::chrono::milliseconds(50)));
    ControlMsg m;
    if (bytes && bytes->size() == sizeof m) {
      std::memcpy(&m, bytes->data(), sizeof m);
      if (m.kind == ControlMsg::Kind::ready) ++ready;
    }
  }
  report.all_ready = ready == 3;
  if (!report.all_ready) report.failure = "a service process did not become ready";
  if (report.all_ready && o.on_ready) {
    std::vector<pid_t> pids;
    for (const auto& c : children) pids.push_back(c.pid());
    o.on_ready(pids);
  }

  if (report.all_ready) {
    // The watchdog: while the Basket runs, a service that dies or a run past patience ends
    // the Basket's input, so the Basket returns (and says Order ended early).
    std::atomic<bool> basket_done{false};
    std::atomic<bool> abandoned{false};
    {
      std::jthread watchdog([&] {
        // acquire: pairs with the release store below; nothing else is read under it.
        while (!basket_done.load(std::memory_order_acquire)) {
          if (any_died() || SteadyClock::now() >= deadline) {
            abandoned.store(true, std::memory_order_relaxed);  // read after the join
            confirmations.abandon();
            return;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      });
      svc::Basket<OverNats> basket(w, {config.window, config.rate}, orders, confirmations);
      report.flow.basket = basket.run();
      basket_done.store(true, std::memory_order_release);  // pairs with the watchdog's load
    }  // joins the watchdog: `children` is ours again
    report.abandoned = abandoned.load(std::memory_order_relaxed);
    if (report.abandoned) report.failure = "a service process died, or patience ran out";
  }

  // Their counters, sent after each service's run() returned.
  int reported = 0;
  while (!report.abandoned && report.all_ready && reported < 3 && SteadyClock::now() < deadline) {
    const auto bytes = control.next(std::min(left(), std::chrono::milliseconds(50)));
    ControlMsg m;
    if (!bytes || bytes->size() != sizeof m) continue;
    std::memcpy(&m, bytes->data(), sizeof m);
    if (m.kind != ControlMsg::Kind::done) continue;
    ++reported;
    svc::FlowReport& f = report.flow;
    switch (m.role) {
      case ServiceRole::order:
        f.order_confirmed = m.confirmed;
        f.order_unknown_results = m.unknown_results;
        break;
      case ServiceRole::payment:
        f.payment_approved = m.approved;
        f.checks_asked = m.checks_asked;
        f.max_waiting_customers = m.max_waiting;
        break;
      case ServiceRole::fraud:
        f.fraud_answered = m.answered;
        f.fraud_max_in_progress = m.max_in_progress;
        break;
    }
  }
  report.all_reported = reported == 3;
  if (report.failure.empty() && !report.all_reported)
    report.failure = "a service process did not report its counters";

  // Every child exits by itself after reporting; one that does not is stopped (at once if
  // the run was cut short: the others may wait for a message that will never come).
  const bool wait_for_exit = report.all_ready && !report.abandoned;
  for (auto& c : children) {
    while (wait_for_exit && !c.exited() && SteadyClock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto status = c.exited();
    report.exit_status.push_back(status ? *status : c.stop(std::chrono::milliseconds(500)));
  }
  return report;
}

// Ordering: how the confirmations' arrival order relates to the send order (order ids).
struct Ordering {
  std::size_t ahead_of_earlier = 0;  // confirmations that arrived before an earlier order's
  bool each_customer_in_send_order = true;
  bool known_in_send_order = true;   // customers known from the start, among themselves
};

inline Ordering ordering_of(const svc::BasketReport& r, const svc::Workload& w) {
  Ordering out;
  std::vector<bool> confirmed(w.orders.size(), false);
  std::size_t lowest_open = 0;  // every order below it has been confirmed
  std::unordered_map<svc::CustomerId, svc::OrderId> last_of;
  std::optional<svc::OrderId> last_known;
  for (const svc::Confirmation& c : r.arrivals) {
    if (c.order >= confirmed.size() || confirmed[c.order]) continue;  // counted elsewhere
    if (c.order > lowest_open) ++out.ahead_of_earlier;
    confirmed[c.order] = true;
    while (lowest_open < confirmed.size() && confirmed[lowest_open]) ++lowest_open;
    const auto [it, first] = last_of.try_emplace(c.customer, c.order);
    if (!first) {
      if (it->second > c.order) out.each_customer_in_send_order = false;
      it->second = c.order;
    }
    if (c.customer < w.known_customers.size()) {
      if (last_known && *last_known > c.order) out.known_in_send_order = false;
      last_known = c.order;
    }
  }
  return out;
}

// same_replies: the Basket was told the same thing in both runs: for every order, one
// confirmation with the same customer and the same verdict (in whatever order they came).
inline bool same_replies(const svc::BasketReport& a, const svc::BasketReport& b) {
  const auto key = [](const svc::BasketReport& r) {
    std::vector<std::tuple<svc::OrderId, svc::CustomerId, bool>> out;
    for (const svc::Confirmation& c : r.arrivals) out.emplace_back(c.order, c.customer, c.approved);
    std::sort(out.begin(), out.end());
    return out;
  };
  return key(a) == key(b);
}

}  // namespace cp::lessons::l10
