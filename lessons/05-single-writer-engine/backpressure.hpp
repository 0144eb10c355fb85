// backpressure.hpp: lesson 05's overload experiment, shared by l05_backpressure and the test.
//
//   SlowOwner          - the engine's state: a deliberately slow owner (each command spins for
//                        work_us microseconds) that counts what it applied.
//   BackpressureConfig - producers, commands per producer, queue capacity, owner work, the
//                        producers' pace.
//   BackpressureResult - what the producers were told (offered/accepted/rejected/
//                        stopped) and what the owner did (processed, applied); lost =
//                        accepted - processed, which must be 0.
//   run_backpressure   - overloads one cp::sw::Engine under one OverloadPolicy, stops it,
//                        and returns the counts.
//
// Why a shared header: the numbers the example prints and the accounting the test checks
// come from the same code, so the README's claim ("nothing accepted is lost, whatever the
// policy") is tested, not just shown.
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "patterns/single_writer/single_writer.hpp"

namespace cp::lessons::l05 {

// [quote: slow-owner]
struct Job {
  std::uint32_t producer = 0;
  std::uint64_t value = 0;
};

// SlowOwner: the state. Only the engine's owner thread calls apply(), so its fields need no
// lock and no atomics: this is ordinary single-threaded code.
struct SlowOwner {
  std::chrono::microseconds work{0};  // simulated work per command (a spin, not a sleep)
  std::uint64_t applied = 0;
  std::uint64_t sum = 0;            // of the values applied: a checksum of what arrived
  std::uint64_t last_sequence = 0;  // the engine numbers commands 0, 1, 2, ...
  bool in_order = true;             // every sequence was the previous one + 1

  std::uint64_t apply(const Job& job, std::uint64_t sequence) {
    if (applied > 0 && sequence != last_sequence + 1) in_order = false;
    last_sequence = sequence;
    const auto until = std::chrono::steady_clock::now() + work;
    while (std::chrono::steady_clock::now() < until) {
    }
    ++applied;
    sum += job.value;
    return applied;  // the reply (unused by submit(), which is fire-and-forget)
  }
};
// [end quote]

struct BackpressureConfig {
  unsigned producers = 3;
  std::uint64_t per_producer = 2'000;
  std::size_t capacity = 16;  // power of two
  std::chrono::microseconds work{20};
  // Open loop: each producer offers one command every `interval` (from the start, whatever
  // happened to the previous ones), so the offered rate is producers / interval; 0: as fast
  // as it can.
  std::chrono::nanoseconds interval{0};
};

struct BackpressureResult {
  sw::OverloadCounters::Snapshot counters;  // what the producers were told
  std::uint64_t submitted = 0;              // what the producers themselves count they offered
  std::uint64_t accepted_sum = 0;           // sum of the values whose submit said "accepted"
  std::uint64_t processed = 0;              // engine.processed() after stop()
  SlowOwner owner;                          // the owner's state after stop()
  double seconds = 0;

  std::uint64_t lost() const { return counters.accepted - processed; }
  // ok: every offer has exactly one outcome, and every accepted command was applied once.
  bool ok() const {
    return counters.balanced() && counters.offered == submitted && lost() == 0 &&
           owner.applied == processed && owner.sum == accepted_sum && owner.in_order;
  }
};

// [quote: run]
inline BackpressureResult run_backpressure(sw::OverloadPolicy policy, const BackpressureConfig& cfg) {
  sw::Engine<SlowOwner, Job> engine(cfg.capacity, SlowOwner{.work = cfg.work});
  std::vector<std::uint64_t> accepted_sum(cfg.producers, 0);  // one per producer: no sharing
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> producers;
  for (unsigned p = 0; p < cfg.producers; ++p)
    producers.emplace_back([&, p] {
      for (std::uint64_t i = 0; i < cfg.per_producer; ++i) {
        if (cfg.interval.count() > 0) std::this_thread::sleep_until(start + i * cfg.interval);
        const Job job{p, p * cfg.per_producer + i + 1};
        // The caller learns the outcome at once and decides; here it just moves on.
        if (engine.submit(job, policy) == sw::SubmitStatus::accepted)
          accepted_sum[p] += job.value;
      }
    });
  for (auto& t : producers) t.join();  // after the joins, the counters are exact
  engine.stop();                       // drains every accepted command, joins the owner
  BackpressureResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.counters = engine.counters();
  r.submitted = cfg.producers * cfg.per_producer;
  for (const std::uint64_t s : accepted_sum) r.accepted_sum += s;
  r.processed = engine.processed();
  r.owner = engine.state_after_stop();
  return r;
}
// [end quote]

}  // namespace cp::lessons::l05
