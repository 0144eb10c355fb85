// wait_strategy_test.cpp: the wait strategies wait the way their `waiting` trait says.
//
// A consumer waits on an empty ring while the producer sleeps 300 ms; we count how often the
// consumer thread slept in the kernel meanwhile (voluntary context switches, getrusage
// RUSAGE_THREAD). A blocking waiter sleeps at least once. A spinning one never does, even one
// that yields: sched_yield leaves the thread runnable, so a switch it causes is counted as
// involuntary. A count, unlike the share of a core the waiter gets, does not depend on how busy
// the machine is (the CPU-share version of this test failed once on a loaded machine). For
// "spins" we take the fewest sleeps of three tries: a page fault served from disk could count
// once in one try, a spinner never sleeps in all three.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string_view>
#include <thread>

#include "patterns/single_writer/ring.hpp"
#include "patterns/single_writer/reply_slot.hpp"
#include "tests/support/trait_checks.hpp"

using namespace cp;
using namespace cp::sw;
using namespace cp::test;

namespace {

// A strategy whose signal() may throw is not a WaitStrategy: signal() runs after a hand-off.
struct ThrowingSignal {
  static constexpr std::string_view name = "throwing-signal";
  static constexpr cp::Waiting waiting = cp::Waiting::spins;
  template <class Ready>
  void wait_until(Ready&&) {}
  void signal() {}
};
static_assert(!WaitStrategy<ThrowingSignal>);

// How many times the consumer slept while it waited 300 ms for one item; -1 if it got none.
template <class Ring>
long consumer_sleeps_while_waiting() {
  Ring ring(8);
  long sleeps = -1;
  std::thread consumer([&] {
    const long before = voluntary_switches();
    const bool got = ring.wait_for_data();
    sleeps = got ? voluntary_switches() - before : -1;
    ring.consume_batch([](int&, std::uint64_t) {}, 1);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ring.try_push(1);
  consumer.join();
  return sleeps;
}

template <class Ring>
void check_ring_waiting_claim() {
  using W = typename Ring::wait_strategy;
  long sleeps = consumer_sleeps_while_waiting<Ring>();
  if (W::waiting == Waiting::spins)
    for (int attempt = 1; attempt < 3 && sleeps != 0; ++attempt)
      sleeps = std::min(sleeps < 0 ? 1L << 30 : sleeps, consumer_sleeps_while_waiting<Ring>());
  INFO(W::name << ": the waiting consumer slept " << sleeps << " times in 300 ms");
  REQUIRE(sleeps >= 0);  // it got the item
  if (W::waiting == Waiting::blocks)
    REQUIRE(sleeps >= 1);
  else
    REQUIRE(sleeps == 0);
}

}  // namespace

TEMPLATE_TEST_CASE("wait strategies: a waiting consumer sleeps or spins as its trait claims", "[trait]",
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
  std::thread owner([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    slot.fulfil(42);
  });
  const long before = voluntary_switches();
  const int r = slot.wait();
  const long sleeps = voluntary_switches() - before;
  owner.join();
  INFO("the waiting caller slept " << sleeps << " times in 300 ms");
  REQUIRE(r == 42);
  REQUIRE(sleeps >= 1);
}
