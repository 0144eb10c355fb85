// partitions.hpp: the order engine sharded by symbol over a JetStream stream. Partition k of P
// is the single writer of the symbols s with s % P == k; its commands are on the subject
// orders.p<k>. Each partition holds a sub-account of every account: a share of its cash.
//
//   partition_subject(k)       - "orders.p<k>".
//   partition_config(c, k, P)  - the market as partition k sees it: every symbol and account,
//                                each account with its share of the cash (equal shares, the
//                                remainder to partition 0), so the shares add up to the whole.
//   PartitionRouter            - where a command goes: a place to its symbol's partition, a
//                                cancel to the partition its order was placed on, a query to
//                                every partition (each answers for its sub-account).
//   merge_queries, merge_states - the partitions' answers and states as one market's.
//   PartitionedReference       - the same design in one process, with no log: one sequential
//                                engine per partition, each command applied by the partitions
//                                route() names, in stream order. The distributed run must
//                                equal it exactly, always.
//
// Where it differs from one engine over the whole market (OrderReference on the same commands
// in the same order), with unique order ids: as long as no reply has differed, the merged state
// equals the reference's. The first reply that differs is always a buy that its partition
// rejects with insufficient_cash while the whole account had the cash: a partition sees only
// its share. After that the states differ, and later replies may differ in any way. The
// lesson (partitions.md) says why, and what the alternatives cost.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "comparisons/order/reference.hpp"

namespace cp::lessons::l10 {

inline std::string partition_subject(std::uint32_t k) { return "orders.p" + std::to_string(k); }

// [quote: partition-config]
inline OrderConfig partition_config(const OrderConfig& whole, std::uint32_t k,
                                    std::uint32_t parts) {
  OrderConfig c = whole;
  const Cash share = whole.initial_cash / parts;
  c.initial_cash = k == 0 ? whole.initial_cash - share * (parts - 1) : share;
  return c;
}
// [end quote]

// [quote: router]
class PartitionRouter {
 public:
  explicit PartitionRouter(std::uint32_t partitions) : parts_(partitions) {}

  // route: the partitions `cmd` goes to, ascending.
  std::vector<std::uint32_t> route(const OrderCommand& cmd) {
    if (const auto* p = std::get_if<PlaceCmd>(&cmd)) {
      symbol_of_.try_emplace(p->id, p->symbol);  // the first place of an id names its symbol
      return {p->symbol % parts_};
    }
    if (const auto* c = std::get_if<CancelCmd>(&cmd)) {
      const auto at = symbol_of_.find(c->id);  // an id never placed: any partition says unknown
      return {at != symbol_of_.end() ? at->second % parts_
                                     : static_cast<std::uint32_t>(c->id % parts_)};
    }
    std::vector<std::uint32_t> all(parts_);  // a query: each partition has a sub-account
    for (std::uint32_t k = 0; k < parts_; ++k) all[k] = k;
    return all;
  }
  std::uint32_t partitions() const { return parts_; }

 private:
  std::uint32_t parts_;
  std::unordered_map<OrderId, SymbolId> symbol_of_;
};
// [end quote]

// merge_queries: one account's sub-accounts as one account. A partition's positions are zero
// outside its own symbols, so the sums are the positions.
inline QueryReply merge_queries(const std::vector<QueryReply>& parts) {
  QueryReply q{};
  for (const QueryReply& p : parts) {
    if (p.reject != Reject::none) return p;  // every partition rejects alike (unknown account)
    q.available += p.available;
    q.reserved += p.reserved;
    for (std::size_t s = 0; s < kMaxSymbols; ++s) q.positions[s] += p.positions[s];
  }
  return q;
}

// merge_states: the partitions' states (index k = partition k) as one market's state.
inline OrderState merge_states(const OrderConfig& whole, const std::vector<OrderState>& parts) {
  OrderState m = empty_state(whole);
  m.accounts.resize(whole.accounts);
  const auto n = static_cast<std::uint32_t>(parts.size());
  for (std::uint32_t k = 0; k < n; ++k) {
    const OrderState& p = parts[k];
    for (std::size_t a = 0; a < m.accounts.size(); ++a) {
      m.accounts[a].available += p.accounts[a].available;
      m.accounts[a].reserved += p.accounts[a].reserved;
      for (std::size_t s = 0; s < kMaxSymbols; ++s)
        m.accounts[a].positions[s] += p.accounts[a].positions[s];
    }
    m.orders.insert(m.orders.end(), p.orders.begin(), p.orders.end());
    for (std::uint32_t s = k; s < whole.symbols; s += n) m.books[s] = p.books[s];
    m.trades += p.trades;
    m.traded_qty += p.traded_qty;
    m.traded_notional += p.traded_notional;
  }
  sort_orders(m);
  return m;
}

// PartitionedReference: the partitioned design's semantics, sequential and in one process.
class PartitionedReference {
 public:
  PartitionedReference(const OrderConfig& whole, std::uint32_t partitions)
      : whole_(whole), router_(partitions) {
    for (std::uint32_t k = 0; k < partitions; ++k)
      cores_.emplace_back(partition_config(whole, k, partitions));
  }

  // apply: the command on each partition it is routed to; `per_partition` gets each one's
  // reply (index k), and the return value is the client's merged reply.
  OrderReply apply(const OrderCommand& cmd,
                   std::vector<std::pair<std::uint32_t, OrderReply>>* per_partition = nullptr) {
    std::vector<QueryReply> queries;
    OrderReply last{};
    for (const std::uint32_t k : router_.route(cmd)) {
      last = apply_order_command(cores_[k], cmd);
      if (per_partition) per_partition->emplace_back(k, last);
      if (const auto* q = std::get_if<QueryReply>(&last)) queries.push_back(*q);
    }
    return std::holds_alternative<QueryCmd>(cmd) ? OrderReply{merge_queries(queries)} : last;
  }

  const OrderCore& partition(std::uint32_t k) const { return cores_[k]; }
  OrderState merged_state() const {
    std::vector<OrderState> parts;
    for (const auto& c : cores_) parts.push_back(c.state());
    return merge_states(whole_, parts);
  }

 private:
  OrderConfig whole_;
  PartitionRouter router_;
  std::vector<OrderCore> cores_;
};

}  // namespace cp::lessons::l10
