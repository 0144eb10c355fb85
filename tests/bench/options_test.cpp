// options_test.cpp: the `compare` command line, good and bad.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "bench/harness/options.hpp"

namespace {

using cp::bench::CompareOptions;
using cp::bench::parse_compare_options;

const cp::bench::Catalogue kCatalogue = {
    {"counter", {"reference", "mutex", "rwlock"}},
    {"cache", {"reference", "lru-mutex"}},
    {"order", {"reference", "single-writer"}},
};

CompareOptions parse_ok(const std::vector<std::string>& args) {
  const auto parsed = parse_compare_options(args, kCatalogue);
  INFO("error: " << parsed.error);
  REQUIRE(parsed.options.has_value());
  REQUIRE(parsed.error.empty());
  return *parsed.options;
}

std::string parse_error(const std::vector<std::string>& args) {
  const auto parsed = parse_compare_options(args, kCatalogue);
  REQUIRE_FALSE(parsed.options.has_value());
  REQUIRE_FALSE(parsed.error.empty());
  REQUIRE(parsed.error.find('\n') == std::string::npos);  // one line
  return parsed.error;
}

}  // namespace

TEST_CASE("options: defaults select everything", "[unit]") {
  const auto o = parse_ok({});
  REQUIRE(o.workloads == std::vector<std::string>{"counter", "cache", "order"});
  REQUIRE(o.designs.empty());
  REQUIRE(o.wants_design("anything"));
  REQUIRE(o.threads == std::vector<unsigned>{1, 2, 4, 8});
  REQUIRE(o.seconds == cp::bench::kDefaultSeconds);
  REQUIRE(o.seed == cp::bench::kDefaultSeed);
  REQUIRE(o.csv_path.empty());
  REQUIRE_FALSE(o.list);
  REQUIRE_FALSE(o.help);
}

TEST_CASE("options: workloads", "[unit]") {
  REQUIRE(parse_ok({"--workload", "counter"}).workloads == std::vector<std::string>{"counter"});
  REQUIRE(parse_ok({"--workload=all"}).workloads.size() == 3);
  // Catalogue order, duplicates collapse.
  REQUIRE(parse_ok({"--workload", "order,counter,order"}).workloads ==
          std::vector<std::string>{"counter", "order"});
  REQUIRE(parse_error({"--workload", "queue"}).find("unknown workload 'queue'") !=
          std::string::npos);
  parse_error({"--workload", ""});
  parse_error({"--workload", "counter,"});
}

TEST_CASE("options: designs", "[unit]") {
  auto o = parse_ok({"--design", "mutex,reference"});
  REQUIRE(o.designs == std::vector<std::string>{"mutex", "reference"});
  REQUIRE(o.wants_design("mutex"));
  REQUIRE_FALSE(o.wants_design("rwlock"));
  REQUIRE(parse_ok({"--design", "all"}).designs.empty());
  // A design of one selected workload is enough when several are selected.
  REQUIRE(parse_ok({"--design", "lru-mutex"}).designs == std::vector<std::string>{"lru-mutex"});
  parse_error({"--design", "nonesuch"});
  // It must belong to a *selected* workload.
  parse_error({"--workload", "counter", "--design", "lru-mutex"});
  parse_error({"--design", ""});
}

TEST_CASE("options: thread counts", "[unit]") {
  REQUIRE(parse_ok({"--threads", "1,3"}).threads == std::vector<unsigned>{1, 3});
  REQUIRE(parse_ok({"--threads=16"}).threads == std::vector<unsigned>{16});
  REQUIRE(parse_ok({"--threads", "2,2,1"}).threads == std::vector<unsigned>{2, 1});
  for (const char* bad : {"0", "1,0", "abc", "", "1,,2", "-1", "+2", "2x", " 2", "1.5", "99999",
                          "99999999999999999999999"})
    parse_error({"--threads", bad});
}

TEST_CASE("options: duration and seed", "[unit]") {
  REQUIRE(parse_ok({"--seconds", "0.25"}).seconds == 0.25);
  REQUIRE(parse_ok({"--seconds=1e-3"}).seconds == 0.001);
  for (const char* bad : {"0", "-1", "abc", "", "nan", "inf", "1s", "1e999", "4000"})
    parse_error({"--seconds", bad});
  REQUIRE(parse_ok({"--seed", "42"}).seed == 42);
  REQUIRE(parse_ok({"--seed", "0x10"}).seed == 16);
  REQUIRE(parse_ok({"--seed", "18446744073709551615"}).seed == 18446744073709551615ULL);
  for (const char* bad : {"-5", "abc", "", "18446744073709551616", "1.5"})
    parse_error({"--seed", bad});
}

TEST_CASE("options: flags, csv, unknown and incomplete options", "[unit]") {
  REQUIRE(parse_ok({"--list"}).list);
  REQUIRE(parse_ok({"--help"}).help);
  REQUIRE(parse_ok({"-h"}).help);
  REQUIRE(parse_ok({"--csv", "out.csv"}).csv_path == "out.csv");
  REQUIRE(parse_ok({"--seconds", "2", "--seconds", "3"}).seconds == 3);  // last wins
  parse_error({"--list=yes"});
  parse_error({"--csv="});
  REQUIRE(parse_error({"--frobnicate"}).find("unknown option") != std::string::npos);
  parse_error({"counter"});  // positional arguments are not accepted
  parse_error({"-t", "2"});
  REQUIRE(parse_error({"--seconds"}).find("needs a value") != std::string::npos);
  parse_error({"--threads", "2", "--workload"});
}

TEST_CASE("options: usage names every option", "[unit]") {
  const std::string usage = cp::bench::compare_usage();
  for (const char* option :
       {"--workload", "--design", "--threads", "--seconds", "--seed", "--csv", "--list", "--help"})
    REQUIRE(usage.find(option) != std::string::npos);
}
