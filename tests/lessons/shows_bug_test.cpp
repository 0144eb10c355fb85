// shows_bug_test.cpp: the lessons' bug demos really show their bugs, every time.
// Tagged [shows-bug]: the sanitizers would (rightly) report these bugs, so they do not run
// these tests; everything else about the lessons is tested in lessons_test.
#include <catch2/catch.hpp>

#include <string>

#include "lessons/01-shared-state/counters.hpp"
#include "lessons/03-lock-pitfalls/deadlock.hpp"
#include "tests/support/run_command.hpp"

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

#if defined(CP_L01B_MP_TSAN_EXE)
// Lesson 01b: the message-passing demo built with ThreadSanitizer (in every build but asan),
// run as a child. With a relaxed flag the payload's write and read are unordered: a data race
// that TSan reports on the first round. With release/acquire the same program is clean.
TEST_CASE("l01b: ThreadSanitizer reports the relaxed flag's race on the payload (child)",
          "[shows-bug]") {
  const std::string exe = "TSAN_OPTIONS=exitcode=66 " + std::string(CP_L01B_MP_TSAN_EXE);
  const auto [status, output] = cp::test::run_command(exe + " --order=relaxed --rounds=20 2>&1");
  INFO("relaxed: exit status " << status << ", output:\n" << output);
  CHECK(status == 66);
  CHECK(output.find("WARNING: ThreadSanitizer: data race") != std::string::npos);
  CHECK(output.find("read_after_flag") != std::string::npos);  // the reader's read...
  CHECK(output.find("publish") != std::string::npos);          // ...and the writer's write

  const auto [clean_status, clean] =
      cp::test::run_command(exe + " --order=release-acquire --rounds=20 2>&1");
  INFO("release-acquire: exit status " << clean_status << ", output:\n" << clean);
  CHECK(clean_status == 0);
  CHECK(clean.find("ThreadSanitizer") == std::string::npos);
  CHECK(clean.find("0 stale payloads") != std::string::npos);
}
#endif
