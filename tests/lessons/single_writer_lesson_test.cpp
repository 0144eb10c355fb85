// single_writer_lesson_test.cpp: lesson 05's claims, checked with the code its examples run.
//
//   - backpressure: under block, reject and drop, every offer has exactly one outcome and
//     every accepted command is applied exactly once, in sequence order (lost = 0); block
//     accepts everything; reject and drop really refuse under overload.
//   - crash recovery: a durable order engine that crashes (no shutdown, a torn journal tail)
//     and recovers from snapshot + journal ends in the same state, with the same replies, as
//     an uninterrupted run; for several seeds and crash points, with and without a snapshot.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>

#include "comparisons/common/random.hpp"
#include "lessons/05-single-writer-engine/backpressure.hpp"
#include "lessons/05-single-writer-engine/crash_recovery.hpp"
#include "tests/support/findings.hpp"

using namespace cp::lessons::l05;
namespace sw = cp::sw;

namespace {

void check_accounting(const BackpressureResult& r) {
  INFO("offered " << r.counters.offered << " accepted " << r.counters.accepted << " rejected "
                  << r.counters.rejected << " stopped "
                  << r.counters.stopped << " processed " << r.processed << " applied "
                  << r.owner.applied);
  CHECK(r.counters.balanced());
  CHECK(r.counters.offered == r.submitted);
  CHECK(r.counters.stopped == 0);  // nobody submits after stop()
  CHECK(r.lost() == 0);
  CHECK(r.owner.applied == r.processed);
  CHECK(r.owner.sum == r.accepted_sum);  // the accepted commands, not just as many of them
  CHECK(r.owner.in_order);
  CHECK(r.ok());
}

}  // namespace

TEST_CASE("l05 backpressure: block accepts everything and loses nothing", "[stress]") {
  const BackpressureConfig cfg{.producers = 3, .per_producer = 1'000, .capacity = 8,
                               .work = std::chrono::microseconds(2)};
  const BackpressureResult r = run_backpressure(sw::OverloadPolicy::block, cfg);
  check_accounting(r);
  CHECK(r.counters.accepted == r.submitted);
  CHECK(r.counters.rejected == 0);
}

TEST_CASE("l05 backpressure: reject refuses under overload and loses nothing", "[stress]") {
  // A slow owner (50 us per command) and a tiny queue: 3 producers offering 1,500 commands
  // as fast as they can must overflow 8 slots (the whole run takes the owner ~75 ms at most
  // if it accepted everything; producers offer in far less).
  const BackpressureConfig cfg{.producers = 3, .per_producer = 500, .capacity = 8,
                               .work = std::chrono::microseconds(50)};
  const BackpressureResult r = run_backpressure(sw::OverloadPolicy::reject, cfg);
  check_accounting(r);
  CHECK(r.counters.accepted >= 1);
  CHECK(r.counters.rejected > 0);
}

TEST_CASE("l05 backpressure: one producer, a queue that never fills, every policy", "[unit]") {
  // No overload: the policy must not matter; everything is accepted and applied in order.
  const BackpressureConfig cfg{.producers = 1, .per_producer = 100, .capacity = 256,
                               .work = std::chrono::microseconds(0)};
  for (const auto policy :
       {sw::OverloadPolicy::block, sw::OverloadPolicy::reject}) {
    const BackpressureResult r = run_backpressure(policy, cfg);
    check_accounting(r);
    CHECK(r.counters.accepted == 100);
    CHECK(r.owner.last_sequence == 99);
  }
}

TEST_CASE("l05 crash recovery: the recovered run ends in the uninterrupted run's state",
          "[stress]") {
  const std::uint64_t s = cp::test::seed();
  for (std::uint64_t round = 0; round < 3; ++round) {
    const std::uint64_t seed = s + round;
    INFO("seed " << seed << " (rerun with CP_SEED=" << s << ")");
    const OrderScript script = make_order_script(seed, 1'500);
    const UninterruptedResult plain = run_uninterrupted(script);
    CHECK(plain.replies_match);
    CHECK(plain.hash == script.final_hash);
    cp::Xoshiro256 rng(seed ^ 0xc7a5);
    // Crash points: early (before any snapshot), seeded, and at the very end.
    for (const std::size_t crash_at :
         {std::size_t{50}, static_cast<std::size_t>(rng.below(script.commands.size() + 1)),
          script.commands.size()}) {
      INFO("crash after " << crash_at << " commands");
      TempDir dir("l05_test_");
      const CrashResult r = run_with_crash(script, crash_at, 200, dir.path());
      INFO(r.report.summary());
      CHECK(r.report.journal.stop_reason == sw::StopReason::truncated_tail);
      CHECK(r.report.next_sequence == r.journaled + 1);
      if (r.journaled >= 200) CHECK(r.report.snapshot_sequence.has_value());
      if (r.journaled < 200) CHECK_FALSE(r.report.snapshot_sequence.has_value());
      CHECK(r.recovered_prefix_matches);
      CHECK(r.replies_match);
      CHECK(r.hash == plain.hash);
      CHECK(r.ok(script));
    }
  }
}
