// batch_test.cpp: the work-stealing designs' batch mode against the sequential reference.
//
// For every workload: a seeded batch (bad input mixed in) runs on arenas of 1, 2, 4 and 8
// threads, and every reply and the final state must equal the reference applying the same
// commands in order. A command whose handler throws (the BatchHook) must come back `failed`
// with the exception's text, and the rest must equal the reference run without it.
#include <catch2/catch.hpp>
#include <oneapi/tbb/global_control.h>

#include <cstdint>
#include <stdexcept>
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
#include "tests/support/findings.hpp"

using namespace cp;
using namespace cp::test;

namespace {

#ifdef CP_SANITIZED
constexpr unsigned kSeeds = 2;  // sanitizers run each batch 5-20x slower
constexpr unsigned kOrderSeeds = 1;
#else
constexpr unsigned kSeeds = 6;
constexpr unsigned kOrderSeeds = 2;
#endif
#ifdef CP_SANITIZED
constexpr std::size_t kBatch = 1024;
#else
constexpr std::size_t kBatch = 4096;  // the designs' default batch size in the benchmark
#endif
constexpr unsigned kArenaThreads[] = {1, 2, 4, 8};

// oneTBB caps its workers at cores - 1 unless told otherwise: without this, an 8-slot arena
// on a 2-core machine would still run on 2 threads.
tbb::global_control allow_eight_threads(tbb::global_control::max_allowed_parallelism, 8);

// Throws for every 97th command: a stand-in for a buggy handler.
bool faulty(std::size_t i) { return i % 97 == 5; }
ws::BatchHook faulty_hook() {
  return [](std::size_t i) {
    if (faulty(i)) throw std::runtime_error("handler bug at " + std::to_string(i));
  };
}

// ---- counter ----

std::vector<CounterBatchCommand> counter_batch(std::uint64_t seed, std::uint32_t keys) {
  Xoshiro256 rng(seed);
  ZipfKeys zipf(keys, 0.99);
  std::vector<CounterBatchCommand> batch(kBatch);
  for (auto& c : batch) {
    const auto roll = rng.below(100);
    c.key = static_cast<std::uint32_t>(zipf.next(rng));
    if (roll < 2) c.key = keys + static_cast<std::uint32_t>(rng.below(3));  // unknown key
    if (roll < 80) {
      c.op = CounterBatchOp::add;
      c.delta = static_cast<std::int64_t>(rng.below(1000)) - 300;
      if (roll == 10) c.delta = INT64_MAX;  // wraps
    } else if (roll < 97) {
      c.op = CounterBatchOp::get;
    } else {
      c.op = CounterBatchOp::total;
    }
  }
  return batch;
}

CounterRead reference_apply(CounterReference& ref, const CounterBatchCommand& c) {
  switch (c.op) {
    case CounterBatchOp::add: return {ref.add(c.key, c.delta), 0};
    case CounterBatchOp::get: return ref.get(c.key);
    case CounterBatchOp::total: return {CounterError::ok, ref.total()};
  }
  return {};
}

Findings check_counter_batches(std::uint64_t seed, unsigned threads, std::uint32_t keys,
                               bool with_faults) {
  Findings f;
  ws::DesignOptions options;
  options.arena_threads = threads;
  if (with_faults) options.hook = faulty_hook();
  WorkStealingCounter design(CounterConfig{keys}, options);
  CounterReference ref(CounterConfig{keys});
  for (unsigned b = 0; b < 3; ++b) {  // state carries over from batch to batch
    const auto batch = counter_batch(seed * 31 + b, keys);
    const auto replies = design.run_batch(batch);
    if (replies.size() != batch.size()) f.fail("batch ", b, ": ", replies.size(), " replies");
    for (std::size_t i = 0; i < batch.size() && i < replies.size(); ++i) {
      if (with_faults && faulty(i)) {
        // An unknown key is answered before any task runs: it never reaches the hook.
        if (batch[i].op != CounterBatchOp::total && batch[i].key >= keys) {
          (void)reference_apply(ref, batch[i]);
        } else if (!replies[i].failed ||
                   replies[i].error != "handler bug at " + std::to_string(i)) {
          f.fail("batch ", b, " command ", i, ": the handler threw, reply not marked failed");
        }
        continue;  // a failed command has no effect: the reference skips it
      }
      const CounterRead want = reference_apply(ref, batch[i]);
      if (replies[i].failed) f.fail("batch ", b, " command ", i, " failed: ", replies[i].error);
      else if (!(replies[i].reply == want))
        f.fail("batch ", b, " command ", i, ": value ", replies[i].reply.value, " want ", want.value);
    }
  }
  for (std::uint32_t k = 0; k < keys; ++k)
    if (!(design.get(k) == ref.get(k))) f.fail("final value of key ", k, " differs");
  if (design.total() != ref.total()) f.fail("final total differs");
  return f;
}

// ---- cache ----

std::vector<CacheBatchCommand> cache_batch(std::uint64_t seed, std::uint64_t key_space) {
  Xoshiro256 rng(seed);
  ZipfKeys zipf(key_space, 0.99);
  std::vector<CacheBatchCommand> batch(kBatch);
  for (auto& c : batch) {
    const auto roll = rng.below(100);
    c.key = zipf.next(rng);
    if (roll < 50) {
      c.op = CacheBatchOp::get;
    } else if (roll < 90) {
      c.op = CacheBatchOp::put;
      c.value = make_cache_value(c.key, rng.next());
      if (roll == 50) c.value.key = c.key + 1;          // key mismatch
      if (roll == 51) c.value.payload[0] ^= 1;          // corrupt: checksum fails
    } else {
      c.op = CacheBatchOp::erase;
    }
    if (roll % 41 == 0) c.key = key_space + rng.below(5);  // outside the key space
  }
  return batch;
}

template <class Ref>
CacheBatchResult reference_apply(Ref& ref, const CacheBatchCommand& c) {
  CacheBatchResult r;
  switch (c.op) {
    case CacheBatchOp::get: r.value = ref.get(c.key); break;
    case CacheBatchOp::put: r.error = ref.put(c.key, c.value); break;
    case CacheBatchOp::erase: r.erased = ref.erase(c.key); break;
  }
  return r;
}

// Ref: CacheReference without eviction (the contract's map), StripedMutexCache (the same
// sharded LRU, run from one thread) with eviction.
template <class Ref>
Findings check_cache_batches(std::uint64_t seed, unsigned threads, CacheConfig config,
                             bool with_faults) {
  Findings f;
  ws::DesignOptions options;
  options.arena_threads = threads;
  if (with_faults) options.hook = faulty_hook();
  WorkStealingCache design(config, options);
  Ref ref(config);
  if constexpr (requires { ref.shard_count(); })
    if (ref.shard_count() != design.shard_count()) f.fail("the shard counts differ");
  for (unsigned b = 0; b < 3; ++b) {
    const auto batch = cache_batch(seed * 17 + b, config.key_space);
    const auto replies = design.run_batch(batch);
    if (replies.size() != batch.size()) f.fail("batch ", b, ": ", replies.size(), " replies");
    for (std::size_t i = 0; i < batch.size() && i < replies.size(); ++i) {
      if (with_faults && faulty(i)) {
        // Commands answered before any task runs (bad input) never reach the hook.
        const bool answered_early = batch[i].op == CacheBatchOp::put
                                        ? validate_put(config, batch[i].key, batch[i].value) != CacheError::ok
                                        : batch[i].key >= config.key_space;
        if (answered_early) (void)reference_apply(ref, batch[i]);
        else if (!replies[i].failed || replies[i].error != "handler bug at " + std::to_string(i))
          f.fail("batch ", b, " command ", i, ": not marked failed with the handler's error");
        continue;
      }
      const CacheBatchResult want = reference_apply(ref, batch[i]);
      if (replies[i].failed) f.fail("batch ", b, " command ", i, " failed: ", replies[i].error);
      else if (!(replies[i].reply == want)) f.fail("batch ", b, " command ", i, " differs");
    }
  }
  for (std::uint64_t k = 0; k < config.key_space + 2; ++k)
    if (design.get(k) != ref.get(k)) f.fail("final value of key ", k, " differs");
  if (design.size() != ref.size()) f.fail("final size ", design.size(), " want ", ref.size());
  if (design.size() > design.capacity()) f.fail("size above capacity");
  return f;
}

// ---- order ----

struct OrderBatchParams {
  OrderConfig config;
  OrderStreamParams stream;
  unsigned clients = 4;
};

// Runs `batches` batches through the design and the reference. The batch interleaves the
// clients' streams; each stream sees the reference's replies (so its cancels name orders
// that rest). Skipped commands (the faulty ones) are not applied to the reference.
Findings check_order_batches(std::uint64_t seed, unsigned threads, const OrderBatchParams& p,
                             bool with_faults, std::size_t batch_size = kBatch) {
  Findings f;
  ws::DesignOptions options;
  options.arena_threads = threads;
  if (with_faults) options.hook = faulty_hook();
  WorkStealingOrderEngine design(p.config, options);
  OrderReference ref(p.config);
  ZipfKeys symbols(p.config.symbols, 0.99);
  std::vector<OrderStream> streams;
  for (unsigned c = 0; c < p.clients; ++c)
    streams.emplace_back(p.config, p.stream, symbols, c, p.clients, seed);
  for (unsigned b = 0; b < 3; ++b) {
    std::vector<OrderCommand> batch;
    std::vector<OrderReply> want;
    std::vector<char> skipped;
    for (std::size_t i = 0; i < batch_size; ++i) {
      OrderStream& stream = streams[i % p.clients];
      batch.push_back(stream.next());
      // A command answered at build time (bad shape, unknown id...) never reaches the hook.
      skipped.push_back(with_faults && faulty(i));
      want.push_back(skipped.back() ? OrderReply{} : apply_order_command(ref, batch.back()));
      if (!skipped.back()) stream.observe(batch.back(), want.back());
    }
    const auto replies = design.run_batch(batch);
    if (replies.size() != batch.size()) f.fail("batch ", b, ": ", replies.size(), " replies");
    for (std::size_t i = 0; i < batch.size() && i < replies.size(); ++i) {
      if (skipped[i]) {
        if (!replies[i].failed) {
          // Answered before any task ran: its reply is the reference's, applied late.
          const OrderReply late = apply_order_command(ref, batch[i]);
          if (!(replies[i].reply == late)) f.fail("batch ", b, " command ", i, ": not marked failed");
        } else if (replies[i].error != "handler bug at " + std::to_string(i)) {
          f.fail("batch ", b, " command ", i, ": failed with '", replies[i].error, "'");
        }
        continue;
      }
      if (replies[i].failed) f.fail("batch ", b, " command ", i, " failed: ", replies[i].error);
      else if (!(replies[i].reply == want[i]))
        f.fail("batch ", b, " command ", i, " (kind ", batch[i].index(), "): reply differs");
    }
    if (!(design.state() == ref.state())) f.fail("batch ", b, ": the final state differs");
  }
  return f;
}

}  // namespace

TEST_CASE("work-stealing counter: batches equal the reference", "[unit]") {
  const auto s = seed();
  for (unsigned threads : kArenaThreads)
    for (unsigned i = 0; i < kSeeds; ++i) {
      INFO("arena threads " << threads);
      CP_REQUIRE_CLEAN(check_counter_batches(s + i, threads, 64, false), s + i);
      CP_REQUIRE_CLEAN(check_counter_batches(s + i, threads, 5000, false), s + i);
    }
}

TEST_CASE("work-stealing counter: a throwing handler fails only its command", "[unit]") {
  const auto s = seed();
  for (unsigned threads : kArenaThreads) {
    INFO("arena threads " << threads);
    CP_REQUIRE_CLEAN(check_counter_batches(s, threads, 64, true), s);
  }
}

TEST_CASE("work-stealing cache: batches equal the reference", "[unit]") {
  const auto s = seed();
  for (unsigned threads : kArenaThreads)
    for (unsigned i = 0; i < kSeeds; ++i) {
      INFO("arena threads " << threads);
      // No eviction: the contract's map, i.e. the reference itself.
      CP_REQUIRE_CLEAN((check_cache_batches<CacheReference>(s + i, threads, {2000, 2000}, false)),
                       s + i);
      // Eviction, per shard: the same sharded LRU run in order.
      CP_REQUIRE_CLEAN(
          (check_cache_batches<StripedMutexCache>(s + i, threads, {4000, 300}, false)), s + i);
    }
}

TEST_CASE("work-stealing cache: a throwing handler fails only its command", "[unit]") {
  const auto s = seed();
  for (unsigned threads : kArenaThreads) {
    INFO("arena threads " << threads);
    CP_REQUIRE_CLEAN((check_cache_batches<StripedMutexCache>(s, threads, {4000, 300}, true)), s);
  }
}

TEST_CASE("work-stealing order: batches equal the reference", "[unit]") {
  const auto s = seed();
  OrderBatchParams busy;  // the benchmark's stream: many trades, cancels of resting orders
  busy.config.accounts = 64;
  OrderBatchParams tight;  // little cash and few accounts: insufficient cash, self-trades
  tight.config.accounts = 8;
  tight.config.initial_cash = 2'000'000;
  tight.stream.cross_percent = 50;
  OrderBatchParams bad = busy;  // every reject reason and malformed input
  bad.stream.malformed_percent = 10;
  for (unsigned threads : kArenaThreads)
    for (unsigned i = 0; i < kOrderSeeds; ++i) {
      INFO("arena threads " << threads);
      CP_REQUIRE_CLEAN(check_order_batches(s + i, threads, busy, false), s + i);
      CP_REQUIRE_CLEAN(check_order_batches(s + i, threads, tight, false), s + i);
      CP_REQUIRE_CLEAN(check_order_batches(s + i, threads, bad, false), s + i);
    }
}

TEST_CASE("work-stealing order: a throwing handler fails only its command", "[unit]") {
  const auto s = seed();
  OrderBatchParams busy;
  busy.config.accounts = 64;
  busy.stream.malformed_percent = 5;
  for (unsigned threads : kArenaThreads) {
    INFO("arena threads " << threads);
    CP_REQUIRE_CLEAN(check_order_batches(s, threads, busy, true), s);
  }
}
