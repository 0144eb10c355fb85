// services_test.cpp: lesson 04's services, each driven alone through its channels (the test
// plays its neighbours: it pushes into the service's input rings and reads its output rings),
// then the whole flow in each fraud-check version.
//
// Each ring has one producer thread and one consumer thread: here the test thread is the
// producer of every input ring and the consumer of every output ring of the service under
// test, and the service's thread is the other side.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "lessons/04-services-own-state/order_flow.hpp"

using namespace cp::lessons::services;
using namespace std::chrono_literals;

namespace {

// Waits for the next item of `ring` (as its consumer) and returns it; fails the test if the
// ring ends instead.
template <class T>
T next(Channel<T>& ring) {
  T out{};
  REQUIRE(ring.wait_for_data());
  REQUIRE(ring.consume_batch([&out](T& v, std::uint64_t) { out = v; }, 1) == 1);
  return out;
}

// Reads `ring` until its producer closes it; returns what was left in it.
template <class T>
std::vector<T> rest(Channel<T>& ring) {
  std::vector<T> out;
  while (ring.wait_for_data())
    ring.consume_batch([&out](T& v, std::uint64_t) { out.push_back(v); }, 64);
  return out;
}

ChargeRequest charge(OrderId order, CustomerId customer, Cents amount = 100) {
  return {ChargeRequest::Kind::charge, order, customer, amount};
}

}  // namespace

TEST_CASE("l04: Payment approves known customers and answers each request once", "[unit]") {
  OrderFlowChannels ch(16);
  PaymentService payment(FraudCheckMode::inline_in_payment, 0us, {1, 2, 3}, ch.charges,
                         ch.verdicts, ch.payment_inputs, ch.charge_results, ch.checks);
  std::jthread thread([&payment] { payment.run(); });

  for (OrderId o = 0; o < 6; ++o) ch.charges.push(charge(o, 1 + o % 3, 100 + o));  // as Order
  for (OrderId o = 0; o < 6; ++o) {
    const ChargeResult r = next(ch.charge_results);
    CHECK(r.order == o);  // one ring, one Payment thread: answers in request order
    CHECK(r.approved);
  }
  ch.charges.push({ChargeRequest::Kind::shutdown});
  ch.charges.close();
  CHECK(rest(ch.checks).empty());  // known customers: Fraud never asked; Payment ended the ring
  ch.verdicts.close();             // as Fraud: our input ended, so we end
  CHECK(rest(ch.charge_results).empty());  // no second answer to anything
  thread.join();
  CHECK(payment.approved() == 6);
  CHECK(payment.total_charged() == 100 + 101 + 102 + 103 + 104 + 105);
  CHECK(payment.checks_asked() == 0);
}

TEST_CASE("l04: Payment in version 1 checks a new customer once, then knows it", "[unit]") {
  OrderFlowChannels ch(16);
  PaymentService payment(FraudCheckMode::inline_in_payment, 1ms, {1}, ch.charges, ch.verdicts,
                         ch.payment_inputs, ch.charge_results, ch.checks);
  std::jthread thread([&payment] { payment.run(); });
  for (OrderId o = 0; o < 3; ++o) ch.charges.push(charge(o, 7));  // 7 is new
  for (OrderId o = 0; o < 3; ++o) CHECK(next(ch.charge_results).order == o);
  ch.charges.push({ChargeRequest::Kind::shutdown});
  ch.charges.close();
  CHECK(rest(ch.checks).empty());  // inline: Fraud is not involved
  ch.verdicts.close();
  CHECK(rest(ch.charge_results).empty());
  thread.join();
  CHECK(payment.approved() == 3);
}

TEST_CASE("l04: Payment in version 2 asks Fraud and waits for the verdict", "[unit]") {
  OrderFlowChannels ch(16);
  PaymentService payment(FraudCheckMode::call_and_wait, 0us, {1}, ch.charges, ch.verdicts,
                         ch.payment_inputs, ch.charge_results, ch.checks);
  std::jthread thread([&payment] { payment.run(); });
  ch.charges.push(charge(0, 9));  // new customer: Payment asks Fraud and waits
  ch.charges.push(charge(1, 1));  // known, but behind the wait
  const FraudCheck check = next(ch.checks);  // we are Fraud
  CHECK(check.customer == 9);
  CHECK_FALSE(ch.charge_results.has_data());  // Payment waits for us: order 1 waits too
  ch.verdicts.push({9, true});
  CHECK(next(ch.charge_results).order == 0);
  CHECK(next(ch.charge_results).order == 1);
  ch.charges.push(charge(2, 9));  // 9 is known now: no second check
  CHECK(next(ch.charge_results).order == 2);
  ch.charges.push({ChargeRequest::Kind::shutdown});
  ch.charges.close();
  CHECK(rest(ch.checks).empty());
  ch.verdicts.close();
  CHECK(rest(ch.charge_results).empty());
  thread.join();
  CHECK(payment.checks_asked() == 1);
}

// The point of version 3, shown without any timing: the test is Fraud and does not answer
// until it has seen Payment serve known customers while the check is pending.
TEST_CASE("l04: Payment in version 3 keeps serving known customers while a check is pending",
          "[unit]") {
  OrderFlowChannels ch(16);
  PaymentService payment(FraudCheckMode::send_and_continue, 0us, {1, 2}, ch.charges, ch.verdicts,
                         ch.payment_inputs, ch.charge_results, ch.checks);
  std::jthread thread([&payment] { payment.run(); });

  ch.charges.push(charge(0, 9));  // new customer: a check goes to Fraud (us)
  const FraudCheck check = next(ch.checks);
  CHECK(check.customer == 9);
  ch.charges.push(charge(1, 1));
  ch.charges.push(charge(2, 9));  // 9 again: joins the pending check, no second check
  ch.charges.push(charge(3, 2));
  CHECK(next(ch.charge_results).order == 1);  // served while 9's check is pending
  CHECK(next(ch.charge_results).order == 3);
  CHECK_FALSE(ch.charge_results.has_data());  // 0 and 2 cannot be answered before the verdict

  ch.charges.push({ChargeRequest::Kind::shutdown});  // shutdown waits for the pending check
  ch.verdicts.push({9, true});                       // Fraud answers at last
  CHECK(next(ch.charge_results).order == 0);  // the waiting requests, in arrival order
  CHECK(next(ch.charge_results).order == 2);
  ch.charges.close();
  CHECK(rest(ch.checks).empty());  // one check only; then Payment ended the ring
  ch.verdicts.close();
  CHECK(rest(ch.charge_results).empty());
  thread.join();
  CHECK(payment.checks_asked() == 1);
  CHECK(payment.approved() == 4);
  CHECK(payment.max_waiting_customers() == 1);
}

TEST_CASE("l04: Order tracks each order's customer, confirms, and forwards shutdown",
          "[unit]") {
  OrderFlowChannels ch(16);
  OrderService order(ch.orders, ch.charge_results, ch.order_inputs, ch.charges, ch.confirmations);
  std::jthread thread([&order] { order.run(); });

  for (OrderId o = 0; o < 3; ++o)  // as Basket
    ch.orders.push({OrderMsg::Kind::place, o, 10 + o, 500 + o});
  for (OrderId o = 0; o < 3; ++o) {  // as Payment
    const ChargeRequest r = next(ch.charges);
    CHECK(r.kind == ChargeRequest::Kind::charge);
    CHECK(r.order == o);
    CHECK(r.customer == 10 + o);
    CHECK(r.amount == 500 + o);
  }
  for (OrderId o = 3; o-- > 0;) ch.charge_results.push({o, true});  // answers out of order
  for (OrderId o = 3; o-- > 0;) {
    const Confirmation c = next(ch.confirmations);
    CHECK(c.order == o);
    CHECK(c.customer == 10 + o);  // Order remembered whose order it was
    CHECK(c.approved);
  }
  ch.charge_results.push({99, true});  // an answer to nothing: counted, not confirmed

  ch.orders.push({OrderMsg::Kind::place, 3, 13, 1});  // in flight when shutdown comes
  CHECK(next(ch.charges).order == 3);
  ch.orders.push({OrderMsg::Kind::shutdown});
  ch.orders.close();
  // Order must not stop Payment while order 3 waits for it. (Waiting a little gives a wrong
  // Order the time to show it; a right one passes however long we wait.)
  std::this_thread::sleep_for(10ms);
  CHECK_FALSE(ch.charges.has_data());
  ch.charge_results.push({3, true});
  CHECK(next(ch.confirmations).order == 3);
  const std::vector<ChargeRequest> after = rest(ch.charges);  // Order told Payment to stop
  REQUIRE(after.size() == 1);
  CHECK(after[0].kind == ChargeRequest::Kind::shutdown);
  ch.charge_results.close();  // as Payment, stopping
  CHECK(rest(ch.confirmations).empty());  // Order ended its ring; nothing confirmed twice
  thread.join();
  CHECK(order.confirmed() == 4);
  CHECK(order.unknown_results() == 1);
}

TEST_CASE("l04: Fraud answers every check once, no earlier than its check time", "[unit]") {
  OrderFlowChannels ch(16);
  FraudService fraud(2ms, ch.checks, ch.verdicts);
  std::jthread thread([&fraud] { fraud.run(); });
  const Clock::time_point asked = Clock::now();
  for (CustomerId c = 0; c < 5; ++c) ch.checks.push({c, asked});  // as Payment
  for (CustomerId c = 0; c < 5; ++c) {
    const FraudVerdict v = next(ch.verdicts);
    CHECK(Clock::now() - asked >= 2ms);
    CHECK(v.customer == c);
    CHECK(v.clean);
  }
  ch.checks.close();
  CHECK(rest(ch.verdicts).empty());
  thread.join();
  CHECK(fraud.answered() == 5);
}

// Overlap: 8 checks of 100 ms asked at once take ~100 ms, not 800 (bound: 600 ms, far above
// any scheduling delay, far below doing them one by one).
TEST_CASE("l04: Fraud runs checks in parallel with each other", "[unit]") {
  OrderFlowChannels ch(16);
  FraudService fraud(100ms, ch.checks, ch.verdicts);
  std::jthread thread([&fraud] { fraud.run(); });
  const Clock::time_point asked = Clock::now();
  for (CustomerId c = 0; c < 8; ++c) ch.checks.push({c, asked});
  for (CustomerId c = 0; c < 8; ++c) CHECK(next(ch.verdicts).customer == c);
  CHECK(Clock::now() - asked < 600ms);
  ch.checks.close();
  CHECK(rest(ch.verdicts).empty());
  thread.join();
  CHECK(fraud.max_in_progress() == 8);
}

TEST_CASE("l04: the whole flow confirms every order exactly once, in each version", "[unit]") {
  const Workload w = make_workload(300, 20, 10, 42);
  for (const FraudCheckMode mode : {FraudCheckMode::inline_in_payment,
                                    FraudCheckMode::call_and_wait,
                                    FraudCheckMode::send_and_continue}) {
    INFO(to_string(mode));
    const FlowReport r = run_order_flow(w, {mode, 200us, 16, 0});
    CHECK(r.every_order_confirmed_once());
    CHECK(r.basket.confirmed == 300);
    CHECK(r.basket.declined == 0);
    CHECK(r.checks_asked == (mode == FraudCheckMode::inline_in_payment ? 0 : 10));
    CHECK(r.basket.new_latency_ns.count() == 10);
    CHECK(r.basket.known_latency_ns.count() == 290);
    std::uint64_t counted = 0;  // the Basket's customer -> order count adds up
    for (const auto& [customer, n] : r.basket.orders_per_customer) counted += n;
    CHECK(counted == 300);
    CHECK(r.basket.orders_per_customer.size() <= 30);
  }
}

// Small windows keep every ring at the edge of full (window 1: capacity 2), paced and not,
// with new customers ordering more than once while their check is pending (version 3).
TEST_CASE("l04: the flow stays exactly-once with tiny windows and repeated new customers",
          "[stress]") {
  Workload w = make_workload(400, 5, 20, 7);
  // Give some new customers a second order right after the first: it waits for the same check.
  for (std::size_t i = 0; i + 1 < w.orders.size(); ++i)
    if (w.orders[i].new_customer && i % 2 == 0) w.orders[i + 1] = {w.orders[i].customer, false, 1};
  for (const std::size_t window : {1, 2, 3, 8}) {
    for (const FraudCheckMode mode : {FraudCheckMode::inline_in_payment,
                                      FraudCheckMode::call_and_wait,
                                      FraudCheckMode::send_and_continue}) {
      INFO(to_string(mode) << ", window " << window);
      CHECK(run_order_flow(w, {mode, 50us, window, 0}).every_order_confirmed_once());
      CHECK(run_order_flow(w, {mode, 50us, window, 50'000}).every_order_confirmed_once());
    }
  }
}

TEST_CASE("l04: make_workload is reproducible and has the asked mix", "[unit]") {
  const Workload a = make_workload(1000, 50, 25, 3), b = make_workload(1000, 50, 25, 3);
  REQUIRE(a.orders.size() == 1000);
  std::size_t fresh = 0;
  for (std::size_t i = 0; i < a.orders.size(); ++i) {
    CHECK(a.orders[i].customer == b.orders[i].customer);
    CHECK(a.orders[i].amount == b.orders[i].amount);
    if (a.orders[i].new_customer) {
      ++fresh;
      CHECK(a.orders[i].customer >= 50);
    } else {
      CHECK(a.orders[i].customer < 50);
    }
  }
  CHECK(fresh == 25);
  CHECK(a.known_customers.size() == 50);
}
