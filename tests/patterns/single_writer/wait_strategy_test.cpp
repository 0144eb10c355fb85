// wait_strategy_test.cpp: the wait strategies wait the way their `waiting` trait says.
//
// A consumer waits on an empty ring while the producer sleeps 300 ms; we measure the
// consumer thread's CPU time (CLOCK_THREAD_CPUTIME_ID) over its wall time. A blocking waiter
// must use little (< 25%); a spinning one a lot (> 30%). On a loaded 2-core machine a
// spinner may be descheduled, so we take the best of three tries for "spins" (and the best
// for "blocks", where noise can only add CPU).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <thread>

#include "patterns/single_writer/ring.hpp"
#include "patterns/single_writer/reply_slot.hpp"
#include "tests/support/trait_checks.hpp"

using namespace cp;
using namespace cp::sw;
using namespace cp::test;

namespace {

template <class Ring>
double consumer_wait_cpu_fraction() {
  Ring ring(8);
  double fraction = 0;
  std::thread consumer([&] {
    const auto wall0 = std::chrono::steady_clock::now();
    const double cpu0 = thread_cpu_seconds();
    const bool got = ring.wait_for_data();
    const double cpu = thread_cpu_seconds() - cpu0;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    fraction = got && wall > 0 ? cpu / wall : -1;
    ring.consume_batch([](int&, std::uint64_t) {}, 1);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ring.try_push(1);
  consumer.join();
  return fraction;
}

template <class Ring>
void check_ring_waiting_claim() {
  using W = typename Ring::wait_strategy;
  double best = W::waiting == Waiting::blocks ? 1e9 : -1;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const double f = consumer_wait_cpu_fraction<Ring>();
    best = W::waiting == Waiting::blocks ? std::min(best, f) : std::max(best, f);
    if (W::waiting == Waiting::blocks ? best < 0.25 : best > 0.30) break;
  }
  INFO(W::name << ": the waiting consumer used " << best * 100 << "% of a core");
  if (W::waiting == Waiting::blocks) {
    REQUIRE(best >= 0);
    REQUIRE(best < 0.25);
  } else {
    REQUIRE(best > 0.30);
  }
}

}  // namespace

TEMPLATE_TEST_CASE("wait strategies: a waiting consumer uses the CPU its trait claims", "[trait]",
                   BusySpinWaitStrategy, YieldingWaitStrategy, BlockingWaitStrategy,
                   PhasedBackoffWaitStrategy) {
  constexpr bool kSleeps = std::is_same_v<TestType, BlockingWaitStrategy> ||
                           std::is_same_v<TestType, PhasedBackoffWaitStrategy>;
  STATIC_REQUIRE(TestType::waiting == (kSleeps ? Waiting::blocks : Waiting::spins));
  SECTION("single-producer ring") { check_ring_waiting_claim<SingleProducerRing<int, TestType>>(); }
  SECTION("multi-producer ring") { check_ring_waiting_claim<MultiProducerRing<int, TestType>>(); }
}

TEST_CASE("ReplySlot: a caller waiting for a slow owner sleeps", "[trait]") {
  STATIC_REQUIRE(ReplySlot<int>::waiting == Waiting::blocks);
  ReplySlot<int> slot;
  double fraction = 1;
  for (int attempt = 0; attempt < 3 && fraction >= 0.25; ++attempt) {
    std::thread owner([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      slot.fulfil(42);
    });
    const auto wall0 = std::chrono::steady_clock::now();
    const double cpu0 = thread_cpu_seconds();
    const int r = slot.wait();
    const double cpu = thread_cpu_seconds() - cpu0;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    owner.join();
    REQUIRE(r == 42);
    fraction = std::min(fraction, cpu / wall);
  }
  INFO("the waiting caller used " << fraction * 100 << "% of a core");
  REQUIRE(fraction < 0.25);
}
