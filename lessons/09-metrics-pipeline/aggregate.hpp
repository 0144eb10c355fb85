// aggregate.hpp: what the store keeps per series, and the views a query returns.
//
//   TimingHistogram - timings in the harness's log-linear buckets (bench/harness/histogram.hpp:
//                     1024 sub-buckets per power of two, < 0.1% relative error), stored sparse
//                     (a map of the used buckets) because a store holds thousands of series and
//                     the harness's dense 440 KiB array is sized for one thread's latencies.
//   Aggregate       - count, sum, min, max (mean = sum / count) of the values sent; for timings
//                     the histogram and `sampled` (sum of 1 / rate: the events the samples
//                     stand for, Etsy's timer count); for gauges the gauge's value (the last
//                     value set, plus the deltas after it); for sets the distinct members.
//   GaugeValues     - series key -> a gauge's value, kept across windows: as in Etsy's statsd,
//                     a gauge keeps its value until it is set again, and a delta in a new
//                     window changes the value the last window ended with.
//   Window          - series key -> Aggregate: everything one flush interval collected.
//   FlushedWindow   - a window with its [start, end) in ms.
//   StoreView       - what a query returns: the current window, the retained history, and the
//                     all-time totals of every window flushed so far.
//   merge, totals   - combine windows; totals(view) = flushed totals + current window.
//
// Every operation here is order-independent except floating-point addition and a gauge's
// value. sum is a double, so two stores fed the same points in different orders agree exactly
// only when the partial sums are exact (integers, or dyadic fractions like 0.25, below 2^53);
// the tests use such values on purpose. A gauge's value depends on the order of its updates
// (the last set wins): it is the order the store applied them, which with one validator and
// one aggregator is the order the lines arrived; with several, two lines of one gauge sent
// back to back may be applied in either order (as UDP may reorder them on their way to
// Etsy's statsd). The lesson discusses both.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <set>
#include <string>

#include "bench/harness/histogram.hpp"
#include "lessons/09-metrics-pipeline/point.hpp"

namespace cp::metrics {

class TimingHistogram {
 public:
  using Buckets = cp::bench::LatencyHistogram;

  // record: a timing in milliseconds (>= 0, finite), kept in nanoseconds.
  void record(double ms) {
    const double ns = std::min(ms * 1e6, 1.8e19);
    ++buckets_[static_cast<std::uint32_t>(Buckets::bucket_index(static_cast<std::uint64_t>(ns)))];
    ++count_;
  }
  // add_bucket: n values in bucket b (reading a histogram back from text).
  void add_bucket(std::uint32_t b, std::uint64_t n) {
    buckets_[b] += n;
    count_ += n;
  }
  void merge(const TimingHistogram& other) {
    for (const auto& [b, n] : other.buckets_) buckets_[b] += n;
    count_ += other.count_;
  }
  // percentile_ms: the bucket's upper edge, in ms (>= the exact value, < 0.1% above it).
  double percentile_ms(double p) const {
    const std::uint64_t rank = cp::bench::percentile_rank(p, count_);
    std::uint64_t seen = 0;
    for (const auto& [b, n] : buckets_) {
      seen += n;
      if (seen >= rank) return static_cast<double>(Buckets::highest_equivalent(b)) / 1e6;
    }
    return 0;
  }
  std::uint64_t count() const { return count_; }
  const std::map<std::uint32_t, std::uint64_t>& buckets() const { return buckets_; }
  bool operator==(const TimingHistogram&) const = default;

 private:
  std::map<std::uint32_t, std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
};

struct Aggregate {
  std::uint64_t count = 0;
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  TimingHistogram timings;  // empty unless the series is a timing
  double sampled = 0;       // timings: sum of 1 / rate
  bool has_gauge = false;   // gauges: `gauge` is the value after this window's last update
  double gauge = 0;
  std::set<std::string> members;  // sets: the distinct members

  void add(double v, bool is_timing) {
    ++count;
    sum += v;
    min = std::min(min, v);
    max = std::max(max, v);
    if (is_timing) timings.record(v);
  }
  void merge(const Aggregate& o) {
    count += o.count;
    sum += o.sum;
    min = std::min(min, o.min);
    max = std::max(max, o.max);
    timings.merge(o.timings);
    sampled += o.sampled;
    if (o.has_gauge) {  // `o` is the later window: its value is the newer one
      has_gauge = true;
      gauge = o.gauge;
    }
    members.insert(o.members.begin(), o.members.end());
  }
  double mean() const { return count ? sum / static_cast<double>(count) : 0.0; }
  bool operator==(const Aggregate&) const = default;
};

using Window = std::map<std::string, Aggregate>;
using GaugeValues = std::map<std::string, double>;

inline void add_point(Window& w, GaugeValues& gauges, const Point& p) {
  std::string key = series_key(p);
  Aggregate& a = w[key];
  if (p.type == MetricType::set) {
    ++a.count;
    a.members.insert(p.member);
    return;
  }
  a.add(p.aggregated_value(), p.type == MetricType::timing);
  if (p.type == MetricType::timing) a.sampled += 1.0 / p.sample_rate;
  if (p.type == MetricType::gauge) {
    double& value = gauges[std::move(key)];
    value = p.gauge_delta ? value + p.value : p.value;  // a delta on a new gauge starts at 0
    a.has_gauge = true;
    a.gauge = value;
  }
}

// merge_into: `from` is the later window (its gauge values are the newer ones).
inline void merge_into(Window& into, const Window& from) {
  for (const auto& [key, agg] : from) into[key].merge(agg);
}

struct FlushedWindow {
  std::int64_t start_ms = 0, end_ms = 0;
  Window series;
};

struct StoreView {
  std::int64_t current_start_ms = 0;
  Window current;
  std::deque<FlushedWindow> history;  // oldest first, at most the store's history length
  Window flushed_totals;              // every flushed window merged, retained or not
  std::uint64_t flushes = 0;
  std::uint64_t points = 0;           // points added since the start
};

inline Window totals(const StoreView& v) {
  Window all = v.flushed_totals;
  merge_into(all, v.current);
  return all;
}

// Query: what a reader asks for. An empty prefix means every series.
struct Query {
  std::string prefix;
  bool with_history = false;
};

// The part of the store's state a query selects (the prefix filters series keys).
inline Window select(const Window& w, const std::string& prefix) {
  if (prefix.empty()) return w;
  Window out;
  for (auto it = w.lower_bound(prefix); it != w.end() && it->first.starts_with(prefix); ++it)
    out.insert(*it);
  return out;
}

}  // namespace cp::metrics
