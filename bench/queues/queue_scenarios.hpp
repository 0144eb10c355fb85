// queue_scenarios.hpp: the measured scenarios of queue_compare, each checking what it moved.
//
//   TransferConfig / TransferResult - P producers -> 1 consumer, items/s and a verdict.
//   run_transfer<Q>                 - one repetition of a transfer (1P1C or 2P1C).
//   RoundTripConfig / RoundTripResult - request/reply over two queues, per-trip latency.
//   run_round_trip<Q>               - client -> queue A -> echo thread -> queue B -> client.
//   pop_some                        - one consumer step: try_pop, or consume_batch when asked.
//
// Waiting is busy-spin everywhere (a retry loop on try_push/try_pop, no pause instruction, no
// yield): the Disruptor's BusySpinWaitStrategy. On 2 cores that is fair for 2 spinning threads
// (1P1C, round trip) and a trap for 3 (2P1C): a preempted consumer stalls both producers for a
// scheduler slice. The bench says so in its output.
//
// Correctness is checked on every run, not sampled: producer p pushes (p << 56) | seq with seq
// = 0, 1, 2, ...; the consumer checks each item against the next seq it expects from p. Any
// loss, duplicate or per-producer reorder breaks that sequence; after the run the consumer's
// count must equal what the producers sent and the queue must be empty. A queue that does not
// promise per-producer FIFO (Q::per_producer_fifo false) is checked with several producers for
// exactly-once delivery only (a mark per item), and its order breaks (an item that does not
// directly follow its producer's previous one) are counted and reported. A stalled queue (no
// item for TransferConfig::stall_seconds) fails the run instead of hanging it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/histogram.hpp"
#include "bench/harness/timer.hpp"
#include "bench/queues/queue_adapters.hpp"

namespace cp::bench::queues {

inline constexpr int kProducerShift = 56;
inline constexpr Item kSeqMask = (Item{1} << kProducerShift) - 1;
inline constexpr unsigned kMaxProducers = 8;

// pop_some: one consumer step. With batch > 1 and an adapter that has consume_batch, pops up
// to `batch` items at once; otherwise one try_pop. Returns how many items f saw.
template <QueueAdapter Q, class F>
std::size_t pop_some(Q& q, std::size_t batch, F& f) {
  if constexpr (BatchConsumer<Q>) {
    if (batch > 1) return q.consume_batch(f, batch);
  }
  typename Q::value_type v{};
  if (!q.try_pop(v)) return 0;
  f(v);
  return 1;
}

// uses_batch: whether pop_some batches for Q at this batch size (printed in the tables).
template <QueueAdapter Q>
constexpr bool uses_batch(std::size_t batch) {
  return BatchConsumer<Q> && batch > 1;
}

struct TransferConfig {
  std::size_t capacity = 1024;
  unsigned producers = 1;         // 1..kMaxProducers; more than 1 needs Q::multi_producer
  std::uint64_t items = 1'000'000;  // in total over all producers
  double max_seconds = 0;         // > 0: producers also stop after this long
  std::size_t batch = 1;          // see pop_some
  double stall_seconds = 2.0;     // no item for this long: the run fails as stalled
};

struct TransferResult {
  std::uint64_t sent = 0;      // what the producers report having pushed
  std::uint64_t received = 0;  // what the consumer popped
  double seconds = 0;          // consumer's view: start signal to the last item
  double items_per_second = 0;
  std::uint64_t reordered = 0;  // no per-producer FIFO: items not right after their predecessor
  bool passed = false;
  std::string detail;          // what was checked, or the first problem
};

namespace detail {

inline double seconds_between(BenchClock::time_point a, BenchClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Producer bookkeeping, one cache line each so the producers' done-stores do not false-share.
struct alignas(64) ProducerSlot {
  std::atomic<bool> done{false};
  std::uint64_t sent = 0;  // written before done.store(release), read after done.load(acquire)
};

}  // namespace detail

// run_transfer: one repetition. Threads: c.producers producers + 1 consumer (the caller's thread
// only waits in join). Never throws for a misbehaving queue: the verdict says what broke.
template <QueueAdapter Q>
TransferResult run_transfer(const TransferConfig& c) {
  TransferResult r;
  if (c.producers == 0 || c.producers > kMaxProducers ||
      (c.producers > 1 && !Q::multi_producer)) {
    r.detail = "bad configuration: " + std::to_string(c.producers) + " producers on " +
               std::string(Q::name);
    return r;
  }
  auto queue = std::make_unique<Q>(c.capacity);
  Q& q = *queue;
  const unsigned producers = c.producers;
  std::vector<detail::ProducerSlot> slots(producers);
  std::atomic<bool> abort{false};  // set by the consumer when the queue stalled
  std::latch start(producers + 1);

  std::vector<std::thread> threads;
  threads.reserve(producers);
  for (unsigned p = 0; p < producers; ++p) {
    const std::uint64_t quota = c.items / producers + (p < c.items % producers ? 1 : 0);
    threads.emplace_back([&, p, quota] {
      const bool timed = c.max_seconds > 0;
      start.arrive_and_wait();
      const auto deadline =
          BenchClock::now() + std::chrono::duration_cast<BenchClock::duration>(
                                  std::chrono::duration<double>(timed ? c.max_seconds : 0));
      const Item tag = static_cast<Item>(p) << kProducerShift;
      std::uint64_t seq = 0;
      bool aborted = false;
      for (; seq < quota && !aborted; ++seq) {
        if (timed && (seq & 63) == 0 && BenchClock::now() >= deadline) break;
        while (!q.try_push(tag | seq)) {
          // Relaxed: abort carries no data, it only ends a spin the consumer gave up on.
          if (abort.load(std::memory_order_relaxed)) {
            aborted = true;
            break;
          }
        }
      }
      slots[p].sent = aborted ? seq - 1 : seq;  // the aborted push did not happen
      // Release: publishes `sent` (and, through program order, every push before it) to the
      // consumer's acquire load of `done` in all_done().
      slots[p].done.store(true, std::memory_order_release);
    });
  }

  // Every queue is FIFO with one producer; with several, only if it says so (the others are
  // checked for exactly-once delivery and their reorders counted).
  const bool check_fifo = producers == 1 || Q::per_producer_fifo;
  std::vector<std::vector<std::uint8_t>> seen(check_fifo ? 0 : producers);
  for (auto& s : seen) s.assign(c.items / producers + 1, 0);
  std::uint64_t reordered = 0;
  std::vector<std::uint64_t> expected(producers, 0);
  std::uint64_t received = 0, problems = 0;
  std::string first_problem;
  BenchClock::time_point t0{}, t1{};
  bool stalled = false;
  // The consumer runs on its own thread too, so the caller's thread is asleep in join and the
  // thread count is exactly producers + 1.
  std::thread consumer([&] {
    auto note = [&](Item v, const char* what) {
      if (problems++ == 0) {
        std::ostringstream out;
        out << what << ": item " << received << " was producer " << (v >> kProducerShift)
            << " seq " << (v & kSeqMask);
        if ((v >> kProducerShift) < producers)
          out << ", expected seq " << expected[v >> kProducerShift];
        first_problem = out.str();
      }
    };
    auto on_item = [&](Item& v) {
      const Item p = v >> kProducerShift;
      const Item seq = v & kSeqMask;
      if (p >= producers) [[unlikely]] {
        note(v, "unknown producer");
      } else if (check_fifo) {
        if (seq != expected[p]) [[unlikely]]
          note(v, "out of sequence (lost, duplicated or reordered)");
        expected[p] = seq + 1;
      } else {
        // Exactly-once without order: one mark per (producer, seq). expected[p] is the
        // previous item's seq + 1: an item elsewhere is an order break.
        if (seq >= seen[p].size() || seen[p][seq]) [[unlikely]] {
          note(v, "duplicated or unknown item");
        } else {
          seen[p][seq] = 1;
          if (seq != expected[p]) ++reordered;
          expected[p] = seq + 1;
        }
      }
      ++received;
    };
    auto all_done = [&] {
      for (const auto& s : slots)
        if (!s.done.load(std::memory_order_acquire)) return false;  // pairs with the release
      return true;
    };
    auto sent_total = [&] {
      std::uint64_t n = 0;
      for (const auto& s : slots) n += s.sent;
      return n;
    };
    start.arrive_and_wait();
    t0 = BenchClock::now();
    auto last_progress = t0;
    std::uint64_t empty_polls = 0;
    for (;;) {
      if (pop_some(q, c.batch, on_item) != 0) {
        if (received >= c.items) break;  // the untimed run's end: no flag to wait for
        empty_polls = 0;
        continue;
      }
      if (all_done() && received >= sent_total()) break;
      if ((++empty_polls & 1023) == 0) {
        const auto now = BenchClock::now();
        if (empty_polls == 1024) last_progress = now;  // first check of this empty streak
        else if (detail::seconds_between(last_progress, now) > c.stall_seconds) {
          stalled = true;
          abort.store(true, std::memory_order_relaxed);
          break;
        }
      }
    }
    t1 = BenchClock::now();
  });
  consumer.join();
  for (auto& t : threads) t.join();

  // After join every write above is visible here (join synchronizes).
  for (const auto& s : slots) r.sent += s.sent;
  r.received = received;
  r.seconds = detail::seconds_between(t0, t1);
  r.items_per_second = r.seconds > 0 ? static_cast<double>(received) / r.seconds : 0;
  std::ostringstream detail;
  if (stalled) {
    detail << "stalled: no item for " << c.stall_seconds << " s after " << received << " of "
           << r.sent << " sent";
  } else if (problems != 0) {
    detail << first_problem << " (" << problems << " items out of sequence)";
  } else if (received != r.sent) {
    detail << "received " << received << " items, producers sent " << r.sent;
  } else {
    for (unsigned p = 0; p < producers && problems == 0; ++p)
      if (check_fifo && expected[p] != slots[p].sent) {
        ++problems;
        detail << "producer " << p << ": last seq seen " << expected[p] << ", sent "
               << slots[p].sent;
      }
    for (unsigned p = 0; p < producers && problems == 0 && !check_fifo; ++p) {
      const auto& marks = seen[p];
      const auto missing = std::find(marks.begin(), marks.begin() + slots[p].sent, 0);
      if (missing != marks.begin() + slots[p].sent) {
        ++problems;
        detail << "producer " << p << ": seq " << (missing - marks.begin()) << " never arrived";
      }
    }
    typename Q::value_type extra{};
    if (problems == 0 && q.try_pop(extra)) {
      ++problems;
      detail << "an extra item remained in the queue after the run";
    }
    if (problems == 0) {
      r.passed = true;
      r.reordered = reordered;
      detail << r.sent << " items, "
             << (producers == 1 ? "FIFO" : check_fifo ? "per-producer FIFO" : "NOT FIFO-checked")
             << ", exactly once";
    }
  }
  r.detail = detail.str();
  return r;
}

struct RoundTripConfig {
  std::size_t capacity = 1024;
  std::uint64_t round_trips = 100'000;  // measured, after `warmup` unmeasured ones
  std::uint64_t warmup = 10'000;       // or a tenth of max_seconds, whichever ends first
  double max_seconds = 0;               // > 0: the client also stops after this long
  double stall_seconds = 2.0;
};

struct RoundTripResult {
  LatencyHistogram histogram;  // one value per measured round trip, ns
  double seconds = 0;          // measured part only
  bool passed = false;
  std::string detail;
};

// run_round_trip: a client sends request i through queue A; an echo thread pops it and pushes
// it back through queue B; the client spins for the reply, checks it is i, and records the
// round trip (two clock reads around push + wait) into the histogram. Two threads, both
// spinning. Any queue qualifies: each queue has one producer and one consumer.
template <QueueAdapter Q>
RoundTripResult run_round_trip(const RoundTripConfig& c) {
  RoundTripResult r;
  if (c.round_trips == 0) {
    r.detail = "bad configuration: 0 round trips";
    return r;
  }
  auto requests = std::make_unique<Q>(c.capacity);
  auto replies = std::make_unique<Q>(c.capacity);
  constexpr Item kStop = ~Item{0};
  std::atomic<bool> abort{false};
  std::latch start(2);

  std::thread echo([&] {
    start.arrive_and_wait();
    Item v = 0;
    for (;;) {
      std::uint64_t spins = 0;
      while (!requests->try_pop(v)) {
        // Relaxed: a stop request only; no data travels with it.
        if ((++spins & 1023) == 0 && abort.load(std::memory_order_relaxed)) return;
      }
      if (v == kStop) return;
      while (!replies->try_push(v)) {
        if (abort.load(std::memory_order_relaxed)) return;
      }
    }
  });

  std::string problem;
  std::uint64_t measured = 0;
  BenchClock::time_point m0{}, m1{};
  std::thread client([&] {
    const bool timed = c.max_seconds > 0;
    const auto stall = std::chrono::duration_cast<BenchClock::duration>(
        std::chrono::duration<double>(c.stall_seconds));
    LatencyHistogram histogram;
    start.arrive_and_wait();
    auto after = [](BenchClock::time_point from, double seconds) {
      return from + std::chrono::duration_cast<BenchClock::duration>(
                        std::chrono::duration<double>(seconds));
    };
    // The warm-up ends after c.warmup trips or a tenth of max_seconds: on a disturbed machine
    // (both threads on one core) a trip can take a scheduler slice, and 10 k of those would
    // take a minute.
    const auto warmup_deadline = after(BenchClock::now(), c.max_seconds / 10);
    bool measuring = false;
    BenchClock::time_point deadline{};
    for (std::uint64_t i = 0;; ++i) {
      if (!measuring &&
          (i >= c.warmup || (timed && BenchClock::now() >= warmup_deadline))) {
        measuring = true;
        m0 = BenchClock::now();
        deadline = after(m0, c.max_seconds);
      }
      const auto t0 = BenchClock::now();
      while (!requests->try_push(Item{i})) {
      }
      Item reply = 0;
      std::uint64_t spins = 0;
      while (!replies->try_pop(reply)) {
        if ((++spins & 4095) == 0 && BenchClock::now() - t0 > stall) {
          problem = "stalled: no reply to request " + std::to_string(i) + " for " +
                    std::to_string(c.stall_seconds) + " s";
          abort.store(true, std::memory_order_relaxed);
          r.histogram = std::move(histogram);
          return;
        }
      }
      const auto t1 = BenchClock::now();
      if (reply != i && problem.empty())
        problem = "reply " + std::to_string(reply) + " to request " + std::to_string(i);
      if (measuring) {
        histogram.record(elapsed_ns(t0, t1));
        ++measured;
        m1 = t1;
        if (measured == c.round_trips || (timed && t1 >= deadline)) break;
      }
    }
    while (!requests->try_push(Item{kStop})) {
    }
    r.histogram = std::move(histogram);
  });
  client.join();
  echo.join();

  r.seconds = measured ? detail::seconds_between(m0, m1) : 0;
  if (!problem.empty()) {
    r.detail = problem;
  } else {
    Item extra = 0;
    if (requests->try_pop(extra) || replies->try_pop(extra)) {
      r.detail = "an extra item remained in a queue after the run";
    } else {
      r.passed = true;
      r.detail = std::to_string(measured) + " round trips, every reply matched its request";
    }
  }
  return r;
}

}  // namespace cp::bench::queues
