// histogram.hpp: a log-linear (HDR-style) histogram of latencies in nanoseconds.
//
//   LatencyHistogram   - fixed-size counts over the whole uint64 range; O(1) record, mergeable.
//   percentile_rank    - the 1-based rank a percentile denotes (shared with the tests).
//
// Why log-linear: latencies span six orders of magnitude (20 ns uncontended, 10 ms preempted),
// and a percentile only needs a bounded *relative* error. Each power of two [2^e, 2^(e+1)) is
// split into 1024 equal sub-buckets, so any recorded value is known to within 1/1024 (< 0.1%)
// of itself; values below 2048 are counted exactly (one bucket per nanosecond).
//
//   index(v) = s * 1024 + (v >> s),   s = max(0, msb(v) - 10)
//
//   v (ns)               s   bucket width   buckets
//   0 .. 2047            0   1 ns           2048 (exact)
//   2048 .. 4095         1   2 ns           1024
//   2^e .. 2^(e+1)-1     e-10 2^(e-10) ns   1024      (up to e = 63: every uint64 fits)
//
// 56,320 counters (440 KiB), allocated once at construction; record() touches one counter and
// has no data-dependent branch (max/min compile to conditional moves). Not thread-safe: keep
// one per thread and merge() them after the threads joined.
//
// Alternatives: HdrHistogram_c (the original; not packaged in Debian 12), a sorted sample
// vector (exact, but memory grows with the run and sorting costs at the end).
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace cp::bench {

// percentile_rank: the rank (1-based, in sorted order) of the value at percentile p of
// `count` values: the smallest value such that at least p% of the values are <= it.
// The tiny relative slack keeps floating-point noise from bumping e.g. 99.9% of 1000
// (999.0000000000001) to rank 1000.
inline std::uint64_t percentile_rank(double p, std::uint64_t count) {
  if (count == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  const double exact = p / 100.0 * static_cast<double>(count);
  const auto rank = static_cast<std::uint64_t>(std::ceil(exact - exact * 1e-12));
  return std::clamp<std::uint64_t>(rank, 1, count);
}

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 10;  // 1024 sub-buckets per power of two
  static constexpr std::uint64_t kSubBuckets = std::uint64_t{1} << kSubBucketBits;
  static constexpr int kMaxShift = 63 - kSubBucketBits;
  static constexpr std::size_t kBucketCount = (kMaxShift + 2) * kSubBuckets;
  // Any value v is reported as some value in [v, v + v * kMaxRelativeError].
  static constexpr double kMaxRelativeError = 1.0 / static_cast<double>(kSubBuckets);

  LatencyHistogram() : counts_(kBucketCount, 0) {}

  // record: counts one value. O(1), no allocation, no data-dependent branch.
  void record(std::uint64_t value) noexcept {
    ++counts_[bucket_index(value)];
    ++count_;
    sum_ += value;
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }

  // record_n: counts `n` occurrences of one value.
  void record_n(std::uint64_t value, std::uint64_t n) noexcept {
    if (n == 0) return;
    counts_[bucket_index(value)] += n;
    count_ += n;
    sum_ += static_cast<U128>(value) * n;
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }

  // merge: adds every count of `other` (e.g. per-thread histograms after join).
  void merge(const LatencyHistogram& other) noexcept {
    for (std::size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }

  // reset: back to empty, keeping the memory.
  void reset() noexcept {
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = 0;
    sum_ = 0;
    min_ = kEmptyMin;
    max_ = 0;
  }

  std::uint64_t count() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  // min/max are exact (tracked beside the buckets); 0 when empty.
  std::uint64_t min() const noexcept { return count_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  // mean: exact sum / count (the sum is 128-bit, so it cannot overflow); 0 when empty.
  double mean() const noexcept {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
  }

  // value_at_percentile: p in [0, 100]. The highest value of the bucket holding the value of
  // rank percentile_rank(p), clamped to [min, max]: never below the exact percentile and at
  // most kMaxRelativeError above it; p = 100 gives max() and p = 0 gives min() exactly.
  std::uint64_t value_at_percentile(double p) const noexcept {
    if (count_ == 0) return 0;
    if (p <= 0.0) return min_;
    const std::uint64_t rank = percentile_rank(p, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBucketCount; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::clamp(highest_equivalent(i), min_, max_);
    }
    return max_;  // unreachable while the counts add up to count_
  }

  // for_each_bucket: calls f(lowest, highest, count) for each non-empty bucket in value order
  // (for percentile curves and exports).
  template <class F>
  void for_each_bucket(F&& f) const {
    for (std::size_t i = 0; i < kBucketCount; ++i)
      if (counts_[i] != 0) f(lowest_equivalent(i), highest_equivalent(i), counts_[i]);
  }

  static constexpr std::size_t bucket_index(std::uint64_t value) noexcept {
    const int msb = 63 - std::countl_zero(value | 1);
    const int shift = std::max(0, msb - kSubBucketBits);
    return static_cast<std::size_t>(shift) * kSubBuckets +
           static_cast<std::size_t>(value >> shift);
  }

  static constexpr std::uint64_t lowest_equivalent(std::size_t index) noexcept {
    if (index < 2 * kSubBuckets) return index;  // exact buckets
    const std::size_t shift = index / kSubBuckets - 1;
    const std::uint64_t mantissa = index - shift * kSubBuckets;  // in [kSubBuckets, 2*kSubBuckets)
    return mantissa << shift;
  }

  static constexpr std::uint64_t highest_equivalent(std::size_t index) noexcept {
    if (index < 2 * kSubBuckets) return index;
    const std::size_t shift = index / kSubBuckets - 1;
    return lowest_equivalent(index) + ((std::uint64_t{1} << shift) - 1);
  }

 private:
  __extension__ typedef unsigned __int128 U128;  // __extension__: no -Wpedantic warning
  static constexpr std::uint64_t kEmptyMin = std::numeric_limits<std::uint64_t>::max();

  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  U128 sum_ = 0;
  std::uint64_t min_ = kEmptyMin;
  std::uint64_t max_ = 0;
};

}  // namespace cp::bench
