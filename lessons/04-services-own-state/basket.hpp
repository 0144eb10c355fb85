// basket.hpp: the Basket (the driver: the program's main thread, or a test) and its workload.
//
//   PlannedOrder, Workload - who orders what, in which order; make_workload() builds one from
//                  a seed: known customers order at random, and each new customer places one
//                  order (its first, the one that needs a fraud check) at a random position.
//   BasketConfig - how many orders may be in flight at once (the window), and the pace.
//   BasketReport - what the Basket saw: confirmations (exactly once each?), per-customer order
//                  counts, and confirmation latency for known and for new customers.
//   Basket       - sends the orders, keeps customer -> order count, takes confirmations, then
//                  shuts the system down: a shutdown message, close(), and it reads until
//                  Order closes the confirmation ring.
//
// Why a window. Every ring is bounded, and push() waits while its ring is full. The rings form
// cycles (Order -> Payment -> Order, Basket -> Order -> Basket): if Order waits to push to a
// full Payment ring while Payment waits to push to a full result ring, neither ever reads
// again: a deadlock made of two correct pieces. The Basket admits at most `window` orders at a
// time and every ring holds at least window + 1 messages, so no ring can fill; the pressure
// of too many orders ends at the edge of the system, in the Basket, where it can be seen.
//
// Latency is measured from when an order was sent (closed loop) or was due (paced: order i is
// due at t0 + i / rate, and a late send counts against the system) to when Order confirmed it
// (Order stamps the confirmation): the Basket's own reading delay is not counted.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bench/harness/histogram.hpp"
#include "lessons/04-services-own-state/messages.hpp"

namespace cp::lessons::services {

struct PlannedOrder {
  CustomerId customer = 0;
  bool new_customer = false;  // the customer's first order, which needs a fraud check
  Cents amount = 0;
};

struct Workload {
  std::vector<PlannedOrder> orders;          // order i has OrderId i
  std::vector<CustomerId> known_customers;   // ids 0 .. known - 1: Payment knows them
  std::size_t new_customers = 0;             // ids known .. known + new - 1
};

// make_workload: `orders` orders; `new_customers` of them are first orders of new customers,
// at random positions; the others come from `known_customers` known customers at random.
// Same seed, same workload (our own draws: std distributions differ between libraries).
inline Workload make_workload(std::size_t orders, std::size_t known_customers,
                              std::size_t new_customers, std::uint64_t seed) {
  if (new_customers > orders || (known_customers == 0 && new_customers < orders))
    throw std::invalid_argument("make_workload: need new <= orders and a known customer");
  std::mt19937_64 rng(seed);
  Workload w;
  w.new_customers = new_customers;
  for (std::size_t c = 0; c < known_customers; ++c)
    w.known_customers.push_back(static_cast<CustomerId>(c));
  w.orders.resize(orders);
  for (std::size_t i = 0; i < orders; ++i) {
    PlannedOrder& o = w.orders[i];
    if (i < new_customers) {
      o.customer = static_cast<CustomerId>(known_customers + i);
      o.new_customer = true;
    } else {
      o.customer = static_cast<CustomerId>(rng() % known_customers);
    }
    o.amount = static_cast<Cents>(100 + rng() % 9900);
  }
  for (std::size_t i = orders; i > 1; --i) std::swap(w.orders[i - 1], w.orders[rng() % i]);
  return w;
}

struct BasketConfig {
  std::size_t window = 64;  // orders in flight at most; every ring must hold window + 1
  double rate = 0;          // orders per second; 0: as fast as the window allows
};

struct BasketReport {
  std::uint64_t sent = 0;
  std::uint64_t confirmed = 0;    // distinct orders confirmed
  std::uint64_t declined = 0;     // confirmed, but not approved
  std::uint64_t duplicates = 0;   // a second confirmation of the same order
  std::uint64_t unknown = 0;      // a confirmation of an order never sent
  bool order_ended_early = false; // Order closed the confirmations before all were in
  std::unordered_map<CustomerId, std::uint32_t> orders_per_customer;
  cp::bench::LatencyHistogram known_latency_ns, new_latency_ns;
  Clock::duration elapsed{};      // first send to last confirmation
  std::vector<Confirmation> arrivals;  // every confirmation, in the order it arrived

  bool every_order_confirmed_once() const {
    return confirmed == sent && duplicates == 0 && unknown == 0 && !order_ended_early;
  }
  double orders_per_second() const {
    const double s = std::chrono::duration<double>(elapsed).count();
    return s > 0 ? static_cast<double>(confirmed) / s : 0.0;
  }
};

template <class Wiring = InProcess>
class Basket {
  template <class T>
  using In = typename Wiring::template Input<T>;
  template <class T>
  using Out = typename Wiring::template Output<T>;

 public:
  Basket(const Workload& workload, BasketConfig config, Out<OrderMsg>& orders_out,
         In<Confirmation>& confirmations_in)
      : workload_(workload),
        config_(config),
        orders_out_(orders_out),
        confirmations_in_(confirmations_in),
        sent_at_(workload.orders.size()),
        seen_(workload.orders.size(), 0) {
    if (config.window == 0 || channel_capacity(config.window) > orders_out.capacity() ||
        channel_capacity(config.window) > confirmations_in.capacity())
      throw std::invalid_argument("Basket: the window must fit the rings (see the top)");
  }

  // [quote: basket-run]
  // run: on the calling thread. Sends every order, waits for every confirmation, shuts the
  // system down, and reads until Order's ring ends.
  BasketReport run() {
    const Clock::time_point t0 = Clock::now();
    const std::vector<PlannedOrder>& orders = workload_.orders;
    for (std::size_t i = 0; i < orders.size(); ++i) {
      while (in_flight_ >= config_.window && take_confirmations_waiting()) {}
      if (report_.order_ended_early) break;  // Order is gone: a bug; stop sending
      Clock::time_point send_time = Clock::now();
      if (config_.rate > 0) {  // paced: order i is due at t0 + i / rate
        take_confirmations_available();
        send_time = t0 + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(i) / config_.rate));
        std::this_thread::sleep_until(send_time);
      }
      sent_at_[i] = send_time;
      ++report_.orders_per_customer[orders[i].customer];
      orders_out_.push({OrderMsg::Kind::place, static_cast<OrderId>(i), orders[i].customer,
                        orders[i].amount});
      ++report_.sent;
      ++in_flight_;
      take_confirmations_available();
    }
    while (in_flight_ > 0 && take_confirmations_waiting()) {}
    report_.elapsed = last_confirmed_at_ - t0;
    if (!report_.order_ended_early) orders_out_.push({OrderMsg::Kind::shutdown});
    orders_out_.close();  // the end of our ring, after the shutdown message
    while (confirmations_in_.wait_for_data()) take_confirmations_available();  // late extras
    return std::move(report_);
  }
  // [end quote]

 private:
  // Waits for at least one confirmation; false if Order ended its ring instead.
  bool take_confirmations_waiting() {
    if (!confirmations_in_.wait_for_data()) {
      report_.order_ended_early = true;
      return false;
    }
    take_confirmations_available();
    return true;
  }

  void take_confirmations_available() {
    confirmations_in_.consume_batch([this](Confirmation& c, std::uint64_t) { on_confirmation(c); },
                                    confirmations_in_.capacity());
  }

  void on_confirmation(const Confirmation& c) {
    report_.arrivals.push_back(c);
    if (c.order >= seen_.size()) {
      ++report_.unknown;
      return;
    }
    if (seen_[c.order]++ != 0) {
      ++report_.duplicates;
      return;
    }
    --in_flight_;
    ++report_.confirmed;
    if (!c.approved) ++report_.declined;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(c.confirmed_at -
                                                                         sent_at_[c.order]);
    const auto latency = static_cast<std::uint64_t>(std::max<std::int64_t>(0, ns.count()));
    (workload_.orders[c.order].new_customer ? report_.new_latency_ns : report_.known_latency_ns)
        .record(latency);
    last_confirmed_at_ = std::max(last_confirmed_at_, c.confirmed_at);
  }

  const Workload& workload_;
  const BasketConfig config_;
  Out<OrderMsg>& orders_out_;
  In<Confirmation>& confirmations_in_;
  // The Basket's own state: send times, confirmations seen per order, the report.
  std::vector<Clock::time_point> sent_at_;
  std::vector<std::uint8_t> seen_;
  std::size_t in_flight_ = 0;
  Clock::time_point last_confirmed_at_{};
  BasketReport report_;
};

}  // namespace cp::lessons::services
