// l08_fork_join: a recursive divide-and-conquer (quicksort) three ways, each checked against
// std::sort of the same input.
//
//   tbb::task_group  - each split runs one half as a task (pushed on this worker's deque, where
//                      an idle worker may steal it) and sorts the other half itself; the
//                      threads are oneTBB's pool, created once.
//   std::async       - each split starts the left half with std::launch::async: a new thread
//                      per split. The example counts the threads created and the most alive at
//                      once (the "thread explosion"); if the system refuses a thread, it says so.
//   static split     - P threads each std::sort one contiguous slice, then the slices are
//                      merged on the calling thread: the split is decided before any work runs.
// Below --cutoff elements a part is sorted with std::sort (no more splitting). Each row runs
// --repeats times, interleaved; the median and the speed-up over std::sort are printed.
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/task_group.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <future>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "comparisons/common/random.hpp"
#include "lessons/common/cli.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using Values = std::vector<std::uint64_t>;
using Iter = Values::iterator;

// partition_around_median3: moves a pivot (median of first, middle, last) into place and returns
// it: [first, p) <= *p <= (p, last). Needs last - first >= 3.
Iter partition_around_median3(Iter first, Iter last) {
  Iter mid = first + (last - first) / 2;
  if (*mid < *first) std::iter_swap(mid, first);
  if (*(last - 1) < *first) std::iter_swap(last - 1, first);
  if (*(last - 1) < *mid) std::iter_swap(last - 1, mid);
  std::iter_swap(mid, last - 1);  // the pivot waits at the end
  const std::uint64_t pivot = *(last - 1);
  Iter store = std::partition(first, last - 1, [pivot](std::uint64_t v) { return v < pivot; });
  std::iter_swap(store, last - 1);
  return store;
}

// [quote: task_group]
// One split: the left half becomes a task that any idle worker may steal; this worker goes on
// with the right half, then waits for the left (helping with other tasks while it waits).
void tbb_quicksort(Iter first, Iter last, std::ptrdiff_t cutoff) {
  if (last - first <= cutoff) {
    std::sort(first, last);
    return;
  }
  const Iter p = partition_around_median3(first, last);
  tbb::task_group halves;
  halves.run([=] { tbb_quicksort(first, p, cutoff); });
  tbb_quicksort(p + 1, last, cutoff);
  halves.wait();
}
// [end quote]

// Threads std::async started: created in all, and alive at once (the peak).
struct ThreadCount {
  std::atomic<long> created{0}, alive{0}, peak{0};
  void enter() {
    // Relaxed: counters for the report, read after every thread was joined (get() orders).
    created.fetch_add(1, std::memory_order_relaxed);
    const long now = alive.fetch_add(1, std::memory_order_relaxed) + 1;
    long seen = peak.load(std::memory_order_relaxed);
    while (now > seen && !peak.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
    }
  }
  void leave() { alive.fetch_sub(1, std::memory_order_relaxed); }
};

// [quote: async]
// One split: the left half on a brand-new thread (std::launch::async), the right half here.
void async_quicksort(Iter first, Iter last, std::ptrdiff_t cutoff, ThreadCount& count) {
  if (last - first <= cutoff) {
    std::sort(first, last);
    return;
  }
  const Iter p = partition_around_median3(first, last);
  auto left = std::async(std::launch::async, [=, &count] {
    count.enter();
    async_quicksort(first, p, cutoff, count);
    count.leave();
  });
  async_quicksort(p + 1, last, cutoff, count);
  left.get();  // rethrows the left half's exception, if any
}
// [end quote]

// The static split: P slices sorted by P threads, merged pairwise on this thread.
void static_sort(Values& v, unsigned threads) {
  std::vector<std::size_t> bounds(threads + 1);
  for (unsigned k = 0; k <= threads; ++k) bounds[k] = v.size() * k / threads;
  std::vector<std::thread> team;
  for (unsigned k = 0; k < threads; ++k)
    team.emplace_back([&, k] { std::sort(v.begin() + bounds[k], v.begin() + bounds[k + 1]); });
  for (auto& t : team) t.join();
  for (unsigned k = 1; k < threads; ++k)
    std::inplace_merge(v.begin(), v.begin() + bounds[k], v.begin() + bounds[k + 1]);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  long long items = 2'000'000, cutoff = 4096, repeats = 5, threads = 2, seed = 1;
  cp::lessons::Cli cli("l08_fork_join",
                       "quicksort: tbb::task_group vs std::async per split vs a static split");
  cli.option("items", items, "values to sort", 1, 200'000'000)
      .option("cutoff", cutoff, "parts at most this long are sorted without splitting", 16,
              1'000'000'000)
      .option("repeats", repeats, "runs per row (median reported)", 1, 1000)
      .option("threads", threads, "TBB workers and static-split threads", 1, 64)
      .option("seed", seed, "the input's random seed", 0, 1'000'000'000);
  cli.parse(argc, argv);
  const auto n = static_cast<unsigned>(threads);
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, n);

  Values input(static_cast<std::size_t>(items));
  cp::Xoshiro256 rng(static_cast<std::uint64_t>(seed));
  for (auto& x : input) x = rng.next();
  Values expected = input;
  std::sort(expected.begin(), expected.end());

  ThreadCount async_threads;
  std::string async_error;
  struct Row {
    const char* name;
    std::function<void(Values&)> sort;
    std::vector<double> seconds;
    bool equal = true;
  };
  std::vector<Row> rows = {
      {"std::sort (sequential)", [](Values& v) { std::sort(v.begin(), v.end()); }, {}},
      {"tbb::task_group", [&](Values& v) { tbb_quicksort(v.begin(), v.end(), cutoff); }, {}},
      {"std::async per split",
       [&](Values& v) {
         try {
           async_quicksort(v.begin(), v.end(), cutoff, async_threads);
         } catch (const std::system_error& e) {  // the system refused a thread
           async_error = e.what();
         }
       },
       {}},
      {"static split + merge", [&](Values& v) { static_sort(v, n); }, {}},
  };
  std::printf("sorting %lld random 64-bit values, cutoff %lld, %u threads, %lld repeats\n", items,
              cutoff, n, repeats);
  for (long long r = 0; r < repeats; ++r) {
    for (auto& row : rows) {
      Values v = input;
      const auto start = Clock::now();
      row.sort(v);
      row.seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
      row.equal = row.equal && v == expected;
    }
    std::fprintf(stderr, "  round %lld/%lld done\n", r + 1, repeats);
  }
  bool ok = true;
  const double base = median(rows[0].seconds);
  std::printf("  %-24s %10s %9s  %s\n", "row", "median ms", "speed-up", "equals std::sort");
  for (const auto& row : rows) {
    const double med = median(row.seconds);
    ok = ok && row.equal;
    std::printf("  %-24s %10.2f %8.2fx  %s\n", row.name, med * 1e3, base / med,
                row.equal ? "yes" : "NO");
  }
  const long created = async_threads.created.load(std::memory_order_relaxed);
  std::printf("\nthreads started by std::async: %ld in %lld runs (%ld a sort), at most %ld alive "
              "at once\n",
              created, repeats, static_cast<long>(created / repeats), async_threads.peak.load(std::memory_order_relaxed));
  std::printf("threads used by tbb::task_group: oneTBB's pool of %u, created once\n", n);
  if (!async_error.empty()) {
    std::printf("std::async failed to start a thread: %s\n", async_error.c_str());
    ok = false;
  }
  std::printf("every row's result equals std::sort's: %s\n", ok ? "yes" : "NO");
  return ok ? 0 : 1;
}

// How to run (Release):
//   cmake --preset release && cmake --build --preset release --target l08_fork_join
//   ./build/release/lessons/08-work-stealing/l08_fork_join
// What to expect: every row "yes". std::async starts one thread per split: between
// items / cutoff and twice that a sort (834 with the defaults), often a hundred or more alive
// at once, all competing for the cores; --cutoff=256 multiplies that by 16. task_group's
// splits are tasks on a fixed pool.
