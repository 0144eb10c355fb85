// shows_bug_test.cpp: the lessons' bug demos really show their bugs, every time.
// Tagged [shows-bug]: the sanitizers would (rightly) report these bugs, so they do not run
// these tests; everything else about the lessons is tested in lessons_test.
#include <catch2/catch.hpp>

#include "lessons/01-shared-state/counters.hpp"
#include "lessons/03-lock-pitfalls/deadlock.hpp"

using namespace cp::lessons;

// A loss needs two increments to overlap. Tight loops on 4 threads overlap constantly when
// the threads run on two cores; on a machine so loaded that our threads only ever run one at
// a time, the "widened" rounds yield between load and store, so the scheduler switches
// threads inside the window. Twenty rounds of either kind without a single loss would mean
// the counter is not racy any more.
TEST_CASE("l01: the racy counter loses updates", "[shows-bug]") {
  LostUpdates seen;
  int round = 0;
  for (; round < 20 && seen.lost() == 0; ++round) {
    const bool widen = round % 2 == 1;
    seen = run_racy(4, widen ? 20'000 : 200'000, widen);
  }
  INFO("after " << round << " rounds: expected " << seen.expected << ", counted " << seen.counted);
  CHECK(seen.lost() > 0);
  CHECK(seen.counted > 0);
  CHECK(seen.counted < seen.expected);
}

// The latches make the deadlock certain: both threads hold their first lock before either
// asks for its second, and neither lets go before both have given up.
TEST_CASE("l03: opposite lock orders deadlock (detected), then one global order completes",
          "[shows-bug]") {
  Account a(1, "A", 1000), b(2, "B", 1000);
  const auto attempts = demonstrate_deadlock(a, b, std::chrono::milliseconds(50));
  REQUIRE(attempts.size() == 2);
  CHECK(attempts[0].held == "A");
  CHECK(attempts[0].wanted == "B");
  CHECK(attempts[1].held == "B");
  CHECK(attempts[1].wanted == "A");
  CHECK_FALSE(attempts[0].got_both);
  CHECK_FALSE(attempts[1].got_both);
  CHECK(attempts[0].waited >= std::chrono::milliseconds(50));
  CHECK(a.read_balance() == 1000);  // backed off: nothing moved
  CHECK(b.read_balance() == 1000);

  run_transfers_in_global_order(a, b, 10'000, 10);  // the same accounts, now cured
  CHECK(a.read_balance() + b.read_balance() == 2000);
}
