// engine_halt_test.cpp: a handler that throws halts the engine (fail-stop): the failed call
// and every later one are answered "no reply", nobody hangs, failure() names the sequence, and
// the state is never touched after the throw.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

#include "comparisons/common/random.hpp"
#include "patterns/single_writer/single_writer.hpp"
#include "tests/support/findings.hpp"

using namespace cp;
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

namespace {

// ---- seeded throws from every callable of the State the engine calls -----------------------

enum class Site : int { apply = 0, end_batch = 1, holds_replies = 2 };
constexpr std::string_view kStep[] = {"apply", "end_batch", "holds_replies_until_end_batch"};

// Faulty: replies with the command's sequence. Its `plan` callable throws on its `at`-th call;
// every later call into the state is counted (the owner must make none). end_batch makes the
// commands applied so far "durable"; with `hold`, replies wait for it.
struct Faulty {
  Site site = Site::apply;
  std::uint64_t at = 0;
  bool hold = false;
  std::atomic<std::uint64_t>* durable = nullptr;  // written in end_batch, read by clients
  mutable std::uint64_t calls[3] = {0, 0, 0};
  mutable bool thrown = false;
  mutable std::uint64_t calls_after_throw = 0;
  std::uint64_t applied = 0;

  void enter(Site s) const {
    if (thrown) ++calls_after_throw;
    if (s == site && calls[static_cast<int>(s)]++ == at) {
      thrown = true;
      throw std::runtime_error("planned throw");
    }
  }
  std::uint64_t apply(const std::int64_t&, std::uint64_t seq) {
    enter(Site::apply);
    ++applied;
    return seq;
  }
  void end_batch() {
    enter(Site::end_batch);
    // release: pairs with the clients' acquire load after a reply.
    durable->store(applied, std::memory_order_release);
  }
  bool holds_replies_until_end_batch() const {
    enter(Site::holds_replies);
    return hold;
  }
};

// One seeded run: two callers and one pipelining producer, kOps commands each, while `site`
// throws once. Declared outcome: the engine halts at that step; every command is answered
// (a reply, or nullopt / EngineStopped) and nobody hangs; once a client is refused it is
// refused ever after; with held replies no reply precedes its batch's end_batch; the counts
// balance; the state is never called after the throw.
Findings check_throw(std::uint64_t seed, Site site, bool hold) {
  constexpr unsigned kCallers = 2;
  constexpr std::uint64_t kOps = 200;
  Findings f;
  Xoshiro256 rng(seed);
  std::atomic<std::uint64_t> durable{0};
  const std::uint64_t at = site == Site::apply ? rng.below(kOps) : rng.below(16);
  using E = Engine<Faulty, std::int64_t, MultiProducerRing, YieldingWaitStrategy>;
  E engine(16, Faulty{.site = site, .at = at, .hold = hold, .durable = &durable}, 8);
  std::vector<Findings> per(kCallers + 1);
  std::vector<std::uint64_t> answered(kCallers + 1, 0);
  run_threads(kCallers + 1, [&](unsigned c) {
    bool refused = false;
    std::uint64_t last = 0;
    auto got = [&](std::uint64_t seq) {
      if (refused) per[c].fail("client ", c, " got a reply after a refusal");
      if (answered[c] > 0 && seq <= last) per[c].fail("client ", c, " sequence went back");
      // acquire: pairs with end_batch's release store.
      if (hold && durable.load(std::memory_order_acquire) <= seq)
        per[c].fail("client ", c, " reply ", seq, " before its end_batch");
      last = seq;
      ++answered[c];
    };
    if (c < kCallers) {
      for (std::uint64_t i = 0; i < kOps; ++i) {
        if (const auto r = engine.call(1)) got(*r);
        else refused = true;
      }
      return;
    }
    E::reply_window w(4);
    std::uint64_t sent = 0, stopped = 0;
    auto take = [&] {
      try {
        got(w.take());
      } catch (const EngineStopped&) {
        refused = true;
        ++stopped;
      }
    };
    for (std::uint64_t i = 0; i < kOps; ++i) {
      if (!w.has_room()) take();
      if (engine.submit_to(1, w) == SubmitStatus::accepted) ++sent;  // the refusal shows in take()
    }
    while (w.in_flight() > 0) take();
    if (answered[c] + stopped != sent) per[c].fail("window answered ", answered[c] + stopped, " of ", sent);
  });
  engine.stop();
  for (auto& p : per) f.merge(p);
  const auto failure = engine.failure();
  if (!engine.halted() || !failure) {
    f.fail("no halt (throw planned at call ", at, ")");
    return f;
  }
  if (failure->step != kStep[static_cast<int>(site)]) f.fail("halted at step ", failure->step);
  if (failure->what != "planned throw") f.fail("failure says ", failure->what);
  const Faulty& s = engine.state_after_stop();
  if (s.calls_after_throw != 0) f.fail("the state was called ", s.calls_after_throw, " times after the throw");
  std::uint64_t total = 0;
  for (auto a : answered) total += a;
  const std::uint64_t expected = hold ? durable.load() : s.applied;
  if (total != expected) f.fail("replies ", total, ", expected ", expected, " (applied ", s.applied, ")");
  if (!engine.counters().balanced()) f.fail("counters not balanced");
  return f;
}

}  // namespace

TEST_CASE("engine halt: a throw from apply, end_batch or holds_replies halts, answers everyone, "
          "and the state is never called again", "[interleaving]") {
  const auto s = seed();
  for (Site site : {Site::apply, Site::end_batch, Site::holds_replies})
    for (bool hold : {false, true})
      for (std::uint64_t k = 0; k < 3; ++k) {
        const std::uint64_t run = derive_seed(s, static_cast<std::uint64_t>(site) * 10 + hold * 3 + k);
        INFO("step " << kStep[static_cast<int>(site)] << ", hold " << hold);
        CP_REQUIRE_CLEAN(check_throw(run, site, hold), run);
      }
}
