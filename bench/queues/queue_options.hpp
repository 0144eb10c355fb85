// queue_options.hpp: queue_compare's command line.
//
//   QueueCompareOptions   - what to run.
//   parse_queue_options   - argv[1..] -> options, or a one-line error (the caller exits 2).
//   queue_compare_usage   - the --help text.
//
// Kept apart from queue_compare.cpp so tests/bench/queues/ can check bad input.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bench/harness/options.hpp"  // detail::split_commas, parse_unsigned, parse_double

namespace cp::bench::queues {

// Defaults: the whole default run (7 queues x 3 scenarios x 5 repetitions) takes well under a
// minute on 2 cores (see bench/queues/README.md for the measured time).
inline constexpr std::uint64_t kDefaultItems = 1'000'000;
inline constexpr std::uint64_t kDefaultRoundTrips = 100'000;
inline constexpr std::size_t kDefaultCapacity = 1024;
inline constexpr unsigned kDefaultRepetitions = 5;
// A cap per repetition (and per round-trip run) on top of the counts: 2p1c on 2 cores is
// oversubscribed, and a queue caught by it can drop to ~200 k items/s; without the cap one such
// row alone would take half a minute.
inline constexpr double kDefaultSeconds = 0.5;

inline const std::vector<std::string>& scenario_names() {
  static const std::vector<std::string> names{"1p1c", "2p1c", "rtt"};
  return names;
}

struct QueueCompareOptions {
  std::vector<std::string> scenarios;  // in scenario_names() order; never empty after parsing
  std::vector<std::string> queues;     // empty: every queue
  std::uint64_t items = kDefaultItems;
  std::uint64_t round_trips = kDefaultRoundTrips;
  double seconds = kDefaultSeconds;    // time cap per repetition / round-trip run
  std::size_t capacity = kDefaultCapacity;
  unsigned repetitions = kDefaultRepetitions;
  std::size_t batch = 1;
  std::string csv_path;
  bool list = false;
  bool help = false;

  bool wants_queue(std::string_view name) const {
    return queues.empty() || std::find(queues.begin(), queues.end(), name) != queues.end();
  }
  bool wants_scenario(std::string_view name) const {
    return std::find(scenarios.begin(), scenarios.end(), name) != scenarios.end();
  }
};

struct ParsedQueueOptions {
  std::optional<QueueCompareOptions> options;
  std::string error;  // one line
};

inline std::string queue_compare_usage() {
  return "usage: queue_compare [options]\n"
         "  --scenario 1p1c|2p1c|rtt|all   scenarios (comma list ok; default all)\n"
         "  --queues NAME[,NAME...]|all     queues by name (see --list; default all)\n"
         "  --items N                       items per transfer repetition, all producers\n"
         "                                  together (default 1000000)\n"
         "  --round-trips N                 measured request/reply round trips (default 100000)\n"
         "  --seconds S                     also stop each repetition/run after S seconds,\n"
         "                                  whichever comes first (default 0.5)\n"
         "  --capacity N                    queue capacity, a power of two in 2..1048576\n"
         "                                  (default 1024)\n"
         "  --repetitions N                 transfer repetitions per queue; the median is\n"
         "                                  reported (default 5)\n"
         "  --batch N                       consumer pops up to N at once where the queue has\n"
         "                                  a bulk pop (default 1: try_pop everywhere)\n"
         "  --csv PATH                      also write one CSV line per row to PATH\n"
         "  --list                          list the queues and their traits, then exit\n"
         "  --help                          this text\n"
         "exit status: 0 every row passed its correctness check, 1 some row failed, 2 bad usage\n";
}

inline ParsedQueueOptions parse_queue_options(const std::vector<std::string>& args,
                                              const std::vector<std::string_view>& known_queues) {
  namespace d = cp::bench::detail;
  QueueCompareOptions o;
  auto fail = [](std::string m) { return ParsedQueueOptions{std::nullopt, std::move(m)}; };
  std::string scenario_arg = "all", queue_arg = "all";
  auto count = [](const std::string& v, std::uint64_t lo, std::uint64_t hi)
      -> std::optional<std::uint64_t> {
    const auto n = d::parse_unsigned(v);
    if (!n || *n < lo || *n > hi) return std::nullopt;
    return n;
  };

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::optional<std::string> value;
    if (const auto eq = name.find('='); name.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (name == "--list" || name == "--help" || name == "-h") {
      if (value) return fail("option " + name + " takes no value");
      (name == "--list" ? o.list : o.help) = true;
      continue;
    }
    static const std::vector<std::string> valued{"--scenario", "--queues",  "--items",
                                                 "--round-trips", "--seconds", "--capacity",
                                                 "--repetitions", "--batch",  "--csv"};
    if (std::find(valued.begin(), valued.end(), name) == valued.end())
      return fail("unknown option '" + args[i] + "' (see --help)");
    if (!value) {
      if (i + 1 >= args.size()) return fail("option " + name + " needs a value");
      value = args[++i];
    }
    const std::string& v = *value;
    if (name == "--scenario") {
      scenario_arg = v;
    } else if (name == "--queues") {
      queue_arg = v;
    } else if (name == "--items") {
      const auto n = count(v, 1, std::uint64_t{1} << 40);
      if (!n) return fail("--items: '" + v + "' is not a count in 1..2^40");
      o.items = *n;
    } else if (name == "--round-trips") {
      const auto n = count(v, 1, std::uint64_t{1} << 32);
      if (!n) return fail("--round-trips: '" + v + "' is not a count in 1..2^32");
      o.round_trips = *n;
    } else if (name == "--seconds") {
      const auto s = d::parse_double(v);
      if (!s || *s <= 0 || *s > 3600)
        return fail("--seconds: '" + v + "' is not a duration in (0, 3600] seconds");
      o.seconds = *s;
    } else if (name == "--capacity") {
      const auto n = count(v, 2, std::uint64_t{1} << 20);
      if (!n || !std::has_single_bit(*n))
        return fail("--capacity: '" + v + "' is not a power of two in 2..1048576");
      o.capacity = static_cast<std::size_t>(*n);
    } else if (name == "--repetitions") {
      const auto n = count(v, 1, 100);
      if (!n) return fail("--repetitions: '" + v + "' is not a count in 1..100");
      o.repetitions = static_cast<unsigned>(*n);
    } else if (name == "--batch") {
      const auto n = count(v, 1, 64);
      if (!n) return fail("--batch: '" + v + "' is not a count in 1..64");
      o.batch = static_cast<std::size_t>(*n);
    } else {  // --csv
      if (v.empty()) return fail("--csv: the path is empty");
      o.csv_path = v;
    }
  }

  if (scenario_arg == "all") {
    o.scenarios = scenario_names();
  } else {
    const auto wanted = d::split_commas(scenario_arg);
    for (const auto& s : wanted)
      if (std::find(scenario_names().begin(), scenario_names().end(), s) ==
          scenario_names().end())
        return fail("--scenario: unknown scenario '" + s + "' (known: 1p1c|2p1c|rtt|all)");
    for (const auto& s : scenario_names())
      if (std::find(wanted.begin(), wanted.end(), s) != wanted.end()) o.scenarios.push_back(s);
  }
  if (queue_arg != "all") {
    for (const auto& q : d::split_commas(queue_arg)) {
      if (std::find(known_queues.begin(), known_queues.end(), q) == known_queues.end()) {
        std::string names;
        for (const auto& k : known_queues) names += (names.empty() ? "" : ",") + std::string(k);
        return fail("--queues: unknown queue '" + q + "' (known: " + names + ")");
      }
      if (std::find(o.queues.begin(), o.queues.end(), q) == o.queues.end())
        o.queues.push_back(q);
    }
  }
  return {std::move(o), ""};
}

}  // namespace cp::bench::queues
