// l08_parallel_streams: map / filter / reduce over a large range, six ways, on uniform and on
// skewed per-item cost (scenario E's parallel stream).
//
// The stream: for i in [0, items): x = f(i) (a hash iterated cost(i) times: the "map"),
// keep x if x % 4 != 0 (the "filter"), sum the kept x >> 40 (the "reduce", exact in uint64).
//   uniform - cost(i) = --work for every item;
//   skewed  - the first eighth of the range costs --skew times more: a static split in two
//             gives one thread most of the work, and the other idles after its half.
// Rows: a sequential loop; tbb::parallel_reduce (work stealing); std::transform_reduce with
// std::execution::par (libstdc++ runs it on oneTBB); OpenMP `parallel for reduction` with
// schedule(static) and schedule(dynamic); a hand-written std::thread static split. Each row
// is run --repeats times, interleaved; the median, the spread and the speed-up over the
// sequential loop are printed, with the work each thread did (TBB: chunks per worker;
// static split: each thread's busy time, which shows the idle one). Every row's sum must
// equal the sequential one, or the exit code is 1.
#include <omp.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_reduce.h>
#include <oneapi/tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <execution>
#include <functional>
#include <numeric>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "comparisons/common/random.hpp"
#include "lessons/common/cli.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Stream {
  std::uint64_t items, work, skew;

  std::uint64_t cost(std::uint64_t i) const { return i < items / 8 ? work * skew : work; }

  // [quote: item]
  // One item: map (iterate a hash cost(i) times), filter (x % 4 != 0), and its share of the
  // sum. Pure: any thread may compute any item, in any order.
  std::uint64_t item(std::uint64_t i) const {
    std::uint64_t x = i;
    for (std::uint64_t k = cost(i); k > 0; --k) x = cp::mix64(x);
    return x % 4 != 0 ? x >> 40 : 0;
  }
  // [end quote]
};

// Per-thread tallies, one cache line each. Slots are indexed by a thread's index in its team
// (TBB's arena slot, OpenMP's thread number, our own split's index): unique while it runs.
struct alignas(64) Tally {
  std::uint64_t chunks = 0;
  std::uint64_t items = 0;
  double busy_seconds = 0;
};
constexpr std::size_t kMaxTally = 64;
using Tallies = std::array<Tally, kMaxTally>;

std::uint64_t sequential(const Stream& s, Tallies& t) {
  std::uint64_t sum = 0;
  for (std::uint64_t i = 0; i < s.items; ++i) sum += s.item(i);
  t[0].chunks = 1;
  t[0].items = s.items;
  return sum;
}

// [quote: tbb]
std::uint64_t tbb_reduce(const Stream& s, Tallies& t) {
  return tbb::parallel_reduce(
      tbb::blocked_range<std::uint64_t>(0, s.items), std::uint64_t{0},
      [&](const tbb::blocked_range<std::uint64_t>& r, std::uint64_t sum) {
        Tally& mine = t[static_cast<std::size_t>(tbb::this_task_arena::current_thread_index())];
        ++mine.chunks;  // this worker ran one more chunk: the stealing shows here
        mine.items += r.size();
        for (std::uint64_t i = r.begin(); i != r.end(); ++i) sum += s.item(i);
        return sum;
      },
      std::plus<>());
}
// [end quote]

std::uint64_t std_par(const Stream& s, const std::vector<std::uint64_t>& index, Tallies&) {
  return std::transform_reduce(std::execution::par, index.begin(), index.end(), std::uint64_t{0},
                               std::plus<>(), [&](std::uint64_t i) { return s.item(i); });
}

std::uint64_t omp_static(const Stream& s, Tallies& t) {
  std::uint64_t sum = 0;
  const auto n = static_cast<std::int64_t>(s.items);
#pragma omp parallel reduction(+ : sum)
  {
    Tally& mine = t[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) {
      sum += s.item(static_cast<std::uint64_t>(i));
      ++mine.items;
    }
  }
  return sum;
}

std::uint64_t omp_dynamic(const Stream& s, Tallies& t) {
  std::uint64_t sum = 0;
  const auto n = static_cast<std::int64_t>(s.items);
#pragma omp parallel reduction(+ : sum)
  {
    Tally& mine = t[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 1024)
    for (std::int64_t i = 0; i < n; ++i) {
      sum += s.item(static_cast<std::uint64_t>(i));
      ++mine.items;
    }
  }
  return sum;
}

// [quote: static]
// The hand-written static split: thread k takes the k-th contiguous slice, whatever it costs.
std::uint64_t static_split(const Stream& s, unsigned threads, Tallies& t) {
  std::vector<std::uint64_t> partial(threads, 0);
  std::vector<std::thread> team;
  for (unsigned k = 0; k < threads; ++k)
    team.emplace_back([&, k] {
      const auto start = Clock::now();
      const std::uint64_t lo = s.items * k / threads, hi = s.items * (k + 1) / threads;
      std::uint64_t sum = 0;
      for (std::uint64_t i = lo; i < hi; ++i) sum += s.item(i);
      partial[k] = sum;
      t[k] = {1, hi - lo, std::chrono::duration<double>(Clock::now() - start).count()};
    });
  for (auto& th : team) th.join();
  return std::accumulate(partial.begin(), partial.end(), std::uint64_t{0});
}
// [end quote]

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

std::string tally_text(const Tallies& t, bool show_busy) {
  std::string out;
  char buf[96];
  for (std::size_t k = 0; k < kMaxTally; ++k) {
    if (t[k].items == 0) continue;
    if (show_busy)
      std::snprintf(buf, sizeof buf, " [t%zu: %llu items, busy %.1f ms]", k,
                    static_cast<unsigned long long>(t[k].items), t[k].busy_seconds * 1e3);
    else if (t[k].chunks > 0)
      std::snprintf(buf, sizeof buf, " [t%zu: %llu chunks, %llu items]", k,
                    static_cast<unsigned long long>(t[k].chunks),
                    static_cast<unsigned long long>(t[k].items));
    else
      std::snprintf(buf, sizeof buf, " [t%zu: %llu items]", k, static_cast<unsigned long long>(t[k].items));
    out += buf;
  }
  return out;
}

bool run_shape(const char* shape, const Stream& s, unsigned threads, long long repeats) {
  std::vector<std::uint64_t> index(s.items);
  std::iota(index.begin(), index.end(), std::uint64_t{0});
  struct Row {
    Row(const char* n, std::function<std::uint64_t(Tallies&)> r, bool busy = false)
        : name(n), run(std::move(r)), show_busy(busy) {}
    const char* name;
    std::function<std::uint64_t(Tallies&)> run;
    bool show_busy = false;
    std::vector<double> seconds;
    Tallies last{};
    std::uint64_t sum = 0;
  };
  std::vector<Row> rows;
  rows.push_back({"sequential loop", [&](Tallies& t) { return sequential(s, t); }});
  rows.push_back({"tbb::parallel_reduce", [&](Tallies& t) { return tbb_reduce(s, t); }});
  rows.push_back({"std::reduce(par)", [&](Tallies& t) { return std_par(s, index, t); }});
  rows.push_back({"omp static", [&](Tallies& t) { return omp_static(s, t); }});
  rows.push_back({"omp dynamic,1024", [&](Tallies& t) { return omp_dynamic(s, t); }});
  rows.push_back({"std::thread static", [&](Tallies& t) { return static_split(s, threads, t); }, true});
  for (long long r = 0; r < repeats; ++r)
    for (auto& row : rows) {
      Tallies t{};
      const auto start = Clock::now();
      row.sum = row.run(t);
      row.seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
      row.last = t;
    }
  bool ok = true;
  const double base = median(rows[0].seconds);
  std::printf("\n%s cost: %llu items, %llu hash rounds each%s, %u threads, %lld repeats\n", shape,
              static_cast<unsigned long long>(s.items), static_cast<unsigned long long>(s.work),
              s.skew > 1 ? " (x skew for the first eighth)" : "", threads, repeats);
  std::printf("  %-22s %10s %22s %9s  %s\n", "row", "median ms", "spread (min..max)", "speed-up",
              "work per thread (last run)");
  for (const auto& row : rows) {
    const auto [lo, hi] = std::minmax_element(row.seconds.begin(), row.seconds.end());
    const double med = median(row.seconds);
    const bool same = row.sum == rows[0].sum;
    ok = ok && same;
    std::printf("  %-22s %10.2f %10.2f..%-10.2f %8.2fx %s%s\n", row.name, med * 1e3, *lo * 1e3,
                *hi * 1e3, base / med, same ? "" : "WRONG SUM ",
                tally_text(row.last, row.show_busy).c_str());
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  long long items = 1'000'000, work = 20, skew = 32, repeats = 7, threads = 2;
  cp::lessons::Cli cli("l08_parallel_streams",
                       "map/filter/reduce: TBB vs std::execution::par vs OpenMP vs a static split");
  cli.option("items", items, "items in the range", 1, 1'000'000'000)
      .option("work", work, "hash rounds per item (its cost)", 1, 1'000'000)
      .option("skew", skew, "cost factor of the first eighth in the skewed run", 2, 100'000)
      .option("repeats", repeats, "runs per row (median reported)", 1, 1000)
      .option("threads", threads, "threads for every parallel row", 1, 64);
  cli.parse(argc, argv);
  const auto n = static_cast<unsigned>(threads);
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, n);
  omp_set_num_threads(static_cast<int>(n));
  const auto u = static_cast<std::uint64_t>(items), w = static_cast<std::uint64_t>(work);
  bool ok = run_shape("uniform", Stream{u, w, 1}, n, repeats);
  ok = run_shape("skewed", Stream{u, w, static_cast<std::uint64_t>(skew)}, n, repeats) && ok;
  std::printf("\nevery row's sum equals the sequential loop's: %s\n", ok ? "yes" : "NO");
  return ok ? 0 : 1;
}

// How to run (Release, on an otherwise idle machine):
//   cmake --preset release && cmake --build --preset release --target l08_parallel_streams
//   ./build/release/lessons/08-work-stealing/l08_parallel_streams
// What to expect on 2 cores: uniform cost, every parallel row near 2x (TBB and OpenMP within a
// few percent of each other; std::reduce(par) close behind). Skewed cost: the static rows
// (omp static, std::thread static) stay near 1.1x: thread 0's slice holds almost all the
// work, and the static split's busy times show thread 1 idle most of the run. TBB and
// omp dynamic stay near 2x, and TBB's chunk counts show the worker that finished its own
// part taking chunks from the other. The last line says "yes" and the exit code is 0.
