// limiter_workload.hpp: the load lesson 02 puts on a rate limiter, and the check of its limit.
//
//   client_names()        - "client-00", "client-01", ...
//   run_clients()         - T threads, each sending R requests for clients drawn at random,
//                           released together by a latch; tallies per client, merged after.
//   max_in_any_window()   - the most allowed requests any window of the given length holds:
//                           the independent check that no client exceeded the limit.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "comparisons/common/random.hpp"
#include "lessons/02-read-mostly/rate_limiter.hpp"

namespace cp::lessons {

inline std::vector<std::string> client_names(unsigned n) {
  std::vector<std::string> names;
  for (unsigned i = 0; i < n; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "client-%02u", i);
    names.emplace_back(buf);
  }
  return names;
}

struct ClientTally {
  std::int64_t allowed = 0, denied = 0;
  std::vector<TimePoint> allowed_at;  // sorted after run_clients returns
};

struct WorkloadResult {
  std::vector<ClientTally> clients;
  std::chrono::nanoseconds elapsed{};
  std::int64_t requests() const {
    std::int64_t n = 0;
    for (const auto& c : clients) n += c.allowed + c.denied;
    return n;
  }
};

// run_clients: the threads share nothing but the limiter; each keeps its own tallies.
template <class Limiter>
WorkloadResult run_clients(Limiter& limiter, const std::vector<std::string>& names,
                           unsigned threads, std::int64_t requests_per_thread, std::uint64_t seed) {
  std::vector<std::vector<ClientTally>> per_thread(threads, std::vector<ClientTally>(names.size()));
  std::latch start(threads + 1);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      Xoshiro256 rng(derive_seed(seed, t));
      auto& mine = per_thread[t];
      start.arrive_and_wait();
      for (std::int64_t i = 0; i < requests_per_thread; ++i) {
        const auto c = rng.below(names.size());
        const auto d = limiter.try_acquire(names[c]);
        if (d.allowed) {
          ++mine[c].allowed;
          mine[c].allowed_at.push_back(d.at);
        } else {
          ++mine[c].denied;
        }
      }
    });
  const auto begin = std::chrono::steady_clock::now();
  start.arrive_and_wait();
  for (auto& w : workers) w.join();
  WorkloadResult r;
  r.elapsed = std::chrono::steady_clock::now() - begin;
  r.clients.resize(names.size());
  for (const auto& mine : per_thread)
    for (std::size_t c = 0; c < names.size(); ++c) {
      r.clients[c].allowed += mine[c].allowed;
      r.clients[c].denied += mine[c].denied;
      r.clients[c].allowed_at.insert(r.clients[c].allowed_at.end(), mine[c].allowed_at.begin(),
                                     mine[c].allowed_at.end());
    }
  for (auto& c : r.clients) std::sort(c.allowed_at.begin(), c.allowed_at.end());
  return r;
}

// max_in_any_window: for sorted stamps, the largest number of them inside one window
// (t - window, t]. The limiter is correct for a client iff this is <= max_requests.
// [quote: check]
inline std::size_t max_in_any_window(const std::vector<TimePoint>& sorted,
                                     std::chrono::nanoseconds window) {
  std::size_t most = 0, first = 0;
  for (std::size_t last = 0; last < sorted.size(); ++last) {
    while (sorted[first] <= sorted[last] - window) ++first;  // drop stamps that fell out
    most = std::max(most, last - first + 1);
  }
  return most;
}
// [end quote]

}  // namespace cp::lessons
