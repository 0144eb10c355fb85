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
//   state_out_of_range   - the first field of an untrusted OrderState outside what any run can
//                          produce in a way that would overflow int64 (restore's first check).
//   OrderCore            - the whole engine, single-threaded: accounts + markets + id index.
//                          The reference, the coarse mutex and the rwlock designs wrap it.
//                          OrderCore::restore rebuilds one exactly from an OrderState.
//   OrderReference       - OrderCore with the reference's traits (and restore).
//
// Every rule is in comparisons/order/contract.hpp; the order of the checks is the contract's:
// place: qty, price, symbol, account, duplicate id, cash; cancel: account, unknown order,
// not owner, not active. A rejected command changes nothing.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "comparisons/order/book.hpp"
#include "comparisons/order/contract.hpp"
#include "comparisons/order/id_index.hpp"
#include "comparisons/order/invariants.hpp"

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

  // ---- restore (used by OrderCore::restore on a state it has validated) ----

  // restore_record: appends the record of an accepted order as the state describes it, not
  // resting yet (restore_resting puts its remainder in the book). Fields must be in the
  // config's bounds (<= 1e9: they fit the record's 32 bits). Returns its slot.
  std::uint32_t restore_record(const OrderState::Order& o) {
    return records_.push_back(OrderRecord{.price = static_cast<std::int32_t>(o.price),
                                          .qty = static_cast<std::int32_t>(o.qty),
                                          .filled = static_cast<std::int32_t>(o.filled),
                                          .cancelled = static_cast<std::int32_t>(o.cancelled),
                                          .account = o.account,
                                          .side = o.side});
  }

  // restore_resting: puts the remainder of the record at `slot` at the back of its price
  // level, so a level's time priority is the order of these calls. Returns false, changing
  // nothing, unless the entry agrees with the record (side, price, remaining == resting), the
  // record does not rest yet, and resting it trades with nothing (the book stays uncrossed).
  bool restore_resting(std::uint32_t slot, OrderId id, Side side, const OrderState::Resting& e) {
    OrderRecord& rec = records_[slot];
    if (rec.side != side || Price{rec.price} != e.price || rec.resting() != e.remaining ||
        e.remaining <= 0 || rec.handle != OrderBook::kNoHandle)
      return false;
    const auto opposite = side == Side::buy ? book_.best_ask() : book_.best_bid();
    if (opposite && (side == Side::buy ? *opposite <= e.price : *opposite >= e.price)) return false;
    const OrderBook::Result r =
        book_.execute(side, id, rec.account, slot, e.price, e.remaining, [](const OrderBook::Fill&) {});
    rec.handle = r.rested;  // it rests whole: nothing on the other side crosses it
    return r.trades == 0 && r.rested != OrderBook::kNoHandle;
  }

  // restore_totals: this market's trade totals (OrderCore::restore says why one market's).
  void restore_totals(std::uint64_t trades, Qty qty, Cash notional) {
    trades_ = trades;
    traded_qty_ = qty;
    traded_notional_ = notional;
  }

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

// state_out_of_range: the first problem with `s` that would make int64 arithmetic overflow,
// either while its invariants are added up (check_order_invariants) or in later commands on a
// core rebuilt from it; empty when there is none. For an untrusted state (a decoded
// snapshot): after it passes, check_order_invariants can run on `s` without overflow. Every
// bound is one that any state an OrderCore reaches meets, so no real state is refused:
//   - the config passes check();
//   - sizes: accounts == config.accounts, books == config.symbols (the checks index by them);
//     fewer than 2^32 - 1 orders (record slots and book handles are 32-bit);
//   - cash: the config's total cash (accounts * initial_cash) fits in int64 (a config where it
//     does not is refused: its cash sums could overflow in any run), and the running sum of
//     available + reserved, each >= 0, never exceeds it (conservation makes it equal);
//   - each order's fields in the config's bounds (qty, price in 1..max, filled, cancelled,
//     resting in 0..qty, known symbol and account), and, per account, price * resting over its
//     buys never exceeds its reserved cash (invariant 3 makes it equal);
//   - trades: 0 <= traded_qty <= orders * max_qty / 2 (each trade fills two orders),
//     traded_qty <= traded_notional <= traded_qty * max_price (prices are 1..max_price),
//     trades <= traded_qty, and trades == 0 exactly when traded_qty == 0;
//   - positions: 0 in unknown symbols; per symbol, the sum of |position| over accounts is at
//     most 2 * traded_qty (a trade of q moves two positions by q each).
inline std::string state_out_of_range(const OrderState& s) {
  const OrderConfig& c = s.config;
  try {
    check(c);  // every bound below relies on max_price, max_qty <= 1e9
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  auto say = [](auto... parts) { return (std::string{} + ... + std::string(parts)); };
  using std::to_string;
  if (s.accounts.size() != c.accounts || s.books.size() != c.symbols)
    return say("state has ", to_string(s.accounts.size()), " accounts and ",
               to_string(s.books.size()), " books; config ", to_string(c.accounts), " and ",
               to_string(c.symbols));
  if (s.orders.size() >= std::size_t{OrderBook::kNoHandle})
    return say(to_string(s.orders.size()), " orders: more than 32-bit slots hold");
  Cash total_cash = 0;
  if (__builtin_mul_overflow(static_cast<Cash>(c.accounts), c.initial_cash, &total_cash))
    return "the config's total cash (accounts * initial_cash) overflows int64";
  Cash held = 0;
  for (std::size_t a = 0; a < s.accounts.size(); ++a) {
    const auto& acc = s.accounts[a];
    if (acc.available < 0 || acc.reserved < 0 || acc.available > total_cash || acc.reserved > total_cash)
      return say("account ", to_string(a), ": available ", to_string(acc.available), ", reserved ",
                 to_string(acc.reserved), " (negative, or more than the config's total cash)");
    if (__builtin_add_overflow(held, acc.available, &held) ||
        __builtin_add_overflow(held, acc.reserved, &held) || held > total_cash)
      return say("the accounts hold more than the config's total cash ", to_string(total_cash));
  }
  std::vector<Cash> buys_reserve(s.accounts.size(), 0);
  for (const auto& o : s.orders) {
    if (o.qty < 1 || o.qty > c.max_qty || o.price < 1 || o.price > c.max_price ||
        o.symbol >= c.symbols || o.account >= c.accounts || o.filled < 0 || o.filled > o.qty ||
        o.cancelled < 0 || o.cancelled > o.qty || o.resting < 0 || o.resting > o.qty ||
        (o.side != Side::buy && o.side != Side::sell))
      return say("order ", to_string(o.id), ": a field outside the config's bounds");
    if (o.side == Side::buy) {
      Cash& r = buys_reserve[o.account];
      if (__builtin_add_overflow(r, o.price * o.resting, &r) || r > s.accounts[o.account].reserved)
        return say("account ", to_string(o.account),
                   ": its resting buys need more than its reserved cash");
    }
  }
  const Qty max_traded = static_cast<Qty>(s.orders.size()) * c.max_qty / 2;
  Cash max_notional = 0;
  const bool notional_unbounded = __builtin_mul_overflow(s.traded_qty, c.max_price, &max_notional);
  if (s.traded_qty < 0 || s.traded_qty > max_traded || s.traded_notional < s.traded_qty ||
      (!notional_unbounded && s.traded_notional > max_notional) ||
      s.trades > static_cast<std::uint64_t>(s.traded_qty) || (s.trades == 0) != (s.traded_qty == 0))
    return say("trade totals (", to_string(s.trades), " trades, qty ", to_string(s.traded_qty),
               ", notional ", to_string(s.traded_notional), ") no run can reach");
  for (std::uint32_t sym = 0; sym < kMaxSymbols; ++sym) {
    Qty moved = 0;
    for (const auto& acc : s.accounts) {
      const Qty p = acc.positions[sym];
      if (sym >= c.symbols ? p != 0
                           : (p < -2 * s.traded_qty || p > 2 * s.traded_qty ||
                              __builtin_add_overflow(moved, p < 0 ? -p : p, &moved) ||
                              moved > 2 * s.traded_qty))
        return say("symbol ", to_string(sym), ": positions larger than the trades can explain");
    }
  }
  return {};
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
    const OrderLocation* loc = ids_.find(cmd.id);
    if (loc == nullptr) return {Reject::unknown_order};
    const auto c = markets_[loc->symbol].cancel(loc->slot, cmd.account);
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
    ids_.for_each([&](OrderId id, const OrderLocation& loc) {
      s.orders.push_back(make_state_order(id, loc.symbol, markets_[loc.symbol].record(loc.slot)));
    });
    sort_orders(s);
    for (const auto& m : markets_) m.append_snapshot(s);
    return s;
  }

  const OrderConfig& config() const { return config_; }

  // restore: the core whose state() is `state`, built directly (no matching is re-run), or
  // nullopt, with the reason in *problem if given, when `state` is not one a core can be in:
  // check() refuses its config or a field is out of range (state_out_of_range), a
  // contract invariant fails (check_order_invariants), or the books do not hold each resting
  // order exactly once. Never throws for a bad state; may throw std::bad_alloc.
  //
  // Exact: every later command gets the same reply, and leaves the same state (and
  // state_hash), as on the core `state` was taken from, because OrderState holds everything
  // a reply or state() reads:
  //   - accounts: cash and positions as they are;
  //   - the id index (the duplicate-id check): state.orders is every accepted order;
  //   - records: each order's price, qty, filled, cancelled, owner, side;
  //   - time priority: each book side is listed best first, by price then time, and each
  //     entry is put at the back of its level in that order, so every level's FIFO is as it
  //     was (the entries' ids say nothing of time: ids are the clients');
  //   - trade totals: state() shows only their sum over symbols, so symbol 0's market gets
  //     the sums and the others zero; nothing reads the per-symbol split.
  // What differs is not observable: book node handles, record slots, hash-map layout.
  static std::optional<OrderCore> restore(const OrderState& state, std::string* problem = nullptr) {
    auto refuse = [problem](std::string why) -> std::optional<OrderCore> {
      if (problem != nullptr) *problem = std::move(why);
      return std::nullopt;
    };
    if (std::string why = state_out_of_range(state); !why.empty()) return refuse(std::move(why));
    if (const auto problems = check_order_invariants(state); !problems.empty())
      return refuse(problems.front());

    std::optional<OrderCore> out(std::in_place, state.config);
    OrderCore& core = *out;
    for (std::size_t a = 0; a < state.accounts.size(); ++a) {
      const auto& acc = state.accounts[a];
      core.accounts_[a] = AccountBalance{acc.available, acc.reserved, acc.positions};
    }
    core.ids_.reserve(state.orders.size());
    std::size_t resting_orders = 0;
    for (const auto& o : state.orders) {
      const std::uint32_t slot = core.markets_[o.symbol].restore_record(o);
      if (!core.ids_.try_emplace(o.id, OrderLocation{o.symbol, slot}).second)
        return refuse("order " + std::to_string(o.id) + " listed twice");
      resting_orders += o.resting > 0 ? 1 : 0;
    }
    std::size_t rested = 0;
    for (SymbolId sym = 0; sym < state.books.size(); ++sym) {
      for (const Side side : {Side::buy, Side::sell}) {
        const auto& entries = side == Side::buy ? state.books[sym].bids : state.books[sym].asks;
        for (const OrderState::Resting& e : entries) {
          const OrderLocation* loc = core.ids_.find(e.id);
          if (loc == nullptr || loc->symbol != sym ||
              !core.markets_[sym].restore_resting(loc->slot, e.id, side, e))
            return refuse("symbol " + std::to_string(sym) + ": book entry " + std::to_string(e.id) +
                          " is not a resting order of this side, or is listed twice");
          ++rested;
        }
      }
    }
    if (rested != resting_orders)
      return refuse(std::to_string(resting_orders) + " orders rest, the books hold " +
                    std::to_string(rested));
    core.markets_[0].restore_totals(state.trades, state.traded_qty, state.traded_notional);
    return out;
  }

 private:
  OrderConfig config_;
  std::vector<AccountBalance> accounts_;
  std::vector<SymbolMarket> markets_;
  SegmentedIdIndex<OrderLocation> ids_;  // every accepted order (segmented: no rehash stall)
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

  // restore: a reference engine in `state` exactly (OrderCore::restore), or nullopt.
  static std::optional<OrderReference> restore(const OrderState& state, std::string* problem = nullptr) {
    auto core = OrderCore::restore(state, problem);
    if (!core) return std::nullopt;
    return OrderReference(std::move(*core));
  }

  PlaceReply place(const PlaceCmd& cmd) { return core_.place(cmd); }
  CancelReply cancel(const CancelCmd& cmd) { return core_.cancel(cmd); }
  QueryReply query(const QueryCmd& cmd) const { return core_.query(cmd); }
  OrderState state() const { return core_.state(); }

 private:
  explicit OrderReference(OrderCore core) : core_(std::move(core)) {}

  OrderCore core_;
};

}  // namespace cp
