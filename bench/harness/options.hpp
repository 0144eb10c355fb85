// options.hpp: the command line of `compare`, parsed and validated without running anything.
//
//   Catalogue             - the workloads and their design names (what the options may name).
//   Profile               - quick | default | full: a preset of the settings below.
//   ProfileSettings       - what a profile sets (thread counts, loads, rates, seconds).
//   default_thread_counts - the thread sweep scaled to the machine's cores.
//   CompareOptions        - what to run (a profile's settings with explicit flags on top).
//   parse_compare_options - argv -> CompareOptions, or a one-line error (the caller exits 2).
//   compare_usage         - the --help text.
//
// Kept apart from compare.cpp so that tests/bench/options_test.cpp can check every bad input.
#pragma once

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench/harness/knobs.hpp"

namespace cp::bench {

struct CatalogueEntry {
  std::string workload;              // e.g. "counter"
  std::vector<std::string> designs;  // traits.name of each registered design
};
using Catalogue = std::vector<CatalogueEntry>;

inline constexpr std::uint64_t kDefaultSeed = 20261122;
inline constexpr unsigned kMaxThreads = 1024;
inline constexpr double kMaxRatePercent = 1000;

// Measured seconds per repetition (closed rows) or per row (open rows) of each profile, and
// how many interleaved repetitions make a closed row. The default profile's values keep the
// default run (build included) under 3 minutes on 2 cores with room for three more families;
// bench/README.md has the timings and how they were chosen.
inline constexpr double kQuickSeconds = 0.05;
inline constexpr double kDefaultSeconds = 0.05;
inline constexpr double kFullSeconds = 0.5;
inline constexpr unsigned kQuickRepeats = 3;
inline constexpr unsigned kDefaultRepeats = 5;
inline constexpr unsigned kFullRepeats = 7;
inline constexpr unsigned kMaxRepeats = 1000;

enum class Profile { quick, standard, full };  // standard prints as "default"

constexpr std::string_view to_string(Profile p) {
  return p == Profile::quick ? "quick" : p == Profile::standard ? "default" : "full";
}

enum class LoadSelection { closed, open, both };

constexpr std::string_view to_string(LoadSelection l) {
  return l == LoadSelection::closed ? "closed" : l == LoadSelection::open ? "open" : "both";
}

// default_thread_counts: 1, 2, 4, 8 on 1 or 2 cores; on N cores 1, N/2, N, 2N, 4N (each once).
inline std::vector<unsigned> default_thread_counts(unsigned cores) {
  if (cores <= 2) return {1, 2, 4, 8};
  std::vector<unsigned> counts;
  for (unsigned n : {1u, cores / 2, cores, 2 * cores, 4 * cores})
    if (n >= 1 && n <= kMaxThreads && std::find(counts.begin(), counts.end(), n) == counts.end())
      counts.push_back(n);
  return counts;
}

// default_profile_thread_counts: 1, C and 4C on C cores (each once): one client, as many as
// cores, and oversubscribed 4x. Fewer counts than default_thread_counts, so that the default
// profile fits its time budget with every family (bench/README.md, "Why the default profile").
inline std::vector<unsigned> default_profile_thread_counts(unsigned cores) {
  const unsigned c = std::max(1u, cores);
  std::vector<unsigned> counts{1};
  for (unsigned n : {c, 4 * c})
    if (n <= kMaxThreads && std::find(counts.begin(), counts.end(), n) == counts.end())
      counts.push_back(n);
  return counts;
}

// closest_to: the count in `counts` nearest to `target` (the smaller one on a tie).
inline unsigned closest_to(const std::vector<unsigned>& counts, unsigned target) {
  unsigned best = counts.front();
  for (unsigned n : counts) {
    const auto d = [&](unsigned x) { return x > target ? x - target : target - x; };
    if (d(n) < d(best) || (d(n) == d(best) && n < best)) best = n;
  }
  return best;
}

struct ProfileSettings {
  std::vector<unsigned> threads;  // closed-loop sweep
  bool open_at_every_thread_count = false;  // else: one count, the one closest to the cores
  LoadSelection load = LoadSelection::both;
  std::vector<double> rates;      // percent of the closed-loop throughput
  double seconds = kDefaultSeconds;
  unsigned repeats = kDefaultRepeats;  // interleaved repetitions of each closed row
  // Knob values the profile starts from (explicit --set on top). quick shrinks the cache:
  // designs that answer through an owner thread pay ~10 us a call for the 50,000-entry prefill
  // and the 100,000-key verify, seconds per row, which a smoke run cannot afford.
  std::vector<std::string> knobs;
};

// profile_settings: quick = a smoke run (2 thread counts, one open rate, 0.05 s rows, a 10x
// smaller cache);
// default = 1, C and 4C threads closed + 10%, 50% and 90% open at C threads; the cache's
// read-heavy mix only, 20,000 keys and 10,000 entries (the owner-thread designs' prefill and
// check go through one hand-off per key, a second per row at 100,000 keys);
// full = 1..8 threads (the default list on more than 2 cores), every rate at every count, 1 s.
inline ProfileSettings profile_settings(Profile p, unsigned cores) {
  const unsigned n = std::max(1u, cores);
  switch (p) {
    case Profile::quick:
      return {n == 1 ? std::vector<unsigned>{1, 2} : std::vector<unsigned>{1, n}, false,
              LoadSelection::both, {50}, kQuickSeconds, kQuickRepeats,
              {"cache.key_space=10000", "cache.capacity=5000"}};
    case Profile::standard:
      return {default_profile_thread_counts(n), false, LoadSelection::both, {10, 50, 90},
              kDefaultSeconds, kDefaultRepeats,
              {"cache.mix=read-heavy", "cache.key_space=20000", "cache.capacity=10000"}};
    case Profile::full: {
      std::vector<unsigned> threads = default_thread_counts(n);
      if (n <= 2) threads = {1, 2, 3, 4, 5, 6, 7, 8};
      return {threads, true, LoadSelection::both, {10, 50, 80, 95}, kFullSeconds, kFullRepeats,
              {}};
    }
  }
  return {};
}

struct CompareOptions {
  std::vector<std::string> workloads;  // selected, in catalogue order; never empty after parsing
  std::vector<std::string> designs;    // empty: every design
  Profile profile = Profile::standard;
  unsigned cores = 0;                  // what the thread defaults were scaled to
  std::vector<unsigned> threads;       // closed-loop thread counts (the requested sweep)
  std::vector<unsigned> open_threads;  // open-loop thread counts (empty when load is closed)
  LoadSelection load = LoadSelection::both;
  std::vector<double> rates;           // open loop: percent of the closed-loop throughput
  double seconds = kDefaultSeconds;    // per closed repetition; per open row
  unsigned repeats = kDefaultRepeats;  // interleaved repetitions of each closed row
  std::uint64_t seed = kDefaultSeed;
  std::string open_wait;               // open clients' wait: "" (auto), sleep, spin-tail, spin
  Knobs knobs;
  std::string out_dir;                 // empty: no result files
  std::string csv_path;                // empty: no stand-alone CSV
  bool list = false;
  bool help = false;

  bool wants_design(std::string_view name) const {
    return designs.empty() || std::find(designs.begin(), designs.end(), name) != designs.end();
  }
  bool wants_closed() const { return load != LoadSelection::open; }
  bool wants_open() const { return load != LoadSelection::closed; }

  // closed_thread_counts: where closed rows run: the sweep (unless load is open only) plus
  // every open-loop count (an open row's rate is a percent of the closed row beside it).
  std::vector<unsigned> closed_thread_counts() const {
    std::vector<unsigned> counts = wants_closed() ? threads : std::vector<unsigned>{};
    if (wants_open())
      for (unsigned n : open_threads)
        if (std::find(counts.begin(), counts.end(), n) == counts.end()) counts.push_back(n);
    return counts;
  }
};

struct ParsedOptions {
  std::optional<CompareOptions> options;  // set on success
  std::string error;                      // one line, set on failure
};

// compare_usage(in_use): the knobs' defaults are those of in_use's profile (with any --set on
// top), named as such.
inline std::string compare_usage(const CompareOptions& in_use = {}) {
  std::string text =
      "usage: compare [options]\n"
      "  --profile quick|default|full   preset of the settings below (default: default)\n"
      "      quick    smoke run: threads 1,C; closed (3 x 0.05 s) + open 50%; cache\n"
      "               key_space 10000, capacity 5000 (< 30 s)\n"
      "      default  threads 1,C,4C (C = cores); closed at each, 5 x 0.05 s; open at 10,\n"
      "               50, 90% at C threads, 0.05 s; cache: read-heavy only, key_space 20000,\n"
      "               capacity 10000 (about 3 min with the build)\n"
      "      full     threads 1..8 (more cores: 1,C/2,C,2C,4C); closed 7 x 0.5 s; open at\n"
      "               every count at 10,50,80,95%, 0.5 s; both cache mixes, key_space\n"
      "               100000, capacity 50000 (long)\n"
      "  --workload counter|cache|order|all   workloads to run (default all; comma list ok)\n"
      "  --design NAME[,NAME...]|all          designs by traits.name (default all); '-' may\n"
      "                                       stand for a space (work-stealing-batch)\n"
      "  --threads N[,N...]                   closed-loop client thread counts; a design that\n"
      "                                       is not thread-safe runs at 1 only\n"
      "  --load closed|open|both              load models (default both). closed: saturation,\n"
      "                                       each client issues its next op when the last\n"
      "                                       returns; open: a fixed offered rate, latency from\n"
      "                                       each op's intended start (coordinated omission\n"
      "                                       corrected). An open row always gets a closed row\n"
      "                                       at its thread count first: its 100%\n"
      "  --rates P[,P...]                     open-loop offered rates, percent of that closed\n"
      "                                       row's throughput (0 < P <= 1000)\n"
      "  --open-threads N[,N...]|all          open-loop thread counts (all = --threads)\n"
      "  --seconds S                          measured seconds per closed repetition and\n"
      "                                       per open row\n"
      "  --repeats N                          repetitions of each closed row, interleaved\n"
      "                                       across designs (round-robin); the row is their\n"
      "                                       median with its min-max spread (1..1000)\n"
      "  --seed N                             seed of every operation stream (default 20261122)\n"
      "  --open-wait auto|sleep|spin-tail|spin how open-loop clients wait for each start (default\n"
      "                                       auto: spin-tail when clients + the design's threads\n"
      "                                       fit the cores, else sleep; spin holds the core)\n"
      "  --set WORKLOAD.KNOB=VALUE[,...]      a workload parameter (repeatable); knobs:\n";
  for (const auto& spec : knob_specs()) {
    std::string line = "      " + std::string(spec.name);
    line.resize(std::max<std::size_t>(line.size() + 1, 22), ' ');
    text += line + std::string(spec.help) + " (" + std::string(to_string(in_use.profile)) +
            " profile: " + spec.get(in_use.knobs) + ")\n";
  }
  text +=
      "  --out DIR                            write rows.csv, percentiles.csv, results.json and\n"
      "                                       summary.txt into DIR (created if missing)\n"
      "  --csv PATH                           also write the rows.csv table to PATH\n"
      "  --list                               list the designs of each workload and exit\n"
      "  --help                               this text\n"
      "Explicit options override the profile's values. Every knob's value is printed in the\n"
      "header and recorded in the result files.\n"
      "exit status: 0 all rows passed their correctness check, 1 some row failed, 2 bad usage\n";
  return text;
}

namespace detail {

inline std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> parts;
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = text.find(',', begin);
    parts.emplace_back(text.substr(begin, comma == std::string_view::npos ? text.npos
                                                                          : comma - begin));
    if (comma == std::string_view::npos) break;
    begin = comma + 1;
  }
  return parts;
}

// Whole-string unsigned decimal (or 0x hex); rejects signs, blanks and trailing text.
inline std::optional<std::uint64_t> parse_unsigned(const std::string& text) {
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])))) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text.c_str(), &end, 0);
  if (errno == ERANGE || end != text.c_str() + text.size()) return std::nullopt;
  return static_cast<std::uint64_t>(value);
}

inline std::optional<double> parse_double(const std::string& text) {
  if (text.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (errno == ERANGE || end != text.c_str() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

// A comma list of thread counts in 1..kMaxThreads, duplicates dropped; or an error.
inline std::optional<std::vector<unsigned>> parse_thread_list(const std::string& v,
                                                              std::string& error,
                                                              std::string_view option) {
  std::vector<unsigned> counts;
  for (const auto& part : split_commas(v)) {
    const auto n = parse_unsigned(part);
    if (!n || *n == 0 || *n > kMaxThreads) {
      error = std::string(option) + ": '" + part + "' is not a thread count in 1.." +
              std::to_string(kMaxThreads);
      return std::nullopt;
    }
    if (std::find(counts.begin(), counts.end(), *n) == counts.end())
      counts.push_back(static_cast<unsigned>(*n));
  }
  return counts;
}

// same_design_name: `arg` names `design` exactly, or with '-' for each space (so that
// "work-stealing-batch" needs no quoting on a command line).
inline bool same_design_name(std::string_view design, std::string_view arg) {
  if (design.size() != arg.size()) return false;
  for (std::size_t i = 0; i < design.size(); ++i)
    if (design[i] != arg[i] && !(design[i] == ' ' && arg[i] == '-')) return false;
  return true;
}

// select_designs: o.designs from --design's value ("all": empty); each name must belong to at
// least one selected workload. Returns the error, if any.
inline std::optional<std::string> select_designs(const std::string& design_arg,
                                                 const Catalogue& catalogue, CompareOptions& o) {
  if (design_arg == "all") return std::nullopt;
  for (const auto& d : split_commas(design_arg)) {
    std::optional<std::string> known;
    for (const auto& entry : catalogue) {
      if (std::find(o.workloads.begin(), o.workloads.end(), entry.workload) == o.workloads.end())
        continue;
      for (const auto& name : entry.designs)
        if (same_design_name(name, d)) known = name;
    }
    if (!known) return "--design: no selected workload has a design named '" + d + "' (see --list)";
    if (std::find(o.designs.begin(), o.designs.end(), *known) == o.designs.end())
      o.designs.push_back(*known);
  }
  return std::nullopt;
}

// What the command line set explicitly, before the profile's values fill in the rest.
struct ExplicitOptions {
  std::string workload_arg = "all", design_arg = "all";
  std::optional<std::vector<unsigned>> threads, open_threads;
  bool open_threads_all = false;
  std::optional<LoadSelection> load;
  std::optional<std::vector<double>> rates;
  std::optional<double> seconds;
  std::optional<unsigned> repeats;
  std::vector<std::string> knob_assignments;
};

// One option of the command line: its name, and its value for a valued option.
struct OptionToken {
  std::string name;
  std::optional<std::string> value;
};

inline bool is_flag_option(const std::string& name) {
  return name == "--list" || name == "--help" || name == "-h";
}

inline bool is_valued_option(const std::string& name) {
  static const char* const kValued[] = {"--profile", "--workload", "--design", "--threads",
                                        "--load",    "--rates",    "--open-threads",
                                        "--seconds", "--repeats",  "--seed",     "--set",   "--open-wait",
                                        "--out",     "--csv"};
  return std::find(std::begin(kValued), std::end(kValued), name) != std::end(kValued);
}

// next_option: the option at args[i] ("--opt value" or "--opt=value"), advancing i past its
// value; or the error.
inline std::optional<OptionToken> next_option(const std::vector<std::string>& args,
                                              std::size_t& i, std::string& error) {
  OptionToken t{args[i], std::nullopt};
  if (const auto eq = t.name.find('='); t.name.rfind("--", 0) == 0 && eq != std::string::npos) {
    t.value = t.name.substr(eq + 1);
    t.name.resize(eq);
  }
  if (is_flag_option(t.name)) {
    if (t.value) error = "option " + t.name + " takes no value";
    return error.empty() ? std::optional(t) : std::nullopt;
  }
  if (!is_valued_option(t.name)) {
    error = "unknown option '" + args[i] + "' (see --help)";
    return std::nullopt;
  }
  if (!t.value) {
    if (i + 1 >= args.size()) {
      error = "option " + t.name + " needs a value";
      return std::nullopt;
    }
    t.value = args[++i];
  }
  return t;
}

inline std::optional<std::vector<double>> parse_rates(const std::string& v, std::string& error) {
  std::vector<double> rates;
  for (const auto& part : split_commas(v)) {
    const auto p = parse_double(part);
    if (!p || *p <= 0 || *p > kMaxRatePercent) {
      error = "--rates: '" + part + "' is not a percent in (0, 1000]";
      return std::nullopt;
    }
    if (std::find(rates.begin(), rates.end(), *p) == rates.end()) rates.push_back(*p);
  }
  return rates;
}

// apply_option: one option into `o` (what needs no profile) or `x` (what the profile's values
// yield to). Returns the error, if any.
inline std::optional<std::string> apply_option(const OptionToken& t, CompareOptions& o,
                                               ExplicitOptions& x) {
  const std::string& name = t.name;
  if (is_flag_option(name)) {
    (name == "--list" ? o.list : o.help) = true;
    return std::nullopt;
  }
  const std::string& v = *t.value;
  std::string error;
  if (name == "--profile") {
    if (v == "quick") o.profile = Profile::quick;
    else if (v == "default") o.profile = Profile::standard;
    else if (v == "full") o.profile = Profile::full;
    else return "--profile: '" + v + "' is not quick, default or full";
  } else if (name == "--workload") {
    x.workload_arg = v;
  } else if (name == "--design") {
    x.design_arg = v;
  } else if (name == "--threads") {
    x.threads = parse_thread_list(v, error, "--threads");
  } else if (name == "--open-threads") {
    x.open_threads_all = v == "all";
    if (!x.open_threads_all) x.open_threads = parse_thread_list(v, error, "--open-threads");
  } else if (name == "--load") {
    if (v == "closed") x.load = LoadSelection::closed;
    else if (v == "open") x.load = LoadSelection::open;
    else if (v == "both") x.load = LoadSelection::both;
    else return "--load: '" + v + "' is not closed, open or both";
  } else if (name == "--rates") {
    x.rates = parse_rates(v, error);
  } else if (name == "--seconds") {
    const auto s = parse_double(v);
    if (!s || *s <= 0 || *s > 3600)
      return "--seconds: '" + v + "' is not a duration in (0, 3600] seconds";
    x.seconds = *s;
  } else if (name == "--repeats") {
    const auto n = parse_unsigned(v);
    if (!n || *n == 0 || *n > kMaxRepeats)
      return "--repeats: '" + v + "' is not a count in 1.." + std::to_string(kMaxRepeats);
    x.repeats = static_cast<unsigned>(*n);
  } else if (name == "--seed") {
    const auto s = parse_unsigned(v);
    if (!s) return "--seed: '" + v + "' is not an unsigned 64-bit integer";
    o.seed = *s;
  } else if (name == "--open-wait") {
    if (v == "auto") o.open_wait.clear();
    else if (v == "sleep" || v == "spin-tail" || v == "spin") o.open_wait = v;
    else return "--open-wait: '" + v + "' is not auto, sleep, spin-tail or spin";
  } else if (name == "--set") {
    for (const auto& part : split_commas(v)) x.knob_assignments.push_back(part);
  } else if (name == "--out") {
    if (v.empty()) return std::string("--out: the directory is empty");
    o.out_dir = v;
  } else {  // --csv
    if (v.empty()) return std::string("--csv: the path is empty");
    o.csv_path = v;
  }
  if (!error.empty()) return error;
  return std::nullopt;
}

// apply_profile: the profile's settings, the explicit options on top. Returns the error, if any.
inline std::optional<std::string> apply_profile(const ExplicitOptions& x, CompareOptions& o) {
  const ProfileSettings preset = profile_settings(o.profile, o.cores);
  o.threads = x.threads ? *x.threads : preset.threads;
  o.load = x.load ? *x.load : preset.load;
  o.rates = x.rates ? *x.rates : preset.rates;
  o.seconds = x.seconds ? *x.seconds : preset.seconds;
  o.repeats = x.repeats ? *x.repeats : preset.repeats;
  if (o.wants_open()) {
    if (x.open_threads) o.open_threads = *x.open_threads;
    else if (x.open_threads_all || preset.open_at_every_thread_count ||
             o.load == LoadSelection::open)
      o.open_threads = o.threads;
    else
      o.open_threads = {closest_to(o.threads, o.cores)};
  }
  for (const auto& assignment : preset.knobs)
    if (auto error = apply_knob(o.knobs, assignment)) return "profile: " + *error;
  for (const auto& assignment : x.knob_assignments)
    if (auto error = apply_knob(o.knobs, assignment)) return *error;
  return std::nullopt;
}

// select_workloads: o.workloads from --workload's value, in catalogue order ("all": every one).
// Returns the error, if any.
inline std::optional<std::string> select_workloads(const std::string& workload_arg,
                                                   const Catalogue& catalogue,
                                                   CompareOptions& o) {
  if (workload_arg == "all") {
    for (const auto& entry : catalogue) o.workloads.push_back(entry.workload);
    return std::nullopt;
  }
  const auto wanted = split_commas(workload_arg);
  for (const auto& w : wanted) {
    const bool known = std::any_of(catalogue.begin(), catalogue.end(),
                                   [&](const CatalogueEntry& e) { return e.workload == w; });
    if (!known) {
      std::string names;
      for (const auto& e : catalogue) names += (names.empty() ? "" : "|") + e.workload;
      return "--workload: unknown workload '" + w + "' (known: " + names + "|all)";
    }
  }
  for (const auto& entry : catalogue)
    if (std::find(wanted.begin(), wanted.end(), entry.workload) != wanted.end())
      o.workloads.push_back(entry.workload);
  return std::nullopt;
}

}  // namespace detail

// parse_compare_options: args are argv[1..]. Accepts "--opt value" and "--opt=value"; a repeated
// option's last value wins (--set accumulates). Names are checked against the catalogue: an
// unknown workload, or a design that none of the selected workloads has, is an error. `cores`
// scales the default thread counts (the machine's, unless a test passes another).
// Steps: read each option -> the profile, explicit options on top -> workloads -> designs.
inline ParsedOptions parse_compare_options(const std::vector<std::string>& args,
                                           const Catalogue& catalogue,
                                           unsigned cores = std::thread::hardware_concurrency()) {
  CompareOptions o;
  o.cores = std::max(1u, cores);
  auto fail = [](std::string message) { return ParsedOptions{std::nullopt, std::move(message)}; };
  detail::ExplicitOptions given;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string error;
    const auto token = detail::next_option(args, i, error);
    if (!token) return fail(error);
    if (auto e = detail::apply_option(*token, o, given)) return fail(*e);
  }
  if (auto e = detail::apply_profile(given, o)) return fail(*e);
  if (auto e = detail::select_workloads(given.workload_arg, catalogue, o)) return fail(*e);
  if (auto e = detail::select_designs(given.design_arg, catalogue, o)) return fail(*e);
  return {std::move(o), ""};
}

}  // namespace cp::bench
