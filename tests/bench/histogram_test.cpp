// histogram_test.cpp: LatencyHistogram against exact percentiles of sorted data.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "bench/harness/histogram.hpp"
#include "comparisons/common/random.hpp"
#include "tests/support/findings.hpp"

namespace {

using cp::bench::LatencyHistogram;
using cp::bench::percentile_rank;

constexpr double kPercentiles[] = {0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};

std::uint64_t exact_percentile(const std::vector<std::uint64_t>& sorted, double p) {
  if (p <= 0) return sorted.front();
  return sorted[percentile_rank(p, sorted.size()) - 1];
}

// Checks every percentile of `values` and the summary statistics; returns problems found.
cp::test::Findings check_against_exact(std::vector<std::uint64_t> values, const std::string& what) {
  LatencyHistogram h;
  long double sum = 0;
  for (auto v : values) {
    h.record(v);
    sum += static_cast<long double>(v);
  }
  std::sort(values.begin(), values.end());
  cp::test::Findings f;
  if (h.count() != values.size()) f.fail(what, ": count ", h.count(), " != ", values.size());
  if (h.min() != values.front()) f.fail(what, ": min ", h.min(), " != ", values.front());
  if (h.max() != values.back()) f.fail(what, ": max ", h.max(), " != ", values.back());
  const double mean = static_cast<double>(sum / values.size());
  if (std::abs(h.mean() - mean) > 1e-9 * std::max(1.0, mean))
    f.fail(what, ": mean ", h.mean(), " != ", mean);
  for (double p : kPercentiles) {
    const std::uint64_t exact = exact_percentile(values, p);
    const std::uint64_t got = h.value_at_percentile(p);
    // Never below the exact value, at most 0.1% above it.
    const double allowed = static_cast<double>(exact) * LatencyHistogram::kMaxRelativeError;
    if (got < exact || static_cast<double>(got - exact) > allowed)
      f.fail(what, ": p", p, " = ", got, ", exact ", exact, " (allowed +", allowed, ")");
  }
  return f;
}

}  // namespace

TEST_CASE("histogram: bucket boundaries tile the whole uint64 range", "[unit]") {
  REQUIRE(LatencyHistogram::lowest_equivalent(0) == 0);
  REQUIRE(LatencyHistogram::highest_equivalent(LatencyHistogram::kBucketCount - 1) ==
          std::numeric_limits<std::uint64_t>::max());
  REQUIRE(LatencyHistogram::bucket_index(std::numeric_limits<std::uint64_t>::max()) ==
          LatencyHistogram::kBucketCount - 1);
  for (std::size_t i = 0; i + 1 < LatencyHistogram::kBucketCount; ++i) {
    const auto lo = LatencyHistogram::lowest_equivalent(i);
    const auto hi = LatencyHistogram::highest_equivalent(i);
    // Contiguous, non-overlapping, and each bucket maps back to itself at both ends.
    if (LatencyHistogram::lowest_equivalent(i + 1) != hi + 1 ||
        LatencyHistogram::bucket_index(lo) != i || LatencyHistogram::bucket_index(hi) != i) {
      FAIL("bucket " << i << " [" << lo << ", " << hi << "] does not tile");
    }
    // Width relative to the bucket's lowest value: the promised error bound.
    if (lo > 0 && static_cast<double>(hi - lo) > lo * LatencyHistogram::kMaxRelativeError)
      FAIL("bucket " << i << " [" << lo << ", " << hi << "] is wider than 0.1%");
  }
  REQUIRE(LatencyHistogram::kMaxRelativeError <= 0.001);
}

TEST_CASE("histogram: values below 2048 ns are exact", "[unit]") {
  LatencyHistogram h;
  for (std::uint64_t v = 0; v < 2048; ++v) h.record(v);
  for (double p : {0.1, 25.0, 50.0, 99.0, 100.0}) {
    const std::uint64_t exact = percentile_rank(p, 2048) - 1;
    REQUIRE(h.value_at_percentile(p) == exact);
  }
  REQUIRE(h.mean() == Approx(1023.5));
}

TEST_CASE("histogram: empty histogram reports zeros", "[unit]") {
  LatencyHistogram h;
  REQUIRE(h.empty());
  REQUIRE(h.count() == 0);
  REQUIRE(h.min() == 0);
  REQUIRE(h.max() == 0);
  REQUIRE(h.mean() == 0.0);
  REQUIRE(h.value_at_percentile(50) == 0);
}

TEST_CASE("histogram: percentiles of seeded distributions match sorted data within 0.1%",
          "[unit]") {
  const std::uint64_t seed = cp::test::seed();
  cp::Xoshiro256 rng(seed);
  constexpr std::size_t n = 100'000;
  std::vector<std::uint64_t> uniform, exponential, lognormal, bimodal, constant, powers;
  for (std::size_t i = 0; i < n; ++i) {
    uniform.push_back(rng.below(10'000'000));
    exponential.push_back(static_cast<std::uint64_t>(-std::log(1.0 - rng.unit()) * 5'000.0));
    // Heavy tail: exp(normal) via Box-Muller, median ~ 100 ns, tail into milliseconds.
    const double z = std::sqrt(-2.0 * std::log(1.0 - rng.unit())) * std::cos(6.283185307 * rng.unit());
    lognormal.push_back(static_cast<std::uint64_t>(std::exp(4.6 + 2.0 * z)));
    // A fast path and a slow path (uncontended lock vs preempted holder).
    bimodal.push_back(rng.percent(95) ? 20 + rng.below(30) : 2'000'000 + rng.below(8'000'000));
    constant.push_back(123'456'789);
    powers.push_back(std::uint64_t{1} << rng.below(64));
  }
  CP_REQUIRE_CLEAN(check_against_exact(uniform, "uniform"), seed);
  CP_REQUIRE_CLEAN(check_against_exact(exponential, "exponential"), seed);
  CP_REQUIRE_CLEAN(check_against_exact(lognormal, "lognormal"), seed);
  CP_REQUIRE_CLEAN(check_against_exact(bimodal, "bimodal"), seed);
  CP_REQUIRE_CLEAN(check_against_exact(constant, "constant"), seed);
  CP_REQUIRE_CLEAN(check_against_exact(powers, "powers of two"), seed);
}

TEST_CASE("histogram: edge values 0 and the largest uint64", "[unit]") {
  constexpr auto huge = std::numeric_limits<std::uint64_t>::max();
  CP_REQUIRE_CLEAN(check_against_exact({0, 0, 0}, "zeros"), 0);
  CP_REQUIRE_CLEAN(check_against_exact({huge, huge - 1, huge / 2, 0, 1}, "huge"), 0);

  LatencyHistogram h;
  h.record(huge);
  h.record(huge);  // the 128-bit sum does not overflow
  REQUIRE(h.mean() == Approx(static_cast<double>(huge)));
  REQUIRE(h.value_at_percentile(50) == huge);
  h.record(0);
  REQUIRE(h.min() == 0);
  REQUIRE(h.value_at_percentile(0) == 0);
  REQUIRE(h.value_at_percentile(100) == huge);
}

TEST_CASE("histogram: merge equals recording everything into one", "[unit]") {
  const std::uint64_t seed = cp::test::seed();
  cp::Xoshiro256 rng(seed);
  LatencyHistogram all, parts[3];
  std::vector<std::uint64_t> values;
  for (int i = 0; i < 30'000; ++i) {
    const std::uint64_t v = rng.below(1u << (rng.below(30) + 1));
    values.push_back(v);
    all.record(v);
    parts[i % 3].record(v);
  }
  LatencyHistogram merged;
  for (const auto& part : parts) merged.merge(part);
  REQUIRE(merged.count() == all.count());
  REQUIRE(merged.min() == all.min());
  REQUIRE(merged.max() == all.max());
  REQUIRE(merged.mean() == all.mean());
  for (double p : kPercentiles) REQUIRE(merged.value_at_percentile(p) == all.value_at_percentile(p));
  std::vector<std::uint64_t> a, b;
  all.for_each_bucket([&](auto lo, auto, auto c) { a.insert(a.end(), {lo, c}); });
  merged.for_each_bucket([&](auto lo, auto, auto c) { b.insert(b.end(), {lo, c}); });
  REQUIRE(a == b);
  CP_REQUIRE_CLEAN(check_against_exact(values, "merged source"), seed);

  // Merging an empty histogram changes nothing; merging into an empty one copies.
  LatencyHistogram empty, copy;
  merged.merge(empty);
  REQUIRE(merged.min() == all.min());
  copy.merge(all);
  REQUIRE(copy.value_at_percentile(99) == all.value_at_percentile(99));
}

TEST_CASE("histogram: record_n and reset", "[unit]") {
  LatencyHistogram a, b;
  a.record_n(5'000, 1'000);
  a.record_n(7, 0);
  for (int i = 0; i < 1'000; ++i) b.record(5'000);
  REQUIRE(a.count() == b.count());
  REQUIRE(a.value_at_percentile(50) == b.value_at_percentile(50));
  REQUIRE(a.mean() == b.mean());
  REQUIRE(a.min() == 5'000);
  a.reset();
  REQUIRE(a.empty());
  REQUIRE(a.max() == 0);
  a.record(3);
  REQUIRE(a.min() == 3);
}

TEST_CASE("histogram: percentile_rank is the nearest-rank convention", "[unit]") {
  REQUIRE(percentile_rank(50, 10) == 5);
  REQUIRE(percentile_rank(99.9, 1000) == 999);  // not 1000 from floating-point noise
  REQUIRE(percentile_rank(99.99, 10'000) == 9'999);
  REQUIRE(percentile_rank(0, 10) == 1);
  REQUIRE(percentile_rank(100, 10) == 10);
  REQUIRE(percentile_rank(150, 10) == 10);
  REQUIRE(percentile_rank(50, 0) == 0);
  REQUIRE(percentile_rank(50, 1) == 1);
}
