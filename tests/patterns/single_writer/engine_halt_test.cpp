// engine_halt_test.cpp: a handler that throws halts the engine (fail-stop): the failed call
// and every later one are answered "no reply", nobody hangs, failure() names the sequence, and
// the state is never touched after the throw.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "patterns/single_writer/single_writer.hpp"
#include "tests/support/findings.hpp"

using namespace cp::sw;
using namespace cp::test;

namespace {

// Adds its command to a sum; throws on the poisoned value, after changing the state (the
// half-applied command the halt protects readers from).
struct Poisonable {
  std::int64_t sum = 0;
  std::int64_t applied = 0;
  std::int64_t poison = -1;

  std::int64_t apply(const std::int64_t& x, std::uint64_t) {
    sum += x;
    if (x == poison) throw std::runtime_error("poisoned command");
    ++applied;
    return sum;
  }
};

using TestEngine = Engine<Poisonable, std::int64_t, MultiProducerRing, BlockingWaitStrategy>;

}  // namespace

TEST_CASE("engine halt: the throwing call and every later one get no reply", "[unit]") {
  TestEngine engine(64, Poisonable{.poison = 7});
  REQUIRE(engine.call(1) == std::optional<std::int64_t>(1));
  REQUIRE(engine.call(2) == std::optional<std::int64_t>(3));
  CHECK_FALSE(engine.halted());
  CHECK(engine.call(7) == std::nullopt);  // threw inside apply
  CHECK(engine.halted());
  CHECK(engine.call(1) == std::nullopt);  // refused: the engine applies nothing more
  CHECK(engine.submit(1, OverloadPolicy::block) == SubmitStatus::stopped);
  const auto failure = engine.failure();
  REQUIRE(failure.has_value());
  CHECK(failure->sequence == 2);
  CHECK(failure->what == "poisoned command");
  engine.stop();
  const Poisonable& s = engine.state_after_stop();
  CHECK(s.applied == 2);  // nothing after the throw ran
  CHECK(s.sum == 1 + 2 + 7);  // the half-applied command is visible only here, after stop
  const auto c = engine.counters();
  CHECK(c.balanced());
}

TEST_CASE("engine halt: a pipelined window gets the replies before the failure, then an error",
          "[unit]") {
  TestEngine engine(64, Poisonable{.poison = 4});
  TestEngine::reply_window window(16);
  for (std::int64_t x : {1, 2, 3, 4, 5, 6}) REQUIRE(engine.submit_to(x, window) == SubmitStatus::accepted);
  CHECK(window.take() == 1);
  CHECK(window.take() == 3);
  CHECK(window.take() == 6);
  CHECK_THROWS_AS(window.take(), EngineStopped);  // 4 threw
  CHECK_THROWS_AS(window.take(), EngineStopped);  // 5 and 6 were never applied
  CHECK_THROWS_AS(window.take(), EngineStopped);
  CHECK(window.in_flight() == 0);
  std::int64_t out = 0;
  CHECK_FALSE(window.try_take(out));  // nothing in flight any more
  CHECK(engine.submit_to(1, window) == SubmitStatus::stopped);
}

TEST_CASE("engine halt: callers on several threads all return when one command throws",
          "[stress]") {
  // 4 callers, 2,000 calls each; one call in the middle throws. Every call must return (a
  // hang fails the test by its timeout); replies before the halt are sums, after it nullopt.
  constexpr int kThreads = 4, kCalls = 2'000;
  TestEngine engine(256, Poisonable{.poison = -5});
  std::vector<int> answered(kThreads, 0), refused(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        const std::int64_t x = (t == 0 && i == kCalls / 2) ? -5 : 1;
        if (engine.call(x)) ++answered[t];
        else ++refused[t];
      }
    });
  for (auto& th : threads) th.join();
  int answered_total = 0, refused_total = 0;
  for (int t = 0; t < kThreads; ++t) {
    answered_total += answered[t];
    refused_total += refused[t];
  }
  CHECK(answered_total + refused_total == kThreads * kCalls);
  CHECK(refused_total >= kCalls / 2);  // at least thread 0's calls from the poison on
  REQUIRE(engine.failure().has_value());
  engine.stop();
  CHECK(engine.state_after_stop().applied == answered_total);
}
