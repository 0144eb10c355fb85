// caf_pool.hpp: what the CAF peer designs (family peer, rows "caf") share. CAF 0.17, Debian
// libcaf-dev. Included only by the designs' .cpp files (comparisons/*/caf_*.cpp) and one test
// (tests/patterns/actor/caf_faults_test.cpp): CAF's headers take seconds to compile, so the
// registries see a small header per design instead.
//
//   CafEnvelope<State>  - the one message type: a workload message and where its reply goes
//                         (empty for a tell): the reply, or CafHandlerFailure if the handler threw.
//   CafShardActor<State> - a CAF event-based actor around the same State our actor designs use
//                         (CounterShard, CacheShard, OrderActorState): handle(message&) -> reply.
//   CafPool<State>      - one caf::actor_system with kActorWorkers scheduler threads, its actors,
//                         tell and ask. The destructor sends every actor an exit message, which
//                         queues behind the messages already accepted, and the actor_system's
//                         destructor waits until every actor has finished: a clean drain.
//
// The same State under CAF's scheduler and mailbox, against ours: what differs between the
// "actor" and "caf" rows is the runtime, not the workload code.
//
// Asks from client threads. The clients of a workload design are plain threads, not actors.
// CAF's own request/response needs a sending actor: a caf::scoped_actor per call spawns and
// registers an actor per call, and one cached per thread would outlive the actor_system it
// belongs to. So an ask sends the envelope with a std::promise and waits on its future (with
// kActorAskTimeout), which is what our runtime's ask does too. If CAF drops the message (the
// actor is gone) the promise is destroyed unfulfilled and the caller gets broken_promise at
// once, not a hang; both cases throw actor::ActorError.
//
// A handler that throws. Left to CAF 0.17, the exception would reach the actor's exception
// handler, scheduled_actor::default_exception_handler (set_exception_handler replaces it), which
// prints "*** unhandled exception ..." and returns sec::runtime_error, and the actor quits with
// that reason: its state is gone, the message (with the asker's promise) is destroyed, so the
// asker gets broken_promise (ActorError stopped here), and so does every later ask. Instead the
// behaviour catches around State::handle and the actor keeps its state and goes on with the
// next message, which is what our runtime's supervision with FailureDirective::resume yields
// (it keeps the state consistent only if handle() throws before changing it, or leaves it
// valid; the workload handlers do not throw, short of running out of memory). The asker gets
// ActorError(handler_failed), as from our runtime, its text naming what the handler threw; a
// tell's failure is dropped. tests/patterns/actor/caf_faults_test.cpp checks all of it.
// Why a failure value and not set_exception: the exception object would be shared by the two
// threads and freed by whichever drops the last reference, counted inside libstdc++.so, which
// TSan does not see; it reported the asker's read of what() as raced with the worker's free.
// A copy of the text, moved out of the future like any reply, shares nothing.
//
// ThreadSanitizer. Debian's libcaf_core is not built with TSan; its mailbox (a lock-free queue)
// and its scheduler's hand-off of an actor from one worker to the next are invisible to it. We
// state those edges ourselves (patterns/work_stealing/tsan_edges.hpp), one edge per actor: a
// sender hands over after building the mailbox element and before enqueueing it; each turn of
// the actor (resume) takes over on entry and hands over on exit, as do the handler and
// make_behavior, so the next turn, maybe on the other worker, sees them; the constructor hands
// the new actor over, and the destructor of the pool takes every actor over before the actors
// are destroyed (by whichever thread drops the last reference). The CAF code inlined from its headers that reads the element before our
// handler runs is covered by tests/tsan.supp (CAF frames only).
#pragma once

#include <caf/abstract_actor.hpp>
#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message_id.hpp>
#include <caf/send.hpp>

#include <chrono>
#include <cstddef>
#include <exception>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "comparisons/common/actor_pool.hpp"
#include "patterns/work_stealing/tsan_edges.hpp"

namespace cp {

// What an asker gets when the handler threw: the exception's what(), copied on the worker.
struct CafHandlerFailure {
  std::string what;
};

template <class State>
using CafReply = std::variant<typename State::reply, CafHandlerFailure>;

template <class State>
struct CafEnvelope {
  typename State::message message;
  std::shared_ptr<std::promise<CafReply<State>>> reply;  // empty: a tell
};

}  // namespace cp

// Local messages only: never serialized, so CAF need not know how to inspect them.
namespace caf {
template <class State>
struct allowed_unsafe_message_type<cp::CafEnvelope<State>> : std::true_type {};
}  // namespace caf

namespace cp {

template <class State>
class CafShardActor : public caf::event_based_actor {
 public:
  template <class... Args>
  CafShardActor(caf::actor_config& cfg, Args&&... args)
      : caf::event_based_actor(cfg), state_(std::forward<Args>(args)...) {
    ws::hand_over(&state_);  // the new actor, to the worker that initialises it
  }

  // A turn of this actor on a worker: it sees what the previous turn (maybe on the other
  // worker) handed over, and what senders handed over before enqueueing.
  resume_result resume(caf::execution_unit* unit, std::size_t max_throughput) override {
    ws::take_over(&state_);
    const resume_result r = caf::event_based_actor::resume(unit, max_throughput);
    ws::hand_over(&state_);
    return r;
  }

  caf::behavior make_behavior() override {
    caf::behavior b{[this](CafEnvelope<State>& e) {
      ws::take_over(&state_);
      try {
        auto r = state_.handle(e.message);
        if (e.reply) e.reply->set_value(CafReply<State>(std::in_place_index<0>, std::move(r)));
      } catch (const std::exception& x) {  // not CAF's handler: see the file comment
        if (e.reply) e.reply->set_value(CafHandlerFailure{x.what()});
      } catch (...) {
        if (e.reply) e.reply->set_value(CafHandlerFailure{"an exception of unknown type"});
      }
      ws::hand_over(&state_);  // before CAF may hand the actor to the other worker
    }};
    ws::hand_over(&state_);  // the behaviour object, read by later turns
    return b;
  }

  // The TSan edge of this actor (see the file comment): its state's address.
  const void* edge() const { return &state_; }

 private:
  State state_;
};

template <class State>
class CafPool {
 public:
  using message = typename State::message;
  using reply = typename State::reply;

  CafPool() : system_(configure(config_)) {}

  CafPool(const CafPool&) = delete;
  CafPool& operator=(const CafPool&) = delete;

  ~CafPool() {
    for (auto& a : actors_) {
      ws::hand_over(a.edge);  // what the callers did (joined into this thread) before the exit
      caf::anon_send_exit(a.handle, caf::exit_reason::user_shutdown);
    }
    system_.await_all_actors_done();  // each has handled its mail and the exit
    for (auto& a : actors_) ws::take_over(a.edge);  // this thread may drop the last reference
    actors_.clear();
    // system_'s destructor joins CAF's threads.
  }

  template <class... Args>
  void spawn(Args&&... args) {
    auto h = system_.spawn<CafShardActor<State>>(std::forward<Args>(args)...);
    const void* edge = caf::actor_cast<CafShardActor<State>*>(h)->edge();
    actors_.push_back({std::move(h), edge});
  }

  std::size_t size() const { return actors_.size(); }

  void tell(std::size_t i, message m) { send(i, {std::move(m), nullptr}); }

  // ask: the reply; or throws ActorError: timeout, stopped (CAF dropped the message), or
  // handler_failed (the handler threw; the text says what).
  reply ask(std::size_t i, message m, const char* who) {
    auto p = std::make_shared<std::promise<CafReply<State>>>();
    std::future<CafReply<State>> f = p->get_future();
    send(i, {std::move(m), std::move(p)});
    if (f.wait_for(kActorAskTimeout) != std::future_status::ready)
      throw actor::ActorError(who, actor::AskError::timeout);
    CafReply<State> r = [&] {
      try {
        return f.get();
      } catch (const std::future_error&) {  // broken_promise: CAF dropped the message
        throw actor::ActorError(who, actor::AskError::stopped);
      }
    }();
    if (auto* failure = std::get_if<CafHandlerFailure>(&r))
      throw actor::ActorError(std::string(who) + " (the handler threw: " + failure->what + ")",
                              actor::AskError::handler_failed);
    return std::get<0>(std::move(r));
  }

 private:
  struct Spawned {
    caf::actor handle;
    const void* edge;
  };

  // The pool size of our actor designs; everything else is CAF's default (no limit on
  // messages per turn, its work-stealing policy).
  static caf::actor_system_config& configure(caf::actor_system_config& c) {
    c.set("scheduler.max-threads", static_cast<std::size_t>(kActorWorkers));
    return c;
  }

  void send(std::size_t i, CafEnvelope<State> e) {
    // What anon_send does, split so the element is complete before the TSan hand-over.
    auto element = caf::make_mailbox_element(nullptr, caf::make_message_id(), {}, std::move(e));
    ws::hand_over(actors_[i].edge);
    caf::actor_cast<caf::abstract_actor*>(actors_[i].handle)->enqueue(std::move(element), nullptr);
  }

  caf::actor_system_config config_;
  caf::actor_system system_;
  std::vector<Spawned> actors_;  // written in the constructor of the design only
};

}  // namespace cp
