// point.hpp: one data point of the metrics pipeline, and the key it is aggregated under.
//
//   MetricType  - counter (|c), gauge (|g), timing (|ms), set (|s): Etsy StatsD's types.
//   Tag         - one key:value pair (a bare tag has an empty value).
//   Point       - metric name, value (a gauge's may be a delta; a set's is its member), timestamp
//                 (ms since the epoch), sample rate, tags, and the steady-clock time it entered
//                 the pipeline (for the send-to-counted latency).
//   series_key  - "name|type|k1:v1,k2:v2": one aggregate per metric and tag set. Tags must be
//                 normalised first (sorted by key, see validate.hpp), so equal tag sets give
//                 equal keys whatever order the sender wrote them in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cp::metrics {

enum class MetricType { counter, gauge, timing, set };

constexpr std::string_view to_string(MetricType t) {
  switch (t) {
    case MetricType::counter: return "c";
    case MetricType::gauge: return "g";
    case MetricType::timing: return "ms";
    case MetricType::set: return "s";
  }
  return "?";
}

struct Tag {
  std::string key, value;
  bool operator==(const Tag&) const = default;
};

struct Point {
  std::string name;
  MetricType type = MetricType::counter;
  double value = 0;                     // a gauge delta's sign included; 0 for a set
  bool gauge_delta = false;             // gauges: "+5"/"-5" change the value, "5" sets it
  std::string member;                   // sets: the value whose distinct occurrences count
  double sample_rate = 1.0;             // |@rate: a counter counts value / rate, a timing
                                        // stands for 1 / rate events; gauges and sets ignore it
  std::int64_t timestamp_ms = 0;        // |T<seconds> if sent, else the time it was received
  bool has_timestamp = false;           // true when the sender gave |T
  std::vector<Tag> tags;
  std::uint64_t entered_ns = 0;         // steady clock at intake; 0 when not measured

  // The value this point adds to its aggregate: a sampled counter stands for 1/rate events.
  double aggregated_value() const {
    return type == MetricType::counter ? value / sample_rate : value;
  }
};

inline std::string series_key(const Point& p) {
  std::string key = p.name;
  key += '|';
  key += to_string(p.type);
  key += '|';
  for (std::size_t i = 0; i < p.tags.size(); ++i) {
    if (i) key += ',';
    key += p.tags[i].key;
    if (!p.tags[i].value.empty()) key += ':' + p.tags[i].value;
  }
  return key;
}

}  // namespace cp::metrics
