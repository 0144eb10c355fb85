// lock_free_order_matching.hpp (order, lock-free): one command applied to a book version.
//
//   lf_order::match_into  - the version after an incoming order trades and rests (price-time
//                           priority, trades at the resting order's price).
//   lf_order::remove_from - the version without one resting order (a cancel).
//
// Both only read the loaded version and write the new one and the Edit: they can run any
// number of times, on any version, and a run that throws or is thrown away changes nothing
// shared (the Edit frees what it made).
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

#include "comparisons/order/contract.hpp"
#include "comparisons/order/lock_free_order_book.hpp"

namespace cp::lf_order {

struct Fill {
  OrderNode* maker;
  Price price;
  Qty qty;
};

// match_into: `next` = `cur` after the incoming order (its node `taker`) trades and rests.
// Returns the quantity left to rest (0: nothing rests); the trades go to `fills`.
inline Qty match_into(const BookVersion& cur, const PlaceCmd& cmd, OrderNode* taker,
                      BookVersion& next, std::vector<Fill>& fills, Edit& edit) {
  const bool buy = cmd.side == Side::buy;
  const auto& opposite = buy ? cur.asks : cur.bids;
  auto& next_opposite = buy ? next.asks : next.bids;
  Qty left = cmd.qty;
  Cash notional = 0;
  std::size_t i = 0;
  next_opposite.reserve(opposite.size());
  for (; left > 0 && i < opposite.size(); ++i) {
    Level* level = opposite[i];
    if (buy ? level->price > cmd.price : level->price < cmd.price) break;  // no longer crosses
    std::size_t k = 0;
    Qty partial = 0;  // what the last maker keeps, if it is not filled whole
    for (; left > 0 && k < level->orders.size(); ++k) {
      const Resting& m = level->orders[k];
      const Qty q = std::min(left, m.remaining);
      fills.push_back({m.order, level->price, q});
      left -= q;
      notional += level->price * q;
      if (q < m.remaining) {
        partial = m.remaining - q;
        break;
      }
    }
    edit.drop(level);
    if (partial > 0 || k < level->orders.size()) {  // the taker is used up; the level stays
      Level* smaller = edit.make(level->price);
      if (partial > 0) smaller->orders.push_back({level->orders[k++].order, partial});
      smaller->orders.insert(smaller->orders.end(),
                             level->orders.begin() + static_cast<std::ptrdiff_t>(k),
                             level->orders.end());
      next_opposite.push_back(smaller);
      ++i;
      break;
    }
  }
  next_opposite.insert(next_opposite.end(), opposite.begin() + static_cast<std::ptrdiff_t>(i),
                       opposite.end());
  const auto& own = buy ? cur.bids : cur.asks;
  auto& next_own = buy ? next.bids : next.asks;
  if (left > 0) {  // rest behind every order at the same price (time priority)
    auto at = std::find_if(own.begin(), own.end(), [&](const Level* l) {
      return buy ? l->price <= cmd.price : l->price >= cmd.price;
    });
    next_own.reserve(own.size() + 1);
    next_own.insert(next_own.end(), own.begin(), at);
    if (at != own.end() && (*at)->price == cmd.price) {
      Level* grown = edit.make(cmd.price, (*at)->orders);
      grown->orders.push_back({taker, left});
      edit.drop(*at++);
      next_own.push_back(grown);
    } else {
      next_own.push_back(edit.make(cmd.price, {{taker, left}}));
    }
    next_own.insert(next_own.end(), at, own.end());
  } else {
    next_own = own;
  }
  next.trades = cur.trades + fills.size();
  next.traded_qty = cur.traded_qty + (cmd.qty - left);
  next.traded_notional = cur.traded_notional + notional;
  return left;
}

// remove_from: `next` = `cur` without `order`'s entry; its remaining quantity in *remaining.
// False (and nothing built) if the order rests no more.
inline bool remove_from(const BookVersion& cur, const OrderNode* order, BookVersion& next,
                        Qty* remaining, Edit& edit) {
  const bool buy = order->side == Side::buy;
  const auto& side = buy ? cur.bids : cur.asks;
  const auto level = std::find_if(side.begin(), side.end(),
                                  [&](const Level* l) { return l->price == order->price; });
  if (level == side.end()) return false;
  const auto& orders = (*level)->orders;
  const auto entry = std::find_if(orders.begin(), orders.end(),
                                  [&](const Resting& r) { return r.order == order; });
  if (entry == orders.end()) return false;
  *remaining = entry->remaining;
  auto& out = buy ? next.bids : next.asks;
  out.reserve(side.size());
  out.insert(out.end(), side.begin(), level);
  if (orders.size() > 1) {
    Level* smaller = edit.make((*level)->price);
    smaller->orders.reserve(orders.size() - 1);
    smaller->orders.insert(smaller->orders.end(), orders.begin(), entry);
    smaller->orders.insert(smaller->orders.end(), entry + 1, orders.end());
    out.push_back(smaller);
  }
  edit.drop(*level);
  out.insert(out.end(), level + 1, side.end());
  (buy ? next.asks : next.bids) = buy ? cur.asks : cur.bids;
  next.trades = cur.trades;
  next.traded_qty = cur.traded_qty;
  next.traded_notional = cur.traded_notional;
  return true;
}

}  // namespace cp::lf_order
