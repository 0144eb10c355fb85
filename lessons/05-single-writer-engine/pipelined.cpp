// l05_pipelined: what the hand-off to the owner costs, and how pipelining hides it.
//
// One producer feeds the same seeded order stream (crash_recovery.hpp's make_order_script)
// three ways and prints commands/s for each:
//   reference  - the single-threaded OrderReference, called directly: no hand-off at all;
//   call       - SingleWriterOrderEngine, one synchronous call per command: the producer
//                waits for each reply before sending the next (one round trip per command);
//   pipelined  - the same engine, submit_with_reply with up to --window commands in flight:
//                the producer takes the oldest reply back only when its window is full, so the
//                owner takes commands in batches while the producer keeps going, and publishes
//                the batch's replies with one store.
// Every reply and the final state hash must equal the reference's in all three (the order is
// the producer's order in each); exit code 1 if not.
#include <chrono>
#include <cstdio>
#include <memory>

#include "lessons/05-single-writer-engine/crash_recovery.hpp"
#include "lessons/common/cli.hpp"

namespace l05 = cp::lessons::l05;

namespace {

struct Run {
  double seconds = 0;
  bool replies_match = true;
  std::uint64_t hash = 0;
};

Run run_reference(const l05::OrderScript& s) {
  Run r;
  cp::OrderReference ref(s.config);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < s.commands.size(); ++i)
    if (cp::apply_order_command(ref, s.commands[i]) != s.replies[i]) r.replies_match = false;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.hash = cp::state_hash(ref.state());
  return r;
}

template <class Engine>
Run run_calls(const l05::OrderScript& s) {
  Run r;
  Engine engine(s.config);
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < s.commands.size(); ++i)
    if (cp::apply_order_command(engine, s.commands[i]) != s.replies[i]) r.replies_match = false;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.hash = cp::state_hash(engine.state());
  return r;
}

// [quote: pipelined]
template <class Engine>
Run run_pipelined(const l05::OrderScript& s, std::size_t window_size) {
  Run r;
  Engine engine(s.config);
  // The producer's reply window: up to window_size commands in flight; the owner writes each
  // reply into it and publishes them once per batch; take() returns them in submission order.
  typename Engine::ReplyWindow window(window_size);
  const std::size_t n = s.commands.size();
  std::size_t checked = 0;  // replies taken so far = index of the next reply due
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    if (!window.has_room() && window.take() != s.replies[checked++]) r.replies_match = false;
    if (!engine.submit_with_reply(s.commands[i], window)) r.replies_match = false;
  }
  while (window.in_flight() > 0)
    if (window.take() != s.replies[checked++]) r.replies_match = false;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.hash = cp::state_hash(engine.state());
  return r;
}
// [end quote]

}  // namespace

int main(int argc, char** argv) {
  long long seed = 42, commands = 200'000, window = 256;
  bool blocking = false;
  cp::lessons::Cli cli("l05_pipelined",
                       "one producer feeding the order engine: reference vs synchronous calls "
                       "vs pipelined submits, commands/s");
  cli.option("seed", seed, "seed of the order stream", 0, 1LL << 62)
      .option("commands", commands, "commands in the stream", 1, 50'000'000)
      .option("window", window, "pipelined: commands in flight at most (a power of two)", 1, 1 << 20)
      .flag("blocking", blocking,
            "the engine's owner waits with BlockingWaitStrategy (a futex sleep at once) "
            "instead of the default PhasedBackoffWaitStrategy (spin, yield, then sleep)");
  cli.parse(argc, argv);
  if ((window & (window - 1)) != 0) {
    std::fprintf(stderr, "l05_pipelined: --window must be a power of two (got %lld)\n", window);
    return 2;
  }
  const l05::OrderScript s =
      l05::make_order_script(static_cast<std::uint64_t>(seed), static_cast<std::size_t>(commands));
  std::printf("order stream: seed %lld, %lld commands, one producer; owner waits with %s\n\n",
              seed, commands, blocking ? "blocking" : "phased-backoff");
  std::printf("%-22s %12s %14s %10s\n", "mode", "commands/s", "same replies", "same hash");
  bool ok = true;
  auto print = [&](const char* name, const Run& r) {
    const bool same_hash = r.hash == s.final_hash;
    std::printf("%-22s %12.0f %14s %10s\n", name, static_cast<double>(commands) / r.seconds,
                r.replies_match ? "yes" : "NO", same_hash ? "yes" : "NO");
    ok = ok && r.replies_match && same_hash;
  };
  print("reference (no thread)", run_reference(s));
  using Blocking = cp::SingleWriterOrderEngineT<cp::sw::BlockingWaitStrategy>;
  using Phased = cp::SingleWriterOrderEngine;
  print("call (synchronous)", blocking ? run_calls<Blocking>(s) : run_calls<Phased>(s));
  char name[32];
  std::snprintf(name, sizeof name, "pipelined (window %lld)", window);
  const auto w = static_cast<std::size_t>(window);
  print(name, blocking ? run_pipelined<Blocking>(s, w) : run_pipelined<Phased>(s, w));
  if (!ok) {
    std::printf("\nFAILED: a reply or the final state differs from the reference\n");
    return 1;
  }
  return 0;
}

// How to run:
//   ./build/release/lessons/05-single-writer-engine/l05_pipelined
//   ./build/release/lessons/05-single-writer-engine/l05_pipelined --window=1
//   ./build/release/lessons/05-single-writer-engine/l05_pipelined --blocking
// What to expect: the reference is fastest by far (no hand-off: millions of commands/s);
// synchronous calls are one round trip per command (often a futex wake-up on each side), so
// tens to a hundred thousand per second on 2 cores; pipelining recovers several times that,
// since the owner drains many commands per wake-up. --window=1 behaves like call. Every row
// says "yes" twice: same replies and same final state, exit code 0.
