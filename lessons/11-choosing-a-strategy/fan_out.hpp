// fan_out.hpp: one publisher, N subscribers that must each see every value: three ways.
//
//   FanOut::broadcast      - cp::actor::Broadcast: one ring, one lock, notify_all per value;
//                            each subscriber reads the shared ring (lossy if it falls behind
//                            by more than the ring holds: `missed` counts what it lost).
//   FanOut::mutex_queues   - a mutex + condition variable + deque per subscriber; the
//                            publisher locks each queue in turn (N locks per value). Lossless.
//   FanOut::spsc_rings     - a bounded SPSC ring per subscriber (cp::sw::SingleProducerRing,
//                            blocking wait); the publisher pushes into each. Lossless; a full
//                            ring makes the publisher wait.
//   FanOut::spsc_rings_yielding - the same rings with the yielding wait strategy: a subscriber
//                            that catches up spins, then yields, and never sleeps, so no push
//                            has to wake it through the kernel. It keeps its core busy.
//
// run_fan_out() publishes values 1..messages and returns what each subscriber got: how many,
// their sum, and whether they arrived in order. Exact delivery: delivered + missed = messages
// for every subscriber, the sum of what it got equals the sum of the values it did not miss.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "patterns/actor/broadcast.hpp"
#include "patterns/single_writer/single_producer_ring.hpp"

namespace cp::lessons::strategy {

enum class FanOut { broadcast, mutex_queues, spsc_rings, spsc_rings_yielding };

inline const char* to_string(FanOut f) {
  switch (f) {
    case FanOut::broadcast: return "broadcast (one ring)";
    case FanOut::mutex_queues: return "mutex+condvar queues";
    case FanOut::spsc_rings: return "SPSC ring each";
    case FanOut::spsc_rings_yielding: return "SPSC ring each, yielding";
  }
  return "?";
}

struct SubscriberTally {
  std::uint64_t delivered = 0;
  std::uint64_t missed = 0;
  std::uint64_t sum = 0;
  bool in_order = true;  // every value greater than the one before
};

struct FanOutResult {
  std::vector<SubscriberTally> subscribers;
  double seconds = 0;  // from the first publish until the last subscriber finished
};

namespace detail {

inline void tally(SubscriberTally& t, std::uint64_t& last, std::uint64_t v) {
  if (v <= last) t.in_order = false;
  last = v;
  ++t.delivered;
  t.sum += v;
}

// One subscriber's queue for FanOut::mutex_queues.
struct LockedQueue {
  std::mutex mu;
  std::condition_variable ready;
  std::deque<std::uint64_t> items;  // guarded by mu
  bool closed = false;              // guarded by mu
};

// One SPSC ring per subscriber, waiting with `Wait` (FanOut::spsc_rings and its yielding twin).
template <class Wait>
void fan_out_spsc(std::vector<SubscriberTally>& tallies, std::uint64_t messages,
                  std::size_t capacity) {
  using Ring = cp::sw::SingleProducerRing<std::uint64_t, Wait>;
  std::vector<std::unique_ptr<Ring>> rings;
  for (std::size_t i = 0; i < tallies.size(); ++i)  // all before any thread: a bad capacity throws here
    rings.push_back(std::make_unique<Ring>(capacity));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < rings.size(); ++i) {
    threads.emplace_back([&t = tallies[i], &ring = *rings[i]] {
      std::uint64_t last = 0;
      while (ring.wait_for_data())
        ring.consume_batch([&](std::uint64_t& v, std::uint64_t) { tally(t, last, v); }, 256);
    });
  }
  for (std::uint64_t v = 1; v <= messages; ++v)
    for (auto& ring : rings) ring->push(std::uint64_t{v});  // waits while that ring is full
  for (auto& ring : rings) ring->close();
  for (auto& th : threads) th.join();
}

}  // namespace detail

// run_fan_out: publishes 1..messages to `subscribers` subscriber threads through `how`;
// capacity is the broadcast ring's or each SPSC ring's size (a power of two for the rings).
inline FanOutResult run_fan_out(FanOut how, int subscribers, std::uint64_t messages,
                                std::size_t capacity) {
  if (subscribers < 1) throw std::invalid_argument("fan-out: subscribers must be >= 1");
  FanOutResult result;
  result.subscribers.resize(static_cast<std::size_t>(subscribers));
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  if (how == FanOut::broadcast) {
    cp::actor::Broadcast<std::uint64_t> channel(capacity);
    for (auto& t : result.subscribers) {
      // Subscribe before the first publish, so each subscriber is owed every value.
      threads.emplace_back([&t, sub = channel.subscribe()]() mutable {
        std::uint64_t last = 0;
        for (auto r = sub.recv(); r.status == cp::actor::ReceiveStatus::value; r = sub.recv()) {
          t.missed += r.missed;
          detail::tally(t, last, *r.value);
        }
      });
    }
    for (std::uint64_t v = 1; v <= messages; ++v) channel.publish(v);
    channel.close();
    for (auto& th : threads) th.join();
  } else if (how == FanOut::mutex_queues) {
    std::vector<std::unique_ptr<detail::LockedQueue>> queues;
    for (auto& t : result.subscribers) {
      auto& q = *queues.emplace_back(std::make_unique<detail::LockedQueue>());
      threads.emplace_back([&t, &q] {
        std::uint64_t last = 0;
        std::unique_lock lock(q.mu);
        for (;;) {
          q.ready.wait(lock, [&q] { return !q.items.empty() || q.closed; });
          if (q.items.empty()) return;  // closed and drained
          const std::uint64_t v = q.items.front();
          q.items.pop_front();
          detail::tally(t, last, v);
        }
      });
    }
    for (std::uint64_t v = 1; v <= messages; ++v) {
      for (auto& q : queues) {  // N lock round trips per value
        std::lock_guard lock(q->mu);
        q->items.push_back(v);
        q->ready.notify_one();
      }
    }
    for (auto& q : queues) {
      std::lock_guard lock(q->mu);
      q->closed = true;
      q->ready.notify_one();
    }
    for (auto& th : threads) th.join();
  } else if (how == FanOut::spsc_rings) {
    detail::fan_out_spsc<cp::sw::BlockingWaitStrategy>(result.subscribers, messages, capacity);
  } else {
    detail::fan_out_spsc<cp::sw::YieldingWaitStrategy>(result.subscribers, messages, capacity);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace cp::lessons::strategy
