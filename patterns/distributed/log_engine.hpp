// log_engine.hpp: LogEngine, a single writer fed by a replicated log instead of an in-process
// ring. Its commands come from a JetStream stream (jetstream_log.hpp), in stream order; the
// stream is the journal, and a snapshot records the stream sequence it covers.
//
//   LogEngine(conn, codec, initial, options)
//              - recovers: the newest valid snapshot in options.snapshot_dir gives the state
//                and the sequence S it covers; the engine reads the stream from S + 1. With
//                no snapshot it starts from `initial` at sequence 1.
//   poll(wait) - one batch: each command decoded, applied and answered, in stream order, and
//                a snapshot every options.snapshot_every commands. Returns how many it read.
//   snapshot() - writes a snapshot now (a clean stop calls it; a crash does not).
//   lag()      - the commands on its subject the stream holds that it has not read yet (the
//                server's consumer info): what a slow partition owes.
//   applied_through(), owner(), stats()
//
// Exactly once. A command's effect is in the state if and only if its sequence is at most
// applied_through(), and a snapshot holds the state together with that sequence (one atomic
// file: patterns/single_writer/snapshot.hpp). So a restart neither skips nor repeats a
// command. A reply can be sent twice: a command applied after the last snapshot is applied
// again after a crash and answered again, with the same sequence and the same answer (the
// owner is deterministic). A client keeps the first answer for each sequence.
// The engine does not rely on its consumer for this: an entry whose sequence is at or below
// applied_through() is dropped unapplied and unanswered (stats().redelivered). A consumer can
// deliver one again: l10_faults saw 300 commands delivered twice after the whole cluster was
// restarted, and most of them changed nothing (a place with a known id, a cancel of a closed
// order is rejected), so only the count of applied commands showed it.
//
// Bad input. A message that does not decode is answered with status `malformed`, counted and
// consumed: it changes nothing, and nothing behind it waits.
//
// Reply bytes: u64 stream sequence, u8 status (0 applied, 1 malformed), then, if applied, the
// codec's encoding of the owner's reply.
//
// The requirements, as the single-writer engine's (patterns/single_writer/engine.hpp):
//   Owner: Reply apply(const Command&), deterministic, single-threaded.
//   Codec: std::optional<Command> decode(ByteView); void encode_reply(const Reply&, Buffer&);
//          snapshot_encode(const Owner&, Buffer&); std::optional<Owner> snapshot_decode(ByteView).
// Threads: one thread calls everything, as the one owner of the state.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "patterns/distributed/jetstream_log.hpp"
#include "patterns/single_writer/codec.hpp"
#include "patterns/single_writer/snapshot.hpp"

namespace cp::dist {

enum class LogReplyStatus : std::uint8_t { applied = 0, malformed = 1 };

struct LogEngineOptions {
  std::string stream;                  // the stream's name
  std::string subject;                 // what this engine consumes: its partition's subject
  std::filesystem::path snapshot_dir;  // must exist
  std::uint64_t snapshot_every = 10000;  // commands between snapshots; 0: only snapshot()
  int batch = 256;                     // commands per fetch
};

struct LogEngineStats {
  std::uint64_t resumed_after = 0;  // the sequence of the snapshot recovered (0: none)
  std::uint64_t applied = 0;        // commands applied by this engine object (since recovery)
  std::uint64_t malformed = 0;      // messages that did not decode, answered and consumed
  std::uint64_t snapshots = 0;      // snapshots written by this engine object
  std::uint64_t redelivered = 0;    // entries at or below applied_through(), dropped unapplied
};

template <class Command, class Owner, class Codec>
class LogEngine {
 public:
  LogEngine(const NatsConnection& conn, Codec codec, Owner initial, LogEngineOptions options)
      : conn_(conn), codec_(std::move(codec)), options_(std::move(options)),
        owner_(recover(std::move(initial))),
        reader_(conn_, options_.stream, options_.subject, applied_through_ + 1) {}

  // poll: reads up to one batch (waiting at most `wait` for the first command) and applies it.
  std::size_t poll(std::chrono::milliseconds wait) {
    return apply_batch(reader_.next_batch(options_.batch, wait));
  }

  // apply_batch: what poll does with the entries the reader returned, in order (public so that
  // a test can hand it what a misbehaving consumer could deliver). Returns batch.size().
  std::size_t apply_batch(const std::vector<LogEntry>& batch) {
    for (const LogEntry& e : batch) apply_one(e);
    if (!batch.empty()) flush(conn_);  // the batch's replies leave together
    return batch.size();
  }

  void snapshot() {
    sw::write_state_snapshot(options_.snapshot_dir, applied_through_, owner_, codec_);
    sw::prune_snapshots(options_.snapshot_dir, 2);
    ++stats_.snapshots;
    since_snapshot_ = 0;
  }

  std::uint64_t lag() const { return reader_.pending(); }
  std::uint64_t applied_through() const { return applied_through_; }
  const Owner& owner() const { return owner_; }
  const LogEngineStats& stats() const { return stats_; }

 private:
  // [quote: recover]
  Owner recover(Owner initial) {
    auto latest = sw::read_latest_snapshot(options_.snapshot_dir, [&](const sw::Snapshot& s) {
      return codec_.snapshot_decode(s.bytes) ? std::string() : std::string("does not decode");
    });
    if (!latest.snapshot) return initial;
    applied_through_ = stats_.resumed_after = latest.snapshot->sequence;
    return std::move(*codec_.snapshot_decode(latest.snapshot->bytes));
  }
  // [end quote]

  // [quote: apply-one]
  void apply_one(const LogEntry& e) {
    if (e.sequence <= applied_through_) {  // delivered again: applied and answered already
      ++stats_.redelivered;
      return;
    }
    sw::Buffer reply;
    sw::put_u64(reply, e.sequence);
    const auto* data = reinterpret_cast<const std::byte*>(e.bytes.data());
    const std::optional<Command> cmd = codec_.decode(sw::ByteView(data, e.bytes.size()));
    if (cmd) {
      sw::put_u8(reply, static_cast<std::uint8_t>(LogReplyStatus::applied));
      codec_.encode_reply(owner_.apply(*cmd), reply);
      ++stats_.applied;
    } else {
      sw::put_u8(reply, static_cast<std::uint8_t>(LogReplyStatus::malformed));
      ++stats_.malformed;
    }
    applied_through_ = e.sequence;
    if (!e.reply_to.empty())
      publish(conn_, e.reply_to,
              std::string_view(reinterpret_cast<const char*>(reply.data()), reply.size()));
    if (options_.snapshot_every != 0 && ++since_snapshot_ >= options_.snapshot_every) snapshot();
  }
  // [end quote]

  const NatsConnection& conn_;
  Codec codec_;
  LogEngineOptions options_;
  std::uint64_t applied_through_ = 0;
  LogEngineStats stats_;
  Owner owner_;
  LogReader reader_;
  std::uint64_t since_snapshot_ = 0;
};

}  // namespace cp::dist
