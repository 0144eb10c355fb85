// single_writer_order.hpp: the order workload with one owner thread (patterns/single_writer).
//
//   SingleWriterOrderEngine "single-writer" - the reference core (OrderCore) owned by one
//                             thread, the owner; place / cancel / query / state() are commands
//                             sent to it through a bounded ring, each caller waiting for the
//                             owner's reply. The owner numbers every contract command (its
//                             commit sequence) and can log them (record_commits / commits).
//   OrderMessage            - what travels through the ring: a contract command, or a control
//                             request (state, record on/off, commits).
//   SingleWriterOrderPipelined "single-writer-pipelined" - the same engine, driven by the
//                             comparison with a window of commands in flight per client.
//   OrderOwner              - the owner's state: OrderCore + commit log + optional journal.
//                             Only the owner thread touches it (and others after stop()).
//   OrderCodec              - OrderCommand <-> journal bytes; OrderOwner <-> snapshot bytes
//                             (the state itself: state_codec.hpp + OrderCore::restore).
//   DurableOrderOptions     - opt-in journal + snapshots (patterns/single_writer/recovery.hpp):
//                             an engine constructed with them recovers its directory first.
//
// Why: the matching code is the reference's, unchanged and single-threaded; the only
// synchronisation is the ring and the reply slot. Commands apply in ring order, which is
// therefore a total commit order: the log replays through the reference exactly, and the same
// input order gives bit-identical replies and state whatever the number of client threads.
// When not: every command, a query included, costs a hand-off to the owner and back (two
// cache-line transfers and often a futex wake-up on each side); on this workload the owner is
// one core, so throughput is capped by one core's matching speed plus the hand-offs. A mutex
// around the same core costs less per command when contention is low; the single writer wins
// when many threads contend (no lock convoy) and when order and replay matter.
//
// How a caller waits (traits.waiting): in ReplySlot::wait, 200 re-checks with the CPU's pause
// hint (about a microsecond), then a futex sleep until the owner fulfils the slot; a caller
// that finds the ring full, and the idle owner, wait with the engine's strategy: phased-backoff
// (spin ~10 us, yield until ~100 us, then a futex). So it blocks; it never spins for long.
//
// state(): a command, so it is the state at one point of the commit order (linearizable), and
// it works while other clients run. The alternative, a quiescent barrier then reading the
// owner's state from the caller's thread, would need the owner to stay parked while the
// caller reads (another hand-off protocol) and would still only be right at quiescence.
//
// Lifecycle: the owner thread starts in the constructor; stop() (or the destructor) closes
// the ring, drains every accepted command, joins. After stop(), place/cancel/query answer
// Reject::stopped; state() and commits() read the stopped owner's state (the join orders it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "comparisons/order/contract.hpp"
#include "comparisons/order/reference.hpp"
#include "comparisons/order/state_codec.hpp"
#include "comparisons/order/state_hash.hpp"
#include "patterns/single_writer/codec.hpp"
#include "patterns/single_writer/engine.hpp"
#include "patterns/single_writer/recovery.hpp"
#include "patterns/single_writer/reply_slot.hpp"

namespace cp {

// ---- the messages ---------------------------------------------------------------------------

enum class OrderControlKind : std::uint8_t { none, state, record_on, record_off, commits };

// OrderControl: a request about the engine rather than the market. The owner writes its
// answer through the pointer before it fulfils the caller's reply slot; the slot's
// release/acquire hand-off makes that write visible to the caller.
struct OrderControl {
  OrderControlKind kind = OrderControlKind::none;
  OrderState* state_out = nullptr;           // kind == state
  std::vector<Commit>* commits_out = nullptr;  // kind == commits
};

struct OrderMessage {
  OrderCommand command{};  // used when control.kind == none
  OrderControl control{};
};

// ---- the codec: journal records and snapshots ------------------------------------------------
//
// Command record: u8 tag (0 place, 1 cancel, 2 query), then the fields, little-endian:
//   place  u64 id, u32 account, u32 symbol, u8 side (0 buy, 1 sell), i64 price, i64 qty
//   cancel u64 id, u32 account
//   query  u32 account
// Fields are written as given (a malformed command is journaled as it came: its reject is
// part of the history and replays to the same reject).

class OrderOwner;

class OrderCodec {
 public:
  explicit OrderCodec(const OrderConfig& config) : config_(config) {}

  static void encode(const OrderCommand& cmd, sw::Buffer& out) {
    if (const auto* p = std::get_if<PlaceCmd>(&cmd)) {
      sw::put_u8(out, 0);
      sw::put_u64(out, p->id);
      sw::put_u32(out, p->account);
      sw::put_u32(out, p->symbol);
      sw::put_u8(out, p->side == Side::buy ? 0 : 1);
      sw::put_i64(out, p->price);
      sw::put_i64(out, p->qty);
    } else if (const auto* c = std::get_if<CancelCmd>(&cmd)) {
      sw::put_u8(out, 1);
      sw::put_u64(out, c->id);
      sw::put_u32(out, c->account);
    } else {
      sw::put_u8(out, 2);
      sw::put_u32(out, std::get<QueryCmd>(cmd).account);
    }
  }

  // read_command: one command from a reader (nullopt on an unknown tag or side; a short read
  // shows in r.ok()).
  static std::optional<OrderCommand> read_command(sw::ByteReader& r) {
    switch (r.u8()) {
      case 0: {
        PlaceCmd p;
        p.id = r.u64();
        p.account = r.u32();
        p.symbol = r.u32();
        const std::uint8_t side = r.u8();
        if (side > 1) return std::nullopt;
        p.side = side == 0 ? Side::buy : Side::sell;
        p.price = r.i64();
        p.qty = r.i64();
        return OrderCommand{p};
      }
      case 1: {
        CancelCmd c;
        c.id = r.u64();
        c.account = r.u32();
        return OrderCommand{c};
      }
      case 2: return OrderCommand{QueryCmd{r.u32()}};
      default: return std::nullopt;
    }
  }

  static std::optional<OrderCommand> decode(sw::ByteView in) {
    sw::ByteReader r(in);
    auto cmd = read_command(r);
    if (!cmd || !r.done()) return std::nullopt;
    return cmd;
  }

  // Snapshots: see OrderOwner (defined below, where OrderOwner is complete).
  void snapshot_encode(const OrderOwner& owner, sw::Buffer& out) const;
  std::optional<OrderOwner> snapshot_decode(sw::ByteView in) const;

  const OrderConfig& config() const { return config_; }

 private:
  OrderConfig config_;
};

// ---- the owner's state ----------------------------------------------------------------------

// OrderOwner: everything the owner thread owns. Used by the owner thread only (and by the
// constructing thread before the owner starts, and any thread after stop()).
class OrderOwner {
 public:
  using Durable = sw::Durable<OrderCommand, OrderCodec>;

  explicit OrderOwner(const OrderConfig& config) : core_(config) {}
  // From a core restored out of a snapshot (OrderCodec::snapshot_decode).
  explicit OrderOwner(OrderCore core) : core_(std::move(core)) {}

  // apply: used by the owner thread, once per message, in ring order.
  OrderReply apply(OrderMessage& m, std::uint64_t /*ring sequence*/) {
    if (m.control.kind != OrderControlKind::none) {
      control(m.control);
      return OrderReply{};  // the answer went through the control's pointer
    }
    return commit(m.command);
  }

  // end_batch: used by the owner thread after each batch (sw::Engine's hook). Group commit:
  // with fsync per_batch, the batch's journal records are written and fdatasync'ed here, and
  // holds_replies_until_end_batch() makes the engine send the batch's replies only after.
  void end_batch() {
    if (durable_) durable_->end_batch();
  }
  bool holds_replies_until_end_batch() const {
    return durable_ && durable_->journal().policy() == sw::FsyncPolicy::per_batch;
  }

  // replay: a command from the journal (recovery): applied, not journaled.
  OrderReply replay(const OrderCommand& cmd) {
    OrderReply reply = apply_order_command(core_, cmd);
    ++committed_;
    return reply;
  }

  void attach(std::unique_ptr<Durable> durable) { durable_ = std::move(durable); }

  const OrderCore& core() const { return core_; }
  const std::vector<Commit>& log() const { return log_; }
  std::uint64_t committed() const { return committed_; }

 private:
  // commit: one contract command. Its commit sequence is committed_ (before the increment).
  OrderReply commit(const OrderCommand& cmd) {
    const bool changes_state = !std::holds_alternative<QueryCmd>(cmd);
    // Journal first, then apply (write-ahead): a reply is only sent for a journaled command.
    if (durable_ && changes_state) durable_->append(cmd);
    OrderReply reply = apply_order_command(core_, cmd);
    ++committed_;
    if (recording_) log_.push_back({cmd, reply});  // off by default: one predictable branch
    if (durable_ && changes_state) {
      durable_->maybe_snapshot(*this, durable_->last_sequence());
    }
    return reply;
  }

  void control(const OrderControl& c) {
    switch (c.kind) {
      case OrderControlKind::state: *c.state_out = core_.state(); break;
      case OrderControlKind::record_on:
        recording_ = true;
        log_.clear();
        break;
      case OrderControlKind::record_off: recording_ = false; break;
      case OrderControlKind::commits: *c.commits_out = log_; break;
      case OrderControlKind::none: break;
    }
  }

  OrderCore core_;
  std::uint64_t committed_ = 0;  // contract commands applied: the next commit sequence
  bool recording_ = false;
  std::vector<Commit> log_;      // (command, reply) in commit order, while recording_
  std::unique_ptr<Durable> durable_;  // null: no journal (the registered design)
};

// Snapshot payload (little-endian):
//   the state, encode_order_state (state_codec.hpp: u32 format 2, the config, accounts, every
//   accepted order, the books in priority order, trade totals) | u64 state_hash of that state
//
// A snapshot is the state itself, so loading one costs time and memory in proportion to the
// state (accounts + accepted orders + resting orders), not to the history that built it:
// nothing is re-matched. The contract keeps a record of every accepted order, so the state,
// and the snapshot with it, still grows with accepted orders (30 bytes each); queries,
// rejected commands and cancels add nothing.
//
// Decoding refuses (nullopt; recover() then falls back to an older snapshot or to the journal
// from the start) bytes that are not exactly one format-2 state plus its hash, a state of
// another configuration, a hash that does not match the decoded state, and a state that
// OrderCore::restore refuses (out of range, or breaking a contract invariant). A snapshot of
// format 1 (the compacted command log of earlier builds) is refused as such: recovery
// replays the journal instead, which is never rotated and so always complete.
//
// The owner's commit counter (committed()) is not in the snapshot, as it was not before:
// after recovery it counts the commands applied since (nothing reads it to decide anything).
inline void OrderCodec::snapshot_encode(const OrderOwner& owner, sw::Buffer& out) const {
  const OrderState state = owner.core().state();
  encode_order_state(state, out);
  sw::put_u64(out, state_hash(state));
}

inline std::optional<OrderOwner> OrderCodec::snapshot_decode(sw::ByteView in) const {
  sw::ByteReader r(in);
  const std::optional<OrderState> state = read_order_state(r);
  const std::uint64_t hash = r.u64();
  if (!state || !r.done()) return std::nullopt;
  const OrderConfig& c = state->config;
  if (c.symbols != config_.symbols || c.accounts != config_.accounts ||
      c.initial_cash != config_.initial_cash || c.max_price != config_.max_price ||
      c.max_qty != config_.max_qty)
    return std::nullopt;  // a snapshot of another configuration
  if (hash != state_hash(*state)) return std::nullopt;
  std::optional<OrderCore> core = OrderCore::restore(*state);
  if (!core) return std::nullopt;
  return OrderOwner(std::move(*core));
}

static_assert(sw::CommandCodec<OrderCodec, OrderCommand>);
static_assert(sw::StateCodec<OrderCodec, OrderOwner>);

// ---- durability options ---------------------------------------------------------------------

// DurableOrderOptions: journal every place/cancel (write-ahead, before it is applied) and
// snapshot every `snapshot_every` of them into `dir`. fsync: none (a process crash loses
// nothing: each record is one write(2) before the reply; a machine crash may), per_batch
// (group commit: the owner fdatasyncs once after each batch and only then sends that batch's
// replies, so a reply still means "on disk", at one sync per batch instead of per command),
// or per_command (fdatasync before each reply).
struct DurableOrderOptions {
  std::filesystem::path dir;
  sw::FsyncPolicy fsync = sw::FsyncPolicy::none;
  std::uint64_t snapshot_every = 10'000;
  std::size_t snapshots_to_keep = 2;
};

// ---- the design -----------------------------------------------------------------------------

// The wait strategy is a parameter (the comparison's --wait knob swaps it, with_wait); the
// registered design, SingleWriterOrderEngine, waits with PhasedBackoffWaitStrategy: measured
// on a quiet 2-core machine, a synchronous call's p99 went from ~77 us (blocking: a futex
// wake-up on each side once the ~1.5 us spin ran out) to ~1.3 us, and 1-client throughput
// from ~170 k to ~1 M commands/s. Under heavy outside load it is worse (its yield phase gives
// the core away without the wake-up preemption a futex sleeper gets): see docs/single_writer.md.
template <sw::WaitStrategy Wait = sw::BlockingWaitStrategy>
class SingleWriterOrderEngineT {
 public:
  static constexpr std::size_t kQueueCapacity = 1024;
  using engine_type = sw::Engine<OrderOwner, OrderMessage, sw::MultiProducerRing, Wait>;
  using wait_strategy = Wait;
  template <sw::WaitStrategy W>
  using with_wait = SingleWriterOrderEngineT<W>;

  static constexpr DesignTraits traits{
      .name = "single-writer",
      .family = Family::single_writer,
      .thread_safe = true,
      // Every command, a query included, is applied by the owner in commit order, and its
      // reply is sent after: a query sees every command whose reply came before it was sent.
      .linearizable_reads = true,
      .lock_free = false,  // a caller waits for the owner (and for room in a full ring)
      .waiting = sw::kCallerWaiting<Wait>,  // blocks, unless the ring's strategy spins
      .queue_bound = kQueueCapacity,
      .overload = Overload::block,  // call() waits for room: backpressure reaches the caller
      .exposes_commit_order = true,
      .owned_threads = 1,
  };

  explicit SingleWriterOrderEngineT(OrderConfig config)
      : engine_(kQueueCapacity, OrderOwner(config)) {}

  // Durable: recovers `options.dir` (newest valid snapshot + the journal after it; a fresh
  // directory is a fresh start), then journals every place/cancel from there on. Throws
  // sw::RecoveryError or std::system_error when the directory cannot be recovered or written.
  SingleWriterOrderEngineT(OrderConfig config, const DurableOrderOptions& options)
      : engine_(kQueueCapacity, recover_owner(config, options, recovery_)) {}

  SingleWriterOrderEngineT(const SingleWriterOrderEngineT&) = delete;
  SingleWriterOrderEngineT& operator=(const SingleWriterOrderEngineT&) = delete;
  ~SingleWriterOrderEngineT() = default;  // engine_'s destructor stops: drains, joins

  // place / cancel / query: any thread; wait for the owner's reply. Reject::stopped once the
  // engine was stopped before the command got into the ring.
  PlaceReply place(const PlaceCmd& cmd) { return call_as<PlaceReply>(cmd); }
  CancelReply cancel(const CancelCmd& cmd) { return call_as<CancelReply>(cmd); }
  QueryReply query(const QueryCmd& cmd) { return call_as<QueryReply>(cmd); }

  // state: the whole state at one point of the commit order (a command to the owner); after
  // stop(), the stopped owner's state. Any thread.
  OrderState state() {
    OrderState out;
    if (control({.kind = OrderControlKind::state, .state_out = &out})) return out;
    return engine_.state_after_stop().core().state();
  }

  // record_commits: starts (clearing the log) or stops logging every contract command with
  // its reply in commit order, at a precise point of that order. No effect after stop().
  void record_commits(bool on) {
    control({.kind = on ? OrderControlKind::record_on : OrderControlKind::record_off});
  }

  // commits: a copy of the log so far, in commit order.
  std::vector<Commit> commits() {
    std::vector<Commit> out;
    if (control({.kind = OrderControlKind::commits, .commits_out = &out})) return out;
    return engine_.state_after_stop().log();
  }

  // ReplyWindow: a pipelining producer's replies (patterns/single_writer/reply_window.hpp).
  using ReplyWindow = typename engine_type::reply_window;

  // submit_with_reply: pipelined mode. Puts `cmd` into the ring (waiting for room if full) and
  // returns at once; its reply arrives in `window` (window.take(), in the order submitted).
  // The window must have room (window.has_room(); else std::logic_error) and belong to the
  // calling thread. Returns false (and no reply will come) once the engine is stopped.
  bool submit_with_reply(const OrderCommand& cmd, ReplyWindow& window) {
    return engine_.submit_to(OrderMessage{.command = cmd}, window) == sw::SubmitStatus::accepted;
  }

  // stop: closes the ring, drains what was accepted, joins the owner. Idempotent.
  void stop() { engine_.stop(); }

  std::uint64_t processed() const { return engine_.processed(); }
  std::size_t queue_capacity() const { return engine_.capacity(); }
  // What recovery found (durable engines; default-constructed otherwise).
  const sw::RecoveryReport& recovery_report() const { return recovery_; }

 private:
  template <class Reply>
  Reply call_as(const OrderCommand& cmd) {
    std::optional<OrderReply> r = engine_.call(OrderMessage{.command = cmd});
    if (!r) return Reply{Reject::stopped};
    return std::get<Reply>(*r);  // the owner answers a command with its own kind
  }

  // control: true when the owner answered; false when the engine is stopped.
  bool control(const OrderControl& c) { return engine_.call(OrderMessage{.control = c}).has_value(); }

  static OrderOwner recover_owner(const OrderConfig& config, const DurableOrderOptions& options,
                                  sw::RecoveryReport& report) {
    const OrderCodec codec(check(config));
    auto rec = sw::recover<OrderOwner, OrderCommand>(
        options.dir, codec, OrderOwner(config),
        [](OrderOwner& owner, const OrderCommand& cmd, std::uint64_t) { owner.replay(cmd); });
    report = rec.report;
    rec.state.attach(std::make_unique<OrderOwner::Durable>(
        options.dir, codec,
        sw::DurableOptions{.fsync = options.fsync, .snapshot_every = options.snapshot_every,
                           .snapshots_to_keep = options.snapshots_to_keep},
        rec.report));
    return std::move(rec.state);
  }

  sw::RecoveryReport recovery_;  // before engine_: recover_owner fills it
  engine_type engine_;           // last: its owner thread starts once the rest exists
};

// SingleWriterOrderPipelined "single-writer-pipelined": the same engine, registered a second
// time so that the comparison drives it pipelined: each client keeps up to kPipelineWindow
// commands in flight (submit_with_reply) and takes their replies back in order (OrderDriver
// checks traits.pipelined). As a contract design (place/cancel/query) it is exactly
// SingleWriterOrderEngine, and the conformance suite tests it as such.

using SingleWriterOrderEngine = SingleWriterOrderEngineT<sw::PhasedBackoffWaitStrategy>;

template <sw::WaitStrategy Wait = sw::BlockingWaitStrategy>
class SingleWriterOrderPipelinedT : public SingleWriterOrderEngineT<Wait> {
 public:
  template <sw::WaitStrategy W>
  using with_wait = SingleWriterOrderPipelinedT<W>;
  static constexpr std::size_t kPipelineWindow = 128;  // per client; a power of two
  static constexpr DesignTraits traits = [] {
    DesignTraits t = SingleWriterOrderEngineT<Wait>::traits;
    t.name = "single-writer-pipelined";
    t.pipelined = true;
    return t;
  }();
  using SingleWriterOrderEngineT<Wait>::SingleWriterOrderEngineT;
};

using SingleWriterOrderPipelined = SingleWriterOrderPipelinedT<sw::PhasedBackoffWaitStrategy>;

}  // namespace cp
