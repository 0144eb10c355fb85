// l07_actors: actors on a small pool of worker threads: a counter actor, a cache actor whose
// entries expire, supervision, and a broadcast for config updates and shutdown.
//
// Four parts, the lesson's four steps, each checked (exit code 1 if a check fails):
//   1. counter  - ActorCounter (8 shard actors on 2 workers): --clients threads add +1
//                 --ops times each with ask (the caller waits for the reply), then the same with
//                 the tell-based PipelinedActorCounter. Prints adds/s; the totals must be exact.
//   2. cache     - ActorCache with a 10 s TTL on a clock this program sets by hand: an entry
//                 put at 0 s is there at 9 s and gone at 10 s; no sleep.
//   3. supervise - an actor whose handler throws on every --fail-every-th message. Every
//                 message is answered: ok, or handler_failed for the ones that threw; the actor
//                 is resumed each time (its state kept: the handler throws before changing
//                 it) and the messages behind a failure are still handled.
//   4. broadcast - a publisher sends --configs config versions to 3 subscribers through a
//                 channel that holds 4; a slow subscriber is told how many it missed; close()
//                 is the shutdown notice.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <vector>

#include "comparisons/cache/actor_cache.hpp"
#include "comparisons/counter/actor_counter.hpp"
#include "lessons/common/cli.hpp"
#include "patterns/actor/actor.hpp"
#include "patterns/actor/broadcast.hpp"

namespace actor = cp::actor;

namespace {

// run_cache_ttl: step 2. The cache actor's clock is a parameter; here it is a number this
// thread sets between asks, so "gone at put + ttl" is shown exactly and nothing sleeps.
bool run_cache_ttl() {
  using namespace std::chrono_literals;
  std::atomic<std::int64_t> now_ns{0};
  // relaxed: only this thread stores; each ask's hand-off (the mailbox lock) orders the store
  // before the actor's load below.
  auto clock = [&now_ns] {
    return std::chrono::steady_clock::time_point(
        std::chrono::nanoseconds(now_ns.load(std::memory_order_relaxed)));
  };
  auto at = [&now_ns](std::chrono::nanoseconds t) {
    now_ns.store(t.count(), std::memory_order_relaxed);
  };
  cp::ActorCache cache(cp::CacheConfig{.key_space = 1000, .capacity = 1000},
                       cp::ActorCacheOptions{.ttl = 10s, .clock = clock});
  const bool put = cache.put(1, cp::make_cache_value(1, 1)) == cp::CacheError::ok;  // at 0 s
  at(9s);
  const bool there_at_9 = cache.get(1).has_value();
  at(10s);
  const bool gone_at_10 = !cache.get(1).has_value();
  const bool empty = cache.size() == 0;
  std::printf("  put key 1 at 0 s; at 9 s it is %s; at 10 s it is %s; size %s\n",
              there_at_9 ? "there" : "MISSING", gone_at_10 ? "gone" : "STILL THERE",
              empty ? "0" : "not 0");
  return put && there_at_9 && gone_at_10 && empty;
}

template <class Counter>
bool run_counter(const char* name, long long clients, long long ops) {
  Counter counter(cp::CounterConfig{.keys = 64});
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (long long c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      for (long long i = 0; i < ops; ++i)
        counter.add(static_cast<std::uint32_t>((c * 7 + i) % 64), 1);
    });
  for (auto& t : threads) t.join();
  const std::int64_t total = counter.total();  // an ask to each shard: after every add
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const bool exact = total == clients * ops;
  std::printf("  %-16s %10.0f adds/s   total %lld (%s)\n", name,
              static_cast<double>(clients * ops) / seconds, static_cast<long long>(total),
              exact ? "exact" : "WRONG");
  return exact;
}

// [quote: flaky]
// Flaky: counts the messages it handled; throws on every fail_every-th message it receives.
struct Flaky {
  using message = std::uint64_t;  // the message's number
  using reply = std::uint64_t;    // messages handled by this incarnation
  std::uint64_t fail_every = 0;
  std::uint64_t handled = 0;

  std::uint64_t handle(std::uint64_t& n) {
    if (n % fail_every == fail_every - 1) throw std::runtime_error("bad message");
    return ++handled;
  }
};
// [end quote]

bool run_supervision(long long messages, long long fail_every) {
  actor::ActorSystem system({.workers = 2});
  // [quote: supervise]
  actor::ActorOptions options;
  options.supervision.directive = actor::FailureDirective::resume;  // keep the count
  options.supervision.max_failures = 1000;                          // within one second
  auto flaky = system.spawn<Flaky>(
      [=] { return Flaky{static_cast<std::uint64_t>(fail_every)}; }, options);
  std::uint64_t ok = 0, failed = 0, other = 0;
  for (std::uint64_t n = 0; n < static_cast<std::uint64_t>(messages); ++n) {
    const auto r = flaky.ask(n, std::chrono::seconds(10));
    if (r.ok()) ++ok;
    else if (r.error == actor::AskError::handler_failed) ++failed;
    else ++other;  // timeout, stopped...: must not happen here
  }
  // [end quote]
  system.shutdown(actor::StopPolicy::drain);
  const actor::ActorStats st = flaky.stats();
  const auto want_failed = static_cast<std::uint64_t>(messages / fail_every);
  std::printf("  %llu asks: %llu ok, %llu handler_failed, %llu other; resumes %llu\n",
              static_cast<unsigned long long>(messages), static_cast<unsigned long long>(ok),
              static_cast<unsigned long long>(failed), static_cast<unsigned long long>(other),
              static_cast<unsigned long long>(st.resumes));
  return failed == want_failed && other == 0 && ok + failed == static_cast<std::uint64_t>(messages) &&
         st.resumes == failed && st.restarts == 0 && st.balanced();
}

bool run_broadcast(long long configs) {
  // [quote: broadcast]
  actor::Broadcast<long long> config(4);  // holds the last 4 versions
  auto slow = config.subscribe();
  auto newest = config.subscribe();
  for (long long version = 1; version <= configs; ++version) config.publish(version);
  config.close();  // the shutdown notice: read what is held, then `closed`

  auto drain = [](auto& sub, bool only_newest) {
    long long last = 0;
    std::uint64_t got = 0, missed = 0;
    for (;;) {
      const auto r = only_newest ? sub.recv_newest() : sub.recv();
      if (r.status == actor::ReceiveStatus::closed) break;
      last = *r.value;
      ++got;
      missed += r.missed;
    }
    return std::tuple{last, got, missed};
  };
  // [end quote]
  const auto [slow_last, slow_got, slow_missed] = drain(slow, false);
  const auto [new_last, new_got, new_missed] = drain(newest, true);
  std::printf("  slow subscriber: got %llu, missed %llu, last version %lld\n",
              static_cast<unsigned long long>(slow_got), static_cast<unsigned long long>(slow_missed),
              slow_last);
  std::printf("  newest-only subscriber: got %llu, missed %llu, last version %lld\n",
              static_cast<unsigned long long>(new_got), static_cast<unsigned long long>(new_missed),
              new_last);
  const auto n = static_cast<std::uint64_t>(configs);
  return slow_last == configs && new_last == configs && slow_got + slow_missed == n &&
         new_got == 1 && new_missed == n - 1;
}

}  // namespace

int main(int argc, char** argv) {
  long long clients = 4, ops = 20000, fail_every = 10, messages = 1000, configs = 10;
  cp::lessons::Cli cli("l07_actors",
                       "Actors on a 2-worker pool: a counter actor (ask and tell), supervision "
                       "of a throwing handler, and a broadcast channel.");
  cli.option("clients", clients, "client threads for the counter", 1, 64);
  cli.option("ops", ops, "adds per client", 1, 100'000'000);
  cli.option("messages", messages, "asks to the flaky actor", 1, 10'000'000);
  cli.option("fail-every", fail_every, "the flaky actor throws on every n-th message", 2, 1'000'000);
  cli.option("configs", configs, "config versions published", 5, 1'000'000);
  cli.parse(argc, argv);

  bool ok = true;
  std::printf("1. counter: 8 shard actors on 2 workers, %lld clients x %lld adds\n", clients, ops);
  ok = run_counter<cp::ActorCounter>("ask (actor)", clients, ops) && ok;
  ok = run_counter<cp::PipelinedActorCounter>("tell (pipelined)", clients, ops) && ok;
  std::printf("2. cache: an entry with a 10 s TTL, on a clock set by hand\n");
  ok = run_cache_ttl() && ok;
  std::printf("3. supervision: throws on every %lld-th message\n", fail_every);
  ok = run_supervision(messages, fail_every) && ok;
  std::printf("4. broadcast: %lld config versions, the channel holds 4\n", configs);
  ok = run_broadcast(configs) && ok;
  std::printf(ok ? "all checks passed\n" : "FAILED: a check above did not hold\n");
  return ok ? 0 : 1;
}

// How to run:
//   ./build/release/lessons/07-actors/l07_actors
//   ./build/release/lessons/07-actors/l07_actors --clients=1 --fail-every=3
// What to expect: both counter rows say "exact"; the tell row is several times faster than
// the ask row (no wait for a reply). Cache: "there" at 9 s, "gone" at 10 s. Supervision:
// messages/fail-every asks end in handler_failed, every other ask is ok, and there are as many
// resumes as failures. Broadcast:
// the slow subscriber got 4 and missed the rest (it resumes at the oldest version held); the
// newest-only one got 1 (the last version). Last line "all checks passed", exit code 0.
