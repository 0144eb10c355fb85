// clock.hpp: the wall clock the validator and the flusher read, injectable for tests.
//
//   Clock        - now_ms(): milliseconds since the Unix epoch. Any thread.
//   SystemClock  - std::chrono::system_clock.
//   ManualClock  - a test's clock: it only moves when the test calls set() or advance().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace cp::metrics {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ms) : now_(start_ms) {}
  // acquire/release: a thread that reads a time the test set also sees what the test wrote
  // before setting it (the tests set the clock, then poke the flusher).
  std::int64_t now_ms() const override { return now_.load(std::memory_order_acquire); }
  void set(std::int64_t ms) { now_.store(ms, std::memory_order_release); }
  void advance(std::int64_t ms) { now_.fetch_add(ms, std::memory_order_acq_rel); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace cp::metrics
