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

// Thread defaults scale with the cores; the tests pin them to the 2-core machines here.
constexpr unsigned kCores = 2;

CompareOptions parse_ok(const std::vector<std::string>& args, unsigned cores = kCores) {
  const auto parsed = parse_compare_options(args, kCatalogue, cores);
  INFO("error: " << parsed.error);
  REQUIRE(parsed.options.has_value());
  REQUIRE(parsed.error.empty());
  return *parsed.options;
}

std::string parse_error(const std::vector<std::string>& args) {
  const auto parsed = parse_compare_options(args, kCatalogue, kCores);
  INFO("args: " << [&] {
    std::string all;
    for (const auto& a : args) all += a + " ";
    return all;
  }());
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
  REQUIRE(o.profile == cp::bench::Profile::standard);
  REQUIRE(o.threads == std::vector<unsigned>{1, 2, 8});  // 1, the cores, 4x the cores
  REQUIRE(o.load == cp::bench::LoadSelection::both);
  REQUIRE(o.rates == std::vector<double>{10, 50, 90});
  REQUIRE(o.open_threads == std::vector<unsigned>{2});  // the count closest to the cores
  REQUIRE(o.closed_thread_counts() == std::vector<unsigned>{1, 2, 8});
  // The default profile's cache: the read-heavy table only, and a smaller key space.
  REQUIRE(o.knobs.cache_mixes == std::vector<cp::CacheMix>{cp::CacheMix::read_heavy});
  REQUIRE(o.knobs.cache.key_space == 20000);
  REQUIRE(o.knobs.cache.capacity == 10000);
  REQUIRE(o.seconds == cp::bench::kDefaultSeconds);
  REQUIRE(o.seed == cp::bench::kDefaultSeed);
  REQUIRE(o.csv_path.empty());
  REQUIRE(o.out_dir.empty());
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

TEST_CASE("options: the open clients' wait", "[unit]") {
  REQUIRE(parse_ok({}).open_wait.empty());  // auto: choose_open_wait decides per row
  REQUIRE(parse_ok({"--open-wait", "auto"}).open_wait.empty());
  for (const char* w : {"sleep", "spin-tail", "spin"})
    REQUIRE(parse_ok({"--open-wait", w}).open_wait == w);
  for (const char* bad : {"", "spin_tail", "busy", "SPIN"}) parse_error({"--open-wait", bad});
}

TEST_CASE("options: repetitions of each closed row", "[unit]") {
  REQUIRE(parse_ok({}).repeats == cp::bench::kDefaultRepeats);
  REQUIRE(parse_ok({"--profile", "quick"}).repeats == cp::bench::kQuickRepeats);
  REQUIRE(parse_ok({"--profile", "full"}).repeats == cp::bench::kFullRepeats);
  REQUIRE(parse_ok({"--repeats", "1"}).repeats == 1);
  REQUIRE(parse_ok({"--repeats=9", "--profile", "quick"}).repeats == 9);  // explicit wins
  for (const char* bad : {"0", "-1", "abc", "", "1.5", "1001"}) parse_error({"--repeats", bad});
}

TEST_CASE("options: default thread counts scale with the cores", "[unit]") {
  using cp::bench::default_thread_counts;
  REQUIRE(default_thread_counts(1) == std::vector<unsigned>{1, 2, 4, 8});
  REQUIRE(default_thread_counts(2) == std::vector<unsigned>{1, 2, 4, 8});
  REQUIRE(default_thread_counts(4) == std::vector<unsigned>{1, 2, 4, 8, 16});
  REQUIRE(default_thread_counts(3) == std::vector<unsigned>{1, 3, 6, 12});
  REQUIRE(default_thread_counts(16) == std::vector<unsigned>{1, 8, 16, 32, 64});
  using cp::bench::default_profile_thread_counts;
  REQUIRE(default_profile_thread_counts(1) == std::vector<unsigned>{1, 4});
  REQUIRE(default_profile_thread_counts(2) == std::vector<unsigned>{1, 2, 8});
  REQUIRE(default_profile_thread_counts(16) == std::vector<unsigned>{1, 16, 64});
  const auto o = parse_ok({}, 16);
  REQUIRE(o.threads == std::vector<unsigned>{1, 16, 64});
  REQUIRE(o.open_threads == std::vector<unsigned>{16});
  REQUIRE(parse_ok({"--profile", "full"}, 16).threads ==
          std::vector<unsigned>{1, 8, 16, 32, 64});
  REQUIRE(cp::bench::closest_to({1, 4, 8}, 6) == 4);  // a tie goes to the smaller
  REQUIRE(cp::bench::closest_to({1, 4, 8}, 7) == 8);
}

TEST_CASE("options: profiles, and explicit options on top of them", "[unit]") {
  const auto quick = parse_ok({"--profile", "quick"});
  REQUIRE(quick.profile == cp::bench::Profile::quick);
  REQUIRE(quick.threads == std::vector<unsigned>{1, 2});
  REQUIRE(quick.rates == std::vector<double>{50});
  REQUIRE(quick.seconds == cp::bench::kQuickSeconds);
  REQUIRE(quick.knobs.cache.key_space == 10000);  // a smaller cache: setup stays short
  REQUIRE(quick.knobs.cache.capacity == 5000);
  REQUIRE(parse_ok({"--set", "cache.key_space=20000", "--profile", "quick"})
              .knobs.cache.key_space == 20000);  // explicit knobs win over the profile's
  REQUIRE(parse_ok({"--profile", "full"}).knobs.cache.key_space == cp::CacheParams{}.key_space);
  const auto full = parse_ok({"--profile=full"});
  REQUIRE(full.knobs.cache_mixes.size() == 2);  // both mixes
  REQUIRE(full.threads == std::vector<unsigned>{1, 2, 3, 4, 5, 6, 7, 8});
  REQUIRE(full.open_threads == full.threads);
  REQUIRE(full.rates == std::vector<double>{10, 50, 80, 95});
  REQUIRE(full.seconds == cp::bench::kFullSeconds);
  REQUIRE(full.load == cp::bench::LoadSelection::both);
  // Explicit values win, wherever they stand.
  const auto mixed = parse_ok({"--seconds", "0.3", "--profile", "full", "--threads", "1,4",
                               "--rates", "20", "--load", "open"});
  REQUIRE(mixed.seconds == 0.3);
  REQUIRE(mixed.threads == std::vector<unsigned>{1, 4});
  REQUIRE(mixed.rates == std::vector<double>{20});
  REQUIRE(mixed.load == cp::bench::LoadSelection::open);
  REQUIRE(mixed.open_threads == std::vector<unsigned>{1, 4});
  for (const char* bad : {"", "fast", "Quick", "default,full"}) parse_error({"--profile", bad});
}

TEST_CASE("options: load models, rates and open-loop thread counts", "[unit]") {
  auto closed = parse_ok({"--load", "closed"});
  REQUIRE_FALSE(closed.wants_open());
  REQUIRE(closed.open_threads.empty());
  REQUIRE(closed.closed_thread_counts() == std::vector<unsigned>{1, 2, 8});
  auto open = parse_ok({"--load", "open", "--threads", "2,4"});
  REQUIRE_FALSE(open.wants_closed());
  REQUIRE(open.open_threads == std::vector<unsigned>{2, 4});
  REQUIRE(open.closed_thread_counts() == std::vector<unsigned>{2, 4});  // the 100% rows
  // An open count outside the closed sweep gets its closed row too.
  auto extra = parse_ok({"--threads", "1,2", "--open-threads", "3"});
  REQUIRE(extra.closed_thread_counts() == std::vector<unsigned>{1, 2, 3});
  REQUIRE(parse_ok({"--open-threads", "all"}).open_threads == std::vector<unsigned>{1, 2, 8});
  REQUIRE(parse_ok({"--rates", "10,50,80,95"}).rates == std::vector<double>{10, 50, 80, 95});
  REQUIRE(parse_ok({"--rates", "2.5,150"}).rates == std::vector<double>{2.5, 150});
  for (const char* bad : {"", "half", "Closed", "closed,open"}) parse_error({"--load", bad});
  for (const char* bad : {"", "0", "-10", "50,", "abc", "1001", "nan", "50%"})
    parse_error({"--rates", bad});
  for (const char* bad : {"", "0", "x", "1,,2", "all,2"}) parse_error({"--open-threads", bad});
}

TEST_CASE("options: workload knobs", "[unit]") {
  auto o = parse_ok({"--set", "counter.keys=4096", "--set",
                     "counter.theta=0,cache.capacity=1000,order.mix=50/40/10", "--set",
                     "cache.mix=write-heavy", "--set", "counter.mix=80/20"});
  REQUIRE(o.knobs.counter.keys == 4096);
  REQUIRE(o.knobs.counter.theta == 0.0);
  REQUIRE(o.knobs.counter.add_percent == 80);
  REQUIRE(o.knobs.counter.get_percent == 20);
  REQUIRE(o.knobs.cache.capacity == 1000);
  REQUIRE(o.knobs.cache_mixes == std::vector<cp::CacheMix>{cp::CacheMix::write_heavy});
  REQUIRE(o.knobs.order.place_percent == 50);
  REQUIRE(o.knobs.order.cancel_percent == 40);
  // Every knob reads back what was set, and has a value by default.
  const auto values = cp::bench::knob_values(o.knobs);
  REQUIRE(values.size() == cp::bench::knob_specs().size());
  auto value_of = [&](const std::string& name) {
    for (const auto& [n, v] : values)
      if (n == name) return v;
    return std::string("?");
  };
  REQUIRE(value_of("counter.keys") == "4096");
  REQUIRE(value_of("counter.mix") == "80/20/0");
  REQUIRE(value_of("cache.mix") == "write-heavy");
  REQUIRE(value_of("order.mix") == "50/40/10");
  REQUIRE(value_of("order.symbols") == "8");
  REQUIRE(value_of("cache.theta") == "0.99");
  REQUIRE(value_of("single-writer.wait") == "phased-backoff");
  REQUIRE(parse_ok({"--set", "single-writer.wait=busy-spin"}).knobs.wait == "busy-spin");
  for (const char* bad :
       {"counter.keys", "counter.keys=", "counter.keys=0", "counter.keys=-1", "counter.keys=1e3",
        "counter.keys=99999999", "counter.theta=1", "counter.theta=-0.1", "counter.theta=x",
        "counter.mix=90/9/2", "counter.mix=101/0", "counter.mix=90", "counter.mix=a/b",
        "cache.key_space=0", "cache.capacity=100000000", "cache.mix=mixed", "order.symbols=17",
        "order.symbols=0", "order.accounts=0", "order.cross=101", "order.mix=60/50",
        "order.prefill=5000", "single-writer.wait=spin", "single-writer.wait=", "nonesuch.keys=1", "counter.nonesuch=1", "keys=64", "=1"})
    REQUIRE(parse_error({"--set", bad}).rfind("--set", 0) == 0);
  REQUIRE(parse_error({"--set", "counter.nope=1"}).find("unknown knob 'counter.nope'") !=
          std::string::npos);
}

TEST_CASE("options: flags, csv, out, unknown and incomplete options", "[unit]") {
  REQUIRE(parse_ok({"--out", "results/x"}).out_dir == "results/x");
  parse_error({"--out="});
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

TEST_CASE("options: a design name's spaces may be written as '-', and --help states the "
          "profile's knob values", "[unit]") {
  const cp::bench::Catalogue catalogue{{"counter", {"reference", "work-stealing batch"}}};
  const auto parsed =
      cp::bench::parse_compare_options({"--design", "work-stealing-batch"}, catalogue, 2);
  REQUIRE(parsed.options);
  REQUIRE(parsed.options->designs == std::vector<std::string>{"work-stealing batch"});
  REQUIRE_FALSE(cp::bench::parse_compare_options({"--design", "work-stealing-bat"}, catalogue, 2)
                    .options);
  const auto quick = cp::bench::parse_compare_options({"--profile", "quick"}, catalogue, 2);
  REQUIRE(quick.options);
  const std::string usage = cp::bench::compare_usage(*quick.options);
  INFO(usage);
  REQUIRE(usage.find("(quick profile: 10000)") != std::string::npos);  // cache.key_space
  const auto standard = cp::bench::parse_compare_options({}, catalogue, 2);
  REQUIRE(cp::bench::compare_usage(*standard.options).find("(default profile: 20000)") !=
          std::string::npos);
}

TEST_CASE("options: usage names every option", "[unit]") {
  const std::string usage = cp::bench::compare_usage();
  for (const char* option :
       {"--profile", "--workload", "--design", "--threads", "--load", "--rates", "--open-threads",
        "--seconds", "--repeats", "--seed", "--set", "--out", "--csv", "--list", "--help", "quick", "full"})
    REQUIRE(usage.find(option) != std::string::npos);
  for (const auto& spec : cp::bench::knob_specs())
    REQUIRE(usage.find(std::string(spec.name)) != std::string::npos);
}
