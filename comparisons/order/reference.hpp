// reference.hpp (order): the sequential reference engine and the pieces every lock-based
// design reuses.
//
//   validate_place_shape - the checks that need no state: qty, price, symbol, account.
//   AccountBalance       - one account's cash and positions; reserve / release / settle.
//   Trade                - one settled trade: who pays, who is paid, at what price.
//   OrderRecord          - what is kept of every accepted order (compact: 28 bytes).
//   SymbolMarket         - one symbol: its OrderBook plus the records of its orders. Matching
//                          happens here; cash moves through the caller's settle callback, so a
//                          coarse design settles directly and a fine-grained one locks accounts.
//   OrderLocation        - where an order id's record lives: (symbol, slot).
//   OrderCore            - the whole engine, single-threaded: accounts + markets + id index.
//                          The reference, the coarse mutex and the rwlock designs wrap it.
//   OrderReference       - OrderCore with the reference's traits.
//
// Every rule is in comparisons/order/contract.hpp; the order of the checks is the contract's:
// place: qty, price, symbol, account, duplicate id, cash; cancel: account, unknown order,
// not owner, not active. A rejected command changes nothing.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <variant>
#include <vector>

#include "comparisons/order/book.hpp"
#include "comparisons/order/contract.hpp"

namespace cp {

// validate_place_shape: the stateless part of a place's validation, in contract order.
inline Reject validate_place_shape(const OrderConfig& config, const PlaceCmd& cmd) {
  if (cmd.qty <= 0 || cmd.qty > config.max_qty) return Reject::bad_quantity;
  if (cmd.price <= 0 || cmd.price > config.max_price) return Reject::bad_price;
  if (cmd.symbol >= config.symbols) return Reject::unknown_symbol;
  if (cmd.account >= config.accounts) return Reject::unknown_account;
  return Reject::none;
}

// reservation: the cash a valid place must set aside (buys only). price, qty <= 1e9, so the
// product fits in int64.
inline Cash reservation(const PlaceCmd& cmd) {
  return cmd.side == Side::buy ? cmd.price * cmd.qty : 0;
}

struct Trade {
  AccountId buyer = 0;
  AccountId seller = 0;
  Price price = 0;        // the resting order's price
  Qty qty = 0;
  Price buyer_limit = 0;  // the buy order's limit: its reservation per unit
};

struct AccountBalance {
  Cash available = 0;
  Cash reserved = 0;
  std::array<Qty, kMaxSymbols> positions{};

  // try_reserve: moves `amount` from available to reserved, or returns false (no change).
  bool try_reserve(Cash amount) {
    if (amount > available) return false;
    available -= amount;
    reserved += amount;
    return true;
  }
  void release(Cash amount) {
    reserved -= amount;
    available += amount;
  }
  // The buyer's side of a trade: pays price*qty out of the reservation made at its limit and
  // gets the surplus (limit - price) * qty back.
  void settle_buy(SymbolId symbol, Price limit, Price price, Qty qty) {
    reserved -= limit * qty;
    available += (limit - price) * qty;
    positions[symbol] += qty;
  }
  void settle_sell(SymbolId symbol, Price price, Qty qty) {
    available += price * qty;
    positions[symbol] -= qty;
  }
  QueryReply reply() const { return {Reject::none, available, reserved, positions}; }
};

// What is kept of every accepted order. Prices and quantities are at most 1e9 (OrderConfig's
// bounds), so 32 bits hold them: 28 bytes per order instead of 56, and records are kept for
// every accepted order of a run.
struct OrderRecord {
  std::int32_t price = 0;
  std::int32_t qty = 0;
  std::int32_t filled = 0;
  std::int32_t cancelled = 0;
  AccountId account = 0;
  OrderBook::Handle handle = OrderBook::kNoHandle;  // valid while resting() > 0
  Side side = Side::buy;

  Qty resting() const { return Qty{qty} - filled - cancelled; }
};

// RecordStore: append-only records in fixed-size chunks. Growing never copies old records
// (a std::vector would copy all of them at each doubling, which showed up at ~20% of a place
// in profiles once a run had a million orders) and a record's address never changes.
class RecordStore {
 public:
  static constexpr std::size_t kChunkBits = 12;
  static constexpr std::size_t kChunk = std::size_t{1} << kChunkBits;

  std::uint32_t push_back(const OrderRecord& r) {
    if ((size_ & (kChunk - 1)) == 0) chunks_.push_back(std::make_unique<OrderRecord[]>(kChunk));
    const auto slot = static_cast<std::uint32_t>(size_++);
    (*this)[slot] = r;
    return slot;
  }
  OrderRecord& operator[](std::uint32_t slot) { return chunks_[slot >> kChunkBits][slot & (kChunk - 1)]; }
  const OrderRecord& operator[](std::uint32_t slot) const {
    return chunks_[slot >> kChunkBits][slot & (kChunk - 1)];
  }
  std::size_t size() const { return size_; }

 private:
  std::vector<std::unique_ptr<OrderRecord[]>> chunks_;
  std::size_t size_ = 0;
};

struct OrderLocation {
  SymbolId symbol = 0;
  std::uint32_t slot = 0;  // index into that symbol's records
};

class SymbolMarket {
 public:
  struct Placed {
    PlaceReply reply;
    std::uint32_t slot = 0;
  };
  struct Cancelled {
    Reject reject = Reject::none;
    Qty qty = 0;        // the remainder taken out of the book
    Cash released = 0;  // the reservation the owner gets back (buys)
  };

  explicit SymbolMarket(SymbolId symbol = 0) : symbol_(symbol) {}

  // place: an order that passed every check (and whose buy reservation is made). Records it,
  // matches it, rests the remainder. settle(const Trade&) runs once per trade.
  template <class Settle>
  Placed place(const PlaceCmd& cmd, Settle&& settle) {
    const std::uint32_t slot = records_.push_back(OrderRecord{
        .price = static_cast<std::int32_t>(cmd.price),
        .qty = static_cast<std::int32_t>(cmd.qty),
        .account = cmd.account,
        .side = cmd.side});
    const bool taker_buys = cmd.side == Side::buy;
    const OrderBook::Result r = book_.execute(
        cmd.side, cmd.id, cmd.account, slot, cmd.price, cmd.qty, [&](const OrderBook::Fill& f) {
          OrderRecord& maker = records_[f.maker_tag];
          maker.filled += static_cast<std::int32_t>(f.qty);
          if (f.maker_remaining == 0) maker.handle = OrderBook::kNoHandle;
          settle(Trade{.buyer = taker_buys ? cmd.account : f.maker_account,
                       .seller = taker_buys ? f.maker_account : cmd.account,
                       .price = f.price,
                       .qty = f.qty,
                       .buyer_limit = taker_buys ? cmd.price : f.price});
        });
    OrderRecord& rec = records_[slot];
    rec.filled = static_cast<std::int32_t>(r.filled_qty);
    rec.handle = r.rested;
    trades_ += r.trades;
    traded_qty_ += r.filled_qty;
    traded_notional_ += r.filled_notional;
    return {PlaceReply{Reject::none, r.filled_qty, r.filled_notional,
                       r.rested != OrderBook::kNoHandle},
            slot};
  }

  // cancel: the checks after "unknown order" (owner, then active), then the cancel itself.
  Cancelled cancel(std::uint32_t slot, AccountId account) {
    OrderRecord& rec = records_[slot];
    if (rec.account != account) return {Reject::not_owner};
    if (rec.resting() == 0) return {Reject::order_not_active};
    const Qty qty = book_.cancel(rec.handle);
    rec.cancelled += static_cast<std::int32_t>(qty);
    rec.handle = OrderBook::kNoHandle;
    return {Reject::none, qty, rec.side == Side::buy ? Cash{rec.price} * qty : 0};
  }

  const OrderRecord& record(std::uint32_t slot) const { return records_[slot]; }
  const OrderBook& book() const { return book_; }
  SymbolId symbol() const { return symbol_; }

  // append_snapshot: this symbol's book (priority order) and trade totals into a state.
  void append_snapshot(OrderState& state) const {
    OrderState::Book& b = state.books[symbol_];
    book_.for_each_bid([&](const OrderBook::Entry& e) { b.bids.push_back({e.id, e.price, e.remaining}); });
    book_.for_each_ask([&](const OrderBook::Entry& e) { b.asks.push_back({e.id, e.price, e.remaining}); });
    state.trades += trades_;
    state.traded_qty += traded_qty_;
    state.traded_notional += traded_notional_;
  }

 private:
  SymbolId symbol_;
  OrderBook book_;
  RecordStore records_;
  std::uint64_t trades_ = 0;
  Qty traded_qty_ = 0;
  Cash traded_notional_ = 0;
};

// apply_order_command: one command of any kind on any design (replays, tests, drivers).
template <class D>
OrderReply apply_order_command(D& design, const OrderCommand& cmd) {
  return std::visit(
      [&design](const auto& c) -> OrderReply {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, PlaceCmd>) return design.place(c);
        else if constexpr (std::is_same_v<C, CancelCmd>) return design.cancel(c);
        else return design.query(c);
      },
      cmd);
}

// Helpers that build the canonical OrderState from the pieces (shared by every design).
inline OrderState::Order make_state_order(OrderId id, SymbolId symbol, const OrderRecord& r) {
  return {.id = id, .account = r.account, .symbol = symbol, .side = r.side, .price = r.price,
          .qty = r.qty, .filled = r.filled, .cancelled = r.cancelled, .resting = r.resting()};
}

inline OrderState empty_state(const OrderConfig& config) {
  OrderState s;
  s.config = config;
  s.books.resize(config.symbols);
  return s;
}

inline void sort_orders(OrderState& s) {
  std::sort(s.orders.begin(), s.orders.end(),
            [](const OrderState::Order& a, const OrderState::Order& b) { return a.id < b.id; });
}

// OrderCore: the whole engine for one thread at a time. Not thread-safe.
class OrderCore {
 public:
  explicit OrderCore(const OrderConfig& config) : config_(check(config)) {
    accounts_.resize(config_.accounts);
    for (auto& a : accounts_) a.available = config_.initial_cash;
    markets_.reserve(config_.symbols);
    for (SymbolId s = 0; s < config_.symbols; ++s) markets_.emplace_back(s);
  }

  PlaceReply place(const PlaceCmd& cmd) {
    if (const Reject r = validate_place_shape(config_, cmd); r != Reject::none) return {r};
    // Claim the id with one probe; a place rejected for cash gives it back (rare).
    const auto [it, claimed] = ids_.try_emplace(cmd.id);
    if (!claimed) return {Reject::duplicate_order_id};
    if (!accounts_[cmd.account].try_reserve(reservation(cmd))) {
      ids_.erase(it);
      return {Reject::insufficient_cash};
    }
    const SymbolId symbol = cmd.symbol;
    const auto placed = markets_[symbol].place(cmd, [&](const Trade& t) {
      accounts_[t.buyer].settle_buy(symbol, t.buyer_limit, t.price, t.qty);
      accounts_[t.seller].settle_sell(symbol, t.price, t.qty);
    });
    it->second = OrderLocation{symbol, placed.slot};  // no insertion since: `it` is valid
    return placed.reply;
  }

  CancelReply cancel(const CancelCmd& cmd) {
    if (cmd.account >= config_.accounts) return {Reject::unknown_account};
    const auto it = ids_.find(cmd.id);
    if (it == ids_.end()) return {Reject::unknown_order};
    const auto c = markets_[it->second.symbol].cancel(it->second.slot, cmd.account);
    if (c.reject != Reject::none) return {c.reject};
    accounts_[cmd.account].release(c.released);
    return {Reject::none, c.qty};
  }

  QueryReply query(const QueryCmd& cmd) const {
    if (cmd.account >= config_.accounts) return {Reject::unknown_account};
    return accounts_[cmd.account].reply();
  }

  OrderState state() const {
    OrderState s = empty_state(config_);
    s.accounts.reserve(accounts_.size());
    for (const auto& a : accounts_) s.accounts.push_back({a.available, a.reserved, a.positions});
    s.orders.reserve(ids_.size());
    for (const auto& [id, loc] : ids_)
      s.orders.push_back(make_state_order(id, loc.symbol, markets_[loc.symbol].record(loc.slot)));
    sort_orders(s);
    for (const auto& m : markets_) m.append_snapshot(s);
    return s;
  }

  const OrderConfig& config() const { return config_; }

 private:
  OrderConfig config_;
  std::vector<AccountBalance> accounts_;
  std::vector<SymbolMarket> markets_;
  absl::flat_hash_map<OrderId, OrderLocation> ids_;  // every accepted order
};

class OrderReference {
 public:
  static constexpr DesignTraits traits{
      .name = "reference",
      .family = Family::reference,
      .thread_safe = false,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = Waiting::never,
  };

  explicit OrderReference(OrderConfig config) : core_(config) {}

  PlaceReply place(const PlaceCmd& cmd) { return core_.place(cmd); }
  CancelReply cancel(const CancelCmd& cmd) { return core_.cancel(cmd); }
  QueryReply query(const QueryCmd& cmd) const { return core_.query(cmd); }
  OrderState state() const { return core_.state(); }

 private:
  OrderCore core_;
};

}  // namespace cp
