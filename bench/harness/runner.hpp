// runner.hpp: the closed-loop run of one workload driver on one design at one thread count.
//
//   RunOptions       - warm-up and stop-check settings of a run.
//   LatencySummary   - the percentiles a report prints, read from a merged histogram.
//   RunResult        - one benchmark row: throughput, latency histogram, correctness verdict.
//   run_closed_loop  - builds the driver, runs `threads` clients for `seconds`, verifies.
//
// Closed loop: each client issues its next operation as soon as the previous one returned, so
// the row shows the design's saturation throughput. Its latencies understate the tail: a client
// stalled behind a slow operation issues nothing meanwhile (coordinated omission). The open-loop
// runner (a fixed offered rate, latency measured from the intended start) comes separately.
//
// Per client thread the hot loop is
//
//     drv.next(t);                      // untimed: draw the operation
//     t0 = now(); drv.execute(t); t1 = now();
//     histogram.record(t1 - t0);        // thread-local, no allocation
//
// a template over the driver: no virtual call, allocation or lock per operation. The clients
// start together (a latch), warm up, then measure until the main thread (asleep meanwhile, so
// it takes no core) raises the stop phase; clients poll it with a relaxed load once every
// kOpsPerStopCheck operations. Per-thread histograms are merged after join.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <latch>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "bench/harness/histogram.hpp"
#include "bench/harness/timer.hpp"
#include "comparisons/common/driver.hpp"
#include "comparisons/common/traits.hpp"

namespace cp::bench {

struct RunOptions {
  // Warm-up before measuring: max(min_warmup, warmup_fraction * seconds), capped at max_warmup.
  double warmup_fraction = 0.1;
  double min_warmup_seconds = 0.01;
  double max_warmup_seconds = 0.2;
};

// Operations between two looks at the stop flag: enough to make the load's cost vanish, few
// enough that stopping overshoots the window by microseconds, not milliseconds.
inline constexpr unsigned kOpsPerStopCheck = 32;

struct LatencySummary {
  std::uint64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, p9999 = 0, min = 0, max = 0;
  double mean = 0;

  static LatencySummary of(const LatencyHistogram& h) {
    return {h.value_at_percentile(50),   h.value_at_percentile(90),   h.value_at_percentile(99),
            h.value_at_percentile(99.9), h.value_at_percentile(99.99), h.min(),
            h.max(),                     h.mean()};
  }
};

struct RunResult {
  std::string workload;        // Driver::workload_name
  std::string params;          // Driver::describe()
  std::string design;          // traits.name
  DesignTraits traits{};
  unsigned threads = 0;        // client threads (threads a design owns are not counted here)
  double requested_seconds = 0;
  std::uint64_t seed = 0;
  std::uint64_t ops = 0;       // measured operations, all threads
  double wall_seconds = 0;     // measurement window: start signal to the last client's stop
  double throughput = 0;       // ops / wall_seconds
  LatencyHistogram histogram;  // every measured operation, all threads merged
  LatencySummary latency;
  Verdict verdict;
};

namespace detail {

enum class Phase : int { warmup, measure, stop };

template <class Thread>
inline constexpr bool kCanMoveThreadState =
    std::is_move_constructible_v<Thread> && std::is_move_assignable_v<Thread>;

// What one client thread hands back after the run.
struct ClientOutcome {
  LatencyHistogram histogram;
  std::uint64_t ops = 0;
  BenchClock::time_point last_op_end{};
  std::string error;  // an exception escaped the driver or design
};

template <class Driver>
void client_loop(Driver& driver, typename Driver::Thread& state,
                 const std::atomic<Phase>& phase, ClientOutcome& out) {
  // Locals, not `out`'s members: outcomes of neighbouring clients sit side by side in memory, and
  // writing count/sum/min/max there on every operation would share cache lines between cores.
  LatencyHistogram histogram;
  // Relaxed loads of `phase`: it carries no data (results travel through join), only "keep
  // going"; it pairs with the main thread's relaxed stores in run_closed_loop.
  while (phase.load(std::memory_order_relaxed) == Phase::warmup) {
    for (unsigned k = 0; k < kOpsPerStopCheck; ++k) {
      driver.next(state);
      driver.execute(state);
    }
  }
  std::uint64_t ops = 0;
  BenchClock::time_point t1{};
  do {
    for (unsigned k = 0; k < kOpsPerStopCheck; ++k) {
      driver.next(state);
      const auto t0 = BenchClock::now();
      driver.execute(state);
      t1 = BenchClock::now();
      histogram.record(elapsed_ns(t0, t1));
    }
    ops += kOpsPerStopCheck;
  } while (phase.load(std::memory_order_relaxed) == Phase::measure);
  out.histogram = std::move(histogram);
  out.ops = ops;
  out.last_op_end = t1;
}

inline std::chrono::nanoseconds to_duration(double seconds) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9));
}

}  // namespace detail

// run_closed_loop: one benchmark row. Throws std::invalid_argument for threads == 0, a
// non-positive duration, or threads > 1 on a design that is not thread-safe (the reference).
// The driver's constructor may throw for bad params; that propagates too. An exception inside a
// client (the driver or the design threw) does not escape: the row's verdict fails with it.
template <WorkloadDriver Driver>
RunResult run_closed_loop(const typename Driver::Params& params, unsigned threads, double seconds,
                          std::uint64_t seed, const RunOptions& options = {}) {
  using Design = typename Driver::Design;
  using Thread = typename Driver::Thread;
  if (threads == 0) throw std::invalid_argument("run_closed_loop: threads must be > 0");
  if (!(seconds > 0)) throw std::invalid_argument("run_closed_loop: seconds must be > 0");
  if (!Design::traits.thread_safe && threads != 1)
    throw std::invalid_argument("run_closed_loop: design '" + std::string(Design::traits.name) +
                                "' is not thread-safe; it runs at 1 thread only");

  RunResult result;
  result.workload = std::string(Driver::workload_name);
  result.design = std::string(Design::traits.name);
  result.traits = Design::traits;
  result.threads = threads;
  result.requested_seconds = seconds;
  result.seed = seed;

  Driver driver(params, threads, seed);
  result.params = driver.describe();

  // Per-client state is made here, in order, on one thread (make_thread need not be
  // thread-safe); each client moves its state into a local so that no two clients' hot state
  // shares a cache line, and moves it back for verify().
  std::vector<Thread> states;
  states.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) states.push_back(driver.make_thread(i));

  std::vector<detail::ClientOutcome> outcomes(threads);
  std::atomic<detail::Phase> phase{detail::Phase::warmup};
  std::latch ready(threads);
  std::latch go(1);

  std::vector<std::thread> clients;
  clients.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    clients.emplace_back([&, i] {
      detail::ClientOutcome& out = outcomes[i];
      ready.count_down();  // first, unconditionally: the main thread waits for every client
      go.wait();
      try {
        if constexpr (detail::kCanMoveThreadState<Thread>) {
          // Moves the state back for verify() however client_loop ends.
          struct MoveBack {
            Thread& home;
            Thread local;
            ~MoveBack() { home = std::move(local); }
          } guard{states[i], std::move(states[i])};
          detail::client_loop(driver, guard.local, phase, out);
        } else {
          detail::client_loop(driver, states[i], phase, out);
        }
      } catch (const std::exception& e) {
        out.error = e.what();
      } catch (...) {
        out.error = "unknown exception";
      }
    });
  }

  const double warmup = std::min(
      options.max_warmup_seconds,
      std::max(options.min_warmup_seconds, options.warmup_fraction * seconds));
  ready.wait();
  go.count_down();
  std::this_thread::sleep_for(detail::to_duration(warmup));
  const auto start = BenchClock::now();
  phase.store(detail::Phase::measure, std::memory_order_relaxed);
  std::this_thread::sleep_for(detail::to_duration(seconds));
  phase.store(detail::Phase::stop, std::memory_order_relaxed);
  auto end = BenchClock::now();
  for (auto& c : clients) c.join();

  std::string errors;
  for (const auto& out : outcomes) {
    result.histogram.merge(out.histogram);
    result.ops += out.ops;
    end = std::max(end, out.last_op_end);
    if (!out.error.empty() && errors.empty()) errors = out.error;
  }
  result.wall_seconds = std::chrono::duration<double>(end - start).count();
  result.throughput = result.wall_seconds > 0 ? result.ops / result.wall_seconds : 0;
  result.latency = LatencySummary::of(result.histogram);

  if (!errors.empty()) {
    result.verdict = {false, "exception in a client: " + errors};
  } else {
    try {
      result.verdict = driver.verify(states);
    } catch (const std::exception& e) {
      result.verdict = {false, std::string("exception in verify: ") + e.what()};
    }
  }
  return result;
}

}  // namespace cp::bench
