// engine_test.cpp: Engine, ReplySlot, overload accounting, shutdown, Sharded.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "comparisons/common/random.hpp"
#include "patterns/single_writer/single_writer.hpp"
#include "tests/support/findings.hpp"

using namespace cp;
using namespace cp::sw;
using namespace cp::test;

namespace {

struct Cmd {
  std::uint64_t client = 0;
  std::uint64_t index = 0;
};

struct Answer {
  std::uint64_t client = 0, index = 0, sequence = 0;
};

// The owner's state: a log of what it applied (owner thread only), optionally slow.
struct Log {
  std::vector<Cmd> applied;
  std::vector<std::uint64_t> sequences;
  int work = 0;  // busy iterations per command, to make the owner slower than producers

  Answer apply(const Cmd& c, std::uint64_t seq) {
    std::uint64_t x = c.index;
    for (int i = 0; i < work; ++i) {
      x = x * 31 + static_cast<std::uint64_t>(i);
      asm volatile("" : "+r"(x));  // keeps the loop: the owner must really be slow
    }
    applied.push_back(c);
    sequences.push_back(seq);
    return {c.client, c.index, seq};
  }
};

Log slow_log(int work) {
  Log l;
  l.work = work;
  return l;
}

// Every command in `accepted` (per client, in order) applied exactly once, in per-client FIFO
// order; sequences 0..n-1.
Findings check_applied(const Log& log, const std::vector<std::vector<std::uint64_t>>& accepted) {
  Findings f;
  for (std::size_t i = 0; i < log.sequences.size(); ++i)
    if (log.sequences[i] != i) {
      f.fail("command ", i, " applied with sequence ", log.sequences[i]);
      break;
    }
  std::vector<std::size_t> pos(accepted.size(), 0);
  for (const Cmd& c : log.applied) {
    if (c.client >= accepted.size()) {
      f.fail("unknown client ", c.client);
      continue;
    }
    auto& p = pos[c.client];
    if (p >= accepted[c.client].size() || accepted[c.client][p] != c.index)
      f.fail("client ", c.client, ": applied ", c.index, " not the next accepted one");
    ++p;
  }
  for (std::size_t k = 0; k < accepted.size(); ++k)
    if (pos[k] != accepted[k].size())
      f.fail("client ", k, ": ", accepted[k].size(), " accepted, ", pos[k], " applied");
  return f;
}

}  // namespace

TEST_CASE("Engine: commands applied once each, in sequence order, and stop drains", "[unit]") {
  std::vector<std::vector<std::uint64_t>> accepted(1);
  Engine<Log, Cmd> engine(16);
  for (std::uint64_t i = 0; i < 1000; ++i) {
    REQUIRE(engine.submit(Cmd{0, i}, OverloadPolicy::block) == SubmitStatus::accepted);
    accepted[0].push_back(i);
  }
  engine.stop();
  REQUIRE(engine.processed() == 1000);
  REQUIRE(engine.stopped());
  const Findings f = check_applied(engine.state_after_stop(), accepted);
  CP_REQUIRE_CLEAN(f, 0);
  REQUIRE(engine.submit(Cmd{0, 1000}, OverloadPolicy::block) == SubmitStatus::stopped);
  REQUIRE(engine.submit(Cmd{0, 1001}, OverloadPolicy::reject) == SubmitStatus::stopped);
  REQUIRE_FALSE(engine.call(Cmd{0, 1002}).has_value());
  const auto c = engine.counters();
  REQUIRE(c.accepted == 1000);
  REQUIRE(c.stopped == 3);
  REQUIRE(c.balanced());
}

TEST_CASE("Engine: state_after_stop refuses before stop", "[unit]") {
  Engine<Log, Cmd> engine(4);
  REQUIRE_THROWS_AS(engine.state_after_stop(), std::logic_error);
}

TEMPLATE_TEST_CASE("Engine: many producers, each command once, per-producer FIFO", "[stress]",
                   BlockingWaitStrategy, YieldingWaitStrategy) {
  const auto s = seed();
  for (unsigned producers : {1u, 2u, 4u, 6u}) {
    INFO(producers << " producers");
    std::vector<std::vector<std::uint64_t>> accepted(producers);
    Engine<Log, Cmd, MultiProducerRing, TestType> engine(8, Log{}, 1 + seed() % 7);
    run_threads(producers, [&](unsigned p) {
      for (std::uint64_t i = 0; i < 12'000 / producers; ++i)
        if (engine.submit(Cmd{p, i}, OverloadPolicy::block) == SubmitStatus::accepted)
          accepted[p].push_back(i);
    });
    engine.stop();
    CP_REQUIRE_CLEAN(check_applied(engine.state_after_stop(), accepted), s);
  }
}

TEST_CASE("Engine over a SingleProducerRing: one submitting thread", "[unit]") {
  Engine<Log, Cmd, SingleProducerRing> engine(8);
  std::vector<std::vector<std::uint64_t>> accepted(1);
  for (std::uint64_t i = 0; i < 2000; ++i) {
    if (i % 100 == 0) {
      auto r = engine.call(Cmd{0, i});
      REQUIRE(r.has_value());
      REQUIRE(r->index == i);
      accepted[0].push_back(i);
    } else if (engine.submit(Cmd{0, i}, OverloadPolicy::block) == SubmitStatus::accepted) {
      accepted[0].push_back(i);
    }
  }
  engine.stop();
  CP_REQUIRE_CLEAN(check_applied(engine.state_after_stop(), accepted), 0);
}

TEST_CASE("Engine: under overload, rejects are counted and nothing accepted is lost",
          "[stress]") {
  const auto s = seed();
  {
    constexpr OverloadPolicy policy = OverloadPolicy::reject;
    constexpr unsigned kProducers = 4;
    constexpr std::size_t kCapacity = 8;
    std::vector<std::vector<std::uint64_t>> accepted(kProducers);
    std::vector<std::uint64_t> refused(kProducers, 0), wrong_status(kProducers, 0),
        too_deep(kProducers, 0);
    Engine<Log, Cmd> engine(kCapacity, slow_log(2000), 4);
    run_threads(kProducers, [&](unsigned p) {
      for (std::uint64_t i = 0; i < 3'000; ++i) {
        const SubmitStatus st = engine.submit(Cmd{p, i}, policy);
        if (st == SubmitStatus::accepted) {
          accepted[p].push_back(i);
        } else if (st == SubmitStatus::rejected_full) {
          ++refused[p];
        } else {
          ++wrong_status[p];
        }
        if (engine.queue_depth_approx() > kCapacity) ++too_deep[p];
      }
    });
    engine.stop();
    Findings f = check_applied(engine.state_after_stop(), accepted);
    const auto c = engine.counters();
    std::uint64_t n_accepted = 0, n_refused = 0;
    for (unsigned p = 0; p < kProducers; ++p) {
      n_accepted += accepted[p].size();
      n_refused += refused[p];
      if (wrong_status[p] != 0) f.fail("producer ", p, ": ", wrong_status[p], " unexpected statuses");
      if (too_deep[p] != 0) f.fail("producer ", p, ": saw the queue deeper than its capacity");
    }
    if (!c.balanced()) f.fail("offered ", c.offered, " != accepted + rejected + stopped");
    if (c.offered != kProducers * 3'000) f.fail("offered ", c.offered);
    if (c.accepted != n_accepted) f.fail("counted ", c.accepted, " accepted, producers saw ", n_accepted);
    if (c.rejected != n_refused)
      f.fail("refusals counted wrong");
    if (n_refused == 0) f.fail("the owner kept up: the test did not overload it");
    if (engine.processed() != n_accepted) f.fail("processed ", engine.processed(), " of ", n_accepted);
    CP_REQUIRE_CLEAN(f, s);
  }
}

TEMPLATE_TEST_CASE("Engine: stop while producers are still sending: no hang, nothing lost",
                   "[stress]", BlockingWaitStrategy, YieldingWaitStrategy) {
  const auto s = seed();
  for (OverloadPolicy policy : {OverloadPolicy::block, OverloadPolicy::reject}) {
    constexpr unsigned kProducers = 5;
    std::vector<std::vector<std::uint64_t>> accepted(kProducers);
    std::vector<std::uint64_t> stopped_seen(kProducers, 0), after_stop_accepted(kProducers, 0);
    Engine<Log, Cmd, MultiProducerRing, TestType> engine(8, slow_log(200));
    std::atomic<bool> stop_returned{false};
    std::thread stopper([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
      engine.stop();
      stop_returned.store(true);
    });
    run_threads(kProducers, [&](unsigned p) {
      for (std::uint64_t i = 0;; ++i) {
        const bool was_stopped = stop_returned.load();
        const SubmitStatus st = engine.submit(Cmd{p, i}, policy);
        if (st == SubmitStatus::accepted) {
          accepted[p].push_back(i);
          if (was_stopped) ++after_stop_accepted[p];
        }
        if (st == SubmitStatus::stopped && ++stopped_seen[p] == 3) return;
      }
    });
    stopper.join();
    Findings f = check_applied(engine.state_after_stop(), accepted);
    for (unsigned p = 0; p < kProducers; ++p)
      if (after_stop_accepted[p] != 0) f.fail("producer ", p, ": accepted after stop() returned");
    if (!engine.counters().balanced()) f.fail("counters not balanced");
    CP_REQUIRE_CLEAN(f, s);
  }
}

TEST_CASE("Engine: concurrent calls each get their own reply", "[stress]") {
  const auto s = seed();
  constexpr unsigned kClients = 6;
  constexpr std::uint64_t kCalls = 1'500;
  Engine<Log, Cmd> engine(8);
  std::vector<Findings> findings(kClients);
  std::vector<std::vector<std::uint64_t>> seqs(kClients);
  run_threads(kClients, [&](unsigned c) {
    Xoshiro256 rng(derive_seed(s, c));
    for (std::uint64_t i = 0; i < kCalls; ++i) {
      if (rng.percent(20)) {
        engine.submit(Cmd{c + 100, i}, OverloadPolicy::reject);  // fire-and-forget noise
      }
      const auto r = engine.call(Cmd{c, i});
      if (!r) {
        findings[c].fail("client ", c, ": call ", i, " not answered");
        return;
      }
      if (r->client != c || r->index != i)
        findings[c].fail("client ", c, ": call ", i, " got the reply to ", r->client, "/", r->index);
      if (!seqs[c].empty() && r->sequence <= seqs[c].back())
        findings[c].fail("client ", c, ": sequences not increasing");
      seqs[c].push_back(r->sequence);
    }
  });
  engine.stop();
  Findings f;
  for (auto& cf : findings) f.merge(cf);
  std::vector<std::uint64_t> all;
  for (auto& v : seqs) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  if (std::adjacent_find(all.begin(), all.end()) != all.end()) f.fail("a sequence answered twice");
  if (all.size() != kClients * kCalls) f.fail(all.size(), " replies");
  CP_REQUIRE_CLEAN(f, s);
}

TEST_CASE("ReplySlot: reusable, one fulfil per wait, with and without a sleeping waiter", "[unit]") {
  ReplySlot<std::uint64_t> slot;
  std::atomic<std::uint64_t> request{0};  // the "ring": request i is ready when it reads i+1
  std::thread owner([&] {
    for (std::uint64_t i = 0; i < 200; ++i) {
      while (request.load() != i + 1) std::this_thread::yield();
      if (i % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // waiter sleeps
      slot.fulfil(i * 7);
    }
  });
  std::vector<std::uint64_t> got;
  for (std::uint64_t i = 0; i < 200; ++i) {
    request.store(i + 1);
    got.push_back(slot.wait());
  }
  owner.join();
  for (std::uint64_t i = 0; i < 200; ++i) REQUIRE(got[i] == i * 7);
  REQUIRE_FALSE(slot.ready());
}

TEST_CASE("ReplySlot lifetime: the caller frees the slot as soon as wait() returns, while the "
          "owner is still in fulfil's notify path", "[interleaving]") {
  // The owner waits until the caller must be asleep, so fulfil takes the notifying path
  // (notify, then the last store). The caller frees the slot (on the heap: ASan sees it) the
  // moment wait() returns; fulfil must not touch the slot after its last store.
  for (int round = 0; round < 5; ++round) {
    auto slot = std::make_unique<ReplySlot<std::vector<int>>>();
    std::thread owner([s = slot.get()] {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      s->fulfil(std::vector<int>{1, 2, 3});
    });
    const std::vector<int> got = slot->wait();
    slot.reset();
    owner.join();
    CHECK(got == std::vector<int>{1, 2, 3});
  }
}

TEST_CASE("Sharded: each key goes to one shard, per-key order kept, nothing lost", "[stress]") {
  const auto s = seed();
  using E = Engine<Log, Cmd>;
  constexpr unsigned kClients = 4, kKeys = 16;
  Sharded<E> shards(4, 16);
  REQUIRE(shards.size() == 4);
  // client field carries the key; index is a per-(client thread, key) counter
  std::vector<std::vector<std::uint64_t>> sent(kClients * kKeys);
  run_threads(kClients, [&](unsigned c) {
    Xoshiro256 rng(derive_seed(s, c));
    std::vector<std::uint64_t> next(kKeys, 0);
    for (int i = 0; i < 2'000; ++i) {
      const std::uint64_t key = rng.below(kKeys);
      const std::uint64_t stream = c * kKeys + key;
      if (shards.submit(key, Cmd{stream, next[key]}, OverloadPolicy::block) == SubmitStatus::accepted)
        sent[stream].push_back(next[key]);
      ++next[key];
    }
  });
  const auto r = shards.call(3, Cmd{999, 0});
  REQUIRE(r.has_value());
  shards.stop();
  Findings f;
  std::size_t total = 0;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const Log& log = shards.shard(i).state_after_stop();
    total += log.applied.size();
    std::vector<std::vector<std::uint64_t>> seen(kClients * kKeys);
    for (const Cmd& c : log.applied) {
      if (c.client == 999) continue;
      const std::uint64_t key = c.client % kKeys;
      if (shards.shard_of(key) != i) f.fail("key ", key, " applied on shard ", i);
      seen[c.client].push_back(c.index);
    }
    for (std::size_t st = 0; st < seen.size(); ++st)
      if (!seen[st].empty() && seen[st] != sent[st]) f.fail("stream ", st, " out of order or lost");
    for (std::size_t k = 0; k < log.sequences.size(); ++k)
      if (log.sequences[k] != k) f.fail("shard ", i, ": sequence gap");
  }
  if (total != kClients * 2'000 + 1) f.fail(total, " commands applied");
  CP_REQUIRE_CLEAN(f, s);
}
