// l05_crash_recovery: crash recovery of a single-writer engine by "load snapshot, replay the
// journal from its offset", and proof that it gives the very same state.
//
// The durable SingleWriterOrderEngine (comparisons/order/single_writer_order.hpp) takes a
// seeded order stream in a temporary directory: it journals every place/cancel before
// applying it and snapshots every --snapshot-every of them. After --crash-at commands it
// "crashes": the engine is thrown away without any shutdown step and half a journal record is
// appended (a process dying mid-write). A new engine on the same directory recovers (newest
// snapshot + the journal after it, the torn tail cut off), takes the rest of the stream, and
// its final state hash is printed next to an uninterrupted run's: they must be identical,
// and so must every reply. Exit code 1 if not. The directory is removed at the end.
#include <cstdio>
#include <exception>
#include <string>

#include "lessons/05-single-writer-engine/crash_recovery.hpp"
#include "lessons/common/cli.hpp"

namespace l05 = cp::lessons::l05;

int main(int argc, char** argv) {
  long long seed = 42, commands = 20'000, crash_at = 13'001, snapshot_every = 2'000;
  cp::lessons::Cli cli("l05_crash_recovery",
                       "crash a durable single-writer order engine, recover it from snapshot + "
                       "journal, and compare with an uninterrupted run");
  cli.option("seed", seed, "seed of the order stream", 0, 1LL << 62)
      .option("commands", commands, "commands in the stream", 1, 10'000'000)
      .option("crash-at", crash_at, "commands applied before the crash (clamped to --commands)", 0,
              10'000'000)
      .option("snapshot-every", snapshot_every, "place/cancel commands between snapshots", 1,
              10'000'000);
  cli.parse(argc, argv);
  if (crash_at > commands) crash_at = commands;

  try {
    const l05::OrderScript script =
        l05::make_order_script(static_cast<std::uint64_t>(seed), static_cast<std::size_t>(commands));
    std::printf("order stream: seed %lld, %lld commands; crash after %lld; snapshot every %lld "
                "place/cancel\n\n",
                seed, commands, crash_at, snapshot_every);

    const l05::UninterruptedResult plain = l05::run_uninterrupted(script);
    l05::TempDir dir("l05_crash_recovery_");
    const l05::CrashResult crashed = l05::run_with_crash(
        script, static_cast<std::size_t>(crash_at), static_cast<std::uint64_t>(snapshot_every),
        dir.path());

    std::printf("before the crash: %llu place/cancel journaled, %zu snapshot file(s),\n"
                "  journal %ju bytes (7 of them a torn record)\n",
                static_cast<unsigned long long>(crashed.journaled), crashed.snapshots_at_crash,
                crashed.journal_bytes);
    // The summary's journal part on a line of its own: the output fits 100 columns.
    std::string recovery = crashed.report.summary();
    if (const auto at = recovery.find(", journal "); at != std::string::npos)
      recovery.replace(at, 2, ",\n  ");
    std::printf("recovery: %s\n", recovery.c_str());
    std::printf("recovered state = reference after %lld commands: %s\n", crash_at,
                crashed.recovered_prefix_matches ? "yes" : "NO");
    std::printf("every reply as the reference's: uninterrupted %s, crashed+recovered %s\n\n",
                plain.replies_match ? "yes" : "NO", crashed.replies_match ? "yes" : "NO");
    std::printf("final state hash, uninterrupted run:     %016llx\n",
                static_cast<unsigned long long>(plain.hash));
    std::printf("final state hash, crashed and recovered: %016llx\n",
                static_cast<unsigned long long>(crashed.hash));
    std::printf("final state hash, reference:             %016llx\n",
                static_cast<unsigned long long>(script.final_hash));
    const bool identical = plain.hash == crashed.hash && crashed.ok(script) && plain.replies_match &&
                           plain.hash == script.final_hash;
    std::printf("identical: %s\n", identical ? "yes" : "NO");
    return identical ? 0 : 1;
  } catch (const std::exception& e) {  // a directory that cannot be written or recovered
    std::fprintf(stderr, "l05_crash_recovery: %s\n", e.what());
    return 1;
  }
}

// How to run:
//   ./build/release/lessons/05-single-writer-engine/l05_crash_recovery
//   ./build/release/lessons/05-single-writer-engine/l05_crash_recovery --seed=7 --crash-at=500
// What to expect: recovery reports the newest snapshot at or below the crash point (e.g.
// "snapshot 6000, ... records replayed, journal truncated_tail (...)": the torn record was
// found and cut), the recovered state equals the reference's at the crash point, and the
// three final hashes are equal: "identical: yes", exit code 0. With --crash-at below
// --snapshot-every there is no snapshot yet and the whole journal is replayed ("no snapshot").
