// recovery.hpp: crash recovery for a single-writer engine, and the owner thread's helper.
//
//   journal_path    - <dir>/journal.log, the one journal of a durable directory.
//   RecoveryReport  - which snapshot was used (and which were skipped), what the journal said.
//   Recovered<S>    - the recovered state, the next sequence to assign, and the report.
//   recover         - newest valid snapshot (or the initial state) + journal records after it.
//   Durable         - what the engine's owner thread calls: append() each command,
//                     end_batch() per batch, maybe_snapshot() after applying.
//
// Recovery is "load snapshot, replay from the last offset" (journal.hpp says why the result
// is identical to the run that wrote it). Sequences are contiguous: Durable assigns 1, 2, 3..
// so recover() can prove that nothing is missing between the snapshot and the journal; a gap
// throws RecoveryError rather than producing a state no run ever had.
//
// Layout choice: ONE journal per directory, never rotated; a snapshot at S only makes recovery
// skip records <= S (they are still read and checksummed, which costs ~1 s per GB). Why: it is
// the simplest layout that is always right: any kept snapshot, old or new, finds every record
// after it in the same file, so falling back past a corrupt snapshot needs no bookkeeping.
// The price is a journal that grows without bound. Production systems rotate: start a new
// segment file after each snapshot and delete segments older than the oldest kept snapshot;
// recovery then reads segments in order and must check continuity across them. That is the
// next step for this code, not done here.
//
// Usage, on the engine's owner thread:
//   auto rec = sw::recover<Book, Command>(dir, codec, Book{}, apply);   // apply(Book&, const Command&, seq)
//   sw::Durable<Command, Codec> durable(dir, codec, {.fsync = FsyncPolicy::per_batch}, rec.report);
//   for (;;) {
//     for (auto& cmd : drain_batch()) {
//       const auto seq = durable.append(cmd);   // journal first ...
//       apply(rec.state, cmd, seq);              // ... then apply
//     }
//     durable.end_batch();                       // one fdatasync for the whole batch
//     send_replies();                            // only now: a reply means "durable"
//     durable.maybe_snapshot(rec.state, durable.last_sequence());
//   }
#pragma once

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "patterns/single_writer/codec.hpp"
#include "patterns/single_writer/journal.hpp"
#include "patterns/single_writer/snapshot.hpp"

namespace cp::sw {

inline std::filesystem::path journal_path(const std::filesystem::path& dir) { return dir / "journal.log"; }

// RecoveryError: the directory's contents cannot give back a state some run actually had
// (a sequence gap between snapshot and journal).
struct RecoveryError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// SkippedDamage: a damaged stretch of the journal that only held records the snapshot
// already covers, so replay stepped over it.
struct SkippedDamage {
  std::uint64_t from_offset;  // first bad byte (start of the damaged record)
  std::uint64_t to_offset;    // where the next good record starts
  std::string message;
};

struct RecoveryReport {
  std::optional<std::uint64_t> snapshot_sequence;  // nullopt: started from the initial state
  std::filesystem::path snapshot_path;
  std::vector<SkippedSnapshot> skipped_snapshots;  // newer snapshots that were invalid
  bool journal_found = false;
  // How the (last stretch of the) journal read ended; clean_end if there is no journal.
  ReplayReport journal;
  std::vector<SkippedDamage> skipped_damage;  // damage inside records the snapshot covers
  // The journal stopped at damage with good records after it (not a torn tail): those
  // records cannot be applied (a gap) and cutting them needs a person's decision, so
  // Durable refuses to continue. next_good_record_offset says where they start.
  bool good_records_after_problem = false;
  std::uint64_t next_good_record_offset = 0;
  std::uint64_t records_replayed = 0;  // commands applied on top of the snapshot
  std::uint64_t next_sequence = 1;     // the sequence the next command gets

  // clean: nothing invalid was seen (no skipped snapshot or damage, journal ends cleanly).
  bool clean() const { return skipped_snapshots.empty() && skipped_damage.empty() && journal.clean(); }
  std::string summary() const {
    std::string s = snapshot_sequence ? "snapshot " + std::to_string(*snapshot_sequence) : "no snapshot";
    s += ", " + std::to_string(records_replayed) + " records replayed, journal " + to_string(journal.stop_reason);
    if (!journal.message.empty()) s += " (" + journal.message + ")";
    for (const auto& k : skipped_snapshots) s += "; skipped " + k.path.filename().string() + ": " + k.reason;
    for (const auto& d : skipped_damage)
      s += "; stepped over bytes " + std::to_string(d.from_offset) + ".." + std::to_string(d.to_offset) +
           " (covered by the snapshot): " + d.message;
    if (good_records_after_problem)
      s += "; good records follow the damage at offset " + std::to_string(next_good_record_offset);
    return s;
  }
};

template <class State>
struct Recovered {
  State state;
  std::uint64_t next_sequence = 1;
  RecoveryReport report;
};

// recover: rebuilds the state of `dir` (a missing directory is a fresh start):
//   1. the newest snapshot that checks out and decodes (codec.snapshot_decode), else `initial`;
//   2. every good journal record with sequence > the snapshot's, decoded (codec.decode) and
//      applied in order with apply(state, command, sequence).
// At damage (corrupt_record / truncated_tail) it looks for the next good record: none means a
// torn tail (the normal crash case); one whose records the snapshot already covers is stepped
// over (reported in skipped_damage); one past the state means commands are lost mid-file:
// replay stops there and good_records_after_problem is set.
// The journal is only read, never repaired: Durable's constructor truncates a bad tail.
// Throws RecoveryError on a sequence gap, std::system_error if a file cannot be read.
template <class State, class Command, class Codec, class Apply>
  requires CommandCodec<Codec, Command> && StateCodec<Codec, State> &&
           std::invocable<Apply&, State&, const Command&, std::uint64_t>
Recovered<State> recover(const std::filesystem::path& dir, const Codec& codec, State initial, Apply&& apply) {
  Recovered<State> out{std::move(initial), 1, {}};
  std::optional<State> decoded;
  LatestSnapshot latest = read_latest_snapshot(dir, [&](const Snapshot& s) -> std::string {
    decoded = codec.snapshot_decode(s.bytes);
    return decoded ? "" : "state does not decode";
  });
  out.report.skipped_snapshots = std::move(latest.skipped);
  std::uint64_t after = 0;
  if (latest.snapshot) {
    out.state = std::move(*decoded);
    after = latest.snapshot->sequence;
    out.report.snapshot_sequence = after;
    out.report.snapshot_path = latest.snapshot->path;
  }

  std::uint64_t expected = after + 1;
  const auto jpath = journal_path(dir);
  std::error_code ec;
  out.report.journal_found = std::filesystem::exists(jpath, ec);
  auto on_command = [&](const Command& cmd, std::uint64_t seq) {
    if (seq != expected)
      throw RecoveryError("recover " + dir.string() + ": journal record " + std::to_string(seq) +
                          " follows state " + std::to_string(expected - 1) + "; commands " +
                          std::to_string(expected) + ".." + std::to_string(seq - 1) + " are missing");
    apply(out.state, cmd, seq);
    ++expected;
  };
  std::uint64_t start = 0;
  while (out.report.journal_found) {
    auto& j = out.report.journal;
    j = read_commands<Command>(jpath, expected - 1, codec, on_command, start);
    if (j.stop_reason != StopReason::corrupt_record && j.stop_reason != StopReason::truncated_tail) break;
    if (j.byte_offset_of_problem == 0) break;  // inside the file header: a tail by definition
    const auto next = find_next_good_record(jpath, j.byte_offset_of_problem + 1);
    if (!next) break;  // a torn or damaged tail
    if (next->sequence > expected) {  // the damage ate commands the state still needs
      out.report.good_records_after_problem = true;
      out.report.next_good_record_offset = next->offset;
      break;
    }
    out.report.skipped_damage.push_back({j.byte_offset_of_problem, next->offset, j.message});
    start = next->offset;
  }
  out.report.records_replayed = expected - after - 1;
  out.report.next_sequence = out.next_sequence = expected;
  return out;
}

struct DurableOptions {
  FsyncPolicy fsync = FsyncPolicy::per_batch;
  std::uint64_t snapshot_every = 10'000;  // commands between snapshots; 0: never
  std::size_t snapshots_to_keep = 2;      // >= 1; more lets recovery skip a corrupt newest
  bool repair_journal_tail = true;        // truncate a torn/corrupt tail on open (else throw)
};

// Durable: the journal and snapshots of one directory, driven by the engine's owner thread.
// Single owner thread only, like the state it protects: no locks.
template <class Command, class Codec>
  requires CommandCodec<Codec, Command>
class Durable {
 public:
  // Continues the directory that `recovered` describes (call recover() on the same dir just
  // before, with nothing written in between). A truncated or corrupt journal tail is cut back
  // to the last good record (what was after it is reported in recovered.journal). Refused
  // with std::runtime_error, because appending would bury data a person should look at
  // first: a bad header, an undecodable record, or damage with good records after it (to
  // accept losing those: truncate_to_last_good(journal_path(dir), report.journal), then
  // recover again). Throws std::system_error (with the path) if the directory or journal
  // cannot be created or opened.
  Durable(std::filesystem::path dir, Codec codec, DurableOptions options, const RecoveryReport& recovered)
      : dir_(std::move(dir)),
        codec_(std::move(codec)),
        options_(options),
        journal_(open_journal(dir_, options_, recovered)),
        last_snapshot_(recovered.snapshot_sequence.value_or(0)) {
    prune_snapshots(dir_, options_.snapshots_to_keep);  // also clears temp files of a crash
  }

  // append: journals `command` with the next sequence and returns that sequence. Durable per
  // the policy: per_command now, per_batch at end_batch(), none never.
  std::uint64_t append(const Command& command) {
    const std::uint64_t seq = journal_.last_sequence() + 1;
    journal_.append(seq, command, codec_);
    return seq;
  }

  // end_batch: call after each batch, before replying: per_batch writes + fdatasyncs here.
  void end_batch() { journal_.sync(); }

  // maybe_snapshot: if options.snapshot_every commands have passed since the last snapshot,
  // snapshots `state`, which must be the state after applying every command up to `sequence`
  // (normally last_sequence()). Returns whether it wrote one.
  template <class State>
    requires StateCodec<Codec, State>
  bool maybe_snapshot(const State& state, std::uint64_t sequence) {
    if (options_.snapshot_every == 0 || sequence < last_snapshot_ + options_.snapshot_every) return false;
    snapshot_now(state, sequence);
    return true;
  }

  // snapshot_now: syncs the journal (an older snapshot is only a fallback if the journal
  // behind it is durable), writes the snapshot atomically, prunes old ones.
  template <class State>
    requires StateCodec<Codec, State>
  std::filesystem::path snapshot_now(const State& state, std::uint64_t sequence) {
    if (sequence > journal_.last_sequence())
      throw std::logic_error("Durable::snapshot_now: sequence " + std::to_string(sequence) +
                             " was never appended (last " + std::to_string(journal_.last_sequence()) + ")");
    journal_.sync();
    auto path = write_state_snapshot(dir_, sequence, state, codec_);
    last_snapshot_ = sequence;
    prune_snapshots(dir_, options_.snapshots_to_keep);
    return path;
  }

  std::uint64_t last_sequence() const { return journal_.last_sequence(); }
  std::uint64_t next_sequence() const { return journal_.last_sequence() + 1; }
  std::uint64_t last_snapshot_sequence() const { return last_snapshot_; }
  const JournalWriter& journal() const { return journal_; }
  const std::filesystem::path& dir() const { return dir_; }

  // close: syncs and closes the journal; throws on error. The destructor does it best-effort.
  void close() { journal_.close(); }
  // abandon: drops what is not yet written, as a process crash would (tests, demos).
  void abandon() { journal_.abandon(); }

 private:
  static JournalWriter open_journal(const std::filesystem::path& dir, const DurableOptions& options,
                                    const RecoveryReport& recovered) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw std::system_error(ec, "create_directories " + dir.string());
    const auto path = journal_path(dir);
    const auto& j = recovered.journal;
    if (j.stop_reason == StopReason::bad_header || j.stop_reason == StopReason::undecodable)
      throw std::runtime_error("Durable: journal " + path.string() + " cannot be continued: " + to_string(j.stop_reason) +
                               ": " + j.message);
    if (recovered.good_records_after_problem)
      throw std::runtime_error("Durable: journal " + path.string() + " is damaged at offset " +
                               std::to_string(j.byte_offset_of_problem) + " (" + j.message +
                               ") and good records follow at offset " +
                               std::to_string(recovered.next_good_record_offset) +
                               "; refusing to cut them (see truncate_to_last_good)");
    if (!j.clean()) {
      if (!options.repair_journal_tail)
        throw std::runtime_error("Durable: journal " + path.string() + " has a bad tail (" + j.message +
                                 ") and repair_journal_tail is off");
      truncate_to_last_good(path, j);
    }
    return JournalWriter(path, options.fsync, recovered.next_sequence - 1);
  }

  std::filesystem::path dir_;
  Codec codec_;
  DurableOptions options_;
  JournalWriter journal_;
  std::uint64_t last_snapshot_;
};

}  // namespace cp::sw
