// recovery_test.cpp: recover = newest snapshot + journal replay gives the state of an
// uninterrupted run (patterns/single_writer/recovery.hpp).
#include <catch2/catch.hpp>

#include <thread>

#include "comparisons/common/random.hpp"
#include "patterns/single_writer/recovery.hpp"
#include "tests/patterns/journal/toy.hpp"
#include "tests/support/findings.hpp"

using namespace cp;
using namespace cp::sw;
using namespace cp::sw::toy;

namespace {

Recovered<State> recover_toy(const std::filesystem::path& dir) { return recover<State, Cmd>(dir, Codec{}, State{}, apply); }

// Feeds stream[from-1 .. to-1) (sequences from..to-1) through a Durable, like an owner
// thread: append, apply, end_batch every `batch` commands, maybe_snapshot after each batch.
// Returns the sequence of the last command made durable by end_batch. crash: stop before
// ending the last batch, as a crash between append and end_batch would.
std::uint64_t feed(Durable<Cmd, Codec>& d, State& state, const std::vector<Cmd>& stream, std::uint64_t to,
                   Xoshiro256& rng, bool crash = false) {
  std::uint64_t acknowledged = d.last_sequence();
  const auto batch = 1 + rng.below(64);
  while (d.next_sequence() < to) {
    const auto seq = d.append(stream[d.next_sequence() - 1]);
    apply(state, stream[seq - 1], seq);
    if (seq % batch == 0 || (seq + 1 == to && !crash)) {
      d.end_batch();
      acknowledged = seq;
      d.maybe_snapshot(state, seq);
    }
  }
  return acknowledged;
}

}  // namespace

TEST_CASE("recovery: an empty directory recovers the initial state", "[unit]") {
  TempDir dir;
  auto rec = recover_toy(dir / "fresh");
  REQUIRE(rec.next_sequence == 1);
  REQUIRE(rec.state.counters.empty());
  REQUIRE_FALSE(rec.report.snapshot_sequence);
  REQUIRE_FALSE(rec.report.journal_found);
  REQUIRE(rec.report.clean());
}

TEST_CASE("recovery: crash anywhere, recover, feed the rest == one uninterrupted run", "[stress]") {
  const auto s = test::seed();
  int repaired = 0, fell_back = 0, lost_unsynced = 0;  // the paths this test must have taken
  for (std::uint64_t trial = 0; trial < 24; ++trial) {
    const auto ts = derive_seed(s, trial);
    Xoshiro256 rng(ts);
    const auto policy = static_cast<FsyncPolicy>(trial % 3);
    // Each fdatasync costs 0.2-3 ms here (more when the disk is shared): the syncing
    // policies get shorter streams so the test stays fast.
    const std::size_t kCommands = policy == FsyncPolicy::per_command ? 30 : policy == FsyncPolicy::per_batch ? 400 : 1500;
    const auto stream = make_stream(ts, kCommands);
    const auto want = reference_state(stream, kCommands).hash();
    const DurableOptions opts{.fsync = policy,
                              .snapshot_every = kCommands / 20 + rng.below(kCommands / 3),
                              .snapshots_to_keep = 1 + rng.below(3)};
    const bool tear_tail = trial % 4 == 1, corrupt_snapshot = trial % 5 == 2;
    // Commands 1..crash_at-1 were sent; a corrupt-snapshot trial runs long enough to have one.
    const auto crash_at = corrupt_snapshot ? kCommands / 2 + 1 + rng.below(kCommands / 2) : 1 + rng.below(kCommands);
    INFO("seed " << ts << " (CP_SEED=" << s << ", trial " << trial << "), policy " << to_string(opts.fsync)
                 << ", snapshot_every " << opts.snapshot_every << ", crash at " << crash_at << ", tear "
                 << tear_tail << ", corrupt snapshot " << corrupt_snapshot);
    TempDir dir;

    // Run 1: from scratch up to the crash, which loses what was not written.
    std::uint64_t acknowledged = 0;
    {
      auto rec = recover_toy(dir.path());
      Durable<Cmd, Codec> d(dir.path(), Codec{}, opts, rec.report);
      acknowledged = feed(d, rec.state, stream, crash_at, rng, /*crash=*/true);
      d.abandon();
    }
    if (tear_tail) {  // a torn final write, as a power failure might leave it
      const auto j = journal_path(dir.path());
      const auto size = std::filesystem::file_size(j);
      std::filesystem::resize_file(j, size - std::min<std::uintmax_t>(size, rng.below(60)));
    }
    if (corrupt_snapshot) {
      const auto snaps = list_snapshots(dir.path());
      if (!snaps.empty()) flip_byte(snaps.front().second, 40);
    }

    // Recovery gives exactly the state after some prefix of the stream.
    auto rec = recover_toy(dir.path());
    INFO(rec.report.summary());
    const auto recovered_n = rec.next_sequence - 1;
    repaired += rec.report.journal.clean() ? 0 : 1;
    fell_back += rec.report.skipped_snapshots.empty() ? 0 : 1;
    lost_unsynced += !tear_tail && recovered_n < crash_at - 1 ? 1 : 0;
    REQUIRE(recovered_n <= crash_at - 1);
    REQUIRE(rec.state.hash() == reference_state(stream, recovered_n).hash());
    if (!tear_tail) {  // nothing synced (per_batch) or written (none, per_command) is lost
      REQUIRE(recovered_n >= acknowledged);
      if (opts.fsync != FsyncPolicy::per_batch) REQUIRE(recovered_n == crash_at - 1);
    }

    // Run 2: the clients resend what was not acknowledged; the engine continues to the end.
    {
      Durable<Cmd, Codec> d(dir.path(), Codec{}, opts, rec.report);
      feed(d, rec.state, stream, kCommands + 1, rng);
      d.close();
    }
    REQUIRE(rec.state.hash() == want);
    auto final_rec = recover_toy(dir.path());
    INFO(final_rec.report.summary());
    REQUIRE(final_rec.next_sequence == kCommands + 1);
    REQUIRE(final_rec.state.hash() == want);
    REQUIRE(final_rec.report.journal.clean());
  }
  INFO("torn tails repaired " << repaired << ", corrupt snapshots skipped " << fell_back
                              << ", per_batch crashes that lost their open batch " << lost_unsynced);
  REQUIRE(repaired > 0);
  REQUIRE(fell_back > 0);
  REQUIRE(lost_unsynced > 0);
}

// Offset of the record with sequence `seq` in dir's journal.
std::uint64_t offset_of(const std::filesystem::path& dir, std::uint64_t seq) {
  JournalReader r(journal_path(dir));
  std::uint64_t start = r.offset();
  while (auto rec = r.next()) {
    if (rec->sequence == seq) return start;
    start = r.offset();
  }
  FAIL("no record " << seq);
  return 0;
}

// Writes stream[0..n) through a Durable, snapshotting every `snapshot_every` (policy none:
// this is set-up, and fdatasync would only slow the test down).
void write_commands(const std::filesystem::path& dir, const std::vector<Cmd>& stream, std::uint64_t n,
                    std::uint64_t snapshot_every) {
  auto rec = recover_toy(dir);
  Durable<Cmd, Codec> d(dir, Codec{}, {.fsync = FsyncPolicy::none, .snapshot_every = snapshot_every},
                        rec.report);
  for (std::uint64_t i = rec.next_sequence - 1; i < n; ++i) {
    const auto seq = d.append(stream[i]);
    apply(rec.state, stream[i], seq);
    d.maybe_snapshot(rec.state, seq);
  }
  d.close();
}

TEST_CASE("recovery: continue after a corrupt tail, recover again", "[unit]") {
  const auto s = test::seed();
  TempDir dir;
  const auto stream = make_stream(s, 150);
  write_commands(dir.path(), stream, 100, 0);
  const auto offset100 = offset_of(dir.path(), 100);
  flip_byte(journal_path(dir.path()), offset100 + 14);  // the last record's payload

  auto rec = recover_toy(dir.path());
  INFO(rec.report.summary());
  REQUIRE(rec.report.journal.stop_reason == StopReason::corrupt_record);
  REQUIRE(rec.report.journal.byte_offset_of_problem == offset100);
  REQUIRE_FALSE(rec.report.good_records_after_problem);
  REQUIRE(rec.next_sequence == 100);
  REQUIRE(rec.state.hash() == reference_state(stream, 99).hash());
  {
    Durable<Cmd, Codec> d(dir.path(), Codec{}, {.fsync = FsyncPolicy::per_batch, .snapshot_every = 30}, rec.report);
    REQUIRE(std::filesystem::file_size(journal_path(dir.path())) == offset100);  // the bad tail is cut
    for (std::uint64_t i = 99; i < 150; ++i) {
      const auto seq = d.append(stream[i]);
      REQUIRE(seq == i + 1);
      apply(rec.state, stream[i], seq);
      d.end_batch();
      d.maybe_snapshot(rec.state, seq);
    }
    REQUIRE(d.last_snapshot_sequence() == 130);  // 100, 130: 30 after the last snapshot (none: 0)
    d.close();
  }
  auto again = recover_toy(dir.path());
  INFO(again.report.summary());
  REQUIRE(again.report.clean());
  REQUIRE(again.report.snapshot_sequence == 130u);
  REQUIRE(again.report.records_replayed == 20);
  REQUIRE(again.next_sequence == 151);
  REQUIRE(again.state.hash() == reference_state(stream, 150).hash());
}

TEST_CASE("recovery: damage mid-journal is stepped over if a snapshot covers it, refused if not", "[unit]") {
  const auto s = test::seed();
  TempDir dir;
  const auto stream = make_stream(s + 1, 120);
  write_commands(dir.path(), stream, 100, 50);  // snapshots at 50 and 100
  std::filesystem::remove(snapshot_path(dir.path(), 100));

  SECTION("inside records the snapshot covers: stepped over, nothing cut") {
    const auto at = offset_of(dir.path(), 20), next = offset_of(dir.path(), 21);
    flip_byte(journal_path(dir.path()), at + 5);  // the sequence field
    const auto size = std::filesystem::file_size(journal_path(dir.path()));
    auto rec = recover_toy(dir.path());
    INFO(rec.report.summary());
    REQUIRE(rec.report.snapshot_sequence == 50u);
    REQUIRE(rec.report.skipped_damage.size() == 1);
    REQUIRE(rec.report.skipped_damage[0].from_offset == at);
    REQUIRE(rec.report.skipped_damage[0].to_offset == next);
    REQUIRE(rec.report.journal.clean());
    REQUIRE_FALSE(rec.report.clean());
    REQUIRE(rec.next_sequence == 101);
    REQUIRE(rec.state.hash() == reference_state(stream, 100).hash());
    write_commands(dir.path(), stream, 120, 0);
    REQUIRE(std::filesystem::file_size(journal_path(dir.path())) > size);
    auto again = recover_toy(dir.path());
    REQUIRE(again.next_sequence == 121);
    REQUIRE(again.state.hash() == reference_state(stream, 120).hash());
  }
  SECTION("past the snapshot, with good records after it: refused until a person cuts") {
    const auto at = offset_of(dir.path(), 80), next = offset_of(dir.path(), 81);
    flip_byte(journal_path(dir.path()), at + 14);
    auto rec = recover_toy(dir.path());
    INFO(rec.report.summary());
    REQUIRE(rec.report.journal.stop_reason == StopReason::corrupt_record);
    REQUIRE(rec.report.good_records_after_problem);
    REQUIRE(rec.report.next_good_record_offset == next);
    REQUIRE(rec.next_sequence == 80);
    REQUIRE(rec.state.hash() == reference_state(stream, 79).hash());
    using ToyDurable = Durable<Cmd, Codec>;
    REQUIRE_THROWS_AS(ToyDurable(dir.path(), Codec{}, {}, rec.report), std::runtime_error);

    REQUIRE(truncate_to_last_good(journal_path(dir.path()), rec.report.journal));  // the decision
    write_commands(dir.path(), stream, 120, 0);
    auto again = recover_toy(dir.path());
    REQUIRE(again.report.clean());
    REQUIRE(again.state.hash() == reference_state(stream, 120).hash());
  }
}

TEST_CASE("recovery: a gap or an undecodable record is refused, not papered over", "[unit]") {
  TempDir dir;
  Buffer good;
  Codec{}.encode(Cmd{Op::add, 1, 5, ""}, good);
  SECTION("gap") {
    JournalWriter w(journal_path(dir.path()), FsyncPolicy::none);
    w.append(1, good);
    w.append(2, good);
    w.append(5, good);
    w.close();
    REQUIRE_THROWS_AS(recover_toy(dir.path()), RecoveryError);
  }
  SECTION("undecodable") {
    JournalWriter w(journal_path(dir.path()), FsyncPolicy::none);
    w.append(1, good);
    w.append(2, as_bytes("garbage"));
    w.close();
    auto rec = recover_toy(dir.path());
    REQUIRE(rec.report.journal.stop_reason == StopReason::undecodable);
    REQUIRE(rec.next_sequence == 2);
    REQUIRE(rec.state.counters.at(1) == 5);
    using ToyDurable = Durable<Cmd, Codec>;
    REQUIRE_THROWS_AS(ToyDurable(dir.path(), Codec{}, {}, rec.report), std::runtime_error);
  }
  SECTION("a corrupt newest snapshot falls back to the previous one and says so") {
    const auto stream = make_stream(7, 60);
    {
      auto rec = recover_toy(dir.path());
      Durable<Cmd, Codec> d(dir.path(), Codec{}, {.snapshot_every = 20, .snapshots_to_keep = 2}, rec.report);
      for (std::uint64_t i = 0; i < 60; ++i) {
        apply(rec.state, stream[i], d.append(stream[i]));
        d.end_batch();
        d.maybe_snapshot(rec.state, i + 1);
      }
    }
    REQUIRE(list_snapshots(dir.path()).size() == 2);  // 40 and 60; 20 was pruned
    flip_byte(snapshot_path(dir.path(), 60), 33);
    auto rec = recover_toy(dir.path());
    REQUIRE(rec.report.snapshot_sequence == 40u);
    REQUIRE(rec.report.skipped_snapshots.size() == 1);
    REQUIRE(rec.report.records_replayed == 20);
    REQUIRE_FALSE(rec.report.clean());
    REQUIRE(rec.state.hash() == reference_state(stream, 60).hash());
  }
}

TEST_CASE("recovery: the owner thread may be another thread than the one that recovered", "[unit]") {
  // The engine's shape: recover on the main thread, hand state and Durable to the owner
  // thread (std::thread's start is the happens-before edge), join, recover again.
  const auto s = test::seed();
  TempDir dir;
  const auto stream = make_stream(s + 2, 300);
  auto rec = recover_toy(dir.path());
  Durable<Cmd, Codec> d(dir.path(), Codec{}, {.fsync = FsyncPolicy::per_batch, .snapshot_every = 100}, rec.report);
  std::thread owner([&] {
    for (const auto& cmd : stream) {
      const auto seq = d.append(cmd);
      apply(rec.state, cmd, seq);
      if (seq % 16 == 0) d.end_batch(), d.maybe_snapshot(rec.state, seq);
    }
    d.close();
  });
  owner.join();
  auto again = recover_toy(dir.path());
  REQUIRE(again.report.snapshot_sequence == 224u);  // at batch ends 112 and 224 (>= 100 apart)
  REQUIRE(again.state.hash() == rec.state.hash());
  REQUIRE(again.state.hash() == reference_state(stream, 300).hash());
}
