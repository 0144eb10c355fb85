// snapshot_test.cpp: the order engine's state snapshot: OrderCore::restore (reference.hpp), the
// state codec (state_codec.hpp) and the single-writer engine's snapshots built on them
// (OrderCodec::snapshot_encode / snapshot_decode in single_writer_order.hpp).
//
//   - round trip (many seeds, four stream shapes): a seeded stream through the reference to a
//     random point; encode, decode, restore (through the state codec and through the engine's
//     snapshot codec); the decoded and the restored states equal the original field by field;
//     then the rest of the stream on both: every reply and the final state hash equal;
//   - time priority: orders at one price trade in arrival order after a restore, not in id
//     order (the case a restore that sorted levels would get wrong);
//   - refusal: every truncation and every flipped byte of a small snapshot, a wrong format word
//     (format 1 included), another configuration, states that break an invariant or a range
//     (some of which check_order_invariants alone would let through), forged counts;
//   - garbage: random bytes and random mutations decode and restore without a crash, and a
//     mutated state that restores is rebuilt exactly and keeps every invariant;
//   - size: exactly the documented layout; commands that add no order (queries, rejects,
//     cancels) never grow it, so a long history of them leaves it far smaller than its commands;
//   - recovery: a newest snapshot that is well-formed on disk but breaks an invariant (or is of
//     format 1, or of another configuration) is skipped, and recovery still ends in the
//     reference's state.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "comparisons/common/random.hpp"
#include "comparisons/order/generator.hpp"
#include "comparisons/order/invariants.hpp"
#include "comparisons/order/reference.hpp"
#include "comparisons/order/single_writer_order.hpp"
#include "comparisons/order/state_codec.hpp"
#include "comparisons/order/state_hash.hpp"
#include "tests/conformance/order/order_checks.hpp"
#include "tests/support/findings.hpp"
#include "tests/support/temp_dir.hpp"

using namespace cp;
using namespace cp::test;

namespace {

// ---- streams ----------------------------------------------------------------------------------

struct Script {
  OrderConfig config;
  std::string shape;
  std::vector<OrderCommand> commands;
};

// make_script: three seeded client streams interleaved by a seeded pick and driven through the
// reference (so cancels target resting orders). The seed also picks one of four shapes, so
// the rounds cover rejects of every kind with tight cash, one symbol with deep price levels
// (time priority matters), many small partial fills, and all 16 symbols.
Script make_script(std::uint64_t seed, std::size_t n) {
  Script s;
  OrderStreamParams params;
  params.walk_range = 10;
  switch (seed % 4) {
    case 0:
      s.config = equivalence_config();
      params.malformed_percent = 5;
      s.shape = "tight cash, malformed commands";
      break;
    case 1:
      s.config = {.symbols = 1, .accounts = 8, .initial_cash = 100'000'000, .max_price = 100'000,
                  .max_qty = 1'000};
      params.walk_range = 3;
      params.depth = 2;
      s.shape = "one symbol, deep levels";
      break;
    case 2:
      s.config = {.symbols = 3, .accounts = 6, .initial_cash = 10'000'000, .max_price = 50'000,
                  .max_qty = 1'000};
      params.max_order_qty = 5;
      params.cross_percent = 40;
      s.shape = "small quantities, many partial fills";
      break;
    default:
      s.config = {.symbols = 16, .accounts = 40, .initial_cash = 20'000'000};
      params.malformed_percent = 2;
      s.shape = "16 symbols";
      break;
  }
  OrderReference ref(s.config);
  const ZipfKeys symbols(s.config.symbols, 0.8);
  constexpr unsigned kClients = 3;
  std::vector<OrderStream> streams;
  for (unsigned c = 0; c < kClients; ++c) streams.emplace_back(s.config, params, symbols, c, kClients, seed);
  Xoshiro256 pick(seed ^ 0x5a9);
  s.commands.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    OrderStream& st = streams[pick.below(kClients)];
    const OrderCommand cmd = st.next();
    st.observe(cmd, apply_order_command(ref, cmd));
    s.commands.push_back(cmd);
  }
  return s;
}

template <class D>
void feed(D& d, const Script& s, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) apply_order_command(d, s.commands[i]);
}

bool same_config(const OrderConfig& a, const OrderConfig& b) {
  return a.symbols == b.symbols && a.accounts == b.accounts && a.initial_cash == b.initial_cash &&
         a.max_price == b.max_price && a.max_qty == b.max_qty;
}

// first_difference: the first field in which two states differ, named ("" if none); the
// config included (OrderState's == leaves it out).
std::string first_difference(const OrderState& a, const OrderState& b) {
  std::ostringstream out;
  if (!same_config(a.config, b.config)) return "config";
  if (a.accounts.size() != b.accounts.size()) return "number of accounts";
  for (std::size_t i = 0; i < a.accounts.size(); ++i) {
    const auto &x = a.accounts[i], &y = b.accounts[i];
    if (x.available != y.available) out << "accounts[" << i << "].available";
    else if (x.reserved != y.reserved) out << "accounts[" << i << "].reserved";
    else if (x.positions != y.positions) out << "accounts[" << i << "].positions";
    if (!out.str().empty()) return out.str();
  }
  if (a.orders.size() != b.orders.size()) return "number of orders";
  for (std::size_t i = 0; i < a.orders.size(); ++i)
    if (!(a.orders[i] == b.orders[i])) {
      out << "orders[" << i << "] (id " << a.orders[i].id << " vs " << b.orders[i].id << ")";
      return out.str();
    }
  if (a.books.size() != b.books.size()) return "number of books";
  for (std::size_t i = 0; i < a.books.size(); ++i) {
    if (a.books[i].bids != b.books[i].bids) out << "books[" << i << "].bids";
    else if (a.books[i].asks != b.books[i].asks) out << "books[" << i << "].asks";
    if (!out.str().empty()) return out.str();
  }
  if (a.trades != b.trades) return "trades";
  if (a.traded_qty != b.traded_qty) return "traded_qty";
  if (a.traded_notional != b.traded_notional) return "traded_notional";
  return "";
}

// ---- round trip -------------------------------------------------------------------------------

struct RoundTripCoverage {
  unsigned rounds = 0;
  unsigned shared_levels = 0;   // snapshots with some price level holding >= 2 orders
  unsigned trades_after = 0;    // rounds with trades after the snapshot
  unsigned restored_owner = 0;  // rounds that went through the engine's snapshot codec too
};

bool has_shared_level(const OrderState& s) {
  for (const auto& b : s.books)
    for (const auto* side : {&b.bids, &b.asks})
      for (std::size_t i = 1; i < side->size(); ++i)
        if ((*side)[i].price == (*side)[i - 1].price) return true;
  return false;
}

// check_round_trip: the first k commands of a seeded script on the reference; its state
// through encode / decode / restore; the rest of the script on the original and on the
// restored engine, reply for reply. Done twice: OrderReference through the state codec, and
// OrderOwner through the engine's snapshot codec (what recovery uses).
Findings check_round_trip(std::uint64_t seed, std::size_t n, RoundTripCoverage& cov) {
  Findings f;
  const Script s = make_script(seed, n);
  Xoshiro256 rng(seed ^ 0x7e57);
  const std::size_t k = rng.below(n + 1);
  const std::string where = s.shape + ", snapshot after " + std::to_string(k) + " of " + std::to_string(n);
  ++cov.rounds;

  OrderReference original(s.config);
  feed(original, s, 0, k);
  const OrderState before = original.state();
  cov.shared_levels += has_shared_level(before) ? 1 : 0;

  sw::Buffer bytes;
  encode_order_state(before, bytes);
  if (bytes.size() != order_state_encoded_size(before))
    f.fail(where, ": encoded ", bytes.size(), " bytes, order_state_encoded_size says ",
           order_state_encoded_size(before));
  const std::optional<OrderState> decoded = decode_order_state(bytes);
  if (!decoded) {
    f.fail(where, ": the encoded state does not decode");
    return f;
  }
  if (const auto d = first_difference(*decoded, before); !d.empty())
    f.fail(where, ": the decoded state differs in ", d);
  std::string why;
  std::optional<OrderReference> restored = OrderReference::restore(*decoded, &why);
  if (!restored) {
    f.fail(where, ": restore refused a real state: ", why);
    return f;
  }
  if (const auto d = first_difference(restored->state(), before); !d.empty())
    f.fail(where, ": the restored state differs in ", d);

  // The engine's snapshot codec on the owner (the recovery path).
  OrderOwner owner(s.config);
  for (std::size_t i = 0; i < k; ++i) owner.replay(s.commands[i]);
  const OrderCodec codec(s.config);
  sw::Buffer snap;
  codec.snapshot_encode(owner, snap);
  std::optional<OrderOwner> back = codec.snapshot_decode(snap);
  if (!back) {
    f.fail(where, ": OrderCodec::snapshot_decode refused its own snapshot");
    return f;
  }
  ++cov.restored_owner;
  if (const auto d = first_difference(back->core().state(), before); !d.empty())
    f.fail(where, ": the owner restored from a snapshot differs in ", d);

  bool traded = false;
  for (std::size_t i = k; i < n && f.ok(); ++i) {
    const OrderReply want = apply_order_command(original, s.commands[i]);
    const OrderReply got = apply_order_command(*restored, s.commands[i]);
    const OrderReply via_owner = back->replay(s.commands[i]);
    if (got != want || via_owner != want)
      f.fail(where, ": command ", i, " ", describe(s.commands[i]), ": original ", describe(want),
             ", restored ", describe(got), ", restored owner ", describe(via_owner));
    if (const auto* p = std::get_if<PlaceReply>(&want); p && p->filled_qty > 0) traded = true;
  }
  cov.trades_after += traded ? 1 : 0;
  const OrderState end = original.state();
  if (state_hash(restored->state()) != state_hash(end) || state_hash(back->core().state()) != state_hash(end))
    f.fail(where, ": final state hash differs");
  if (const auto d = first_difference(restored->state(), end); !d.empty())
    f.fail(where, ": final states differ in ", d);
  return f;
}

// ---- hand-made states -------------------------------------------------------------------------

const OrderConfig kSmall{.symbols = 2, .accounts = 4, .initial_cash = 1'000'000, .max_price = 10'000,
                         .max_qty = 1'000};

// A small state with resting buys and sells on both symbols, a partial fill, a cancel, and a
// bid level holding two orders: symbol 0 bids 8 (2 @ 101), 1 (6 @ 100), 2 (5 @ 100), asks
// 3 (7 @ 105); symbol 1 bids 6 (9 @ 48), asks 5 (4 @ 50). One trade: 4 @ 100.
OrderReference small_market() {
  OrderReference r(kSmall);
  const PlaceCmd places[] = {
      {1, 0, 0, Side::buy, 100, 10}, {2, 1, 0, Side::buy, 100, 5},  {3, 2, 0, Side::sell, 105, 7},
      {4, 3, 0, Side::sell, 99, 4},  {5, 0, 1, Side::sell, 50, 4},  {6, 1, 1, Side::buy, 48, 9},
      {7, 2, 1, Side::buy, 47, 3},   {8, 3, 0, Side::buy, 101, 2}};
  for (const auto& p : places) REQUIRE(r.place(p).reject == Reject::none);
  REQUIRE(r.cancel({7, 2}).reject == Reject::none);
  return r;
}

// snapshot_of: the engine's snapshot payload for an arbitrary state (state codec + its hash),
// as OrderCodec::snapshot_encode writes it for a real one.
sw::Buffer snapshot_of(const OrderState& s) {
  sw::Buffer b;
  encode_order_state(s, b);
  sw::put_u64(b, state_hash(s));
  return b;
}

OrderState::Account& account_with_resting_buys(OrderState& s) {
  for (auto& a : s.accounts)
    if (a.reserved > 0) return a;
  FAIL("no account has resting buys");
  return s.accounts[0];
}


}  // namespace

TEST_CASE("order snapshot: encode, decode, restore, continue: every reply and the final state "
          "equal the original's",
          "[stress]") {
  const auto s = seed();
  RoundTripCoverage cov;
  for (std::uint64_t round = 0; round < 48; ++round)
    CP_REQUIRE_CLEAN(check_round_trip(s + round, 2'500, cov), s + round);
  INFO("seed " << s << ": " << cov.rounds << " rounds, " << cov.shared_levels
                << " with a shared price level, " << cov.trades_after << " with trades after the snapshot");
  CHECK(cov.restored_owner == cov.rounds);
  CHECK(cov.shared_levels > cov.rounds / 2);
  CHECK(cov.trades_after > cov.rounds / 2);
}

TEST_CASE("order snapshot: a restored level keeps arrival order, not id order", "[unit]") {
  for (const Side resting : {Side::sell, Side::buy}) {
    OrderReference r(kSmall);
    // Order 9 arrives before order 5 at the same price; order 7 is one tick worse.
    const Price p = 100, worse = resting == Side::sell ? 101 : 99;
    REQUIRE(r.place({9, 0, 0, resting, p, 5}).rests);
    REQUIRE(r.place({5, 1, 0, resting, p, 5}).rests);
    REQUIRE(r.place({7, 2, 0, resting, worse, 5}).rests);
    std::string why;
    auto restored = OrderReference::restore(r.state(), &why);
    INFO(why);
    REQUIRE(restored.has_value());
    const Side taker = resting == Side::sell ? Side::buy : Side::sell;
    const PlaceCmd aggressor{20, 3, 0, taker, worse, 7};
    const PlaceReply want = r.place(aggressor);
    CHECK(restored->place(aggressor) == want);
    const OrderState after = restored->state();
    CHECK(after == r.state());
    CHECK(after.orders[2].id == 9);
    CHECK(after.orders[2].filled == 5);  // first in, first filled
    CHECK(after.orders[0].id == 5);
    CHECK(after.orders[0].filled == 2);
    CHECK(after.orders[1].filled == 0);  // order 7, the worse price, untouched
  }
}

TEST_CASE("order snapshot: every truncation and every flipped byte of a small snapshot is refused",
          "[unit]") {
  const OrderReference market = small_market();
  OrderOwner owner(kSmall);
  // The same commands through an owner, so the engine's own snapshot_encode writes the bytes.
  for (const OrderCommand& c :
       {OrderCommand{PlaceCmd{1, 0, 0, Side::buy, 100, 10}}, OrderCommand{PlaceCmd{2, 1, 0, Side::buy, 100, 5}},
        OrderCommand{PlaceCmd{3, 2, 0, Side::sell, 105, 7}}, OrderCommand{PlaceCmd{4, 3, 0, Side::sell, 99, 4}},
        OrderCommand{PlaceCmd{5, 0, 1, Side::sell, 50, 4}}, OrderCommand{PlaceCmd{6, 1, 1, Side::buy, 48, 9}},
        OrderCommand{PlaceCmd{7, 2, 1, Side::buy, 47, 3}}, OrderCommand{PlaceCmd{8, 3, 0, Side::buy, 101, 2}},
        OrderCommand{CancelCmd{7, 2}}})
    owner.replay(c);
  REQUIRE(owner.core().state() == market.state());
  const OrderCodec codec(kSmall);
  sw::Buffer snap;
  codec.snapshot_encode(owner, snap);
  REQUIRE(codec.snapshot_decode(snap).has_value());
  const std::size_t state_bytes = snap.size() - 8;

  std::size_t refused = 0;
  for (std::size_t len = 0; len < snap.size(); ++len) {
    const sw::ByteView cut(snap.data(), len);
    const bool snapshot_refused = !codec.snapshot_decode(cut).has_value();
    const bool state_refused = len >= state_bytes || !decode_order_state(cut).has_value();
    if (!snapshot_refused || !state_refused) FAIL_CHECK("a snapshot cut to " << len << " bytes decodes");
    refused += snapshot_refused ? 1 : 0;
  }
  CHECK(refused == snap.size());

  for (std::size_t at = 0; at < snap.size(); ++at)
    for (const unsigned mask : {0x01u, 0x80u, 0xFFu}) {
      sw::Buffer bad = snap;
      bad[at] ^= static_cast<std::byte>(mask);
      if (codec.snapshot_decode(bad).has_value())
        FAIL_CHECK("byte " << at << " of " << snap.size() << " xor " << mask << " still decodes");
    }
}

TEST_CASE("order snapshot: a wrong format, format 1 or another configuration is refused", "[unit]") {
  const OrderReference market = small_market();
  const sw::Buffer snap = snapshot_of(market.state());
  const OrderCodec codec(kSmall);
  REQUIRE(codec.snapshot_decode(snap).has_value());
  for (const std::uint32_t format : {0u, 1u, 3u, 0x02000000u}) {
    sw::Buffer bad = snap;
    sw::store_u32(bad.data(), format);
    CHECK_FALSE(codec.snapshot_decode(bad).has_value());
    CHECK_FALSE(decode_order_state(sw::ByteView(bad).first(bad.size() - 8)).has_value());
  }
  // A format-1 payload as earlier builds wrote it (config, no commands, the initial state's
  // hash) is not mistaken for a state.
  sw::Buffer v1;
  sw::put_u32(v1, 1);
  sw::put_u32(v1, kSmall.symbols);
  sw::put_u32(v1, kSmall.accounts);
  sw::put_i64(v1, kSmall.initial_cash);
  sw::put_i64(v1, kSmall.max_price);
  sw::put_i64(v1, kSmall.max_qty);
  sw::put_u64(v1, 0);
  sw::put_u64(v1, state_hash(OrderReference(kSmall).state()));
  CHECK_FALSE(codec.snapshot_decode(v1).has_value());

  for (int field = 0; field < 5; ++field) {
    OrderConfig other = kSmall;
    switch (field) {
      case 0: other.symbols += 1; break;
      case 1: other.accounts += 1; break;
      case 2: other.initial_cash += 1; break;
      case 3: other.max_price += 1; break;
      default: other.max_qty += 1; break;
    }
    INFO("config field " << field);
    CHECK_FALSE(OrderCodec(other).snapshot_decode(snap).has_value());
  }
}

TEST_CASE("order snapshot: a state that breaks an invariant or a bound is refused by restore and "
          "by snapshot_decode",
          "[unit]") {
  const OrderReference market = small_market();
  const OrderState good = market.state();
  REQUIRE(OrderCore::restore(good).has_value());
  REQUIRE(good.books[0].bids.size() == 3);
  REQUIRE(!good.books[0].asks.empty());
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  auto order = [](OrderState& s, OrderId id) -> OrderState::Order& {
    for (auto& o : s.orders)
      if (o.id == id) return o;
    FAIL("no order " << id);
    return s.orders[0];
  };

  struct Case {
    const char* name;
    std::function<void(OrderState&)> spoil;
    bool invariants_see_it;  // does check_order_invariants alone report it?
  };
  const Case cases[] = {
      {"reserved cash not matching resting buys (cash still conserved)",
       [](OrderState& s) {
         auto& a = account_with_resting_buys(s);
         a.reserved += 1;
         a.available -= 1;
       },
       true},
      {"cash not conserved", [](OrderState& s) { s.accounts[1].available += 1; }, true},
      {"positions not summing to zero", [](OrderState& s) { s.accounts[0].positions[0] += 1; }, true},
      {"a position in an unknown symbol", [](OrderState& s) { s.accounts[0].positions[5] = 3; }, true},
      {"filled quantities not matching the trades",
       [&](OrderState& s) { s.traded_qty += 1; s.traded_notional += 100; }, true},
      {"an order's parts not adding up to its qty", [&](OrderState& s) { order(s, 3).cancelled += 1; }, true},
      {"orders not sorted by id", [](OrderState& s) { std::swap(s.orders[0], s.orders[1]); }, true},
      {"a crossed book",
       [&](OrderState& s) {  // the best ask moves down to the best bid's price
         auto& ask = s.books[0].asks.front();
         ask.price = s.books[0].bids.front().price;
         order(s, ask.id).price = ask.price;
       },
       true},
      {"a resting order missing from its book", [](OrderState& s) { s.books[0].bids.pop_back(); }, true},
      {"a book entry of an unknown order", [](OrderState& s) { s.books[0].bids.front().id = 999; }, true},
      {"an order listed twice in its book (and another not at all)",
       [](OrderState& s) {
         // Orders 1 and 2 share the level at 100: list order 1 twice. Every count and every
         // entry checked one by one still agrees with the orders.
         auto& bids = s.books[0].bids;
         REQUIRE(bids[2].price == bids[1].price);
         bids[2] = bids[1];
       },
       false},
      {"an order of an unknown account", [&](OrderState& s) { order(s, 1).account = 4; }, true},
      {"an order above max_qty", [&](OrderState& s) { order(s, 3).qty = 1'001; order(s, 3).resting += 1'001 - 7; }, true},
      {"available cash near int64 max", [](OrderState& s) { s.accounts[2].available = kMax - 3; }, true},
      {"negative reserved cash", [](OrderState& s) { s.accounts[2].reserved = kMin; }, true},
      {"a position of int64 min", [](OrderState& s) { s.accounts[1].positions[1] = kMin; }, true},
      {"trade totals near int64 max",
       [](OrderState& s) { s.traded_qty = kMax; s.traded_notional = kMax; }, true},
      {"a notional no price can give", [](OrderState& s) { s.traded_notional = kMax - 1; }, false},
      {"more trades than traded units", [](OrderState& s) { s.trades = s.traded_qty + 1; }, false},
      {"one account too few", [](OrderState& s) { s.accounts.pop_back(); }, true},
      {"one book too many", [](OrderState& s) { s.books.emplace_back(); }, true},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    OrderState bad = good;
    c.spoil(bad);
    std::string why;
    CHECK_FALSE(OrderCore::restore(bad, &why).has_value());
    CHECK_FALSE(why.empty());
    INFO("restore said: " << why);
    CHECK_FALSE(OrderReference::restore(bad).has_value());
    // Which check refuses it: overflow bait must be stopped before the invariant checks (they
    // add fields up in int64); some cases only restore's own checks catch.
    if (!c.invariants_see_it) CHECK(check_order_invariants(bad).empty());
    else if (state_out_of_range(bad).empty()) CHECK_FALSE(check_order_invariants(bad).empty());
    // Through the engine's codec, with a hash that matches: refused all the same.
    sw::Buffer snap;
    bool encodable = true;
    try {
      snap = snapshot_of(bad);
    } catch (const std::invalid_argument&) {
      encodable = false;  // some cannot even be written (e.g. resting != qty - filled - cancelled)
    }
    if (encodable) CHECK_FALSE(OrderCodec(kSmall).snapshot_decode(snap).has_value());
  }

  // An invalid config in the state itself.
  OrderState bad = good;
  bad.config.symbols = 0;
  CHECK_FALSE(OrderCore::restore(bad).has_value());
  bad = good;
  bad.config.initial_cash = kMax;  // accounts * initial_cash overflows
  CHECK_FALSE(OrderCore::restore(bad).has_value());
}

TEST_CASE("order snapshot: forged counts, random bytes and random mutations never crash, and what "
          "restores is exact",
          "[unit]") {
  const auto s = seed();
  INFO("seed " << s);
  const Script script = make_script(s, 600);
  OrderReference ref(script.config);
  feed(ref, script, 0, script.commands.size());
  const OrderState state = ref.state();
  sw::Buffer good;
  encode_order_state(state, good);
  REQUIRE(decode_order_state(good).has_value());

  // Forged counts: the account, order and book-entry counts set to huge values. Refused
  // before anything is allocated for them (an allocation of 2^64 orders would throw).
  const std::size_t accounts_at = 4 + 32;
  const std::size_t orders_at = accounts_at + 4 + state.accounts.size() * (16 + 8 * script.config.symbols);
  const std::size_t books_at = orders_at + 8 + state.orders.size() * 30;
  for (const std::size_t at : {accounts_at, orders_at, books_at, books_at + 4})
    for (const std::uint8_t fill : {0xFFu, 0x7Fu, 0x10u}) {
      sw::Buffer bad = good;
      for (std::size_t i = 0; i < 4; ++i) bad[at + i] = static_cast<std::byte>(fill);
      CHECK_FALSE(decode_order_state(bad).has_value());
    }

  Xoshiro256 rng(s ^ 0x6a4b);
  unsigned decoded = 0, restored = 0;
  for (int round = 0; round < 3'000; ++round) {
    sw::Buffer bytes;
    if (round % 3 == 0) {  // random bytes, sometimes behind a valid format word
      bytes.resize(rng.below(300));
      for (auto& b : bytes) b = static_cast<std::byte>(rng.below(256));
      if (bytes.size() >= 4 && rng.below(2) == 0) sw::store_u32(bytes.data(), kOrderStateFormat);
    } else {  // a valid encoding with 1..4 bytes overwritten, perhaps cut short
      bytes = good;
      for (std::uint64_t i = 0, m = 1 + rng.below(4); i < m; ++i)
        bytes[rng.below(bytes.size())] = static_cast<std::byte>(rng.below(256));
      if (rng.below(8) == 0) bytes.resize(rng.below(bytes.size()));
    }
    const auto st = decode_order_state(bytes);
    (void)OrderCodec(script.config).snapshot_decode(bytes);
    if (!st) continue;
    ++decoded;
    std::string why;
    const auto core = OrderCore::restore(*st, &why);
    if (!core) continue;
    ++restored;
    // Restore accepted it: then it holds every invariant, and the core is that state exactly.
    const OrderState back = core->state();
    if (const auto d = first_difference(back, *st); !d.empty())
      FAIL_CHECK("round " << round << ": a restored mutated state differs in " << d);
    const auto problems = check_order_invariants(back);
    if (!problems.empty()) FAIL_CHECK("round " << round << ": a restored state breaks " << problems.front());
  }
  INFO(decoded << " mutated encodings decoded, " << restored << " restored");
  CHECK(decoded > 100);  // the mutations reached restore's checks, not only the decoder's
}

TEST_CASE("order snapshot: the size is the documented layout, and commands that add no order "
          "never grow it",
          "[unit]") {
  // Phase 1: a seeded default-shaped stream. Phase 2: a long history that adds no order:
  // queries, places rejected for every reason, cancels (some of resting orders, most of
  // orders long gone). A snapshot that logged commands would grow with phase 2.
  const OrderConfig config{.symbols = 4, .accounts = 64, .initial_cash = 50'000'000};
  const auto s = seed();
  INFO("seed " << s);
  OrderReference ref(config);
  const ZipfKeys symbols(config.symbols, 0.99);
  OrderStream stream(config, OrderStreamParams{}, symbols, 0, 1, s);
  std::uint64_t command_bytes = 0;  // what the journal's command records of the run hold
  auto run = [&](const OrderCommand& cmd) {
    sw::Buffer b;
    OrderCodec::encode(cmd, b);
    command_bytes += b.size();
    return apply_order_command(ref, cmd);
  };
  std::size_t commands = 0;
  for (; commands < 5'000; ++commands) {
    const OrderCommand cmd = stream.next();
    stream.observe(cmd, run(cmd));
  }

  const OrderCodec codec(config);
  auto snapshot_size = [&] {
    OrderState st = ref.state();
    // The layout: format + config, accounts, orders, books, totals; then the hash.
    std::size_t want = 4 + 32 + 4 + st.accounts.size() * (16 + 8 * config.symbols) + 8 +
                       st.orders.size() * 30 + 4 + 24 + 8;
    for (const auto& b : st.books) want += 8 + 16 * (b.bids.size() + b.asks.size());
    const sw::Buffer snap = snapshot_of(st);
    CHECK(snap.size() == want);
    CHECK(codec.snapshot_decode(snap).has_value());
    return snap.size();
  };
  const std::size_t size1 = snapshot_size();
  const OrderState s1 = ref.state();

  Xoshiro256 rng(s ^ 0x512e);
  std::size_t accepted_cancels = 0, accepted_places = 0;
  for (std::size_t i = 0; i < 200'000; ++i, ++commands) {
    const auto& o = s1.orders[rng.below(s1.orders.size())];
    OrderCommand cmd;
    switch (rng.below(4)) {
      case 0: cmd = QueryCmd{static_cast<AccountId>(rng.below(config.accounts))}; break;
      case 1: cmd = CancelCmd{o.id, o.account}; break;
      case 2: cmd = PlaceCmd{o.id, o.account, o.symbol, o.side, o.price, o.qty}; break;  // duplicate id
      default:
        cmd = PlaceCmd{1'000'000 + i, o.account, o.symbol, o.side, o.price, 0};  // bad quantity
        break;
    }
    const OrderReply r = run(cmd);
    if (const auto* c = std::get_if<CancelReply>(&r); c && c->reject == Reject::none) ++accepted_cancels;
    if (const auto* p = std::get_if<PlaceReply>(&r); p && p->reject == Reject::none) ++accepted_places;
  }
  REQUIRE(accepted_places == 0);
  CHECK(accepted_cancels > 0);  // a command log would have grown by these at least
  const std::size_t size2 = snapshot_size();
  INFO(commands << " commands (" << command_bytes << " bytes of command records): snapshot "
                << size1 << " bytes after 5000, " << size2 << " after all; "
                << accepted_cancels << " resting orders cancelled");
  // Each accepted cancel took one entry (16 bytes) out of a book; nothing else changed size.
  CHECK(size2 == size1 - 16 * accepted_cancels);
  CHECK(size2 * 10 < command_bytes);
}

TEST_CASE("order snapshot: recovery skips a newest snapshot that is well-formed on disk but "
          "refused by snapshot_decode",
          "[unit]") {
  const auto s = seed();
  INFO("seed " << s);
  const Script script = make_script(s - s % 4, 1'200);  // the tight-cash shape
  const DurableOrderOptions options{.dir = {}, .fsync = sw::FsyncPolicy::none, .snapshot_every = 200,
                                    .snapshots_to_keep = 2};
  OrderReference ref(script.config);
  feed(ref, script, 0, script.commands.size());
  const std::uint64_t want = state_hash(ref.state());

  enum class Bad { breaks_invariant, format_1, other_config };
  for (const Bad bad : {Bad::breaks_invariant, Bad::format_1, Bad::other_config}) {
    INFO("case " << static_cast<int>(bad));
    TempDir dir;
    DurableOrderOptions opts = options;
    opts.dir = dir.path();
    {
      SingleWriterOrderEngine e(script.config, opts);
      for (const OrderCommand& c : script.commands) apply_order_command(e, c);
    }
    const auto snaps = sw::list_snapshots(dir.path());
    REQUIRE(snaps.size() == 2);
    // Replace the newest with a payload that passes the file's checks (magic, length, CRC).
    sw::Buffer payload;
    if (bad == Bad::breaks_invariant) {
      OrderState st = ref.state();
      auto& a = account_with_resting_buys(st);
      a.reserved += 1;
      a.available -= 1;
      payload = snapshot_of(st);
    } else if (bad == Bad::format_1) {
      payload = snapshot_of(ref.state());
      sw::store_u32(payload.data(), 1);
    } else {
      OrderState st = ref.state();
      st.config.max_price += 1;  // a valid state, of another configuration
      payload = snapshot_of(st);
    }
    sw::write_snapshot(dir.path(), snaps.front().first, payload);
    SingleWriterOrderEngine e(script.config, opts);
    const sw::RecoveryReport& rep = e.recovery_report();
    INFO(rep.summary());
    REQUIRE(rep.skipped_snapshots.size() == 1);
    CHECK(rep.skipped_snapshots[0].path == snaps.front().second);
    REQUIRE(rep.snapshot_sequence.has_value());
    CHECK(*rep.snapshot_sequence == snaps[1].first);  // fell back to the older one
    CHECK(rep.records_replayed > 0);
    CHECK(state_hash(e.state()) == want);
  }
}
