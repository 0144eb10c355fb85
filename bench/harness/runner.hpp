// runner.hpp: the closed-loop run of one workload driver on one design at one thread count, and
// the machinery every load model shares (open_loop.hpp adds the fixed-rate one).
//
//   OpenWait            - how an open-loop client waits for its next start (open_loop.hpp).
//   RunOptions          - a run's settings: warm-up, the closed rows' latency pass, the open
//                         wait policy and the cores it counts, and (tests) a fixed call count.
//   LoadModel           - closed (saturation) or open (fixed offered rate).
//   LatencySummary      - the percentiles a report prints, read from a merged histogram.
//   RunResult           - one benchmark row: throughput, latency histogram, correctness verdict.
//   design_is_pipelined - the design's `pipelined` trait, false where the traits lack it.
//   kRunsBatches / commands_per_call - a batch driver (batch_rows.hpp): one execute() runs a
//                         batch; ops count its commands, the histogram its calls.
//   detail::kPredrawsOps / kRunsDrawnSpans / OpSource - a client's operations: pre-drawn into
//                         a buffer and cycled (run as spans by the driver where it can), or
//                         drawn one by one.
//   detail::closed_client_loop - one closed client: warm-up, throughput pass, latency pass.
//   detail::RowSession  - the shared frame: validate, build, start clients together, merge
//                         (a client body and a main-thread body make the load model), verify.
//   detail::closed_window / closed_window_on - the closed main body, and one closed window.
//   run_closed_loop     - builds the driver, runs `threads` clients for `seconds`, verifies.
//   RowSeries           - the interface of one driver measured in several windows (closed
//                         repetitions, open rows) and verified once (open_loop.hpp implements it).
//
// Closed loop: each client issues its next operation as soon as the previous one returned, so
// the row shows the design's saturation throughput. Its latencies understate the tail: a client
// stalled behind a slow operation issues nothing meanwhile (coordinated omission). The open-loop
// runner (open_loop.hpp: a fixed offered rate, latency measured from the intended start) is the
// correction.
//
// A closed row is two passes over the same driver state, never one number from both:
//
//   throughput pass (untimed):   OpSource::run_untimed: a span of pre-drawn operations run by
//                                the driver itself (drv.run_drawn), or next + execute per op;
//                                ops counted in a local; the clock read only at the window's
//                                ends (the main thread's start, each client's last_op_end)
//   latency pass (timed, after): OpSource::next (the next pre-drawn op, or drv.next);
//                                t0 = now(); drv.execute(t); histogram.record(now() - t0)
//                                (LatencyTimer: rdtscp or steady_clock, latency_clock.hpp;
//                                its cost is the timer floor)
//
// Where the driver can draw operations ahead (kPredrawsOps: counter, cache), each client draws
// kDrawnOps operations into its own buffer before the window and cycles through it, so the
// throughput pass pays neither the generator nor the clock; where it also runs spans
// (kRunsDrawnSpans: run_drawn, then tally_drawn once after the pass) the pass is one inlined
// loop over the buffer per design. A row's ops/s is then the design plus the driver's
// bookkeeping, which the `harness` row (an empty design, harness_rows.hpp; its check is
// skipped) shows alone. Other drivers (the order stream: its cancels depend on earlier
// replies) draw in the loop, untimed.
//
// Both passes are templates over the driver: no virtual call, allocation or lock per
// operation. The clients start together (a latch), warm up, then run each pass until the main
// thread (asleep meanwhile, so it takes no core) moves the phase on; clients poll it with a
// relaxed load once every kOpsPerStopCheck operations (after every call for a batch driver).
// For tests, RunOptions::calls_per_client replaces the clock by a count: each pass runs exactly
// that many calls per client. Per-thread histograms and counts are merged after join; an open
// window (open_loop.hpp) sets its achieved rate from the operations completed in the window.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <latch>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "bench/harness/harness_rows.hpp"
#include "bench/harness/histogram.hpp"
#include "bench/harness/latency_clock.hpp"
#include "bench/harness/timer.hpp"
#include "comparisons/common/driver.hpp"
#include "patterns/common/traits.hpp"

namespace cp::bench {

// How an open-loop client waits for its next intended start (open_loop.hpp, choose_open_wait).
//   sleep     - an absolute-deadline sleep to the start: the core is free meanwhile.
//   spin_tail - sleep, then yield, then spin the last microseconds: more precise, but it holds
//               a core that the design's own threads may need.
//   spin      - spin with a pause instruction the whole wait, never giving the core up: no
//               wake-up at all, the core held all the time (compare --open-wait spin).
enum class OpenWait { sleep, spin_tail, spin };

constexpr std::string_view to_string(OpenWait w) {
  return w == OpenWait::sleep ? "sleep" : w == OpenWait::spin_tail ? "spin-tail" : "spin";
}

struct RunOptions {
  // Cores the open-loop wait policy counts (0: std::thread::hardware_concurrency()).
  unsigned cores = 0;
  // The open-loop wait policy; empty: choose_open_wait (open_loop.hpp) decides per row.
  std::optional<OpenWait> open_wait;

  // Warm-up before measuring: max(min_warmup, warmup_fraction * seconds), capped at max_warmup.
  double warmup_fraction = 0.1;
  double min_warmup_seconds = 0.01;
  double max_warmup_seconds = 0.2;

  // The closed rows' latency pass, after the throughput window: max(min_latency_seconds,
  // latency_fraction * seconds).
  double latency_fraction = 0.3;
  double min_latency_seconds = 0.01;

  // Tests: > 0 replaces every duration of a closed row by a count: no warm-up, then exactly
  // this many calls per client untimed, then as many timed (independent of the machine's speed).
  std::uint64_t calls_per_client = 0;

  double warmup_for(double seconds) const {
    return std::min(max_warmup_seconds, std::max(min_warmup_seconds, warmup_fraction * seconds));
  }
  double latency_for(double seconds) const {
    return std::max(min_latency_seconds, latency_fraction * seconds);
  }
};

// Operations between two looks at the stop flag: enough to make the load's cost vanish, few
// enough that stopping overshoots the window by microseconds, not milliseconds.
inline constexpr unsigned kOpsPerStopCheck = 32;

enum class LoadModel { closed, open };

constexpr std::string_view to_string(LoadModel m) {
  return m == LoadModel::closed ? "closed" : "open";
}

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
  bool pipelined = false;      // design_is_pipelined: latency is hand-off time, not reply time
  bool batched = false;        // a batch row: one call runs a batch; latency is per batch
  std::uint64_t commands_per_call = 1;  // ops counts commands: calls x this
  unsigned threads = 0;        // client threads (threads a design owns are not counted here)
  LoadModel load = LoadModel::closed;
  double offered_rate = 0;     // open loop: operations per second offered (all clients)
  double rate_percent = 0;     // open loop: offered_rate as % of a closed row (set by the caller)
  double requested_seconds = 0;
  std::uint64_t seed = 0;
  std::uint64_t ops = 0;       // measured operations, all threads
  std::uint64_t unissued = 0;  // open loop: intended in the window, never issued (fell behind)
  // Open loop: operations completed inside the window's wall-clock span, whatever their
  // intended time (a client behind its timetable completes operations intended earlier).
  std::uint64_t completed = 0;
  // Closed loop: the window's start to the last measured completion; open loop: the window
  // itself (warm-up end to window end).
  double wall_seconds = 0;
  // Closed: ops / wall_seconds. Open: completed / wall_seconds, the achieved rate.
  double throughput = 0;
  // Closed loop: each operation's execute() time. Open loop: completion - intended start
  // (includes waiting behind earlier operations), plus the unissued operations (see open_loop.hpp).
  // Closed loop: the latency pass's execute() times (not the throughput window's operations:
  // their count is `ops`). Open loop: see below.
  LatencyHistogram histogram;
  LatencySummary latency;
  LatencySummary service;      // execute() time only; equal to `latency` for closed rows
  bool predrawn = false;       // closed loop: the throughput pass cycled pre-drawn operations
  // Open loop: how the clients waited for each start, and the harness's own floor: the same
  // schedule (clients, rate, window, wait) with an empty operation, measured beside the row.
  OpenWait open_wait = OpenWait::sleep;
  bool floor_measured = false;
  LatencySummary floor;
  Verdict verdict;

  unsigned runnable_threads() const { return threads + traits.owned_threads; }
};

// design_is_pipelined<D>(): D::traits.pipelined when DesignTraits has that field, else false.
template <class D>
constexpr bool design_is_pipelined() {
  if constexpr (requires { static_cast<bool>(D::traits.pipelined); })
    return static_cast<bool>(D::traits.pipelined);
  else
    return false;
}

// kRunsBatches<Driver>: each execute() runs a batch of driver.commands_per_call() commands.
template <class Driver>
inline constexpr bool kRunsBatches = requires(const Driver& d) {
  { d.commands_per_call() } -> std::convertible_to<std::uint64_t>;
};

template <class Driver>
std::uint64_t commands_per_call(const Driver& driver) {
  if constexpr (kRunsBatches<Driver>)
    return driver.commands_per_call();
  else
    return 1;
}

namespace detail {

enum class Phase : int { warmup, measure, latency, stop };

template <class Thread>
inline constexpr bool kCanMoveThreadState =
    std::is_move_constructible_v<Thread> && std::is_move_assignable_v<Thread>;

// What one client thread hands back after the run.
struct ClientOutcome {
  LatencyHistogram histogram;
  LatencyHistogram service;     // open loop only
  std::uint64_t ops = 0;
  std::uint64_t unissued = 0;   // open loop only
  std::uint64_t completed = 0;  // open loop only: completions inside the window's span
  BenchClock::time_point last_op_end{};
  std::string error;  // an exception escaped the driver or design
};

// kPredrawsOps<Driver>: the driver draws an operation ahead (`draw`, RNG only) and loads it
// later (`next_drawn`: settles the previous reply, then takes the drawn operation).
template <class Driver>
inline constexpr bool kPredrawsOps = requires(Driver& d, typename Driver::Thread& t) {
  typename Driver::Drawn;  // in the body, not the parameters: absent means false
  { d.draw(t) } -> std::same_as<typename Driver::Drawn>;
  d.next_drawn(t, d.draw(t));
};

// Operations per client buffer: enough that the cycle repeats rarely within a key space's
// worth of draws, small enough (32-64 KiB) to stay in the core's L2 beside the design.
inline constexpr std::size_t kDrawnOps = 4096;

// kRunsDrawnSpans<Driver>: besides draw/next_drawn, the driver runs a span of drawn operations
// itself (`run_drawn`: the design calls and reply checks, untimed, no per-operation tally) and
// tallies what a span issued afterwards (`tally_drawn(t, ops, n, times)`): the throughput pass
// is then one loop over the buffer, inlined per design, whose per-operation cost is a load, a
// dispatch and the design call (the counter: its per-key add tally follows from the buffer).
template <class Driver>
inline constexpr bool kRunsDrawnSpans =
    kPredrawsOps<Driver> && requires(Driver& d, typename Driver::Thread& t) {
      // Drawn in the body, not the parameters: absent means false (clang refuses it there).
      d.run_drawn(t, static_cast<const typename Driver::Drawn*>(nullptr), std::size_t{1});
      d.tally_drawn(t, static_cast<const typename Driver::Drawn*>(nullptr), std::size_t{1},
                    std::uint64_t{1});
    };

// OpSource: a client's operations: its pre-drawn buffer (cycled), or drawn one by one.
//   run_untimed(n) - the throughput pass: n operations, untimed (a span loop where the driver
//                    has one, else next + execute per operation).
//   end_untimed()  - after the last run_untimed: tallies what the spans issued.
//   next()         - the latency pass: loads the next operation for a timed execute().
template <class Driver>
class OpSource {
 public:
  OpSource(Driver& driver, typename Driver::Thread& state) : driver_(driver), state_(state) {
    if constexpr (kPredrawsOps<Driver>) {
      ops_.reserve(kDrawnOps);
      for (std::size_t i = 0; i < kDrawnOps; ++i) ops_.push_back(driver_.draw(state_));
    }
  }
  void run_untimed(std::size_t n) {
    if constexpr (kRunsDrawnSpans<Driver>) {
      while (n > 0) {  // spans never cross the buffer's end
        const std::size_t m = std::min(n, kDrawnOps - i_);
        driver_.run_drawn(state_, ops_.data() + i_, m);
        spanned_ += m;
        i_ = (i_ + m) & (kDrawnOps - 1);
        n -= m;
      }
    } else {
      for (; n > 0; --n) {
        next();
        driver_.execute(state_);
      }
    }
  }
  // The spans ran ops_ from index 0 on, spanned_ operations in all: whole cycles, then a prefix.
  void end_untimed() {
    if constexpr (kRunsDrawnSpans<Driver>) {
      driver_.tally_drawn(state_, ops_.data(), kDrawnOps, spanned_ / kDrawnOps);
      driver_.tally_drawn(state_, ops_.data(), spanned_ % kDrawnOps, 1);
      spanned_ = 0;
    }
  }
  void next() {
    if constexpr (kPredrawsOps<Driver>) {
      driver_.next_drawn(state_, ops_[i_]);
      i_ = (i_ + 1) & (kDrawnOps - 1);
    } else {
      driver_.next(state_);
    }
  }

 private:
  static_assert((kDrawnOps & (kDrawnOps - 1)) == 0);
  template <class D, bool = kPredrawsOps<D>>
  struct DrawnOf {
    struct type {};  // a driver that draws in the loop: no buffer
  };
  template <class D>
  struct DrawnOf<D, true> {
    using type = typename D::Drawn;
  };
  Driver& driver_;
  typename Driver::Thread& state_;
  std::vector<typename DrawnOf<Driver>::type> ops_;
  std::size_t i_ = 0;
  std::uint64_t spanned_ = 0;
};

// closed_client_loop: warm-up, the untimed throughput pass, the timed latency pass (see the
// file comment), each until the main thread moves `phase` on, or `calls` calls each when
// calls > 0 (no warm-up).
template <class Driver>
void closed_client_loop(Driver& driver, typename Driver::Thread& state,
                        const std::atomic<Phase>& phase, std::uint64_t calls,
                        ClientOutcome& out) {
  // Locals, not `out`'s members: outcomes of neighbouring clients sit side by side in memory, and
  // writing count/sum/min/max there on every operation would share cache lines between cores.
  LatencyHistogram histogram;
  const LatencyTimer timer;
  OpSource<Driver> source(driver, state);  // draws the buffer now, before the window
  // A batch call is long (thousands of commands): look at the stop flag after each one.
  constexpr unsigned kCallsPerCheck = kRunsBatches<Driver> ? 1 : kOpsPerStopCheck;
  const std::uint64_t per_call = commands_per_call(driver);
  // Relaxed loads of `phase`: it carries no data (results travel through join), only "keep
  // going"; it pairs with the main thread's relaxed stores in closed_window.
  auto running = [&](Phase p) { return phase.load(std::memory_order_relaxed) == p; };
  auto timed = [&] {
    source.next();
    const std::uint64_t t0 = timer.now();
    driver.execute(state);
    histogram.record(timer.elapsed_ns(t0, timer.now()));
  };
  std::uint64_t done = 0;  // a local (a register): published once, after the window
  if (calls > 0) {
    for (; done < calls; done += kCallsPerCheck)
      source.run_untimed(std::min<std::uint64_t>(kCallsPerCheck, calls - done));
    done = calls;
    source.end_untimed();
    out.last_op_end = BenchClock::now();
    for (std::uint64_t k = 0; k < calls; ++k) timed();
  } else {
    while (running(Phase::warmup)) source.run_untimed(kCallsPerCheck);
    do {
      source.run_untimed(kCallsPerCheck);
      done += kCallsPerCheck;
    } while (running(Phase::measure));
    out.last_op_end = BenchClock::now();  // this client's end of the throughput window
    source.end_untimed();
    do {  // at least one round: a client late to see the phase still records some
      for (unsigned k = 0; k < kCallsPerCheck; ++k) timed();
    } while (running(Phase::latency));
  }
  out.histogram = std::move(histogram);
  out.ops = done * per_call;
}

inline std::chrono::nanoseconds to_duration(double seconds) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(seconds * 1e9));
}

// What a load model's main body returns: the window's start, and whether the window ends at
// the clients' last_op_end alone (closed: its latency pass follows) or also at the return.
struct WindowSpan {
  BenchClock::time_point start;
  bool ends_at_clients = false;
};

// RowSession: one row's driver and client states, measured in one or more windows and verified
// once at the end. Validates the arguments and builds the driver (the prefill) in its
// constructor; window() starts `threads` clients together and runs
//   client_body(driver, state, index, released, outcome)
// on each (`released`: the clock when the clients were let go) and main_body(released) on the
// calling thread (it returns a WindowSpan when the window is over: the measurement's start, and
// where it ends), then merges the outcomes. Between windows the
// design sits idle with its state; a second window simply goes on from there. An exception in
// a client becomes the window's verdict.
template <WorkloadDriver Driver>
class RowSession {
 public:
  using Design = typename Driver::Design;
  using Thread = typename Driver::Thread;

  RowSession(const typename Driver::Params& params, unsigned threads, double seconds,
             std::uint64_t seed, LoadModel load, std::string_view who)
      : base_(checked_base(threads, seconds, seed, load, who)), driver_(params, threads, seed) {
    base_.params = driver_.describe();
    base_.batched = kRunsBatches<Driver>;
    base_.commands_per_call = commands_per_call(driver_);
    // Per-client state is made here, in order, on one thread (make_thread need not be
    // thread-safe); each client moves its state into a local so that no two clients' hot
    // state shares a cache line, and moves it back for verify().
    states_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) states_.push_back(driver_.make_thread(i));
  }

  // window: one measurement window; the result has no verify() verdict (see verify()).
  template <class ClientBody, class MainBody>
  RunResult window(ClientBody&& client_body, MainBody&& main_body) {
    const unsigned threads = base_.threads;
    RunResult result = base_;
    std::vector<ClientOutcome> outcomes(threads);
    BenchClock::time_point released{};  // written before go.count_down(), read after go.wait()
    std::latch ready(threads);
    std::latch go(1);

    std::vector<std::thread> clients;
    clients.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) {
      clients.emplace_back([&, i] {
        ClientOutcome& out = outcomes[i];
        ready.count_down();  // first, unconditionally: the main thread waits for every client
        go.wait();
        try {
          if constexpr (kCanMoveThreadState<Thread>) {
            // Moves the state back for verify() however the client body ends.
            struct MoveBack {
              Thread& home;
              Thread local;
              ~MoveBack() { home = std::move(local); }
            } guard{states_[i], std::move(states_[i])};
            client_body(driver_, guard.local, i, released, out);
          } else {
            client_body(driver_, states_[i], i, released, out);
          }
        } catch (const std::exception& e) {
          out.error = e.what();
        } catch (...) {
          out.error = "unknown exception";
        }
      });
    }

    ready.wait();
    released = BenchClock::now();
    go.count_down();
    const WindowSpan span = main_body(released);
    const BenchClock::time_point start = span.start;
    // main_body returns when the window is over; a closed window ends at its clients' ends.
    auto end = span.ends_at_clients ? start : BenchClock::now();
    for (auto& c : clients) c.join();

    std::string errors;
    LatencyHistogram service;
    for (const auto& out : outcomes) {
      result.histogram.merge(out.histogram);
      service.merge(out.service);
      result.ops += out.ops;
      result.unissued += out.unissued;
      result.completed += out.completed;
      end = std::max(end, out.last_op_end);
      if (!out.error.empty() && errors.empty()) errors = out.error;
    }
    result.wall_seconds = std::chrono::duration<double>(end - start).count();
    result.throughput = result.wall_seconds > 0 ? result.ops / result.wall_seconds : 0;
    result.latency = LatencySummary::of(result.histogram);
    result.service = service.empty() ? result.latency : LatencySummary::of(service);
    if (!errors.empty()) {
      result.verdict = {false, "exception in a client: " + errors};
      client_failed_ = true;
    }
    return result;
  }

  const Driver& driver() const { return driver_; }

  // verify: the driver's check of everything every window did (an exception fails it). Not
  // run after a window whose client threw: the state is then not one the check can judge.
  Verdict verify() {
    if (client_failed_) return {false, "not verified: a client threw"};
    if constexpr (design_is_harness_row<Design>())
      return {true, "empty design (the harness alone): nothing to check"};
    try {
      return driver_.verify(states_);
    } catch (const std::exception& e) {
      return {false, std::string("exception in verify: ") + e.what()};
    }
  }

 private:
  static RunResult checked_base(unsigned threads, double seconds, std::uint64_t seed,
                                LoadModel load, std::string_view who) {
    const std::string name(who);
    if (threads == 0) throw std::invalid_argument(name + ": threads must be > 0");
    if (!(seconds > 0)) throw std::invalid_argument(name + ": seconds must be > 0");
    if (!Design::traits.thread_safe && threads != 1)
      throw std::invalid_argument(name + ": design '" + std::string(Design::traits.name) +
                                  "' is not thread-safe; it runs at 1 thread only");
    RunResult r;
    r.workload = std::string(Driver::workload_name);
    r.design = std::string(Design::traits.name);
    r.traits = Design::traits;
    r.pipelined = design_is_pipelined<Design>();
    r.threads = threads;
    r.load = load;
    r.requested_seconds = seconds;
    r.seed = seed;
    return r;
  }

  RunResult base_;  // first: validated before the driver is built
  Driver driver_;
  std::vector<Thread> states_;
  bool client_failed_ = false;
};

// run_row: one session, one window, verified.
template <WorkloadDriver Driver, class ClientBody, class MainBody>
RunResult run_row(const typename Driver::Params& params, unsigned threads, double seconds,
                  std::uint64_t seed, LoadModel load, std::string_view who,
                  ClientBody&& client_body, MainBody&& main_body) {
  RowSession<Driver> session(params, threads, seconds, seed, load, who);
  RunResult result = session.window(client_body, main_body);
  if (result.verdict.passed) result.verdict = session.verify();
  return result;
}

// closed_window: the closed-loop main body: warm up, the throughput pass for `seconds`, the
// latency pass, stop. With options.calls_per_client the clients count instead: it returns at
// once.
inline auto closed_window(std::atomic<Phase>& phase, double seconds, const RunOptions& options) {
  return [&phase, seconds, options](BenchClock::time_point released) {
    if (options.calls_per_client > 0) return WindowSpan{released, true};
    // Relaxed stores: see closed_client_loop. `phase` starts at warmup.
    std::this_thread::sleep_for(to_duration(options.warmup_for(seconds)));
    const auto start = BenchClock::now();
    phase.store(Phase::measure, std::memory_order_relaxed);
    std::this_thread::sleep_for(to_duration(seconds));
    phase.store(Phase::latency, std::memory_order_relaxed);
    std::this_thread::sleep_for(to_duration(options.latency_for(seconds)));
    phase.store(Phase::stop, std::memory_order_relaxed);
    return WindowSpan{start, true};
  };
}

// closed_window_on: one closed window (both passes) on a session.
template <WorkloadDriver Driver>
RunResult closed_window_on(RowSession<Driver>& session, double seconds,
                           const RunOptions& options) {
  std::atomic<Phase> phase{Phase::warmup};
  RunResult r = session.window(
      [&](Driver& driver, typename Driver::Thread& state, unsigned, BenchClock::time_point,
          ClientOutcome& out) {
        closed_client_loop(driver, state, phase, options.calls_per_client, out);
      },
      closed_window(phase, seconds, options));
  r.predrawn = kPredrawsOps<Driver>;
  return r;
}

}  // namespace detail

// run_closed_loop: one benchmark row. Throws std::invalid_argument for threads == 0, a
// non-positive duration, or threads > 1 on a design that is not thread-safe (the reference).
// The driver's constructor may throw for bad params; that propagates too. An exception inside a
// client (the driver or the design threw) does not escape: the row's verdict fails with it.
template <WorkloadDriver Driver>
RunResult run_closed_loop(const typename Driver::Params& params, unsigned threads, double seconds,
                          std::uint64_t seed, const RunOptions& options = {}) {
  detail::RowSession<Driver> session(params, threads, seconds, seed, LoadModel::closed,
                                     "run_closed_loop");
  RunResult result = detail::closed_window_on(session, seconds, options);
  if (result.verdict.passed) result.verdict = session.verify();
  return result;
}

// RowSeries: the rows of one design at one thread count: the repetitions of its closed row
// (measure_closed) and its open rows (measure_open), on one driver built once and verified at
// the end (finish), or, where the driver's state grows with the run, on a fresh driver per
// window, each verified. open_loop.hpp has the implementation (RowSeriesSession).
class RowSeries {
 public:
  virtual ~RowSeries() = default;
  virtual RunResult measure_closed() = 0;  // one window: warm-up, then `seconds` measured
  virtual RunResult measure_open(double offered_rate_per_s) = 0;  // one open-loop window
  virtual Verdict finish() = 0;  // the check of every window so far
};

}  // namespace cp::bench
