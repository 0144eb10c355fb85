// shared_nothing.hpp: T threads count events into K keys (a histogram, a per-key counter):
// shared state against per-thread state merged at the end.
//
//   Sharing::atomic_shared  - one array of std::atomic<uint64_t>, fetch_add (relaxed) per event
//   Sharing::mutex_shared   - one array behind one std::mutex, locked per event
//   Sharing::merged_at_end  - each thread its own plain array; the main thread adds them up
//                             after joining (the merge is inside the timed window)
//
// Every thread's keys are drawn before the clock starts (seeded), so the window times the
// counting only. run_counting() returns the final counts; they must equal reference_counts()
// (the same streams counted by one thread, nothing shared) whatever the design.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "patterns/common/mix64.hpp"

namespace cp::lessons::strategy {

enum class Sharing { atomic_shared, mutex_shared, merged_at_end };

inline const char* to_string(Sharing s) {
  switch (s) {
    case Sharing::atomic_shared: return "shared atomics";
    case Sharing::mutex_shared: return "shared, one mutex";
    case Sharing::merged_at_end: return "per thread, merged";
  }
  return "?";
}

// key_streams: thread i's keys, uniform over [0, keys), from the seed.
inline std::vector<std::vector<std::uint32_t>> key_streams(int threads, std::uint64_t events,
                                                           std::uint32_t keys,
                                                           std::uint64_t seed) {
  if (threads < 1 || keys < 1) throw std::invalid_argument("counting: threads, keys >= 1");
  std::vector<std::vector<std::uint32_t>> streams(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    auto& s = streams[static_cast<std::size_t>(t)];
    s.resize(events);
    for (std::uint64_t i = 0; i < events; ++i)
      s[i] = static_cast<std::uint32_t>(
          cp::mix64(seed ^ (static_cast<std::uint64_t>(t) << 40) ^ i) % keys);
  }
  return streams;
}

inline std::vector<std::uint64_t> reference_counts(
    const std::vector<std::vector<std::uint32_t>>& streams, std::uint32_t keys) {
  std::vector<std::uint64_t> counts(keys, 0);
  for (const auto& s : streams)
    for (const std::uint32_t k : s) ++counts[k];
  return counts;
}

struct CountingResult {
  std::vector<std::uint64_t> counts;
  double seconds = 0;
};

inline CountingResult run_counting(Sharing how,
                                   const std::vector<std::vector<std::uint32_t>>& streams,
                                   std::uint32_t keys) {
  CountingResult result;
  result.counts.assign(keys, 0);
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  if (how == Sharing::atomic_shared) {
    std::unique_ptr<std::atomic<std::uint64_t>[]> shared(new std::atomic<std::uint64_t>[keys]{});
    for (const auto& s : streams)
      threads.emplace_back([&s, &shared] {
        // relaxed: no other data hangs on a count; join() orders these before the reads below.
        for (const std::uint32_t k : s) shared[k].fetch_add(1, std::memory_order_relaxed);
      });
    for (auto& th : threads) th.join();
    for (std::uint32_t k = 0; k < keys; ++k)
      result.counts[k] = shared[k].load(std::memory_order_relaxed);  // after join: see above
  } else if (how == Sharing::mutex_shared) {
    std::mutex mu;
    for (const auto& s : streams)
      threads.emplace_back([&s, &mu, &result] {
        for (const std::uint32_t k : s) {
          std::lock_guard lock(mu);
          ++result.counts[k];
        }
      });
    for (auto& th : threads) th.join();
  } else {
    // [quote: merged]
    std::vector<std::vector<std::uint64_t>> local(streams.size());
    for (std::size_t t = 0; t < streams.size(); ++t)
      threads.emplace_back([&s = streams[t], &mine = local[t], keys] {
        mine.assign(keys, 0);  // allocated by its own thread: no line shared with another
        for (const std::uint32_t k : s) ++mine[k];
      });
    for (auto& th : threads) th.join();
    for (const auto& mine : local)  // the merge: K additions per thread, once
      for (std::uint32_t k = 0; k < keys; ++k) result.counts[k] += mine[k];
    // [end quote]
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace cp::lessons::strategy
