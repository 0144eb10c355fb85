// window_text.hpp: aggregates as text lines, and back; the query port's answers and the
// daemon's final dump use it, and the end-to-end test reads it.
//
//   format_window - one line per series, sorted by key:
//                   <key> count=N sum=S min=A max=B mean=M[ value=V][ unique=U members=a;b]
//                   [ sampled=S p50=.. p99=.. buckets=i:n;i:n]
//                   (value for gauges, unique and members for sets, the rest for timings).
//                   Numbers in the shortest form that reads back to the same double, so a
//                   dump compares exactly.
//   parse_window  - the inverse (mean, unique and the percentiles are derived: skipped).
//   format_stats  - a stats snapshot as key=value lines, one per counter and invalid reason.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "lessons/09-metrics-pipeline/aggregate.hpp"
#include "lessons/09-metrics-pipeline/stats.hpp"

namespace cp::metrics {

inline std::string shortest(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

inline std::string format_window(const Window& w) {
  std::string out;
  for (const auto& [key, a] : w) {
    out += key + " count=" + std::to_string(a.count) + " sum=" + shortest(a.sum) +
           " min=" + shortest(a.min) + " max=" + shortest(a.max) + " mean=" + shortest(a.mean());
    if (a.has_gauge) out += " value=" + shortest(a.gauge);
    if (!a.members.empty()) {
      out += " unique=" + std::to_string(a.members.size()) + " members=";
      bool first = true;
      for (const auto& m : a.members) {
        out += (first ? "" : ";") + m;
        first = false;
      }
    }
    if (a.timings.count() > 0) {
      out += " sampled=" + shortest(a.sampled) + " p50=" + shortest(a.timings.percentile_ms(50)) +
             " p99=" + shortest(a.timings.percentile_ms(99)) + " buckets=";
      bool first = true;
      for (const auto& [b, n] : a.timings.buckets()) {
        out += (first ? "" : ";") + std::to_string(b) + ":" + std::to_string(n);
        first = false;
      }
    }
    out += '\n';
  }
  return out;
}

namespace detail {
template <class T>
bool read_number(std::string_view s, T& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}
}  // namespace detail

// parse_window: nullopt on the first line it cannot read.
inline std::optional<Window> parse_window(const std::string& text) {
  Window w;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string key, field;
    fields >> key;
    Aggregate a;
    std::uint64_t timing_count = 0;
    while (fields >> field) {
      const auto eq = field.find('=');
      if (eq == std::string::npos) return std::nullopt;
      const std::string_view name = std::string_view(field).substr(0, eq);
      const std::string_view value = std::string_view(field).substr(eq + 1);
      bool ok = true;
      if (name == "count") ok = detail::read_number(value, a.count);
      else if (name == "sum") ok = detail::read_number(value, a.sum);
      else if (name == "min") ok = detail::read_number(value, a.min);
      else if (name == "max") ok = detail::read_number(value, a.max);
      else if (name == "value") ok = a.has_gauge = detail::read_number(value, a.gauge);
      else if (name == "sampled") ok = detail::read_number(value, a.sampled);
      else if (name == "members") {
        std::string_view rest = value;
        while (ok && !rest.empty()) {
          const auto semi = rest.find(';');
          ok = semi != 0;
          a.members.insert(std::string(rest.substr(0, semi)));
          rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        }
      }
      else if (name == "buckets") {
        std::string_view rest = value;
        while (ok && !rest.empty()) {
          const auto semi = rest.find(';');
          const std::string_view pair = rest.substr(0, semi);
          const auto colon = pair.find(':');
          std::uint32_t b = 0;
          std::uint64_t n = 0;
          ok = colon != std::string_view::npos && detail::read_number(pair.substr(0, colon), b) &&
               detail::read_number(pair.substr(colon + 1), n);
          if (ok) {
            a.timings.add_bucket(b, n);
            timing_count += n;
          }
          rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        }
      }
      if (!ok) return std::nullopt;
    }
    if (key.empty() || (timing_count != 0 && timing_count != a.count)) return std::nullopt;
    w[key] = a;
  }
  return w;
}

inline std::string format_stats(const StatsSnapshot& s) {
  std::string out = "received=" + std::to_string(s.received) + "\nparsed=" + std::to_string(s.parsed) +
                    "\nprocessed=" + std::to_string(s.processed) + "\ninvalid=" +
                    std::to_string(s.invalid_total()) + "\ndropped=" + std::to_string(s.dropped()) +
                    "\ndropped_intake=" + std::to_string(s.dropped_intake) +
                    "\ndropped_validated=" + std::to_string(s.dropped_validated) +
                    "\nrefused_stopped=" + std::to_string(s.refused_stopped) +
                    "\nerrors=" + std::to_string(s.errors) + "\nflushes=" + std::to_string(s.flushes) +
                    "\nflush_errors=" + std::to_string(s.flush_errors) +
                    "\nin_flight=" + std::to_string(s.in_flight()) + "\n";
  for (std::size_t r = 0; r < kInvalidReasons; ++r)
    out += "invalid." + std::string(to_string(static_cast<Invalid>(r))) + "=" +
           std::to_string(s.invalid[r]) + "\n";
  return out;
}

}  // namespace cp::metrics
