// flusher.hpp: Flusher<Store>, which closes the store's current window every interval.
//
//   tick   - reads the injected clock; if the interval has passed since the last flush, flushes
//            (the window ends at "now") and schedules the next one an interval later. A tick
//            that comes late flushes once: the missed intervals become one longer window, which
//            its [start, end) records. One thread at a time (the flusher thread, or a test).
//            A clock read or a store flush that throws is counted (Stats::flush_failed) and
//            the window stays open: the next tick tries again. Nothing escapes a tick.
//   start  - runs tick() on a thread of its own, waking every poll_ms of real time.
//   stop   - ends that thread (idempotent, one caller at a time); the pipeline then makes the
//            final flush.
// Tests drive tick() with a ManualClock and no thread: no sleeping, no timing in the test.
#pragma once

#include <absl/base/thread_annotations.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <stdexcept>
#include <thread>

#include "lessons/09-metrics-pipeline/clock.hpp"
#include "lessons/09-metrics-pipeline/stats.hpp"
#include "patterns/actor/signal_mutex.hpp"

namespace cp::metrics {

template <class Store>
class Flusher {
 public:
  Flusher(Store& store, const Clock& clock, std::int64_t interval_ms, Stats& stats)
      : store_(store), clock_(clock), interval_ms_(interval_ms), stats_(stats),
        next_due_ms_(clock.now_ms() + interval_ms) {
    if (interval_ms <= 0) throw std::invalid_argument("Flusher: interval must be > 0 ms");
  }
  ~Flusher() { stop(); }
  Flusher(const Flusher&) = delete;
  Flusher& operator=(const Flusher&) = delete;

  bool tick() {
    std::int64_t now = 0;
    try {
      now = clock_.now_ms();
    } catch (...) {  // a user's clock: count, and try again at the next tick
      stats_.flush_failed();
      return false;
    }
    if (now < next_due_ms_) return false;
    if (!flush_at(now)) return false;
    next_due_ms_ = now + interval_ms_;
    return true;
  }

  // flush_at: one flush now, whatever the schedule. False (counted as a flush error) if the
  // store's flush threw.
  bool flush_at(std::int64_t now_ms) { return flush_counted(store_, stats_, now_ms); }

  // flush_counted: store.flush(now_ms), counted as a flush or, if it threw, a flush error.
  static bool flush_counted(Store& store, Stats& stats, std::int64_t now_ms) {
    try {
      store.flush(now_ms);
    } catch (...) {
      stats.flush_failed();
      return false;
    }
    stats.flushed();
    return true;
  }

  void start(std::int64_t poll_ms) {
    thread_ = std::thread([this, poll_ms] {
      while (true) {
        {
          actor::SignalLock lock(mu_);
          if (!stopping_)
            mu_.wait_until(wake_, std::chrono::steady_clock::now() +
                                      std::chrono::milliseconds(poll_ms));
          if (stopping_) return;
        }
        tick();  // without the lock: a flush may wait for room in the owner store's ring
      }
    });
  }

  void stop() {
    {
      actor::SignalLock lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  Store& store_;
  const Clock& clock_;
  const std::int64_t interval_ms_;
  Stats& stats_;
  std::int64_t next_due_ms_;  // tick()'s caller only
  actor::SignalMutex mu_;
  std::condition_variable wake_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace cp::metrics
