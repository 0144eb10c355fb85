// ring_test.cpp: SingleProducerRing and MultiProducerRing: exactly-once, FIFO per producer,
// dense sequences, exact close, try_push never waits; select over two rings.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "comparisons/common/random.hpp"
#include "patterns/single_writer/ring.hpp"
#include "patterns/single_writer/select.hpp"
#include "tests/support/delayed_signal_wait.hpp"
#include "tests/support/findings.hpp"

using namespace cp;
using namespace cp::sw;
using namespace cp::test;

namespace {

constexpr std::uint64_t item_of(std::uint64_t producer, std::uint64_t index) {
  return (producer << 32) | index;
}

// Producers push per_producer items each (mixing push and try_push-with-retry, by seed);
// the main thread consumes in random batch sizes and checks every item and sequence. The last
// producer to finish closes the ring; pushes after close must fail.
template <class R>
Findings ring_stress(unsigned producers, std::uint64_t per_producer, std::size_t capacity,
                     std::uint64_t seed) {
  Findings f;
  R ring(capacity);
  std::atomic<unsigned> finished{0};
  std::vector<Findings> producer_findings(producers);
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      Xoshiro256 rng(derive_seed(seed, p));
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        std::uint64_t v = item_of(p, i);
        if (rng.percent(30)) {
          while (!ring.try_push(std::move(v))) std::this_thread::yield();
        } else if (!ring.push(std::move(v))) {
          producer_findings[p].fail("producer ", p, ": push ", i, " failed before close");
          return;
        }
      }
      if (finished.fetch_add(1) + 1 == producers) {
        ring.close();
        std::uint64_t late = 1;
        if (ring.try_push(std::move(late))) producer_findings[p].fail("try_push after close");
        if (ring.push(std::move(late))) producer_findings[p].fail("push after close");
      }
    });
  }
  Xoshiro256 rng(derive_seed(seed, 1000));
  std::vector<std::uint64_t> next_index(producers, 0);
  std::uint64_t expected_seq = 0, total = 0;
  auto check = [&](std::uint64_t& v, std::uint64_t seq) {
    if (seq != expected_seq) f.fail("sequence ", seq, " where ", expected_seq, " expected");
    expected_seq = seq + 1;
    const std::uint64_t p = v >> 32, i = v & 0xffffffffu;
    if (p >= producers) {
      f.fail("item from unknown producer ", p);
      return;
    }
    if (i != next_index[p]) f.fail("producer ", p, ": item ", i, " where ", next_index[p], " expected");
    next_index[p] = i + 1;
    ++total;
  };
  while (ring.wait_for_data()) {
    const std::size_t n = ring.consume_batch(check, 1 + rng.below(2 * capacity));
    if (n > capacity) f.fail("a batch of ", n, " items from a ring of ", capacity);
  }
  for (auto& t : threads) t.join();
  for (auto& pf : producer_findings) f.merge(pf);
  if (total != producers * per_producer)
    f.fail("consumed ", total, " items, ", producers * per_producer, " pushed");
  if (!ring.drained()) f.fail("wait_for_data returned false but the ring is not drained");
  return f;
}

// Scaled so the whole program stays well under 15 s in Debug on 2 busy cores.
template <class Wait>
std::uint64_t items_for(unsigned producers) {
  const bool spin = std::is_same_v<Wait, BusySpinWaitStrategy>;
  // busy-spin with more threads than cores: every full/empty wait can cost a time slice.
  if (spin && producers + 1 > std::thread::hardware_concurrency()) return 300;
  return 20'000 / producers;
}

}  // namespace

TEMPLATE_TEST_CASE("SingleProducerRing: every item once, in order, dense sequences", "[stress]",
                   BusySpinWaitStrategy, YieldingWaitStrategy, BlockingWaitStrategy) {
  const auto s = seed();
  for (std::size_t capacity : {1u, 8u, 64u}) {
    INFO("capacity " << capacity);
    CP_REQUIRE_CLEAN((ring_stress<SingleProducerRing<std::uint64_t, TestType>>(
                         1, items_for<TestType>(1), capacity, s)),
                     s);
  }
}

TEMPLATE_TEST_CASE("MultiProducerRing: every item once, per-producer FIFO, dense sequences",
                   "[stress]", BusySpinWaitStrategy, YieldingWaitStrategy, BlockingWaitStrategy) {
  const auto s = seed();
  for (unsigned producers : {1u, 2u, 4u, 6u}) {
    for (std::size_t capacity : {8u, 64u}) {
      INFO(producers << " producers, capacity " << capacity);
      CP_REQUIRE_CLEAN((ring_stress<MultiProducerRing<std::uint64_t, TestType>>(
                           producers, items_for<TestType>(producers), capacity, s)),
                       s);
    }
  }
}

TEMPLATE_TEST_CASE("rings: capacity must be a power of two", "[unit]",
                   (SingleProducerRing<int, BlockingWaitStrategy>),
                   (MultiProducerRing<int, BlockingWaitStrategy>)) {
  for (std::size_t bad : {0u, 3u, 6u, 100u}) REQUIRE_THROWS_AS(TestType(bad), std::invalid_argument);
  for (std::size_t good : {1u, 2u, 8u, 1024u}) REQUIRE(TestType(good).capacity() == good);
}

TEMPLATE_TEST_CASE("rings: try_push fails when full and never moves from a refused item", "[unit]",
                   (SingleProducerRing<std::string, BusySpinWaitStrategy>),
                   (MultiProducerRing<std::string, BusySpinWaitStrategy>)) {
  TestType ring(4);
  for (int i = 0; i < 4; ++i) REQUIRE(ring.try_push(std::string(40, char('a' + i))));
  REQUIRE(ring.size_approx() == 4);
  std::string refused(40, 'z');
  REQUIRE_FALSE(ring.try_push(std::move(refused)));
  REQUIRE(refused == std::string(40, 'z'));
  std::vector<std::string> got;
  std::vector<std::uint64_t> seqs;
  REQUIRE(ring.consume_batch([&](std::string& v, std::uint64_t seq) {
    got.push_back(v);
    seqs.push_back(seq);
  }, 3) == 3);
  REQUIRE(seqs == std::vector<std::uint64_t>{0, 1, 2});
  REQUIRE(got[2] == std::string(40, 'c'));
  REQUIRE(ring.size_approx() == 1);
  REQUIRE(ring.try_push(std::move(refused)));
  ring.close();
  REQUIRE(ring.closed());
  std::string late = "late";
  REQUIRE_FALSE(ring.try_push(std::move(late)));
  REQUIRE_FALSE(ring.push(std::move(late)));
  REQUIRE(late == "late");
  // the consumer still drains what was accepted
  REQUIRE(ring.wait_for_data());
  REQUIRE(ring.consume_batch([&](std::string&, std::uint64_t seq) { seqs.push_back(seq); }, 100) == 2);
  REQUIRE(seqs.back() == 4);
  REQUIRE_FALSE(ring.wait_for_data());
  REQUIRE(ring.drained());
}

TEMPLATE_TEST_CASE("rings: a throwing consumer still releases the items it was handed", "[unit]",
                   (SingleProducerRing<int, BusySpinWaitStrategy>),
                   (MultiProducerRing<int, BusySpinWaitStrategy>)) {
  TestType ring(8);
  for (int i = 0; i < 8; ++i) REQUIRE(ring.try_push(int{i}));
  int handed = 0;
  REQUIRE_THROWS_AS(ring.consume_batch([&](int&, std::uint64_t) {
    if (++handed == 3) throw std::runtime_error("bad item");
  }, 8), std::runtime_error);
  REQUIRE(ring.size_approx() == 5);
  std::uint64_t first = 99;
  ring.consume_batch([&](int& v, std::uint64_t seq) {
    if (first == 99) first = seq;
    (void)v;
  }, 1);
  REQUIRE(first == 3);
}

TEST_CASE("SingleProducerRing: a consumer behind frees slots in steps, and all once caught up",
          "[unit]") {
  // Capacity 64: the consumer frees at most every 64 / 8 = 8 items while more are waiting.
  SingleProducerRing<int, BusySpinWaitStrategy> ring(64);
  for (int i = 0; i < 64; ++i) REQUIRE(ring.try_push(int{i}));
  int next = 0;
  auto take_one = [&] {
    return ring.consume_batch([&](int& v, std::uint64_t seq) {
      REQUIRE(v == next);
      REQUIRE(seq == static_cast<std::uint64_t>(next));
      ++next;
    }, 1);
  };
  for (int i = 0; i < 7; ++i) REQUIRE(take_one() == 1);
  REQUIRE(ring.size_approx() == 64);  // 7 consumed, none freed yet: still behind
  REQUIRE_FALSE(ring.try_push(int{64}));
  REQUIRE(take_one() == 1);           // the 8th frees all 8
  REQUIRE(ring.size_approx() == 56);
  for (int i = 64; i < 72; ++i) REQUIRE(ring.try_push(int{i}));
  REQUIRE_FALSE(ring.try_push(int{72}));
  // Catching up frees everything at once, whatever the step: nothing stays held.
  REQUIRE(ring.consume_batch([&](int& v, std::uint64_t) { REQUIRE(v == next++); }, 1000) == 64);
  REQUIRE(ring.size_approx() == 0);
  REQUIRE(next == 72);
  // A small ring (capacity / 8 < 2) frees every item at once.
  SingleProducerRing<int, BusySpinWaitStrategy> small(8);
  for (int i = 0; i < 8; ++i) REQUIRE(small.try_push(int{i}));
  REQUIRE(small.consume_batch([](int&, std::uint64_t) {}, 1) == 1);
  REQUIRE(small.size_approx() == 7);
  REQUIRE(small.try_push(int{8}));
}

TEST_CASE("MultiProducerRing: close from another thread while producers wait for space loses nothing",
          "[stress]") {
  const auto s = seed();
  for (int round = 0; round < 20; ++round) {
    MultiProducerRing<std::uint64_t, BlockingWaitStrategy> ring(8);
    std::vector<std::uint64_t> accepted(4, 0);
    std::thread closer([&] {
      std::this_thread::sleep_for(std::chrono::microseconds(200 + 100 * round));
      ring.close();
    });
    std::vector<std::thread> producers;
    for (unsigned p = 0; p < 4; ++p)
      producers.emplace_back([&, p] {
        for (std::uint64_t i = 0;; ++i) {
          std::uint64_t v = item_of(p, i);
          if (!ring.push(std::move(v))) return;
          accepted[p] = i + 1;
        }
      });
    std::vector<std::uint64_t> got(4, 0);
    Findings f;
    std::uint64_t expected_seq = 0;
    while (ring.wait_for_data()) {
      ring.consume_batch([&](std::uint64_t& v, std::uint64_t seq) {
        if (seq != expected_seq++) f.fail("sequence gap at ", seq);
        const auto p = v >> 32;
        if ((v & 0xffffffffu) != got[p]) f.fail("producer ", p, " out of order");
        ++got[p];
      }, 5);
      std::this_thread::sleep_for(std::chrono::microseconds(20));  // slow consumer: a full ring
    }
    closer.join();
    for (auto& t : producers) t.join();
    for (unsigned p = 0; p < 4; ++p)
      if (got[p] != accepted[p]) f.fail("producer ", p, ": ", accepted[p], " accepted, ", got[p], " consumed");
    CP_REQUIRE_CLEAN(f, s);
  }
}

TEST_CASE("SelectTwo: items from both inputs arrive, none lost, neither starved", "[stress]") {
  const auto s = seed();
  BlockingWaitStrategy notifier;
  SingleProducerRing<std::uint64_t, BlockingWaitStrategy> a(16, &notifier);
  SingleProducerRing<std::uint64_t, BlockingWaitStrategy> b(16, &notifier);
  constexpr std::uint64_t kA = 20'000, kB = 5'000;
  auto produce = [](auto& ring, std::uint64_t n, std::uint64_t seed_value) {
    Xoshiro256 rng(seed_value);
    for (std::uint64_t i = 0; i < n; ++i) {
      std::uint64_t v = i;
      ring.push(std::move(v));
      if (rng.percent(1)) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    ring.close();
  };
  std::thread pa([&] { produce(a, kA, derive_seed(s, 1)); });
  std::thread pb([&] { produce(b, kB, derive_seed(s, 2)); });
  Findings f;
  std::uint64_t next_a = 0, next_b = 0;
  SelectTwo select(a, b, notifier);
  while (select.wait_any()) {
    select.drain_fair([&](std::uint64_t& v, std::uint64_t seq) {
      if (v != next_a || seq != next_a) f.fail("a: ", v, " at ", seq, ", expected ", next_a);
      ++next_a;
    }, [&](std::uint64_t& v, std::uint64_t seq) {
      if (v != next_b || seq != next_b) f.fail("b: ", v, " at ", seq, ", expected ", next_b);
      ++next_b;
    }, 8);
  }
  pa.join();
  pb.join();
  if (next_a != kA || next_b != kB) f.fail("got ", next_a, " of a and ", next_b, " of b");
  CP_REQUIRE_CLEAN(f, s);
}

TEST_CASE("SelectTwo: a flooded input delays the other by at most one batch", "[unit]") {
  BlockingWaitStrategy notifier;
  SingleProducerRing<int, BlockingWaitStrategy> a(64, &notifier), b(64, &notifier);
  for (int i = 0; i < 64; ++i) {
    REQUIRE(a.try_push(int{i}));
    if (i < 3) REQUIRE(b.try_push(int{i}));
  }
  SelectTwo select(a, b, notifier);
  int from_a = 0, from_b = 0;
  REQUIRE(select.wait_any());
  REQUIRE(select.drain_fair([&](int&, std::uint64_t) { ++from_a; },
                            [&](int&, std::uint64_t) { ++from_b; }, 8) == 11);
  REQUIRE(from_a == 8);
  REQUIRE(from_b == 3);
  a.close();
  b.close();
  while (select.wait_any())
    select.drain_fair([&](int&, std::uint64_t) { ++from_a; }, [&](int&, std::uint64_t) { ++from_b; }, 8);
  REQUIRE(from_a == 64);
  REQUIRE(from_b == 3);
}

// ---- lifetime: the consumer may free a ring as soon as it has the last item -----------------

namespace {

// The producer pushes one item and is delayed inside its signal(); the consumer frees the ring
// the moment the item is in its hands. Safe because the producer's last access to the ring is
// its publish store, and its signal() goes to a strategy the consumer owns beyond the ring.
template <template <class, class> class RingT>
void check_freed_on_last_item() {
  DelayedSignalWait::destroyed_while_signalling = 0;
  DelayedSignalWait data_wait;  // the consumer's, outlives the ring
  auto ring = std::make_unique<RingT<std::uint64_t, DelayedSignalWait>>(4, &data_wait);
  std::atomic<bool> pushed{false};
  std::thread producer([&pushed, &r = *ring] {
    delay_signals_here = true;
    pushed = r.push(42);  // must not touch r after its publish store
  });
  std::uint64_t got = 0;
  while (got == 0) {
    REQUIRE(ring->wait_for_data());
    ring->consume_batch([&](std::uint64_t& item, std::uint64_t) { got = item; }, 1);
  }
  ring.reset();  // the producer is still sleeping in data_wait.signal()
  producer.join();
  CHECK(got == 42);
  CHECK(pushed);
  CHECK(DelayedSignalWait::destroyed_while_signalling == 0);
}

}  // namespace

TEST_CASE("ring lifetime: the consumer frees the ring on the last item while the producer is "
          "still signalling", "[interleaving]") {
  check_freed_on_last_item<SingleProducerRing>();
  check_freed_on_last_item<MultiProducerRing>();
}
