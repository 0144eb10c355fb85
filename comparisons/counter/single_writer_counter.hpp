// single_writer_counter.hpp: the counter workload with the single-writer pattern
// (patterns/single_writer).
//
//   CounterCommand, CounterLogEntry, CounterShardLog
//                                  - what travels to the owner, and the optional record of
//                                    what it applied (a test hook, off by default)
//   CounterShardState              - the owner's state: the counters of one engine, plus a
//                                    running total; plain single-threaded code
//   SingleWriterCounter            - (= SingleWriterCounterT<PhasedBackoffWaitStrategy>)
//                                    one engine (one owner thread) owns every counter; add, get
//                                    and total are each one call() and the caller waits for the
//                                    owner's reply. Linearizable: one thread applies every
//                                    command, in one order (its sequence numbers).
//   ShardedSingleWriterCounterT<N> - N engines, key -> shard by hash; add/get go to the key's
//                                    shard, total() asks every shard in turn and sums: per-key
//                                    reads stay linearizable, total() does not (see below).
//   ShardedSingleWriterCounter     - the registered shape: N = 2.
//   PipelinedSingleWriterCounter   - one engine; add() returns once queued (fire-and-forget),
//                                    get/total are calls. Still linearizable (see there).
//
// Why a counter is the worst case for this pattern: the state is trivial (one add), so the
// whole cost is the hand-off: a ring push, the owner's wake-up, a reply slot, the caller's
// wake-up. The comparison shows that cost against a mutex (see docs/single_writer.md, "When
// not"). What the pattern buys even here: the owner is the only writer, so it keeps derived
// state for free (the running total makes total() O(1) instead of O(K)), and every applied
// command has a sequence number, so a run can be replayed (the log below).
//
// Bad input: an out-of-range key is answered on the caller's side (CounterError::unknown_key)
// without a round trip: the key count is immutable, so the check needs no owner. The owner
// checks again (its state must be safe on its own), which the caller side makes unreachable.
//
// Waiting: a caller waits for its reply in a ReplySlot (spins ~200 pauses, then sleeps on a
// futex), and for ring space, if full, with the engine's strategy (phased-backoff for the single
// engines, blocking for the sharded one; both end in a sleep): traits say `blocks`, checked by
// static_assert below and measured in tests. The idle owner sleeps too, after its spin.
//
// After stop (only reachable through stop_and_take_log(); the destructor is the other stop),
// every operation throws sw::EngineStopped (overload.hpp): the contract's CounterError has no
// "stopped" value, and a get has no error channel at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "comparisons/common/random.hpp"
#include "comparisons/counter/contract.hpp"
#include "comparisons/counter/reference.hpp"
#include "patterns/single_writer/single_writer.hpp"

namespace cp {

enum class CounterOp : std::uint8_t { add, get, total };

// One command for an owner. `slot` is where the key lives in that owner's array (== key for
// the single engine; a dense per-shard index for the sharded design); `key` is kept for the
// log, so a replay needs nothing but the log.
struct CounterCommand {
  CounterOp op = CounterOp::get;
  std::uint32_t key = 0;
  std::uint32_t slot = 0;
  std::int64_t delta = 0;  // add only
  friend bool operator==(const CounterCommand&, const CounterCommand&) = default;
};

// The reply is the contract's CounterRead: add -> {error, 0}; get -> {error, value};
// total -> {ok, this engine's sum}.
struct CounterLogEntry {
  std::uint64_t seq = 0;  // the owner's sequence number: the order of effects
  CounterCommand command;
  CounterRead reply;
};

// What one owner applied, and its counters at the end ((key, value) for every key it owns).
struct CounterShardLog {
  std::vector<CounterLogEntry> entries;  // in sequence order, dense from 0
  std::vector<std::pair<std::uint32_t, std::int64_t>> final_values;
};

struct SingleWriterCounterOptions {
  bool record_log = false;  // test hook: the owner records every (seq, command, reply)
};

// The state one owner thread holds. Not thread-safe: only its engine's owner touches it (and
// the stopping thread, after the join).
class CounterShardState {
 public:
  CounterShardState(std::vector<std::uint32_t> keys_of_slots, bool record_log)
      : keys_of_slots_(std::move(keys_of_slots)), values_(keys_of_slots_.size(), 0),
        record_log_(record_log) {}

  // apply: used by the single writer. Never throws (except bad_alloc from the log, which
  // ends the program: the engine cannot answer a call it failed; the log is a test hook).
  CounterRead apply(const CounterCommand& c, std::uint64_t seq) {
    const CounterRead reply = execute(c);
    if (record_log_) [[unlikely]] log_.entries.push_back({seq, c, reply});  // the one branch
    return reply;
  }

  // take_log: after the owner has been joined. A copy of the log, plus the final values.
  CounterShardLog take_log() const {
    CounterShardLog out = log_;
    out.final_values.reserve(values_.size());
    for (std::size_t s = 0; s < values_.size(); ++s)
      out.final_values.emplace_back(keys_of_slots_[s], values_[s]);
    return out;
  }

 private:
  CounterRead execute(const CounterCommand& c) {
    switch (c.op) {
      case CounterOp::add:
        if (c.slot >= values_.size()) return {CounterError::unknown_key, 0};
        values_[c.slot] = wrapping_add(values_[c.slot], c.delta);
        total_ = wrapping_add(total_, c.delta);  // derived state, kept by the only writer
        return {CounterError::ok, 0};
      case CounterOp::get:
        if (c.slot >= values_.size()) return {CounterError::unknown_key, 0};
        return {CounterError::ok, values_[c.slot]};
      case CounterOp::total:
        return {CounterError::ok, total_};
    }
    return {CounterError::unknown_key, 0};
  }

  std::vector<std::uint32_t> keys_of_slots_;  // slot -> key (for the final values)
  std::vector<std::int64_t> values_;          // slot -> counter
  std::int64_t total_ = 0;                    // == wrapping sum of values_, always
  bool record_log_;
  CounterShardLog log_;
};

// The engine the designs use: any number of client threads (MultiProducerRing).
// SingleWriterCounter and the pipelined one wait with PhasedBackoffWaitStrategy (spin ~10 us, yield until ~100 us, then sleep: a
// round trip to a running owner costs no futex; an idle owner sleeps after 100 us). The sharded
// designs keep BlockingWaitStrategy: with more owners than cores, idle owners must not spin.
// The comparison's --set single-writer.wait knob swaps the strategy (with_wait below).
template <sw::WaitStrategy Wait>
using CounterEngineT = sw::Engine<CounterShardState, CounterCommand, sw::MultiProducerRing, Wait>;
using CounterEngine = CounterEngineT<sw::BlockingWaitStrategy>;

namespace detail {
inline constexpr std::size_t kCounterRingCapacity = 256;  // power of two (the ring's rule)

inline CounterRead counter_reply_or_throw(std::optional<CounterRead> r) {
  if (!r) throw sw::EngineStopped("single-writer counter");
  return *r;
}
}  // namespace detail

template <sw::WaitStrategy Wait>
class SingleWriterCounterT {
 public:
  static constexpr DesignTraits traits{
      .name = "single-writer",
      .family = Family::single_writer,
      .thread_safe = true,
      .linearizable_reads = true,  // one owner applies every command in one order
      .lock_free = false,          // callers wait (sleep) for the owner's reply
      .waiting = sw::kCallerWaiting<Wait>,
      .queue_bound = detail::kCounterRingCapacity,
      .overload = Overload::block,  // a synchronous call waits for ring space
      .owned_threads = 1,
  };

  using wait_strategy = Wait;
  template <sw::WaitStrategy W>
  using with_wait = SingleWriterCounterT<W>;  // the same design, waiting another way

  explicit SingleWriterCounterT(CounterConfig config, SingleWriterCounterOptions options = {})
      : keys_(CounterReference::check(config).keys),
        engine_(detail::kCounterRingCapacity,
                CounterShardState(identity_slots(keys_), options.record_log)) {}

  // add/get/total: any thread; each is one round trip to the owner (bad keys: none).
  CounterError add(std::uint32_t key, std::int64_t delta) {
    if (key >= keys_) return CounterError::unknown_key;
    return detail::counter_reply_or_throw(engine_.call({CounterOp::add, key, key, delta})).error;
  }

  CounterRead get(std::uint32_t key) {
    if (key >= keys_) return {CounterError::unknown_key, 0};
    return detail::counter_reply_or_throw(engine_.call({CounterOp::get, key, key, 0}));
  }

  // add_without_reply: add, returning once the command is in the ring (PipelinedSingle-
  // WriterCounter's add). Throws sw::EngineStopped after stop.
  CounterError add_without_reply(std::uint32_t key, std::int64_t delta) {
    if (key >= keys_) return CounterError::unknown_key;
    if (engine_.submit({CounterOp::add, key, key, delta}, sw::OverloadPolicy::block) !=
        sw::SubmitStatus::accepted)
      throw sw::EngineStopped("single-writer counter");
    return CounterError::ok;
  }

  std::int64_t total() {
    return detail::counter_reply_or_throw(engine_.call({CounterOp::total, 0, 0, 0})).value;
  }

  std::uint32_t keys() const { return keys_; }

  // stop_and_take_log: test hook. Stops the engine (drains, joins) and returns what the owner
  // applied (empty entries unless constructed with record_log) and its final counters. The
  // design answers nothing afterwards (operations throw sw::EngineStopped).
  std::vector<CounterShardLog> stop_and_take_log() {
    engine_.stop();
    return {engine_.state_after_stop().take_log()};
  }

  // processed: commands the owner has applied so far. Any thread.
  std::uint64_t processed() const { return engine_.processed(); }

 private:
  static std::vector<std::uint32_t> identity_slots(std::uint32_t keys) {
    std::vector<std::uint32_t> v(keys);
    for (std::uint32_t k = 0; k < keys; ++k) v[k] = k;
    return v;
  }

  const std::uint32_t keys_;
  CounterEngineT<Wait> engine_;  // last: its owner thread starts once everything else exists
};

using SingleWriterCounter = SingleWriterCounterT<sw::PhasedBackoffWaitStrategy>;

// PipelinedSingleWriterCounter "single-writer-pipelined": the same engine, but add() does not
// wait for the owner: it puts the command into the ring (waiting only for room) and returns
// ok. The caller can answer for the owner because add's only error, unknown_key, depends on
// nothing the owner changes. get and total are still calls.
//
// Still linearizable, which surprises people: every command takes its place in ONE order, the
// ring's sequence, at its push; the push happens inside the add() call; and the owner applies
// commands in that order. So a get sees exactly the adds pushed before it, which includes
// every add that returned before the get began (from any thread). What changes is only when
// the caller gets control back: after a ring push (~tens of ns) instead of a round trip.
// The benchmark marks it `pipelined`: its add latency is the hand-off, not the effect.
template <sw::WaitStrategy Wait>
class PipelinedSingleWriterCounterT {
 public:
  // The engine design's traits but for the name and `pipelined`: still linearizable (one ring
  // order, each push inside its call, see above), and add still waits for ring space
  // (overload block: backpressure still reaches callers).
  static constexpr DesignTraits traits = [] {
    DesignTraits t = SingleWriterCounterT<Wait>::traits;
    t.name = "single-writer-pipelined";
    t.pipelined = true;
    return t;
  }();

  using wait_strategy = Wait;
  template <sw::WaitStrategy W>
  using with_wait = PipelinedSingleWriterCounterT<W>;

  explicit PipelinedSingleWriterCounterT(CounterConfig config,
                                         SingleWriterCounterOptions options = {})
      : inner_(config, options) {}

  // add: any thread; returns once the command is in the ring (fire-and-forget).
  CounterError add(std::uint32_t key, std::int64_t delta) { return inner_.add_without_reply(key, delta); }
  CounterRead get(std::uint32_t key) { return inner_.get(key); }
  std::int64_t total() { return inner_.total(); }
  std::uint32_t keys() const { return inner_.keys(); }
  std::vector<CounterShardLog> stop_and_take_log() { return inner_.stop_and_take_log(); }
  std::uint64_t processed() const { return inner_.processed(); }

 private:
  SingleWriterCounterT<Wait> inner_;
};

using PipelinedSingleWriterCounter = PipelinedSingleWriterCounterT<sw::PhasedBackoffWaitStrategy>;

// ShardedSingleWriterCounterT<Shards>: one engine per shard; key k lives on shard
// mix64(k) % Shards (the routing of sw::Sharded) at a dense slot of that shard's array.
//
// Why total() is not linearizable: it asks shard 0, then shard 1, ... Between two of those
// replies other adds complete. Example with two shards: total reads shard 0 (x not yet
// added), then a client adds x on shard 0 and afterwards y on shard 1, then total reads
// shard 1 and includes y: the result contains y but not x, although x completed before y
// began: no single instant had that sum. Per-key get still has one owner, so it is
// linearizable and one reader's values of one key never decrease; total() is exact at
// quiescence, and it includes every add that completed before it began (each shard is asked
// after). Making it linearizable would need a barrier across all owners (pause every shard,
// then read): a cross-shard command, which is what sharding gives up.
//
// Why 2 shards by default: this project's machine has 2 cores. One busy owner per core is the
// most that can help; more owners than cores only add sleeping threads and wake-up latency,
// and the client threads need the same cores. Shards is a template parameter because
// owned_threads is a compile-time trait.
template <unsigned Shards>
class ShardedSingleWriterCounterT {
  static_assert(Shards >= 1);

 public:
  static constexpr DesignTraits traits{
      .name = Shards == 2 ? "single-writer-sharded" : "single-writer-sharded-n",
      .family = Family::single_writer,
      .thread_safe = true,
      .linearizable_reads = false,  // total() sums the shards one after another (see above)
      .lock_free = false,
      .waiting = sw::kCallerWaiting<CounterEngine::wait_strategy>,
      .queue_bound = detail::kCounterRingCapacity,  // per shard
      .overload = Overload::block,
      .owned_threads = Shards,
  };
  static constexpr unsigned kShards = Shards;

  explicit ShardedSingleWriterCounterT(CounterConfig config,
                                       SingleWriterCounterOptions options = {})
      : keys_(CounterReference::check(config).keys), slot_of_key_(keys_),
        shards_(Shards, [&](std::size_t shard) {
          // Shard `shard` owns the keys that hash to it, at slots 0, 1, 2, ... in key order.
          std::vector<std::uint32_t> keys_of_slots;
          for (std::uint32_t k = 0; k < keys_; ++k) {
            if (shard_index(k) != shard) continue;
            slot_of_key_[k] = static_cast<std::uint32_t>(keys_of_slots.size());
            keys_of_slots.push_back(k);
          }
          return std::make_unique<CounterEngine>(
              detail::kCounterRingCapacity,
              CounterShardState(std::move(keys_of_slots), options.record_log));
        }) {}

  CounterError add(std::uint32_t key, std::int64_t delta) {
    if (key >= keys_) return CounterError::unknown_key;
    return detail::counter_reply_or_throw(
               shard(key).call({CounterOp::add, key, slot_of_key_[key], delta}))
        .error;
  }

  // get: linearizable (one owner per key).
  CounterRead get(std::uint32_t key) {
    if (key >= keys_) return {CounterError::unknown_key, 0};
    return detail::counter_reply_or_throw(
        shard(key).call({CounterOp::get, key, slot_of_key_[key], 0}));
  }

  // total: the shards' running totals, asked one after another: NOT linearizable (see above).
  std::int64_t total() {
    std::int64_t sum = 0;
    for (std::size_t s = 0; s < Shards; ++s)
      sum = wrapping_add(sum, detail::counter_reply_or_throw(
                                  shards_.shard(s).call({CounterOp::total, 0, 0, 0}))
                                  .value);
    return sum;
  }

  std::uint32_t keys() const { return keys_; }

  // shard_index: the shard that owns `key` (the same function as sw::Sharded::shard_of).
  static std::size_t shard_index(std::uint64_t key) { return mix64(key) % Shards; }

  // stop_and_take_log: test hook, as SingleWriterCounter's; one log per shard, each in that
  // shard's own sequence order (there is no order between shards).
  std::vector<CounterShardLog> stop_and_take_log() {
    shards_.stop();
    std::vector<CounterShardLog> logs;
    for (std::size_t s = 0; s < Shards; ++s)
      logs.push_back(shards_.shard(s).state_after_stop().take_log());
    return logs;
  }

 private:
  CounterEngine& shard(std::uint32_t key) { return shards_.shard(shard_index(key)); }

  const std::uint32_t keys_;
  std::vector<std::uint32_t> slot_of_key_;  // written in the constructor only, then read-only
  sw::Sharded<CounterEngine> shards_;       // last: the owners start once the rest exists
};

using ShardedSingleWriterCounter = ShardedSingleWriterCounterT<2>;

}  // namespace cp
