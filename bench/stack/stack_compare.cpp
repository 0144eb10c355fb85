// stack_compare.cpp (target stack_compare): our Treiber stacks beside the peers, one run.
//
// Rows: ours with each reclamation policy (tagged, hazard pointers, epochs; hazard pointers
// also with exponential back-off after a lost CAS, patterns/lock_free/backoff.hpp), libcds
// TreiberStack<HP> (plain and with elimination back-off), boost::lockfree::stack, liburcu
// cds_lfs, ck_stack, and a std::vector behind a mutex. Each thread does push/pop pairs on one
// shared stack (prefilled, so pops rarely find it empty), timing every push and every pop into
// its own histogram (bench/harness/histogram.hpp). Repetitions are interleaved (rep 1 of every
// row, then rep 2, ...) so a noisy neighbour hits all rows alike.
//
// Prints, per row and thread count: the median of the repetitions' throughput (million
// operations per second, push and pop each count one) with min..max, p50/p99/p99.9 per
// operation from the median repetition's merged histogram, and the largest number of
// retired-but-not-freed nodes thread 0 saw (ours only; "-" where a library does not say).
// Our hazard-pointer and epoch domains are process-wide: before each run the main thread
// collects what earlier runs left, so the count is the run's own. For the tagged stack the
// count is the nodes it holds (it recycles, never frees).
//
// Two modes (--mode): `pairs` (the default above) and `split`, where half the threads only
// push and the other half only pop (2, 4, 8 threads). Split is opt-in because its consumers
// poll: a consumer that finds the stack empty yields and tries again, and producers yield
// while the backlog (pushed minus popped) exceeds kSplitCap, so memory stays bounded. It
// prints the share of pops that found the stack empty beside the usual columns.
// Every row also prints the process's peak resident set size during the run (VmHWM, reset
// before each run by writing 5 to /proc/self/clear_refs) and, in parentheses, how far it rose
// above the RSS the run started with (the largest over the repetitions). The process's RSS
// includes what earlier rows left in malloc's free lists: the rise is the row's own cost.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <latch>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/harness/histogram.hpp"
#include "bench/harness/report.hpp"
#include "bench/harness/timer.hpp"
#include "bench/stack/stack_peers.hpp"
#include "patterns/lock_free/epochs.hpp"
#include "patterns/lock_free/hazard_pointers.hpp"
#include "patterns/lock_free/tagged.hpp"

using namespace cp::bench;
using namespace cp::bench::stack;

namespace {

struct StackRun {
  double mops = 0;
  LatencyHistogram hist;
  long long peak_unreclaimed = -1;
  double peak_rss_mib = -1;      // VmHWM during the run; -1 if the kernel would not reset it
  double rss_growth_mib = 0;     // that peak minus the RSS when the run started
  double empty_pop_percent = 0;  // split mode: pops that found the stack empty
};

enum class Mode { pairs, split };

constexpr int kPrefill = 1000;
constexpr std::int64_t kSplitCap = 1 << 16;  // split mode: producers wait above this backlog

// reset_peak_rss: makes VmHWM the current RSS (Linux >= 4.0). False if refused.
bool reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

// status_kib: a "Name:   123 kB" field of /proc/self/status, or -1.
long long status_kib(std::string_view name) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(name, 0) == 0 && line.size() > name.size() && line[name.size()] == ':')
      return std::strtoll(line.c_str() + name.size() + 1, nullptr, 10);
  return -1;
}

template <class S>
StackRun run_once(unsigned threads, std::chrono::milliseconds duration, Mode mode) {
  if constexpr (requires { S::settle(); }) S::settle();
  auto s = std::make_unique<S>();
  {
    auto local = s->local();
    for (int i = 0; i < kPrefill; ++i) s->push(local, static_cast<std::uint64_t>(i));
  }
  std::vector<LatencyHistogram> hists(threads);
  std::vector<std::uint64_t> ops(threads, 0), empty(threads, 0);
  std::atomic<bool> stop{false};
  // Split mode's throttle: pushed minus popped, updated once per batch. Relaxed: a count that
  // only paces the producers; the stack's own atomics order its nodes.
  std::atomic<std::int64_t> backlog{kPrefill};
  const unsigned producers = mode == Mode::split ? threads / 2 : 0;
  long long peak = -1;
  const bool rss_ok = reset_peak_rss();
  const long long rss_at_start = status_kib("VmRSS");
  std::latch ready(threads + 1);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      auto local = s->local();
      auto& h = hists[t];
      std::uint64_t n = 0;
      ready.arrive_and_wait();
      if (mode == Mode::split) {
        const bool producer = t < producers;
        while (!stop.load(std::memory_order_relaxed)) {  // a flag only: no data rides on it
          if (producer && backlog.load(std::memory_order_relaxed) > kSplitCap) {
            std::this_thread::yield();  // the consumers are behind
            continue;
          }
          std::int64_t moved = 0;
          for (int i = 0; i < 64; ++i) {
            const auto t0 = BenchClock::now();
            if (producer) {
              s->push(local, n);
              ++moved;
            } else if (s->pop(local)) {
              ++moved;
            } else {
              ++empty[t];
            }
            h.record(elapsed_ns(t0, BenchClock::now()));
          }
          n += static_cast<std::uint64_t>(moved);
          backlog.fetch_add(producer ? moved : -moved, std::memory_order_relaxed);
          if (!producer && moved == 0) std::this_thread::yield();  // empty: let producers run
          if (t == 0) peak = std::max(peak, s->unreclaimed());
        }
        ops[t] = n;
        return;
      }
      while (!stop.load(std::memory_order_relaxed)) {  // a flag only: no data rides on it
        for (int i = 0; i < 64; ++i) {
          const auto t0 = BenchClock::now();
          s->push(local, n);
          const auto t1 = BenchClock::now();
          s->pop(local);
          const auto t2 = BenchClock::now();
          h.record(elapsed_ns(t0, t1));
          h.record(elapsed_ns(t1, t2));
          n += 2;
        }
        if (t == 0) peak = std::max(peak, s->unreclaimed());
      }
      ops[t] = n;
    });
  ready.arrive_and_wait();
  const auto start = BenchClock::now();
  std::this_thread::sleep_for(duration);
  stop.store(true, std::memory_order_relaxed);
  for (auto& w : workers) w.join();
  const double seconds = static_cast<double>(elapsed_ns(start, BenchClock::now())) * 1e-9;
  StackRun r;
  if (rss_ok) {
    const long long hwm = status_kib("VmHWM");
    r.peak_rss_mib = static_cast<double>(hwm) / 1024.0;
    r.rss_growth_mib = static_cast<double>(hwm - rss_at_start) / 1024.0;
  }
  std::uint64_t total = 0, empties = 0;
  for (unsigned t = 0; t < threads; ++t) {
    r.hist.merge(hists[t]);
    total += ops[t];
    empties += empty[t];
  }
  if (mode == Mode::split && total + empties > 0)
    r.empty_pop_percent = 100.0 * static_cast<double>(empties) / static_cast<double>(total + empties);
  {
    auto local = s->local();
    while (s->pop(local)) {
    }
  }
  r.mops = static_cast<double>(total) / seconds * 1e-6;
  r.peak_unreclaimed = peak;
  return r;
}

struct Row {
  std::string name;
  std::function<StackRun(unsigned, std::chrono::milliseconds, Mode)> run;
};

int usage_error(const std::string& why) {
  std::fprintf(stderr, "stack_compare: %s (try --help)\n", why.c_str());
  return 2;
}

bool parse_int(std::string_view text, long long min, long long max, long long& out) {
  char* end = nullptr;
  const std::string s(text);
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < min || v > max) return false;
  out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  long long reps = 5, ms = 300, max_threads = 8;
  std::vector<Mode> modes = {Mode::pairs};
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.rfind("--mode=", 0) == 0) {
      const std::string_view m = a.substr(7);
      if (m == "pairs") modes = {Mode::pairs};
      else if (m == "split") modes = {Mode::split};
      else if (m == "both") modes = {Mode::pairs, Mode::split};
      else return usage_error("--mode wants pairs, split or both, got '" + std::string(m) + "'");
      continue;
    }
    if (a == "--help" || a == "-h") {
      std::printf(
          "stack_compare: Treiber stacks (ours, per reclamation policy) beside libcds, boost,\n"
          "liburcu, Concurrency Kit and a mutex + vector; push/pop pairs at 1, 2, 4, ... threads.\n\n"
          "  --reps=N         repetitions per row, interleaved (default 5, 1..100)\n"
          "  --ms=N           measured milliseconds per repetition (default 300, 10..60000)\n"
          "  --max-threads=N  largest thread count; the sweep doubles from 1 (default 8, 1..256)\n"
          "  --mode=M         pairs (default: each thread pushes then pops), split (half the\n"
          "                   threads push, half pop; from 2 threads; consumers poll, yielding\n"
          "                   when the stack is empty), or both\n"
          "  --help           print this help and exit\n");
      return 0;
    }
    const auto eq = a.find('=');
    const std::string_view key = a.substr(0, eq), val = eq == a.npos ? "" : a.substr(eq + 1);
    long long* target = key == "--reps" ? &reps : key == "--ms" ? &ms
                      : key == "--max-threads" ? &max_threads : nullptr;
    if (target == nullptr) return usage_error("unknown argument '" + std::string(a) + "'");
    const long long lo = target == &ms ? 10 : 1;
    const long long hi = target == &reps ? 100 : target == &ms ? 60000 : 256;
    if (!parse_int(val, lo, hi, *target))
      return usage_error(std::string(key) + " wants an integer in [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "], got '" + std::string(val) + "'");
  }

  cds::Initialize();
  {
    cds::gc::HP libcds_hp;  // libcds's hazard-pointer domain, alive for the whole run
    cds::threading::Manager::attachThread();
    const std::vector<Row> rows = {
        {"ours tagged", run_once<Ours<cp::lf::TaggedRecycle>>},
        {"ours hazard-pointers", run_once<Ours<cp::lf::HazardPointers>>},
        // libcds's bounds (cds::backoff::Default); 1-64, 4-256 and 16-1024 measured less.
        {"ours hazard-pointers+backoff",
         run_once<Ours<cp::lf::HazardPointers, cp::lf::ExponentialBackoff<16, 16384>>>},
        {"ours epochs", run_once<Ours<cp::lf::Epochs>>},
        {"libcds TreiberStack<HP>", run_once<LibcdsHP<false>>},
        {"libcds TreiberStack<HP>+elim", run_once<LibcdsHP<true>>},
        {"boost::lockfree::stack", run_once<BoostStack>},
        {"liburcu cds_lfs (pop locked)", run_once<CdsLfs>},
        {"ck_stack mpmc", run_once<CkStack>},
        {"mutex + vector", run_once<MutexVector>},
    };
    std::vector<unsigned> counts;
    for (unsigned t = 1; t <= static_cast<unsigned>(max_threads); t *= 2) counts.push_back(t);

    const MachineInfo m = MachineInfo::detect();
    const TimerFloor floor = measure_steady_clock_floor();  // the clock the rows use
    std::printf("stack_compare: %s, %u cores, %s, %s, git %s, %s\n", m.cpu.c_str(), m.cores,
                m.compiler.c_str(), m.build_type.c_str(), m.git_revision.c_str(), m.date_utc.c_str());
    std::printf("push/pop pairs on one shared stack (prefilled %d); %lld reps x %lld ms, "
                "interleaved\n"
                "timer floor p50 %llu ns (steady_clock, the clock the rows are timed with)\n",
                kPrefill, reps, ms, static_cast<unsigned long long>(floor.p50_ns));

    for (const Mode mode : modes) {
      // Split mode needs a producer and a consumer: from 2 threads.
      std::vector<unsigned> mode_counts;
      for (unsigned t : counts)
        if (mode == Mode::pairs || t >= 2) mode_counts.push_back(t);
      if (mode_counts.empty()) {
        std::printf("\nsplit mode: skipped (--max-threads=1 leaves no room for a consumer)\n");
        continue;
      }
      const bool split = mode == Mode::split;
      std::printf("\n%s\n", split ? "split: half the threads push, half pop (each op timed)"
                                   : "pairs: each thread pushes then pops (each op timed)");
      // results[row][count][rep]
      std::vector<std::vector<std::vector<StackRun>>> results(
          rows.size(), std::vector<std::vector<StackRun>>(mode_counts.size()));
      for (long long rep = 0; rep < reps; ++rep) {
        std::fprintf(stderr, "%s: rep %lld/%lld ...\n", split ? "split" : "pairs", rep + 1, reps);
        for (std::size_t c = 0; c < mode_counts.size(); ++c)
          for (std::size_t r = 0; r < rows.size(); ++r)
            results[r][c].push_back(
                rows[r].run(mode_counts[c], std::chrono::milliseconds(ms), mode));
      }

      std::printf("%-30s %7s %9s %17s %7s %7s %8s %10s %15s%s\n", "stack", "threads", "Mops/s",
                  "(min..max)", "p50 ns", "p99 ns", "p99.9 ns", "peak unrecl", "RSS MiB (+run)",
                  split ? "  empty pops" : "");
      for (std::size_t c = 0; c < mode_counts.size(); ++c) {
        for (std::size_t r = 0; r < rows.size(); ++r) {
          auto runs = results[r][c];
          std::sort(runs.begin(), runs.end(),
                    [](const StackRun& a, const StackRun& b) { return a.mops < b.mops; });
          const StackRun& med = runs[runs.size() / 2];
          long long peak = -1;
          double rss = -1, growth = 0;
          for (const auto& x : runs) {
            peak = std::max(peak, x.peak_unreclaimed);
            rss = std::max(rss, x.peak_rss_mib);
            growth = std::max(growth, x.rss_growth_mib);
          }
          char range[40], rss_text[32], empty_text[24] = "";
          std::snprintf(range, sizeof range, "(%.2f..%.2f)", runs.front().mops, runs.back().mops);
          if (rss < 0) std::snprintf(rss_text, sizeof rss_text, "-");
          else std::snprintf(rss_text, sizeof rss_text, "%.1f (+%.1f)", rss, growth);
          if (split) std::snprintf(empty_text, sizeof empty_text, "  %9.1f%%", med.empty_pop_percent);
          std::printf("%-30s %7u %9.2f %17s %7llu %7llu %8llu %10s %15s%s\n", rows[r].name.c_str(),
                      mode_counts[c], med.mops, range,
                      static_cast<unsigned long long>(med.hist.value_at_percentile(50)),
                      static_cast<unsigned long long>(med.hist.value_at_percentile(99)),
                      static_cast<unsigned long long>(med.hist.value_at_percentile(99.9)),
                      peak < 0 ? "-" : std::to_string(peak).c_str(), rss_text, empty_text);
        }
        std::printf("\n");
      }
    }
    cds::threading::Manager::detachThread();
  }
  cds::Terminate();
  return 0;
}

// How to run:
//   cmake --preset release && cmake --build --preset release --target stack_compare
//   ./build/release/bench/stack/stack_compare                 (about 9 rows x 4 counts x 5 reps)
//   ./build/release/bench/stack/stack_compare --reps=3 --ms=100 --max-threads=2   (quick)
//   ./build/release/bench/stack/stack_compare --mode=both      (pairs, then the split mode)
// What to expect: on 2 cores every lock-free row slows down from 1 to 2 threads (one hot cache
// line bounces between the cores); a p50 near the timer floor measures mostly the clock.
