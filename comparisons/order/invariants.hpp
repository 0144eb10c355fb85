// invariants.hpp (order): the contract's invariants, checked on a state at quiescence.
//
//   check_order_invariants(state)       - invariants 1-5 (cash, positions, reservations,
//                                         per-order accounting, uncrossed books); returns the
//                                         problems found, empty when all hold.
//   check_fill_totals(state, qty, cash) - invariant 6: the fills the place replies reported
//                                         add up to the trades the engine executed.
// Used by the conformance suite and by the benchmark driver's verdict, so both check the same.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "comparisons/order/contract.hpp"

namespace cp {

namespace order_detail {
template <class... Parts>
void note(std::vector<std::string>& problems, const Parts&... parts) {
  if (problems.size() >= 20) return;  // the first few say enough
  std::ostringstream out;
  (out << ... << parts);
  problems.push_back(out.str());
}
}  // namespace order_detail

inline std::vector<std::string> check_order_invariants(const OrderState& s) {
  using order_detail::note;
  std::vector<std::string> problems;
  const OrderConfig& c = s.config;
  if (s.accounts.size() != c.accounts)
    note(problems, "state has ", s.accounts.size(), " accounts, config ", c.accounts);
  if (s.books.size() != c.symbols)
    note(problems, "state has ", s.books.size(), " books, config ", c.symbols);

  // 1. Cash is conserved; 4. no available (or reserved) cash is negative.
  Cash total = 0;
  for (std::size_t a = 0; a < s.accounts.size(); ++a) {
    const auto& acc = s.accounts[a];
    total += acc.available + acc.reserved;
    if (acc.available < 0) note(problems, "account ", a, ": available ", acc.available, " < 0");
    if (acc.reserved < 0) note(problems, "account ", a, ": reserved ", acc.reserved, " < 0");
  }
  const Cash initial = static_cast<Cash>(s.accounts.size()) * c.initial_cash;
  if (total != initial)
    note(problems, "cash not conserved: available + reserved = ", total, ", initial ", initial);

  // 2. Positions sum to zero per symbol.
  for (std::uint32_t sym = 0; sym < kMaxSymbols; ++sym) {
    Qty sum = 0;
    for (const auto& acc : s.accounts) sum += acc.positions[sym];
    if (sum != 0) note(problems, "symbol ", sym, ": positions sum to ", sum, ", not 0");
    if (sym >= c.symbols)
      for (std::size_t a = 0; a < s.accounts.size(); ++a)
        if (s.accounts[a].positions[sym] != 0)
          note(problems, "account ", a, ": position in unknown symbol ", sym);
  }

  // 4. Per order: filled + resting + cancelled == qty, none negative; ids sorted and unique.
  // 3. Reserved cash per account == sum of price * resting over its buys.
  std::vector<Cash> reserved(s.accounts.size(), 0);
  absl::flat_hash_map<OrderId, std::size_t> by_id;
  by_id.reserve(s.orders.size());
  Qty filled_sum = 0;
  for (std::size_t i = 0; i < s.orders.size(); ++i) {
    const auto& o = s.orders[i];
    if (i > 0 && s.orders[i - 1].id >= o.id) note(problems, "orders not sorted by id at ", o.id);
    by_id.emplace(o.id, i);
    if (o.filled < 0 || o.cancelled < 0 || o.resting < 0 || o.filled + o.cancelled + o.resting != o.qty)
      note(problems, "order ", o.id, ": filled ", o.filled, " + cancelled ", o.cancelled,
           " + resting ", o.resting, " != qty ", o.qty);
    if (o.qty <= 0 || o.qty > c.max_qty || o.price <= 0 || o.price > c.max_price ||
        o.symbol >= c.symbols || o.account >= c.accounts)
      note(problems, "order ", o.id, " should have been rejected (qty ", o.qty, ", price ",
           o.price, ", symbol ", o.symbol, ", account ", o.account, ")");
    else if (o.side == Side::buy)
      reserved[o.account] += o.price * o.resting;
    filled_sum += o.filled;
  }
  for (std::size_t a = 0; a < s.accounts.size(); ++a)
    if (s.accounts[a].reserved != reserved[a])
      note(problems, "account ", a, ": reserved ", s.accounts[a].reserved,
           ", resting buys need ", reserved[a]);
  // Every trade fills a maker and a taker by the same quantity.
  if (filled_sum != 2 * s.traded_qty)
    note(problems, "orders' filled quantities sum to ", filled_sum, ", want 2 * traded ",
         s.traded_qty);

  // The books hold exactly the resting orders, at their price, in priority order;
  // 5. no book is crossed.
  std::size_t in_books = 0;
  for (std::uint32_t sym = 0; sym < s.books.size(); ++sym) {
    const auto& b = s.books[sym];
    for (int side = 0; side < 2; ++side) {
      const auto& entries = side == 0 ? b.bids : b.asks;
      const Side want = side == 0 ? Side::buy : Side::sell;
      for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& e = entries[i];
        ++in_books;
        if (i > 0) {
          const auto& prev = entries[i - 1];
          const bool price_order = want == Side::buy ? prev.price >= e.price : prev.price <= e.price;
          // (Time order within a level is not visible here: ids need not grow with time.)
          if (!price_order)
            note(problems, "symbol ", sym, ": book side ", side, " out of priority order at ", e.id);
        }
        const auto it = by_id.find(e.id);
        if (it == by_id.end()) {
          note(problems, "symbol ", sym, ": book holds unknown order ", e.id);
          continue;
        }
        const auto& o = s.orders[it->second];
        if (o.symbol != sym || o.side != want || o.price != e.price || o.resting != e.remaining)
          note(problems, "symbol ", sym, ": book entry ", e.id, " (price ", e.price,
               ", remaining ", e.remaining, ") disagrees with the order (price ", o.price,
               ", resting ", o.resting, ")");
      }
    }
    if (!b.bids.empty() && !b.asks.empty() && b.bids.front().price >= b.asks.front().price)
      note(problems, "symbol ", sym, ": book crossed, best bid ", b.bids.front().price,
           " >= best ask ", b.asks.front().price);
  }
  std::size_t resting_orders = 0;
  for (const auto& o : s.orders) resting_orders += o.resting > 0;
  if (resting_orders != in_books)
    note(problems, resting_orders, " orders have a resting remainder, the books hold ", in_books);
  return problems;
}

// check_fill_totals: invariant 6. replied_qty / replied_notional are the sums of filled_qty /
// filled_notional over every accepted place reply (each trade has exactly one aggressor).
inline std::vector<std::string> check_fill_totals(const OrderState& s, Qty replied_qty,
                                                  Cash replied_notional) {
  std::vector<std::string> problems;
  if (replied_qty != s.traded_qty || replied_notional != s.traded_notional)
    order_detail::note(problems, "replies report fills of ", replied_qty, " (notional ",
                       replied_notional, "), the engine traded ", s.traded_qty, " (notional ",
                       s.traded_notional, ")");
  return problems;
}

}  // namespace cp
