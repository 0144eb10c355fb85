// rate_limiter_test.cpp: lesson 02's sliding-window limiter, with a clock the test moves.
#include <catch2/catch.hpp>

#include <absl/synchronization/mutex.h>

#include "lessons/02-read-mostly/limiter_workload.hpp"
#include "tests/support/findings.hpp"

using namespace cp::lessons;
using namespace std::chrono_literals;

template <class MapMutex>
using ManualLimiter = SlidingWindowRateLimiter<ManualClock, MapMutex>;

TEMPLATE_TEST_CASE("l02: at most max requests per window, then the oldest frees a slot",
                   "[unit]", ExclusiveOnlyMutex, cp::SharedMutex, cp::AbslSharedMutex) {
  ManualLimiter<TestType> limiter(3, 1s);
  auto allowed = [&](std::string_view c) { return limiter.try_acquire(c).allowed; };
  CHECK(allowed("a"));  // t = 0
  limiter.clock().advance(500ms);
  CHECK(allowed("a"));  // t = 0.5 s
  CHECK(allowed("a"));
  CHECK_FALSE(allowed("a"));  // a 4th within one second
  limiter.clock().advance(499ms);
  CHECK_FALSE(allowed("a"));  // t = 0.999 s: the stamp at 0 is still inside the window
  limiter.clock().advance(1ms);
  CHECK(allowed("a"));  // t = 1 s: the stamp at 0 has left (the window is (t - 1 s, t])
  CHECK_FALSE(allowed("a"));  // sliding, not fixed: the two stamps at 0.5 s still count
  limiter.clock().advance(500ms);
  CHECK(allowed("a"));  // t = 1.5 s: both 0.5 s stamps left, two slots free
  CHECK(allowed("a"));
  CHECK_FALSE(allowed("a"));
}

TEMPLATE_TEST_CASE("l02: denied requests do not count, and clients are independent", "[unit]",
                   ExclusiveOnlyMutex, cp::SharedMutex, cp::AbslSharedMutex) {
  ManualLimiter<TestType> limiter(2, 100ms);
  CHECK(limiter.try_acquire("a").allowed);
  CHECK(limiter.try_acquire("a").allowed);
  for (int i = 0; i < 10; ++i) {  // hammering while denied does not extend the block
    limiter.clock().advance(1ms);
    CHECK_FALSE(limiter.try_acquire("a").allowed);
  }
  CHECK(limiter.try_acquire("b").allowed);  // b has its own window
  limiter.clock().advance(90ms);            // t = 100 ms
  CHECK(limiter.try_acquire("a").allowed);
  CHECK(limiter.try_acquire("a").allowed);
  CHECK(limiter.clients() == 2);
  const auto d = limiter.try_acquire("c");
  CHECK(d.allowed);
  CHECK(d.at == TimePoint(100ms));  // the decision reports the clock it used
}

TEST_CASE("l02: a limiter needs a positive limit and window", "[unit]") {
  CHECK_THROWS_AS(ManualLimiter<cp::SharedMutex>(0, 1s), std::invalid_argument);
  CHECK_THROWS_AS(ManualLimiter<cp::SharedMutex>(1, 0s), std::invalid_argument);
}

TEST_CASE("l02: max_in_any_window counts the fullest window", "[unit]") {
  auto at = [](std::initializer_list<int> ms) {
    std::vector<TimePoint> v;
    for (int m : ms) v.push_back(TimePoint(std::chrono::milliseconds(m)));
    return v;
  };
  CHECK(max_in_any_window({}, 10ms) == 0);
  CHECK(max_in_any_window(at({0, 5, 9, 10, 19}), 10ms) == 3);  // (0, 10] holds 5, 9, 10
  CHECK(max_in_any_window(at({0, 10, 20}), 10ms) == 1);
  CHECK(max_in_any_window(at({7, 7, 7}), 1ms) == 3);
}

// With the clock frozen, every client gets exactly `max` requests through, however many
// threads ask at once: a deterministic concurrent test.
TEMPLATE_TEST_CASE("l02: concurrent clients get exactly max per window", "[stress]",
                   ExclusiveOnlyMutex, cp::SharedMutex, cp::AbslSharedMutex) {
  const auto names = client_names(5);
  for (unsigned threads : cp::test::kStressThreadCounts) {
    INFO("threads " << threads);
    ManualLimiter<TestType> limiter(50, 1s);
    for (int window = 1; window <= 3; ++window) {
      const auto r = run_clients(limiter, names, threads, 2'000, cp::test::seed() + threads);
      for (std::size_t c = 0; c < names.size(); ++c) {
        INFO("client " << names[c] << ", window " << window);
        CHECK(r.clients[c].allowed == 50);
      }
      CHECK(r.requests() == threads * 2'000);
      limiter.clock().advance(1s);
    }
    CHECK(limiter.clients() == names.size());
  }
}

// With the real clock: whatever the timing, no window ever holds more than `max`.
TEMPLATE_TEST_CASE("l02: with a real clock no client exceeds the limit", "[stress]",
                   ExclusiveOnlyMutex, cp::SharedMutex, cp::AbslSharedMutex) {
  const auto names = client_names(6);
  for (unsigned threads : cp::test::kStressThreadCounts) {
    INFO("threads " << threads);
    SlidingWindowRateLimiter<SteadyClock, TestType> limiter(20, 2ms);
    const auto r = run_clients(limiter, names, threads, 5'000, cp::test::seed());
    for (std::size_t c = 0; c < names.size(); ++c) {
      INFO("client " << names[c]);
      CHECK(r.clients[c].allowed > 0);
      CHECK(max_in_any_window(r.clients[c].allowed_at, limiter.window()) <= 20);
    }
  }
}
