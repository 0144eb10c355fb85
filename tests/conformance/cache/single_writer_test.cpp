// single_writer_test.cpp (cache): what the single-writer caches promise beyond the common
// suite (cache_test.cpp), checked for SingleWriterCache and ShardedSingleWriterCache:
//
//   serial equivalence - one seeded command stream (evicting and not), split across 1, 2 and 4
//                        client threads in a fixed way; each owner's log (seq, command, reply)
//                        replayed in sequence order through a CacheReference of that owner's
//                        capacity reproduces every reply (evictions included) and the final
//                        LRU, order and values; the replies the clients saw are exactly the
//                        logged ones; invalid input never reaches an owner.
//   capacity split     - sharded: shares sum to <= C; with C >= N each shard holds every key
//                        that hashes to it.
//   determinism        - one client, the same stream twice: bit-identical replies, logs, LRUs.
//   lifecycle          - destroyed right after construction (joins); destroyed after client
//                        threads finished; used after stop: a clear error.
//   waiting claim      - traits say `blocks`: idle owners use (almost) no CPU.
#include <catch2/catch.hpp>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <vector>

#include "comparisons/cache/driver.hpp"
#include "comparisons/cache/reference.hpp"
#include "comparisons/cache/single_writer_cache.hpp"
#include "comparisons/common/random.hpp"
#include "tests/support/design_test.hpp"
#include "tests/support/findings.hpp"

using namespace cp;
using namespace cp::test;

namespace {

using SingleWriterCaches = std::tuple<SingleWriterCache, ShardedSingleWriterCache>;

struct Op {
  CacheOp op;
  std::uint64_t key;  // may be out of range
  CacheValue value;   // put: possibly for another key, or corrupt
};

// A seeded stream over `config`: gets, puts, erases, a few size() calls; one op in 15 is bad
// input (a key past the key space, a value for another key, a corrupt value). Versions are a
// function of the op's index, not of the client that runs it.
std::vector<Op> make_stream(std::uint64_t seed, const CacheConfig& config, int n) {
  Xoshiro256 rng(seed);
  std::vector<Op> ops;
  ops.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const std::uint64_t key = rng.below(config.key_space);
    const auto roll = rng.below(100);
    Op o{CacheOp::get, key, {}};
    if (roll < 40) {
      o.op = CacheOp::get;
    } else if (roll < 80) {
      o.op = CacheOp::put;
      o.value = make_cache_value(key, cache_version(1, static_cast<std::uint64_t>(i) + 1));
    } else if (roll < 95) {
      o.op = CacheOp::erase;
    } else {
      o.op = CacheOp::size;
    }
    if (rng.below(15) == 0) {  // bad input
      switch (rng.below(3)) {
        case 0: o.key = config.key_space + rng.below(100); break;
        case 1:
          if (o.op == CacheOp::put) o.value = make_cache_value(key + 1, 7);
          break;
        default:
          if (o.op == CacheOp::put) o.value.payload[1] ^= 4;
      }
    }
    ops.push_back(o);
  }
  return ops;
}

// What a client saw, in a sortable shape: (op, key, put version, error, hit, size, version).
using Seen = std::tuple<int, std::uint64_t, std::uint64_t, int, bool, std::uint64_t,
                        std::uint64_t>;

template <class D>
Seen run_op(D& d, const Op& o) {
  switch (o.op) {
    case CacheOp::get: {
      const auto v = d.get(o.key);
      return {0, o.key, 0, 0, v.has_value(), 0, v ? v->version : 0};
    }
    case CacheOp::put:
      return {1, o.key, o.value.version, static_cast<int>(d.put(o.key, o.value)), false, 0, 0};
    case CacheOp::erase: return {2, o.key, 0, 0, d.erase(o.key), 0, 0};
    case CacheOp::size: return {3, 0, 0, 0, false, d.size(), 0};
  }
  return {};
}

Seen seen_of(const CacheLogEntry& e) {
  const auto& c = e.command;
  const auto& r = e.reply;
  switch (c.op) {
    case CacheOp::get: return {0, c.key, 0, 0, r.hit, 0, r.hit ? r.value.version : 0};
    case CacheOp::put:
      return {1, c.key, c.value.version, static_cast<int>(r.error), false, 0, 0};
    case CacheOp::erase: return {2, c.key, 0, 0, r.hit, 0, 0};
    case CacheOp::size: return {3, 0, 0, 0, false, r.size, 0};
  }
  return {};
}

bool valid_input(const CacheConfig& config, const Op& o) {
  if (o.key >= config.key_space) return false;
  return o.op != CacheOp::put || validate_put(config, o.key, o.value) == CacheError::ok;
}

// Replays each owner's log, in its sequence order, through a reference of its capacity.
template <class D>
Findings check_replay(const CacheConfig& config, const std::vector<CacheShardLog>& logs) {
  Findings f;
  if (logs.size() != D::traits.owned_threads)
    f.fail(logs.size(), " logs, want one per owner (", D::traits.owned_threads, ")");
  std::size_t capacity_sum = 0;
  for (std::size_t s = 0; s < logs.size(); ++s) {
    const CacheShardLog& log = logs[s];
    capacity_sum += log.capacity;
    CacheReference ref(CacheConfig{.key_space = config.key_space, .capacity = log.capacity});
    for (std::size_t i = 0; i < log.entries.size() && f.ok(); ++i) {
      const CacheLogEntry& e = log.entries[i];
      const CacheCommand& c = e.command;
      if (e.seq != i) f.fail("shard ", s, ": entry ", i, " has seq ", e.seq, " (not dense)");
      if (c.op != CacheOp::size && c.key >= config.key_space)
        f.fail("shard ", s, ": an out-of-range key reached the owner");
      if constexpr (D::traits.owned_threads > 1) {
        if (c.op != CacheOp::size && D::shard_index(c.key) != s)
          f.fail("shard ", s, ": key ", c.key, " belongs to another shard");
      }
      CacheReply want;
      switch (c.op) {
        case CacheOp::get:
          if (const auto v = ref.get(c.key)) want = {CacheError::ok, true, 0, *v};
          break;
        case CacheOp::put: want.error = ref.put(c.key, c.value); break;
        case CacheOp::erase: want.hit = ref.erase(c.key); break;
        case CacheOp::size: want.size = ref.size(); break;
      }
      if (want.error != CacheError::ok) f.fail("shard ", s, ": bad input reached the owner");
      if (!(e.reply == want))
        f.fail("shard ", s, ", seq ", e.seq, ": op ", static_cast<int>(c.op), " on key ", c.key,
               ": logged reply differs from the replay's (hit ", e.reply.hit, " vs ", want.hit,
               ", version ", e.reply.value.version, " vs ", want.value.version, ", size ",
               e.reply.size, " vs ", want.size, ")");
    }
    // The final exact LRU: the same keys in the same recency order, the same values.
    const std::vector<std::uint64_t> order = ref.keys_most_recent_first();
    if (order.size() != log.final_most_recent_first.size()) {
      f.fail("shard ", s, ": ", log.final_most_recent_first.size(), " entries at the end, replay ",
             order.size());
      continue;
    }
    for (std::size_t i = 0; i < order.size(); ++i)
      if (order[i] != log.final_most_recent_first[i].key)
        f.fail("shard ", s, ": recency position ", i, " holds key ",
               log.final_most_recent_first[i].key, ", replay ", order[i]);
    for (const CacheValue& v : log.final_most_recent_first)
      if (ref.get(v.key) != v) f.fail("shard ", s, ": final value of key ", v.key, " differs");
  }
  if (capacity_sum > config.capacity)
    f.fail("the owners' capacities sum to ", capacity_sum, " > capacity ", config.capacity);
  return f;
}

template <class D>
Findings check_serial_equivalence(std::uint64_t seed, unsigned threads, const CacheConfig& config,
                                  int n = 4'000) {
  Findings f;
  const std::vector<Op> ops = make_stream(seed, config, n);
  D design(config, SingleWriterCacheOptions{.record_log = true});
  std::vector<std::vector<Seen>> seen(threads);
  run_threads(threads, [&](unsigned t) {
    for (std::size_t i = t; i < ops.size(); i += threads) seen[t].push_back(run_op(design, ops[i]));
  });
  const std::vector<CacheShardLog> logs = design.stop_and_take_log();
  f.merge(check_replay<D>(config, logs));

  // The clients' (op, reply) pairs are the logged ones. Bad input is answered on the caller's
  // side with its typed error and must not be logged. A sharded size() is N owner replies
  // summed by the caller, so sizes are matched only for the single engine.
  constexpr bool match_sizes = D::traits.owned_threads == 1;
  std::vector<Seen> from_clients, from_log;
  for (unsigned t = 0; t < threads; ++t) {
    std::size_t j = 0;
    for (std::size_t i = t; i < ops.size(); i += threads, ++j) {
      const Op& o = ops[i];
      const Seen& s = seen[t][j];
      if (o.op == CacheOp::size && !match_sizes) continue;
      if (o.op != CacheOp::size && !valid_input(config, o)) {
        const int want_error = static_cast<int>(validate_put(config, o.key, o.value));
        const bool refused = o.op == CacheOp::put ? std::get<3>(s) == want_error : !std::get<4>(s);
        if (!refused) f.fail("op ", i, ": bad input not answered as the contract says");
        continue;
      }
      from_clients.push_back(s);
    }
  }
  for (const auto& log : logs)
    for (const auto& e : log.entries)
      if (e.command.op != CacheOp::size || match_sizes) from_log.push_back(seen_of(e));
  std::sort(from_clients.begin(), from_clients.end());
  std::sort(from_log.begin(), from_log.end());
  if (from_clients != from_log)
    f.fail("the clients' replies differ from the logged ones (", from_clients.size(),
           " client ops, ", from_log.size(), " logged)");
  return f;
}

constexpr CacheConfig kEvicting{.key_space = 64, .capacity = 12};
constexpr CacheConfig kNoEviction{.key_space = 40, .capacity = 40};

}  // namespace

CP_DESIGN_TEST(sw_cache_serial_equivalence,
               "single-writer cache: the owner's log replays to every reply and the final LRU",
               "[stress]", SingleWriterCaches) {
  const auto s = seed();
  for (unsigned threads : {1u, 2u, 4u}) {
    INFO("threads " << threads << ", key_space 64, capacity 12 (evicting)");
    CP_REQUIRE_CLEAN(check_serial_equivalence<TestType>(s, threads, kEvicting), s);
    INFO("threads " << threads << ", key_space 40, capacity 40 (no eviction)");
    CP_REQUIRE_CLEAN(check_serial_equivalence<TestType>(s + 1, threads, kNoEviction), s + 1);
  }
}

TEST_CASE("single-writer-sharded cache: capacity split", "[unit]") {
  using D = ShardedSingleWriterCache;
  for (const CacheConfig config : {CacheConfig{.key_space = 40, .capacity = 40},
                                   CacheConfig{.key_space = 40, .capacity = 1000},
                                   CacheConfig{.key_space = 1000, .capacity = 15},
                                   CacheConfig{.key_space = 10, .capacity = 1}}) {
    INFO("key_space " << config.key_space << ", capacity " << config.capacity);
    D d(config);
    std::vector<std::size_t> keys_of(D::kShards, 0);
    for (std::uint64_t k = 0; k < config.key_space; ++k) ++keys_of[D::shard_index(k)];
    std::size_t sum = 0;
    for (std::size_t s = 0; s < D::kShards; ++s) {
      sum += d.shard_capacity(s);
      if (config.capacity >= config.key_space) REQUIRE(d.shard_capacity(s) == keys_of[s]);
    }
    REQUIRE(sum <= config.capacity);
    if (config.capacity < config.key_space) REQUIRE(sum == config.capacity);
    // Without eviction every key stays.
    if (config.capacity >= config.key_space) {
      for (std::uint64_t k = 0; k < config.key_space; ++k)
        REQUIRE(d.put(k, make_cache_value(k, 1)) == CacheError::ok);
      REQUIRE(d.size() == config.key_space);
    }
  }
}

CP_DESIGN_TEST(sw_cache_deterministic,
               "single-writer cache: one client, same stream, bit-identical runs", "[unit]",
               SingleWriterCaches) {
  const auto s = seed();
  const std::vector<Op> ops = make_stream(s, kEvicting, 3'000);
  auto run = [&ops] {
    TestType d(kEvicting, SingleWriterCacheOptions{.record_log = true});
    std::vector<Seen> replies;
    for (const Op& o : ops) replies.push_back(run_op(d, o));
    return std::make_pair(replies, d.stop_and_take_log());
  };
  const auto [replies1, logs1] = run();
  const auto [replies2, logs2] = run();
  INFO("seed " << s << " (rerun with CP_SEED=" << s << ")");
  REQUIRE(replies1 == replies2);
  REQUIRE(logs1.size() == logs2.size());
  for (std::size_t i = 0; i < logs1.size(); ++i) {
    REQUIRE(logs1[i].final_most_recent_first == logs2[i].final_most_recent_first);
    REQUIRE(logs1[i].entries.size() == logs2[i].entries.size());
    for (std::size_t j = 0; j < logs1[i].entries.size(); ++j) {
      const auto &a = logs1[i].entries[j], &b = logs2[i].entries[j];
      REQUIRE((a.seq == b.seq && a.command == b.command && a.reply == b.reply));
    }
  }
  CP_REQUIRE_CLEAN(check_replay<TestType>(kEvicting, logs1), s);
}

CP_DESIGN_TEST(sw_cache_lifecycle,
               "single-writer cache: destroyed at once or after clients, no use after stop",
               "[unit]", SingleWriterCaches) {
  for (int i = 0; i < 50; ++i) {  // constructed and destroyed at once: the owners join
    TestType d(CacheConfig{.key_space = 16, .capacity = 4});
  }
  {
    const auto s = seed();
    auto d = std::make_unique<TestType>(CacheConfig{.key_space = 64, .capacity = 64});
    run_threads(4, [&](unsigned t) {
      Xoshiro256 rng(derive_seed(s, t));
      for (std::uint64_t i = 0; i < 500; ++i) {
        const std::uint64_t k = rng.below(64);
        d->put(k, make_cache_value(k, cache_version(t + 1, i + 1)));
      }
    });
    REQUIRE(d->size() <= 64);
    d.reset();  // the clients are done: the destructor drains and joins
  }
  TestType d(CacheConfig{.key_space = 16, .capacity = 16});
  REQUIRE(d.put(3, make_cache_value(3, 1)) == CacheError::ok);
  const auto logs = d.stop_and_take_log();  // log off: final LRU only
  std::size_t held = 0;
  for (const auto& log : logs) {
    REQUIRE(log.entries.empty());
    held += log.final_most_recent_first.size();
  }
  REQUIRE(held == 1);
  REQUIRE_THROWS_AS(d.get(3), sw::EngineStopped);
  REQUIRE_THROWS_AS(d.put(3, make_cache_value(3, 2)), sw::EngineStopped);
  REQUIRE_THROWS_AS(d.erase(3), sw::EngineStopped);
  REQUIRE_THROWS_AS(d.size(), sw::EngineStopped);
  REQUIRE(d.put(99, make_cache_value(99, 1)) == CacheError::key_out_of_range);  // still answered
}

CP_DESIGN_TEST(sw_cache_waiting_claim, "single-writer cache: idle owners use no CPU (blocks)",
               "[unit]", SingleWriterCaches) {
  STATIC_REQUIRE(TestType::traits.waiting == Waiting::blocks);
  TestType d(CacheConfig{.key_space = 16, .capacity = 4});
  d.put(1, make_cache_value(1, 1));  // the owners have started and gone idle
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  timespec t0{}, t1{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
  const double idle = static_cast<double>(t1.tv_sec - t0.tv_sec) +
                      static_cast<double>(t1.tv_nsec - t0.tv_nsec) * 1e-9;
  INFO("process CPU while " << TestType::traits.owned_threads << " owner(s) idle 300 ms: "
                            << idle * 1000 << " ms");
  REQUIRE(idle < 0.075);
}
