// generator.hpp (order): the seeded per-client command stream ("Default benchmark stream").
//
//   OrderStreamParams - the mix and the price process.
//   OrderStream       - one client's stream: 60% place, 30% cancel, 10% query by default.
//
// Prices: each client walks a reference price per symbol (+-1 tick per place, kept within
// +-walk_range of the symbol's mid). A passive order rests 1..depth ticks behind the walk; a
// crossing one (cross_percent of places) reaches 1..depth ticks through it. Symbols are drawn
// Zipf-skewed from a shared ZipfKeys. Client c's order ids are (c + 1) << 40 | seq, unique
// across clients (id prefix 0 is left for prefill). Accounts: client c trades from its own
// slice of the accounts when there are at least as many accounts as clients.
// Cancels pick one of the client's own orders that may still rest: with track_replies (the
// default) those whose place reply said `rests`, reported through observe(); otherwise every
// order it placed. The memory is a bounded set (recent_capacity), so a run of any length uses
// O(1) memory per client; an evicted id simply never gets cancelled.
// malformed_percent > 0 mixes in invalid commands (every reject reason), for tests.
// Deterministic: the same seed, params and replies give the same commands.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <variant>
#include <vector>

#include "comparisons/common/random.hpp"
#include "comparisons/order/contract.hpp"

namespace cp {

struct OrderStreamParams {
  unsigned place_percent = 60;
  unsigned cancel_percent = 30;    // the rest are queries
  unsigned cross_percent = 20;     // of places: the limit crosses the spread
  unsigned malformed_percent = 0;  // of all commands: invalid ones (tests)
  Price mid_price = 10'000;        // ticks; clamped into the band
  Price walk_range = 50;
  Price depth = 8;
  Qty max_order_qty = 100;
  bool track_replies = true;
  std::size_t recent_capacity = 1024;
};

class OrderStream {
 public:
  static constexpr int kClientShift = 40;

  // symbols must outlive the stream (one ZipfKeys per run, shared read-only).
  OrderStream(const OrderConfig& config, const OrderStreamParams& params, const ZipfKeys& symbols,
              unsigned client, unsigned clients, std::uint64_t seed)
      : config_(config), params_(params), symbols_(&symbols), rng_(derive_seed(seed, client)),
        client_(client), clients_(clients == 0 ? 1 : clients) {
    if (clients_ <= config_.accounts) {
      account_lo_ = static_cast<AccountId>(std::uint64_t{client_} * config_.accounts / clients_);
      account_hi_ = static_cast<AccountId>(std::uint64_t{client_ + 1} * config_.accounts / clients_);
    } else {
      account_lo_ = client_ % config_.accounts;
      account_hi_ = account_lo_ + 1;
    }
    mid_ = mid_price(config_, params_);
    walk_.fill(mid_);
    recent_.reserve(params_.recent_capacity);
  }

  // mid_price: the centre of every symbol's price walk (params' mid, clamped into the band).
  static Price mid_price(const OrderConfig& config, const OrderStreamParams& params) {
    return std::clamp<Price>(params.mid_price, 1, std::max<Price>(1, config.max_price / 2));
  }

  static OrderId client_order_id(unsigned client, std::uint64_t seq) {
    return (OrderId{client} + 1) << kClientShift | seq;
  }

  OrderCommand next() {
    if (params_.malformed_percent > 0 && rng_.percent(params_.malformed_percent))
      return malformed();
    const auto roll = rng_.below(100);
    if (roll < params_.place_percent || (roll < params_.place_percent + params_.cancel_percent && recent_.empty()))
      return place();
    if (roll < params_.place_percent + params_.cancel_percent) return cancel_own();
    return QueryCmd{own_account()};
  }

  // observe: the reply to a command this stream made (optional; see track_replies).
  void observe(const OrderCommand& cmd, const OrderReply& reply) {
    if (!params_.track_replies) return;
    if (const auto* p = std::get_if<PlaceCmd>(&cmd))
      if (const auto* r = std::get_if<PlaceReply>(&reply); r && r->rests) remember(p->id);
  }

  unsigned client() const { return client_; }

 private:
  PlaceCmd place() {
    const auto symbol = static_cast<SymbolId>(symbols_->next(rng_) % config_.symbols);
    Price& walk = walk_[symbol];
    walk = std::clamp<Price>(walk + static_cast<Price>(rng_.below(3)) - 1,
                             mid_ - params_.walk_range, mid_ + params_.walk_range);
    const Side side = rng_.below(2) == 0 ? Side::buy : Side::sell;
    const bool cross = rng_.percent(params_.cross_percent);
    const Price offset = 1 + static_cast<Price>(rng_.below(static_cast<std::uint64_t>(params_.depth)));
    const bool above = (side == Side::buy) == cross;  // passive buys and crossing sells sit below
    const Price price = std::clamp<Price>(above ? walk + offset : walk - offset, 1, config_.max_price);
    const Qty qty = std::min<Qty>(
        config_.max_qty, 1 + static_cast<Qty>(rng_.below(static_cast<std::uint64_t>(params_.max_order_qty))));
    const OrderId id = client_order_id(client_, ++seq_);
    const PlaceCmd cmd{.id = id, .account = account_of_own_order(id), .symbol = symbol,
                       .side = side, .price = price, .qty = qty};
    if (!params_.track_replies) remember(cmd.id);
    return cmd;
  }

  CancelCmd cancel_own() {
    const std::size_t i = rng_.below(recent_.size());
    const OrderId id = recent_[i];
    recent_[i] = recent_.back();
    recent_.pop_back();
    return CancelCmd{id, account_of_own_order(id)};
  }

  // Own orders are placed from the client's slice; the account is re-derived from the id so
  // that the stream needs no map from id to account.
  AccountId account_of_own_order(OrderId id) const {
    return account_lo_ + static_cast<AccountId>(mix64(id) % (account_hi_ - account_lo_));
  }

  AccountId own_account() {
    return account_lo_ + static_cast<AccountId>(rng_.below(account_hi_ - account_lo_));
  }

  void remember(OrderId id) {
    if (params_.recent_capacity == 0) return;
    if (recent_.size() < params_.recent_capacity) recent_.push_back(id);
    else recent_[rng_.below(recent_.size())] = id;  // forget one at random
  }

  OrderCommand malformed() {
    PlaceCmd p = place();
    switch (rng_.below(11)) {
      case 0: p.qty = rng_.below(2) ? 0 : -static_cast<Qty>(rng_.below(5)) - 1; return p;
      case 1: p.qty = config_.max_qty + 1 + static_cast<Qty>(rng_.below(5)); return p;
      case 2: p.price = rng_.below(2) ? 0 : config_.max_price + 1; return p;
      case 3: p.symbol = config_.symbols + static_cast<SymbolId>(rng_.below(3)); return p;
      case 4: p.account = config_.accounts + static_cast<AccountId>(rng_.below(3)); return p;
      case 5:  // an id this client used (or tried) before
        p.id = client_order_id(client_, 1 + rng_.below(seq_));
        return p;
      case 6:  // a buy far beyond any account's cash
        p.side = Side::buy;
        p.price = config_.max_price;
        p.qty = config_.max_qty;
        return p;
      case 7:  // another client's order (or nobody's)
        return CancelCmd{client_order_id(static_cast<unsigned>(rng_.below(clients_ + 1)),
                                         1 + rng_.below(seq_ + 1)),
                         own_account()};
      case 8: return CancelCmd{p.id, config_.accounts + static_cast<AccountId>(rng_.below(3))};
      case 9: return QueryCmd{config_.accounts + static_cast<AccountId>(rng_.below(3))};
      default: {  // one of our own ids, perhaps long filled or cancelled
        const OrderId id = client_order_id(client_, 1 + rng_.below(seq_));
        return CancelCmd{id, account_of_own_order(id)};
      }
    }
  }

  OrderConfig config_;
  OrderStreamParams params_;
  const ZipfKeys* symbols_;
  Xoshiro256 rng_;
  unsigned client_;
  unsigned clients_;
  AccountId account_lo_ = 0, account_hi_ = 1;
  Price mid_ = 1;
  std::array<Price, kMaxSymbols> walk_{};
  std::uint64_t seq_ = 0;
  std::vector<OrderId> recent_;
};

}  // namespace cp
