// statsd_parse.hpp: one StatsD text line -> a Point, or the reason it is not one.
//
//   Invalid        - every reason a line is refused, by the parser (syntax) or by the validator
//                    (meaning, validate.hpp). Each has its own counter in Stats.
//   ParseResult    - a Point, or an Invalid reason; never an exception.
//   parse_statsd   - name:value|type[|@rate][|#k:v,...][|T<unix seconds>]
//                    type: c (counter), g (gauge), ms (timing), s (set). The tags are
//                    DogStatsD's extension, |T its timestamp field; the rest is Etsy StatsD's
//                    line protocol (its docs/metric_types.md): a gauge value with a sign
//                    ("+5", "-5") is a delta, without one it sets the gauge; a set's value is a
//                    member, counted once per window however often it comes.
//
// The parser only checks syntax. "nan" and "inf" parse as numbers and an empty name is
// syntactically fine: refusing them is the validator's job, so each reason is counted once, at
// the stage that owns it. Where we differ from Etsy's statsd: a set member must be made of
// [A-Za-z0-9_.-] (Etsy takes any text), "+5" is refused for a counter or a timing (bad_value),
// and several values per line (Etsy's "a:1|c:2|c") are refused (unknown_type).
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

#include "lessons/09-metrics-pipeline/point.hpp"

namespace cp::metrics {

enum class Invalid : std::uint8_t {
  // parser: syntax
  too_long,
  no_value,          // no ':' between name and value
  bad_name,          // a character outside [A-Za-z0-9_.-]
  bad_value,         // not a number
  no_type,           // no '|type'
  unknown_type,
  bad_sample_rate,   // not in (0, 1]
  bad_tag,           // an empty tag key, or a blank or control character in a tag
  bad_field,         // an unknown or repeated |field
  // validator: meaning
  empty_name,
  not_finite,        // NaN or +-inf
  negative_timing,
  timestamp_too_old,
  timestamp_in_future,
};
inline constexpr std::size_t kInvalidReasons = 14;

constexpr std::string_view to_string(Invalid r) {
  switch (r) {
    case Invalid::too_long: return "too_long";
    case Invalid::no_value: return "no_value";
    case Invalid::bad_name: return "bad_name";
    case Invalid::bad_value: return "bad_value";
    case Invalid::no_type: return "no_type";
    case Invalid::unknown_type: return "unknown_type";
    case Invalid::bad_sample_rate: return "bad_sample_rate";
    case Invalid::bad_tag: return "bad_tag";
    case Invalid::bad_field: return "bad_field";
    case Invalid::empty_name: return "empty_name";
    case Invalid::not_finite: return "not_finite";
    case Invalid::negative_timing: return "negative_timing";
    case Invalid::timestamp_too_old: return "timestamp_too_old";
    case Invalid::timestamp_in_future: return "timestamp_in_future";
  }
  return "?";
}

struct ParseResult {
  bool ok = false;
  Invalid reason = Invalid::no_value;  // meaningful when !ok
  Point point;                         // meaningful when ok
};

inline constexpr std::size_t kMaxLineBytes = 1024;

namespace detail {

inline bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

inline bool parse_double(std::string_view s, double& out) {
  if (s.empty() || s.front() == '+') return false;  // from_chars takes no '+'; be explicit
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Splits "k:v,k2,k3:v3" into tags; false on an empty key or a blank in a tag.
inline bool parse_tags(std::string_view s, std::vector<Tag>& tags) {
  while (true) {
    const std::size_t comma = s.find(',');
    const std::string_view one = s.substr(0, comma);
    const std::size_t colon = one.find(':');
    Tag tag{std::string(one.substr(0, colon)),
            colon == std::string_view::npos ? std::string() : std::string(one.substr(colon + 1))};
    if (tag.key.empty()) return false;
    for (char c : one)
      if (static_cast<unsigned char>(c) <= ' ') return false;  // no blanks or control chars
    tags.push_back(std::move(tag));
    if (comma == std::string_view::npos) return true;
    s.remove_prefix(comma + 1);
  }
}

// parse_value: the value text, read as the point's type says (the type is set).
inline bool parse_value(Point& p, std::string_view text) {
  if (p.type == MetricType::set) {
    if (text.empty()) return false;
    for (char c : text)
      if (!name_char(c)) return false;
    p.member = std::string(text);
    return true;
  }
  if (p.type == MetricType::gauge && !text.empty() && (text[0] == '+' || text[0] == '-')) {
    p.gauge_delta = true;
    const std::string_view digits = text.substr(1);
    if (digits.starts_with('-') || !parse_double(digits, p.value)) return false;
    if (text[0] == '-') p.value = -p.value;
    return true;
  }
  return parse_double(text, p.value);
}

}  // namespace detail

// parse_statsd: the line without its '\n' (a trailing '\r' is ignored).
inline ParseResult parse_statsd(std::string_view line) {
  ParseResult r;
  auto fail = [&r](Invalid why) {
    r.ok = false;
    r.reason = why;
    return r;
  };
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > kMaxLineBytes) return fail(Invalid::too_long);
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return fail(Invalid::no_value);
  const std::string_view name = line.substr(0, colon);
  for (char c : name)
    if (!detail::name_char(c)) return fail(Invalid::bad_name);
  std::string_view rest = line.substr(colon + 1);
  const std::size_t bar = rest.find('|');
  if (bar == std::string_view::npos) return fail(Invalid::no_type);
  const std::string_view text = rest.substr(0, bar);  // read once the type is known
  rest.remove_prefix(bar + 1);

  Point& p = r.point;
  p.name = std::string(name);
  bool seen_rate = false, seen_tags = false;
  for (bool first = true;; first = false) {
    const std::size_t next = rest.find('|');
    const std::string_view field = rest.substr(0, next);
    if (first) {
      if (field == "c") p.type = MetricType::counter;
      else if (field == "g") p.type = MetricType::gauge;
      else if (field == "ms") p.type = MetricType::timing;
      else if (field == "s") p.type = MetricType::set;
      else if (!detail::parse_double(text, p.value)) return fail(Invalid::bad_value);
      else if (field.empty()) return fail(Invalid::no_type);
      else return fail(Invalid::unknown_type);
      if (!detail::parse_value(p, text)) return fail(Invalid::bad_value);
    } else if (field.starts_with('@') && !seen_rate) {
      seen_rate = true;
      if (!detail::parse_double(field.substr(1), p.sample_rate) || !(p.sample_rate > 0.0) ||
          p.sample_rate > 1.0)
        return fail(Invalid::bad_sample_rate);
    } else if (field.starts_with('#') && !seen_tags) {
      seen_tags = true;
      if (!detail::parse_tags(field.substr(1), p.tags)) return fail(Invalid::bad_tag);
    } else if (field.starts_with('T') && !p.has_timestamp) {
      std::int64_t seconds = 0;
      const std::string_view digits = field.substr(1);
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seconds);
      if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
          seconds < 0 || seconds > (std::int64_t{1} << 40))
        return fail(Invalid::bad_field);
      p.has_timestamp = true;
      p.timestamp_ms = seconds * 1000;
    } else {
      return fail(Invalid::bad_field);
    }
    if (next == std::string_view::npos) break;
    rest.remove_prefix(next + 1);
  }
  r.ok = true;
  return r;
}

}  // namespace cp::metrics
