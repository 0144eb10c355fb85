// actor_pool.hpp: what the actor designs of the three workloads share (patterns/actor).
//
//   kActorWorkers         - the pool size: 2 workers, one per core of this project's machine.
//                           It is each design's owned_threads.
//   kActorThroughput      - messages per turn.
//   kActorMailboxBound    - every workload actor's mailbox is bounded, overload block: a
//                           caller waits for room (backpressure), as the single-writer rings.
//   kActorAskTimeout      - the workload contracts have no "no answer" reply, so an ask that
//                           times out (a bug or a machine far overloaded) throws ActorError.
//   actor_options()       - the ActorOptions above.
//   reply_or_throw(r, who) - the reply of an ask, or ActorError naming the design and why.
//
// Waiting: callers sleep on a condition variable for room and for their reply (blocks); idle
// workers sleep too.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>

#include "patterns/actor/actor.hpp"

namespace cp {

inline constexpr unsigned kActorWorkers = 2;
inline constexpr std::size_t kActorThroughput = 64;
inline constexpr std::size_t kActorMailboxBound = 1024;
inline constexpr auto kActorAskTimeout = std::chrono::seconds(60);

inline actor::SchedulerConfig actor_pool_config() {
  return {.workers = kActorWorkers, .throughput = kActorThroughput};
}

inline actor::ActorOptions actor_options() {
  actor::ActorOptions o;
  o.mailbox_capacity = kActorMailboxBound;
  o.overload = actor::OverloadPolicy::block;
  return o;
}

template <class R>
R reply_or_throw(actor::AskResult<R>&& r, const char* who) {
  if (!r.ok()) throw actor::ActorError(who, r.error);
  return std::move(*r.value);
}

inline void accepted_or_throw(actor::SubmitStatus s, const char* who) {
  if (s != actor::SubmitStatus::accepted) throw actor::ActorError(who, actor::AskError::stopped);
}

}  // namespace cp
