// counter_checks.hpp: the counter conformance checks. Each returns Findings, so it can run
// against every registered design and against the deliberately broken ones in broken/.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "comparisons/common/random.hpp"
#include "comparisons/counter/contract.hpp"
#include "comparisons/counter/reference.hpp"
#include "tests/support/findings.hpp"

namespace cp::test {

// Single-threaded: a seeded stream of adds (any sign, some near the int64 limits), gets,
// totals and out-of-range keys; every reply must equal the reference's.
template <CounterDesign D>
Findings check_counter_matches_reference(std::uint64_t seed, int ops = 20'000) {
  Findings f;
  const CounterConfig config{.keys = 37};
  D design(config);
  CounterReference ref(config);
  Xoshiro256 rng(seed);
  if (design.keys() != config.keys) f.fail("keys() = ", design.keys(), ", want ", config.keys);
  for (int i = 0; i < ops && f.ok(); ++i) {
    const auto key = static_cast<std::uint32_t>(rng.below(config.keys + 3));  // some invalid
    switch (rng.below(4)) {
      case 0:
      case 1: {
        std::int64_t delta = static_cast<std::int64_t>(rng.below(2001)) - 1000;
        if (rng.below(50) == 0) delta = INT64_MAX - static_cast<std::int64_t>(rng.below(5));
        const auto got = design.add(key, delta), want = ref.add(key, delta);
        if (got != want) f.fail("op ", i, ": add(", key, ", ", delta, ") = ", to_string(got));
        break;
      }
      case 2: {
        const auto got = design.get(key), want = ref.get(key);
        if (got != want)
          f.fail("op ", i, ": get(", key, ") = ", got.value, " (", to_string(got.error),
                 "), reference ", want.value, " (", to_string(want.error), ")");
        break;
      }
      default:
        if (design.total() != ref.total())
          f.fail("op ", i, ": total() = ", design.total(), ", reference ", ref.total());
    }
  }
  return f;
}

// Concurrent: `threads` clients add positive deltas and read; afterwards every key and the
// total are exact, and no client saw a key's value decrease.
template <CounterDesign D>
Findings check_counter_concurrent(std::uint64_t seed, unsigned threads, int ops_per_thread,
                                  std::uint32_t keys = 8) {
  Findings f;
  D design(CounterConfig{.keys = keys});
  struct Tally {
    std::vector<std::int64_t> added, last_seen;
    std::uint64_t decreases = 0, errors = 0;
  };
  std::vector<Tally> tallies(threads);
  run_threads(threads, [&](unsigned t) {
    Tally& tally = tallies[t];
    tally.added.assign(keys, 0);
    tally.last_seen.assign(keys, 0);
    Xoshiro256 rng(derive_seed(seed, t));
    for (int i = 0; i < ops_per_thread; ++i) {
      const auto key = static_cast<std::uint32_t>(rng.below(keys));
      if (rng.below(4) != 0) {
        const auto delta = static_cast<std::int64_t>(rng.below(5)) + 1;
        if (design.add(key, delta) == CounterError::ok) tally.added[key] += delta;
        else ++tally.errors;
      } else {
        const CounterRead r = design.get(key);
        if (r.error != CounterError::ok) ++tally.errors;
        if (r.value < tally.last_seen[key]) ++tally.decreases;
        tally.last_seen[key] = r.value;
      }
    }
  });
  std::int64_t all = 0;
  for (std::uint32_t k = 0; k < keys; ++k) {
    std::int64_t want = 0;
    for (const auto& t : tallies) want += t.added[k];
    all += want;
    if (design.get(k).value != want)
      f.fail("key ", k, ": get = ", design.get(k).value, ", adds issued ", want, " (",
             threads, " threads)");
  }
  if (design.total() != all) f.fail("total() = ", design.total(), ", adds issued ", all);
  for (unsigned t = 0; t < threads; ++t) {
    if (tallies[t].decreases) f.fail("thread ", t, " saw ", tallies[t].decreases, " decreases");
    if (tallies[t].errors) f.fail("thread ", t, " got ", tallies[t].errors, " error replies");
  }
  return f;
}

// Linearizable reads: once an add has returned (and a reader learns so through an atomic
// flag), a get of that key and total() must include it. Only for designs that claim it.
template <CounterDesign D>
Findings check_counter_reads_see_completed_adds(std::uint64_t seed, int rounds = 20'000) {
  Findings f;
  D design(CounterConfig{.keys = 4});
  std::atomic<std::int64_t> published{0};  // adds to key 1 known to have returned
  std::atomic<bool> done{false};
  std::uint64_t stale_gets = 0, stale_totals = 0;
  run_threads(2, [&](unsigned t) {
    if (t == 0) {
      Xoshiro256 rng(seed);
      for (int i = 1; i <= rounds; ++i) {
        design.add(1, 1);
        if (rng.below(8) == 0) design.add(2, 1);
        // Release pairs with the reader's acquire: the add above happened before.
        published.store(i, std::memory_order_release);
      }
      done.store(true, std::memory_order_release);
    } else {
      while (!done.load(std::memory_order_acquire)) {
        const std::int64_t known = published.load(std::memory_order_acquire);
        if (design.get(1).value < known) ++stale_gets;
        if (design.total() < known) ++stale_totals;
      }
    }
  });
  if (stale_gets) f.fail(stale_gets, " gets missed an add that had already returned");
  if (stale_totals) f.fail(stale_totals, " totals missed an add that had already returned");
  return f;
}

}  // namespace cp::test
