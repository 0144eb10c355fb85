// caf_order.hpp: the order workload on CAF 0.17 (Debian libcaf-dev), a peer row, not one of our
// patterns.
//
//   CafOrderEngine "caf" - the ActorOrderEngine of actor_order.hpp with CAF as the runtime: the
//                          same single actor owning every book and every account
//                          (OrderActorState), run by a caf::actor_system of kActorWorkers
//                          scheduler threads. place/cancel/query are asks.
//
// Why one actor for all state: actor_order.hpp (a place touches an account, a book and the
// accounts of each trade; one actor keeps every command atomic and gives one commit order,
// exposed for the serial-equivalence replay). The "actor" and "caf" rows differ in the runtime
// only (comparisons/common/caf_pool.hpp). The mailbox is unbounded (CAF 0.17 has none bounded):
// queue_bound 0. Threads: as CafCounter (caf_counter.hpp). The CAF code is in caf_order.cpp.
#pragma once

#include <memory>
#include <vector>

#include "comparisons/common/actor_pool.hpp"
#include "comparisons/order/contract.hpp"

namespace cp {

class CafOrderEngine {
 public:
  static constexpr DesignTraits traits{
      .name = "caf",
      .family = Family::peer,
      .thread_safe = true,
      .linearizable_reads = true,  // one actor handles every command, one at a time, in order
      .lock_free = false,
      .waiting = Waiting::blocks,  // a caller sleeps on its reply's future
      .exposes_commit_order = true,
      .owned_threads = kActorWorkers,
  };

  explicit CafOrderEngine(OrderConfig config);
  ~CafOrderEngine();  // drains the actor, stops the actor_system
  CafOrderEngine(const CafOrderEngine&) = delete;
  CafOrderEngine& operator=(const CafOrderEngine&) = delete;

  PlaceReply place(const PlaceCmd& cmd);
  CancelReply cancel(const CancelCmd& cmd);
  QueryReply query(const QueryCmd& cmd);
  OrderState state();
  void record_commits(bool on);
  std::vector<Commit> commits();

 private:
  struct Actor;  // caf_order.cpp
  std::unique_ptr<Actor> actor_;
};

}  // namespace cp
