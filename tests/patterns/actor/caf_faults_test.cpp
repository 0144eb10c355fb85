// caf_faults_test.cpp: the CAF peer rows' runtime (CafPool, comparisons/common/caf_pool.hpp)
// when a handler throws. The state is the counter workload's CounterShard, as in the "caf"
// counter row, with the same injected fault as actor_faults_test.cpp: a flag in the message,
// thrown before the state is touched.
//
// CAF 0.17 on its own would let the exception reach scheduled_actor's default exception
// handler, which prints "*** unhandled exception" and makes the actor quit (sec::runtime_error):
// the asker's promise dies with the message (broken_promise), and so does every later ask and
// the shard's state. CafShardActor catches inside the handler instead and the asker gets
// ActorError(handler_failed) naming the exception's text, as from our runtime with
// FailureDirective::resume. These tests pin that down:
//
//   - an ask whose handler throws gets that error, the actor keeps serving with its state
//     intact (exact counters after further adds), and a failed tell changes nothing either;
//   - the pool's destructor (exit behind the queued mail) returns and has applied every
//     accepted add, faults or not;
//   - askers on several threads with seeded faults: each failed ask throws, every other gets
//     its reply, and the counters equal the sum of the deltas that did not fail.
//
// CAF's headers take seconds to compile: this is the only file of actor_tests that includes them.
#include <catch2/catch.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "comparisons/common/caf_pool.hpp"
#include "comparisons/common/random.hpp"
#include "comparisons/counter/actor_counter.hpp"
#include "tests/patterns/actor/flaky_shard.hpp"
#include "tests/support/findings.hpp"

using namespace cp;
using namespace cp::test;

namespace {

constexpr const char* kWho = "caf faults test";

using Pool = CafPool<FlakyShard>;

FlakyShard::message add(std::uint32_t slot, std::int64_t delta, bool fail = false) {
  return {{CounterShard::Op::add, slot, delta}, fail};
}
FlakyShard::message get(std::uint32_t slot) { return {{CounterShard::Op::get, slot, 0}, false}; }
FlakyShard::message total() { return {{CounterShard::Op::total, 0, 0}, false}; }

void spawn_shards(Pool& pool, std::vector<std::int64_t>& sinks, std::uint32_t slots) {
  for (auto& sink : sinks)
    pool.spawn(FlakyShard{CounterShard{std::vector<std::int64_t>(slots, 0), 0}, &sink});
}

// What an ask did: its reply, or the text of what it threw (and whether that was the fault:
// handler_failed, naming the injected exception, not a timeout or "stopped").
struct AskOutcome {
  bool replied = false;
  CounterRead reply{};
  bool threw_fault = false;
  std::string what;
};

AskOutcome ask(Pool& pool, std::size_t actor, FlakyShard::message m) {
  AskOutcome o;
  try {
    o.reply = pool.ask(actor, m, kWho);
    o.replied = true;
  } catch (const actor::ActorError& e) {
    o.what = e.what();
    o.threw_fault = e.error == actor::AskError::handler_failed &&
                    o.what.find("injected fault") != std::string::npos;
  }
  return o;
}

}  // namespace

TEST_CASE("caf peer: a throwing handler fails only its own ask, the actor keeps its state and serves",
          "[unit]") {
  std::vector<std::int64_t> sinks(1, 0);
  {
    Pool pool;
    spawn_shards(pool, sinks, 2);
    REQUIRE(ask(pool, 0, add(0, 5)).replied);
    REQUIRE(ask(pool, 0, add(1, 7)).replied);

    const AskOutcome failed = ask(pool, 0, add(0, 100, true));
    INFO("the failed ask: " << (failed.replied ? "a reply" : failed.what));
    CHECK_FALSE(failed.replied);
    CHECK(failed.threw_fault);  // handler_failed, naming the injected exception

    pool.tell(0, add(1, 1000, true));  // a failing tell: no one to tell, the actor goes on

    // Still serving, and neither failed add left a trace.
    const AskOutcome a0 = ask(pool, 0, add(0, 3));
    CHECK(a0.replied);
    CHECK(a0.reply.error == CounterError::ok);
    const AskOutcome g0 = ask(pool, 0, get(0)), g1 = ask(pool, 0, get(1)), t = ask(pool, 0, total());
    CHECK(g0.replied);
    CHECK(g0.reply.value == 8);
    CHECK(g1.replied);
    CHECK(g1.reply.value == 7);
    CHECK(t.replied);
    CHECK(t.reply.value == 15);

    // Adds queued behind another fault, then the destructor: it must return (the ctest timeout
    // is the guard against a hang) with every accepted add applied.
    pool.tell(0, add(0, 10));
    pool.tell(0, add(1, 1, true));
    pool.tell(0, add(1, 20));
  }
  CHECK(sinks[0] == 15 + 10 + 20);
}

TEST_CASE("caf peer: askers on several threads with seeded faults keep exact counts", "[stress]") {
  constexpr std::size_t kActors = 4;
  constexpr std::uint32_t kSlots = 8;
  const auto s = seed();
  for (unsigned threads : kStressThreadCounts) {
    INFO("seed " << s << ", threads " << threads);
    const std::uint64_t per_thread = 4'000 / kSanitizerSlowdown;
    std::vector<std::int64_t> sinks(kActors, 0);
    // Per thread: asks that did not end as expected, and the deltas that should count.
    std::vector<std::uint64_t> wrong(threads, 0);
    std::vector<std::vector<std::int64_t>> want(threads, std::vector<std::int64_t>(kActors * kSlots, 0));
    std::vector<std::string> first_wrong(threads);
    std::vector<std::int64_t> got(kActors * kSlots, 0);
    {
      Pool pool;
      spawn_shards(pool, sinks, kSlots);
      run_threads(threads, [&](unsigned t) {
        Xoshiro256 rng(s * 1'000'003 + t);
        for (std::uint64_t i = 0; i < per_thread; ++i) {
          const auto key = static_cast<std::uint32_t>(rng.below(kActors * kSlots));
          const auto delta = static_cast<std::int64_t>(rng.below(1000)) + 1;
          const bool fail = rng.percent(5);
          if (!fail) want[t][key] += delta;
          const AskOutcome o = ask(pool, key % kActors, add(key / kActors, delta, fail));
          const bool as_expected = fail ? o.threw_fault : o.replied && o.reply.error == CounterError::ok;
          if (!as_expected && wrong[t]++ == 0) first_wrong[t] = o.replied ? "a reply" : o.what;
        }
      });
      for (std::uint32_t k = 0; k < kActors * kSlots; ++k) {
        const AskOutcome o = ask(pool, k % kActors, get(k / kActors));
        got[k] = o.replied ? o.reply.value : -1;
      }
    }
    for (unsigned t = 0; t < threads; ++t) {
      INFO("thread " << t << ", first unexpected outcome: " << first_wrong[t]);
      CHECK(wrong[t] == 0);
    }
    std::int64_t want_total = 0;
    for (std::uint32_t k = 0; k < kActors * kSlots; ++k) {
      std::int64_t expect = 0;
      for (unsigned t = 0; t < threads; ++t) expect += want[t][k];
      want_total += expect;
      INFO("key " << k);
      CHECK(got[k] == expect);
    }
    std::int64_t sink_total = 0;
    for (const std::int64_t v : sinks) sink_total += v;
    CHECK(sink_total == want_total);
  }
}
