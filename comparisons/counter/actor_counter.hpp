// actor_counter.hpp: the counter workload with actors (patterns/actor).
//
//   CounterShard         - one actor's state: the counters of its keys and their running sum.
//   ActorCounter         "actor"           - kCounterActors actors, key -> actor by hash, on a
//                                            pool of kActorWorkers threads. add, get and total
//                                            are asks: the caller waits for the reply.
//   PipelinedActorCounter "actor-pipelined" - the same, but add is a tell: it returns once the
//                                            message is in the mailbox.
//
// The difference from ShardedSingleWriterCounter (single_writer_counter.hpp): there each shard
// has a thread of its own; here 8 shard actors share 2 workers, and a worker runs whichever
// actor has mail. More shards than threads cost nothing while idle (an actor is a mailbox and
// a few vectors, not a thread).
//
// Reads: get of one key is linearizable (one actor owns the key, and handles messages in
// mailbox order). total() asks each actor in turn and sums: not one instant's sum, as the
// sharded single-writer counter's (see there for the example); exact at quiescence.
// The pipelined add keeps that: its message is in the key's mailbox before add returns, and a
// later get to that actor is queued behind it.
//
// Bad input: an out-of-range key is answered by the caller, without a message.
// After the design is destroyed nothing answers; a failed ask throws actor::ActorError.
#pragma once

#include <cstdint>
#include <vector>

#include "comparisons/common/actor_pool.hpp"
#include "comparisons/common/random.hpp"
#include "comparisons/counter/contract.hpp"
#include "comparisons/counter/reference.hpp"

namespace cp {

// [quote: counter-shard]
struct CounterShard {
  enum class Op : std::uint8_t { add, get, total };
  struct message {
    Op op = Op::get;
    std::uint32_t slot = 0;
    std::int64_t delta = 0;
  };
  using reply = CounterRead;

  std::vector<std::int64_t> values;  // slot -> counter
  std::int64_t sum = 0;              // == wrapping sum of values, always

  CounterRead handle(message& m) {
    switch (m.op) {
      case Op::add:
        if (m.slot >= values.size()) return {CounterError::unknown_key, 0};
        values[m.slot] = wrapping_add(values[m.slot], m.delta);
        sum = wrapping_add(sum, m.delta);
        return {};
      case Op::get:
        if (m.slot >= values.size()) return {CounterError::unknown_key, 0};
        return {CounterError::ok, values[m.slot]};
      case Op::total: return {CounterError::ok, sum};
    }
    return {CounterError::unknown_key, 0};
  }
};
// [end quote]

template <bool PipelinedAdd>
class ActorCounterT {
 public:
  static constexpr unsigned kCounterActors = 8;
  static constexpr DesignTraits traits{
      .name = PipelinedAdd ? "actor-pipelined" : "actor",
      .family = Family::actor,
      .thread_safe = true,
      .linearizable_reads = false,  // total() asks the actors one after another
      .lock_free = false,
      .waiting = Waiting::blocks,  // callers sleep for room and for replies
      .queue_bound = kActorMailboxBound,  // per actor
      .overload = Overload::block,
      .owned_threads = kActorWorkers,
      .pipelined = PipelinedAdd,
  };

  explicit ActorCounterT(CounterConfig config)
      : keys_(CounterReference::check(config).keys), slot_of_key_(keys_),
        system_(actor_pool_config()) {
    std::vector<std::uint32_t> slots(kCounterActors, 0);
    for (std::uint32_t k = 0; k < keys_; ++k) slot_of_key_[k] = slots[actor_index(k)]++;
    for (unsigned a = 0; a < kCounterActors; ++a) {
      const std::uint32_t n = slots[a];
      actors_.push_back(system_.spawn<CounterShard>(
          [n] { return CounterShard{std::vector<std::int64_t>(n, 0), 0}; }, actor_options()));
    }
  }

  CounterError add(std::uint32_t key, std::int64_t delta) {
    if (key >= keys_) return CounterError::unknown_key;
    const CounterShard::message m{CounterShard::Op::add, slot_of_key_[key], delta};
    if constexpr (PipelinedAdd) {
      accepted_or_throw(actor_of(key).tell(m), "actor counter");
      return CounterError::ok;
    } else {
      return reply_or_throw(actor_of(key).ask(m, kActorAskTimeout), "actor counter").error;
    }
  }

  CounterRead get(std::uint32_t key) {
    if (key >= keys_) return {CounterError::unknown_key, 0};
    return reply_or_throw(
        actor_of(key).ask({CounterShard::Op::get, slot_of_key_[key], 0}, kActorAskTimeout),
        "actor counter");
  }

  std::int64_t total() {
    std::int64_t sum = 0;
    for (auto& a : actors_)
      sum = wrapping_add(
          sum, reply_or_throw(a.ask({CounterShard::Op::total, 0, 0}, kActorAskTimeout),
                              "actor counter")
                   .value);
    return sum;
  }

  std::uint32_t keys() const { return keys_; }

  static std::size_t actor_index(std::uint32_t key) { return mix64(key) % kCounterActors; }

 private:
  actor::ActorRef<CounterShard>& actor_of(std::uint32_t key) { return actors_[actor_index(key)]; }

  const std::uint32_t keys_;
  std::vector<std::uint32_t> slot_of_key_;  // written in the constructor only
  actor::ActorSystem system_;               // its destructor drains every actor, joins
  std::vector<actor::ActorRef<CounterShard>> actors_;
};

using ActorCounter = ActorCounterT<false>;
using PipelinedActorCounter = ActorCounterT<true>;

}  // namespace cp
