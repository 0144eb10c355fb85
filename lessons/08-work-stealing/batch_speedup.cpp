// l08_batch_speedup: what a batch buys the work-stealing designs, per workload.
//
// Builds a seeded script of --batches batches of --batch commands for each workload (the
// benchmark's default streams: counter 90/9/1 over 64 Zipf keys; cache 90/9/1 get/put/erase
// over 100,000 Zipf keys, capacity 50,000; order 60/30/10 place/cancel/query, 8 Zipf symbols,
// 1,024 accounts), then runs the whole script --repeats times, interleaved:
//   reference   - the workload's sequential reference, one command after another;
//   ws arena=N  - the work-stealing design's run_batch on an arena of N threads (1 and
//                 --threads): grouped by key or shard (counter, cache), a dependency graph
//                 of tasks (order).
// It prints the median time per batch with its spread (min..max over the repeats), commands
// per second, and the speed-up over the reference. Every batch's replies must equal the
// sequential run's (the cache: the same sharded LRU, run in order), or it exits 1.
#include <oneapi/tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "comparisons/cache/mutex_cache.hpp"
#include "comparisons/cache/reference.hpp"
#include "comparisons/cache/work_stealing_cache.hpp"
#include "comparisons/common/random.hpp"
#include "comparisons/counter/reference.hpp"
#include "comparisons/counter/work_stealing_counter.hpp"
#include "comparisons/order/generator.hpp"
#include "comparisons/order/reference.hpp"
#include "comparisons/order/work_stealing_order.hpp"
#include "lessons/common/cli.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
  std::string name;
  std::vector<double> seconds;  // one per repeat: the whole script
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// run_rows: runs every row once per repeat, rows interleaved; row() returns false on a
// wrong reply.
bool run_rows(const char* workload, std::vector<Timing>& rows,
              const std::vector<std::function<bool()>>& row_fns, long long repeats,
              std::size_t batches, std::size_t batch) {
  bool ok = true;
  for (long long r = 0; r < repeats; ++r)
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto t0 = Clock::now();
      ok = row_fns[i]() && ok;
      rows[i].seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
  const double ref = median(rows[0].seconds);
  std::printf("\n%s: %zu batches of %zu commands, %lld repeats\n", workload, batches, batch, repeats);
  std::printf("  %-14s %12s %20s %14s %9s\n", "row", "us/batch", "spread (min..max)", "commands/s",
              "vs ref");
  for (const auto& row : rows) {
    const double med = median(row.seconds);
    const auto [lo, hi] = std::minmax_element(row.seconds.begin(), row.seconds.end());
    const double per = 1e6 / static_cast<double>(batches);
    std::printf("  %-14s %12.1f %9.1f..%-9.1f %14.3g %8.2fx\n", row.name.c_str(), med * per,
                *lo * per, *hi * per, static_cast<double>(batches * batch) / med, ref / med);
  }
  return ok;
}

// ---- counter ----
bool counter(std::size_t batches, std::size_t batch, long long repeats, unsigned threads) {
  cp::Xoshiro256 rng(1);
  cp::ZipfKeys keys(64, 0.99);
  std::vector<std::vector<cp::CounterBatchCommand>> script(batches);
  for (auto& b : script)
    for (std::size_t i = 0; i < batch; ++i) {
      const auto roll = rng.below(100);
      const auto key = static_cast<std::uint32_t>(keys.next(rng));
      b.push_back({roll < 90 ? cp::CounterBatchOp::add
                   : roll < 99 ? cp::CounterBatchOp::get : cp::CounterBatchOp::total,
                   key, 1});
    }
  std::vector<std::vector<cp::CounterRead>> want(batches);
  std::vector<Timing> rows{{"reference", {}}};
  std::vector<std::function<bool()>> fns{[&] {
    cp::CounterReference ref(cp::CounterConfig{64});
    for (std::size_t b = 0; b < batches; ++b) {
      want[b].resize(batch);
      for (std::size_t i = 0; i < batch; ++i) {
        const auto& c = script[b][i];
        want[b][i] = c.op == cp::CounterBatchOp::add   ? cp::CounterRead{ref.add(c.key, c.delta), 0}
                     : c.op == cp::CounterBatchOp::get ? ref.get(c.key)
                                                       : cp::CounterRead{cp::CounterError::ok, ref.total()};
      }
    }
    return true;
  }};
  for (unsigned t : {1u, threads}) {
    rows.push_back({"ws arena=" + std::to_string(t), {}});
    fns.push_back([&, t] {
      cp::ws::DesignOptions o;
      o.arena_threads = t;
      cp::WorkStealingCounter d(cp::CounterConfig{64}, o);
      bool ok = true;
      for (std::size_t b = 0; b < batches; ++b) {
        const auto r = d.run_batch(script[b]);
        for (std::size_t i = 0; i < batch; ++i) ok = ok && !r[i].failed && r[i].reply == want[b][i];
      }
      return ok;
    });
    if (threads == 1) break;
  }
  return run_rows("counter", rows, fns, repeats, batches, batch);
}

// ---- cache ----
bool cache(std::size_t batches, std::size_t batch, long long repeats, unsigned threads) {
  const cp::CacheConfig config{100'000, 50'000};
  cp::Xoshiro256 rng(2);
  cp::ZipfKeys keys(config.key_space, 0.99);
  std::vector<std::vector<cp::CacheBatchCommand>> script(batches);
  for (auto& b : script)
    for (std::size_t i = 0; i < batch; ++i) {
      const auto roll = rng.below(100);
      const auto key = keys.next(rng);
      b.push_back({roll < 90 ? cp::CacheBatchOp::get
                   : roll < 99 ? cp::CacheBatchOp::put : cp::CacheBatchOp::erase,
                   key, cp::make_cache_value(key, rng.next())});
    }
  // The expected replies: the same sharded LRU (StripedMutexCache) run in order.
  std::vector<std::vector<cp::CacheBatchResult>> want(batches);
  {
    cp::StripedMutexCache same(config);
    for (std::size_t b = 0; b < batches; ++b)
      for (const auto& c : script[b]) {
        cp::CacheBatchResult r;
        if (c.op == cp::CacheBatchOp::get) r.value = same.get(c.key);
        else if (c.op == cp::CacheBatchOp::put) r.error = same.put(c.key, c.value);
        else r.erased = same.erase(c.key);
        want[b].push_back(r);
      }
  }
  std::vector<Timing> rows{{"reference", {}}};
  std::vector<std::function<bool()>> fns{[&] {
    cp::CacheReference ref(config);  // exact LRU: the workload's reference (a global order)
    std::uint64_t sink = 0;
    for (const auto& b : script)
      for (const auto& c : b) {
        if (c.op == cp::CacheBatchOp::get) sink += ref.get(c.key).has_value();
        else if (c.op == cp::CacheBatchOp::put) sink += static_cast<unsigned>(ref.put(c.key, c.value));
        else sink += ref.erase(c.key);
      }
    return sink != ~std::uint64_t{0};
  }};
  for (unsigned t : {1u, threads}) {
    rows.push_back({"ws arena=" + std::to_string(t), {}});
    fns.push_back([&, t] {
      cp::ws::DesignOptions o;
      o.arena_threads = t;
      cp::WorkStealingCache d(config, o);
      bool ok = true;
      for (std::size_t b = 0; b < batches; ++b) {
        const auto r = d.run_batch(script[b]);
        for (std::size_t i = 0; i < batch; ++i) ok = ok && !r[i].failed && r[i].reply == want[b][i];
      }
      return ok;
    });
    if (threads == 1) break;
  }
  return run_rows("cache (read-heavy)", rows, fns, repeats, batches, batch);
}

// ---- order ----
bool order(std::size_t batches, std::size_t batch, long long repeats, unsigned threads) {
  const cp::OrderConfig config;  // 8 symbols, 1,024 accounts
  const cp::OrderStreamParams params;
  cp::ZipfKeys symbols(config.symbols, 0.99);
  constexpr unsigned kClients = 8;
  std::vector<cp::OrderStream> streams;
  for (unsigned c = 0; c < kClients; ++c) streams.emplace_back(config, params, symbols, c, kClients, 3);
  std::vector<std::vector<cp::OrderCommand>> script(batches);
  std::vector<std::vector<cp::OrderReply>> want(batches);
  {
    cp::OrderReference ref(config);
    for (std::size_t b = 0; b < batches; ++b)
      for (std::size_t i = 0; i < batch; ++i) {
        auto& s = streams[i % kClients];
        script[b].push_back(s.next());
        want[b].push_back(cp::apply_order_command(ref, script[b].back()));
        s.observe(script[b].back(), want[b].back());
      }
  }
  std::vector<Timing> rows{{"reference", {}}};
  std::vector<std::function<bool()>> fns{[&] {
    cp::OrderReference ref(config);
    bool ok = true;
    for (std::size_t b = 0; b < batches; ++b)
      for (std::size_t i = 0; i < batch; ++i)
        ok = ok && cp::apply_order_command(ref, script[b][i]) == want[b][i];
    return ok;
  }};
  std::size_t edges = 0;
  for (unsigned t : {1u, threads}) {
    rows.push_back({"ws arena=" + std::to_string(t), {}});
    fns.push_back([&, t] {
      cp::ws::DesignOptions o;
      o.arena_threads = t;
      cp::WorkStealingOrderEngine d(config, o);
      bool ok = true;
      for (std::size_t b = 0; b < batches; ++b) {
        const auto r = d.run_batch(script[b]);
        for (std::size_t i = 0; i < batch; ++i) ok = ok && !r[i].failed && r[i].reply == want[b][i];
      }
      edges = d.last_batch_edges();
      return ok;
    });
    if (threads == 1) break;
  }
  const bool ok = run_rows("order", rows, fns, repeats, batches, batch);
  std::printf("  (the last batch's dependency graph: %zu edges for %zu commands)\n", edges, batch);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  long long batch = 4096, batches = 40, repeats = 7, threads = 2;
  bool only_counter = false, only_cache = false, only_order = false;
  cp::lessons::Cli cli("l08_batch_speedup",
                       "batches of the three workloads on oneTBB vs the sequential reference");
  cli.option("batch", batch, "commands per batch", 1, 1'000'000)
      .option("batches", batches, "batches in the script", 1, 100'000)
      .option("repeats", repeats, "times the script is run per row (median reported)", 1, 1000)
      .option("threads", threads, "the larger arena's threads (the other has 1)", 1, 64)
      .flag("counter", only_counter, "run the counter only (flags combine; none: all)")
      .flag("cache", only_cache, "run the cache only")
      .flag("order", only_order, "run the order workload only");
  cli.parse(argc, argv);
  const bool all = !only_counter && !only_cache && !only_order;
  // oneTBB caps its workers at cores - 1 unless told: let an arena have --threads threads.
  tbb::global_control allow(tbb::global_control::max_allowed_parallelism,
                            static_cast<std::size_t>(threads));
  const auto n = static_cast<std::size_t>(batches), b = static_cast<std::size_t>(batch);
  const auto t = static_cast<unsigned>(threads);
  bool ok = true;
  if (all || only_counter) ok = counter(n, b, repeats, t) && ok;
  if (all || only_cache) ok = cache(n, b, repeats, t) && ok;
  if (all || only_order) ok = order(n, b, repeats, t) && ok;
  std::printf("\nreplies equal the sequential run: %s\n", ok ? "yes" : "NO");
  return ok ? 0 : 1;
}

// How to run (Release, on an idle machine):
//   cmake --preset release && cmake --build --preset release --target l08_batch_speedup
//   ./build/release/lessons/08-work-stealing/l08_batch_speedup
//   ./build/release/lessons/08-work-stealing/l08_batch_speedup --order --batch=256
// What to expect: "ws arena=1" is slower than the reference (grouping, or building the
// graph, costs more than it saves on one thread); arena=2 wins back part of that on 2 cores.
// The counter and cache split perfectly (no edges between groups); the order workload is
// limited by its graph's chains: every buy and query waits for the books its account may
// rest on. Smaller batches make every row pay its fixed cost more often. The last line says
// "yes" and the exit code is 0 when every reply equals the sequential run's.
