// order_test.cpp: the order conformance suite, run against every registered design, plus the
// proof that the checks catch deliberately broken engines.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <thread>
#include <variant>
#include <vector>

#include "comparisons/order/designs.hpp"
#include "comparisons/order/driver.hpp"
#include "tests/conformance/order/broken_order.hpp"
#include "tests/conformance/order/order_checks.hpp"
#include "tests/support/design_test.hpp"
#include "tests/support/progress_check.hpp"
#include "tests/support/trait_checks.hpp"

using namespace cp;
using namespace cp::test;

static_assert([]<class... D>(std::tuple<D...>*) { return (OrderDesign<D> && ...); }(
                  static_cast<OrderDesigns*>(nullptr)),
              "every registered order design satisfies the contract");
static_assert([]<class... D>(std::tuple<D...>*) {
  return ((!D::traits.exposes_commit_order || OrderDesignWithCommitLog<D>) && ...);
}(static_cast<OrderDesigns*>(nullptr)), "a design that exposes its commit order offers the log");
static_assert(WorkloadDriver<OrderDriver<MutexOrderEngine>>);

CP_DESIGN_TEST(order_hand_cases, "order: hand-computed matching, refunds, cancel, self-trade",
               "[unit]", OrderDesigns) {
  CP_REQUIRE_CLEAN(check_order_hand_cases<TestType>(), 0);
}

CP_DESIGN_TEST(order_rejects, "order: every reject reason, in order, changes nothing", "[unit]",
               OrderDesigns) {
  CP_REQUIRE_CLEAN(check_order_rejects<TestType>(), 0);
}

CP_DESIGN_TEST(order_bad_config, "order: invalid configs are refused", "[unit]", OrderDesigns) {
  REQUIRE_THROWS_AS(TestType(OrderConfig{.symbols = 0}), std::invalid_argument);
  REQUIRE_THROWS_AS(TestType(OrderConfig{.symbols = kMaxSymbols + 1}), std::invalid_argument);
  REQUIRE_THROWS_AS(TestType(OrderConfig{.accounts = 0}), std::invalid_argument);
  REQUIRE_THROWS_AS(TestType(OrderConfig{.max_price = 0}), std::invalid_argument);
}

CP_DESIGN_TEST(order_matches_reference, "order: replies and state equal the reference's",
               "[unit]", OrderDesigns) {
  const auto s = seed();
  for (std::uint64_t round = 0; round < 3; ++round) {
    INFO("round " << round);
    CP_REQUIRE_CLEAN(check_order_matches_reference<TestType>(s + round, 6'000, round == 0 ? 0 : 10),
                     s + round);
  }
}

CP_DESIGN_TEST(order_stress, "order: invariants 1-6 at quiescence", "[stress]", OrderDesigns) {
  const auto s = seed();
  for (unsigned threads : kStressThreadCounts) {
    if (!TestType::traits.thread_safe && threads > 1) continue;
    INFO("threads " << threads);
    CP_REQUIRE_CLEAN(check_order_concurrent<TestType>(s + threads, threads, 24'000 / threads + 1'000),
                     s + threads);
  }
}

CP_DESIGN_TEST(order_serial_equivalence, "order: the commit log replays through the reference",
               "[stress]", OrderDesigns) {
  if constexpr (OrderDesignWithCommitLog<TestType>) {
    const auto s = seed();
    for (unsigned threads : kStressThreadCounts) {
      INFO("threads " << threads);
      CP_REQUIRE_CLEAN(check_order_serial_equivalence<TestType>(s + threads, threads, 12'000 / threads + 500),
                       s + threads);
    }
  }
}

CP_DESIGN_TEST(order_traits, "order: declared traits hold", "[trait]", OrderDesigns) {
  CP_REQUIRE_CLEAN(check_traits_consistent<TestType>(), 0);
  CP_REQUIRE_CLEAN(check_waiting_claim<TestType>(), 0);
  STATIC_REQUIRE(TestType::traits.exposes_commit_order == OrderDesignWithCommitLog<TestType>);
}

CP_DESIGN_TEST(order_linearizable, "order: queries see every completed place", "[trait]",
               OrderDesigns) {
  if constexpr (TestType::traits.thread_safe && TestType::traits.linearizable_reads) {
    const auto s = seed();
    CP_REQUIRE_CLEAN(check_order_queries_see_completed<TestType>(s), s);
  }
}

namespace {

// OrderParkScenario: one symbol, three accounts. Account 1 rests two asks (2 @ 100, 2 @ 101)
// and account 0 a buy (3 @ 90). The parked operation is account 0's buy of 5 @ 101 (it takes
// its id and cash, trades with both asks, settles two trades and rests 1) or its cancel of
// the resting buy. Worker 0 rests asks at 100..109 for account 1 and worker 1 buys 1 @ 105
// for account 2, so they trade with each other and with what the parked command leaves.
template <class D>
struct OrderParkScenario {
  static constexpr OrderConfig kConfig{.symbols = 1, .accounts = 3, .initial_cash = 1'000'000'000};
  bool parked_is_cancel;
  std::unique_ptr<D> design = std::make_unique<D>(kConfig);
  std::array<OrderId, 2> placed{};  // worker t's entries, read after the joins
  std::array<Qty, 3> filled{};      // [2]: the parked command
  std::array<Cash, 3> notional{};
  Reject parked_reject = Reject::unknown_order;
  Qty parked_cancelled = 0;

  explicit OrderParkScenario(bool cancel) : parked_is_cancel(cancel) {
    (void)design->place({10, 1, 0, Side::sell, 100, 2});
    (void)design->place({11, 1, 0, Side::sell, 101, 2});
    (void)design->place({12, 0, 0, Side::buy, 90, 3});
  }
  void parked_op() {
    if (parked_is_cancel) {
      const CancelReply c = design->cancel({12, 0});
      parked_reject = c.reject;
      parked_cancelled = c.cancelled_qty;
    } else {
      const PlaceReply p = design->place({1, 0, 0, Side::buy, 101, 5});
      parked_reject = p.reject;
      filled[2] = p.filled_qty;
      notional[2] = p.filled_notional;
    }
  }
  void other_op(unsigned t) {
    const OrderId id = (OrderId{t} + 1) * 1'000'000 + placed[t];
    const PlaceReply p = t == 0 ? design->place({id, 1, 0, Side::sell, 100 + Price(id % 10), 2})
                                : design->place({id, 2, 0, Side::buy, 105, 1});
    placed[t] += p.reject == Reject::none ? 1 : 0;
    filled[t] += p.filled_qty;
    notional[t] += p.filled_notional;
  }
  Findings check() {
    Findings f;
    if (parked_reject != Reject::none) f.fail("the parked command was rejected: ", to_string(parked_reject));
    if (parked_is_cancel && parked_cancelled != 3)
      f.fail("the parked cancel released ", parked_cancelled, ", want 3");
    const OrderState s = design->state();
    const std::size_t want_orders = 3 + placed[0] + placed[1] + (parked_is_cancel ? 0 : 1);
    if (s.orders.size() != want_orders) f.fail(s.orders.size(), " orders, want ", want_orders);
    if (s.trades == 0) f.fail("no trades");
    for (const auto& p : check_order_invariants(s)) f.fail(p);
    for (const auto& p : check_fill_totals(s, filled[0] + filled[1] + filled[2],
                                           notional[0] + notional[1] + notional[2]))
      f.fail(p);
    return f;
  }
};

}  // namespace

// A design that declares lock_free = true offers `with_hooks<H>`, so a thread can be parked
// inside place(), at each of its hook points in turn (for the lock-free engine: its id
// claimed, its cash taken but not reserved, its new book version built before the CAS, the
// book swapped with its trades not settled, each trade settled); the other threads must still
// complete all of theirs, on the same symbol, and afterwards every invariant holds.
CP_DESIGN_TEST(order_progress, "order: lock-free, others progress while one place is parked",
               "[trait]", OrderDesigns) {
  if constexpr (TestType::traits.lock_free) {
    using Hooked = typename TestType::template with_hooks<lf::ScriptedHooks>;
    CP_REQUIRE_CLEAN(park_at_every_visit([] { return OrderParkScenario<Hooked>(false); }, 2, 500,
                                         std::chrono::seconds(60)),
                     0);
  }
}

// The same for a cancel, parked at each of its hook points (before its CAS, and with the
// order out of the book but its reservation not yet released).
CP_DESIGN_TEST(order_progress_cancel, "order: lock-free, others progress while one cancel is parked",
               "[interleaving]", OrderDesigns) {
  if constexpr (TestType::traits.lock_free) {
    using Hooked = typename TestType::template with_hooks<lf::ScriptedHooks>;
    CP_REQUIRE_CLEAN(park_at_every_visit([] { return OrderParkScenario<Hooked>(true); }, 2, 300,
                                         std::chrono::seconds(60)),
                     0);
  }
}

// The converse, for the lock-free family's one design that declares lock_free = false: flat
// combining. Its combiner is parked inside its batch (it took the stack, holding one sell, and
// has not applied it); two other callers then publish a buy each. Neither buy completes while
// the combiner stays parked: only the holder of the role applies requests, and it holds the
// role. The 100 ms wait only bounds the test: a published request cannot complete without a
// combiner however long we wait, so the check does not depend on speed (a design in which a
// caller could finish its own request, i.e. one that did not block, fails it). Released, the
// combiner applies its batch and then the buys, and every reply is the right one.
TEST_CASE("order flat-combining: while its combiner is parked mid-batch, no other caller completes",
          "[trait]") {
  using Hooked = FlatCombiningOrderEngine::with_hooks<lf::ScriptedHooks>;
  STATIC_REQUIRE_FALSE(Hooked::traits.lock_free);
  Hooked design(OrderConfig{.symbols = 1, .accounts = 3, .initial_cash = 1'000'000'000});
  design.record_commits(true);
  constexpr unsigned kCallers = 2;
  std::latch parked(1), resume(1), published(kCallers);
  PlaceReply sell{};
  std::thread combiner([&] {
    lf::ParkOnce park(lf::HookPoint::fc_before_apply, parked, resume);
    sell = design.place({1, 0, 0, Side::sell, 100, 10});  // alone: it takes the role
  });
  parked.wait();
  std::array<PlaceReply, kCallers> buys{};
  std::array<std::atomic<bool>, kCallers> done{};
  std::vector<std::thread> callers;
  for (unsigned t = 0; t < kCallers; ++t)
    callers.emplace_back([&, t] {
      // Says when this caller's request is on the publication stack (not waited on yet).
      lf::ScriptedHooks::Scope announce([&](lf::HookPoint p, const void*) {
        if (p == lf::HookPoint::fc_published) published.count_down();
      });
      buys[t] = design.place({OrderId{t} + 2, AccountId{t} + 1, 0, Side::buy, 100, 5});
      done[t].store(true, std::memory_order_release);  // the main thread reads it in the wait
    });
  published.wait();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  unsigned completed_while_parked = 0;
  for (const auto& d : done) completed_while_parked += d.load(std::memory_order_acquire) ? 1 : 0;
  resume.count_down();
  combiner.join();
  for (auto& c : callers) c.join();

  INFO(completed_while_parked << " of " << kCallers << " published places completed while the "
                              << "combiner was parked");
  CHECK(completed_while_parked == 0);
  CHECK(sell == PlaceReply{Reject::none, 0, 0, true});  // applied first: it rests
  for (const PlaceReply& b : buys) CHECK(b == PlaceReply{Reject::none, 5, 500, false});
  const std::vector<Commit> log = design.commits();
  REQUIRE(log.size() == 1 + kCallers);
  CHECK(std::get<PlaceCmd>(log[0].command).id == 1);  // the parked batch before the others
  const OrderState st = design.state();
  CHECK(st.trades == kCallers);
  for (const auto& p : check_order_invariants(st)) FAIL_CHECK(p);
}

// The benchmark driver's own verdict, on a short run per design.
CP_DESIGN_TEST(order_driver, "order: the benchmark driver's verdict passes", "[stress]",
               OrderDesigns) {
  const unsigned threads = TestType::traits.thread_safe ? 4 : 1;
  OrderDriver<TestType> drv(OrderParams{.accounts = 64, .prefill_per_side = 16}, threads, seed());
  std::vector<typename OrderDriver<TestType>::Thread> all;
  for (unsigned i = 0; i < threads; ++i) all.push_back(drv.make_thread(i));
  run_threads(threads, [&](unsigned i) {
    for (int op = 0; op < 5'000; ++op) {
      drv.next(all[i]);
      drv.execute(all[i]);
    }
  });
  const Verdict v = drv.verify(all);
  INFO(drv.describe() << "\n" << v.detail);
  REQUIRE(v.passed);
}

// ---------------------------------------------------------------------------------------------
// The same checks must report the broken engines.
CP_DESIGN_TEST(order_catches_broken, "order: the checks report a broken engine",
               "[suite-catches-bugs]", BrokenOrderDesigns) {
  const auto s = seed();
  CHECK_FALSE(check_order_hand_cases<TestType>().ok());
  CHECK_FALSE(check_order_matches_reference<TestType>(s, 6'000, 0).ok());
  if constexpr (std::is_same_v<TestType, BrokenOrderEngine<OrderBug::cancel_keeps_reservation>>) {
    // Invariant 3 alone exposes it, even with no reference to compare against.
    CHECK_FALSE(check_order_concurrent<TestType>(s, 4, 2'000).ok());
  }
}

// ---------------------------------------------------------------------------------------------
// The building blocks on their own.
TEST_CASE("order: the book matches at the resting price, cancels by handle", "[unit]") {
  OrderBook book;
  std::vector<OrderBook::Fill> fills;
  auto record = [&](const OrderBook::Fill& f) { fills.push_back(f); };
  const auto a = book.execute(Side::sell, 1, 7, 0, 101, 5, record);
  const auto b = book.execute(Side::sell, 2, 8, 1, 100, 5, record);
  REQUIRE((a.rested != OrderBook::kNoHandle && b.rested != OrderBook::kNoHandle));
  REQUIRE(book.best_ask() == 100);
  REQUIRE(!book.best_bid());
  const auto c = book.execute(Side::buy, 3, 9, 2, 101, 7, record);
  REQUIRE(fills.size() == 2);
  CHECK((fills[0].maker_id == 2 && fills[0].price == 100 && fills[0].qty == 5 && fills[0].maker_remaining == 0));
  CHECK((fills[1].maker_id == 1 && fills[1].price == 101 && fills[1].qty == 2 && fills[1].maker_remaining == 3));
  CHECK((c.filled_qty == 7 && c.filled_notional == 500 + 202 && c.trades == 2 && c.rested == OrderBook::kNoHandle));
  CHECK(book.remaining(b.rested) == 0);
  CHECK(book.cancel(b.rested) == 0);  // filled: nothing to cancel
  CHECK(book.cancel(a.rested) == 3);
  CHECK(book.cancel(a.rested) == 0);  // cancelled twice
  CHECK(book.levels() == 0);
  CHECK(book.resting_orders() == 0);
  CHECK(book.cancel(12345) == 0);     // never issued
}

TEST_CASE("order: the stream is deterministic for a seed and keeps ids unique", "[unit]") {
  const OrderConfig config{};
  const ZipfKeys symbols(config.symbols, 0.99);
  OrderStreamParams params;
  params.malformed_percent = 10;
  OrderStream a(config, params, symbols, 2, 4, 99), b(config, params, symbols, 2, 4, 99);
  OrderStream other(config, params, symbols, 3, 4, 99);
  // Client c's ids carry the prefix c + 1, so two clients' ids never meet (a malformed
  // duplicate reuses the client's own earlier id).
  for (int i = 0; i < 5'000; ++i) {
    const OrderCommand x = a.next(), y = b.next(), z = other.next();
    REQUIRE(x == y);
    if (const auto* p = std::get_if<PlaceCmd>(&x)) REQUIRE((p->id >> OrderStream::kClientShift) == 3u);
    if (const auto* p = std::get_if<PlaceCmd>(&z)) REQUIRE((p->id >> OrderStream::kClientShift) == 4u);
    const OrderReply rests = PlaceReply{Reject::none, 0, 0, true};
    a.observe(x, rests);
    b.observe(y, rests);
    other.observe(z, rests);
  }
}

TEST_CASE("order: the invariant checks and the hash notice a damaged state", "[unit]") {
  MutexOrderEngine engine(OrderConfig{.symbols = 2, .accounts = 4, .initial_cash = 100'000});
  engine.place({1, 0, 0, Side::buy, 10, 5});
  engine.place({2, 1, 0, Side::sell, 12, 5});
  engine.place({3, 2, 1, Side::sell, 7, 3});
  engine.place({4, 3, 1, Side::buy, 8, 2});
  const OrderState good = engine.state();
  REQUIRE(check_order_invariants(good).empty());
  REQUIRE(check_fill_totals(good, 2, 14).empty());
  CHECK(!check_fill_totals(good, 3, 14).empty());
  const auto damaged = [&](auto damage) {
    OrderState s = good;
    damage(s);
    CHECK(state_hash(s) != state_hash(good));
    return !check_order_invariants(s).empty();
  };
  CHECK(damaged([](OrderState& s) { s.accounts[0].available += 1; }));                // 1
  CHECK(damaged([](OrderState& s) { s.accounts[2].positions[1] += 1; }));             // 2
  CHECK(damaged([](OrderState& s) { s.accounts[0].reserved += 10; s.accounts[0].available -= 10; }));  // 3
  CHECK(damaged([](OrderState& s) { s.orders[0].filled += 1; }));                     // 4
  CHECK(damaged([](OrderState& s) { s.accounts[1].available = -s.accounts[1].available; }));  // 4, 1
  CHECK(damaged([](OrderState& s) { s.books[0].asks[0].price = 10; }));               // 5
  CHECK(damaged([](OrderState& s) { s.books[0].bids.clear(); }));                     // book vs orders
}

TEST_CASE("order: the lock-free id index gives each id to exactly one claimer", "[stress]") {
  // Four threads claim the same 2,000 ids (in different orders, so they collide); every id
  // must be won once. Then each winner frees its even ids, and the threads race again: each
  // freed id is won once more, the others by nobody.
  constexpr unsigned kThreads = 4;
  constexpr OrderId kIds = 2'000;
  lf_order::IdIndex index;
  std::vector<std::vector<lf_order::OrderNode*>> won(kThreads), rewon(kThreads);
  run_threads(kThreads, [&](unsigned t) {
    for (OrderId i = 0; i < kIds; ++i) {
      const OrderId id = t % 2 == 0 ? i : kIds - 1 - i;
      if (auto* n = index.claim(id)) won[t].push_back(n);
    }
  });
  std::vector<int> owners(kIds, 0);
  for (const auto& w : won)
    for (const auto* n : w) ++owners[n->id];
  CHECK(std::count(owners.begin(), owners.end(), 1) == static_cast<long>(kIds));
  for (const auto& w : won)
    for (auto* n : w)
      if (n->id % 2 == 0) lf_order::IdIndex::free(n);
      else lf_order::IdIndex::placed(n);
  run_threads(kThreads, [&](unsigned t) {
    for (OrderId i = 0; i < kIds; ++i)
      if (auto* n = index.claim(t % 2 == 0 ? i : kIds - 1 - i)) rewon[t].push_back(n);
  });
  std::vector<int> again(kIds, 0);
  for (const auto& w : rewon)
    for (const auto* n : w) ++again[n->id];
  for (OrderId id = 0; id < kIds; ++id) {
    INFO("id " << id);
    CHECK(again[id] == (id % 2 == 0 ? 1 : 0));
    REQUIRE(index.find(id) != nullptr);
  }
  CHECK(index.find(kIds) == nullptr);
}
