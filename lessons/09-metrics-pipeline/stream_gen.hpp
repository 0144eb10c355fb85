// stream_gen.hpp: a seeded stream of StatsD lines that knows what each line should become, and
// the sequential computation of the aggregates the pipeline must end with.
//
//   StreamConfig - seed, share of malformed / invalid lines and of poisoned points, the host
//                  tag the service adds, and "now" for the timestamps the lines carry.
//   GenLine      - the text, and the expected outcome: valid (with its series key, its type
//                  and value, computed here, not by the parser), invalid (with its reason) or
//                  poisoned. Valid lines cover Etsy's forms: counters and timings with and
//                  without a sample rate, gauges set and changed by a signed delta, sets.
//   StreamGen    - next(): one line. Same seed, same stream.
//   Expected     - the sequential computation: fold every GenLine in order into the totals,
//                  the count per invalid reason, the poisoned count. Its gauge values are
//                  those of the lines' order (see aggregate.hpp for when a store's agree).
// The values are integers and quarters, so every sum is exact in a double whatever the order
// of addition (aggregate.hpp): the pipeline's totals must equal Expected's bit for bit.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "comparisons/common/random.hpp"
#include "lessons/09-metrics-pipeline/aggregate.hpp"
#include "lessons/09-metrics-pipeline/statsd_parse.hpp"

namespace cp::metrics {

struct StreamConfig {
  std::uint64_t seed = 1;
  unsigned malformed_pct = 10;        // lines the parser or the validator refuses
  unsigned poisoned_pct = 2;          // valid lines whose aggregation throws
  std::string poison_prefix = "poison.";
  std::string host = "test";
  std::int64_t now_ms = 1'800'000'000'000;  // the receiver's clock, for |T fields
};

enum class Expect { valid, invalid, poisoned };

struct GenLine {
  std::string text;
  Expect expect = Expect::valid;
  Invalid reason = Invalid::no_value;  // when invalid
  std::string key;                     // when valid: the series key
  double value = 0;                    // when valid: the aggregated value (a delta's signed)
  bool timing = false;
  double sampled = 0;                  // timings: 1 / rate
  bool gauge = false, delta = false;   // gauges: a delta (+v / -v) or a set value
  std::string member;                  // sets: the member (then `value` is unused)
};

class StreamGen {
 public:
  explicit StreamGen(StreamConfig cfg) : cfg_(std::move(cfg)), rng_(cfg_.seed) {}

  GenLine next() {
    const auto roll = rng_.below(100);
    if (roll < cfg_.malformed_pct) return malformed();
    if (roll < cfg_.malformed_pct + cfg_.poisoned_pct) {
      GenLine g;
      g.text = cfg_.poison_prefix + "m" + std::to_string(rng_.below(3)) + ":1|c";
      g.expect = Expect::poisoned;
      return g;
    }
    return valid();
  }

 private:
  static constexpr const char* kNames[] = {"app.requests", "app.latency", "db.queries",
                                           "cache.hits", "queue.depth", "http.bytes"};
  static constexpr const char* kTagKeys[] = {"env", "region", "zone"};
  static constexpr const char* kTagValues[] = {"a", "b", "c"};

  static std::string number(double v) {
    char buf[64];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round trip
    return std::string(buf, end);
  }

  // A value that is an integer or a quarter: exact in every sum below 2^51.
  double value(std::int64_t lo, std::int64_t hi) {
    const auto whole = lo + static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(hi - lo)));
    return static_cast<double>(whole) + (rng_.below(2) ? static_cast<double>(rng_.below(4)) / 4 : 0.0);
  }

  GenLine valid() {
    GenLine g;
    const std::string name = kNames[rng_.below(std::size(kNames))];
    const auto kind = rng_.below(4);
    double v = 0, rate = 1;
    std::string type, text;
    if (kind == 0) {
      type = "c";
      v = static_cast<double>(1 + rng_.below(100));
      if (rng_.below(4) == 0) rate = rng_.below(2) ? 0.5 : 0.25;
      text = number(v);
    } else if (kind == 1) {
      type = "g";
      g.gauge = true;
      g.delta = rng_.below(4) == 0;
      if (g.delta) {
        const bool up = rng_.below(2) == 0;
        const double by = value(1, 50);
        text = (up ? "+" : "-") + number(by);
        v = up ? by : -by;
      } else {
        v = value(0, 1000);
        text = number(v);
      }
    } else if (kind == 2) {
      type = "ms";
      v = value(0, 500);
      g.timing = true;
      if (rng_.below(4) == 0) rate = rng_.below(2) ? 0.5 : 0.25;
      g.sampled = 1 / rate;
      text = number(v);
    } else {
      type = "s";
      g.member = "user" + std::to_string(rng_.below(20));
      text = g.member;
    }
    g.text = name + ":" + text + "|" + type;
    if (rate != 1) g.text += "|@" + number(rate);
    // Tags: a random subset, written in a random order, keys sometimes upper-case; the
    // expected key has them lower-cased and sorted, with the host tag.
    std::vector<std::pair<std::string, std::string>> tags;
    for (const char* k : kTagKeys)
      if (rng_.below(2)) tags.emplace_back(k, kTagValues[rng_.below(std::size(kTagValues))]);
    std::vector<std::string> written;
    for (const auto& [k, val] : tags) {
      std::string key = k;
      if (rng_.below(4) == 0) std::transform(key.begin(), key.end(), key.begin(), ::toupper);
      written.push_back(key + ":" + val);
    }
    for (std::size_t i = written.size(); i > 1; --i) std::swap(written[i - 1], written[rng_.below(i)]);
    if (!written.empty()) {
      g.text += "|#";
      for (std::size_t i = 0; i < written.size(); ++i) g.text += (i ? "," : "") + written[i];
    }
    if (rng_.below(8) == 0) g.text += "|T" + std::to_string(cfg_.now_ms / 1000 - 30);
    tags.emplace_back("host", cfg_.host);
    std::sort(tags.begin(), tags.end());
    g.key = name + "|" + type + "|";
    for (std::size_t i = 0; i < tags.size(); ++i)
      g.key += (i ? "," : "") + tags[i].first + ":" + tags[i].second;
    g.value = type == "c" ? v / rate : v;
    return g;
  }

  GenLine malformed() {
    GenLine g;
    g.expect = Expect::invalid;
    const std::string now_s = std::to_string(cfg_.now_ms / 1000);
    struct Case {
      Invalid reason;
      std::string text;
    };
    const Case cases[] = {
        {Invalid::no_value, "app.requests 1 c"},
        {Invalid::bad_name, "app requests:1|c"},
        {Invalid::bad_value, "app.requests:12abc|c"},
        {Invalid::bad_value, rng_.below(2) ? "queue.depth:+-3|g" : "app.users:|s"},
        {Invalid::no_type, "app.requests:1"},
        {Invalid::unknown_type, "app.users:7|h"},
        {Invalid::bad_sample_rate, "app.requests:1|c|@2"},
        {Invalid::bad_tag, "app.requests:1|c|#:x"},
        {Invalid::bad_field, "app.requests:1|c|x"},
        {Invalid::too_long, "app." + std::string(kMaxLineBytes, 'x') + ":1|c"},
        {Invalid::empty_name, ":1|c"},
        {Invalid::not_finite, rng_.below(2) ? "queue.depth:nan|g" : "app.latency:inf|ms"},
        {Invalid::negative_timing, "app.latency:-3|ms"},
        {Invalid::timestamp_too_old, "app.requests:1|c|T1"},
        {Invalid::timestamp_in_future,
         "app.requests:1|c|T" + std::to_string(cfg_.now_ms / 1000 + 86'400)},
    };
    const Case& c = cases[rng_.below(std::size(cases))];
    g.reason = c.reason;
    g.text = c.text;
    return g;
  }

  StreamConfig cfg_;
  cp::Xoshiro256 rng_;
};

struct Expected {
  Window totals;
  std::array<std::uint64_t, kInvalidReasons> invalid{};
  std::uint64_t lines = 0, valid = 0, poisoned = 0;

  void add(const GenLine& g) {
    ++lines;
    switch (g.expect) {
      case Expect::valid:
        ++valid;
        add_valid(totals[g.key], g);
        break;
      case Expect::invalid: ++invalid[static_cast<std::size_t>(g.reason)]; break;
      case Expect::poisoned: ++poisoned; break;
    }
  }
  static void add_valid(Aggregate& a, const GenLine& g) {
    if (!g.member.empty()) {
      ++a.count;
      a.members.insert(g.member);
      return;
    }
    a.add(g.value, g.timing);
    a.sampled += g.sampled;
    if (g.gauge) {
      a.gauge = g.delta ? a.gauge + g.value : g.value;
      a.has_gauge = true;
    }
  }
  std::uint64_t invalid_total() const {
    std::uint64_t n = 0;
    for (auto v : invalid) n += v;
    return n;
  }
};

// order_free: `w` with every gauge's value zeroed (that it is a gauge is kept). Two runs with
// several validators or aggregators must agree on this exactly; a gauge's value depends on
// the order in which the store applied its updates (aggregate.hpp).
inline Window order_free(Window w) {
  for (auto& [key, a] : w)
    if (a.has_gauge) a.gauge = 0;
  return w;
}

}  // namespace cp::metrics
