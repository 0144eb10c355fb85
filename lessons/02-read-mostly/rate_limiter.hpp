// rate_limiter.hpp: lesson 02's sliding-window rate limiter, built on a read-write lock.
//
//   SteadyClock               - std::chrono::steady_clock as an object (the real clock).
//   ManualClock               - a clock a test moves by hand, so windows are deterministic.
//   ExclusiveOnlyMutex        - a plain mutex behind the read-write interface: readers exclude
//                               each other too. Plugged in as the map lock it gives the
//                               plain-mutex limiter the lesson compares against.
//   SlidingWindowRateLimiter  - allows a client's request if that client made fewer than
//                               `max_requests` allowed requests within the last `window`.
//
// Two kinds of state, two kinds of lock:
//   - the client map (name -> that client's window) is read on every request but written only
//     when a client is seen for the first time: read-mostly, so a read-write lock lets all the
//     requests of known clients look their window up in parallel;
//   - a client's window (the timestamps of its recent allowed requests) is written on every
//     request of that client: write-always, so a plain mutex, one per client, so that
//     different clients never wait for each other.
//
// Contract: try_acquire() is thread-safe and linearizable per client (each client's decisions
// happen in one order, that of its mutex); it blocks only for the short critical sections
// above. Entries are never removed, which is what makes handing out a ClientWindow& after the
// map lock is released safe (see window_of). Memory: one window of <= max_requests stamps
// per client ever seen; a real service would also evict idle clients.
#pragma once

#include <absl/base/thread_annotations.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

#include "patterns/mutex/mutex.hpp"
#include "patterns/rwlock/shared_mutex.hpp"

namespace cp::lessons {

using TimePoint = std::chrono::steady_clock::time_point;

struct SteadyClock {
  TimePoint now() const { return std::chrono::steady_clock::now(); }
};

// ManualClock: starts at the epoch and moves only when advance() is called. Thread-safe.
class ManualClock {
 public:
  TimePoint now() const {
    // Relaxed: the time is a value on its own; tests advance it between requests.
    return TimePoint(std::chrono::nanoseconds(ns_.load(std::memory_order_relaxed)));
  }
  void advance(std::chrono::nanoseconds d) { ns_.fetch_add(d.count(), std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> ns_{0};
};

// ExclusiveOnlyMutex: lock_shared() is an exclusive lock. (std::mutex inside, not cp::Mutex:
// the analysis should see this class as the capability, not a second one inside it.)
class ABSL_LOCKABLE ExclusiveOnlyMutex {
 public:
  static constexpr std::string_view name = "std::mutex (readers exclusive)";
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { m_.lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { m_.unlock(); }
  void lock_shared() ABSL_SHARED_LOCK_FUNCTION() { m_.lock(); }
  void unlock_shared() ABSL_UNLOCK_FUNCTION() { m_.unlock(); }

 private:
  std::mutex m_;
};

template <class Clock = SteadyClock, class MapMutex = SharedMutex>
class SlidingWindowRateLimiter {
 public:
  struct Decision {
    bool allowed;
    TimePoint at;  // the time the decision was taken (under the client's lock)
  };

  SlidingWindowRateLimiter(std::size_t max_requests, std::chrono::nanoseconds window)
      : max_requests_(max_requests), window_(window) {
    if (max_requests == 0 || window <= std::chrono::nanoseconds::zero())
      throw std::invalid_argument("SlidingWindowRateLimiter: max_requests and window must be > 0");
  }

  // try_acquire: records one request of `client` now and says whether it is allowed.
  // Thread-safe; never waits on other clients' requests beyond a map lookup.
  // [quote: try-acquire]
  Decision try_acquire(std::string_view client) ABSL_LOCKS_EXCLUDED(map_mu_) {
    ClientWindow& w = window_of(client);
    MutexLock lock(w.mu);
    // Read the clock under the client's lock: then the stamps are pushed in time order,
    // and the oldest stamp is always at the front.
    const TimePoint now = clock_.now();
    while (!w.stamps.empty() && w.stamps.front() <= now - window_) w.stamps.pop_front();
    if (w.stamps.size() >= max_requests_) return {false, now};  // denied: not recorded
    w.stamps.push_back(now);
    return {true, now};
  }
  // [end quote]

  // clients: how many distinct clients have been seen.
  std::size_t clients() const ABSL_LOCKS_EXCLUDED(map_mu_) {
    ReadLock<MapMutex> read(map_mu_);
    return windows_.size();
  }

  std::size_t max_requests() const { return max_requests_; }
  std::chrono::nanoseconds window() const { return window_; }
  Clock& clock() { return clock_; }

 private:
  // [quote: state]
  struct ClientWindow {
    Mutex mu;                                         // written on every request: exclusive
    std::deque<TimePoint> stamps ABSL_GUARDED_BY(mu);  // allowed requests, oldest first
  };

  struct NameHash {  // lets find() take a string_view without building a std::string
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  mutable MapMutex map_mu_;  // read on every request, written for a new client: read-mostly
  std::unordered_map<std::string, std::unique_ptr<ClientWindow>, NameHash, std::equal_to<>>
      windows_ ABSL_GUARDED_BY(map_mu_);
  // [end quote]

  // window_of: the client's window, created on first sight. The reference stays valid after
  // the map lock is released because windows are never erased and live behind a unique_ptr
  // (a rehash moves the pointer, not the window). Add eviction and this is no longer true.
  // [quote: window-of]
  ClientWindow& window_of(std::string_view client) ABSL_LOCKS_EXCLUDED(map_mu_) {
    {
      ReadLock<MapMutex> read(map_mu_);  // the common case: a known client, readers in parallel
      if (const auto it = windows_.find(client); it != windows_.end()) return *it->second;
    }
    WriteLock<MapMutex> write(map_mu_);  // a new client: exclusive, and look again, because
    auto& slot = windows_[std::string(client)];  // another thread may have added it meanwhile
    if (!slot) slot = std::make_unique<ClientWindow>();
    return *slot;
  }
  // [end quote]

  const std::size_t max_requests_;
  const std::chrono::nanoseconds window_;
  Clock clock_;
};

}  // namespace cp::lessons
