// l08_stealing: the stealing itself, counted, and the cost of the grain size, measured.
//
// 1. Who ran what. A range whose first eighth costs --skew times more is summed by a
//    recursive split on tbb::task_group: each split spawns its left half as a task on this
//    worker's deque and keeps the right half. A task that runs on another worker than the one
//    that spawned it was stolen (in a task_group, only a thief takes a task from another
//    worker's deque). Per worker: the leaves it ran, the tasks it stole, its busy time (in
//    leaves). A tbb::task_scheduler_observer counts the threads that joined the arena.
//    Beside it, a static split in two std::threads of the same range, each thread's busy time:
//    one thread has most of the work, the other idles.
// 2. Grain size. tbb::parallel_for with tbb::simple_partitioner splits a range down to chunks
//    of at most g items, exactly; g sweeps over powers of 2. Too small: the per-chunk cost
//    (a task, a spawn, maybe a steal) dominates cheap items. Too large: too few chunks to
//    balance skewed work. Printed per g: chunks and time, uniform and skewed.
// Every parallel result is compared with the sequential sum; the exit code is 1 if one differs.
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>
#include <oneapi/tbb/task_scheduler_observer.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <new>
#include <thread>
#include <vector>

#include "comparisons/common/random.hpp"
#include "lessons/common/cli.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Work {
  std::uint64_t items, rounds, skew;
  std::uint64_t cost(std::uint64_t i) const { return i < items / 8 ? rounds * skew : rounds; }
  std::uint64_t item(std::uint64_t i) const {
    std::uint64_t x = i;
    for (std::uint64_t k = cost(i); k > 0; --k) x = cp::mix64(x);
    return x >> 40;
  }
  std::uint64_t sum(std::uint64_t lo, std::uint64_t hi) const {
    std::uint64_t s = 0;
    for (std::uint64_t i = lo; i < hi; ++i) s += item(i);
    return s;
  }
};

// Per worker, one cache line each, indexed by the arena slot (unique while the thread is in
// the arena). Each slot is written only by the thread in it, read after the work joined.
struct alignas(64) WorkerTally {
  std::uint64_t leaves = 0, items = 0, steals = 0;
  double busy_seconds = 0;
};
constexpr std::size_t kMaxWorkers = 64;
using Tallies = std::array<WorkerTally, kMaxWorkers>;

std::size_t my_slot() { return static_cast<std::size_t>(tbb::this_task_arena::current_thread_index()); }

// [quote: observer]
// Counts the threads that enter the arena this observer watches (oneTBB calls
// on_scheduler_entry on each thread as it joins, the master included).
class JoinCounter : public tbb::task_scheduler_observer {
 public:
  explicit JoinCounter(tbb::task_arena& arena) : tbb::task_scheduler_observer(arena) {
    observe(true);
  }
  ~JoinCounter() override { observe(false); }
  void on_scheduler_entry(bool) override {
    // Relaxed: a count read after the work has joined.
    joined.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<int> joined{0};
};
// [end quote]

// [quote: steal]
// Sums [lo, hi): a leaf below `grain`, else the left half becomes a task and this worker keeps
// the right half. `spawner` is the slot that spawned this call: if another slot runs it, the
// task was stolen.
std::uint64_t tree_sum(const Work& w, std::uint64_t lo, std::uint64_t hi, std::uint64_t grain,
                       std::size_t spawner, Tallies& t) {
  WorkerTally& mine = t[my_slot()];
  if (my_slot() != spawner) ++mine.steals;
  if (hi - lo <= grain) {
    const auto start = Clock::now();
    const std::uint64_t s = w.sum(lo, hi);
    mine.busy_seconds += std::chrono::duration<double>(Clock::now() - start).count();
    ++mine.leaves;
    mine.items += hi - lo;
    return s;
  }
  const std::uint64_t mid = lo + (hi - lo) / 2;
  std::uint64_t left = 0;
  tbb::task_group g;
  const std::size_t me = my_slot();
  g.run([&, me] { left = tree_sum(w, lo, mid, grain, me, t); });
  const std::uint64_t right = tree_sum(w, mid, hi, grain, me, t);
  g.wait();
  return left + right;
}
// [end quote]

// The static split: thread k sums the k-th slice and records its busy time.
std::uint64_t static_sum(const Work& w, unsigned threads, std::vector<double>& busy) {
  std::vector<std::uint64_t> part(threads, 0);
  busy.assign(threads, 0);
  std::vector<std::thread> team;
  for (unsigned k = 0; k < threads; ++k)
    team.emplace_back([&, k] {
      const auto start = Clock::now();
      part[k] = w.sum(w.items * k / threads, w.items * (k + 1) / threads);
      busy[k] = std::chrono::duration<double>(Clock::now() - start).count();
    });
  for (auto& th : team) th.join();
  std::uint64_t s = 0;
  for (auto p : part) s += p;
  return s;
}

// [quote: grain]
// parallel_for with simple_partitioner: chunks of at most `grain` items, exactly (no
// auto-tuning), one task each. Returns the chunks run; sums into per-worker partials.
std::uint64_t grain_run(const Work& w, std::uint64_t grain, Tallies& t) {
  tbb::parallel_for(
      tbb::blocked_range<std::uint64_t>(0, w.items, grain),
      [&](const tbb::blocked_range<std::uint64_t>& r) {
        WorkerTally& mine = t[my_slot()];
        ++mine.leaves;
        mine.items += w.sum(r.begin(), r.end());  // `items` holds the partial sum here
      },
      tbb::simple_partitioner());
  std::uint64_t chunks = 0;
  for (const auto& x : t) chunks += x.leaves;
  return chunks;
}
// [end quote]

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int run(int argc, char** argv);

int main(int argc, char** argv) {
  // Held across the run so that finalize can wait for oneTBB's workers to leave: the
  // observer's bookkeeping inside libtbb is freed only then (else LeakSanitizer reports it).
  tbb::task_scheduler_handle handle{tbb::attach{}};
  const int status = run(argc, argv);
  (void)tbb::finalize(handle, std::nothrow);
  return status;
}

int run(int argc, char** argv) {
  long long items = 1 << 20, rounds = 8, skew = 32, grain = 4096, max_grain = 1 << 20,
            repeats = 3, threads = 2;
  cp::lessons::Cli cli("l08_stealing",
                       "tasks and steals per worker, a static split's idle thread, a grain-size "
                       "sweep");
  cli.option("items", items, "items in the range", 16, 1'000'000'000)
      .option("rounds", rounds, "hash rounds per item (its cost)", 1, 1'000'000)
      .option("skew", skew, "cost factor of the range's first eighth", 1, 100'000)
      .option("grain", grain, "leaf size of the task_group tree (part 1)", 1, 1'000'000'000)
      .option("max-grain", max_grain, "largest grain of the sweep (part 2; from 1 by x2)", 1,
              1'000'000'000)
      .option("repeats", repeats, "runs per grain (median reported)", 1, 1000)
      .option("threads", threads, "arena threads and static-split threads", 1, 64);
  cli.parse(argc, argv);
  const auto n = static_cast<unsigned>(std::min<long long>(threads, kMaxWorkers));
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, n);
  tbb::task_arena arena(static_cast<int>(n));
  const Work skewed{static_cast<std::uint64_t>(items), static_cast<std::uint64_t>(rounds),
                    static_cast<std::uint64_t>(skew)};
  const Work uniform{skewed.items, skewed.rounds, 1};
  bool ok = true;

  // Part 1: who ran what.
  const std::uint64_t expected = skewed.sum(0, skewed.items);
  Tallies t{};
  JoinCounter joins(arena);
  const auto start = Clock::now();
  const std::uint64_t got = arena.execute([&] {
    return tree_sum(skewed, 0, skewed.items, static_cast<std::uint64_t>(grain), my_slot(), t);
  });
  const double tree_seconds = seconds_since(start);
  ok = ok && got == expected;
  std::printf("1. skewed range (%llu items, first eighth x%llu), task_group tree, leaves of <= %lld"
              " items, %u threads: %.1f ms, sum %s\n",
              static_cast<unsigned long long>(skewed.items),
              static_cast<unsigned long long>(skewed.skew), grain, n, tree_seconds * 1e3,
              got == expected ? "equals the sequential sum" : "WRONG");
  std::printf("   threads that joined the arena (observer): %d\n",
              joins.joined.load(std::memory_order_relaxed));
  for (std::size_t k = 0; k < kMaxWorkers; ++k)
    if (t[k].leaves != 0)
      std::printf("   worker %zu: %llu leaves (%llu items), %llu tasks stolen, busy %.1f ms\n", k,
                  static_cast<unsigned long long>(t[k].leaves),
                  static_cast<unsigned long long>(t[k].items),
                  static_cast<unsigned long long>(t[k].steals), t[k].busy_seconds * 1e3);
  std::vector<double> busy;
  const auto static_start = Clock::now();
  const std::uint64_t static_got = static_sum(skewed, n, busy);
  const double static_seconds = seconds_since(static_start);
  ok = ok && static_got == expected;
  std::printf("   static split in %u std::threads: %.1f ms, sum %s\n", n, static_seconds * 1e3,
              static_got == expected ? "equals the sequential sum" : "WRONG");
  // Each thread's share of the work, in mixing steps (the sum of cost() over its range), so
  // the work ratio is printed beside the time ratio instead of being worked out by hand.
  std::vector<std::uint64_t> steps(n, 0);
  for (unsigned k = 0; k < n; ++k)
    for (std::uint64_t i = skewed.items * k / n; i < skewed.items * (k + 1) / n; ++i)
      steps[k] += skewed.cost(i);
  for (unsigned k = 0; k < n; ++k)
    std::printf("   thread %u: busy %.1f ms, idle %.1f ms, %.1f M mixing steps"
                " (%.2fx thread %u's)\n",
                k, busy[k] * 1e3, (static_seconds - busy[k]) * 1e3,
                static_cast<double>(steps[k]) / 1e6,
                static_cast<double>(steps[k]) / static_cast<double>(steps[n - 1]), n - 1);

  // Part 2: the grain sweep.
  const std::uint64_t expected_uniform = uniform.sum(0, uniform.items);
  std::printf("\n2. grain sweep: parallel_for + simple_partitioner, %llu items, %u threads, "
              "median of %lld\n",
              static_cast<unsigned long long>(uniform.items), n, repeats);
  std::printf("   %10s %10s %14s %14s\n", "grain", "chunks", "uniform ms", "skewed ms");
  for (std::uint64_t g = 1; g <= static_cast<std::uint64_t>(max_grain) && g <= uniform.items;
       g *= 2) {
    double med[2] = {0, 0};
    std::uint64_t chunks = 0;
    for (int shape = 0; shape < 2; ++shape) {
      const Work& w = shape == 0 ? uniform : skewed;
      const std::uint64_t want = shape == 0 ? expected_uniform : expected;
      std::vector<double> s;
      for (long long r = 0; r < repeats; ++r) {
        Tallies tg{};
        const auto t0 = Clock::now();
        chunks = arena.execute([&] { return grain_run(w, g, tg); });
        s.push_back(seconds_since(t0));
        std::uint64_t sum = 0;
        for (const auto& x : tg) sum += x.items;
        ok = ok && sum == want;
      }
      std::sort(s.begin(), s.end());
      med[shape] = s[s.size() / 2];
    }
    std::printf("   %10llu %10llu %14.2f %14.2f\n", static_cast<unsigned long long>(g),
                static_cast<unsigned long long>(chunks), med[0] * 1e3, med[1] * 1e3);
    std::fflush(stdout);
  }
  std::printf("\nevery parallel sum equals the sequential one: %s\n", ok ? "yes" : "NO");
  return ok ? 0 : 1;
}

// How to run (Release):
//   cmake --preset release && cmake --build --preset release --target l08_stealing
//   ./build/release/lessons/08-work-stealing/l08_stealing
// What to expect on 2 cores: part 1, both workers run leaves and the one that is not the
// caller has stolen tasks (the caller steals back too, when its own deque runs dry); the
// static split's thread 0 is busy most of the run and thread 1 idles for most of it.
// Part 2: time falls steeply from grain 1 (a task per item) as the chunks grow, flattens over
// a wide middle, and rises again for the skewed range once there are only a few chunks (at
// grain = items / 2 it is the static split in two).
