// order_lin.hpp: the order workload under the general linearizability checker.
//
//   OrderModel            - the reference engine as a model (tests/support/linearizability.hpp).
//                           A place touches its account, its book and the accounts resting on
//                           it, so no call names a partition: each history is checked whole.
//   check_order_histories - records `histories` small seeded histories of a fresh design
//                           (3 clients x 10 commands of the default stream, 5% malformed, on 2
//                           symbols and 6 accounts with little cash, so that trades, cancels,
//                           queries and cash rejects all happen) and checks each one.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "comparisons/common/random.hpp"
#include "comparisons/order/contract.hpp"
#include "comparisons/order/generator.hpp"
#include "comparisons/order/reference.hpp"
#include "comparisons/order/state_hash.hpp"
#include "tests/support/findings.hpp"
#include "tests/support/linearizability.hpp"

namespace cp::test {

inline OrderConfig lin_order_config() {
  return {.symbols = 2, .accounts = 6, .initial_cash = 300'000, .max_price = 1'000'000,
          .max_qty = 1'000'000};
}

struct OrderModel {
  using Input = OrderCommand;
  using Output = OrderReply;
  // The state is the canonical OrderState: the reference engine is not copyable, and a
  // state restores into an engine exactly (books in time priority included).
  using State = OrderState;

  OrderConfig config = lin_order_config();

  State init() const { return OrderReference(config).state(); }
  Output step(State& s, const Input& in) const {
    std::optional<OrderReference> ref = OrderReference::restore(s);
    if (!ref) throw std::logic_error("order model: a state the reference cannot restore");
    Output out = apply_order_command(*ref, in);
    s = ref->state();
    return out;
  }

  struct Key {
    OrderState state;
    bool operator==(const Key&) const = default;
  };
  Key fingerprint(const State& s) const { return {s}; }

  std::optional<std::uint64_t> partition(const Input&) const { return std::nullopt; }

  std::string describe(const Input& in, const Output& out) const {
    std::ostringstream s;
    if (const auto* p = std::get_if<PlaceCmd>(&in))
      s << "place(id " << p->id << ", account " << p->account << ", symbol " << p->symbol << ", "
        << (p->side == Side::buy ? "buy " : "sell ") << p->qty << " @ " << p->price << ")";
    else if (const auto* c = std::get_if<CancelCmd>(&in))
      s << "cancel(id " << c->id << ", account " << c->account << ")";
    else
      s << "query(account " << std::get<QueryCmd>(in).account << ")";
    s << " -> ";
    if (const auto* p = std::get_if<PlaceReply>(&out)) {
      if (p->reject != Reject::none) s << "rejected: " << to_string(p->reject);
      else s << "filled " << p->filled_qty << " for " << p->filled_notional << (p->rests ? ", rests" : "");
    } else if (const auto* c = std::get_if<CancelReply>(&out)) {
      if (c->reject != Reject::none) s << "rejected: " << to_string(c->reject);
      else s << "cancelled " << c->cancelled_qty;
    } else {
      const auto& q = std::get<QueryReply>(out);
      if (q.reject != Reject::none) {
        s << "rejected: " << to_string(q.reject);
      } else {
        s << "available " << q.available << ", reserved " << q.reserved << ", positions";
        for (std::uint32_t i = 0; i < config.symbols; ++i) s << " " << q.positions[i];
      }
    }
    return s.str();
  }
};

}  // namespace cp::test

template <>
struct std::hash<cp::test::OrderModel::Key> {
  std::size_t operator()(const cp::test::OrderModel::Key& k) const {
    return static_cast<std::size_t>(cp::state_hash(k.state));
  }
};

namespace cp::test {

using OrderCall = lin::Operation<OrderCommand, OrderReply>;

template <class D>
std::vector<OrderCall> record_order_history(const OrderModel& model, std::uint64_t seed,
                                            unsigned clients, unsigned ops_per_client) {
  D design(model.config);
  const ZipfKeys symbols(model.config.symbols, 0.99);
  OrderStreamParams params;
  params.malformed_percent = 5;
  params.walk_range = 3;
  params.depth = 3;
  params.max_order_qty = 20;
  // One stream per client, each touched only by its own client's thread.
  std::vector<std::unique_ptr<OrderStream>> streams;
  for (unsigned c = 0; c < clients; ++c)
    streams.push_back(
        std::make_unique<OrderStream>(model.config, params, symbols, c, clients, seed));
  return lin::record_history<OrderCommand, OrderReply>(
      clients, ops_per_client, [&](unsigned client, unsigned) {
        OrderStream& stream = *streams[client];
        const OrderCommand cmd = stream.next();
        const OrderReply reply = apply_order_command(design, cmd);
        stream.observe(cmd, reply);
        return std::pair{cmd, reply};
      });
}

template <class D>
Findings check_order_histories(std::uint64_t seed, unsigned histories,
                               lin::HistoryTally<OrderCommand, OrderReply>* tally_out = nullptr,
                               unsigned clients = 3, unsigned ops_per_client = 10) {
  const OrderModel model;
  return lin::check_histories(
      model, seed, histories,
      [&](std::uint64_t s) { return record_order_history<D>(model, s, clients, ops_per_client); },
      tally_out);
}

}  // namespace cp::test
