// contract.hpp (order): the exchange-style order engine every design implements.
//
// S symbols, A accounts, each account starting with the same cash. Prices (ticks), quantities
// and cash (cents) are integers. Operations:
//   place(PlaceCmd)   validate, reserve (buys), match at price-time priority, rest the remainder
//   cancel(CancelCmd) cancel the unfilled remainder of one's own resting order
//   query(QueryCmd)   available cash, reserved cash, position per symbol
//   snapshot()        the whole state, for checks at quiescence (not a hot-path operation)
//
// Choices this project made where the shared contract is open (docs/workloads.md says why):
//   - A rejected command changes nothing: a rejected place does not use up its order id.
//   - The price band is static: 1 <= price <= config.max_price; 1 <= qty <= config.max_qty.
//     Both bounds keep price * qty and every cash sum far inside int64.
//   - Self-trades are allowed and execute like any other trade (the account trades with itself).
//   - Validation order: qty, price, symbol, account, duplicate id, then cash.
//     Cancel: account, unknown order, not owner, not active.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <variant>
#include <vector>

#include "patterns/common/traits.hpp"

namespace cp {

using OrderId = std::uint64_t;
using AccountId = std::uint32_t;
using SymbolId = std::uint32_t;
using Price = std::int64_t;  // ticks
using Qty = std::int64_t;
using Cash = std::int64_t;   // cents

inline constexpr std::uint32_t kMaxSymbols = 16;

enum class Side : std::uint8_t { buy, sell };

enum class Reject : std::uint8_t {
  none,                // accepted
  bad_quantity,        // qty <= 0 or qty > max_qty
  bad_price,           // price <= 0 or price > max_price (outside the price band)
  unknown_symbol,
  unknown_account,
  duplicate_order_id,  // the id belongs to an order placed before (resting or not)
  unknown_order,       // cancel of an id never accepted
  not_owner,           // cancel of another account's order
  order_not_active,    // cancel of an order already filled or cancelled
  insufficient_cash,   // a buy whose price * qty exceeds the account's available cash
  stopped,             // the design is shutting down and takes no new commands
};

constexpr std::string_view to_string(Reject r) {
  switch (r) {
    case Reject::none: return "accepted";
    case Reject::bad_quantity: return "bad quantity";
    case Reject::bad_price: return "price outside the band";
    case Reject::unknown_symbol: return "unknown symbol";
    case Reject::unknown_account: return "unknown account";
    case Reject::duplicate_order_id: return "duplicate order id";
    case Reject::unknown_order: return "unknown order";
    case Reject::not_owner: return "order belongs to another account";
    case Reject::order_not_active: return "order already filled or cancelled";
    case Reject::insufficient_cash: return "insufficient available cash";
    case Reject::stopped: return "engine stopped";
  }
  return "?";
}

struct OrderConfig {
  std::uint32_t symbols = 8;            // S, 1..kMaxSymbols
  std::uint32_t accounts = 1024;        // A, > 0
  Cash initial_cash = 1'000'000'000;    // per account, cents
  Price max_price = 1'000'000;          // the price band's upper bound, ticks
  Qty max_qty = 1'000'000;
};

inline const OrderConfig& check(const OrderConfig& c) {
  if (c.symbols == 0 || c.symbols > kMaxSymbols)
    throw std::invalid_argument("order: symbols must be in 1..16");
  if (c.accounts == 0) throw std::invalid_argument("order: accounts must be > 0");
  if (c.initial_cash < 0) throw std::invalid_argument("order: initial_cash must be >= 0");
  if (c.max_price <= 0 || c.max_qty <= 0 || c.max_price > 1'000'000'000 ||
      c.max_qty > 1'000'000'000)
    throw std::invalid_argument("order: max_price and max_qty must be in 1..1e9");
  return c;
}

struct PlaceCmd {
  OrderId id = 0;
  AccountId account = 0;
  SymbolId symbol = 0;
  Side side = Side::buy;
  Price price = 0;
  Qty qty = 0;
  friend bool operator==(const PlaceCmd&, const PlaceCmd&) = default;
};

struct CancelCmd {
  OrderId id = 0;
  AccountId account = 0;
  friend bool operator==(const CancelCmd&, const CancelCmd&) = default;
};

struct QueryCmd {
  AccountId account = 0;
  friend bool operator==(const QueryCmd&, const QueryCmd&) = default;
};

struct PlaceReply {
  Reject reject = Reject::none;
  Qty filled_qty = 0;          // traded by this order as it arrived (it was the aggressor)
  Cash filled_notional = 0;    // sum of trade_price * qty over those trades
  bool rests = false;          // a remainder rests in the book
  friend bool operator==(const PlaceReply&, const PlaceReply&) = default;
};

struct CancelReply {
  Reject reject = Reject::none;
  Qty cancelled_qty = 0;       // the remainder taken out of the book
  friend bool operator==(const CancelReply&, const CancelReply&) = default;
};

struct QueryReply {
  Reject reject = Reject::none;
  Cash available = 0;
  Cash reserved = 0;
  std::array<Qty, kMaxSymbols> positions{};  // entries >= config.symbols stay 0
  friend bool operator==(const QueryReply&, const QueryReply&) = default;
};

using OrderCommand = std::variant<PlaceCmd, CancelCmd, QueryCmd>;
using OrderReply = std::variant<PlaceReply, CancelReply, QueryReply>;

// One entry of a design's commit log: a command and the reply it got, in commit order.
struct Commit {
  OrderCommand command;
  OrderReply reply;
};

// The whole state at quiescence, in a canonical form (sorted), so that two designs' states
// compare with == and hash identically.
struct OrderState {
  struct Account {
    Cash available = 0;
    Cash reserved = 0;
    std::array<Qty, kMaxSymbols> positions{};
    friend bool operator==(const Account&, const Account&) = default;
  };
  struct Order {  // every accepted order, resting or not
    OrderId id = 0;
    AccountId account = 0;
    SymbolId symbol = 0;
    Side side = Side::buy;
    Price price = 0;
    Qty qty = 0;
    Qty filled = 0;
    Qty cancelled = 0;
    Qty resting = 0;  // filled + cancelled + resting == qty
    friend bool operator==(const Order&, const Order&) = default;
  };
  struct Resting {  // one entry of a book, in priority order
    OrderId id = 0;
    Price price = 0;
    Qty remaining = 0;
    friend bool operator==(const Resting&, const Resting&) = default;
  };
  struct Book {
    std::vector<Resting> bids;  // best first: price descending, then time
    std::vector<Resting> asks;  // best first: price ascending, then time
    friend bool operator==(const Book&, const Book&) = default;
  };

  OrderConfig config;
  std::vector<Account> accounts;  // indexed by AccountId
  std::vector<Order> orders;      // sorted by id
  std::vector<Book> books;        // indexed by SymbolId
  std::uint64_t trades = 0;       // trades executed
  Qty traded_qty = 0;
  Cash traded_notional = 0;

  friend bool operator==(const OrderState& a, const OrderState& b) {
    return a.accounts == b.accounts && a.orders == b.orders && a.books == b.books &&
           a.trades == b.trades && a.traded_qty == b.traded_qty &&
           a.traded_notional == b.traded_notional;
  }
};

template <class D>
concept OrderDesign = DeclaresTraits<D> && std::constructible_from<D, OrderConfig> &&
                      requires(D& d, const PlaceCmd& p, const CancelCmd& c, const QueryCmd& q) {
                        { d.place(p) } -> std::same_as<PlaceReply>;
                        { d.cancel(c) } -> std::same_as<CancelReply>;
                        { d.query(q) } -> std::same_as<QueryReply>;
                        { d.state() } -> std::same_as<OrderState>;
                      };

// Designs whose traits say exposes_commit_order also offer a commit log, off by default:
template <class D>
concept OrderDesignWithCommitLog = OrderDesign<D> && requires(D& d) {
  d.record_commits(true);
  { d.commits() } -> std::same_as<std::vector<Commit>>;
};

}  // namespace cp
