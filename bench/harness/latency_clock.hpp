// latency_clock.hpp: the clock of the latency passes: rdtscp where the TSC is safe, else
// steady_clock, chosen once per process and printed in the run's header.
//
//   LatencyClockInfo   - which clock, its calibration, and why it was chosen.
//   latency_clock_info - the choice, made on first use (detect_latency_clock).
//   LatencyTimer       - now() in ticks and ticks -> ns: a copy of the choice in a client's
//                        registers, so a timed operation pays one predictable branch.
//
// Why. A steady_clock read is a vDSO clock_gettime: ~20 ns here, more than many operations it
// times. rdtscp reads the CPU's time-stamp counter in ~7-10 ns. It is a clock only when
//   - the CPU says the TSC ticks at a constant rate whatever the frequency and sleep states
//     (/proc/cpuinfo flags constant_tsc and nonstop_tsc), and
//   - the cores' counters agree: a value read on one core and then, after a hand-off, on
//     another never goes back (checked here in both directions between two pinned threads;
//     a VM may not synchronise its vCPUs' counters).
// Then its ticks are converted with a rate calibrated against steady_clock over ~20 ms.
// Otherwise, or with CP_BENCH_CLOCK=steady in the environment, steady_clock is used.
//
// rdtscp (not rdtsc): it waits until the earlier instructions have executed, so the operation
// being timed is not reordered past the second read. Later instructions may start before it:
// that can only lengthen a sample, never shorten it.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define CP_BENCH_HAVE_RDTSCP 1
#else
#define CP_BENCH_HAVE_RDTSCP 0
#endif

namespace cp::bench {

struct LatencyClockInfo {
  bool tsc = false;          // rdtscp; else steady_clock
  double ns_per_tick = 1.0;  // steady_clock: 1 (it counts nanoseconds)
  std::string why;           // one line for the header: the checks and their outcome

  std::string name() const { return tsc ? "rdtscp" : "steady_clock"; }
};

namespace detail {

inline std::uint64_t read_tsc() noexcept {
#if CP_BENCH_HAVE_RDTSCP
  unsigned aux = 0;
  return __rdtscp(&aux);
#else
  return 0;
#endif
}

inline std::uint64_t steady_ns() noexcept {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// cpu_flags: the "flags" line of /proc/cpuinfo's first processor (empty when unreadable).
inline std::string cpu_flags() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("flags", 0) == 0) return " " + line.substr(line.find(':') + 1) + " ";
  return {};
}

inline bool has_flag(const std::string& flags, const std::string& flag) {
  return flags.find(" " + flag + " ") != std::string::npos;
}

// tsc_monotonic_across: two threads pinned to cpus a and b pass a TSC reading back and forth
// `rounds` times; each checks that its own reading is not below the one it received. The
// hand-off is a release store / acquire load pair, so the receiver reads its counter after the
// sender read its own. Returns false when a reading went back or a thread could not be pinned.
inline bool tsc_monotonic_across(int a, int b, int rounds = 2000) {
  std::atomic<std::uint64_t> baton{0};  // a TSC value, odd rounds from a, even from b
  std::atomic<int> turn{0};             // whose move: even a, odd b
  std::atomic<bool> ok{true};
  auto player = [&](int cpu, int parity) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0) {
      ok.store(false);
    }
    for (int r = parity; r < 2 * rounds; r += 2) {
      // Acquire: pairs with the other player's release store of `turn` below, after which
      // its `baton` store is visible.
      while (turn.load(std::memory_order_acquire) != r) {
        if (!ok.load(std::memory_order_relaxed)) return;
      }
      const std::uint64_t mine = read_tsc();
      // Relaxed: published by the release store of `turn` that follows.
      if (r > 0 && mine < baton.load(std::memory_order_relaxed)) ok.store(false);
      baton.store(read_tsc(), std::memory_order_relaxed);
      turn.store(r + 1, std::memory_order_release);  // pairs with the acquire load above
    }
  };
  std::thread ta(player, a, 0), tb(player, b, 1);
  ta.join();
  tb.join();
  return ok.load();
}

// allowed_cpus: the cpus this process may run on.
inline std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

// calibrate_ns_per_tick: steady_clock ns per TSC tick over ~20 ms; each end is the pair of
// readings taken closest together of a few tries, so a preemption between them does not count.
inline double calibrate_ns_per_tick() {
  auto pair = [] {
    std::uint64_t best_gap = ~0ULL, tsc = 0, ns = 0;
    for (int i = 0; i < 16; ++i) {
      const std::uint64_t t0 = read_tsc();
      const std::uint64_t n = steady_ns();
      const std::uint64_t t1 = read_tsc();
      if (t1 - t0 < best_gap) {
        best_gap = t1 - t0;
        tsc = t0 + (t1 - t0) / 2;
        ns = n;
      }
    }
    return std::pair{tsc, ns};
  };
  const auto [tsc0, ns0] = pair();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto [tsc1, ns1] = pair();
  if (tsc1 <= tsc0) return 0;
  return static_cast<double>(ns1 - ns0) / static_cast<double>(tsc1 - tsc0);
}

inline LatencyClockInfo detect_latency_clock() {
  LatencyClockInfo info;
  const char* forced = std::getenv("CP_BENCH_CLOCK");
  if (forced != nullptr && std::string(forced) == "steady") {
    info.why = "CP_BENCH_CLOCK=steady";
    return info;
  }
#if !CP_BENCH_HAVE_RDTSCP
  info.why = "no rdtscp on this architecture";
  return info;
#else
  const std::string flags = cpu_flags();
  for (const char* flag : {"rdtscp", "constant_tsc", "nonstop_tsc"}) {
    if (!has_flag(flags, flag)) {
      info.why = std::string("/proc/cpuinfo lacks ") + flag;
      return info;
    }
  }
  const std::vector<int> cpus = allowed_cpus();
  for (std::size_t i = 1; i < cpus.size(); ++i) {
    if (!tsc_monotonic_across(cpus[0], cpus[i])) {
      info.why = "the TSC went back between cpus " + std::to_string(cpus[0]) + " and " +
                 std::to_string(cpus[i]);
      return info;
    }
  }
  const double ns_per_tick = calibrate_ns_per_tick();
  if (!(ns_per_tick > 0.01 && ns_per_tick < 100)) {
    info.why = "the TSC calibration failed";
    return info;
  }
  info.tsc = true;
  info.ns_per_tick = ns_per_tick;
  std::ostringstream why;
  why.precision(3);
  why << "invariant TSC (constant_tsc nonstop_tsc), monotonic across " << cpus.size()
      << " cpus, " << 1.0 / ns_per_tick << " GHz against steady_clock";
  info.why = why.str();
  return info;
#endif
}

}  // namespace detail

// latency_clock_info: the process's choice, made once (thread-safe static initialisation).
inline const LatencyClockInfo& latency_clock_info() {
  static const LatencyClockInfo info = detail::detect_latency_clock();
  return info;
}

// LatencyTimer: reads the chosen clock. Copy one into each client (two plain members).
class LatencyTimer {
 public:
  LatencyTimer() : tsc_(latency_clock_info().tsc), ns_per_tick_(latency_clock_info().ns_per_tick) {}

  std::uint64_t now() const noexcept { return tsc_ ? detail::read_tsc() : detail::steady_ns(); }

  // elapsed_ns: nanoseconds from reading `start` to reading `end` (0 if `end` is earlier).
  std::uint64_t elapsed_ns(std::uint64_t start, std::uint64_t end) const noexcept {
    if (end <= start) return 0;
    return tsc_ ? static_cast<std::uint64_t>(static_cast<double>(end - start) * ns_per_tick_)
                : end - start;
  }

 private:
  bool tsc_;
  double ns_per_tick_;
};

}  // namespace cp::bench
