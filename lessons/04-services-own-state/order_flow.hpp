// order_flow.hpp: the whole order flow wired together: channels, three service threads, and
// the Basket on the calling thread.
//
//   OrderFlowChannels - the six rings, one per (producer, consumer) pair, and the two shared
//                       wait strategies of the services that wait on two inputs.
//   FlowConfig        - the fraud-check version, how long a check takes, window and pace.
//   FlowReport        - the Basket's report plus each service's counters (read after join).
//   run_order_flow()  - builds it, runs the workload, shuts down, joins; returns the report.
//
//            orders            charges             checks
//   Basket ----------> Order ----------> Payment ----------> Fraud
//          <----------       <----------         <----------
//          confirmations     charge_results      verdicts
//
// Why every channel has exactly one producer: each arrow above has one sender, so each is an
// SPSC ring, the cheapest queue there is (no compare-and-swap), and its order is the order its
// one sender sent in. A service with two senders gets two rings and waits on both (SelectTwo).
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

#include "lessons/04-services-own-state/basket.hpp"
#include "lessons/04-services-own-state/fraud_service.hpp"
#include "lessons/04-services-own-state/messages.hpp"
#include "lessons/04-services-own-state/order_service.hpp"
#include "lessons/04-services-own-state/payment_service.hpp"

namespace cp::lessons::services {

// [quote: channels]
struct OrderFlowChannels {
  explicit OrderFlowChannels(std::size_t capacity)
      : orders(capacity, &order_inputs),
        charge_results(capacity, &order_inputs),
        confirmations(capacity),
        charges(capacity, &payment_inputs),
        verdicts(capacity, &payment_inputs),
        checks(capacity) {}

  cp::sw::BlockingWaitStrategy order_inputs;    // Order sleeps on both of its inputs at once
  cp::sw::BlockingWaitStrategy payment_inputs;  // so does Payment
  Channel<OrderMsg> orders;                     // Basket  -> Order
  Channel<ChargeResult> charge_results;         // Payment -> Order
  Channel<Confirmation> confirmations;          // Order   -> Basket
  Channel<ChargeRequest> charges;               // Order   -> Payment
  Channel<FraudVerdict> verdicts;               // Fraud   -> Payment
  Channel<FraudCheck> checks;                   // Payment -> Fraud
};
// [end quote]

struct FlowConfig {
  FraudCheckMode mode = FraudCheckMode::send_and_continue;
  std::chrono::microseconds check_time{2000};
  std::size_t window = 64;
  double rate = 0;  // orders per second; 0: as fast as the window allows
};

struct FlowReport {
  BasketReport basket;
  std::uint64_t order_confirmed = 0, order_unknown_results = 0;
  std::uint64_t payment_approved = 0, checks_asked = 0, fraud_answered = 0;
  std::size_t max_waiting_customers = 0, fraud_max_in_progress = 0;

  // Every order confirmed exactly once, and every service agrees on the count.
  bool every_order_confirmed_once() const {
    return basket.every_order_confirmed_once() && order_confirmed == basket.sent &&
           order_unknown_results == 0 && payment_approved == basket.sent &&
           fraud_answered == checks_asked;
  }
};

// [quote: run-flow]
inline FlowReport run_order_flow(const Workload& workload, const FlowConfig& config) {
  OrderFlowChannels ch(channel_capacity(config.window));
  OrderService order(ch.orders, ch.charge_results, ch.order_inputs, ch.charges, ch.confirmations);
  PaymentService payment(config.mode, config.check_time, workload.known_customers, ch.charges,
                         ch.verdicts, ch.payment_inputs, ch.charge_results, ch.checks);
  FraudService fraud(config.check_time, ch.checks, ch.verdicts);
  FlowReport report;
  {
    std::jthread order_thread([&order] { order.run(); });
    std::jthread payment_thread([&payment] { payment.run(); });
    std::jthread fraud_thread([&fraud] { fraud.run(); });
    Basket basket(workload, {config.window, config.rate}, ch.orders, ch.confirmations);
    report.basket = basket.run();  // returns after shutdown: every ring has ended
  }  // joins the three threads; after this, reading their counters is safe
  report.order_confirmed = order.confirmed();
  report.order_unknown_results = order.unknown_results();
  report.payment_approved = payment.approved();
  report.checks_asked = payment.checks_asked();
  report.max_waiting_customers = payment.max_waiting_customers();
  report.fraud_answered = fraud.answered();
  report.fraud_max_in_progress = fraud.max_in_progress();
  return report;
}
// [end quote]

}  // namespace cp::lessons::services
