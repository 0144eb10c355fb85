// options.hpp: the command line of `compare`, parsed and validated without running anything.
//
//   Catalogue             - the workloads and their design names (what the options may name).
//   CompareOptions        - what to run.
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
#include <vector>

namespace cp::bench {

struct CatalogueEntry {
  std::string workload;              // e.g. "counter"
  std::vector<std::string> designs;  // traits.name of each registered design
};
using Catalogue = std::vector<CatalogueEntry>;

// Per-row duration of the default run. With the rows registered at the time of writing
// (counter 17, cache 2 x 13, order 13, plus warm-up and setup) the full default run stays
// under ~2.5 minutes on 2 cores; see bench/README.md.
inline constexpr double kDefaultSeconds = 1.0;
inline constexpr std::uint64_t kDefaultSeed = 20261122;
inline constexpr unsigned kMaxThreads = 1024;

struct CompareOptions {
  std::vector<std::string> workloads;  // selected, in catalogue order; never empty after parsing
  std::vector<std::string> designs;    // empty: every design
  std::vector<unsigned> threads{1, 2, 4, 8};
  double seconds = kDefaultSeconds;
  std::uint64_t seed = kDefaultSeed;
  std::string csv_path;                // empty: no CSV
  bool list = false;
  bool help = false;

  bool wants_design(std::string_view name) const {
    return designs.empty() || std::find(designs.begin(), designs.end(), name) != designs.end();
  }
};

struct ParsedOptions {
  std::optional<CompareOptions> options;  // set on success
  std::string error;                      // one line, set on failure
};

inline std::string compare_usage() {
  return "usage: compare [options]\n"
         "  --workload counter|cache|order|all   workloads to run (default all; comma list ok)\n"
         "  --design NAME[,NAME...]|all          designs by traits.name (default all)\n"
         "  --threads N[,N...]                   client thread counts (default 1,2,4,8);\n"
         "                                       a design that is not thread-safe runs at 1 only\n"
         "  --seconds S                          measured seconds per row (default 1)  \n"
         "  --seed N                             seed of every operation stream (default 20261122)\n"
         "  --csv PATH                           also write one CSV line per row to PATH\n"
         "  --list                               list the designs of each workload and exit\n"
         "  --help                               this text\n"
         "exit status: 0 all rows passed their correctness check, 1 some row failed, 2 bad usage\n";
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

}  // namespace detail

// parse_compare_options: args are argv[1..]. Accepts "--opt value" and "--opt=value"; a repeated
// option's last value wins. Names are checked against the catalogue: an unknown workload, or a
// design that none of the selected workloads has, is an error.
inline ParsedOptions parse_compare_options(const std::vector<std::string>& args,
                                           const Catalogue& catalogue) {
  CompareOptions o;
  auto fail = [](std::string message) { return ParsedOptions{std::nullopt, std::move(message)}; };
  std::string workload_arg = "all", design_arg = "all";

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::optional<std::string> value;
    if (const auto eq = name.find('='); name.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const bool is_flag = name == "--list" || name == "--help" || name == "-h";
    if (is_flag) {
      if (value) return fail("option " + name + " takes no value");
      (name == "--list" ? o.list : o.help) = true;
      continue;
    }
    if (name != "--workload" && name != "--design" && name != "--threads" &&
        name != "--seconds" && name != "--seed" && name != "--csv")
      return fail("unknown option '" + args[i] + "' (see --help)");
    if (!value) {
      if (i + 1 >= args.size()) return fail("option " + name + " needs a value");
      value = args[++i];
    }
    const std::string& v = *value;
    if (name == "--workload") {
      workload_arg = v;
    } else if (name == "--design") {
      design_arg = v;
    } else if (name == "--threads") {
      o.threads.clear();
      for (const auto& part : detail::split_commas(v)) {
        const auto n = detail::parse_unsigned(part);
        if (!n || *n == 0 || *n > kMaxThreads)
          return fail("--threads: '" + part + "' is not a thread count in 1.." +
                      std::to_string(kMaxThreads));
        if (std::find(o.threads.begin(), o.threads.end(), *n) == o.threads.end())
          o.threads.push_back(static_cast<unsigned>(*n));
      }
    } else if (name == "--seconds") {
      const auto s = detail::parse_double(v);
      if (!s || *s <= 0 || *s > 3600)
        return fail("--seconds: '" + v + "' is not a duration in (0, 3600] seconds");
      o.seconds = *s;
    } else if (name == "--seed") {
      const auto s = detail::parse_unsigned(v);
      if (!s) return fail("--seed: '" + v + "' is not an unsigned 64-bit integer");
      o.seed = *s;
    } else {  // --csv
      if (v.empty()) return fail("--csv: the path is empty");
      o.csv_path = v;
    }
  }

  // Workloads, kept in catalogue order.
  if (workload_arg == "all") {
    for (const auto& entry : catalogue) o.workloads.push_back(entry.workload);
  } else {
    const auto wanted = detail::split_commas(workload_arg);
    for (const auto& w : wanted) {
      const bool known = std::any_of(catalogue.begin(), catalogue.end(),
                                     [&](const CatalogueEntry& e) { return e.workload == w; });
      if (!known) {
        std::string names;
        for (const auto& e : catalogue) names += (names.empty() ? "" : "|") + e.workload;
        return fail("--workload: unknown workload '" + w + "' (known: " + names + "|all)");
      }
    }
    for (const auto& entry : catalogue)
      if (std::find(wanted.begin(), wanted.end(), entry.workload) != wanted.end())
        o.workloads.push_back(entry.workload);
  }

  // Designs: each must belong to at least one selected workload.
  if (design_arg != "all") {
    for (const auto& d : detail::split_commas(design_arg)) {
      bool known = false;
      for (const auto& entry : catalogue)
        if (std::find(o.workloads.begin(), o.workloads.end(), entry.workload) !=
                o.workloads.end() &&
            std::find(entry.designs.begin(), entry.designs.end(), d) != entry.designs.end())
          known = true;
      if (!known)
        return fail("--design: no selected workload has a design named '" + d +
                    "' (see --list)");
      if (std::find(o.designs.begin(), o.designs.end(), d) == o.designs.end())
        o.designs.push_back(d);
    }
  }
  return {std::move(o), ""};
}

}  // namespace cp::bench
