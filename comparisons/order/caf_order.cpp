// caf_order.cpp: CafOrderEngine's CAF side (see caf_order.hpp).
#include "comparisons/order/caf_order.hpp"

#include <utility>
#include <variant>

#include "comparisons/common/caf_pool.hpp"
#include "comparisons/order/actor_order.hpp"

namespace cp {

struct CafOrderEngine::Actor {
  CafPool<OrderActorState> pool;

  OrderActorState::reply ask(OrderActorState::message m) {
    return pool.ask(0, std::move(m), "caf order engine");
  }
};

CafOrderEngine::CafOrderEngine(OrderConfig config)
    : actor_((check(config), std::make_unique<Actor>())) {
  actor_->pool.spawn(config);
}

CafOrderEngine::~CafOrderEngine() = default;

PlaceReply CafOrderEngine::place(const PlaceCmd& cmd) {
  return std::get<PlaceReply>(actor_->ask({cmd}).reply);
}

CancelReply CafOrderEngine::cancel(const CancelCmd& cmd) {
  return std::get<CancelReply>(actor_->ask({cmd}).reply);
}

QueryReply CafOrderEngine::query(const QueryCmd& cmd) {
  return std::get<QueryReply>(actor_->ask({cmd}).reply);
}

OrderState CafOrderEngine::state() {
  return std::move(*actor_->ask({{}, OrderActorState::Control::state}).state);
}

void CafOrderEngine::record_commits(bool on) {
  actor_->ask({{}, on ? OrderActorState::Control::record_on : OrderActorState::Control::record_off});
}

std::vector<Commit> CafOrderEngine::commits() {
  return std::move(actor_->ask({{}, OrderActorState::Control::commits}).commits);
}

}  // namespace cp
