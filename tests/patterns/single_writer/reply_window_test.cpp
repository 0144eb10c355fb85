// reply_window_test.cpp: ReplyWindow, Engine::submit_to (pipelined requests), and the
// end-of-batch hook (group commit: replies held until end_batch returned).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "comparisons/common/random.hpp"
#include "patterns/single_writer/single_writer.hpp"
#include "tests/support/delayed_signal_wait.hpp"
#include "tests/support/findings.hpp"

using namespace cp;
using namespace cp::sw;
using namespace cp::test;

namespace {

struct Req {
  std::uint32_t client = 0;
  std::uint64_t index = 0;
};
struct Ans {
  std::uint32_t client = 0;
  std::uint64_t index = 0, sequence = 0;
};

// Echoes each request with its sequence number.
struct Echo {
  Ans apply(const Req& r, std::uint64_t seq) { return {r.client, r.index, seq}; }
};

// Pipelined producers: each keeps up to `window` requests in flight and checks that replies
// come back complete and in its own order, with sequences that grow.
template <class Wait>
Findings check_pipelined(std::uint64_t seed, unsigned producers, std::uint64_t per_producer,
                         std::size_t window) {
  Findings f;
  Engine<Echo, Req, MultiProducerRing, Wait> engine(64);
  using Window = typename decltype(engine)::reply_window;
  std::vector<Findings> per(producers);
  run_threads(producers, [&](unsigned p) {
    Window w(window);
    Xoshiro256 rng(derive_seed(seed, p));
    std::uint64_t sent = 0, taken = 0, last_seq = 0;
    auto take = [&] {
      const Ans a = w.take();
      if (a.client != p || a.index != taken)
        per[p].fail("producer ", p, " reply ", taken, " answers client ", a.client, " index ", a.index);
      if (taken > 0 && a.sequence <= last_seq) per[p].fail("producer ", p, " sequence went back");
      last_seq = a.sequence;
      ++taken;
    };
    while (sent < per_producer) {
      // Take back a random number of replies now and then, not only when full.
      if (!w.has_room() || rng.below(8) == 0)
        for (auto k = rng.below(w.in_flight() + 1); k > 0; --k) take();
      if (!w.has_room()) take();
      if (engine.submit_to(Req{p, sent}, w) != SubmitStatus::accepted) per[p].fail("refused");
      ++sent;
    }
    while (w.in_flight() > 0) take();
    if (taken != per_producer) per[p].fail("producer ", p, " took ", taken, " replies");
  });
  engine.stop();
  for (auto& x : per) f.merge(x);
  if (engine.processed() != producers * per_producer)
    f.fail("processed ", engine.processed(), " of ", producers * per_producer);
  return f;
}

// A state whose end_batch "makes durable" every command applied so far, and which holds
// replies until then. A reply that arrives before its command is durable is a finding.
struct GroupCommit {
  std::uint64_t applied = 0;
  std::atomic<std::uint64_t>* durable;  // written by the owner in end_batch, read by callers
  std::uint64_t apply(const Req&, std::uint64_t seq) {
    ++applied;
    return seq;
  }
  void end_batch() {
    // release: pairs with the callers' acquire load after their reply (the reply's own
    // hand-off already orders it; this keeps the check meaningful on its own).
    durable->store(applied, std::memory_order_release);
  }
  bool holds_replies_until_end_batch() const { return true; }
};


// ---- lifetime: the owner's last access to a window is the store that hands it over ----------

constexpr std::int64_t kGate = -1, kPoison = -2;

// Gated: echoes its command. kGate waits until *gate is set (so the commands sent meanwhile
// land in the same batch); kPoison throws (the engine halts). end_batch sleeps when asked.
struct Gated {
  std::atomic<bool>* gate = nullptr;
  bool slow_end_batch = false;
  std::int64_t apply(const std::int64_t& x, std::uint64_t) {
    delay_signals_here = true;  // the owner: its signal() calls are delayed
    if (x == kGate)
      while (!gate->load()) std::this_thread::yield();
    if (x == kPoison) throw std::runtime_error("poisoned");
    return x;
  }
  void end_batch() {
    if (slow_end_batch) std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
};
using GatedEngine = Engine<Gated, std::int64_t, MultiProducerRing, DelayedSignalWait>;

}  // namespace

TEST_CASE("ReplyWindow: capacity rule, full and empty refusals, publish makes replies visible",
          "[unit]") {
  REQUIRE_THROWS_AS(ReplyWindow<int>(3), std::invalid_argument);
  ReplyWindow<int> w(2);
  CHECK(w.capacity() == 2);
  CHECK_THROWS_AS(w.take(), std::logic_error);  // nothing in flight
  w.reserve();
  w.reserve();
  CHECK_FALSE(w.has_room());
  CHECK_THROWS_AS(w.reserve(), std::logic_error);
  int out = 0;
  CHECK(w.put(10));         // owner side: first unpublished
  CHECK_FALSE(w.put(11));   // second: already listed
  CHECK_FALSE(w.try_take(out));  // not published yet
  w.publish();
  CHECK(w.try_take(out));
  CHECK(out == 10);
  CHECK(w.take() == 11);
  CHECK(w.in_flight() == 0);
  w.reserve();
  w.unreserve();
  CHECK(w.in_flight() == 0);
}

TEMPLATE_TEST_CASE("Engine::submit_to: every pipelined reply arrives once, in the producer's order",
                   "[stress]", BlockingWaitStrategy, PhasedBackoffWaitStrategy, YieldingWaitStrategy) {
  const auto s = seed();
  for (unsigned producers : {1u, 2u, 4u})
    for (std::size_t window : {std::size_t{1}, std::size_t{8}, std::size_t{128}})
      CP_REQUIRE_CLEAN(check_pipelined<TestType>(s + producers * 1000 + window, producers, 20'000, window),
                       s + producers * 1000 + window);
}

TEST_CASE("Engine::submit_to after stop: refused, the window holds nothing", "[unit]") {
  Engine<Echo, Req> engine(8);
  decltype(engine)::reply_window w(4);
  REQUIRE(engine.submit_to(Req{0, 0}, w) == SubmitStatus::accepted);
  CHECK(w.take().index == 0);
  engine.stop();
  CHECK(engine.submit_to(Req{0, 1}, w) == SubmitStatus::stopped);
  CHECK(w.in_flight() == 0);
  CHECK(engine.counters().stopped == 1);
}

TEST_CASE("Engine end_batch hook: held replies come only after the batch's end_batch", "[stress]") {
  const auto s = seed();
  std::atomic<std::uint64_t> durable{0};
  Engine<GroupCommit, Req> engine(64, GroupCommit{0, &durable}, 16);
  using Window = decltype(engine)::reply_window;
  constexpr unsigned kClients = 4;
  constexpr std::uint64_t kPerClient = 5'000;
  std::vector<std::uint64_t> early(kClients, 0), replies(kClients, 0);
  run_threads(kClients, [&](unsigned c) {
    Window w(16);
    auto check = [&](std::uint64_t seq) {
      ++replies[c];
      // acquire: pairs with end_batch's release store.
      if (durable.load(std::memory_order_acquire) <= seq) ++early[c];
    };
    for (std::uint64_t i = 0; i < kPerClient; ++i) {
      if (c % 2 == 0) {  // half the clients call, half pipeline
        const auto r = engine.call(Req{c, i});
        if (r) check(*r);
      } else {
        if (!w.has_room()) check(w.take());
        engine.submit_to(Req{c, i}, w);
      }
    }
    while (w.in_flight() > 0) check(w.take());
  });
  engine.stop();
  INFO("seed " << s);
  for (unsigned c = 0; c < kClients; ++c) {
    INFO("client " << c);
    CHECK(replies[c] == kPerClient);
    CHECK(early[c] == 0);
  }
  CHECK(durable.load() == kClients * kPerClient);
}

TEST_CASE("ReplyWindow lifetime: the producer frees its window as soon as take() returns, while "
          "the owner is still inside publish's signal()", "[interleaving]") {
  DelayedSignalWait::destroyed_while_signalling = 0;
  GatedEngine engine(8);
  auto w = std::make_unique<GatedEngine::reply_window>(4);  // on the heap: ASan sees the free
  REQUIRE(engine.submit_to(5, *w) == SubmitStatus::accepted);
  CHECK(w->take() == 5);
  w.reset();  // allowed: the window's last reply arrived
  engine.stop();
  CHECK(DelayedSignalWait::destroyed_while_signalling == 0);
}

TEST_CASE("ReplyWindow lifetime: the producer frees its window as soon as take() throws (halt), "
          "while the owner is still signalling the failure", "[interleaving]") {
  DelayedSignalWait::destroyed_while_signalling = 0;
  GatedEngine engine(8);
  auto w = std::make_unique<GatedEngine::reply_window>(4);
  REQUIRE(engine.submit_to(kPoison, *w) == SubmitStatus::accepted);
  CHECK_THROWS_AS(w->take(), EngineStopped);
  w.reset();
  engine.stop();
  CHECK(DelayedSignalWait::destroyed_while_signalling == 0);
  CHECK(engine.halted());
}

TEST_CASE("ReplyWindow lifetime: a window published mid-batch and freed is not touched again at "
          "the end of the batch", "[interleaving]") {
  DelayedSignalWait::destroyed_while_signalling = 0;
  std::atomic<bool> gate{false};
  GatedEngine engine(8, Gated{&gate, true});
  // Capacity 8 publishes every 2 replies: the second put publishes mid-batch, and the window
  // is also on the end-of-batch list from its first put.
  auto w = std::make_unique<GatedEngine::reply_window>(8);
  REQUIRE(engine.submit(kGate, OverloadPolicy::block) == SubmitStatus::accepted);
  REQUIRE(engine.submit_to(1, *w) == SubmitStatus::accepted);
  REQUIRE(engine.submit_to(2, *w) == SubmitStatus::accepted);
  gate = true;  // the three commands are now one batch
  CHECK(w->take() == 1);
  CHECK(w->take() == 2);
  w.reset();  // end_batch still sleeps: the owner has not reached its end-of-batch publish
  engine.stop();
  CHECK(DelayedSignalWait::destroyed_while_signalling == 0);
}
