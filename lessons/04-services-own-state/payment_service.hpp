// payment_service.hpp: PaymentService, the owner of "which customers are known", in the three
// versions of the fraud check.
//
//   FraudCheckMode - where the expensive check of a new customer happens:
//     inline_in_payment  (1) Payment itself waits out the check: everyone queues behind it;
//     call_and_wait      (2) Payment asks Fraud and waits for the answer: the same queue,
//                            one more hop (a blocking workflow);
//     send_and_continue  (3) Payment asks Fraud, notes the request as pending in its own
//                            state and serves the next request; Fraud's answer is one more
//                            input, and completes the pending payments (a non-blocking
//                            workflow).
//   PaymentService - its own thread; inputs: charge requests (from Order) and fraud verdicts
//                    (from Fraud), waited on together with SelectTwo; outputs: charge results
//                    (to Order) and fraud checks (to Fraud).
//
// State (owned by run()'s thread): known_ (customers that passed a check, or were known from
// the start), waiting_ (mode 3: customer -> the requests waiting for that customer's check;
// the first request of the customer sent the check, later ones just join), counters.
//
// Shutdown: on Order's shutdown message, once no check is pending, Payment closes its two
// output rings: Fraud sees its input end and stops (closing the verdict ring), Order sees the
// results end. Payment's own loop ends when both of its inputs are closed and drained.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "lessons/04-services-own-state/messages.hpp"

namespace cp::lessons::services {

enum class FraudCheckMode : std::uint8_t { inline_in_payment, call_and_wait, send_and_continue };

inline const char* to_string(FraudCheckMode m) {
  switch (m) {
    case FraudCheckMode::inline_in_payment: return "1 inline in Payment";
    case FraudCheckMode::call_and_wait: return "2 call Fraud, wait";
    case FraudCheckMode::send_and_continue: return "3 send, keep serving";
  }
  return "?";
}

// expensive_check: the fraud check itself, modelled as a wait (it stands for a call to an
// outside scoring service). Used by mode 1 in Payment's thread; Fraud overlaps its waits.
inline void expensive_check(std::chrono::microseconds check_time) {
  std::this_thread::sleep_for(check_time);
}

template <class Wiring = InProcess>
class PaymentService {
  template <class T>
  using In = typename Wiring::template Input<T>;
  template <class T>
  using Out = typename Wiring::template Output<T>;

 public:
  // The two input rings must have been constructed with `inputs` as their data-wait strategy.
  PaymentService(FraudCheckMode mode, std::chrono::microseconds check_time,
                 std::vector<CustomerId> known_customers, In<ChargeRequest>& charges_in,
                 In<FraudVerdict>& verdicts_in, cp::sw::BlockingWaitStrategy& inputs,
                 Out<ChargeResult>& results_out, Out<FraudCheck>& checks_out)
      : mode_(mode),
        check_time_(check_time),
        known_(known_customers.begin(), known_customers.end()),
        verdicts_in_(verdicts_in),
        select_(charges_in, verdicts_in, inputs),
        results_out_(results_out),
        checks_out_(checks_out) {}

  // run: the service's thread. Returns when both inputs are closed and drained.
  void run() {
    while (select_.wait_any()) {
      select_.drain_fair([this](ChargeRequest& r, std::uint64_t) { on_charge(r); },
                         [this](FraudVerdict& v, std::uint64_t) { on_verdict(v); }, kBatch);
    }
  }

  // After run() returned (join first): what happened.
  std::uint64_t approved() const { return approved_; }
  std::uint64_t checks_asked() const { return checks_asked_; }
  std::size_t max_waiting_customers() const { return max_waiting_; }
  Cents total_charged() const { return total_charged_; }

 private:
  // [quote: payment-charge]
  void on_charge(const ChargeRequest& r) {
    if (r.kind == ChargeRequest::Kind::shutdown) {
      stopping_ = true;
      stop_when_idle();
      return;
    }
    if (known_.contains(r.customer)) {  // a known customer: approve at once
      settle(r, true);
      return;
    }
    switch (mode_) {
      case FraudCheckMode::inline_in_payment:  // (1) everyone behind us waits check_time_
        expensive_check(check_time_);
        known_.insert(r.customer);
        settle(r, true);
        break;
      case FraudCheckMode::call_and_wait: {  // (2) the same wait, in another thread
        ask_fraud(r.customer);
        const FraudVerdict v = wait_for_verdict();
        if (v.clean) known_.insert(r.customer);
        settle(r, v.clean);
        break;
      }
      case FraudCheckMode::send_and_continue: {  // (3) note it, ask, serve the next request
        auto [it, first] = waiting_.try_emplace(r.customer);
        it->second.push_back(r);
        if (first) ask_fraud(r.customer);  // one check per customer, however many orders
        if (waiting_.size() > max_waiting_) max_waiting_ = waiting_.size();
        break;
      }
    }
  }

  void on_verdict(const FraudVerdict& v) {  // (3) only: complete what waited for it
    const auto it = waiting_.find(v.customer);
    if (it == waiting_.end()) return;  // not asked for: ignore
    std::vector<ChargeRequest> requests = std::move(it->second);
    waiting_.erase(it);
    if (v.clean) known_.insert(v.customer);
    for (const ChargeRequest& r : requests) settle(r, v.clean);
    stop_when_idle();
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
  }

  // Mode 2: the next verdict is the answer (one question at a time is outstanding).
  FraudVerdict wait_for_verdict() {
    FraudVerdict verdict;
    if (!verdicts_in_.wait_for_data()) throw std::runtime_error("Fraud stopped mid-check");
    verdicts_in_.consume_batch([&verdict](FraudVerdict& v, std::uint64_t) { verdict = v; }, 1);
    return verdict;
  }

  // Once Order said shutdown and no check is pending: end our outputs (Fraud stops too).
  void stop_when_idle() {
    if (!stopping_ || outputs_closed_ || !waiting_.empty()) return;
    checks_out_.close();
    results_out_.close();
    outputs_closed_ = true;
  }

  const FraudCheckMode mode_;
  const std::chrono::microseconds check_time_;
  // [quote: payment-state]
  std::unordered_set<CustomerId> known_;  // passed a check, or known from the start
  std::unordered_map<CustomerId, std::vector<ChargeRequest>> waiting_;  // (3): check pending
  bool stopping_ = false;
  bool outputs_closed_ = false;
  // [end quote]
  std::uint64_t approved_ = 0;
  std::uint64_t checks_asked_ = 0;
  std::size_t max_waiting_ = 0;
  Cents total_charged_ = 0;

  In<FraudVerdict>& verdicts_in_;
  cp::sw::SelectTwo<In<ChargeRequest>, In<FraudVerdict>> select_;
  Out<ChargeResult>& results_out_;
  Out<FraudCheck>& checks_out_;
};

}  // namespace cp::lessons::services
