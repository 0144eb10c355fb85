// validate.hpp: the validator stage's work on one parsed point.
//
//   ValidationRules     - how far back and ahead a sent timestamp may be, and the host tag.
//   validate_and_enrich - refuses a point that is syntactically fine but meaningless (empty
//                         name, NaN/inf, a negative timing, a timestamp outside the window of
//                         acceptance); enriches the rest: tag keys lower-cased, tags sorted by
//                         key with the last of a repeated key kept, a host tag added, and the
//                         receive time as timestamp when the sender gave none.
// Pure function of its inputs (the clock is passed as now_ms), so it is tested without threads.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

#include "lessons/09-metrics-pipeline/point.hpp"
#include "lessons/09-metrics-pipeline/statsd_parse.hpp"

namespace cp::metrics {

struct ValidationRules {
  std::int64_t max_age_ms = 3'600'000;    // a sent timestamp older than an hour is refused
  std::int64_t max_ahead_ms = 600'000;    // ten minutes of clock skew ahead is tolerated
  std::string host = "localhost";         // the value of the added host tag (empty: no tag)
};

// Returns the reason the point is refused, or nullopt after enriching it in place.
inline std::optional<Invalid> validate_and_enrich(Point& p, std::int64_t now_ms,
                                                  const ValidationRules& rules) {
  if (p.name.empty()) return Invalid::empty_name;
  if (!std::isfinite(p.value)) return Invalid::not_finite;  // a set's value is 0
  if (p.type == MetricType::timing && p.value < 0) return Invalid::negative_timing;
  if (p.has_timestamp) {
    if (p.timestamp_ms < now_ms - rules.max_age_ms) return Invalid::timestamp_too_old;
    if (p.timestamp_ms > now_ms + rules.max_ahead_ms) return Invalid::timestamp_in_future;
  } else {
    p.timestamp_ms = now_ms;
  }
  for (Tag& t : p.tags)
    std::transform(t.key.begin(), t.key.end(), t.key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // First, so that a host tag the sender gave (later in the list) wins below.
  if (!rules.host.empty()) p.tags.insert(p.tags.begin(), Tag{"host", rules.host});
  // Sort by key, stable so that among equal keys the later one stays later; then keep the
  // last of each run of equal keys.
  std::stable_sort(p.tags.begin(), p.tags.end(),
                   [](const Tag& a, const Tag& b) { return a.key < b.key; });
  std::vector<Tag> unique;
  unique.reserve(p.tags.size());
  for (std::size_t i = 0; i < p.tags.size(); ++i)
    if (i + 1 == p.tags.size() || p.tags[i + 1].key != p.tags[i].key)
      unique.push_back(std::move(p.tags[i]));
  p.tags = std::move(unique);
  return std::nullopt;
}

}  // namespace cp::metrics
