// state_hash.hpp (order): a deterministic 64-bit hash of an OrderState, so that two runs (or a
// design and its replay through the reference) compare with one number. Every field of the
// canonical state goes in, in its canonical order; the config does not (two states of
// different configs differ in their accounts and books anyway).
#pragma once

#include <cstdint>

#include "comparisons/common/random.hpp"
#include "comparisons/order/contract.hpp"

namespace cp {

class StateHasher {
 public:
  void add(std::uint64_t word) { h_ = mix64(h_ ^ word) + 0x632be59bd9b4e019ULL; }
  void add_signed(std::int64_t v) { add(static_cast<std::uint64_t>(v)); }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 0x6f72646572ULL;  // "order"
};

inline std::uint64_t state_hash(const OrderState& s) {
  StateHasher h;
  h.add(s.accounts.size());
  for (const auto& a : s.accounts) {
    h.add_signed(a.available);
    h.add_signed(a.reserved);
    for (const Qty p : a.positions) h.add_signed(p);
  }
  h.add(s.orders.size());
  for (const auto& o : s.orders) {
    h.add(o.id);
    h.add((std::uint64_t{o.account} << 32) | (std::uint64_t{o.symbol} << 8) |
          static_cast<std::uint64_t>(o.side));
    h.add_signed(o.price);
    h.add_signed(o.qty);
    h.add_signed(o.filled);
    h.add_signed(o.cancelled);
    h.add_signed(o.resting);
  }
  h.add(s.books.size());
  for (const auto& b : s.books) {
    for (const auto* side : {&b.bids, &b.asks}) {
      h.add(side->size());
      for (const auto& r : *side) {
        h.add(r.id);
        h.add_signed(r.price);
        h.add_signed(r.remaining);
      }
    }
  }
  h.add(s.trades);
  h.add_signed(s.traded_qty);
  h.add_signed(s.traded_notional);
  return h.value();
}

}  // namespace cp
