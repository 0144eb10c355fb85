// knobs.hpp: the workload parameters `compare` lets a user set (`--set workload.knob=value`),
// validated, printed in the header and recorded with every result.
//
//   Knobs            - the Params of every workload (the drivers' own structs) plus the cache
//                      mixes to run (each mix is one table).
//   KnobSpec         - one knob: its name, what it means, how to read and to set it.
//   knob_specs       - every knob, in the order --help and the results list them.
//   apply_knob       - "counter.keys=4096" -> Knobs, or a one-line error.
//   knob_values      - every knob's current value, as text (for the header and the files).
//
// A knob is a field of a driver's Params struct (comparisons/<workload>/driver.hpp), so a value
// set here is exactly what the driver runs with, and the driver's describe() repeats it in each
// row's `params`. Ranges are checked here, before anything runs, so that a bad value is a usage
// error (exit 2), not a failed row. The cache mixes are fixed percentages in the cache driver
// (90/9/1 and 50/45/5): `cache.mix` chooses which of the two tables run.
// `single-writer.wait` is the one knob that is not a Params field: the wait strategy is part of
// a single-writer design's type (Disruptor style), so compare_app picks, per run, the design's
// `with_wait<Strategy>` instantiation the knob names (designs without with_wait ignore it).
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "comparisons/cache/driver.hpp"
#include "comparisons/counter/driver.hpp"
#include "comparisons/order/driver.hpp"

namespace cp::bench {

struct Knobs {
  CounterParams counter{};
  CacheParams cache{};  // `mix` is unused: cache_mixes names the tables
  std::vector<CacheMix> cache_mixes{CacheMix::read_heavy, CacheMix::write_heavy};
  OrderParams order{};
  // The single-writer designs' wait strategy (a WaitStrategy::name); the registered designs'
  // own is phased-backoff.
  std::string wait = "phased-backoff";
};

// The strategies single-writer.wait accepts (patterns/single_writer/wait_strategy.hpp names).
inline const std::vector<std::string>& wait_strategy_names() {
  static const std::vector<std::string> names = {"blocking", "phased-backoff", "yielding",
                                                 "busy-spin"};
  return names;
}

struct KnobSpec {
  std::string_view name;  // "workload.knob"
  std::string_view help;  // values accepted, one line
  std::function<std::string(const Knobs&)> get;
  // set: applies `value`, or returns what is wrong with it (one line, without the knob's name).
  std::function<std::optional<std::string>(Knobs&, const std::string& value)> set;
};

namespace knob_detail {

// Whole-string unsigned decimal in [lo, hi].
inline std::optional<std::uint64_t> parse_in(const std::string& text, std::uint64_t lo,
                                             std::uint64_t hi) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
  if (errno == ERANGE || v < lo || v > hi) return std::nullopt;
  return v;
}

inline std::optional<double> parse_theta(const std::string& text) {
  if (text.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (errno == ERANGE || end != text.c_str() + text.size() || !std::isfinite(v) || v < 0 ||
      v >= 1)
    return std::nullopt;
  return v;
}

inline std::string format_double(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

// "a/b" or "a/b/c" percents; with two numbers the third is the rest. Sum must be 100.
inline std::optional<std::pair<unsigned, unsigned>> parse_mix(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t begin = 0;
  while (true) {
    const auto slash = text.find('/', begin);
    parts.push_back(text.substr(begin, slash == std::string::npos ? std::string::npos
                                                                  : slash - begin));
    if (slash == std::string::npos) break;
    begin = slash + 1;
  }
  if (parts.size() != 2 && parts.size() != 3) return std::nullopt;
  std::uint64_t values[3] = {0, 0, 0};
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto v = parse_in(parts[i], 0, 100);
    if (!v) return std::nullopt;
    values[i] = *v;
  }
  if (values[0] + values[1] > 100) return std::nullopt;
  if (parts.size() == 3 && values[0] + values[1] + values[2] != 100) return std::nullopt;
  return std::pair{static_cast<unsigned>(values[0]), static_cast<unsigned>(values[1])};
}

template <class T>
KnobSpec unsigned_knob(std::string_view name, std::string_view help, T Knobs::*group,
                       auto member, std::uint64_t lo, std::uint64_t hi) {
  return {name, help,
          [=](const Knobs& k) { return std::to_string((k.*group).*member); },
          [=](Knobs& k, const std::string& v) -> std::optional<std::string> {
            const auto n = parse_in(v, lo, hi);
            if (!n)
              return "'" + v + "' is not an integer in " + std::to_string(lo) + ".." +
                     std::to_string(hi);
            (k.*group).*member = static_cast<std::remove_reference_t<decltype((k.*group).*member)>>(*n);
            return std::nullopt;
          }};
}

template <class T>
KnobSpec theta_knob(std::string_view name, T Knobs::*group, double T::*member) {
  return {name, "Zipf skew in [0, 1); 0 = uniform",
          [=](const Knobs& k) { return format_double((k.*group).*member); },
          [=](Knobs& k, const std::string& v) -> std::optional<std::string> {
            const auto t = parse_theta(v);
            if (!t) return "'" + v + "' is not a Zipf theta in [0, 1)";
            (k.*group).*member = *t;
            return std::nullopt;
          }};
}

}  // namespace knob_detail

// Upper bounds keep one row's setup (Zipf tables, prefill, verify) within seconds.
inline constexpr std::uint64_t kMaxCounterKeys = 1u << 20;
inline constexpr std::uint64_t kMaxCacheKeys = 1u << 24;
inline constexpr std::uint64_t kMaxOrderAccounts = 1u << 20;

inline const std::vector<KnobSpec>& knob_specs() {
  using namespace knob_detail;
  static const std::vector<KnobSpec> specs = {
      unsigned_knob("counter.keys", "number of counters K, 1..1048576", &Knobs::counter,
                    &CounterParams::keys, 1, kMaxCounterKeys),
      theta_knob("counter.theta", &Knobs::counter, &CounterParams::theta),
      {"counter.mix", "add/get/total percents, e.g. 90/9/1 (two numbers: total is the rest)",
       [](const Knobs& k) {
         return std::to_string(k.counter.add_percent) + "/" + std::to_string(k.counter.get_percent) +
                "/" + std::to_string(100 - k.counter.add_percent - k.counter.get_percent);
       },
       [](Knobs& k, const std::string& v) -> std::optional<std::string> {
         const auto mix = parse_mix(v);
         if (!mix) return "'" + v + "' is not add/get/total percents summing to 100";
         k.counter.add_percent = mix->first;
         k.counter.get_percent = mix->second;
         return std::nullopt;
       }},
      unsigned_knob("cache.key_space", "keys N, 1..16777216", &Knobs::cache,
                    &CacheParams::key_space, 1, kMaxCacheKeys),
      unsigned_knob("cache.capacity", "entries C, 1..16777216 (C >= N: no eviction)",
                    &Knobs::cache, &CacheParams::capacity, 1, kMaxCacheKeys),
      theta_knob("cache.theta", &Knobs::cache, &CacheParams::theta),
      {"cache.mix",
       "read-heavy (get/put/erase 90/9/1), write-heavy (50/45/5) or both; one table each",
       [](const Knobs& k) {
         if (k.cache_mixes.size() == 2) return std::string("both");
         return std::string(to_string(k.cache_mixes.front()));
       },
       [](Knobs& k, const std::string& v) -> std::optional<std::string> {
         if (v == "both") k.cache_mixes = {CacheMix::read_heavy, CacheMix::write_heavy};
         else if (v == "read-heavy") k.cache_mixes = {CacheMix::read_heavy};
         else if (v == "write-heavy") k.cache_mixes = {CacheMix::write_heavy};
         else return "'" + v + "' is not read-heavy, write-heavy or both";
         return std::nullopt;
       }},
      unsigned_knob("order.symbols", "symbols S, 1..16", &Knobs::order, &OrderParams::symbols, 1,
                    16),
      unsigned_knob("order.accounts", "accounts A, 1..1048576", &Knobs::order,
                    &OrderParams::accounts, 1, kMaxOrderAccounts),
      theta_knob("order.theta", &Knobs::order, &OrderParams::theta),
      {"order.mix", "place/cancel/query percents, e.g. 60/30/10 (two numbers: query is the rest)",
       [](const Knobs& k) {
         return std::to_string(k.order.place_percent) + "/" + std::to_string(k.order.cancel_percent) +
                "/" + std::to_string(100 - k.order.place_percent - k.order.cancel_percent);
       },
       [](Knobs& k, const std::string& v) -> std::optional<std::string> {
         const auto mix = parse_mix(v);
         if (!mix) return "'" + v + "' is not place/cancel/query percents summing to 100";
         k.order.place_percent = mix->first;
         k.order.cancel_percent = mix->second;
         return std::nullopt;
       }},
      unsigned_knob("order.cross", "percent of places whose limit crosses the spread, 0..100",
                    &Knobs::order, &OrderParams::cross_percent, 0, 100),
      unsigned_knob("order.prefill", "resting orders per side and symbol before the run, 0..4096",
                    &Knobs::order, &OrderParams::prefill_per_side, 0, 4096),
      {"work-stealing.batch",
       "commands per call of the work-stealing batch rows (all workloads), 1..65536",
       [](const Knobs& k) { return std::to_string(k.counter.batch); },
       [](Knobs& k, const std::string& v) -> std::optional<std::string> {
         const auto n = parse_in(v, 1, 65536);
         if (!n) return "'" + v + "' is not an integer in 1..65536";
         k.counter.batch = k.cache.batch = k.order.batch = static_cast<std::uint32_t>(*n);
         return std::nullopt;
       }},
      {"single-writer.wait",
       "how single-writer owners and callers wait: blocking, phased-backoff, yielding or "
       "busy-spin (spinning on 2 cores with 8 clients is the trap to see)",
       [](const Knobs& k) { return k.wait; },
       [](Knobs& k, const std::string& v) -> std::optional<std::string> {
         const auto& names = wait_strategy_names();
         if (std::find(names.begin(), names.end(), v) == names.end())
           return "'" + v + "' is not blocking, phased-backoff, yielding or busy-spin";
         k.wait = v;
         return std::nullopt;
       }},
  };
  return specs;
}

// apply_knob: "name=value". Returns a one-line error on failure.
inline std::optional<std::string> apply_knob(Knobs& knobs, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos)
    return "--set: '" + assignment + "' is not workload.knob=value";
  const std::string name = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  for (const auto& spec : knob_specs()) {
    if (spec.name != name) continue;
    if (auto error = spec.set(knobs, value)) return "--set " + name + ": " + *error;
    return std::nullopt;
  }
  std::string names;
  for (const auto& spec : knob_specs()) names += (names.empty() ? "" : ", ") + std::string(spec.name);
  return "--set: unknown knob '" + name + "' (known: " + names + ")";
}

inline std::vector<std::pair<std::string, std::string>> knob_values(const Knobs& knobs) {
  std::vector<std::pair<std::string, std::string>> values;
  for (const auto& spec : knob_specs()) values.emplace_back(spec.name, spec.get(knobs));
  return values;
}

}  // namespace cp::bench
