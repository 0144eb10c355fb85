// actor_order.hpp: the order workload with actors (patterns/actor).
//
//   OrderActorState      - the actor's state: the reference core (OrderCore) and an optional
//                          commit log. Plain single-threaded code.
//   ActorOrderEngine "actor" - one actor owns every book and every account, on a pool of
//                          kActorWorkers threads. place/cancel/query are asks.
//
// Why one actor for all state (docs/actor.md has the long version): a place reserves cash
// in one account, then matches in one book, and each trade settles two more accounts. With
// book actors and account actors that is a protocol of several messages per place (reserve,
// match, settle each side, release the surplus), and between those messages other commands
// see a half-settled state: invariants 1 and 3 would hold only at quiescence and a query
// would not be linearizable. One actor keeps every command atomic, gives one commit order
// (exposed for the serial-equivalence replay, as the mutex and single-writer designs), and
// still shares its 2 workers with any other actors of the system.
//
// Lifecycle: the destructor drains every accepted command, then joins the workers. An ask
// that fails (it cannot, short of a bug or a timeout) throws actor::ActorError.
#pragma once

#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "comparisons/common/actor_pool.hpp"
#include "comparisons/order/contract.hpp"
#include "comparisons/order/reference.hpp"

namespace cp {

struct OrderActorState {
  enum class Control : std::uint8_t { none, state, record_on, record_off, commits };
  struct message {
    OrderCommand command;
    Control control = Control::none;
  };
  struct reply {
    OrderReply reply;
    std::optional<OrderState> state;  // Control::state
    std::vector<Commit> commits;      // Control::commits
  };

  explicit OrderActorState(const OrderConfig& config) : core(config) {}

  reply handle(message& m) {
    switch (m.control) {
      case Control::none: {
        OrderReply r = apply_order_command(core, m.command);
        if (recording) log.push_back({m.command, r});
        return {std::move(r), std::nullopt, {}};
      }
      case Control::state: return {{}, core.state(), {}};
      case Control::record_on:
        recording = true;
        log.clear();
        return {};
      case Control::record_off: recording = false; return {};
      case Control::commits: return {{}, std::nullopt, log};
    }
    return {};
  }

  OrderCore core;
  bool recording = false;
  std::vector<Commit> log;  // (command, reply) in the actor's handling order, while recording
};

class ActorOrderEngine {
 public:
  static constexpr DesignTraits traits{
      .name = "actor",
      .family = Family::actor,
      .thread_safe = true,
      .linearizable_reads = true,  // one actor handles every command, one at a time, in order
      .lock_free = false,
      .waiting = Waiting::blocks,
      .queue_bound = kActorMailboxBound,
      .overload = Overload::block,
      .exposes_commit_order = true,
      .owned_threads = kActorWorkers,
  };

  explicit ActorOrderEngine(OrderConfig config) : system_(actor_pool_config()) {
    check(config);
    actor_ = system_.spawn<OrderActorState>([config] { return OrderActorState(config); },
                                            actor_options());
  }

  PlaceReply place(const PlaceCmd& cmd) { return std::get<PlaceReply>(ask({cmd}).reply); }
  CancelReply cancel(const CancelCmd& cmd) { return std::get<CancelReply>(ask({cmd}).reply); }
  QueryReply query(const QueryCmd& cmd) { return std::get<QueryReply>(ask({cmd}).reply); }

  OrderState state() { return std::move(*ask({{}, OrderActorState::Control::state}).state); }

  void record_commits(bool on) {
    ask({{}, on ? OrderActorState::Control::record_on : OrderActorState::Control::record_off});
  }

  std::vector<Commit> commits() {
    return std::move(ask({{}, OrderActorState::Control::commits}).commits);
  }

 private:
  OrderActorState::reply ask(OrderActorState::message m) {
    return reply_or_throw(actor_.ask(std::move(m), kActorAskTimeout), "actor order engine");
  }

  actor::ActorSystem system_;  // its destructor drains the actor, joins
  actor::ActorRef<OrderActorState> actor_;
};

}  // namespace cp
