// actor_faults_test.cpp: the workload actors' state (CounterShard, comparisons/counter/
// actor_counter.hpp) on the pool and mailboxes the actor designs use (actor_options(): bounded,
// overload block), under faults. actor_test.cpp covers the same properties on a probe actor
// with unbounded mailboxes; here the state is a workload's and the mailboxes are bounded, so
// senders also block for room while failures and shutdowns happen.
//
//   - handlers that throw at random (seeded) while senders tell and ask: every counter equals
//     the sum of the deltas that were not failed, and sent = handled + failed-and-reported;
//   - shutdown while senders still send into full mailboxes: no hang, and with drain the
//     counters equal the sum of exactly the accepted deltas.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include "comparisons/common/actor_pool.hpp"
#include "comparisons/common/random.hpp"
#include "comparisons/counter/actor_counter.hpp"
#include "tests/patterns/actor/flaky_shard.hpp"
#include "tests/support/findings.hpp"

using namespace cp;
using namespace cp::actor;
using namespace cp::test;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kScale = kSanitizerSlowdown;  // fewer messages under the sanitizers

constexpr unsigned kActors = 4;
constexpr std::uint32_t kKeys = 32;  // key k: actor k % kActors, slot k / kActors

struct Shards {
  ActorSystem sys{actor_pool_config()};
  std::vector<ActorRef<FlakyShard>> actors;
  std::vector<std::int64_t> sinks = std::vector<std::int64_t>(kActors, 0);  // one per actor
  std::atomic<std::uint64_t> reported{0};  // on_failure calls

  Shards() {
    ActorOptions o = actor_options();  // the workload designs' mailbox: bounded, block
    o.supervision.directive = FailureDirective::resume;
    o.supervision.max_failures = 1'000'000;  // this test counts failures, not storms
    // relaxed: a tally read after shutdown() has joined the workers.
    o.supervision.on_failure = [this](const FailureReport&) {
      reported.fetch_add(1, std::memory_order_relaxed);
    };
    for (unsigned a = 0; a < kActors; ++a) {
      std::int64_t* sink = &sinks[a];
      actors.push_back(sys.spawn<FlakyShard>(
          [sink] {
            return FlakyShard{CounterShard{std::vector<std::int64_t>(kKeys / kActors, 0), 0}, sink};
          },
          o));
    }
  }

  ActorRef<FlakyShard>& of(std::uint32_t key) { return actors[key % kActors]; }
  static CounterShard::message add(std::uint32_t key, std::int64_t delta) {
    return {CounterShard::Op::add, key / kActors, delta};
  }
};

}  // namespace

TEST_CASE("fault injection: counter shards that throw at random keep exact counts",
          "[stress]") {
  const auto s = seed();
  for (unsigned threads : kStressThreadCounts) {
    INFO("seed " << s << ", threads " << threads);
    Shards shards;
    const std::uint64_t per_thread = 8'000 / kScale;
    // Per thread: what it sent, what should fail, the deltas that should count, per key.
    std::vector<std::uint64_t> sent(threads, 0), to_fail(threads, 0), wrong(threads, 0);
    std::vector<std::vector<std::int64_t>> want(threads, std::vector<std::int64_t>(kKeys, 0));
    run_threads(threads, [&](unsigned t) {
      Xoshiro256 rng(s * 1'000'003 + t);
      for (std::uint64_t i = 0; i < per_thread; ++i) {
        const auto key = static_cast<std::uint32_t>(rng.below(kKeys));
        const auto delta = static_cast<std::int64_t>(rng.below(1000)) + 1;
        const bool fail = rng.percent(5);
        const FlakyShard::message m{Shards::add(key, delta), fail};
        ++sent[t];
        if (fail) ++to_fail[t];
        else want[t][key] += delta;
        if (rng.percent(20)) {
          const auto r = shards.of(key).ask(m, 60s);
          const bool as_expected = fail ? r.error == AskError::handler_failed
                                        : r.ok() && r.value->error == CounterError::ok;
          if (!as_expected) ++wrong[t];
        } else if (shards.of(key).tell(m) != SubmitStatus::accepted) {
          ++wrong[t];
        }
      }
    });
    // Every key read through its actor: the failed adds left no trace.
    std::uint64_t reads = 0, bad_reads = 0;
    for (std::uint32_t k = 0; k < kKeys; ++k) {
      std::int64_t expect = 0;
      for (unsigned t = 0; t < threads; ++t) expect += want[t][k];
      const auto r = shards.of(k).ask({{CounterShard::Op::get, k / kActors, 0}, false}, 60s);
      ++reads;
      if (!r.ok() || r.value->value != expect) {
        ++bad_reads;
        UNSCOPED_INFO("key " << k << ": want " << expect << ", got "
                             << (r.ok() ? std::to_string(r.value->value) : "no reply"));
      }
    }
    shards.sys.shutdown(StopPolicy::drain);
    std::uint64_t total_sent = 0, total_fail = 0, handled = 0, failed = 0;
    for (unsigned t = 0; t < threads; ++t) {
      total_sent += sent[t];
      total_fail += to_fail[t];
      CHECK(wrong[t] == 0);
    }
    for (auto& a : shards.actors) {
      const ActorStats st = a.stats();
      CHECK(st.balanced());
      CHECK(st.discarded == 0);
      handled += st.handled;
      failed += st.failed;
    }
    CHECK(bad_reads == 0);
    CHECK(total_sent + reads == handled + failed);  // nothing lost, nothing twice
    CHECK(failed == total_fail);
    CHECK(shards.reported.load(std::memory_order_relaxed) == total_fail);  // every one reported
  }
}

TEST_CASE("shutdown while senders fill bounded mailboxes: no hang, accepted deltas all counted",
          "[stress]") {
  const auto s = seed();
  for (StopPolicy policy : {StopPolicy::drain, StopPolicy::discard}) {
    const bool drain = policy == StopPolicy::drain;
    INFO("seed " << s << ", policy " << (drain ? "drain" : "discard"));
    Shards shards;
    constexpr unsigned kSenders = 4;
    // Per sender: the deltas of accepted tells (drain counts them all), and what was refused.
    std::vector<std::int64_t> accepted_sum(kSenders, 0);
    std::vector<std::uint64_t> accepted(kSenders, 0), other(kSenders, 0);
    std::atomic<std::uint64_t> progress{0};
    std::vector<std::thread> senders;
    for (unsigned t = 0; t < kSenders; ++t)
      senders.emplace_back([&, t] {
        Xoshiro256 rng(s * 7 + t);
        for (;;) {
          const auto key = static_cast<std::uint32_t>(rng.below(kKeys));
          const auto delta = static_cast<std::int64_t>(rng.below(1000)) + 1;
          // Tells only: they outrun the actors, so the mailboxes fill and senders block.
          const SubmitStatus st = shards.of(key).tell({Shards::add(key, delta), false});
          if (st == SubmitStatus::stopped) break;
          if (st != SubmitStatus::accepted) {
            ++other[t];
            break;
          }
          ++accepted[t];
          accepted_sum[t] += delta;
          // relaxed: a progress count for the main thread to wait on, nothing more.
          progress.fetch_add(1, std::memory_order_relaxed);
        }
      });
    // Shut down mid-stream: after some thousands of accepted tells, senders still going.
    while (progress.load(std::memory_order_relaxed) < 4000 / kScale) std::this_thread::yield();
    shards.sys.shutdown(policy);  // must return although senders are still sending
    for (auto& t : senders) t.join();
    std::uint64_t total_accepted = 0, handled = 0, discarded = 0, stats_accepted = 0;
    std::int64_t want_sum = 0, got_sum = 0;
    for (unsigned t = 0; t < kSenders; ++t) {
      CHECK(other[t] == 0);
      total_accepted += accepted[t];
      want_sum += accepted_sum[t];
    }
    for (unsigned a = 0; a < kActors; ++a) {
      const ActorStats st = shards.actors[a].stats();
      CHECK(st.balanced());
      CHECK(st.failed == 0);
      handled += st.handled;
      discarded += st.discarded;
      stats_accepted += st.accepted;
      got_sum += shards.sinks[a];
    }
    CHECK(stats_accepted == total_accepted);  // a tell that said accepted was accepted
    CHECK(handled + discarded == total_accepted);
    if (drain) {
      CHECK(discarded == 0);
      CHECK(got_sum == want_sum);  // every accepted delta applied, none refused applied
    } else {
      CHECK(got_sum <= want_sum);  // deltas are positive: discarded ones are missing
    }
  }
}
