// task_payment_service.hpp: lesson 04b's Payment written as coroutines on one thread
// (tasks.hpp), in the same three versions, and the order flow that runs it.
//
//   TaskCheckMode      - where the fraud check of a new customer happens:
//     blocks_thread    (1) the task calls the check itself (a sleep): the thread is blocked,
//                          so no other task runs (the classic mistake in async code);
//     awaits_inline    (2) the task asks Fraud and co_awaits the verdict before it takes the
//                          next request: no thread is blocked, but the service does nothing
//                          else meanwhile, because the only task that takes requests waits;
//     starts_and_goes_on (3) a task per new customer's charge awaits the verdict, while the
//                          serving task takes the next request (TaskGroup::spawn).
//   TaskPaymentService - one thread: an Executor, the serving task, and a loop that sleeps on
//                        the two input rings and delivers what arrives to the tasks.
//   run_task_order_flow() - lesson 04's flow (Basket, Order, Fraud unchanged) with this Payment.
//
// State (run()'s thread): known_ customers, the tasks waiting for a verdict (in their frames,
// and in fraud_replies_ by customer: a second order of a customer whose check is pending
// waits on the same reply, so there is one check per customer, as in 04b).
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>
#include <unordered_set>
#include <vector>

#include "lessons/04-services-own-state/order_flow.hpp"
#include "lessons/04-services-own-state/tasks.hpp"

namespace cp::lessons::services {

enum class TaskCheckMode : std::uint8_t { blocks_thread, awaits_inline, starts_and_goes_on };

inline const char* to_string(TaskCheckMode m) {
  switch (m) {
    case TaskCheckMode::blocks_thread: return "1 task sleeps inline";
    case TaskCheckMode::awaits_inline: return "2 co_await Fraud";
    case TaskCheckMode::starts_and_goes_on: return "3 spawn, keep serving";
  }
  return "?";
}

class TaskPaymentService {
 public:
  // The two input rings must have been constructed with `inputs` as their data-wait strategy.
  TaskPaymentService(TaskCheckMode mode, std::chrono::microseconds check_time,
                     std::vector<CustomerId> known_customers, Channel<ChargeRequest>& charges_in,
                     Channel<FraudVerdict>& verdicts_in, cp::sw::BlockingWaitStrategy& inputs,
                     Channel<ChargeResult>& results_out, Channel<FraudCheck>& checks_out)
      : mode_(mode),
        check_time_(check_time),
        known_(known_customers.begin(), known_customers.end()),
        select_(charges_in, verdicts_in, inputs),
        results_out_(results_out),
        checks_out_(checks_out) {}

  // [quote: task-run]
  // run: the service's thread. The loop of every single-threaded runtime: run the tasks
  // that can run; when all of them wait, sleep until an input arrives and deliver it.
  void run() {
    service_.spawn(serve());
    for (;;) {
      ex_.run_ready();
      if (!select_.wait_any()) break;  // both inputs closed and drained
      select_.drain_fair([this](ChargeRequest& r, std::uint64_t) { charges_.deliver(r); },
                         [this](FraudVerdict& v, std::uint64_t) { on_verdict(v); }, kBatch);
    }
    close_outputs();  // normally done by serve(); here if an input ended while tasks waited
    service_.rethrow_first_error();
  }
  // [end quote]

  // After run() returned (join first): what happened.
  std::uint64_t approved() const { return approved_; }
  std::uint64_t checks_asked() const { return checks_asked_; }
  std::size_t max_waiting_customers() const { return max_waiting_; }
  Cents total_charged() const { return total_charged_; }

 private:
  // [quote: task-serve]
  tasks::Task<> serve() {
    for (;;) {
      const ChargeRequest r = co_await charges_.next();
      if (r.kind == ChargeRequest::Kind::shutdown) break;
      if (known_.contains(r.customer)) {  // a known customer: approve at once
        settle(r, true);
        continue;
      }
      switch (mode_) {
        case TaskCheckMode::blocks_thread:  // (1) the thread sleeps: no task runs meanwhile
          expensive_check(check_time_);
          known_.insert(r.customer);
          settle(r, true);
          break;
        case TaskCheckMode::awaits_inline: {  // (2) no thread blocked, and still nobody served
          const FraudVerdict v = co_await check(r.customer);
          settle(r, v.clean);
          break;
        }
        case TaskCheckMode::starts_and_goes_on:  // (3) a task waits for it; we serve the next
          checks_.spawn(check_then_settle(r));
          break;
      }
    }
    co_await checks_.join();  // shutdown: every started check answered first
    close_outputs();
  }

  tasks::Task<> check_then_settle(ChargeRequest r) {
    const FraudVerdict v = co_await check(r.customer);
    settle(r, v.clean);
  }

  // The wait for `customer`'s verdict; asks Fraud unless a check is already pending.
  tasks::Replies<CustomerId, FraudVerdict>::Wait check(CustomerId customer) {
    if (!fraud_replies_.waiting(customer)) ask_fraud(customer);
    return fraud_replies_.wait(customer);
  }

  void on_verdict(const FraudVerdict& v) {  // by the loop: before any waiting task resumes
    if (v.clean) known_.insert(v.customer);
    fraud_replies_.deliver(v.customer, v);
  }
  // [end quote]

  void settle(const ChargeRequest& r, bool approved) {
    if (approved) {
      ++approved_;
      total_charged_ += r.amount;
    }
    results_out_.push({r.order, approved});
  }

  void ask_fraud(CustomerId customer) {
    ++checks_asked_;
    checks_out_.push({customer, Clock::now()});
    if (fraud_replies_.keys_waiting() + 1 > max_waiting_)
      max_waiting_ = fraud_replies_.keys_waiting() + 1;
  }

  void close_outputs() {
    if (outputs_closed_) return;
    checks_out_.close();
    results_out_.close();
    outputs_closed_ = true;
  }

  const TaskCheckMode mode_;
  const std::chrono::microseconds check_time_;
  std::unordered_set<CustomerId> known_;
  bool outputs_closed_ = false;
  std::uint64_t approved_ = 0;
  std::uint64_t checks_asked_ = 0;
  std::size_t max_waiting_ = 0;
  Cents total_charged_ = 0;

  cp::sw::SelectTwo<Channel<ChargeRequest>, Channel<FraudVerdict>> select_;
  Channel<ChargeResult>& results_out_;
  Channel<FraudCheck>& checks_out_;

  // Declared last, destroyed first: frames of tasks still waiting go before what they use.
  tasks::Executor ex_;
  tasks::Inbox<ChargeRequest> charges_{ex_};
  tasks::Replies<CustomerId, FraudVerdict> fraud_replies_{ex_};
  tasks::TaskGroup checks_{ex_};   // (3): one task per charge waiting for a verdict
  tasks::TaskGroup service_{ex_};  // the serving task
};

// run_task_order_flow: run_order_flow (order_flow.hpp) with TaskPaymentService as Payment.
inline FlowReport run_task_order_flow(const Workload& workload, TaskCheckMode mode,
                                      const FlowConfig& config) {
  OrderFlowChannels ch(channel_capacity(config.window));
  OrderService order(ch.orders, ch.charge_results, ch.order_inputs, ch.charges, ch.confirmations);
  TaskPaymentService payment(mode, config.check_time, workload.known_customers, ch.charges,
                             ch.verdicts, ch.payment_inputs, ch.charge_results, ch.checks);
  FraudService fraud(config.check_time, ch.checks, ch.verdicts);
  FlowReport report;
  {
    std::jthread order_thread([&order] { order.run(); });
    std::jthread payment_thread([&payment] { payment.run(); });
    std::jthread fraud_thread([&fraud] { fraud.run(); });
    Basket basket(workload, {config.window, config.rate}, ch.orders, ch.confirmations);
    report.basket = basket.run();
  }
  report.order_confirmed = order.confirmed();
  report.order_unknown_results = order.unknown_results();
  report.payment_approved = payment.approved();
  report.checks_asked = payment.checks_asked();
  report.max_waiting_customers = payment.max_waiting_customers();
  report.fraud_answered = fraud.answered();
  report.fraud_max_in_progress = fraud.max_in_progress();
  return report;
}

}  // namespace cp::lessons::services
