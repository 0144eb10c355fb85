// stack_test.cpp: the Treiber stack under each safe reclamation policy (tagged, hazard pointers,
// epochs; hazard pointers also with back-off after a lost CAS): every pushed item popped exactly
// once at 1/2/4/8 threads (ASan's leak check at exit says nothing was leaked), the
// hazard-pointer bound on unreclaimed nodes, and the unbounded growth of epochs while one
// thread stays pinned.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <atomic>
#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include "comparisons/common/random.hpp"
#include "patterns/lock_free/epochs.hpp"
#include "patterns/lock_free/hazard_pointers.hpp"
#include "patterns/lock_free/tagged.hpp"
#include "patterns/lock_free/treiber_stack.hpp"
#include "patterns/mutex/mutex_stack.hpp"
#include "tests/patterns/lock_free/scale.hpp"
#include "tests/support/findings.hpp"
#include "tests/support/progress_check.hpp"

using namespace cp;
using namespace cp::lf;
using namespace cp::test;

namespace {

struct StressResult {
  Findings findings;
  std::size_t peak_unreclaimed = 0;  // the most any thread saw (sampled)
};

// Each thread pushes its own ids (thread << 32 | i) and pops at random in between; then the
// main thread drains the stack. Every id must come out exactly once.
template <class Reclaim, class Backoff = NoBackoff>
StressResult stress(std::uint64_t seed, unsigned threads, int pushes_per_thread) {
  StressResult result;
  std::vector<std::vector<std::uint64_t>> popped(threads + 1);
  std::vector<std::size_t> peaks(threads, 0);
  {
    TreiberStack<std::uint64_t, Reclaim, NoHooks, Backoff> stack;
    run_threads(threads, [&](unsigned t) {
      Xoshiro256 rng(derive_seed(seed, t));
      auto& mine = popped[t];
      for (int i = 0; i < pushes_per_thread; ++i) {
        stack.push((std::uint64_t{t} << 32) | static_cast<std::uint64_t>(i));
        // About one pop per push: the stack stays short, so CASes collide on its top.
        for (auto pops = rng.below(3); pops > 0; --pops)
          if (auto v = stack.try_pop()) mine.push_back(*v);
        if (i % 64 == 0) peaks[t] = std::max(peaks[t], stack.unreclaimed());
      }
    });
    while (auto v = stack.try_pop()) popped[threads].push_back(*v);
  }
  for (auto p : peaks) result.peak_unreclaimed = std::max(result.peak_unreclaimed, p);
  std::vector<std::uint64_t> all;
  for (const auto& v : popped) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  const std::size_t want = std::size_t{threads} * static_cast<std::size_t>(pushes_per_thread);
  if (all.size() != want) result.findings.fail("popped ", all.size(), " items, pushed ", want);
  if (std::adjacent_find(all.begin(), all.end()) != all.end())
    result.findings.fail("an item was popped twice: ", *std::adjacent_find(all.begin(), all.end()));
  for (const auto id : all) {
    if ((id >> 32) >= threads || (id & 0xffffffffu) >= static_cast<std::uint64_t>(pushes_per_thread)) {
      result.findings.fail("popped ", id, ", which was never pushed");
      break;
    }
  }
  return result;
}

template <class Reclaim, class Backoff = NoBackoff>
void stress_all_thread_counts() {
  const auto s = seed();
  for (unsigned threads : kStressThreadCounts) {
    INFO(Reclaim::name << ", back-off " << Backoff::name << ", threads " << threads);
    const auto r = stress<Reclaim, Backoff>(s + threads, threads, scaled(20'000));
    CP_REQUIRE_CLEAN(r.findings, s + threads);
  }
}

}  // namespace

TEST_CASE("treiber stack (tagged): every item popped exactly once", "[stress]") {
  stress_all_thread_counts<TaggedRecycle>();
}

TEST_CASE("treiber stack (hazard pointers): every item popped exactly once", "[stress]") {
  stress_all_thread_counts<HazardPointers>();
}

TEST_CASE("treiber stack (epochs): every item popped exactly once", "[stress]") {
  stress_all_thread_counts<Epochs>();
}

// Small bounds, so that the yield past them is reached too in a short test.
TEST_CASE("treiber stack (hazard pointers, exponential back-off): every item popped exactly once",
          "[stress]") {
  stress_all_thread_counts<HazardPointers, ExponentialBackoff<1, 8>>();
}

// The bound hazard pointers promise: a thread's retired list is scanned when it reaches the
// threshold, and a scan keeps only protected nodes, so at most records x threshold wait.
TEST_CASE("hazard pointers: unreclaimed nodes stay within records x scan threshold", "[stress]") {
  const auto s = seed();
  auto& domain = HazardDomain::global();
  const int pushes = scaled(20'000);
  const auto r = stress<HazardPointers>(s, 4, pushes);
  CP_REQUIRE_CLEAN(r.findings, s);
  INFO("peak " << r.peak_unreclaimed << ", bound " << domain.unreclaimed_bound() << " ("
               << domain.record_count() << " records x threshold " << domain.scan_threshold()
               << ")");
  CHECK(r.peak_unreclaimed <= domain.unreclaimed_bound());
  // The bound is far below what no reclamation at all would hold: every popped node.
  CHECK(domain.unreclaimed_bound() < static_cast<std::size_t>(4 * pushes) / 4);
}

// One thread stalls in the middle of a pop, after loading the top (so it holds a hazard
// pointer on that node, or its epoch pin); the main thread then pushes and pops `n` nodes.
// Returns the unreclaimed count just before the stalled pop resumes.
template <class Reclaim>
std::size_t unreclaimed_while_a_pop_stalls(int n) {
  TreiberStack<int, Reclaim, ScriptedHooks> stack;
  stack.push(-1);
  std::latch parked(1), resume(1);
  std::thread stalled([&] {
    ScriptedHooks::Scope hook([&](HookPoint p, const void*) {
      if (p != HookPoint::pop_loaded_top) return;
      parked.count_down();
      resume.wait();
    });
    (void)stack.try_pop();
  });
  parked.wait();
  for (int i = 0; i < n; ++i) {
    stack.push(i);
    (void)stack.try_pop();
  }
  const std::size_t seen = stack.unreclaimed();
  resume.count_down();
  stalled.join();
  return seen;
}

TEST_CASE("hazard pointers: a stalled pop keeps only its own node, the rest is freed",
          "[stress]") {
  const int n = scaled(20'000);
  const std::size_t seen = unreclaimed_while_a_pop_stalls<HazardPointers>(n);
  auto& domain = HazardDomain::global();
  INFO(n << " nodes popped while one pop stalled: " << seen << " unreclaimed, bound "
         << domain.unreclaimed_bound());
  CHECK(seen <= domain.unreclaimed_bound());
  CHECK(seen < static_cast<std::size_t>(n) / 4);
}

TEST_CASE("epochs: while one pop stays pinned, unreclaimed nodes grow without bound",
          "[stress]") {
  auto& domain = EpochDomain::global();
  for (int i = 0; i < 3; ++i) domain.collect();  // earlier tests' leftovers
  const std::size_t before = domain.unreclaimed();
  const int n = scaled(20'000);
  const std::size_t seen = unreclaimed_while_a_pop_stalls<Epochs>(n);
  INFO(n << " nodes popped while one pop stayed pinned: " << seen << " unreclaimed ("
         << before << " before)");
  // Nodes retired during the pin carry epoch e or e+1 (one advance can pass a thread pinned
  // at e); freeing needs e+2, which the pinned thread blocks. So all n wait.
  CHECK(seen >= static_cast<std::size_t>(n));
  // Once it unpins, the epoch moves again and the main thread's bag empties.
  for (int i = 0; i < 3; ++i) domain.collect();
  INFO("after unpinning and three collections: " << domain.unreclaimed());
  CHECK(domain.unreclaimed() < static_cast<std::size_t>(n) / 4);
}

// Progress, the contrast: the mutex stack with one pop parked inside its lock lets no other
// operation complete (the lock-free stacks are parked at every hook point below).
template <class Stack>
ProgressResult park_one_pop(Stack& stack, std::chrono::milliseconds patience) {
  for (int i = 0; i < 8; ++i) stack.push(i);
  return run_with_one_parked(
      HookPoint::pop_before_cas, [&] { (void)stack.try_pop(); },
      [&](unsigned t) {
        stack.push(static_cast<int>(t));
        (void)stack.try_pop();
      },
      2, 500, patience);
}

// The hook points one call of `op` passes (ScriptedHooks records them in order).
template <class Op>
std::vector<HookPoint> hooks_passed(Op op) {
  std::vector<HookPoint> seen;
  {
    ScriptedHooks::Scope record([&](HookPoint p, const void*) {
      if (std::find(seen.begin(), seen.end(), p) == seen.end()) seen.push_back(p);
    });
    op();
  }
  return seen;
}

// Progress at every point: for push and for pop, one thread is parked at each hook point the
// operation passes (every point between its first shared write, the hazard slot, the epoch
// pin or the free-list pop, and its committing CAS), in turn; two others must complete all
// their pushes and pops meanwhile. The points are found by running the operation once, so a
// hook added later is parked at too.
template <class Reclaim>
void check_lock_free_progress_at_every_hook() {
  using Stack = TreiberStack<int, Reclaim, ScriptedHooks>;
  struct Op {
    const char* name;
    void (*run)(Stack&);
  };
  const Op ops[] = {{"push", [](Stack& s) { s.push(7); }},
                    {"pop", [](Stack& s) { (void)s.try_pop(); }}};
  std::vector<HookPoint> all;
  for (const Op& op : ops) {
    Stack probe;
    for (int i = 0; i < 8; ++i) probe.push(i);
    const auto points = hooks_passed([&] { op.run(probe); });
    INFO(Reclaim::name << " " << op.name << ": passes " << points.size() << " hook points");
    CHECK(!points.empty());
    for (const HookPoint where : points) {
      all.push_back(where);
      Stack stack;
      for (int i = 0; i < 8; ++i) stack.push(i);
      const auto r = run_with_one_parked(
          where, [&] { op.run(stack); },
          [&](unsigned t) {
            stack.push(static_cast<int>(t));
            (void)stack.try_pop();
          },
          2, 200, std::chrono::seconds(60));
      INFO(Reclaim::name << ": " << op.name << " parked at '" << to_string(where) << "': "
                         << r.completed_while_parked << " of " << r.wanted
                         << " operations completed meanwhile");
      CHECK(r.completed_while_parked == r.wanted);
    }
  }
  // The points between a claim and a commit that the stack has today, all visited.
  for (const HookPoint p : {HookPoint::push_before_cas, HookPoint::pop_loaded_top,
                            HookPoint::pop_before_cas}) {
    INFO(Reclaim::name << ": '" << to_string(p) << "' visited");
    CHECK(std::find(all.begin(), all.end(), p) != all.end());
  }
}

TEST_CASE("treiber stack: others complete while one push or pop is parked at any hook point",
          "[interleaving]") {
  check_lock_free_progress_at_every_hook<TaggedRecycle>();
  check_lock_free_progress_at_every_hook<HazardPointers>();
  check_lock_free_progress_at_every_hook<Epochs>();
}

// Waits 200 ms: a fixed wait, but the result does not depend on speed (a thread parked
// holding the lock lets nothing through, however long we wait).
TEST_CASE("mutex stack: while one pop is parked inside the lock, no one else completes",
          "[trait]") {
  MutexStack<int, ScriptedHooks> stack;
  const auto r = park_one_pop(stack, std::chrono::milliseconds(200));
  INFO(r.completed_while_parked << " of " << r.wanted << " completed while one pop was parked");
  CHECK(r.completed_while_parked == 0);
}
