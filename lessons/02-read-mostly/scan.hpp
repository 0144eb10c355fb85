// scan.hpp: lesson 02's case where the shared mode wins: readers that hold the lock long.
//
//   Ledger<M>    - account balances behind one lock M. transfer() moves an amount between two
//                  accounts under the exclusive lock; total() sums every balance (a scan) and
//                  balance() reads one (a lookup), both under the shared lock. Transfers keep
//                  the sum constant, so a scan that ever sees another sum saw a half-done
//                  transfer: the lock failed.
//   ScanConfig   - readers, accounts, scan or lookup, how often the writer writes, how long.
//   ScanResult   - reads done, writes done, torn scans (must be 0), seconds.
//   run_scan<M>  - readers read flat out while one writer transfers at a fixed pace (it sleeps
//                  between writes, so it is rarely runnable); returns the counts.
//
// With M = SharedMutex, readers hold the lock side by side; with ExclusiveOnlyMutex they take
// turns. A scan of 10,000 balances takes microseconds, far more than the lock's own cost, so
// on 2 cores two scanning readers approach twice the reads of one lock held by one reader at a
// time. A lookup takes nanoseconds: the lock's shared counter (one cache line both readers
// write) is then the cost, and the shared mode does not win (see the README).
#pragma once

#include <absl/base/thread_annotations.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <thread>
#include <vector>

#include "patterns/rwlock/shared_mutex.hpp"

namespace cp::lessons::l02 {

template <class M>
class Ledger {
 public:
  Ledger(std::size_t accounts, std::int64_t each) : balances_(accounts, each) {}

  void transfer(std::size_t from, std::size_t to, std::int64_t amount) ABSL_LOCKS_EXCLUDED(m_) {
    WriteLock lock(m_);
    balances_[from] -= amount;
    balances_[to] += amount;
  }

  // [quote: scan]
  std::int64_t total() const ABSL_LOCKS_EXCLUDED(m_) {
    ReadLock lock(m_);  // many readers at once with SharedMutex; one at a time with a mutex
    return std::accumulate(balances_.begin(), balances_.end(), std::int64_t{0});
  }
  // [end quote]

  std::int64_t balance(std::size_t i) const ABSL_LOCKS_EXCLUDED(m_) {
    ReadLock lock(m_);
    return balances_[i];
  }

  std::size_t accounts() const { return balances_.size(); }

 private:
  mutable M m_;
  std::vector<std::int64_t> balances_ ABSL_GUARDED_BY(m_);
};

struct ScanConfig {
  unsigned readers = 2;
  std::size_t accounts = 10'000;
  bool scan = true;                              // false: each read is one lookup
  std::chrono::microseconds write_every{1000};   // the writer's pace
  std::chrono::milliseconds duration{1000};      // used when reads_per_reader == 0
  std::uint64_t reads_per_reader = 0;            // > 0: a fixed count (tests), no timing
};

struct ScanResult {
  std::uint64_t reads = 0, writes = 0, torn = 0;
  std::int64_t sink = 0;  // the lookups' sum, printed so the compiler keeps them
  double seconds = 0;
  double reads_per_second() const { return seconds > 0 ? static_cast<double>(reads) / seconds : 0; }
};

template <class M>
ScanResult run_scan(const ScanConfig& cfg) {
  constexpr std::int64_t kEach = 100;
  Ledger<M> ledger(cfg.accounts, kEach);
  const std::int64_t expected = kEach * static_cast<std::int64_t>(cfg.accounts);
  std::atomic<bool> stop{false};
  std::atomic<unsigned> readers_left{cfg.readers};
  // The readers start after the writer's first transfer, so that every run has a write among
  // its reads: with a fixed count of reads, fast readers could otherwise finish before a
  // writer that the scheduler started late had written at all.
  std::atomic<bool> first_write_done{false};
  std::vector<std::uint64_t> reads(cfg.readers, 0), torn(cfg.readers, 0);  // one per reader
  std::vector<std::int64_t> sinks(cfg.readers, 0);
  std::uint64_t writes = 0;
  const auto start = std::chrono::steady_clock::now();
  std::thread writer([&] {
    std::uint64_t i = 0;
    // acquire: pairs with the readers' release below; only a flag, nothing else is published.
    while (!stop.load(std::memory_order_acquire) && readers_left.load(std::memory_order_acquire) > 0) {
      std::this_thread::sleep_until(start + (i + 1) * cfg.write_every);
      ledger.transfer(i % cfg.accounts, (i * 7 + 3) % cfg.accounts, static_cast<std::int64_t>(i % 50));
      if (i++ == 0) {
        first_write_done.store(true, std::memory_order_release);  // only a start signal
        first_write_done.notify_all();
      }
    }
    writes = i;
  });
  std::vector<std::thread> pool;
  for (unsigned r = 0; r < cfg.readers; ++r)
    pool.emplace_back([&, r] {
      first_write_done.wait(false, std::memory_order_acquire);  // see first_write_done
      std::uint64_t n = 0, bad = 0, k = r;
      std::int64_t sink = 0;
      const auto end = start + cfg.duration;
      while (cfg.reads_per_reader > 0 ? n < cfg.reads_per_reader
                                      : (n % 64 != 0 || std::chrono::steady_clock::now() < end)) {
        if (cfg.scan) {
          if (ledger.total() != expected) ++bad;
        } else {
          k = k * 6364136223846793005ULL + 1442695040888963407ULL;  // an LCG step: spread keys
          sink += ledger.balance(k % cfg.accounts);  // one word: nothing to tear
        }
        ++n;
      }
      reads[r] = n;
      torn[r] = bad;
      sinks[r] = sink;  // keeps the lookups from being optimised away
      readers_left.fetch_sub(1, std::memory_order_release);  // see the writer's acquire
    });
  for (auto& t : pool) t.join();
  const auto end = std::chrono::steady_clock::now();
  stop.store(true, std::memory_order_release);
  writer.join();
  ScanResult result;
  for (unsigned r = 0; r < cfg.readers; ++r) {
    result.reads += reads[r];
    result.torn += torn[r];
  }
  result.writes = writes;
  result.sink = std::accumulate(sinks.begin(), sinks.end(), std::int64_t{0});
  result.seconds = std::chrono::duration<double>(end - start).count();
  return result;
}

}  // namespace cp::lessons::l02
