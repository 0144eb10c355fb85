// strategy_test.cpp: lesson 11's two benchmarks compute what they claim: every subscriber of a
// fan-out gets exactly the values it is owed, and counts kept per thread and merged equal
// shared counts and the sequential reference.
#include <catch2/catch.hpp>

#include <numeric>
#include <stdexcept>

#include "lessons/11-choosing-a-strategy/fan_out.hpp"
#include "lessons/11-choosing-a-strategy/shared_nothing.hpp"

using namespace cp::lessons::strategy;

TEST_CASE("l11: lossless fan-outs deliver every value to every subscriber once, in order",
          "[stress]") {
  constexpr std::uint64_t kMessages = 3000;
  constexpr std::uint64_t kSum = kMessages * (kMessages + 1) / 2;
  for (const FanOut how : {FanOut::broadcast, FanOut::mutex_queues, FanOut::spsc_rings,
                           FanOut::spsc_rings_yielding}) {
    for (const int n : {1, 2, 4, 8}) {
      INFO(to_string(how) << ", " << n << " subscribers");
      // The broadcast ring holds every value here, so nobody can fall behind it; the SPSC
      // rings are small, so the publisher waits for the slowest subscriber many times.
      const std::size_t capacity = how == FanOut::broadcast ? 4096 : 16;
      const FanOutResult r = run_fan_out(how, n, kMessages, capacity);
      REQUIRE(r.subscribers.size() == static_cast<std::size_t>(n));
      for (const SubscriberTally& t : r.subscribers) {
        CHECK(t.delivered == kMessages);
        CHECK(t.missed == 0);
        CHECK(t.sum == kSum);
        CHECK(t.in_order);
      }
    }
  }
}

TEST_CASE("l11: a small broadcast ring loses values but accounts for each, in order",
          "[stress]") {
  constexpr std::uint64_t kMessages = 5000;
  for (const int n : {1, 4}) {
    INFO(n << " subscribers");
    const FanOutResult r = run_fan_out(FanOut::broadcast, n, kMessages, 8);
    for (const SubscriberTally& t : r.subscribers) {
      CHECK(t.delivered + t.missed == kMessages);
      CHECK(t.delivered >= 8);  // after close, what the ring still holds is read
      CHECK(t.in_order);
    }
  }
}

TEST_CASE("l11: fan-out rejects bad arguments", "[unit]") {
  CHECK_THROWS_AS(run_fan_out(FanOut::mutex_queues, 0, 10, 16), std::invalid_argument);
  CHECK_THROWS(run_fan_out(FanOut::spsc_rings, 2, 10, 12));  // not a power of two
  CHECK_THROWS_AS(run_fan_out(FanOut::broadcast, 2, 10, 0), std::invalid_argument);
}

TEST_CASE("l11: merged per-thread counts equal shared counts and the sequential sum",
          "[stress]") {
  constexpr std::uint64_t kSeed = 20261207;
  constexpr std::uint64_t kEvents = 20000;
  for (const std::uint32_t keys : {1u, 64u, 1000u}) {
    for (const int threads : {1, 2, 4}) {
      INFO("seed " << kSeed << ", keys " << keys << ", threads " << threads);
      const auto streams = key_streams(threads, kEvents, keys, kSeed);
      const auto reference = reference_counts(streams, keys);
      REQUIRE(std::accumulate(reference.begin(), reference.end(), std::uint64_t{0}) ==
              kEvents * static_cast<std::uint64_t>(threads));
      for (const Sharing how :
           {Sharing::merged_at_end, Sharing::atomic_shared, Sharing::mutex_shared}) {
        INFO(to_string(how));
        CHECK(run_counting(how, streams, keys).counts == reference);
      }
    }
  }
}
