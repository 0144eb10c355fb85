// broken_order.hpp: deliberately broken order engines. They are NOT in OrderDesigns; the
// [suite-catches-bugs] tests run the same checks against them and require that the checks
// report problems, so a check that silently stopped checking would be noticed.
//
//   BrokenOrderEngine<OrderBug::cancel_keeps_reservation>  - cancel forgets to release the
//       cancelled remainder's reservation (the cash stays reserved for ever).
//   BrokenOrderEngine<OrderBug::trades_at_incoming_price>  - cash moves at the incoming order's
//       limit instead of the resting order's price (cash is still conserved: only a
//       comparison with the reference or a hand-computed case can tell).
// Built from the same pieces as OrderCore, behind one mutex so that the stress check runs.
#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/container/flat_hash_map.h>

#include <tuple>
#include <vector>

#include "comparisons/order/contract.hpp"
#include "comparisons/order/reference.hpp"
#include "patterns/mutex/mutex.hpp"

namespace cp::test {

enum class OrderBug { cancel_keeps_reservation, trades_at_incoming_price };

template <OrderBug Bug>
class BrokenOrderEngine {
 public:
  using lock_type = Mutex;
  static constexpr DesignTraits traits{
      .name = Bug == OrderBug::cancel_keeps_reservation ? "broken-cancel-keeps-reservation"
                                                        : "broken-trades-at-incoming-price",
      .family = Family::mutex,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = lock_type::waiting,
  };

  explicit BrokenOrderEngine(OrderConfig config) : config_(check(config)) {
    MutexLock lock(mu_);
    accounts_.resize(config_.accounts);
    for (auto& a : accounts_) a.available = config_.initial_cash;
    for (SymbolId s = 0; s < config_.symbols; ++s) markets_.emplace_back(s);
  }

  PlaceReply place(const PlaceCmd& cmd) ABSL_LOCKS_EXCLUDED(mu_) {
    if (const Reject r = validate_place_shape(config_, cmd); r != Reject::none) return {r};
    MutexLock lock(mu_);
    if (ids_.contains(cmd.id)) return {Reject::duplicate_order_id};
    if (!accounts_[cmd.account].try_reserve(reservation(cmd))) return {Reject::insufficient_cash};
    const SymbolId symbol = cmd.symbol;
    // The callback runs inside markets_[symbol].place, with mu_ held; the analysis checks a
    // lambda as a function of its own and cannot know that, hence the opt-out.
    const auto placed =
        markets_[symbol].place(cmd, [&](const Trade& t) ABSL_NO_THREAD_SAFETY_ANALYSIS {
          const Price price = Bug == OrderBug::trades_at_incoming_price ? cmd.price : t.price;  // BUG
          accounts_[t.buyer].settle_buy(symbol, t.buyer_limit, price, t.qty);
          accounts_[t.seller].settle_sell(symbol, price, t.qty);
        });
    ids_.emplace(cmd.id, OrderLocation{symbol, placed.slot});
    return placed.reply;
  }

  CancelReply cancel(const CancelCmd& cmd) ABSL_LOCKS_EXCLUDED(mu_) {
    if (cmd.account >= config_.accounts) return {Reject::unknown_account};
    MutexLock lock(mu_);
    const auto it = ids_.find(cmd.id);
    if (it == ids_.end()) return {Reject::unknown_order};
    const auto c = markets_[it->second.symbol].cancel(it->second.slot, cmd.account);
    if (c.reject != Reject::none) return {c.reject};
    if (Bug != OrderBug::cancel_keeps_reservation) accounts_[cmd.account].release(c.released);  // BUG
    return {Reject::none, c.qty};
  }

  QueryReply query(const QueryCmd& cmd) ABSL_LOCKS_EXCLUDED(mu_) {
    if (cmd.account >= config_.accounts) return {Reject::unknown_account};
    MutexLock lock(mu_);
    return accounts_[cmd.account].reply();
  }

  OrderState state() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    OrderState s = empty_state(config_);
    for (const auto& a : accounts_) s.accounts.push_back({a.available, a.reserved, a.positions});
    for (const auto& [id, loc] : ids_)
      s.orders.push_back(make_state_order(id, loc.symbol, markets_[loc.symbol].record(loc.slot)));
    sort_orders(s);
    for (const auto& m : markets_) m.append_snapshot(s);
    return s;
  }

 private:
  const OrderConfig config_;
  Mutex mu_;
  std::vector<AccountBalance> accounts_ ABSL_GUARDED_BY(mu_);
  std::vector<SymbolMarket> markets_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<OrderId, OrderLocation> ids_ ABSL_GUARDED_BY(mu_);
};

using BrokenOrderDesigns = std::tuple<BrokenOrderEngine<OrderBug::cancel_keeps_reservation>,
                                      BrokenOrderEngine<OrderBug::trades_at_incoming_price>>;

}  // namespace cp::test
