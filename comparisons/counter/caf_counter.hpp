// caf_counter.hpp: the counter workload on CAF 0.17 (Debian libcaf-dev), a peer row, not one of
// our patterns.
//
//   CafCounter "caf" - the ActorCounter of actor_counter.hpp with CAF as the runtime: the same
//                      8 shard actors (CounterShard, the same key -> actor hash), run by a
//                      caf::actor_system of kActorWorkers scheduler threads. add, get and total
//                      are asks: the caller waits for the reply.
//
// So the "actor" and "caf" rows differ in the runtime only: CAF's mailbox (an unbounded
// lock-free queue per actor), its work-stealing scheduler (no limit on messages per turn) and
// the cost of a CAF message, against ours (comparisons/common/caf_pool.hpp says how an ask from
// a plain thread reaches a CAF actor).
//
// Reads: get of one key is linearizable (one actor owns the key, mailbox order); total() asks
// the actors one after another: exact at quiescence only, as ActorCounter's.
// Mailboxes are unbounded (CAF 0.17 has no bounded mailbox): no back-pressure; queue_bound 0.
// Threads: the 2 scheduler workers, plus CAF's timer and printer threads, which stay asleep
// here; owned_threads counts the workers. Idle workers poll with sleeps (CAF's default policy:
// a short burst of polls, then sleeps of 50 us, then of 10 ms).
//
// The CAF code lives in caf_counter.cpp (library cp_caf_designs), so that a file including the
// registry does not compile CAF's headers. After destruction nothing answers.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "comparisons/common/actor_pool.hpp"
#include "comparisons/counter/contract.hpp"

namespace cp {

class CafCounter {
 public:
  static constexpr DesignTraits traits{
      .name = "caf",
      .family = Family::peer,
      .thread_safe = true,
      .linearizable_reads = false,  // total() asks the actors one after another
      .lock_free = false,
      .waiting = Waiting::blocks,  // a caller sleeps on its reply's future
      .owned_threads = kActorWorkers,
  };

  explicit CafCounter(CounterConfig config);
  ~CafCounter();  // drains every actor, stops the actor_system
  CafCounter(const CafCounter&) = delete;
  CafCounter& operator=(const CafCounter&) = delete;

  CounterError add(std::uint32_t key, std::int64_t delta);
  CounterRead get(std::uint32_t key);
  std::int64_t total();
  std::uint32_t keys() const { return keys_; }

 private:
  struct Actors;  // caf_counter.cpp

  const std::uint32_t keys_;
  std::vector<std::uint32_t> slot_of_key_;  // written in the constructor only
  std::unique_ptr<Actors> actors_;
};

}  // namespace cp
