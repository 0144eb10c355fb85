// stack_compare.cpp (target stack_compare): our Treiber stacks beside the peers, one run.
//
// Rows: ours with each reclamation policy (tagged, hazard pointers, epochs), libcds
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
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
};

constexpr int kPrefill = 1000;

template <class S>
StackRun run_once(unsigned threads, std::chrono::milliseconds duration) {
  if constexpr (requires { S::settle(); }) S::settle();
  auto s = std::make_unique<S>();
  {
    auto local = s->local();
    for (int i = 0; i < kPrefill; ++i) s->push(local, static_cast<std::uint64_t>(i));
  }
  std::vector<LatencyHistogram> hists(threads);
  std::vector<std::uint64_t> ops(threads, 0);
  std::atomic<bool> stop{false};
  long long peak = -1;
  std::latch ready(threads + 1);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      auto local = s->local();
      auto& h = hists[t];
      std::uint64_t n = 0;
      ready.arrive_and_wait();
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
  std::uint64_t total = 0;
  for (unsigned t = 0; t < threads; ++t) {
    r.hist.merge(hists[t]);
    total += ops[t];
  }
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
  std::function<StackRun(unsigned, std::chrono::milliseconds)> run;
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
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf(
          "stack_compare: Treiber stacks (ours, per reclamation policy) beside libcds, boost,\n"
          "liburcu, Concurrency Kit and a mutex + vector; push/pop pairs at 1, 2, 4, ... threads.\n\n"
          "  --reps=N         repetitions per row, interleaved (default 5, 1..100)\n"
          "  --ms=N           measured milliseconds per repetition (default 300, 10..60000)\n"
          "  --max-threads=N  largest thread count; the sweep doubles from 1 (default 8, 1..256)\n"
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
    const TimerFloor floor = measure_timer_floor();
    std::printf("stack_compare: %s, %u cores, %s, %s, git %s, %s\n", m.cpu.c_str(), m.cores,
                m.compiler.c_str(), m.build_type.c_str(), m.git_revision.c_str(), m.date_utc.c_str());
    std::printf("push/pop pairs on one shared stack (prefilled %d); %lld reps x %lld ms, "
                "interleaved; timer floor p50 %llu ns\n",
                kPrefill, reps, ms, static_cast<unsigned long long>(floor.p50_ns));

    // results[row][count][rep]
    std::vector<std::vector<std::vector<StackRun>>> results(
        rows.size(), std::vector<std::vector<StackRun>>(counts.size()));
    for (long long rep = 0; rep < reps; ++rep) {
      std::fprintf(stderr, "rep %lld/%lld ...\n", rep + 1, reps);
      for (std::size_t c = 0; c < counts.size(); ++c)
        for (std::size_t r = 0; r < rows.size(); ++r)
          results[r][c].push_back(rows[r].run(counts[c], std::chrono::milliseconds(ms)));
    }

    std::printf("\n%-30s %7s %9s %17s %7s %7s %8s %10s\n", "stack", "threads", "Mops/s",
                "(min..max)", "p50 ns", "p99 ns", "p99.9 ns", "peak unrecl");
    for (std::size_t c = 0; c < counts.size(); ++c) {
      for (std::size_t r = 0; r < rows.size(); ++r) {
        auto runs = results[r][c];
        std::sort(runs.begin(), runs.end(),
                  [](const StackRun& a, const StackRun& b) { return a.mops < b.mops; });
        const StackRun& med = runs[runs.size() / 2];
        long long peak = -1;
        for (const auto& x : runs) peak = std::max(peak, x.peak_unreclaimed);
        char range[40];
        std::snprintf(range, sizeof range, "(%.2f..%.2f)", runs.front().mops, runs.back().mops);
        std::printf("%-30s %7u %9.2f %17s %7llu %7llu %8llu %10s\n", rows[r].name.c_str(),
                    counts[c], med.mops, range,
                    static_cast<unsigned long long>(med.hist.value_at_percentile(50)),
                    static_cast<unsigned long long>(med.hist.value_at_percentile(99)),
                    static_cast<unsigned long long>(med.hist.value_at_percentile(99.9)),
                    peak < 0 ? "-" : std::to_string(peak).c_str());
      }
      std::printf("\n");
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
// What to expect: on 2 cores every lock-free row slows down from 1 to 2 threads (one hot cache
// line bounces between the cores); a p50 near the timer floor measures mostly the clock.
