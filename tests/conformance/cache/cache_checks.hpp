// cache_checks.hpp: the cache conformance checks. Each returns Findings, so it can run against
// every registered design and against the deliberately broken ones in broken_cache.hpp.
//
//   check_cache_matches_reference   single thread: every reply equals the reference's,
//                                   invalid input included (typed error, state unchanged)
//   check_cache_eviction_order      single thread: a hand-written sequence whose evictions
//                                   the declared policy (exact LRU or CLOCK) fixes
//   check_cache_concurrent_integrity  threads: values intact and for their key, versions
//                                   that were put, size() <= capacity during and after
//   check_cache_linearizable        threads: each key has one writer; a get must reflect
//                                   every put/erase that completed before it began
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "comparisons/cache/contract.hpp"
#include "comparisons/cache/driver.hpp"
#include "comparisons/cache/reference.hpp"
#include "comparisons/common/random.hpp"
#include "tests/support/findings.hpp"

namespace cp::test {

inline std::string show(const std::optional<CacheValue>& v) {
  if (!v) return "none";
  std::ostringstream out;
  out << "{key " << v->key << ", writer " << cache_version_writer(v->version) << ", seq "
      << cache_version_seq(v->version) << (intact(*v) ? "" : ", CORRUPT") << "}";
  return out.str();
}

inline CacheValue with_bad_checksum(CacheValue v) {
  v.payload[2] ^= 0x10;  // any flipped bit breaks the checksum
  return v;
}

// Single thread: a seeded stream of gets, puts, erases and size() calls, a tenth of them
// invalid (keys past the key space, a value for another key, a corrupt value); every reply
// must equal the reference's, every invalid put must be refused with the reference's typed
// error and leave the key as it was. Meaningful with eviction only for exact-LRU designs.
template <CacheDesign D>
Findings check_cache_matches_reference(std::uint64_t seed, CacheConfig config, int ops = 20'000) {
  Findings f;
  D design(config);
  CacheReference ref(config);
  if (design.capacity() != config.capacity)
    f.fail("capacity() = ", design.capacity(), ", want ", config.capacity);
  Xoshiro256 rng(seed);
  std::uint64_t version = 0;
  for (int i = 0; i < ops && f.ok(); ++i) {
    const std::uint64_t any_key = rng.below(config.key_space + 3);  // some out of range
    const std::uint64_t key = rng.below(config.key_space);
    switch (rng.below(10)) {
      case 0: case 1: case 2: {
        const auto got = design.get(any_key), want = ref.get(any_key);
        if (got != want)
          f.fail("op ", i, ": get(", any_key, ") = ", show(got), ", reference ", show(want));
        break;
      }
      case 3: case 4: case 5: {
        const CacheValue v = make_cache_value(any_key, cache_version(1, ++version));
        const auto got = design.put(any_key, v), want = ref.put(any_key, v);
        if (got != want)
          f.fail("op ", i, ": put(", any_key, ") = ", to_string(got), ", reference ", to_string(want));
        break;
      }
      case 6: {
        // Invalid input: must be refused with its typed error, leaving the key unchanged.
        CacheValue v;
        std::uint64_t target = key;
        switch (rng.below(4)) {
          case 0: target = config.key_space + rng.below(1000); v = make_cache_value(target, 1); break;
          case 1: target = UINT64_MAX; v = make_cache_value(target, 1); break;
          case 2: v = make_cache_value(key + 1, cache_version(1, ++version)); break;
          default: v = with_bad_checksum(make_cache_value(key, cache_version(1, ++version)));
        }
        const auto before = design.get(target);
        ref.get(target);  // the same touch, so exact-LRU recency stays in step
        const auto got = design.put(target, v), want = ref.put(target, v);
        if (want == CacheError::ok) f.fail("op ", i, ": test bug: reference accepted bad input");
        if (got != want)
          f.fail("op ", i, ": invalid put(", target, ", ", show(v), ") = ", to_string(got),
                 ", want ", to_string(want));
        const auto after = design.get(target);
        ref.get(target);
        if (after != before)
          f.fail("op ", i, ": a refused put changed key ", target, ": ", show(before), " -> ",
                 show(after));
        break;
      }
      case 7: case 8: {
        const bool got = design.erase(any_key), want = ref.erase(any_key);
        if (got != want) f.fail("op ", i, ": erase(", any_key, ") = ", got, ", reference ", want);
        break;
      }
      default:
        if (design.size() != ref.size())
          f.fail("op ", i, ": size() = ", design.size(), ", reference ", ref.size());
    }
  }
  for (std::uint64_t k = 0; k < config.key_space && f.ok(); ++k) {
    const auto got = design.get(k), want = ref.get(k);
    if (got != want) f.fail("at the end: get(", k, ") = ", show(got), ", reference ", show(want));
  }
  if (design.size() != ref.size())
    f.fail("at the end: size() = ", design.size(), ", reference ", ref.size());
  return f;
}
// Single thread, capacity 3: a hand-written sequence whose victims the declared policy fixes.
// Exact LRU evicts the least recently used key; CLOCK gives every key read since the hand last
// passed a second chance, and degrades to FIFO when all are referenced (step 2 below). For
// other policies (sharded LRU) the victim depends on the hash, so only presence is checked.
template <CacheDesign D>
Findings check_cache_eviction_order() {
  Findings f;
  constexpr bool lru = D::traits.eviction == "exact LRU";
  constexpr bool clock = D::traits.eviction == "CLOCK (second chance)";
  D d(CacheConfig{.key_space = 10, .capacity = 3});
  std::uint64_t seq = 0;
  auto put = [&](std::uint64_t k) {
    if (d.put(k, make_cache_value(k, cache_version(1, ++seq))) != CacheError::ok)
      f.fail("put(", k, ") refused");
  };
  auto expect = [&](const char* step, std::initializer_list<std::uint64_t> present,
                    std::initializer_list<std::uint64_t> absent) {
    // Absent keys first: a miss changes no recency. Present keys are then read in the given
    // order, which is part of the sequence (it sets recency / referenced bits).
    for (std::uint64_t k : absent)
      if (const auto v = d.get(k)) f.fail(step, ": key ", k, " should be evicted, got ", show(v));
    for (std::uint64_t k : present) {
      const auto v = d.get(k);
      if (!v || v->key != k || !intact(*v)) f.fail(step, ": key ", k, " missing: ", show(v));
    }
    if (d.size() != present.size())
      f.fail(step, ": size() = ", d.size(), ", want ", present.size());
  };
  if constexpr (!lru && !clock) {
    for (std::uint64_t k = 1; k <= 6; ++k) put(k);
    if (d.size() > 3) f.fail("after 6 puts: size() = ", d.size(), " > capacity 3");
    for (std::uint64_t k = 1; k <= 6; ++k)
      if (const auto v = d.get(k); v && (v->key != k || !intact(*v)))
        f.fail("get(", k, ") = ", show(v));
    return f;
  }
  put(1), put(2), put(3);
  expect("step 1", {1, 2, 3}, {});  // LRU: 3,2,1 (most recent first). CLOCK: all referenced
  d.get(1);                          // LRU: 1,3,2
  put(4);
  if constexpr (lru) {
    expect("step 2 (LRU evicts 2)", {1, 3, 4}, {2});  // 4,3,1
  } else {
    // Slots 0,1,2 hold 1,2,3, all referenced: the hand clears them all, comes back to slot 0
    // and evicts 1, the oldest: with every bit set CLOCK is FIFO. 4 takes slot 0.
    expect("step 2 (CLOCK evicts 1)", {2, 3, 4}, {1});
  }
  if (!d.erase(3)) f.fail("step 3: erase(3) = false for a present key");
  if (d.erase(3)) f.fail("step 3: erase(3) = true twice");
  put(5);  // a free slot: nothing evicted
  if constexpr (lru) {
    expect("step 3", {4, 1, 5}, {2, 3});  // 5,1,4
    put(6);
    expect("step 4 (LRU evicts 4)", {1, 5, 6}, {4});
  } else {
    expect("step 3", {2, 4, 5}, {1, 3});  // 5 took 3's slot 2; all referenced again
    put(6);  // the hand (at slot 1 since step 2) clears slots 1, 2, 0 and evicts slot 1: 2
    expect("step 4 (CLOCK evicts 2)", {4, 5, 6}, {2});
  }
  if constexpr (requires { d.keys_most_recent_first(); }) {
    const std::vector<std::uint64_t> want{6, 5, 1};  // after step 4's reads of 1, 5, 6
    if (d.keys_most_recent_first() != want) f.fail("recency order differs from 6,5,1");
  }
  return f;
}

// Threads share one cache; each does gets, puts (its own increasing versions), erases and
// size() calls on Zipf-skewed keys. Checked: every value a get returns is intact, for its key,
// and a version that was put; size() <= capacity during and after; every final value valid.
template <CacheDesign D>
Findings check_cache_concurrent_integrity(std::uint64_t seed, unsigned threads, int ops_per_thread,
                                          CacheConfig config, double theta = 0.99) {
  Findings f;
  D design(config);
  const ZipfKeys keys(config.key_space, theta);
  struct Tally {
    Findings f;
    std::uint64_t puts = 0;
    std::vector<std::uint64_t> max_seq_seen;  // by writer id (thread + 1)
  };
  std::vector<Tally> tallies(threads);
  run_threads(threads, [&](unsigned t) {
    Tally& tally = tallies[t];
    tally.max_seq_seen.assign(threads + 1, 0);
    Xoshiro256 rng(derive_seed(seed, t));
    for (int i = 0; i < ops_per_thread; ++i) {
      const std::uint64_t key = keys.next(rng);
      const auto roll = rng.below(100);
      if (roll < 50) {
        const auto v = design.get(key);
        if (!v) continue;
        const std::uint64_t w = cache_version_writer(v->version), s = cache_version_seq(v->version);
        if (!intact(*v) || v->key != key || w == 0 || w > threads || s == 0)
          tally.f.fail("thread ", t, ": get(", key, ") = ", show(v));
        else
          tally.max_seq_seen[w] = std::max(tally.max_seq_seen[w], s);
      } else if (roll < 85) {
        const auto e = design.put(key, make_cache_value(key, cache_version(t + 1, tally.puts + 1)));
        if (e == CacheError::ok) ++tally.puts;
        else tally.f.fail("thread ", t, ": put(", key, ") = ", to_string(e));
      } else if (roll < 97) {
        design.erase(key);
      } else if (const std::size_t n = design.size(); n > config.capacity) {
        tally.f.fail("thread ", t, ": size() = ", n, " > capacity ", config.capacity);
      }
    }
  });
  for (unsigned t = 0; t < threads; ++t) {
    f.merge(tallies[t].f);
    for (unsigned w = 1; w <= threads; ++w)
      if (tallies[t].max_seq_seen[w] > tallies[w - 1].puts)
        f.fail("thread ", t, " read writer ", w, "'s seq ", tallies[t].max_seq_seen[w],
               ", but that writer put only ", tallies[w - 1].puts);
  }
  if (design.size() > config.capacity)
    f.fail("at quiescence: size() = ", design.size(), " > capacity ", config.capacity);
  std::size_t present = 0;
  for (std::uint64_t k = 0; k < config.key_space; ++k) {
    const auto v = design.get(k);
    if (!v) continue;
    ++present;
    const std::uint64_t w = cache_version_writer(v->version), s = cache_version_seq(v->version);
    if (!intact(*v) || v->key != k || w == 0 || w > threads || s == 0 || s > tallies[w - 1].puts)
      f.fail("at quiescence: get(", k, ") = ", show(v));
  }
  if (present != design.size())
    f.fail("at quiescence: ", present, " keys present, but size() = ", design.size());
  return f;
}

// The op a key's writer performs as its seq-th op on that key: an erase or a put. A function
// of (seed, key, seq) so that readers can tell which seqs were erases without a log. Seq 0
// stands for the initial state, absent, so it counts as an erase.
inline bool seq_is_erase(std::uint64_t seed, std::uint64_t key, std::uint64_t seq) {
  return seq == 0 || mix64(seed ^ mix64(key) ^ (seq * 0x9e3779b97f4a7c15ULL)) % 4 == 0;
}

// Linearizability, on a cache shared by `threads` threads. Key k has one writer, thread
// k % threads, which numbers its ops on k 1, 2, 3, ... (put or erase, see seq_is_erase) and
// publishes, per key, the seq of the op it has started (before calling) and of the last op
// that completed (after it returned). A reader loads `done` (acquire) before its get and
// `started` (acquire) after it. Any op the get may reflect lies in [done, started]:
//   - a value must be intact, for k, from k's writer, a put seq in [done, started]
//     (older = a value that was overwritten or erased before the get began);
//   - none is allowed if an erase (or the initial state) lies in [done, started], or, when
//     `may_evict`, always.
// Without eviction the writer also checks that erase() says whether the key was present.
template <CacheDesign D>
Findings check_cache_linearizable(std::uint64_t seed, unsigned threads, int ops_per_thread,
                                  CacheConfig config, bool may_evict) {
  Findings f;
  D design(config);
  struct alignas(64) KeyClock {
    std::atomic<std::uint64_t> started{0};
    std::atomic<std::uint64_t> done{0};
  };
  const std::uint64_t n = config.key_space;
  const std::unique_ptr<KeyClock[]> clocks(new KeyClock[n]);
  std::vector<Findings> found(threads);
  run_threads(threads, [&](unsigned t) {
    Findings& mine = found[t];
    Xoshiro256 rng(derive_seed(seed, t));
    std::vector<std::uint64_t> seq(n, 0);  // only the entries of keys this thread owns
    const std::uint64_t owned = t < n ? (n - t + threads - 1) / threads : 0;  // t, t+threads, ...
    for (int i = 0; i < ops_per_thread && mine.problems.size() < 5; ++i) {
      if (owned > 0 && rng.below(2) == 0) {
        const std::uint64_t k = t + threads * rng.below(owned);
        const std::uint64_t s = ++seq[k];
        // Release pairs with a reader's acquire load after its get: a get that saw this op
        // finds started >= s.
        clocks[k].started.store(s, std::memory_order_release);
        if (seq_is_erase(seed, k, s)) {
          const bool was_present = design.erase(k);
          if (!may_evict && was_present == seq_is_erase(seed, k, s - 1))
            mine.fail("thread ", t, ": erase(", k, ") = ", was_present, " after seq ", s - 1,
                      " (a ", seq_is_erase(seed, k, s - 1) ? "erase" : "put", ")");
        } else {
          const auto e = design.put(k, make_cache_value(k, cache_version(t + 1, s)));
          if (e != CacheError::ok) mine.fail("thread ", t, ": put(", k, ") = ", to_string(e));
        }
        // Release pairs with a reader's acquire load before its get: this op completed first.
        clocks[k].done.store(s, std::memory_order_release);
      } else {
        const std::uint64_t k = rng.below(n);
        const std::uint64_t done = clocks[k].done.load(std::memory_order_acquire);  // see above
        const auto v = design.get(k);
        const std::uint64_t started = clocks[k].started.load(std::memory_order_acquire);
        const std::uint64_t writer = k % threads + 1;
        if (v) {
          const std::uint64_t s = cache_version_seq(v->version);
          if (!intact(*v) || v->key != k || cache_version_writer(v->version) != writer ||
              seq_is_erase(seed, k, s))
            mine.fail("thread ", t, ": get(", k, ") = ", show(v), ": not a value put for it");
          else if (s < done)
            mine.fail("thread ", t, ": get(", k, ") returned seq ", s, ", but seq ", done,
                      " (a ", seq_is_erase(seed, k, done) ? "erase" : "put",
                      ") had completed before the get began: stale read");
          else if (s > started)
            mine.fail("thread ", t, ": get(", k, ") returned seq ", s, ", not yet started");
        } else if (!may_evict) {
          bool erase_in_window = started - done > 64;  // too wide to scan: accept
          for (std::uint64_t s = done; s <= started && !erase_in_window; ++s)
            erase_in_window = seq_is_erase(seed, k, s);
          if (!erase_in_window)
            mine.fail("thread ", t, ": get(", k, ") = none, but put seq ", done,
                      " had completed before the get began and no erase started before it "
                      "returned (last started: ", started, ")");
        }
      }
    }
  });
  for (const auto& found_by_thread : found) f.merge(found_by_thread);
  if (design.size() > config.capacity)
    f.fail("at quiescence: size() = ", design.size(), " > capacity ", config.capacity);
  return f;
}

}  // namespace cp::test
