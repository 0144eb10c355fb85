// slow_work.hpp: lesson 03, pitfall 1: holding a lock across slow work, and the copy-out cure.
//
//   Cents            - a price in integer cents (exact, so two refresh methods can be compared).
//   reprice()        - the slow work: a sleep standing for a call to a pricing service or a
//                      long computation, then a deterministic new price for every item.
//   PriceBook        - prices behind one cp::Mutex. Readers call price_of(); a refresher calls
//                      refresh_holding_lock() (the pitfall) or refresh_copy_out() (the cure).
//   LatencyHistogram - power-of-two buckets of nanoseconds: how long readers waited.
//   measure_readers()- runs reader threads and one refresher for a while and reports the
//                      readers' throughput (closed loop) or their latency at a fixed offered
//                      rate (open loop).
#pragma once

#include <absl/base/thread_annotations.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <latch>
#include <thread>
#include <utility>
#include <vector>

#include "patterns/mutex/mutex.hpp"

namespace cp::lessons {

using Cents = std::int64_t;

// reprice: the slow work. Every price rises by 1% (rounded down) plus one cent.
inline std::vector<Cents> reprice(std::vector<Cents> prices, std::chrono::microseconds delay) {
  std::this_thread::sleep_for(delay);  // stands for I/O or a long computation
  for (auto& p : prices) p += p / 100 + 1;
  return prices;
}

class PriceBook {
 public:
  explicit PriceBook(std::size_t items) {
    MutexLock lock(mu_);
    for (std::size_t i = 0; i < items; ++i) prices_.push_back(100 + static_cast<Cents>(i));
  }

  // price_of: what readers call, many times a second. Holds the lock for a few nanoseconds.
  Cents price_of(std::size_t item) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    return prices_[item % prices_.size()];
  }

  // snapshot: every price and the version they belong to, read together.
  std::pair<std::vector<Cents>, std::uint64_t> snapshot() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    return {prices_, version_};
  }

  // refresh_holding_lock: THE PITFALL. Correct, but every reader waits for the whole slow
  // computation, because the lock is held across it.
  // [quote: holding]
  void refresh_holding_lock(std::chrono::microseconds delay) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    prices_ = reprice(prices_, delay);  // readers are blocked for all of `delay`
    ++version_;
  }
  // [end quote]

  // refresh_copy_out: THE CURE. Copy under the lock, compute with no lock held, reacquire to
  // publish. Returns false, publishing nothing, if another refresh published in between:
  // our result was computed from prices that are no longer current, and storing it would
  // silently undo that other refresh (a lost update). The caller may retry.
  // [quote: copy-out]
  bool refresh_copy_out(std::chrono::microseconds delay) ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<Cents> input;
    std::uint64_t input_version = 0;
    {
      MutexLock lock(mu_);  // 1. copy out: a short critical section
      input = prices_;
      input_version = version_;
    }
    std::vector<Cents> output = reprice(std::move(input), delay);  // 2. no lock held
    MutexLock lock(mu_);  // 3. reacquire to publish, if nobody published meanwhile
    if (version_ != input_version) return false;
    prices_ = std::move(output);
    ++version_;
    return true;
  }
  // [end quote]

 private:
  Mutex mu_;
  std::vector<Cents> prices_ ABSL_GUARDED_BY(mu_);
  std::uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
};

// LatencyHistogram: bucket b counts waits in [2^(b-1), 2^b) ns. Percentiles are reported as
// the bucket's upper bound: "p99 <= 64 us" is accurate to a factor of two, enough here.
struct LatencyHistogram {
  std::array<std::uint64_t, 64> buckets{};
  std::uint64_t count = 0;
  std::int64_t max_ns = 0;

  void record(std::int64_t ns) {
    ++buckets[static_cast<std::size_t>(std::bit_width(static_cast<std::uint64_t>(ns > 0 ? ns : 0)))];
    ++count;
    if (ns > max_ns) max_ns = ns;
  }
  void merge(const LatencyHistogram& o) {
    for (std::size_t b = 0; b < buckets.size(); ++b) buckets[b] += o.buckets[b];
    count += o.count;
    if (o.max_ns > max_ns) max_ns = o.max_ns;
  }
  // upper_bound_ns: the smallest power of two that at least `fraction` of waits were below
  // (or the maximum, if that is smaller).
  std::int64_t upper_bound_ns(double fraction) const {
    std::uint64_t seen = 0;
    for (std::size_t b = 0; b < buckets.size(); ++b) {
      seen += buckets[b];
      if (static_cast<double>(seen) >= fraction * static_cast<double>(count))
        return std::min(std::int64_t{1} << b, max_ns);
    }
    return max_ns;
  }
};

struct ReaderReport {
  LatencyHistogram waits;       // per lookup: completion minus start (or intended start)
  std::chrono::nanoseconds run{};
  std::uint64_t refreshes = 0;  // refreshes published during the run
  double lookups_per_second() const {
    return static_cast<double>(waits.count) / (static_cast<double>(run.count()) / 1e9);
  }
};

enum class Refresh { holding_lock, copy_out };

// measure_readers: `readers` threads call price_of() for `run`, while one refresher repeats
// { refresh with `slow` work; sleep `pause` }.
//   pace == 0: closed loop. Each reader looks up as fast as it can; a lookup's time is from
//              its call to its return. Gives throughput, but hides stalls: a reader blocked
//              for 20 ms records one slow lookup, not the thousands it failed to make.
//   pace > 0:  open loop. Reader lookup i is *intended* at start + i * pace; its time is
//              from the intended start to its return, so every lookup that queued behind a
//              stall counts the stall (the correction for "coordinated omission").
inline ReaderReport measure_readers(Refresh how, unsigned readers, std::chrono::milliseconds run,
                                    std::chrono::microseconds slow, std::chrono::microseconds pause,
                                    std::chrono::nanoseconds pace = {}) {
  using Clock = std::chrono::steady_clock;
  PriceBook book(1000);
  std::atomic<bool> stop{false};
  std::vector<LatencyHistogram> per_reader(readers);
  std::latch start(readers + 2);
  ReaderReport report;
  Clock::time_point begin;  // written before start's release; read by readers after it
  std::vector<std::thread> threads;
  for (unsigned r = 0; r < readers; ++r)
    threads.emplace_back([&, r] {
      start.arrive_and_wait();
      // At least one lookup, however late this thread gets a core. Relaxed: `stop` carries
      // no data; the results are read after join().
      for (std::size_t i = 0; i == 0 || !stop.load(std::memory_order_relaxed); ++i) {
        auto from = Clock::now();
        if (pace.count() > 0) {
          const auto intended = begin + pace * static_cast<std::int64_t>(i);
          while (Clock::now() < intended) std::this_thread::yield();  // ahead: wait our turn
          from = intended;                                              // behind: count the lag
        }
        const Cents p = book.price_of(i + r);
        const auto done = Clock::now();
        if (p <= 0) std::abort();  // uses p, so the lookup cannot be optimised away
        per_reader[r].record((done - from).count());
      }
    });
  threads.emplace_back([&] {
    start.arrive_and_wait();
    do {  // at least one refresh, however late this thread gets a core
      if (how == Refresh::holding_lock) {
        book.refresh_holding_lock(slow);
        ++report.refreshes;
      } else if (book.refresh_copy_out(slow)) {
        ++report.refreshes;
      }
      std::this_thread::sleep_for(pause);
    } while (!stop.load(std::memory_order_relaxed));
  });
  begin = Clock::now();
  start.arrive_and_wait();  // the latch orders the write of `begin` before the readers' reads
  std::this_thread::sleep_for(run);
  stop.store(true, std::memory_order_relaxed);
  report.run = Clock::now() - begin;
  for (auto& t : threads) t.join();
  for (const auto& h : per_reader) report.waits.merge(h);
  return report;
}

}  // namespace cp::lessons
