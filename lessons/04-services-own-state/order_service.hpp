// order_service.hpp: OrderService, the owner of "which order belongs to which customer".
//
//   OrderService - its own thread; two inputs (new orders from Basket, results from Payment)
//                  waited on together with cp::sw::SelectTwo; asks Payment to charge each
//                  order; confirms each paid order to Basket; on shutdown, once nothing is in
//                  flight, tells Payment to stop too.
//
// State (owned: only run()'s thread touches it while it runs; read the counters after join):
//   in_flight_ - order -> customer, from "asked Payment" to "got Payment's answer".
//
// Shutdown is a message, not only a closed ring: a thread asleep on two rings is woken when
// either has data or when *both* are closed and drained, so "Basket closed its ring" alone
// would not wake it while Payment's ring is still open. Each producer sends its last message
// and then close()s its ring: the consumer reads everything, then sees the end.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "lessons/04-services-own-state/messages.hpp"

namespace cp::lessons::services {

template <class Wiring = InProcess>
class OrderService {
  template <class T>
  using In = typename Wiring::template Input<T>;
  template <class T>
  using Out = typename Wiring::template Output<T>;

 public:
  // The two input rings must have been constructed with `inputs` as their data-wait strategy.
  OrderService(In<OrderMsg>& orders_in, In<ChargeResult>& results_in,
               cp::sw::BlockingWaitStrategy& inputs, Out<ChargeRequest>& charges_out,
               Out<Confirmation>& confirmations_out)
      : select_(orders_in, results_in, inputs),
        charges_out_(charges_out),
        confirmations_out_(confirmations_out) {}

  // [quote: order-run]
  // run: the service's thread. Returns when both inputs are closed and drained.
  void run() {
    while (select_.wait_any()) {
      select_.drain_fair([this](OrderMsg& m, std::uint64_t) { on_order(m); },
                         [this](ChargeResult& r, std::uint64_t) { on_result(r); }, kBatch);
    }
    confirmations_out_.close();  // we are the producer of this ring: Basket sees the end
  }
  // [end quote]

  // After run() returned (join first): what happened.
  std::uint64_t confirmed() const { return confirmed_; }
  std::uint64_t unknown_results() const { return unknown_results_; }

 private:
  // [quote: order-handlers]
  void on_order(const OrderMsg& m) {
    if (m.kind == OrderMsg::Kind::shutdown) {
      stopping_ = true;
      stop_payment_when_idle();
      return;
    }
    in_flight_.emplace(m.order, m.customer);
    charges_out_.push({ChargeRequest::Kind::charge, m.order, m.customer, m.amount});
  }

  void on_result(const ChargeResult& r) {
    const auto it = in_flight_.find(r.order);
    if (it == in_flight_.end()) {  // not ours: a bug upstream; count it, never crash
      ++unknown_results_;
      return;
    }
    const CustomerId customer = it->second;
    in_flight_.erase(it);
    ++confirmed_;
    confirmations_out_.push({r.order, customer, r.approved, Clock::now()});
    stop_payment_when_idle();
  }

  // Payment may stop once Basket said so and no order waits for Payment's answer.
  void stop_payment_when_idle() {
    if (!stopping_ || payment_stopped_ || !in_flight_.empty()) return;
    charges_out_.push({ChargeRequest::Kind::shutdown});
    charges_out_.close();
    payment_stopped_ = true;
  }
  // [end quote]

  cp::sw::SelectTwo<In<OrderMsg>, In<ChargeResult>> select_;
  Out<ChargeRequest>& charges_out_;
  Out<Confirmation>& confirmations_out_;

  // [quote: order-state]
  std::unordered_map<OrderId, CustomerId> in_flight_;  // asked Payment, no answer yet
  bool stopping_ = false;                              // Basket said shutdown
  bool payment_stopped_ = false;                       // we told Payment to stop
  // [end quote]
  std::uint64_t confirmed_ = 0;
  std::uint64_t unknown_results_ = 0;
};

}  // namespace cp::lessons::services
