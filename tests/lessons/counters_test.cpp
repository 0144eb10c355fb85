// counters_test.cpp: lesson 01's correct counters are exact (the racy one is tested in
// shows_bug_test.cpp, because losing updates is its job).
#include <catch2/catch.hpp>

#include "lessons/01-shared-state/counters.hpp"
#include "tests/support/findings.hpp"

using namespace cp::lessons;

TEST_CASE("l01: each counter counts one thread's increments exactly", "[unit]") {
  MutexCounter m;
  AtomicCounter a;
  PerThreadCounter p(1);
  RacyCounter r;  // with one thread there is nobody to race with
  for (int i = 0; i < 1000; ++i) {
    m.increment();
    a.increment();
    p.increment(0);
    r.increment();
  }
  CHECK(m.get() == 1000);
  CHECK(a.get() == 1000);
  CHECK(p.get() == 1000);
  CHECK(r.get() == 1000);
  CHECK(run_racy(1, 5000, false).lost() == 0);
}

TEST_CASE("l01: mutex, atomic and per-thread counters are exact under contention", "[stress]") {
  for (unsigned threads : cp::test::kStressThreadCounts) {
    INFO("threads " << threads);
    constexpr std::int64_t kEach = 20'000;
    MutexCounter m;
    AtomicCounter a;
    PerThreadCounter p(threads);
    hammer(threads, kEach, [&](unsigned t) {
      m.increment();
      a.increment();
      p.increment(t);
    });
    CHECK(m.get() == threads * kEach);
    CHECK(a.get() == threads * kEach);
    CHECK(p.get() == threads * kEach);
  }
}
