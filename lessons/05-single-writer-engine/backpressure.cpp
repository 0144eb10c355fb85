// l05_backpressure: what a bounded queue does when producers are faster than the one owner.
//
// Several fast producers submit commands to one cp::sw::Engine whose owner is deliberately
// slow (it spins --work-us per command), under each OverloadPolicy in turn:
//   block  - a producer waits for room: the owner's pace is pushed back onto the producers;
//   reject - a full queue answers "rejected (full)" at once: the caller decides what to do
//            (here it sheds the command and counts it, as a telemetry producer would).
// For each it prints offered / accepted / rejected / processed / lost, where
// lost = accepted - processed. Whatever the policy, lost must be 0 and offered must equal
// accepted + rejected + stopped: overload is a decision the caller sees, never a silent loss.
// Exit code 1 if either fails for any policy.
#include <cstdio>

#include "lessons/05-single-writer-engine/backpressure.hpp"
#include "lessons/common/cli.hpp"

namespace l05 = cp::lessons::l05;
namespace sw = cp::sw;

int main(int argc, char** argv) {
  long long producers = 3, per_producer = 20'000, capacity = 64, work_us = 20, rate = 100'000;
  cp::lessons::Cli cli("l05_backpressure",
                       "overload one single-writer engine under block and reject; "
                       "nothing accepted may be lost");
  cli.option("producers", producers, "producer threads", 1, 64)
      .option("per-producer", per_producer, "commands each producer offers", 1, 100'000'000)
      .option("capacity", capacity, "queue capacity (a power of two)", 2, 1 << 20)
      .option("work-us", work_us, "the owner's work per command, microseconds", 0, 100'000)
      .option("rate", rate, "commands/s offered by all producers together (0: flat out)", 0,
              100'000'000);
  cli.parse(argc, argv);
  if ((capacity & (capacity - 1)) != 0) {
    std::fprintf(stderr, "l05_backpressure: --capacity must be a power of two, got %lld (try --help)\n",
                 capacity);
    return 2;
  }
  const l05::BackpressureConfig cfg{.producers = static_cast<unsigned>(producers),
                                    .per_producer = static_cast<std::uint64_t>(per_producer),
                                    .capacity = static_cast<std::size_t>(capacity),
                                    .work = std::chrono::microseconds(work_us),
                                    .interval = std::chrono::nanoseconds(
                                        rate == 0 ? 0 : producers * 1'000'000'000LL / rate)};
  std::printf("%u producers x %llu commands offered at %lld/s in all (0: flat out), queue capacity "
              "%zu,\nowner work %lld us/command (so at most ~%.0f commands/s)\n\n",
              cfg.producers, static_cast<unsigned long long>(cfg.per_producer), rate, cfg.capacity,
              work_us, work_us == 0 ? 0.0 : 1e6 / static_cast<double>(work_us));
  std::printf("%-7s %10s %10s %10s %10s %5s %9s %12s\n", "policy", "offered", "accepted",
              "rejected", "processed", "lost", "seconds", "processed/s");
  bool all_ok = true;
  const struct {
    const char* name;
    sw::OverloadPolicy policy;
  } policies[] = {{"block", sw::OverloadPolicy::block},
                  {"reject", sw::OverloadPolicy::reject}};
  for (const auto& p : policies) {
    const l05::BackpressureResult r = l05::run_backpressure(p.policy, cfg);
    std::printf("%-7s %10llu %10llu %10llu %10llu %5llu %9.3f %12.0f%s\n", p.name,
                static_cast<unsigned long long>(r.counters.offered),
                static_cast<unsigned long long>(r.counters.accepted),
                static_cast<unsigned long long>(r.counters.rejected),
                static_cast<unsigned long long>(r.processed),
                static_cast<unsigned long long>(r.lost()), r.seconds,
                static_cast<double>(r.processed) / r.seconds, r.ok() ? "" : "  <- FAILED");
    all_ok = all_ok && r.ok();
  }
  if (!all_ok) {
    std::printf("\nFAILED: a command was lost, or an offer has no single outcome\n");
    return 1;
  }
  std::printf("\nEvery offer has one outcome (offered = accepted + rejected), and every "
              "accepted command was applied exactly once, in sequence order (lost = 0).\n");
  return 0;
}

// How to run:
//   ./build/release/lessons/05-single-writer-engine/l05_backpressure
//   ./build/release/lessons/05-single-writer-engine/l05_backpressure --rate=0 --capacity=8
// What to expect (defaults: 60,000 commands offered at 100,000/s to an owner that manages at
// most 50,000/s): block accepts everything and takes about offered x work-us (1.2 s+): the
// producers are slowed to the owner's pace and the offered rate is not kept. Reject keeps the
// producers' pace (about 0.6 s) and accepts only what the owner absorbs in that time (a bit
// under half), refusing the rest, with rejected making up the difference. processed =
// accepted and lost = 0 on both rows; the owner's rate (processed/s) is about the same,
// 1 / work-us, in both: the policy decides who waits, not how fast the owner works.
// Exit code 0; 1 if anything was lost.
