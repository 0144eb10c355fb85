// l02_scan: the case where a read-write lock's shared mode wins, and the case where it does not.
//
// Readers read a ledger of account balances flat out while one writer moves money between two
// accounts every --write-every-us (sleeping in between). Each read is either a scan (the sum of
// every balance, --accounts of them) or, with --lookup, one balance. The ledger's lock is
// std::shared_mutex (readers side by side) or a plain std::mutex (readers take turns). The two
// locks run in interleaved rounds (shared, mutex, shared, mutex, ...) so that a change in the
// machine's load hits both; the table gives each lock's median reads/s with its min-max, and
// the ratio of the medians. Every scan checks the sum, which transfers keep constant: exit 1 if
// any scan saw a half-done transfer.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "lessons/02-read-mostly/rate_limiter.hpp"
#include "lessons/02-read-mostly/scan.hpp"
#include "lessons/common/cli.hpp"

namespace l02 = cp::lessons::l02;

namespace {

struct Series {
  std::vector<double> rates;
  std::uint64_t torn = 0;
  double median() const {
    std::vector<double> v = rates;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
};

void print_row(const char* name, const Series& s) {
  std::printf("%-32s %14.0f %14.0f %14.0f %6llu\n", name, s.median(),
              *std::min_element(s.rates.begin(), s.rates.end()),
              *std::max_element(s.rates.begin(), s.rates.end()),
              static_cast<unsigned long long>(s.torn));
}

}  // namespace

int main(int argc, char** argv) {
  long long readers = 2, accounts = 10'000, write_every_us = 1000, ms = 300, rounds = 5;
  bool lookup = false;
  cp::lessons::Cli cli("l02_scan",
                       "readers scanning (or looking up) a ledger under std::shared_mutex vs a "
                       "plain mutex, one slow writer; interleaved rounds, median reads/s");
  cli.option("readers", readers, "reader threads (each runs flat out)", 1, 64)
      .option("accounts", accounts, "balances in the ledger (a scan reads all of them)", 1,
              10'000'000)
      .option("write-every-us", write_every_us, "the writer's pace, microseconds per transfer", 1,
              10'000'000)
      .option("ms", ms, "milliseconds per round", 10, 60'000)
      .option("rounds", rounds, "rounds per lock (odd: the median is a measured round)", 1, 101)
      .flag("lookup", lookup, "each read is one balance instead of a scan of all of them");
  cli.parse(argc, argv);

  const l02::ScanConfig cfg{.readers = static_cast<unsigned>(readers),
                            .accounts = static_cast<std::size_t>(accounts),
                            .scan = !lookup,
                            .write_every = std::chrono::microseconds(write_every_us),
                            .duration = std::chrono::milliseconds(ms)};
  std::printf("%lld readers reading flat out, 1 writer (one transfer every %lld us, asleep in "
              "between):\n%lld runnable threads on %u hardware threads. Each read: %s of %lld "
              "balances. %lld rounds of %lld ms per lock, interleaved.\n\n",
              readers, write_every_us, readers, std::thread::hardware_concurrency(),
              lookup ? "one lookup" : "a scan", accounts, rounds, ms);
  Series shared, exclusive;
  std::int64_t sink = 0;
  for (long long r = 0; r < rounds; ++r) {
    std::fprintf(stderr, "\rround %lld/%lld", r + 1, rounds);
    const l02::ScanResult a = l02::run_scan<cp::SharedMutex>(cfg);
    const l02::ScanResult b = l02::run_scan<cp::lessons::ExclusiveOnlyMutex>(cfg);
    shared.rates.push_back(a.reads_per_second());
    exclusive.rates.push_back(b.reads_per_second());
    shared.torn += a.torn;
    exclusive.torn += b.torn;
    sink += a.sink + b.sink;
  }
  std::fprintf(stderr, "\r%*s\r", 20, "");
  std::printf("%-32s %14s %14s %14s %6s\n", "lock", "reads/s median", "min", "max", "torn");
  print_row("std::shared_mutex (shared reads)", shared);
  print_row("std::mutex (readers take turns)", exclusive);
  std::printf("\nshared / mutex, medians: %.2fx\n", shared.median() / exclusive.median());
  if (lookup)  // printing the lookups' sum keeps the compiler from dropping them
    std::printf("(sum of the balances looked up: %lld)\n", static_cast<long long>(sink));
  if (shared.torn + exclusive.torn != 0) {
    std::printf("FAILED: a scan saw a half-done transfer\n");
    return 1;
  }
  return 0;
}

// How to run:
//   ./build/release/lessons/02-read-mostly/l02_scan
//   ./build/release/lessons/02-read-mostly/l02_scan --lookup
//   ./build/release/lessons/02-read-mostly/l02_scan --readers=1
// What to expect on 2 cores: with scans, the shared mode approaches 2x the mutex (two readers
// really read at once; each scan takes microseconds, so the lock's own cost is small). With
// --lookup each read is nanoseconds, both readers write the shared lock's reader count, and
// the ratio falls to about 1x or below. With --readers=1 there is nobody to share with: about
// 1x. torn is 0 on every row; exit code 1 otherwise.
