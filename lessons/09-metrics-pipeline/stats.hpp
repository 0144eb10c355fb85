// stats.hpp: the pipeline's counters, as atomics that every stage bumps without a lock.
//
//   Stats          - one counter per outcome. Every received line ends in exactly one of:
//                    invalid (by reason), dropped (a full queue, or offered after stop),
//                    processed (in the store), errors (a handler threw). So, once no line is
//                    in flight: received == invalid + dropped + processed + errors.
//                    Flushes are counted apart: flushes (done) and flush_errors (a flush, or
//                    the clock read before it, threw; the window stays open).
//   StatsSnapshot  - plain numbers; balanced() checks that equation, in_flight() is its gap.
//
// Every counter is relaxed: a counter orders nothing (no thread reads data because a counter
// changed), so it needs atomicity only. A snapshot taken while lines flow is a blur of
// slightly different moments (in_flight() may even read negative); taken after the stages
// were joined, it is exact, because the joins order every increment before the loads.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "lessons/09-metrics-pipeline/statsd_parse.hpp"

namespace cp::metrics {

struct StatsSnapshot {
  std::uint64_t received = 0, parsed = 0, processed = 0, errors = 0, flushes = 0;
  std::uint64_t flush_errors = 0;  // flushes (or their clock reads) that threw; not lines
  std::uint64_t dropped_intake = 0, dropped_validated = 0, refused_stopped = 0;
  std::array<std::uint64_t, kInvalidReasons> invalid{};

  std::uint64_t invalid_total() const {
    std::uint64_t n = 0;
    for (auto v : invalid) n += v;
    return n;
  }
  std::uint64_t dropped() const { return dropped_intake + dropped_validated + refused_stopped; }
  std::int64_t in_flight() const {
    return static_cast<std::int64_t>(received) -
           static_cast<std::int64_t>(invalid_total() + dropped() + processed + errors);
  }
  bool balanced() const { return in_flight() == 0; }
  std::uint64_t invalid_of(Invalid r) const { return invalid[static_cast<std::size_t>(r)]; }

  // One line: "received=.. processed=.. invalid=.. dropped=.. errors=.. flushes=..
  // flush_errors=..".
  std::string summary() const {
    return "received=" + std::to_string(received) + " processed=" + std::to_string(processed) +
           " invalid=" + std::to_string(invalid_total()) + " dropped=" +
           std::to_string(dropped()) + " errors=" + std::to_string(errors) +
           " flushes=" + std::to_string(flushes) + " flush_errors=" + std::to_string(flush_errors);
  }
};

class Stats {
 public:
  // Each bump is relaxed; see the header comment.
  // [quote: stats-bumps]
  void received() { received_.fetch_add(1, std::memory_order_relaxed); }
  void parsed() { parsed_.fetch_add(1, std::memory_order_relaxed); }
  void processed() { processed_.fetch_add(1, std::memory_order_relaxed); }
  void error() { errors_.fetch_add(1, std::memory_order_relaxed); }
  void flushed() { flushes_.fetch_add(1, std::memory_order_relaxed); }
  void dropped_intake() { dropped_intake_.fetch_add(1, std::memory_order_relaxed); }
  void dropped_validated() { dropped_validated_.fetch_add(1, std::memory_order_relaxed); }
  void refused_stopped() { refused_stopped_.fetch_add(1, std::memory_order_relaxed); }
  // [end quote]
  void flush_failed() { flush_errors_.fetch_add(1, std::memory_order_relaxed); }
  void invalid(Invalid r) {
    invalid_[static_cast<std::size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }

  StatsSnapshot snapshot() const {
    StatsSnapshot s;
    // relaxed: statistics, exact after the joins (header comment).
    s.received = received_.load(std::memory_order_relaxed);
    s.parsed = parsed_.load(std::memory_order_relaxed);
    s.processed = processed_.load(std::memory_order_relaxed);
    s.errors = errors_.load(std::memory_order_relaxed);
    s.flushes = flushes_.load(std::memory_order_relaxed);
    s.flush_errors = flush_errors_.load(std::memory_order_relaxed);
    s.dropped_intake = dropped_intake_.load(std::memory_order_relaxed);
    s.dropped_validated = dropped_validated_.load(std::memory_order_relaxed);
    s.refused_stopped = refused_stopped_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < kInvalidReasons; ++i)
      s.invalid[i] = invalid_[i].load(std::memory_order_relaxed);
    return s;
  }

 private:
  std::atomic<std::uint64_t> received_{0}, parsed_{0}, processed_{0}, errors_{0}, flushes_{0};
  std::atomic<std::uint64_t> flush_errors_{0};
  std::atomic<std::uint64_t> dropped_intake_{0}, dropped_validated_{0}, refused_stopped_{0};
  std::array<std::atomic<std::uint64_t>, kInvalidReasons> invalid_{};
};

}  // namespace cp::metrics
