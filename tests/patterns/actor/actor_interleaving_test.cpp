// actor_interleaving_test.cpp: the actor runtime (patterns/actor) under forced schedules.
//
//   - every user-supplied callable the runtime calls throws, seeded: the handler, the reply's
//     move (the fulfil path), the supervision clock, the on_failure report, the factory on a
//     restart. Declared outcome: the worker survives, each asker gets a typed error, and
//     accepted == handled + failed + discarded exactly, checked against a sequential model;
//   - the statistics at wait_until_stopped, with a sender parked between its push and the rest
//     of its post (ActorHooks, patterns/actor/hooks.hpp);
//   - lifetime: each hand-off object (the mailbox, the ask reply, the broadcast channel) freed
//     by its receiver the moment it has what it waited for, while the sender is held inside its
//     last call. Run them under ASan and TSan: a notify on a freed condition_variable happens
//     inside libstdc++ and glibc, which ASan does not instrument, but TSan's interceptor of
//     pthread_cond_broadcast sees it (on the code before the notifies moved under the lock,
//     the mailbox and broadcast cases reported heap-use-after-free there);
//   - re-entrancy: a handler that tells or asks itself, stops itself, or waits for itself.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "comparisons/common/random.hpp"
#include "patterns/actor/actor.hpp"
#include "patterns/actor/broadcast.hpp"
#include "patterns/actor/hooks.hpp"
#include "tests/support/findings.hpp"

using namespace cp;
using namespace cp::actor;
using namespace cp::test;
using namespace std::chrono_literals;

namespace {

constexpr auto kLongWait = 60s;  // an ask that must be answered; a hang fails the test, slowly

// ---- Throwing callables ------------------------------------------------------------------

// FragileReply: a reply whose move throws when asked to (a type with a throwing copy, say).
struct FragileReply {
  std::uint64_t value = 0;
  bool throw_on_move = false;
  FragileReply(std::uint64_t v, bool t) : value(v), throw_on_move(t) {}
  FragileReply(const FragileReply& o) : value(o.value), throw_on_move(o.throw_on_move) {
    if (throw_on_move) throw std::runtime_error("reply move failed");
  }
  FragileReply& operator=(const FragileReply&) = default;
};

struct FaultMsg {
  enum Kind { ok, handler_throws, reply_throws } kind = ok;
};

// Counter: counts the messages it handled (this incarnation).
struct Counter {
  using message = FaultMsg;
  using reply = FragileReply;
  std::uint64_t handled = 0;
  FragileReply handle(FaultMsg& m) {
    if (m.kind == FaultMsg::handler_throws) throw std::runtime_error("handler failed");
    ++handled;
    return FragileReply(handled, m.kind == FaultMsg::reply_throws);
  }
};

// Which of the runtime's callables throw, and how often (percent).
struct FaultMix {
  unsigned handler = 0, reply = 0, clock = 0, on_failure = 0, factory = 0;
};

// One round: asks and tells from the main thread, predicted call by call by a sequential
// model of the declared outcome:
//   a throwing handler or reply move: the asker gets handler_failed, counted failed (once);
//   then the runtime reads the clock and (directive restart) calls the factory; if either
//   throws, the actor cannot carry on and stops for good, as when its budget is spent: every later
//   ask gets actor_failed and every later tell `stopped`;
//   a throwing on_failure changes nothing (the report is lost, the actor carries on).
// The throw decisions are drawn in advance per call of each callable, so the model knows them.
void run_fault_round(std::uint64_t s, const FaultMix& mix, FailureDirective directive) {
  const bool restart = directive == FailureDirective::restart;
  INFO("seed " << s << ", directive " << (restart ? "restart" : "resume"));
  Xoshiro256 rng(s);
  constexpr std::size_t kCalls = 200;
  auto draws = [&](unsigned pct) {
    std::vector<bool> v(kCalls + 1);
    for (auto&& b : v) b = rng.percent(pct);
    return v;
  };
  // Called only on the worker running the actor, one turn at a time (ordered by the mailbox
  // lock), so plain counters serve.
  struct Script {
    std::vector<bool> clock, on_failure, factory;
    std::size_t clock_calls = 0, report_calls = 0, factory_calls = 0;
  };
  auto script = std::make_shared<Script>();
  script->clock = draws(mix.clock);
  script->on_failure = draws(mix.on_failure);
  script->factory = draws(mix.factory);
  script->factory[0] = false;  // the spawn's own call: a throw there is spawn's, tested apart

  ActorSystem sys({.workers = 2});
  ActorOptions opts;
  opts.supervision.directive = directive;
  opts.supervision.max_failures = 1'000'000;
  opts.supervision.clock = [script] {
    if (script->clock[script->clock_calls++]) throw std::runtime_error("clock failed");
    return std::chrono::steady_clock::now();
  };
  opts.supervision.on_failure = [script](const FailureReport&) {
    if (script->on_failure[script->report_calls++]) throw std::runtime_error("report failed");
  };
  auto a = sys.spawn<Counter>(
      [script] {
        if (script->factory[script->factory_calls++]) throw std::runtime_error("factory failed");
        return Counter{};
      },
      opts);

  // The model.
  bool stopped = false;
  std::uint64_t accepted = 0, handled = 0, failed = 0, carried_on = 0, incarnation = 0;
  std::size_t clock_i = 0, factory_i = 1;
  std::uint64_t wrong = 0;
  for (std::size_t i = 0; i < 150; ++i) {
    FaultMsg m;
    if (rng.percent(mix.handler)) m.kind = FaultMsg::handler_throws;
    else if (rng.percent(mix.reply)) m.kind = FaultMsg::reply_throws;
    const bool tell = m.kind == FaultMsg::ok && rng.percent(30);  // throwing ones are asked
    if (tell) {
      const SubmitStatus st = a.tell(m);
      if (st != (stopped ? SubmitStatus::stopped : SubmitStatus::accepted)) ++wrong;
      if (!stopped) {
        ++accepted;
        ++handled;
        ++incarnation;
      }
      continue;
    }
    const auto r = a.ask(m, kLongWait);
    if (stopped) {
      if (r.error != AskError::actor_failed) ++wrong;
      continue;
    }
    ++accepted;
    if (m.kind == FaultMsg::ok) {
      ++handled;
      ++incarnation;
      if (!r.ok() || r.value->value != incarnation) {
        ++wrong;
        UNSCOPED_INFO("message " << i << ": error " << to_string(r.error) << ", want value "
                                 << incarnation);
      }
      continue;
    }
    if (m.kind == FaultMsg::reply_throws) ++incarnation;  // the handler ran; its reply did not
    ++failed;
    if (r.error != AskError::handler_failed) {
      ++wrong;
      UNSCOPED_INFO("message " << i << ": want handler_failed, got " << to_string(r.error));
    }
    bool survived = !script->clock[clock_i++];
    if (survived && restart) {
      survived = !script->factory[factory_i++];
      if (survived) incarnation = 0;
    }
    if (survived) ++carried_on;
    else stopped = true;
  }
  a.stop(StopPolicy::drain);
  a.wait_until_stopped();
  const ActorStats st = a.stats();
  sys.shutdown(StopPolicy::drain);
  CHECK(wrong == 0);
  CHECK(st.accepted == accepted);
  CHECK(st.handled == handled);
  CHECK(st.failed == failed);
  CHECK(st.discarded == 0);
  CHECK(st.restarts == (restart ? carried_on : 0));
  CHECK(st.resumes == (restart ? 0 : carried_on));
  CHECK(st.balanced());
  CHECK(script->report_calls == failed);  // every failure reported, a throwing report too
}

void run_fault_rounds(const FaultMix& mix) {
  const auto s = seed();
  for (FailureDirective directive : {FailureDirective::restart, FailureDirective::resume})
    for (std::uint64_t round = 0; round < 4; ++round) run_fault_round(s + round, mix, directive);
}

// ---- Small synchronisation helpers -------------------------------------------------------

// Flag: set once, waited for by others.
class Flag {
 public:
  void set() {
    { std::lock_guard l(m_); set_ = true; }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock l(m_);
    cv_.wait(l, [&] { return set_; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool set_ = false;
};

}  // namespace

// ---- Exceptions from every user-supplied callable -----------------------------------------

TEST_CASE("faults: a throwing handler fails its own message only, counts balance",
          "[interleaving]") {
  run_fault_rounds({.handler = 20});
}

TEST_CASE("faults: a reply whose move throws is one failed message, not handled and failed",
          "[interleaving]") {
  run_fault_rounds({.reply = 20});
}

TEST_CASE("faults: a throwing supervision clock stops the actor, the worker survives",
          "[interleaving]") {
  run_fault_rounds({.handler = 20, .clock = 10});
}

TEST_CASE("faults: a throwing on_failure report is dropped, the actor carries on",
          "[interleaving]") {
  run_fault_rounds({.handler = 20, .on_failure = 50});
}

TEST_CASE("faults: a factory that throws on restart stops the actor, the worker survives",
          "[interleaving]") {
  run_fault_rounds({.handler = 20, .factory = 10});
}

TEST_CASE("faults: every callable throws at once, seeded, counts balance", "[interleaving]") {
  run_fault_rounds({.handler = 15, .reply = 10, .clock = 5, .on_failure = 30, .factory = 5});
}

TEST_CASE("faults: a factory that throws at spawn throws from spawn, the system stays usable",
          "[interleaving]") {
  ActorSystem sys({.workers = 1});
  CHECK_THROWS_AS(sys.spawn<Counter>([]() -> Counter { throw std::runtime_error("no"); }),
                  std::runtime_error);
  auto a = sys.spawn<Counter>([] { return Counter{}; });
  const auto r = a.ask({}, kLongWait);
  REQUIRE(r.ok());
  CHECK(r.value->value == 1);
}

// ---- Statistics at wait_until_stopped ------------------------------------------------------

TEST_CASE("stats: exact at wait_until_stopped although a sender is parked after its push",
          "[interleaving]") {
  // A sender whose push found the actor scheduled (busy) is parked right after the push. The
  // actor handles its message, is stopped and waited for; the statistics read then must count
  // the message as accepted, not only as handled.
  ActorSystem sys({.workers = 1});
  struct Holder {
    using message = Flag*;
    using reply = int;
    int handle(Flag*& f) {
      if (f != nullptr) f->wait();
      return 0;
    }
  };
  auto a = sys.spawn<Holder>([] { return Holder{}; });
  Flag hold, parked, release;
  REQUIRE(a.tell(&hold) == SubmitStatus::accepted);  // the actor is now scheduled and held
  std::thread sender([&] {
    ActorHooks::Scope scope([&](ActorHookPoint p, const void*) {
      if (p != ActorHookPoint::post_pushed) return;
      parked.set();
      release.wait();
    });
    (void)a.tell(nullptr);
  });
  parked.wait();  // the sender's message is in the mailbox; the sender is inside tell()
  hold.set();
  a.stop(StopPolicy::drain);
  a.wait_until_stopped();
  const ActorStats st = a.stats();
  release.set();
  sender.join();
  CHECK(st.handled == 2);
  CHECK(st.accepted == 2);
  CHECK(st.balanced());
}

// ---- Lifetime: the receiver frees the hand-off object at once ------------------------------

TEST_CASE("lifetime: the mailbox freed by its waiter while close() is still inside",
          "[interleaving]") {
  // The closer is held just after close() released the lock; the waiter sees the mailbox done,
  // frees it, and only then lets the closer go on. Under ASan any access after is reported.
  auto* box = new Mailbox<int>(4, OverloadPolicy::block);
  Flag freed;
  std::thread closer([&] {
    ActorHooks::Scope scope([&](ActorHookPoint p, const void*) {
      if (p == ActorHookPoint::mailbox_closed) freed.wait();
    });
    std::vector<int> discarded;
    box->close(true, discarded);
  });
  box->wait_until_done();  // closed, empty and idle: its actor will never run again
  delete box;
  freed.set();
  closer.join();
  SUCCEED("no access to the freed mailbox (ASan)");
}

TEST_CASE("lifetime: the asker drops the reply slot while fulfil is still inside",
          "[interleaving]") {
  // The fulfiller (as the worker does, through the message's envelope) holds its own reference
  // to the slot for the whole call. It is held after storing the result, before the wake-up;
  // the asker polls with short deadlines (a timeout here is a poll, not the outcome), takes the
  // result, drops its reference, and only then lets the fulfiller go on.
  auto slot = std::make_shared<ReplyPromise<std::string>>();
  Flag dropped;
  std::thread fulfiller([keep = slot, &dropped] {
    ActorHooks::Scope scope([&](ActorHookPoint p, const void*) {
      if (p == ActorHookPoint::reply_stored) dropped.wait();
    });
    keep->fulfil({AskError::ok, std::string("reply")});
  });
  AskResult<std::string> r;
  do r = slot->wait_until(std::chrono::steady_clock::now() + 1ms);
  while (r.error == AskError::timeout);
  slot.reset();  // the asker's last reference
  dropped.set();
  fulfiller.join();
  REQUIRE(r.ok());
  CHECK(*r.value == "reply");
}

TEST_CASE("lifetime: the broadcast freed by its subscriber while publish() is still inside",
          "[interleaving]") {
  // The subscriber owns the channel here: it frees it (and itself) on its first value, while
  // the publisher is held inside publish() after storing that value.
  auto owned = std::make_unique<Broadcast<int>>(4);
  Broadcast<int>* b = owned.get();
  auto sub = std::make_unique<Broadcast<int>::Subscriber>(b->subscribe());
  Flag freed;
  std::thread publisher([&] {
    ActorHooks::Scope scope([&](ActorHookPoint p, const void*) {
      if (p == ActorHookPoint::broadcast_published) freed.wait();
    });
    b->publish(7);
  });
  Received<int> got;
  do got = sub->try_recv();  // polls: the publisher's wake-up may come after the hook
  while (got.status == ReceiveStatus::empty);
  sub.reset();
  owned.reset();
  freed.set();
  publisher.join();
  CHECK(got.status == ReceiveStatus::value);
  CHECK(*got.value == 7);
}

// ---- Re-entrancy -------------------------------------------------------------------------

namespace {

// SelfCaller: an actor that holds a reference to itself and calls back into the runtime.
struct SelfMsg {
  enum Kind { count, chain, ask_self, stop_drain, stop_discard, wait_self, hold, tally } kind =
      count;
  std::uint64_t n = 0;
  Flag* entered = nullptr;  // hold: set on entry
  Flag* go = nullptr;       // hold: waited for
};

struct SelfResult {
  std::uint64_t counted = 0;
  AskError inner = AskError::ok;  // ask_self: what the inner ask returned
};

struct SelfSlot;  // the actor's own ActorRef (SelfCaller is incomplete inside itself)

struct SelfCaller {
  using message = SelfMsg;
  using reply = SelfResult;
  std::shared_ptr<SelfSlot> slot;  // set after spawn, before the first message
  std::uint64_t counted = 0;
  SelfResult handle(SelfMsg& m);
};

struct SelfSlot {
  ActorRef<SelfCaller> ref;
};

SelfResult SelfCaller::handle(SelfMsg& m) {
    const ActorRef<SelfCaller>* self = &slot->ref;
    SelfResult r;
    switch (m.kind) {
      case SelfMsg::count: ++counted; break;
      case SelfMsg::chain:
        for (std::uint64_t i = 0; i < m.n; ++i)
          if (self->tell({SelfMsg::count}) != SubmitStatus::accepted) break;
        break;
      case SelfMsg::ask_self: r.inner = self->ask({SelfMsg::count}, 2s).error; break;
      case SelfMsg::stop_drain: self->stop(StopPolicy::drain); break;
      case SelfMsg::stop_discard: self->stop(StopPolicy::discard); break;
      case SelfMsg::wait_self: self->wait_until_stopped(); break;
      case SelfMsg::hold:
        m.entered->set();
        m.go->wait();
        break;
      case SelfMsg::tally: break;
    }
    r.counted = counted;
    return r;
}

struct SelfActor {
  ActorSystem sys{{.workers = 2}};
  std::shared_ptr<SelfSlot> slot = std::make_shared<SelfSlot>();
  ActorRef<SelfCaller> ref;
  SelfActor() {
    ref = sys.spawn<SelfCaller>([s = slot] {
      SelfCaller c;
      c.slot = s;
      return c;
    });
    slot->ref = ref;
  }
  ~SelfActor() {
    sys.shutdown(StopPolicy::drain);
    slot->ref = ActorRef<SelfCaller>();  // break the cycle cell -> behaviour -> ref -> cell
  }
};

}  // namespace

TEST_CASE("re-entrancy: a handler that tells itself: every tell handled, in order",
          "[interleaving]") {
  SelfActor s;
  const auto r = s.ref.ask({SelfMsg::chain, 500}, kLongWait);
  REQUIRE(r.ok());
  const auto t = s.ref.ask({SelfMsg::tally}, kLongWait);  // queued behind the 500 tells
  REQUIRE(t.ok());
  CHECK(t.value->counted == 500);
  s.ref.stop();
  s.ref.wait_until_stopped();
  const ActorStats st = s.ref.stats();
  CHECK(st.accepted == 502);
  CHECK(st.handled == 502);
  CHECK(st.balanced());
}

TEST_CASE("re-entrancy: a handler that asks itself gets asked_itself at once, no deadlock",
          "[interleaving]") {
  SelfActor s;
  const auto r = s.ref.ask({SelfMsg::ask_self}, kLongWait);
  REQUIRE(r.ok());
  CHECK(r.value->inner == AskError::asked_itself);  // not a timeout after the worker hung
  CHECK(r.value->counted == 0);                     // the inner message was never posted
  const auto t = s.ref.ask({SelfMsg::tally}, kLongWait);
  REQUIRE(t.ok());
  CHECK(t.value->counted == 0);
  s.ref.stop();
  s.ref.wait_until_stopped();
  const ActorStats st = s.ref.stats();
  CHECK(st.accepted == 2);
  CHECK(st.balanced());
}

TEST_CASE("re-entrancy: a handler that stops its actor: drain handles the rest of the turn, "
          "discard answers it",
          "[interleaving]") {
  for (StopPolicy policy : {StopPolicy::drain, StopPolicy::discard}) {
    const bool drain = policy == StopPolicy::drain;
    INFO("policy " << (drain ? "drain" : "discard"));
    SelfActor s;
    // Hold the actor so that the stop and three counts queue behind one another; the next
    // turn then takes them together, so the stop runs with the counts already out of the
    // mailbox, in the worker's batch.
    Flag entered, go;
    REQUIRE(s.ref.tell({SelfMsg::hold, 0, &entered, &go}) == SubmitStatus::accepted);
    entered.wait();
    REQUIRE(s.ref.tell({drain ? SelfMsg::stop_drain : SelfMsg::stop_discard}) ==
            SubmitStatus::accepted);
    for (int i = 0; i < 3; ++i) REQUIRE(s.ref.tell({SelfMsg::count}) == SubmitStatus::accepted);
    go.set();
    s.ref.wait_until_stopped();
    const ActorStats st = s.ref.stats();
    CHECK(s.ref.tell({SelfMsg::count}) == SubmitStatus::stopped);
    CHECK(st.accepted == 5);
    CHECK(st.handled == (drain ? 5u : 2u));    // hold, stop (and, with drain, the counts)
    CHECK(st.discarded == (drain ? 0u : 3u));  // discard: none handled after the stop
    CHECK(st.balanced());
  }
}

TEST_CASE("re-entrancy: a handler that waits for its own actor to stop fails, not hangs",
          "[interleaving]") {
  SelfActor s;
  const auto r = s.ref.ask({SelfMsg::wait_self}, kLongWait);
  CHECK(r.error == AskError::handler_failed);  // std::logic_error from wait_until_stopped
  const auto t = s.ref.ask({SelfMsg::tally}, kLongWait);
  CHECK(t.ok());
}

TEST_CASE("stats: exact at wait_until_stopped although the stopper is parked after its close",
          "[interleaving]") {
  // Another thread stops the actor with discard and is parked right after the mailbox closed
  // (it has taken the queued messages out, not yet answered them). A third thread's
  // wait_until_stopped may return then; its statistics must count those messages discarded.
  ActorSystem sys({.workers = 1});
  struct Holder {
    using message = std::pair<Flag*, Flag*>;  // set on entry, then wait for
    using reply = int;
    int handle(message& f) {
      if (f.first != nullptr) f.first->set();
      if (f.second != nullptr) f.second->wait();
      return 0;
    }
  };
  auto a = sys.spawn<Holder>([] { return Holder{}; });
  Flag entered, hold, parked, release;
  REQUIRE(a.tell({&entered, &hold}) == SubmitStatus::accepted);
  entered.wait();  // the worker's turn holds only this message: the next two stay queued
  REQUIRE(a.tell({nullptr, nullptr}) == SubmitStatus::accepted);
  REQUIRE(a.tell({nullptr, nullptr}) == SubmitStatus::accepted);
  std::thread stopper([&] {
    ActorHooks::Scope scope([&](ActorHookPoint p, const void*) {
      if (p != ActorHookPoint::mailbox_closed) return;
      parked.set();
      release.wait();
    });
    a.stop(StopPolicy::discard);
  });
  parked.wait();
  hold.set();
  a.wait_until_stopped();
  const ActorStats st = a.stats();
  release.set();
  stopper.join();
  CHECK(st.accepted == 3);
  CHECK(st.handled == 1);
  CHECK(st.discarded == 2);
  CHECK(st.balanced());
}

TEST_CASE("re-entrancy: on_failure that stops the actor and asks it: answered, counts balance",
          "[interleaving]") {
  // The report runs on the worker, inside the failed message's turn: its ask of the same actor
  // is caught as asked_itself, its stop(discard) discards what is queued behind.
  ActorSystem sys({.workers = 2});
  auto slot = std::make_shared<ActorRef<Counter>>();
  auto inner = std::make_shared<AskError>(AskError::ok);  // written on the worker, read after
  ActorOptions opts;
  opts.supervision.on_failure = [slot, inner](const FailureReport&) {
    *inner = slot->ask({}, kLongWait).error;
    slot->stop(StopPolicy::discard);
  };
  auto a = sys.spawn<Counter>([] { return Counter{}; }, opts);
  *slot = a;
  CHECK(a.ask({FaultMsg::handler_throws}, kLongWait).error == AskError::handler_failed);
  a.wait_until_stopped();
  CHECK(a.ask({}, kLongWait).error == AskError::stopped);
  const ActorStats st = a.stats();
  sys.shutdown(StopPolicy::drain);
  *slot = ActorRef<Counter>();  // break the cycle cell -> options -> slot -> cell
  CHECK(*inner == AskError::asked_itself);
  CHECK(st.accepted == 1);
  CHECK(st.failed == 1);
  CHECK(st.balanced());
}

TEST_CASE("re-entrancy: shutdown from a handler: its own system throws, another system's works",
          "[interleaving]") {
  struct ShutsDown {
    using message = ActorSystem*;
    using reply = int;
    int handle(ActorSystem*& sys) {
      sys->shutdown(StopPolicy::drain);
      return 0;
    }
  };
  ActorSystem own({.workers = 1});
  auto other = std::make_unique<ActorSystem>(SchedulerConfig{.workers = 1});
  auto a = own.spawn<ShutsDown>([] { return ShutsDown{}; });
  // Its own system: the worker would wait for itself; the handler fails with logic_error.
  CHECK(a.ask(&own, kLongWait).error == AskError::handler_failed);
  // Another system: shut down and joined from this handler, as from any other thread.
  CHECK(a.ask(other.get(), kLongWait).ok());
  CHECK_THROWS_AS(other->spawn<ShutsDown>([] { return ShutsDown{}; }), std::logic_error);
  own.shutdown(StopPolicy::drain);
  CHECK(a.stats().balanced());
}
