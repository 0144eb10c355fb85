// open_loop.hpp: the open-loop run: operations issued on a fixed schedule at an offered rate,
// latency measured from each operation's intended start (as wrk2 does).
//
//   OpenLoopSchedule - when client k's i-th operation is intended: t0 + (i * threads + k) / rate.
//   offered_rate_for - the rate a sweep offers: percent of a measured closed-loop throughput.
//   choose_open_wait - how clients wait for a start: spin when they fit in the cores, else sleep.
//   wait_until       - waits for a deadline: an absolute sleep (OpenWait::sleep), or sleep, then
//                      yield, then spin the last microseconds (OpenWait::spin_tail).
//   measure_open_floor - the harness's own open-loop floor: the same schedule, an empty operation.
//   knee_threshold_ns  - the p99 above which an open row is past the knee.
//   open_window      - one open-loop window on a RowSession (runner.hpp).
//   run_open_loop    - one benchmark row at a fixed offered rate (same driver protocol, warm-up
//                      and verify as run_closed_loop).
//   RowSeriesSession - one driver measured in closed and open windows, then verified (a fresh
//                      driver per window where its state grows with the run): what `compare`
//                      runs (the RowSeries of runner.hpp).
//
// What and why. A closed-loop client stuck behind a 10 ms stall records one slow operation and
// issues nothing else meanwhile: every caller that would have arrived during the stall is simply
// not asked (coordinated omission), so closed-loop percentiles understate the tail. Here each
// client has a timetable. Operation i of client k is *intended* at
//
//     t0 + (i * threads + k) * (1 / rate)          (all clients together: evenly spread)
//
// and its latency is completion - intended. A client that falls behind (an operation took longer
// than its slot) issues the next one at once, without waiting, and its latency includes the time
// it waited behind the slow one: the stall is counted once per operation it delayed. The
// execute()-only time is recorded beside it (`service`), so a row shows both.
//
// Waiting for the next intended time must not take the core another client, or a thread the
// design owns, needs (2 cores, up to 8 clients, an owner thread). choose_open_wait decides per
// row: the clients spin (OpenWait::spin_tail: sleep while the deadline is more than
// kSleepAboveNs away, waking kSleepMarginNs early, yield while it is more than kYieldAboveNs
// away, spin with a pause instruction the last microseconds) when the clients and the
// design's owned threads fit in the cores. Otherwise (an oversubscribed row) they sleep to each intended start
// with an absolute-deadline sleep (clock_nanosleep TIMER_ABSTIME on CLOCK_MONOTONIC, the clock
// of steady_clock): an owner thread then gets its core back the moment a client has nothing to
// do, at the price of the timer's wake-up latency in every latency, which the floor below
// measures. Client threads set their timer slack to 1 ns (PR_SET_TIMERSLACK; the default 50 us
// would make every sleep late).
//
// The floor. The wake-up latency and the scheduler's jitter are the harness's, not the design's;
// on a VM they are microseconds at the median and can be more than the design's whole
// operation. So each open row is measured twice: the row, then at once the same schedule
// (clients, rate, window, wait policy) with an empty operation (measure_open_floor). The floor's
// percentiles are printed beside the row, and the knee (knee_threshold_ns) is where the row's
// p99 leaves 10x the larger of the design's p50 at the lightest rate and the floor's p99 at the
// row's rate: a p99 that the harness alone reaches is not the design's knee, and a real stall
// (milliseconds) stays far above a floor of microseconds (tests/bench/open_loop_test.cpp).
//
// Precision (measured on this project's 2-core VM with 1-8 waiting threads while other builds
// ran, schedules of 1 us to 1 ms per client; scratch program, not part of the build): the
// wake-up lateness p50 is 20-30 ns (about one clock read), p90 below 10 us when the machine is
// quiet and up to ~40 us with 8 waiters; beyond that the tail is the scheduler's (a preempted
// waiter is milliseconds late), which an open-loop row rightly counts as latency. So latencies
// of a few microseconds in an open row at low rates include the harness's own wake-up.
//
// The window: clients follow the timetable from t0 (warm-up: nothing recorded), record the
// operations intended in [t0 + warm-up, t0 + warm-up + seconds), and stop at the first
// operation intended after the window. A client still behind at the cut-off (kOverrunFraction
// of the window after its end) stops issuing: each operation it owed is recorded with latency
// cut-off - intended (a lower bound) and counted as `unissued`, so falling behind never
// shortens the tail. The achieved rate is the operations *completed* in the window's wall-clock
// span [t0 + warm-up, t0 + warm-up + seconds), whatever their intended time, over `seconds`.
// Not the measured (intended-in-window) operations: a client offered more than its loop can
// pace (an operation every few ns) falls so far behind that everything it runs before the
// cut-off was intended in the warm-up, so none is measured and all the window's are unissued;
// counting those would print an achieved rate of 0 for a client that ran flat out. The row is
// still marked as fallen behind (unissued > 0) and its latencies are the owed lower bounds.
//
// When not: to find the saturation throughput, use run_closed_loop (an open loop offered more
// than the design can do just grows its backlog). Alternatives: wrk2's per-connection
// schedule (the same idea), HdrHistogram's recordValueWithExpectedInterval (corrects a closed
// loop after the fact, assuming a constant expected interval).
#pragma once

#include <sched.h>
#include <sys/prctl.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>
#include <stdexcept>
#include <string>
#include <thread>

#include "bench/harness/histogram.hpp"
#include "bench/harness/runner.hpp"
#include "bench/harness/timer.hpp"
#include "comparisons/common/driver.hpp"

namespace cp::bench {

// OpenLoopSchedule: the timetable of `threads` clients offering `rate_per_s` operations/s in
// total. Offsets are nanoseconds from t0, computed from the index (never accumulated), so
// rounding does not drift over a long run.
struct OpenLoopSchedule {
  unsigned threads = 1;
  double rate_per_s = 1;

  // Between two consecutive operations of all clients together.
  double period_ns() const { return 1e9 / rate_per_s; }

  // intended_offset_ns: when client `client`'s operation `i` is intended, relative to t0.
  std::int64_t intended_offset_ns(unsigned client, std::uint64_t i) const {
    const double slot = static_cast<double>(i) * threads + client;
    return static_cast<std::int64_t>(slot * period_ns());
  }

  // first_index_at_or_after: the smallest i with intended_offset_ns(client, i) >= offset_ns.
  std::uint64_t first_index_at_or_after(unsigned client, std::int64_t offset_ns) const {
    if (offset_ns <= 0) return 0;
    const double slots = static_cast<double>(offset_ns) / period_ns();
    const double i = std::ceil((slots - client) / threads);
    std::uint64_t index = i > 0 ? static_cast<std::uint64_t>(i) : 0;
    // Floating point may land one step off either way: settle it exactly.
    while (index > 0 && intended_offset_ns(client, index - 1) >= offset_ns) --index;
    while (intended_offset_ns(client, index) < offset_ns) ++index;
    return index;
  }
};

// offered_rate_for: `percent` of `closed_ops_per_s` (the same design, threads and table's
// closed-loop throughput, measured earlier in the run).
inline double offered_rate_for(double closed_ops_per_s, double percent) {
  return closed_ops_per_s * percent / 100.0;
}

inline constexpr std::int64_t kSleepAboveNs = 200'000;  // sleep when the deadline is further
inline constexpr std::int64_t kSleepMarginNs = 100'000; // ...waking this much early
inline constexpr std::int64_t kYieldAboveNs = 2'000;    // yield the core down to this, then spin
// A client still behind this fraction of the window after its end stops issuing.
inline constexpr double kOverrunFraction = 0.25;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// choose_open_wait: spin when `clients` and the design's `owned_threads` fit in `cores` (0:
// std::thread::hardware_concurrency()); else sleep. No spare core is kept for the main thread
// (asleep during the window) and the kernel: a sleeping client's wake-up (20-50 us on these
// VMs) is the floor that hid every design's tail; bench/README.md says what was measured.
inline OpenWait choose_open_wait(unsigned clients, unsigned owned_threads, unsigned cores = 0) {
  if (cores == 0) cores = std::thread::hardware_concurrency();
  return clients + owned_threads <= cores ? OpenWait::spin_tail : OpenWait::sleep;
}

// open_wait_for: the options' policy when set, else choose_open_wait's.
inline OpenWait open_wait_for(const RunOptions& options, unsigned clients,
                              unsigned owned_threads) {
  return options.open_wait ? *options.open_wait
                           : choose_open_wait(clients, owned_threads, options.cores);
}

// sleep_until_abs: an absolute-deadline sleep on CLOCK_MONOTONIC, the clock libstdc++'s
// steady_clock reads (open_loop_test checks that they agree). Absolute, so a sleep interrupted
// or started late does not add its delay to the next one.
inline void sleep_until_abs(BenchClock::time_point deadline) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch())
                      .count();
  if (ns <= 0) return;
  timespec at{};
  at.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  at.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
  }
}

// wait_until: returns a clock reading >= deadline (at once, with the current time, when the
// deadline has passed).
inline BenchClock::time_point wait_until(BenchClock::time_point deadline,
                                         OpenWait wait = OpenWait::spin_tail) {
  auto now = BenchClock::now();
  while (now < deadline) {
    const std::int64_t remaining = static_cast<std::int64_t>(elapsed_ns(now, deadline));
    if (wait == OpenWait::sleep)
      sleep_until_abs(deadline);
    else if (wait == OpenWait::spin)
      cpu_relax();
    else if (remaining > kSleepAboveNs)
      std::this_thread::sleep_for(std::chrono::nanoseconds(remaining - kSleepMarginNs));
    else if (remaining > kYieldAboveNs)
      sched_yield();
    else
      cpu_relax();
    now = BenchClock::now();
  }
  return now;
}

// The knee of an open-loop sweep: the lowest offered rate whose p99 exceeds kKneeFactor x the
// larger of the design's p50 at the lightest rate and the harness floor's p99 at that rate.
inline constexpr double kKneeFactor = 10.0;

inline double knee_threshold_ns(double lightest_p50_ns, double floor_p99_ns) {
  return kKneeFactor * std::max(lightest_p50_ns, floor_p99_ns);
}

inline bool past_knee(double p99_ns, double lightest_p50_ns, double floor_p99_ns) {
  return p99_ns > knee_threshold_ns(lightest_p50_ns, floor_p99_ns);
}

namespace detail {

// The timetable of one open-loop client, in nanoseconds from t0.
struct OpenLoopWindow {
  std::int64_t measure_from_ns;  // operations intended from here are recorded
  std::int64_t end_ns;           // ...up to here (exclusive); none are issued after
  std::int64_t cutoff_ns;        // a client behind stops issuing at this time
};

template <class Driver>
void open_client_loop(Driver& driver, typename Driver::Thread& state,
                      const OpenLoopSchedule& schedule, unsigned client,
                      BenchClock::time_point t0, const OpenLoopWindow& window, OpenWait wait,
                      ClientOutcome& out) {
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);  // precise sleeps for this thread (see above)
  LatencyHistogram latency, service;  // locals: see closed_client_loop
  std::uint64_t ops = 0, unissued = 0;
  std::uint64_t completed = 0;  // completions inside [measure_from, end) of wall time
  const auto window_from = t0 + std::chrono::nanoseconds(window.measure_from_ns);
  const auto window_to = t0 + std::chrono::nanoseconds(window.end_ns);
  const std::uint64_t per_call = commands_per_call(driver);  // a batch row's schedule is in calls
  BenchClock::time_point last_end{};   // the last recorded completion
  BenchClock::time_point prev_end = t0; // the last completion, recorded or not
  for (std::uint64_t i = 0;; ++i) {
    const std::int64_t offset = schedule.intended_offset_ns(client, i);
    if (offset >= window.end_ns) break;
    const auto behind_at = static_cast<std::int64_t>(elapsed_ns(t0, prev_end));
    if (behind_at >= window.cutoff_ns) {
      // Still behind at the cut-off (only a late client gets here: every intended time is
      // before it). Record what is owed as lower bounds and issue nothing more; next() is not
      // called for an operation that will not run (drivers count what they drew).
      for (std::uint64_t j = i;; ++j) {
        const std::int64_t owed = schedule.intended_offset_ns(client, j);
        if (owed >= window.end_ns) break;
        if (owed < window.measure_from_ns) continue;
        latency.record(static_cast<std::uint64_t>(behind_at - owed));
        unissued += per_call;
      }
      break;
    }
    const auto intended = t0 + std::chrono::nanoseconds(offset);
    driver.next(state);                                   // untimed, before the wait
    const auto start = wait_until(intended, wait);        // at once when behind
    driver.execute(state);                                // timed
    const auto end = BenchClock::now();
    prev_end = end;
    if (end >= window_from && end < window_to) completed += per_call;
    if (offset >= window.measure_from_ns) {
      latency.record(elapsed_ns(intended, end));         // includes waiting behind earlier ops
      service.record(elapsed_ns(start, end));
      ops += per_call;
      last_end = end;
    }
  }
  out.histogram = std::move(latency);
  out.service = std::move(service);
  out.ops = ops;
  out.unissued = unissued;
  out.completed = completed;
  out.last_op_end = last_end;
}

}  // namespace detail

// open_window: one open-loop window on a session (runner.hpp) at `offered_rate_per_s`
// operations/s (all clients), the clients waiting as `wait` says; no verify() verdict, no
// floor. Throws std::invalid_argument for a rate that is not positive and finite.
template <WorkloadDriver Driver>
RunResult open_window(detail::RowSession<Driver>& session, unsigned threads,
                      double offered_rate_per_s, double seconds, const RunOptions& options,
                      OpenWait wait) {
  if (!(offered_rate_per_s > 0) || !std::isfinite(offered_rate_per_s))
    throw std::invalid_argument("run_open_loop: the offered rate must be > 0");
  // The timetable is in calls: a batch row's call carries commands_per_call commands.
  const OpenLoopSchedule schedule{
      threads == 0 ? 1 : threads,
      offered_rate_per_s / static_cast<double>(commands_per_call(session.driver()))};
  const double warmup = options.warmup_for(seconds);
  const detail::OpenLoopWindow window{
      static_cast<std::int64_t>(warmup * 1e9), static_cast<std::int64_t>((warmup + seconds) * 1e9),
      static_cast<std::int64_t>((warmup + seconds * (1 + kOverrunFraction)) * 1e9)};
  RunResult r = session.window(
      [&](Driver& driver, typename Driver::Thread& state, unsigned client,
          BenchClock::time_point released, detail::ClientOutcome& out) {
        detail::open_client_loop(driver, state, schedule, client, released, window, wait, out);
      },
      [&](BenchClock::time_point released) {
        const auto start = released + std::chrono::nanoseconds(window.measure_from_ns);
        std::this_thread::sleep_until(released + std::chrono::nanoseconds(window.end_ns));
        return detail::WindowSpan{start, false};
      });
  // The achieved rate: completions in the window's wall-clock span over its length (see the
  // header comment: the measured ops of a client far behind may all be unissued).
  r.wall_seconds = static_cast<double>(window.end_ns - window.measure_from_ns) / 1e9;
  r.throughput = static_cast<double>(r.completed) / r.wall_seconds;
  r.load = LoadModel::open;
  r.offered_rate = offered_rate_per_s;
  r.open_wait = wait;
  return r;
}

namespace detail {

// The empty operation the floor is measured with: a driver whose execute() does nothing.
struct EmptyDesign {
  static constexpr DesignTraits traits{.name = "open-loop-floor",
                                       .family = Family::reference,
                                       .thread_safe = true,
                                       .linearizable_reads = true,
                                       .lock_free = true,
                                       .waiting = Waiting::never};
};

class EmptyDriver {
 public:
  using Design = EmptyDesign;
  struct Params {};
  static constexpr std::string_view workload_name = "floor";
  struct Thread {};

  EmptyDriver(const Params&, unsigned, std::uint64_t) {}
  Thread make_thread(unsigned) { return {}; }
  void next(Thread&) {}
  void execute(Thread&) { asm volatile("" ::: "memory"); }  // kept apart from the clock reads
  Verdict verify(std::vector<Thread>&) { return {true, "empty operation"}; }
  std::string describe() const { return "empty operation"; }
};

}  // namespace detail

// measure_open_floor: the harness's own open-loop latency: `threads` clients following the
// schedule of `offered_rate_per_s` for `seconds` (and the usual warm-up), waiting as `wait`
// says, around an empty operation. Throws as open_window does.
inline LatencySummary measure_open_floor(unsigned threads, double offered_rate_per_s,
                                         double seconds, const RunOptions& options,
                                         OpenWait wait) {
  detail::RowSession<detail::EmptyDriver> session({}, threads, seconds, 0, LoadModel::open,
                                                  "measure_open_floor");
  return open_window(session, threads, offered_rate_per_s, seconds, options, wait).latency;
}

// with_floor: `r` (an open row) with the floor of its schedule measured and attached.
inline RunResult with_floor(RunResult r, const RunOptions& options) {
  r.floor = measure_open_floor(r.threads, r.offered_rate, r.requested_seconds, options,
                               r.open_wait);
  r.floor_measured = true;
  return r;
}

// note_unissued: appends to a passing verdict how many intended operations were not issued.
inline void note_unissued(RunResult& r) {
  if (r.unissued != 0 && r.verdict.passed)
    r.verdict.detail += "; " + std::to_string(r.unissued) +
                        " intended operations not issued (fell behind; counted as latency)";
}

// run_open_loop: one benchmark row at `offered_rate_per_s` operations/s (all clients), without
// its floor (with_floor adds it). Throws std::invalid_argument as run_closed_loop does, and for
// a rate that is not positive and finite.
template <WorkloadDriver Driver>
RunResult run_open_loop(const typename Driver::Params& params, unsigned threads,
                        double offered_rate_per_s, double seconds, std::uint64_t seed,
                        const RunOptions& options = {}) {
  if (!(offered_rate_per_s > 0) || !std::isfinite(offered_rate_per_s))
    throw std::invalid_argument("run_open_loop: the offered rate must be > 0");
  detail::RowSession<Driver> session(params, threads, seconds, seed, LoadModel::open,
                                     "run_open_loop");
  RunResult r = open_window(session, threads, offered_rate_per_s, seconds, options,
                            open_wait_for(options, threads, Driver::Design::traits.owned_threads));
  if (r.verdict.passed) r.verdict = session.verify();
  note_unissued(r);
  return r;
}

// RowSeriesSession: one driver measured in closed windows (the repetitions of a closed row)
// and open windows (the open rows at its thread count), verified at the end. `compare` keeps
// one per design and thread count of a table and calls it round-robin (repeats.hpp says why).
// Built once, unless the driver's state grows with the run (state_grows_with_run): then every
// window after the first gets a freshly built driver, and the one it replaces is verified
// first. The virtual calls are per window, never per operation.
template <WorkloadDriver Driver>
class RowSeriesSession final : public RowSeries {
 public:
  // Throws as run_closed_loop does (bad arguments, or the driver's constructor).
  RowSeriesSession(const typename Driver::Params& params, unsigned threads, double seconds,
                   std::uint64_t seed, const RunOptions& options = {})
      : params_(params),
        threads_(threads),
        seconds_(seconds),
        seed_(seed),
        options_(options) {
    session_.emplace(params_, threads_, seconds_, seed_, LoadModel::closed, "RowSeriesSession");
  }

  RunResult measure_closed() override {
    return detail::closed_window_on(window_session(), seconds_, options_);
  }
  // One open window, then its floor at once (the same schedule, an empty operation), so that
  // the machine's drift hits both alike.
  RunResult measure_open(double offered_rate_per_s) override {
    const OpenWait wait =
        open_wait_for(options_, threads_, Driver::Design::traits.owned_threads);
    return with_floor(
        open_window(window_session(), threads_, offered_rate_per_s, seconds_, options_, wait),
        options_);
  }
  // finish: the check of the last driver, or the first failed check of a replaced one.
  Verdict finish() override {
    if (!replaced_.passed) return replaced_;
    Verdict last = session_->verify();
    if (state_grows_with_run<Driver> && windows_ > 1 && last.passed)
      last.detail = std::to_string(windows_) + " windows, each on a fresh design, each checked; " +
                    "the last: " + last.detail;
    return last;
  }

 private:
  // window_session: the session the next window runs on (see the class comment).
  detail::RowSession<Driver>& window_session() {
    if constexpr (state_grows_with_run<Driver>) {
      if (windows_ > 0) {
        if (session_) {  // empty only after a fresh driver failed to build
          Verdict v = session_->verify();
          if (!v.passed && replaced_.passed) replaced_ = std::move(v);
          session_.reset();  // the old design's threads end before the new one's start
        }
        try {
          session_.emplace(params_, threads_, seconds_, seed_, LoadModel::closed,
                           "RowSeriesSession");
        } catch (const std::exception& e) {
          if (replaced_.passed)
            replaced_ = {false, std::string("a fresh driver failed: ") + e.what()};
          throw;  // the caller reports the window as not run; finish() reports this
        }
      }
    }
    ++windows_;
    return *session_;
  }

  typename Driver::Params params_;
  unsigned threads_;
  double seconds_;
  std::uint64_t seed_;
  RunOptions options_;
  std::optional<detail::RowSession<Driver>> session_;
  unsigned windows_ = 0;
  Verdict replaced_;  // the first failed check of a replaced driver (passed while none)
};

}  // namespace cp::bench
