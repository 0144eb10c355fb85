// order_checks.hpp: the order conformance checks. Each returns Findings, so it runs against
// every registered design and against the deliberately broken ones (broken_order.hpp).
//
//   check_order_hand_cases<D>       - hand-computed scenarios: trade at the resting price,
//                                     partial fills, price-time priority, buyer refunds, cancel
//                                     releasing the reservation, self-trades, state() contents.
//   check_order_rejects<D>          - every reject reason (and the validation order), each on
//                                     a live engine; a rejected command changes nothing and a
//                                     rejected place does not use up its id.
//   check_order_matches_reference<D>- seeded single-threaded streams (malformed commands mixed
//                                     in): every reply, the final state and its hash equal the
//                                     reference's.
//   check_order_concurrent<D>       - seeded clients on `threads` threads; at quiescence
//                                     invariants 1-6 hold, every command got one reply of its
//                                     kind, no query ever showed negative cash.
//   check_order_serial_equivalence<D> - designs with a commit log: replaying the log through
//                                     the reference reproduces every reply and the final state.
//   check_order_queries_see_completed<D> - designs claiming linearizable reads: a query sees
//                                     every place that returned before it began, whole.
#pragma once

#include <atomic>

#include <cstdint>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "comparisons/common/random.hpp"
#include "comparisons/order/contract.hpp"
#include "comparisons/order/generator.hpp"
#include "comparisons/order/invariants.hpp"
#include "comparisons/order/reference.hpp"
#include "comparisons/order/state_hash.hpp"
#include "tests/support/findings.hpp"

namespace cp::test {

inline std::string describe(const OrderCommand& cmd) {
  std::ostringstream out;
  if (const auto* p = std::get_if<PlaceCmd>(&cmd))
    out << "place{id " << p->id << ", account " << p->account << ", symbol " << p->symbol << ", "
        << (p->side == Side::buy ? "buy" : "sell") << " " << p->qty << " @ " << p->price << "}";
  else if (const auto* c = std::get_if<CancelCmd>(&cmd))
    out << "cancel{id " << c->id << ", account " << c->account << "}";
  else
    out << "query{account " << std::get<QueryCmd>(cmd).account << "}";
  return out.str();
}

inline std::string describe(const OrderReply& reply) {
  std::ostringstream out;
  if (const auto* p = std::get_if<PlaceReply>(&reply))
    out << "{" << to_string(p->reject) << ", filled " << p->filled_qty << " for "
        << p->filled_notional << (p->rests ? ", rests}" : "}");
  else if (const auto* c = std::get_if<CancelReply>(&reply))
    out << "{" << to_string(c->reject) << ", cancelled " << c->cancelled_qty << "}";
  else {
    const auto& q = std::get<QueryReply>(reply);
    out << "{" << to_string(q.reject) << ", available " << q.available << ", reserved "
        << q.reserved << ", positions";
    for (std::size_t s = 0; s < 4; ++s) out << " " << q.positions[s];
    out << " ...}";
  }
  return out.str();
}

inline Reject reject_of(const OrderReply& reply) {
  return std::visit([](const auto& r) { return r.reject; }, reply);
}

inline void add_invariant_problems(Findings& f, const std::vector<std::string>& problems,
                                   const std::string& where) {
  for (const auto& p : problems) f.fail(where, ": ", p);
}

// Every design is built through this, so that designs needing setup get it in one place.
template <class D>
D make_order_design(const OrderConfig& config) {
  return D(config);
}

// ---------------------------------------------------------------------------------------------
// Hand-computed scenarios. Config: 2 symbols, 4 accounts with 1,000,000 cents each.
template <OrderDesign D>
Findings check_order_hand_cases() {
  Findings f;
  const OrderConfig config{.symbols = 2, .accounts = 4, .initial_cash = 1'000'000,
                           .max_price = 1000, .max_qty = 1000};
  D d(config);
  constexpr Cash C0 = 1'000'000;
  auto expect_place = [&](const char* what, const PlaceCmd& cmd, PlaceReply want) {
    const PlaceReply got = d.place(cmd);
    if (got != want)
      f.fail(what, ": ", describe(cmd), " -> ", describe(got), ", want ", describe(want));
  };
  auto expect_cancel = [&](const char* what, const CancelCmd& cmd, CancelReply want) {
    const CancelReply got = d.cancel(cmd);
    if (got != want)
      f.fail(what, ": ", describe(cmd), " -> ", describe(got), ", want ", describe(want));
  };
  auto expect_account = [&](const char* what, AccountId a, Cash available, Cash reserved,
                            std::array<Qty, kMaxSymbols> positions) {
    const QueryReply want{Reject::none, available, reserved, positions};
    const QueryReply got = d.query(QueryCmd{a});
    if (got != want)
      f.fail(what, ": account ", a, " ", describe(got), ", want ", describe(want));
  };

  // Three asks, then one buy sweeps them: best price first (99), then time priority at 100
  // (id 1 before id 2), each trade at the resting order's price; id 2 partially filled.
  expect_place("rest ask", {1, 0, 0, Side::sell, 100, 10}, {Reject::none, 0, 0, true});
  expect_place("rest ask same level", {2, 1, 0, Side::sell, 100, 5}, {Reject::none, 0, 0, true});
  expect_place("rest better ask", {3, 2, 0, Side::sell, 99, 3}, {Reject::none, 0, 0, true});
  expect_account("buyer before", 3, C0, 0, {});
  expect_place("sweep", {4, 3, 0, Side::buy, 101, 15},
               {Reject::none, 15, 3 * 99 + 10 * 100 + 2 * 100, false});
  // The buyer reserved 101 * 15 = 1515, paid 1497 and got the surplus 18 back.
  expect_account("buyer refunded", 3, C0 - 1497, 0, {15});
  expect_account("seller 99", 2, C0 + 297, 0, {-3});
  expect_account("seller first at 100", 0, C0 + 1000, 0, {-10});
  expect_account("seller second at 100", 1, C0 + 200, 0, {-2});

  // A resting buy reserves; an incoming sell below it trades at the buy's (resting) price.
  expect_place("rest bid", {5, 0, 0, Side::buy, 50, 4}, {Reject::none, 0, 0, true});
  expect_account("bid reserves", 0, C0 + 1000 - 200, 200, {-10});
  expect_place("sell into bid", {6, 1, 0, Side::sell, 40, 1}, {Reject::none, 1, 50, false});
  expect_account("maker buyer pays its price", 0, C0 + 800, 150, {-9});
  expect_account("taker seller gets the resting price", 1, C0 + 250, 0, {-3});
  // Cancel releases the remainder's reservation (3 * 50).
  expect_cancel("cancel partly filled bid", {5, 0}, {Reject::none, 3});
  expect_account("cancel released", 0, C0 + 950, 0, {-9});
  expect_cancel("cancel again", {5, 0}, {Reject::order_not_active, 0});

  // Self-trade: account 2 buys 5 @ 10 on symbol 1, then sells 2 @ 9 into its own bid.
  expect_place("self bid", {7, 2, 1, Side::buy, 10, 5}, {Reject::none, 0, 0, true});
  expect_place("self trade", {8, 2, 1, Side::sell, 9, 2}, {Reject::none, 2, 20, false});
  expect_account("self trade settles both ways", 2, C0 + 297 - 50 + 20, 30, {-3, 0});

  // Priority order in the book: better price first, then time.
  expect_place("bid behind", {9, 1, 1, Side::buy, 10, 1}, {Reject::none, 0, 0, true});
  expect_place("better bid", {10, 3, 1, Side::buy, 11, 1}, {Reject::none, 0, 0, true});
  // A sell for 3 @ 10 takes id 10 (11), then id 7 (first at 10): 11 + 2 * 10.
  expect_place("priority sweep", {11, 1, 1, Side::sell, 10, 3}, {Reject::none, 3, 31, false});

  const OrderState s = d.state();
  OrderState::Book b0, b1;
  b0.asks = {{2, 100, 3}};
  b1.bids = {{7, 10, 1}, {9, 10, 1}};
  if (s.books.size() != 2 || s.books[0] != b0 || s.books[1] != b1)
    f.fail("state(): books not as computed by hand");
  if (s.trades != 7 || s.traded_qty != 15 + 1 + 2 + 3 || s.traded_notional != 1497 + 50 + 20 + 31)
    f.fail("state(): trades ", s.trades, " qty ", s.traded_qty, " notional ", s.traded_notional,
           ", want 7, 21, 1598");
  const std::vector<OrderState::Order> want_orders = {
      {1, 0, 0, Side::sell, 100, 10, 10, 0, 0}, {2, 1, 0, Side::sell, 100, 5, 2, 0, 3},
      {3, 2, 0, Side::sell, 99, 3, 3, 0, 0},    {4, 3, 0, Side::buy, 101, 15, 15, 0, 0},
      {5, 0, 0, Side::buy, 50, 4, 1, 3, 0},     {6, 1, 0, Side::sell, 40, 1, 1, 0, 0},
      {7, 2, 1, Side::buy, 10, 5, 4, 0, 1},     {8, 2, 1, Side::sell, 9, 2, 2, 0, 0},
      {9, 1, 1, Side::buy, 10, 1, 0, 0, 1},     {10, 3, 1, Side::buy, 11, 1, 1, 0, 0},
      {11, 1, 1, Side::sell, 10, 3, 3, 0, 0}};
  if (s.orders != want_orders) f.fail("state(): order records not as computed by hand");
  add_invariant_problems(f, check_order_invariants(s), "hand cases");
  return f;
}

// ---------------------------------------------------------------------------------------------
// Rejects. Every bad command runs against an engine holding resting, filled and cancelled
// orders; its reply must carry the expected reason and no effects, and state() must not move.
template <OrderDesign D>
Findings check_order_rejects() {
  Findings f;
  const OrderConfig config{.symbols = 2, .accounts = 3, .initial_cash = 10'000,
                           .max_price = 1000, .max_qty = 100};
  D d(config);
  auto setup = [&](const PlaceCmd& cmd) {
    if (d.place(cmd).reject != Reject::none) f.fail("setup place rejected: ", describe(cmd));
  };
  setup({1, 0, 0, Side::buy, 10, 5});   // rests
  setup({2, 1, 0, Side::sell, 20, 5});  // rests
  setup({3, 1, 1, Side::sell, 5, 2});   // filled by 4
  setup({4, 0, 1, Side::buy, 5, 2});
  setup({5, 2, 0, Side::sell, 30, 1});  // cancelled below
  if (d.cancel({5, 2}).reject != Reject::none) f.fail("setup cancel rejected");

  struct Case {
    const char* what;
    OrderCommand cmd;
    Reject want;
  };
  const Case cases[] = {
      {"qty 0", PlaceCmd{100, 0, 0, Side::buy, 10, 0}, Reject::bad_quantity},
      {"qty < 0", PlaceCmd{100, 0, 0, Side::sell, 10, -3}, Reject::bad_quantity},
      {"qty > max", PlaceCmd{100, 0, 0, Side::sell, 10, 101}, Reject::bad_quantity},
      {"qty checked first", PlaceCmd{1, 9, 9, Side::buy, 0, 0}, Reject::bad_quantity},
      {"price 0", PlaceCmd{100, 0, 0, Side::buy, 0, 1}, Reject::bad_price},
      {"price < 0", PlaceCmd{100, 0, 0, Side::sell, -7, 1}, Reject::bad_price},
      {"price above band", PlaceCmd{100, 0, 0, Side::sell, 1001, 1}, Reject::bad_price},
      {"price before symbol", PlaceCmd{1, 9, 9, Side::buy, 1001, 1}, Reject::bad_price},
      {"unknown symbol", PlaceCmd{100, 0, 2, Side::buy, 10, 1}, Reject::unknown_symbol},
      {"symbol before account", PlaceCmd{1, 9, 7, Side::buy, 10, 1}, Reject::unknown_symbol},
      {"unknown account", PlaceCmd{100, 3, 0, Side::sell, 10, 1}, Reject::unknown_account},
      {"account before duplicate", PlaceCmd{1, 3, 0, Side::sell, 10, 1}, Reject::unknown_account},
      {"duplicate of resting", PlaceCmd{1, 0, 0, Side::sell, 10, 1}, Reject::duplicate_order_id},
      {"duplicate of filled", PlaceCmd{3, 1, 1, Side::sell, 10, 1}, Reject::duplicate_order_id},
      {"duplicate of cancelled", PlaceCmd{5, 2, 0, Side::buy, 1, 1}, Reject::duplicate_order_id},
      {"duplicate before cash", PlaceCmd{2, 2, 0, Side::buy, 1000, 100}, Reject::duplicate_order_id},
      {"insufficient cash", PlaceCmd{100, 2, 0, Side::buy, 1000, 100}, Reject::insufficient_cash},
      {"cash counts reservations", PlaceCmd{100, 0, 1, Side::buy, 100, 100},
       Reject::insufficient_cash},
      {"cancel: unknown account", CancelCmd{1, 3}, Reject::unknown_account},
      {"cancel: account first", CancelCmd{777, 9}, Reject::unknown_account},
      {"cancel: unknown order", CancelCmd{777, 0}, Reject::unknown_order},
      {"cancel: rejected id is unknown", CancelCmd{100, 0}, Reject::unknown_order},
      {"cancel: not owner", CancelCmd{2, 0}, Reject::not_owner},
      {"cancel: owner before active", CancelCmd{3, 0}, Reject::not_owner},
      {"cancel: filled", CancelCmd{3, 1}, Reject::order_not_active},
      {"cancel: cancelled", CancelCmd{5, 2}, Reject::order_not_active},
      {"query: unknown account", QueryCmd{3}, Reject::unknown_account},
  };
  for (const Case& c : cases) {
    const OrderState before = d.state();
    const OrderReply got = apply_order_command(d, c.cmd);
    const OrderState after = d.state();
    bool clean = reject_of(got) == c.want;
    if (const auto* p = std::get_if<PlaceReply>(&got))
      clean = clean && p->filled_qty == 0 && p->filled_notional == 0 && !p->rests;
    else if (const auto* k = std::get_if<CancelReply>(&got))
      clean = clean && k->cancelled_qty == 0;
    else if (const auto* q = std::get_if<QueryReply>(&got))
      clean = clean && *q == QueryReply{Reject::unknown_account};
    if (!clean)
      f.fail(c.what, ": ", describe(c.cmd), " -> ", describe(got), ", want ", to_string(c.want),
             " and no effect");
    if (!(before == after) || state_hash(before) != state_hash(after))
      f.fail(c.what, ": rejected ", describe(c.cmd), " changed the state");
  }
  // A rejected place does not use up its id; exactly the available cash is enough.
  // Account 2: 10,000 + 0 (its sell was cancelled) = 10,000 available.
  const PlaceReply reuse = d.place({100, 2, 1, Side::buy, 100, 100});  // symbol 1 is empty
  if (reuse != PlaceReply{Reject::none, 0, 0, true})
    f.fail("place with a previously rejected id, costing exactly the available cash: ",
           describe(reuse));
  if (const QueryReply q = d.query({2}); q.available != 0 || q.reserved != 10'000)
    f.fail("after reserving everything: ", describe(q));
  if (const PlaceReply r = d.place({101, 2, 1, Side::buy, 1, 1}); r.reject != Reject::insufficient_cash)
    f.fail("a buy with nothing available: ", describe(r));
  add_invariant_problems(f, check_order_invariants(d.state()), "rejects");
  return f;
}

// ---------------------------------------------------------------------------------------------
// Single-threaded equivalence with the reference over seeded streams from several clients.
inline OrderConfig equivalence_config() {
  // Little cash (5 buys' worth) so insufficient_cash happens; few accounts so clients' orders
  // meet.
  return {.symbols = 4, .accounts = 12, .initial_cash = 5'000'000, .max_price = 1'000'000,
          .max_qty = 1'000'000};
}

template <OrderDesign D>
Findings check_order_matches_reference(std::uint64_t seed, int ops = 20'000,
                                       unsigned malformed_percent = 10, unsigned clients = 3) {
  Findings f;
  const OrderConfig config = equivalence_config();
  D d(config);
  OrderReference ref(config);
  const ZipfKeys symbols(config.symbols, 0.8);
  OrderStreamParams params;
  params.malformed_percent = malformed_percent;
  params.walk_range = 10;  // a narrow walk: more crossing, more partial fills
  std::vector<OrderStream> streams;
  for (unsigned c = 0; c < clients; ++c) streams.emplace_back(config, params, symbols, c, clients, seed);
  Xoshiro256 pick(seed ^ 0x5eed);
  for (int i = 0; i < ops && f.ok(); ++i) {
    OrderStream& s = streams[pick.below(clients)];
    const OrderCommand cmd = s.next();
    const OrderReply want = apply_order_command(ref, cmd);
    const OrderReply got = apply_order_command(d, cmd);
    if (got != want)
      f.fail("command ", i, ": ", describe(cmd), " -> ", describe(got), ", reference ",
             describe(want));
    s.observe(cmd, want);
  }
  const OrderState got = d.state(), want = ref.state();
  if (!(got == want)) f.fail("final state differs from the reference's");
  if (state_hash(got) != state_hash(want)) f.fail("final state hash differs from the reference's");
  add_invariant_problems(f, check_order_invariants(got), "after the stream");
  return f;
}

// ---------------------------------------------------------------------------------------------
// Concurrent stress.
struct OrderClientTally {
  std::uint64_t commands = 0, replies = 0, wrong_kind = 0, negative_cash = 0;
  Qty filled_qty = 0;
  Cash filled_notional = 0;
  std::vector<std::pair<OrderCommand, OrderReply>> log;  // only when asked (commit-log checks)
};

inline OrderConfig stress_config() {
  return {.symbols = 4, .accounts = 64, .initial_cash = 50'000'000, .max_price = 1'000'000,
          .max_qty = 1'000'000};
}

// Runs `threads` seeded clients against d; returns their tallies (workers record, the caller
// checks after join).
template <OrderDesign D>
std::vector<OrderClientTally> run_order_clients(D& d, const OrderConfig& config, std::uint64_t seed,
                                                unsigned threads, int ops_per_thread,
                                                unsigned malformed_percent, bool keep_log) {
  const ZipfKeys symbols(config.symbols, 0.99);
  OrderStreamParams params;
  params.malformed_percent = malformed_percent;
  params.walk_range = 10;
  params.recent_capacity = 256;
  std::vector<OrderClientTally> tallies(threads);
  run_threads(threads, [&](unsigned t) {
    OrderClientTally& tally = tallies[t];
    OrderStream stream(config, params, symbols, t, threads, seed);
    if (keep_log) tally.log.reserve(static_cast<std::size_t>(ops_per_thread));
    for (int i = 0; i < ops_per_thread; ++i) {
      const OrderCommand cmd = stream.next();
      ++tally.commands;
      const OrderReply reply = apply_order_command(d, cmd);
      ++tally.replies;
      if (reply.index() != cmd.index()) ++tally.wrong_kind;
      if (const auto* p = std::get_if<PlaceReply>(&reply)) {
        tally.filled_qty += p->filled_qty;
        tally.filled_notional += p->filled_notional;
      } else if (const auto* q = std::get_if<QueryReply>(&reply)) {
        if (q->available < 0 || q->reserved < 0) ++tally.negative_cash;
      }
      if (keep_log) tally.log.emplace_back(cmd, reply);
      stream.observe(cmd, reply);
    }
  });
  return tallies;
}

template <OrderDesign D>
Findings check_order_concurrent(std::uint64_t seed, unsigned threads, int ops_per_thread,
                                unsigned malformed_percent = 5) {
  Findings f;
  const OrderConfig config = stress_config();
  D d(config);
  const auto tallies =
      run_order_clients(d, config, seed, threads, ops_per_thread, malformed_percent, false);
  Qty filled = 0;
  Cash notional = 0;
  for (unsigned t = 0; t < threads; ++t) {
    const auto& tally = tallies[t];
    filled += tally.filled_qty;
    notional += tally.filled_notional;
    if (tally.replies != tally.commands || tally.wrong_kind)
      f.fail("client ", t, ": ", tally.commands, " commands, ", tally.replies, " replies, ",
             tally.wrong_kind, " of the wrong kind");
    if (tally.negative_cash) f.fail("client ", t, ": ", tally.negative_cash, " queries saw negative cash");
  }
  const OrderState s = d.state();
  const std::string where = std::to_string(threads) + " threads";
  add_invariant_problems(f, check_order_invariants(s), where);
  add_invariant_problems(f, check_fill_totals(s, filled, notional), where);
  if (s.trades == 0) f.fail(where, ": no trades at all; the stream does not exercise matching");
  return f;
}

// Serial equivalence: replaying the commit log through the reference reproduces every reply
// and the final state; the log holds every command exactly once.
template <OrderDesignWithCommitLog D>
Findings check_order_serial_equivalence(std::uint64_t seed, unsigned threads, int ops_per_thread) {
  Findings f;
  const OrderConfig config = stress_config();
  D d(config);
  d.record_commits(true);
  // No malformed commands: every client's commands are then distinct from the others' (own ids,
  // own accounts), so the per-client order check below is exact.
  const auto tallies = run_order_clients(d, config, seed, threads, ops_per_thread, 0, true);
  const std::vector<Commit> log = d.commits();
  std::size_t commands = 0;
  for (const auto& t : tallies) commands += t.log.size();
  if (log.size() != commands)
    f.fail("commit log holds ", log.size(), " commands, the clients issued ", commands);
  // Every client's (command, reply) pairs appear in the log in the client's own order.
  {
    std::vector<std::size_t> next(threads, 0);
    std::size_t unmatched = 0;
    for (const Commit& c : log) {
      bool matched = false;
      for (unsigned t = 0; t < threads && !matched; ++t) {
        const auto& tl = tallies[t].log;
        if (next[t] < tl.size() && tl[next[t]].first == c.command && tl[next[t]].second == c.reply) {
          ++next[t];
          matched = true;
        }
      }
      if (!matched) ++unmatched;
    }
    if (unmatched) f.fail(unmatched, " log entries match no client's next command and reply");
  }
  OrderReference ref(config);
  for (std::size_t i = 0; i < log.size() && f.ok(); ++i) {
    const OrderReply want = apply_order_command(ref, log[i].command);
    if (want != log[i].reply)
      f.fail("commit ", i, ": ", describe(log[i].command), " got ", describe(log[i].reply),
             ", the reference replays ", describe(want));
  }
  const OrderState got = d.state(), want = ref.state();
  if (!(got == want) || state_hash(got) != state_hash(want))
    f.fail("final state differs from the reference replay's (hash ", state_hash(got), " vs ",
           state_hash(want), ")");
  return f;
}

// Linearizable reads, the part a test can see: once a place has returned (and a reader learns
// so through an atomic), a query must include it, and must never see one half applied.
// A writer rests buys that cannot match (account 0: each reserves 1) and crosses pairs of
// orders (account 2 buys 1 from account 1: its position grows by 1 per pair); a reader queries.
template <OrderDesign D>
Findings check_order_queries_see_completed(std::uint64_t seed, int rounds = 5'000) {
  Findings f;
  const OrderConfig config{.symbols = 2, .accounts = 4, .initial_cash = 1'000'000'000};
  D d(config);
  std::atomic<std::int64_t> published{0};  // rounds whose commands all returned
  std::atomic<bool> done{false};
  std::uint64_t stale_reserved = 0, stale_position = 0, torn = 0, rejected = 0;
  run_threads(2, [&](unsigned t) {
    if (t == 0) {
      Xoshiro256 rng(seed);
      for (std::int64_t i = 1; i <= rounds; ++i) {
        const OrderId base = static_cast<OrderId>(i) * 4;
        if (d.place({base, 0, 0, Side::buy, 1, 1}).reject != Reject::none) ++rejected;
        const Price p = 5 + static_cast<Price>(rng.below(5));
        if (d.place({base + 1, 1, 1, Side::sell, p, 1}).reject != Reject::none) ++rejected;
        if (d.place({base + 2, 2, 1, Side::buy, p, 1}).filled_qty != 1) ++rejected;
        // Release pairs with the reader's acquire: the places above happened before.
        published.store(i, std::memory_order_release);
      }
      done.store(true, std::memory_order_release);
    } else {
      while (!done.load(std::memory_order_acquire)) {
        const std::int64_t known = published.load(std::memory_order_acquire);
        const QueryReply q0 = d.query({0});
        if (q0.reserved < known) ++stale_reserved;
        if (q0.available + q0.reserved != config.initial_cash) ++torn;
        if (d.query({2}).positions[1] < known) ++stale_position;
      }
    }
  });
  if (rejected) f.fail(rejected, " setup commands were rejected or did not trade");
  if (stale_reserved) f.fail(stale_reserved, " queries missed a buy's reservation that had returned");
  if (stale_position) f.fail(stale_position, " queries missed a trade whose place had returned");
  if (torn) f.fail(torn, " queries saw available + reserved != the initial cash (a torn place)");
  return f;
}

}  // namespace cp::test
