// repeats.hpp: a closed-loop row made of several short repetitions, and how much they agree.
//
//   Spread              - the repetitions' ops/s: median, min, max, and the spread fraction:
//                         (max - min) / median of the middle repetitions (see below).
//   median_of           - the median of some values (the mean of the middle two for an even count).
//   kWideSpreadFraction - a row whose spread fraction is above this is not to be trusted.
//   RepeatedRow         - collects the repetitions of one row, merges them into one RunResult.
//   vs_ref_of_medians   - a row's median over the reference row's median.
//
// Why. One 0.3 s sample per row once showed a lock 1.5x faster than the sequential code it
// wraps: a rehash stall in one row, a busy neighbour in another. So `compare` runs each closed
// row as several short repetitions, round-robin over the designs of a table (round 1: A B C,
// round 2: A B C, ...), so that a slow minute of the machine hits every design alike. The row
// reports the median of the repetitions' ops/s, and their min-max beside it. The latency
// percentiles come from all repetitions' histograms merged (every measured operation counts).
//
// The spread is a range over the median, not a standard deviation: with 5 samples a range is
// what a reader can check. From 5 repetitions on, the lowest and the highest are left out of
// it (the range of the middle three of five): on a shared 2-core machine one repetition in five
// often meets a neighbour's burst, and a range that one outlier decides marked most rows of a
// quiet run as untrusted while their medians agreed from run to run. Two repetitions that
// disagree still mark the row. min() and max() stay the whole range (rows.csv prints both).
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "bench/harness/runner.hpp"

namespace cp::bench {

// Above this spread fraction, the row is marked and the results page does not rank it.
inline constexpr double kWideSpreadFraction = 0.25;

inline double median_of(std::vector<double> values) {
  if (values.empty()) throw std::invalid_argument("median_of: no values");
  std::sort(values.begin(), values.end());
  const std::size_t mid = values.size() / 2;
  return values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

struct Spread {
  std::vector<double> samples;  // ops/s of each repetition, in run order

  bool empty() const { return samples.empty(); }
  std::size_t count() const { return samples.size(); }
  double median() const { return median_of(samples); }
  double min() const { return *std::min_element(samples.begin(), samples.end()); }
  double max() const { return *std::max_element(samples.begin(), samples.end()); }
  // kTrimFrom: from this many samples on, the lowest and highest are left out of fraction().
  static constexpr std::size_t kTrimFrom = 5;

  // fraction: (max - min) / median over the samples, without the lowest and the highest when
  // there are at least kTrimFrom; 0 for fewer than two samples or a zero median.
  double fraction() const {
    if (samples.size() < 2) return 0;
    const double m = median();
    if (!(m > 0)) return 0;
    std::vector<double> sorted = samples;
    std::sort(sorted.begin(), sorted.end());
    const std::size_t trim = sorted.size() >= kTrimFrom ? 1 : 0;
    return (sorted[sorted.size() - 1 - trim] - sorted[trim]) / m;
  }
  bool wide() const { return fraction() > kWideSpreadFraction; }
};

// RepeatedRow: add() each repetition's result as it finishes, finish() with the verdict of the
// check over all of them; result() is then one row whose throughput is the median, whose latency
// histogram is every repetition's merged, and whose verdict fails when any repetition's or the
// final check did (with the first failure's detail).
class RepeatedRow {
 public:
  void add(RunResult&& r) {
    spread_.samples.push_back(r.throughput);
    if (!have_) {
      merged_ = std::move(r);
      have_ = true;
      return;
    }
    merged_.histogram.merge(r.histogram);
    merged_.ops += r.ops;
    merged_.wall_seconds += r.wall_seconds;
    if (merged_.verdict.passed && !r.verdict.passed) merged_.verdict = std::move(r.verdict);
  }

  // finish: the driver's verdict over all repetitions (kept unless a repetition failed).
  void finish(Verdict v) {
    if (have_ && merged_.verdict.passed) merged_.verdict = std::move(v);
  }

  bool empty() const { return !have_; }
  bool passed() const { return have_ && merged_.verdict.passed; }
  const Spread& spread() const { return spread_; }

  // result: the merged row (call once, after the last add()).
  RunResult result() {
    if (!have_) throw std::logic_error("RepeatedRow::result: no repetition was added");
    merged_.throughput = spread_.median();
    merged_.latency = LatencySummary::of(merged_.histogram);
    merged_.service = merged_.latency;
    return std::move(merged_);
  }

 private:
  RunResult merged_;
  Spread spread_;
  bool have_ = false;
};

// vs_ref_of_medians: `row_median / ref_median`, both medians of the same interleaved rounds.
inline std::optional<double> vs_ref_of_medians(double row_median,
                                               std::optional<double> ref_median) {
  if (!ref_median || !(*ref_median > 0)) return std::nullopt;
  return row_median / *ref_median;
}

}  // namespace cp::bench
