// order_fc_spins.cpp (target order_fc_spins): how long a flat-combining waiter should spin
// before it sleeps. Runs the flat-combining order engine (comparisons/order/
// flat_combining_order.hpp) closed-loop with the order workload's default parameters, once per
// spin count and thread count, through the same runner as `compare`.
//
// Prints per row: throughput (median of the repetitions, with min..max), p50 and p99 of one
// command, the CPU time the whole process used per command (a spinning waiter burns CPU that
// a sleeping one does not; on an oversubscribed machine that is CPU the combiner needed), and
// the row's verdict (the driver's invariant checks).
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "bench/harness/runner.hpp"
#include "comparisons/order/driver.hpp"
#include "comparisons/order/flat_combining_order.hpp"

using namespace cp;
using namespace cp::bench;

namespace {

constexpr const char* kUsage = R"(usage: order_fc_spins [--seconds S] [--repeats N] [--threads LIST]

Runs the flat-combining order engine closed-loop at several spin counts (0, 32, 256, 2048,
16384 spins before a waiter sleeps) and thread counts, and prints throughput, p50/p99 per
command and CPU seconds per million commands.

  --seconds S     measured seconds per row (default 0.3; 0 < S <= 60)
  --repeats N     repetitions per row, interleaved over spin counts (default 3; 1..20)
  --threads LIST  comma-separated client thread counts (default 1,2,4,8; each 1..64)
  --help          this text
)";

double cpu_seconds() {
  rusage r{};
  getrusage(RUSAGE_SELF, &r);
  return static_cast<double>(r.ru_utime.tv_sec + r.ru_stime.tv_sec) +
         static_cast<double>(r.ru_utime.tv_usec + r.ru_stime.tv_usec) * 1e-6;
}

struct Sample {
  double throughput = 0;
  std::uint64_t p50 = 0, p99 = 0;
  double cpu_per_million = 0;
  bool passed = true;
};

template <unsigned Spins>
Sample run(unsigned threads, double seconds, std::uint64_t seed) {
  const double cpu0 = cpu_seconds();
  const RunResult r = run_closed_loop<OrderDriver<FlatCombiningOrderEngineT<Spins>>>(
      OrderParams{}, threads, seconds, seed);
  const double cpu = cpu_seconds() - cpu0;  // includes warm-up and verification: a rough cost
  return {r.throughput, r.latency.p50, r.latency.p99,
          r.ops == 0 ? 0.0 : cpu / static_cast<double>(r.ops) * 1e6, r.verdict.passed};
}

bool parse_unsigned_list(std::string_view v, std::vector<unsigned>& out) {
  out.clear();
  while (!v.empty()) {
    const auto comma = v.find(',');
    const std::string part(v.substr(0, comma));
    char* end = nullptr;
    const unsigned long n = std::strtoul(part.c_str(), &end, 10);
    if (part.empty() || *end != '\0' || n == 0 || n > 64) return false;
    out.push_back(static_cast<unsigned>(n));
    v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
  }
  return !out.empty();
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 0.3;
  unsigned repeats = 3;
  std::vector<unsigned> thread_counts = {1, 2, 4, 8};
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "order_fc_spins: %s needs a value (or unknown option)\n%s", argv[i], kUsage);
      return 2;
    }
    const std::string v = argv[++i];
    char* end = nullptr;
    if (a == "--seconds") {
      seconds = std::strtod(v.c_str(), &end);
      if (*end != '\0' || !(seconds > 0 && seconds <= 60)) {
        std::fprintf(stderr, "order_fc_spins: --seconds '%s' is not in (0, 60]\n", v.c_str());
        return 2;
      }
    } else if (a == "--repeats") {
      const unsigned long n = std::strtoul(v.c_str(), &end, 10);
      if (*end != '\0' || n < 1 || n > 20) {
        std::fprintf(stderr, "order_fc_spins: --repeats '%s' is not in 1..20\n", v.c_str());
        return 2;
      }
      repeats = static_cast<unsigned>(n);
    } else if (a == "--threads") {
      if (!parse_unsigned_list(v, thread_counts)) {
        std::fprintf(stderr, "order_fc_spins: --threads '%s' is not a list of 1..64\n", v.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "order_fc_spins: unknown option '%s'\n%s", argv[i - 1], kUsage);
      return 2;
    }
  }

  using Runner = Sample (*)(unsigned, double, std::uint64_t);
  struct Variant {
    unsigned spins;
    Runner run;
  };
  const Variant variants[] = {{0, &run<0>},       {32, &run<32>},      {256, &run<256>},
                              {2048, &run<2048>}, {16384, &run<16384>}};
  std::printf("%-8s %7s %12s %20s %8s %8s %14s %s\n", "spins", "threads", "ops/s", "(min..max)",
              "p50 ns", "p99 ns", "cpu s/M ops", "verdict");
  for (const unsigned threads : thread_counts) {
    std::vector<std::vector<Sample>> samples(std::size(variants));
    for (unsigned rep = 0; rep < repeats; ++rep) {
      std::fprintf(stderr, "threads %u: repetition %u of %u\n", threads, rep + 1, repeats);
      for (std::size_t v = 0; v < std::size(variants); ++v)
        samples[v].push_back(variants[v].run(threads, seconds, 0x5eed + rep));
    }
    for (std::size_t v = 0; v < std::size(variants); ++v) {
      auto& s = samples[v];
      std::sort(s.begin(), s.end(),
                [](const Sample& a, const Sample& b) { return a.throughput < b.throughput; });
      const Sample& mid = s[s.size() / 2];
      const bool passed = std::all_of(s.begin(), s.end(), [](const Sample& x) { return x.passed; });
      std::printf("%-8u %7u %12.0f %9.0f..%-10.0f %8llu %8llu %14.2f %s\n", variants[v].spins,
                  threads, mid.throughput, s.front().throughput, s.back().throughput,
                  static_cast<unsigned long long>(mid.p50), static_cast<unsigned long long>(mid.p99),
                  mid.cpu_per_million, passed ? "ok" : "FAILED");
    }
    std::printf("\n");
  }
  return 0;
}
