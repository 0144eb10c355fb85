// actor_test.cpp: the actor runtime (patterns/actor): mailbox, scheduler, tell/ask, supervision,
// lifecycle, broadcast, and fault injection. Seeded; no sleep is used to order anything (the
// tests that need an actor "busy" hold its handler on a Gate).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "comparisons/common/random.hpp"
#include "patterns/actor/actor.hpp"
#include "patterns/actor/broadcast.hpp"
#include "tests/support/findings.hpp"

using namespace cp;
using namespace cp::actor;
using namespace cp::test;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kScale = kSanitizerSlowdown;  // fewer messages under the sanitizers

constexpr auto kLongWait = 60s;  // an ask that must be answered; a hang fails the test, slowly

// Gate: a one-way door. wait() blocks until open(); entered() blocks until someone waited.
class Gate {
 public:
  void open() {
    { std::lock_guard l(m_); open_ = true; }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock l(m_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(l, [&] { return open_; });
  }
  void until_entered() {
    std::unique_lock l(m_);
    cv_.wait(l, [&] { return waiting_ > 0; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
  int waiting_ = 0;
};

// Probe: the test actor. Messages carry a sender id and that sender's sequence number; the
// actor checks per-sender order and counts what it handled. It can hold on a gate or throw.
struct ProbeMsg {
  enum Kind { work, tally, hold, fail } kind = work;
  std::uint32_t sender = 0;
  std::uint64_t seq = 0;
  Gate* gate = nullptr;
};

struct Tally {
  std::uint64_t handled = 0;     // work messages handled by this incarnation
  std::uint64_t out_of_order = 0;
  std::uint64_t overlaps = 0;    // another worker was inside this actor at the same time
};

struct Probe {
  using message = ProbeMsg;
  using reply = Tally;

  std::atomic<int>* inside = nullptr;  // shared across incarnations: detects two workers at once
  std::vector<std::uint64_t> next_seq = std::vector<std::uint64_t>(16, 0);
  Tally t;

  Tally handle(ProbeMsg& m) {
    // relaxed: only detects overlap; the mailbox lock orders turns (we test that it does).
    if (inside->fetch_add(1, std::memory_order_relaxed) != 0) ++t.overlaps;
    struct Leave {
      std::atomic<int>* c;
      ~Leave() { c->fetch_sub(1, std::memory_order_relaxed); }  // relaxed: see above
    } leave{inside};
    switch (m.kind) {
      case ProbeMsg::work:
        if (m.seq < next_seq[m.sender]) ++t.out_of_order;
        next_seq[m.sender] = m.seq + 1;
        ++t.handled;
        break;
      case ProbeMsg::tally: break;
      case ProbeMsg::hold: m.gate->wait(); break;
      case ProbeMsg::fail: throw std::runtime_error("injected failure");
    }
    return t;
  }
};

struct ProbeOwner {
  std::atomic<int> inside{0};
  std::function<Probe()> factory() {
    return [this] {
      Probe p;
      p.inside = &inside;
      return p;
    };
  }
};

// ManualClock: the supervision window's injected clock.
struct ManualClock {
  std::atomic<std::int64_t> ns{0};
  SupervisionClock fn() {
    return [this] {
      // relaxed: the test advances it only while the actor is idle (ordered by ask replies).
      return std::chrono::steady_clock::time_point(
          std::chrono::nanoseconds(ns.load(std::memory_order_relaxed)));
    };
  }
  void advance(std::chrono::nanoseconds d) { ns.fetch_add(d.count(), std::memory_order_relaxed); }
};

}  // namespace

TEST_CASE("mailbox: bounded reject, close with and without discard", "[unit]") {
  Mailbox<int> reject(2, OverloadPolicy::reject);
  CHECK(reject.push(1).became_ready);
  CHECK(reject.push(2).status == SubmitStatus::accepted);
  CHECK(reject.push(3).status == SubmitStatus::rejected_full);

  std::vector<int> got;
  CHECK(reject.take(got, 1) == 1);
  CHECK(got == std::vector<int>{1});
  CHECK(reject.finish_turn());  // one left: stays scheduled
  std::vector<int> discarded;
  reject.close(true, discarded);
  CHECK(discarded == std::vector<int>{2});
  CHECK(reject.push(9).status == SubmitStatus::stopped);
  CHECK_FALSE(reject.finish_turn());
  reject.wait_until_done();  // closed, empty, idle: returns

  Mailbox<int> drain;
  CHECK(drain.push(5).became_ready);
  CHECK_FALSE(drain.push(6).became_ready);  // already scheduled
  discarded.clear();
  drain.close(false, discarded);
  CHECK(discarded.empty());
  got.clear();
  CHECK(drain.take(got, 10) == 2);
  CHECK_FALSE(drain.finish_turn());
  drain.wait_until_done();
}

TEST_CASE("mailbox: a blocked sender wakes with `stopped` when the mailbox closes", "[unit]") {
  Mailbox<int> box(1, OverloadPolicy::block);
  CHECK(box.push(1).status == SubmitStatus::accepted);
  SubmitStatus second = SubmitStatus::accepted;
  std::thread sender([&] { second = box.push(2).status; });
  std::vector<int> discarded;
  box.close(false, discarded);
  sender.join();
  CHECK(second == SubmitStatus::stopped);
}

TEST_CASE("scheduler: throughput = messages per turn (one worker, two actors)", "[unit]") {
  for (std::size_t throughput : {std::size_t{1}, std::size_t{4}}) {
    INFO("throughput " << throughput);
    std::mutex m;
    std::vector<char> order;
    struct Recorder {
      using message = Gate*;
      using reply = int;
      char name;
      std::mutex* m;
      std::vector<char>* order;
      int handle(Gate*& g) {
        if (g) g->wait();
        std::lock_guard l(*m);
        order->push_back(name);
        return 0;
      }
    };
    ActorSystem sys({.workers = 1, .throughput = throughput});
    auto a = sys.spawn<Recorder>([&] { return Recorder{'a', &m, &order}; });
    auto b = sys.spawn<Recorder>([&] { return Recorder{'b', &m, &order}; });
    Gate gate;
    auto blocker = sys.spawn<Recorder>([&] { return Recorder{'x', &m, &order}; });
    REQUIRE(blocker.tell(&gate) == SubmitStatus::accepted);
    gate.until_entered();  // the only worker is held: a and b queue up behind it
    for (int i = 0; i < 4; ++i) REQUIRE(a.tell(nullptr) == SubmitStatus::accepted);
    for (int i = 0; i < 4; ++i) REQUIRE(b.tell(nullptr) == SubmitStatus::accepted);
    gate.open();
    sys.shutdown(StopPolicy::drain);
    const std::string got(order.begin(), order.end());
    CHECK(got == std::string(throughput == 1 ? "xabababab" : "xaaaabbbb"));
  }
}

TEST_CASE("actor: many actors, many senders: every tell handled once, per-sender order kept",
          "[stress]") {
  const auto s = seed();
  for (unsigned senders : kStressThreadCounts) {
    INFO("senders " << senders << ", seed " << s);
    ActorSystem sys({.workers = 2, .throughput = 8});
    constexpr unsigned kActors = 16;
    std::vector<ProbeOwner> owners(kActors);
    std::vector<ActorRef<Probe>> actors;
    for (auto& o : owners) actors.push_back(sys.spawn<Probe>(o.factory()));
    const std::uint64_t per_sender = 20'000 / kScale;
    std::vector<std::vector<std::uint64_t>> sent(senders, std::vector<std::uint64_t>(kActors, 0));
    std::vector<std::uint64_t> bad_asks(senders, 0);
    run_threads(senders, [&](unsigned t) {
      Xoshiro256 rng(s + t);
      for (std::uint64_t i = 0; i < per_sender; ++i) {
        const auto a = rng.below(kActors);
        const ProbeMsg m{ProbeMsg::work, t, sent[t][a]++};
        if (rng.percent(5)) {
          if (!actors[a].ask(m, kLongWait).ok()) ++bad_asks[t];
        } else if (actors[a].tell(m) != SubmitStatus::accepted) {
          ++bad_asks[t];
        }
      }
    });
    std::uint64_t handled = 0, disorder = 0, overlaps = 0;
    for (unsigned a = 0; a < kActors; ++a) {
      const auto r = actors[a].ask({ProbeMsg::tally}, kLongWait);
      REQUIRE(r.ok());
      handled += r.value->handled;
      disorder += r.value->out_of_order;
      overlaps += r.value->overlaps;
    }
    sys.shutdown(StopPolicy::drain);
    std::uint64_t total_sent = 0;
    for (auto& v : sent)
      for (auto n : v) total_sent += n;
    for (auto b : bad_asks) CHECK(b == 0);
    CHECK(handled == total_sent);
    CHECK(disorder == 0);
    CHECK(overlaps == 0);
    for (auto& a : actors) CHECK(a.stats().balanced());
  }
}

TEST_CASE("ask: a reply that does not come in time is a timeout, not a hang", "[unit]") {
  ProbeOwner owner;
  ActorSystem sys({.workers = 1});
  auto p = sys.spawn<Probe>(owner.factory());
  Gate gate;
  REQUIRE(p.tell({ProbeMsg::hold, 0, 0, &gate}) == SubmitStatus::accepted);
  gate.until_entered();
  const auto r = p.ask({ProbeMsg::tally}, 20ms);  // the actor is held: it cannot answer
  CHECK(r.error == AskError::timeout);
  CHECK_FALSE(r.value);
  gate.open();
  CHECK(p.ask({ProbeMsg::tally}, kLongWait).ok());  // the late reply went nowhere, harmlessly

  // A full mailbox with policy block: the wait for room counts against the timeout too.
  ActorOptions bounded;
  bounded.mailbox_capacity = 1;
  bounded.overload = OverloadPolicy::block;
  auto q = sys.spawn<Probe>(owner.factory(), bounded);
  Gate gate2;
  REQUIRE(q.tell({ProbeMsg::hold, 0, 0, &gate2}) == SubmitStatus::accepted);
  gate2.until_entered();
  REQUIRE(q.tell({}) == SubmitStatus::accepted);  // the mailbox is full now
  CHECK(q.ask({ProbeMsg::tally}, 20ms).error == AskError::timeout);
  gate2.open();
  CHECK(q.ask({ProbeMsg::tally}, kLongWait).ok());
}

TEST_CASE("ask and tell: a stopped actor refuses with a clear error", "[unit]") {
  ProbeOwner owner;
  ActorSystem sys;
  auto p = sys.spawn<Probe>(owner.factory());
  p.stop(StopPolicy::drain);
  p.wait_until_stopped();
  CHECK(p.tell({}) == SubmitStatus::stopped);
  CHECK(p.ask({}, kLongWait).error == AskError::stopped);
  ActorOptions bounded;
  bounded.mailbox_capacity = 1;
  bounded.overload = OverloadPolicy::reject;
  auto q = sys.spawn<Probe>(owner.factory(), bounded);
  Gate gate;
  REQUIRE(q.tell({ProbeMsg::hold, 0, 0, &gate}) == SubmitStatus::accepted);
  gate.until_entered();  // the hold message left the mailbox: one slot free
  CHECK(q.tell({}) == SubmitStatus::accepted);
  CHECK(q.ask({}, kLongWait).error == AskError::mailbox_full);
  gate.open();
  sys.shutdown(StopPolicy::drain);  // before `gate` goes: the held handler still reads it
}

TEST_CASE("supervision: a throwing handler is restarted or resumed per directive, later messages handled",
          "[unit]") {
  for (FailureDirective directive : {FailureDirective::restart, FailureDirective::resume}) {
    ProbeOwner owner;
    ActorSystem sys({.workers = 2});
    std::vector<FailureReport> reports;  // written on the worker, read after shutdown
    ActorOptions opts;
    opts.supervision.directive = directive;
    opts.supervision.on_failure = [&](const FailureReport& r) { reports.push_back(r); };
    auto p = sys.spawn<Probe>(owner.factory(), opts);
    for (std::uint64_t i = 0; i < 3; ++i) REQUIRE(p.tell({ProbeMsg::work, 0, i}) == SubmitStatus::accepted);
    CHECK(p.ask({ProbeMsg::fail}, kLongWait).error == AskError::handler_failed);
    const auto after = p.ask({ProbeMsg::work, 0, 3}, kLongWait);
    REQUIRE(after.ok());
    // restart: the new incarnation starts from zero; resume: the same one kept counting.
    const bool restart = directive == FailureDirective::restart;
    CHECK(after.value->handled == (restart ? 1u : 4u));
    sys.shutdown(StopPolicy::drain);
    const ActorStats st = p.stats();
    CHECK(st.failed == 1);
    CHECK(st.restarts == (restart ? 1u : 0u));
    CHECK(st.resumes == (restart ? 0u : 1u));
    CHECK(st.handled == 4);
    CHECK(st.balanced());
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].what == "injected failure");
    CHECK_FALSE(reports[0].stopped);
  }
}

TEST_CASE("supervision: a restart storm stops the actor, callers get actor_failed", "[unit]") {
  ProbeOwner owner;
  ManualClock clock;
  ActorSystem sys({.workers = 2});
  ActorOptions opts;
  opts.supervision.max_failures = 2;
  opts.supervision.window = 1s;
  opts.supervision.clock = clock.fn();
  auto p = sys.spawn<Probe>(owner.factory(), opts);
  CHECK(p.ask({ProbeMsg::fail}, kLongWait).error == AskError::handler_failed);
  CHECK(p.ask({ProbeMsg::fail}, kLongWait).error == AskError::handler_failed);
  clock.advance(1s);  // both restarts leave the window
  CHECK(p.ask({ProbeMsg::fail}, kLongWait).error == AskError::handler_failed);
  CHECK(p.ask({ProbeMsg::fail}, kLongWait).error == AskError::handler_failed);
  CHECK(p.ask({ProbeMsg::tally}, kLongWait).ok());  // 2 restarts in this window: still alive
  // The third failure within the window: no restart, the actor stops for good. The messages
  // queued behind it are answered actor_failed, and so is every later one.
  Gate gate;
  REQUIRE(p.tell({ProbeMsg::hold, 0, 0, &gate}) == SubmitStatus::accepted);
  gate.until_entered();
  REQUIRE(p.tell({ProbeMsg::fail}) == SubmitStatus::accepted);
  ActorStats before = p.stats();
  std::vector<AskResult<Tally>> behind;
  std::thread asker([&] { behind.push_back(p.ask({ProbeMsg::tally}, kLongWait)); });
  while (p.stats().accepted < before.accepted + 1) std::this_thread::yield();
  gate.open();
  asker.join();
  REQUIRE(behind.size() == 1);
  CHECK(behind[0].error == AskError::actor_failed);
  p.wait_until_stopped();
  CHECK(p.ask({ProbeMsg::tally}, kLongWait).error == AskError::actor_failed);
  CHECK(p.tell({}) == SubmitStatus::stopped);
  const ActorStats st = p.stats();
  CHECK(st.failed == 5);
  CHECK(st.restarts == 4);
  CHECK(st.discarded == 1);
  CHECK(st.balanced());
}

TEST_CASE("lifecycle: stop drains or discards what was accepted, every asker hears", "[unit]") {
  for (StopPolicy policy : {StopPolicy::drain, StopPolicy::discard}) {
    ProbeOwner owner;
    ActorSystem sys({.workers = 1});
    auto p = sys.spawn<Probe>(owner.factory());
    Gate gate;
    REQUIRE(p.tell({ProbeMsg::hold, 0, 0, &gate}) == SubmitStatus::accepted);
    gate.until_entered();
    for (std::uint64_t i = 0; i < 10; ++i) REQUIRE(p.tell({ProbeMsg::work, 0, i}) == SubmitStatus::accepted);
    std::vector<AskError> answers(4, AskError::ok);
    std::vector<std::thread> askers;
    for (int i = 0; i < 4; ++i)
      askers.emplace_back([&, i] { answers[i] = p.ask({ProbeMsg::tally}, kLongWait).error; });
    while (p.stats().accepted < 15) std::this_thread::yield();  // all 4 asks are queued
    p.stop(policy);
    gate.open();
    for (auto& t : askers) t.join();
    p.wait_until_stopped();
    const ActorStats st = p.stats();
    for (AskError e : answers)
      CHECK(e == (policy == StopPolicy::drain ? AskError::ok : AskError::stopped));
    CHECK(st.handled == (policy == StopPolicy::drain ? 15u : 1u));
    CHECK(st.discarded == (policy == StopPolicy::drain ? 0u : 14u));
    CHECK(st.balanced());
    sys.shutdown(StopPolicy::drain);
  }
}

TEST_CASE("lifecycle: shutdown while senders still send: no hang, nothing accepted lost",
          "[stress]") {
  const auto s = seed();
  for (StopPolicy policy : {StopPolicy::drain, StopPolicy::discard}) {
    INFO("seed " << s << ", policy " << (policy == StopPolicy::drain ? "drain" : "discard"));
    std::vector<ProbeOwner> owners(8);
    auto sys = std::make_unique<ActorSystem>(SchedulerConfig{.workers = 2, .throughput = 16});
    std::vector<ActorRef<Probe>> actors;
    for (auto& o : owners) actors.push_back(sys->spawn<Probe>(o.factory()));
    constexpr unsigned kSenders = 4;
    std::vector<std::uint64_t> accepted(kSenders, 0), ask_ok(kSenders, 0), ask_refused(kSenders, 0),
        ask_other(kSenders, 0);
    std::atomic<unsigned> started{0};
    std::vector<std::thread> senders;
    for (unsigned t = 0; t < kSenders; ++t)
      senders.emplace_back([&, t] {
        Xoshiro256 rng(s + t);
        std::vector<std::uint64_t> seq(actors.size(), 0);
        started.fetch_add(1);
        for (;;) {
          const auto a = rng.below(actors.size());
          if (rng.percent(10)) {
            const auto r = actors[a].ask({ProbeMsg::work, t, seq[a]++}, kLongWait);
            if (r.ok()) ++ask_ok[t];
            else if (r.error == AskError::stopped) ++ask_refused[t];
            else ++ask_other[t];
            if (r.error == AskError::stopped) break;
          } else {
            const auto st = actors[a].tell({ProbeMsg::work, t, seq[a]++});
            if (st == SubmitStatus::stopped) break;
            ++accepted[t];
          }
        }
      });
    while (started.load() < kSenders) std::this_thread::yield();
    // Let some traffic through: wait until the actors accepted a few thousand messages.
    auto accepted_so_far = [&] {
      std::uint64_t n = 0;
      for (auto& a : actors) n += a.stats().accepted;
      return n;
    };
    while (accepted_so_far() < 2000 / kScale) std::this_thread::yield();
    sys->shutdown(policy);  // must return: senders are still sending
    for (auto& t : senders) t.join();
    std::uint64_t tells = 0, handled = 0, discarded = 0, total_accepted = 0, oks = 0;
    for (unsigned t = 0; t < kSenders; ++t) {
      tells += accepted[t];
      oks += ask_ok[t];
      CHECK(ask_other[t] == 0);
    }
    for (auto& a : actors) {
      const ActorStats st = a.stats();
      CHECK(st.balanced());
      CHECK(st.failed == 0);
      handled += st.handled;
      discarded += st.discarded;
      total_accepted += st.accepted;
    }
    // Every accepted message was handled or discarded (and counted); every ask that was
    // accepted was answered (ok or stopped); asks refused at the door were not accepted.
    CHECK(total_accepted == handled + discarded);
    CHECK(handled + discarded >= tells + oks);
    if (policy == StopPolicy::drain) CHECK(discarded == 0);
    sys.reset();
  }
}

TEST_CASE("fault injection: random throwing handlers: sent = handled + failed, asks answered",
          "[stress]") {
  const auto s = seed();
  struct Flaky {
    using message = std::uint64_t;  // a draw: throws if below the threshold
    using reply = std::uint64_t;
    std::uint64_t handled = 0;
    std::uint64_t handle(std::uint64_t& draw) {
      if (draw % 100 < 7) throw std::runtime_error("injected");
      return ++handled;
    }
  };
  for (unsigned senders : {1u, 4u}) {
    INFO("seed " << s << ", senders " << senders);
    ActorSystem sys({.workers = 2, .throughput = 8});
    ActorOptions opts;
    opts.supervision.max_failures = 1'000'000;  // never stop: this test counts, not storms
    std::vector<ActorRef<Flaky>> actors;
    for (int i = 0; i < 6; ++i) actors.push_back(sys.spawn<Flaky>([] { return Flaky{}; }, opts));
    std::vector<std::uint64_t> sent(senders, 0), expect_fail(senders, 0), ask_ok(senders, 0),
        ask_failed(senders, 0), ask_wrong(senders, 0);
    const std::uint64_t per_sender = 20'000 / kScale;
    run_threads(senders, [&](unsigned t) {
      Xoshiro256 rng(s * 31 + t);
      for (std::uint64_t i = 0; i < per_sender; ++i) {
        const std::uint64_t draw = rng.next();
        const bool fails = draw % 100 < 7;
        auto& a = actors[rng.below(actors.size())];
        ++sent[t];
        if (fails) ++expect_fail[t];
        if (rng.percent(10)) {
          const auto r = a.ask(draw, kLongWait);
          if (r.ok() && !fails) ++ask_ok[t];
          else if (r.error == AskError::handler_failed && fails) ++ask_failed[t];
          else ++ask_wrong[t];
        } else if (a.tell(draw) != SubmitStatus::accepted) {
          ++ask_wrong[t];
        }
      }
    });
    sys.shutdown(StopPolicy::drain);
    std::uint64_t total_sent = 0, total_expect_fail = 0, handled = 0, failed = 0;
    for (unsigned t = 0; t < senders; ++t) {
      total_sent += sent[t];
      total_expect_fail += expect_fail[t];
      CHECK(ask_wrong[t] == 0);
    }
    for (auto& a : actors) {
      const ActorStats st = a.stats();
      CHECK(st.balanced());
      CHECK(st.discarded == 0);
      CHECK(st.restarts == st.failed);
      handled += st.handled;
      failed += st.failed;
    }
    CHECK(total_sent == handled + failed);
    CHECK(failed == total_expect_fail);
  }
}

TEST_CASE("broadcast: a lagging subscriber is told how many it missed", "[unit]") {
  Broadcast<int> b(4);
  auto slow = b.subscribe();
  auto fresh = b.subscribe();
  CHECK(fresh.try_recv().status == ReceiveStatus::empty);
  for (int i = 0; i < 10; ++i) b.publish(i);
  Received<int> r = slow.recv();
  CHECK(r.status == ReceiveStatus::value);
  CHECK(*r.value == 6);  // 0..5 were overwritten; it resumes at the oldest value held
  CHECK(r.missed == 6);
  for (int want = 7; want < 10; ++want) {
    r = slow.recv();
    CHECK(*r.value == want);
    CHECK(r.missed == 0);
  }
  r = fresh.recv_newest();
  CHECK(*r.value == 9);
  CHECK(r.missed == 9);
  auto late = b.subscribe();  // sees only what comes after it subscribed
  b.publish(10);
  b.close();
  CHECK(*late.recv().value == 10);
  CHECK(late.recv().status == ReceiveStatus::closed);
  CHECK(slow.recv().value == 10);
  CHECK(slow.recv().status == ReceiveStatus::closed);
  CHECK_THROWS_AS(b.publish(11), std::logic_error);
}

TEST_CASE("broadcast: publisher never waits, every subscriber accounts for every value",
          "[stress]") {
  const auto s = seed();
  INFO("seed " << s);
  Broadcast<std::uint64_t> b(8);
  constexpr unsigned kSubs = 4;
  std::vector<Broadcast<std::uint64_t>::Subscriber> subs;
  for (unsigned i = 0; i < kSubs; ++i) subs.push_back(b.subscribe());
  const std::uint64_t n = 50'000 / kScale;
  std::vector<std::uint64_t> got(kSubs, 0), missed(kSubs, 0), disorder(kSubs, 0);
  std::vector<std::thread> readers;
  for (unsigned i = 0; i < kSubs; ++i)
    readers.emplace_back([&, i] {
      Xoshiro256 rng(s + i);
      std::uint64_t expect = 0;
      for (;;) {
        const auto r = (i == 0 && rng.percent(20)) ? subs[i].recv_newest() : subs[i].recv();
        if (r.status == ReceiveStatus::closed) break;
        if (*r.value != expect + r.missed) ++disorder[i];
        expect = *r.value + 1;
        ++got[i];
        missed[i] += r.missed;
        if (i == kSubs - 1 && rng.percent(1)) std::this_thread::yield();  // a slow one
      }
    });
  for (std::uint64_t v = 0; v < n; ++v) b.publish(v);
  b.close();
  for (auto& t : readers) t.join();
  for (unsigned i = 0; i < kSubs; ++i) {
    CHECK(disorder[i] == 0);
    CHECK(got[i] + missed[i] == n);
  }
}
