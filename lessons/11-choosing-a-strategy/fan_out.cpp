// fan_out.cpp (target l11_fan_out): one publisher, N subscribers that each want every value
// (the source material's "broadcast for fan-out"), three ways, N = 1, 2, 4, 8 (fan_out.hpp);
// the SPSC rings run twice, with a blocking and with a yielding wait strategy.
//
// Each row publishes --messages values, --repeats times, and prints the median of the values
// delivered per second (all subscribers together: a value read by 4 subscribers counts 4
// times), the fastest and slowest repetition, how many values the subscribers missed (only the
// broadcast ring loses values, when a subscriber falls more than the ring behind) and whether
// every subscriber got exactly what it was owed, in order. Runnable threads: 1 publisher + N
// subscribers, on the machine's hardware threads (printed).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "lessons/11-choosing-a-strategy/fan_out.hpp"
#include "lessons/common/cli.hpp"

namespace {

using namespace cp::lessons::strategy;

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  if (!(in >> a >> b >> c)) return "unknown";
  return a + " " + b + " " + c;
}

// exact: every subscriber got every value it did not miss, each once, in order.
bool exact(const FanOutResult& r, std::uint64_t messages) {
  const std::uint64_t all = messages * (messages + 1) / 2;
  for (const auto& t : r.subscribers) {
    if (t.delivered + t.missed != messages || !t.in_order) return false;
    if (t.missed == 0 && t.sum != all) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  long long messages = 200000, capacity = 1024, repeats = 5, max_subscribers = 8;
  cp::lessons::Cli cli("l11_fan_out",
                       "one publisher, N subscribers each owed every value: a broadcast ring, "
                       "a mutex queue each, an SPSC ring each");
  cli.option("messages", messages, "values published per run", 1, 1LL << 26)
      .option("capacity", capacity, "the broadcast ring's and each SPSC ring's size (power of 2)",
              2, 1LL << 24)
      .option("repeats", repeats, "runs per row (the median is printed)", 1, 101)
      .option("max-subscribers", max_subscribers, "N = 1, 2, 4, ... up to this", 1, 64);
  cli.parse(argc, argv);
  if ((capacity & (capacity - 1)) != 0) {
    std::fprintf(stderr, "l11_fan_out: --capacity must be a power of two (try --help)\n");
    return 2;
  }
  const auto cap = static_cast<std::size_t>(capacity);
  const auto n_messages = static_cast<std::uint64_t>(messages);
  std::printf("%lld values per run, %lld runs a row; ring size %lld; %u hardware threads.\n"
              "Runnable threads: 1 publisher + N subscribers.\nLoad average before: %s\n\n",
              messages, repeats, capacity, std::thread::hardware_concurrency(),
              load_average().c_str());
  std::printf("  %-24s %3s %8s  %-21s %11s  %s\n", "fan-out", "N", "threads",
              "M values/s [range]", "missed", "exact");
  bool all_ok = true;
  for (long long n = 1; n <= max_subscribers; n *= 2) {
    struct Row { FanOut how; std::size_t capacity; const char* label; };
    const Row rows[] = {{FanOut::broadcast, cap, "broadcast, ring"},
                        {FanOut::broadcast, static_cast<std::size_t>(n_messages),
                         "broadcast, holds all"},
                        {FanOut::mutex_queues, cap, to_string(FanOut::mutex_queues)},
                        {FanOut::spsc_rings, cap, to_string(FanOut::spsc_rings)},
                        {FanOut::spsc_rings_yielding, cap,
                         to_string(FanOut::spsc_rings_yielding)}};
    for (const Row& row : rows) {
      std::vector<double> rates;
      std::uint64_t missed = 0;
      bool ok = true;
      for (long long i = 0; i < repeats; ++i) {
        const FanOutResult r = run_fan_out(row.how, static_cast<int>(n), n_messages, row.capacity);
        std::uint64_t delivered = 0;
        for (const auto& t : r.subscribers) {
          delivered += t.delivered;
          missed += t.missed;
        }
        rates.push_back(static_cast<double>(delivered) / r.seconds / 1e6);
        ok = ok && exact(r, n_messages);
      }
      std::sort(rates.begin(), rates.end());
      char range[64];
      std::snprintf(range, sizeof range, "%6.2f [%.2f-%.2f]", rates[rates.size() / 2],
                    rates.front(), rates.back());
      std::printf("  %-24s %3lld %8lld  %-21s %10.1f%%  %s\n", row.label, n, n + 1, range,
                  100.0 * static_cast<double>(missed) /
                      static_cast<double>(n_messages * static_cast<std::uint64_t>(n * repeats)),
                  ok ? "yes" : "NO");
      all_ok = all_ok && ok;
    }
  }
  std::printf("\nmissed: share of the values owed that the subscribers lost (the ring overwrote\n"
              "them); exact: each got every value it did not miss, once, in order.\n"
              "Load average after: %s\n", load_average().c_str());
  if (!all_ok) {
    std::printf("\nFAILED: a subscriber got a value twice, out of order, or lost one\n");
    return 1;
  }
  return 0;
}

// How to run:
//   cmake --preset release && cmake --build --preset release --target l11_fan_out
//   ./build/release/lessons/11-choosing-a-strategy/l11_fan_out
// What to expect (Release, a 2-core VM): with N >= 2 there are more runnable threads than
// cores. The broadcast ring's publisher never waits, so with a small ring the subscribers miss
// most values (the missed column); holding all values it loses none. The queue per subscriber
// costs the publisher N lock round trips per value. The SPSC rings cost it N pushes without a
// lock: with the blocking wait, from N = 2 on (more threads than cores) a subscriber that
// catches up sleeps and each push must wake it, so expect them slow; with the yielding wait
// nobody sleeps, and expect them fastest of all.
