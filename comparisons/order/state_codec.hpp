// state_codec.hpp (order): OrderState <-> bytes, the payload of the single-writer order
// engine's snapshots (single_writer_order.hpp adds a state hash after it).
//
//   kOrderStateFormat        - 2, the version word every encoding starts with (format 1 was
//                              the compacted command log the snapshots used to hold).
//   order_state_encoded_size - the exact size encode_order_state writes.
//   encode_order_state       - appends one state; throws std::invalid_argument for a state the
//                              format cannot hold (never one an OrderCore produced).
//   read_order_state         - reads one state from a ByteReader; nullopt on anything malformed.
//   decode_order_state       - the same, for a view that must hold exactly one state.
//
// Layout, little-endian, fixed width (sw::put_* / sw::ByteReader):
//   u32 format (2)
//   config   u32 symbols, u32 accounts, i64 initial_cash, i64 max_price, i64 max_qty
//   accounts u32 A; A x { i64 available, i64 reserved, `symbols` x i64 position }
//   orders   u64 N; N x { u64 id, u32 account, u8 symbol, u8 side (0 buy, 1 sell),
//                         u32 price, u32 qty, u32 filled, u32 cancelled }        30 bytes each
//   books    u32 B (<= 16); B x { u32 n, n x bid, u32 m, m x ask }, an entry being
//                         { u64 id, u32 price, u32 remaining }                   16 bytes each
//   totals   u64 trades, i64 traded_qty, i64 traded_notional
//
// It holds an OrderState and nothing more: that is enough to rebuild a core exactly
// (OrderCore::restore says why: book time priority is the order of the entries, the id index
// is the order list; no sequence number lives in the core).
//
// What it leaves out, and why that loses nothing for a state that holds the contract:
//   - an order's resting quantity: it is qty - filled - cancelled (invariant 4). Decode
//     computes it and refuses filled + cancelled > qty (no encoding produces that).
//   - positions in symbols >= config.symbols: they are 0 (an account has no position in a
//     symbol that does not exist); encode refuses a state where one is not.
//   - the upper 32 bits of prices and quantities: the config bounds them by 1e9.
// The order records dominate the size: 30 bytes per accepted order, since the contract keeps a
// record of every accepted order (OrderState::orders); accounts add 16 + 8 * symbols bytes
// each, resting orders 16 more each. (Varint fields and delta-coded ids would bring an order
// down to about 10 bytes on the default stream, by estimate; fixed width keeps the format
// simple to check.)
//
// This is a codec, not a validator: decode checks the format (bounds, counts, enum values),
// not the contract. A decoded state may still break an invariant; OrderCore::restore checks
// those before it rebuilds anything.
//
// Robust to any bytes: every read is bounds-checked (ByteReader), every count is compared
// with the bytes left before anything is allocated for it, and nothing is indexed by a value
// read from the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include "comparisons/order/contract.hpp"
#include "patterns/single_writer/codec.hpp"

namespace cp {

inline constexpr std::uint32_t kOrderStateFormat = 2;

namespace state_codec_detail {
inline constexpr std::size_t kConfigBytes = 4 + 4 + 8 + 8 + 8;
inline constexpr std::size_t kOrderBytes = 8 + 4 + 1 + 1 + 4 * 4;
inline constexpr std::size_t kEntryBytes = 8 + 4 + 4;
inline constexpr std::size_t kTotalsBytes = 8 + 8 + 8;

inline std::size_t account_bytes(std::uint32_t symbols) { return 16 + 8 * std::size_t{symbols}; }

inline std::uint32_t to_u32(std::int64_t v, const char* what) {
  if (v < 0 || v > std::int64_t{std::numeric_limits<std::uint32_t>::max()})
    throw std::invalid_argument(std::string("encode_order_state: ") + what + " " +
                                std::to_string(v) + " does not fit in 32 bits");
  return static_cast<std::uint32_t>(v);
}
inline std::uint32_t count_u32(std::size_t n, const char* what) {
  if (n > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument(std::string("encode_order_state: too many ") + what);
  return static_cast<std::uint32_t>(n);
}

// read_count: a count of items of `item_bytes` each, refused (0 and the reader failed) when
// the bytes left cannot hold them: so a forged count never drives an allocation.
inline std::size_t read_count(sw::ByteReader& r, std::uint64_t n, std::size_t item_bytes) {
  if (!r.ok() || n > r.remaining() / item_bytes) {
    (void)r.bytes(r.remaining() + 1);  // makes the failure sticky
    return 0;
  }
  return static_cast<std::size_t>(n);
}
}  // namespace state_codec_detail

// order_state_encoded_size: the bytes encode_order_state appends for `s` (for a state it can
// encode).
inline std::size_t order_state_encoded_size(const OrderState& s) {
  using namespace state_codec_detail;
  std::size_t n = 4 + kConfigBytes + 4 + s.accounts.size() * account_bytes(s.config.symbols) + 8 +
                  s.orders.size() * kOrderBytes + 4 + kTotalsBytes;
  for (const auto& b : s.books) n += 8 + (b.bids.size() + b.asks.size()) * kEntryBytes;
  return n;
}

// encode_order_state: appends `s` to `out`. Throws std::invalid_argument (appending nothing)
// if `s` has a field the format cannot hold: config.symbols or the number of books outside
// 0..kMaxSymbols (symbols: 1..), a position
// in a symbol >= config.symbols, an order whose resting is not qty - filled - cancelled, or a
// price / quantity outside 0..2^32-1. A state from OrderCore::state() has none of these.
inline void encode_order_state(const OrderState& s, sw::Buffer& out) {
  using namespace state_codec_detail;
  const OrderConfig& c = s.config;
  if (c.symbols == 0 || c.symbols > kMaxSymbols)
    throw std::invalid_argument("encode_order_state: config.symbols must be in 1..16");
  for (const auto& a : s.accounts)
    for (std::uint32_t sym = c.symbols; sym < kMaxSymbols; ++sym)
      if (a.positions[sym] != 0)
        throw std::invalid_argument("encode_order_state: a position in an unknown symbol");
  for (const auto& o : s.orders) {
    to_u32(o.price, "price");
    to_u32(o.qty, "qty");
    to_u32(o.filled, "filled");
    to_u32(o.cancelled, "cancelled");
    if (o.symbol > 0xFF || (o.side != Side::buy && o.side != Side::sell) ||
        o.resting != o.qty - o.filled - o.cancelled)
      throw std::invalid_argument("encode_order_state: order " + std::to_string(o.id) +
                                  " cannot be encoded (symbol, side, or resting != qty - filled - cancelled)");
  }
  for (const auto& b : s.books)
    for (const auto* side : {&b.bids, &b.asks})
      for (const auto& e : *side) {
        to_u32(e.price, "book price");
        to_u32(e.remaining, "book remaining");
      }
  const std::uint32_t accounts = count_u32(s.accounts.size(), "accounts");
  if (s.books.size() > kMaxSymbols)
    throw std::invalid_argument("encode_order_state: more books than kMaxSymbols");
  const auto books = static_cast<std::uint32_t>(s.books.size());
  for (const auto& b : s.books) {
    count_u32(b.bids.size(), "bids");
    count_u32(b.asks.size(), "asks");
  }

  // Checked: now write (nothing above appended, so a throw leaves `out` as it was).
  out.reserve(out.size() + order_state_encoded_size(s));
  sw::put_u32(out, kOrderStateFormat);
  sw::put_u32(out, c.symbols);
  sw::put_u32(out, c.accounts);
  sw::put_i64(out, c.initial_cash);
  sw::put_i64(out, c.max_price);
  sw::put_i64(out, c.max_qty);
  sw::put_u32(out, accounts);
  for (const auto& a : s.accounts) {
    sw::put_i64(out, a.available);
    sw::put_i64(out, a.reserved);
    for (std::uint32_t sym = 0; sym < c.symbols; ++sym) sw::put_i64(out, a.positions[sym]);
  }
  sw::put_u64(out, s.orders.size());
  for (const auto& o : s.orders) {
    sw::put_u64(out, o.id);
    sw::put_u32(out, o.account);
    sw::put_u8(out, static_cast<std::uint8_t>(o.symbol));
    sw::put_u8(out, o.side == Side::buy ? 0 : 1);
    sw::put_u32(out, static_cast<std::uint32_t>(o.price));
    sw::put_u32(out, static_cast<std::uint32_t>(o.qty));
    sw::put_u32(out, static_cast<std::uint32_t>(o.filled));
    sw::put_u32(out, static_cast<std::uint32_t>(o.cancelled));
  }
  sw::put_u32(out, books);
  for (const auto& b : s.books)
    for (const auto* side : {&b.bids, &b.asks}) {
      sw::put_u32(out, static_cast<std::uint32_t>(side->size()));
      for (const auto& e : *side) {
        sw::put_u64(out, e.id);
        sw::put_u32(out, static_cast<std::uint32_t>(e.price));
        sw::put_u32(out, static_cast<std::uint32_t>(e.remaining));
      }
    }
  sw::put_u64(out, s.trades);
  sw::put_i64(out, s.traded_qty);
  sw::put_i64(out, s.traded_notional);
}

// read_order_state: one state from `r`, or nullopt (r.ok() may still be true: a bad format
// word, symbols outside 1..16, more than 16 books, a side byte > 1, filled + cancelled > qty). Reads nothing past
// the state: a caller may read more fields after it.
inline std::optional<OrderState> read_order_state(sw::ByteReader& r) {
  using namespace state_codec_detail;
  if (r.u32() != kOrderStateFormat || !r.ok()) return std::nullopt;
  OrderState s;
  s.config.symbols = r.u32();
  s.config.accounts = r.u32();
  s.config.initial_cash = r.i64();
  s.config.max_price = r.i64();
  s.config.max_qty = r.i64();
  if (!r.ok() || s.config.symbols == 0 || s.config.symbols > kMaxSymbols) return std::nullopt;

  s.accounts.resize(read_count(r, r.u32(), account_bytes(s.config.symbols)));
  for (auto& a : s.accounts) {
    a.available = r.i64();
    a.reserved = r.i64();
    for (std::uint32_t sym = 0; sym < s.config.symbols; ++sym) a.positions[sym] = r.i64();
  }
  if (!r.ok()) return std::nullopt;

  s.orders.resize(read_count(r, r.u64(), kOrderBytes));
  for (auto& o : s.orders) {
    o.id = r.u64();
    o.account = r.u32();
    o.symbol = r.u8();
    const std::uint8_t side = r.u8();
    o.price = r.u32();
    o.qty = r.u32();
    o.filled = r.u32();
    o.cancelled = r.u32();
    if (side > 1 || o.filled + o.cancelled > o.qty) return std::nullopt;  // (u32 values: no overflow)
    o.side = side == 0 ? Side::buy : Side::sell;
    o.resting = o.qty - o.filled - o.cancelled;
  }
  if (!r.ok()) return std::nullopt;

  // A state has one book per symbol, so at most kMaxSymbols; each takes its two u32 counts.
  const std::uint32_t books = r.u32();
  if (books > kMaxSymbols) return std::nullopt;
  s.books.resize(read_count(r, books, 8));
  for (auto& b : s.books)
    for (auto* side : {&b.bids, &b.asks}) {
      side->resize(read_count(r, r.u32(), kEntryBytes));
      for (auto& e : *side) {
        e.id = r.u64();
        e.price = r.u32();
        e.remaining = r.u32();
      }
    }
  s.trades = r.u64();
  s.traded_qty = r.i64();
  s.traded_notional = r.i64();
  if (!r.ok()) return std::nullopt;
  return s;
}

// decode_order_state: `in` must be exactly one encoded state.
inline std::optional<OrderState> decode_order_state(sw::ByteView in) {
  sw::ByteReader r(in);
  auto s = read_order_state(r);
  if (!s || !r.done()) return std::nullopt;
  return s;
}

}  // namespace cp
