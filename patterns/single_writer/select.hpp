// select.hpp: SelectTwo<RingA, RingB>, one owner thread waiting on two input rings.
//
// Scenario A's Order service waits on new orders (from Basket) and payment results (from
// Payment) at once. A thread cannot sleep on two rings' wait strategies at the same time, so
// the two rings share ONE data-wait strategy: construct both with a pointer to the same
// instance, and every publish or close on either ring signals it. The owner then waits for
// "a has data || b has data || both drained", which the strategy re-checks on every signal.
//
//   BlockingWaitStrategy notifier;                        // lives as long as both rings
//   SingleProducerRing<Order, BlockingWaitStrategy> orders(64, &notifier);
//   SingleProducerRing<Result, BlockingWaitStrategy> results(64, &notifier);
//   SelectTwo select(orders, results, notifier);
//   while (select.wait_any())
//     select.drain_fair(on_order, on_result, 32);
//
// Fairness: drain_fair takes at most max_batch from each ring per call and alternates which
// ring goes first, so a flooded input delays the other by at most one batch: neither starves.
//
// Contract: the owner (consumer) thread only; the rings' producers are whoever they were.
// Any two receive ends will do (ring.hpp's ReceiveEnd), a ring or a NATS subject's receiver
// (patterns/distributed/nats_channel.hpp), as long as they signal the same wait strategy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "patterns/single_writer/ring.hpp"

namespace cp::sw {

template <ReceiveEnd RingA, ReceiveEnd RingB>
  requires std::is_same_v<typename RingA::wait_strategy, typename RingB::wait_strategy>
class SelectTwo {
 public:
  using wait_strategy = typename RingA::wait_strategy;

  // `shared_wait` must be the strategy both rings were constructed with as their data_wait.
  SelectTwo(RingA& a, RingB& b, wait_strategy& shared_wait) : a_(a), b_(b), wait_(shared_wait) {}

  // wait_any: true when either ring has an item; false when both are closed and drained.
  bool wait_any() {
    auto ready = [this] { return a_.has_data() || b_.has_data() || (a_.drained() && b_.drained()); };
    if (!ready()) wait_.wait_until(ready);
    return a_.has_data() || b_.has_data();
  }

  // drain_fair: up to max_batch items from each ring, alternating which ring goes first;
  // fa(item_of_a, sequence_in_a), fb(item_of_b, sequence_in_b). Returns the items handled.
  template <class FA, class FB>
  std::size_t drain_fair(FA&& fa, FB&& fb, std::size_t max_batch) {
    std::size_t n = 0;
    if (a_first_) {
      n += a_.consume_batch(fa, max_batch);
      n += b_.consume_batch(fb, max_batch);
    } else {
      n += b_.consume_batch(fb, max_batch);
      n += a_.consume_batch(fa, max_batch);
    }
    a_first_ = !a_first_;
    return n;
  }

 private:
  RingA& a_;
  RingB& b_;
  wait_strategy& wait_;
  bool a_first_ = true;
};

}  // namespace cp::sw
