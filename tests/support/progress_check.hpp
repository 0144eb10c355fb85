// progress_check.hpp: the lock-free claim, tested. One thread is parked in the middle of an
// operation (at a hook point of patterns/lock_free/hooks.hpp); other threads must still
// complete theirs. A lock-based structure parked inside its critical section stops them all.
//
//   run_with_one_parked(...)  - parks one thread at `where` inside `parked_op`, runs `others`
//                               threads doing `ops_each` calls of `other_op`, and counts how
//                               many calls completed while the first thread stayed parked.
//   hook_visits(op)           - the hook points `op` passes, in order, run alone on this thread.
//   park_at_every_visit(...)  - the lock-free claim at every point: for each hook visit n of
//                               the parked operation, a fresh scenario in which that operation
//                               parks at its n-th visit while the others run theirs.
//
// Why every visit and not one chosen point: a design can be lock-free at the point a test
// happens to pick and block at another (the lock-free cache once parked its puts before their
// capacity reservation, and was tested there, while a put parked after it stopped every other
// insert). Parking at every visit covers every window between an operation's first shared
// write and its last, as long as the design has a hook in each window; the designs' comments
// list theirs.
//
// It waits at most `patience` for the others. A lock-free design finishes long before (the
// patience is only a guard against hanging the test suite: no speed is asserted). A blocked
// design completes nothing however long we wait; the contrast test waits a short while and
// checks that nothing completed. The parked thread is released afterwards either way.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include "patterns/lock_free/hooks.hpp"
#include "tests/support/findings.hpp"

namespace cp::test {

struct ProgressResult {
  std::uint64_t completed_while_parked = 0;
  std::uint64_t wanted = 0;  // others x ops_each
  bool parked = false;       // the parked operation reached its point (else nothing was run)
  lf::HookPoint parked_at{};
};

namespace detail {

// run_parked: parks the stalled thread at the first hook visit for which park_here(point)
// says yes. If its operation returns without one, nothing is parked and no other op runs.
template <class ParkHere, class ParkedOp, class OtherOp>
ProgressResult run_parked(ParkHere park_here, ParkedOp& parked_op, OtherOp& other_op,
                          unsigned others, int ops_each, std::chrono::milliseconds patience) {
  ProgressResult r;
  r.wanted = std::uint64_t{others} * static_cast<std::uint64_t>(ops_each);
  std::latch parked(1), resume(1);
  bool did_park = false;  // the stalled thread's; read by the main thread after `parked`
  lf::HookPoint at{};
  std::thread stalled([&] {
    lf::ScriptedHooks::Scope scope([&](lf::HookPoint p, const void*) {
      if (did_park || !park_here(p)) return;
      did_park = true;
      at = p;
      parked.count_down();
      resume.wait();
    });
    parked_op();
    if (!did_park) parked.count_down();  // it never reached the point
  });
  parked.wait();  // the latch orders did_park and `at` before these reads
  r.parked = did_park;
  r.parked_at = at;
  std::atomic<std::uint64_t> completed{0};
  std::vector<std::thread> workers;
  if (r.parked)
    for (unsigned t = 0; t < others; ++t)
      workers.emplace_back([&, t] {
        for (int i = 0; i < ops_each; ++i) {
          other_op(t);
          completed.fetch_add(1, std::memory_order_relaxed);  // a count only
        }
      });
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (r.parked && completed.load(std::memory_order_relaxed) < r.wanted &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  r.completed_while_parked = completed.load(std::memory_order_relaxed);
  resume.count_down();
  stalled.join();
  for (auto& w : workers) w.join();
  return r;
}

}  // namespace detail

template <class ParkedOp, class OtherOp>
ProgressResult run_with_one_parked(lf::HookPoint where, ParkedOp parked_op, OtherOp other_op,
                                   unsigned others, int ops_each,
                                   std::chrono::milliseconds patience) {
  return detail::run_parked([where](lf::HookPoint p) { return p == where; }, parked_op,
                            other_op, others, ops_each, patience);
}

// hook_visits: the hook points `op` passes, in order (a point passed twice is listed twice).
template <class Op>
std::vector<lf::HookPoint> hook_visits(Op&& op) {
  std::vector<lf::HookPoint> seen;
  lf::ScriptedHooks::Scope record([&](lf::HookPoint p, const void*) { seen.push_back(p); });
  op();
  return seen;
}

// park_at_every_visit: `fresh()` makes a new scenario (a design in its starting state), an
// object with
//   void parked_op();           the operation to park (run on its own thread)
//   void other_op(unsigned t);  one call of worker t (t < others; record in t's own entries)
//   Findings check();           after everything joined: the results and the final state
// A dry run counts the parked operation's hook visits on a fresh scenario. Then, for each
// visit n, a fresh scenario parks its operation at visit n (the operation runs alone until
// it parks, so its first n visits are the dry run's), the others run, and it must be that all
// their calls completed meanwhile and that check() is clean once the parked one resumed.
template <class Fresh>
Findings park_at_every_visit(Fresh fresh, unsigned others, int ops_each,
                             std::chrono::milliseconds patience) {
  Findings f;
  std::vector<lf::HookPoint> visits;
  {
    auto dry = fresh();
    visits = hook_visits([&] { dry.parked_op(); });
  }
  if (visits.empty()) f.fail("the parked operation passes no hook point: nothing to test");
  for (std::size_t n = 1; n <= visits.size(); ++n) {
    auto s = fresh();
    auto parked_op = [&] { s.parked_op(); };
    auto other_op = [&](unsigned t) { s.other_op(t); };
    std::size_t seen = 0;
    const ProgressResult r = detail::run_parked([&seen, n](lf::HookPoint) { return ++seen == n; },
                                                parked_op, other_op, others, ops_each, patience);
    const std::string where = "parked at visit " + std::to_string(n) + " of " +
                              std::to_string(visits.size()) + " (" +
                              std::string(to_string(visits[n - 1])) + ")";
    if (!r.parked) {
      f.fail(where, ": the operation did not reach it");
      continue;
    }
    if (r.parked_at != visits[n - 1])
      f.fail(where, ": parked at ", to_string(r.parked_at), " instead");
    if (r.completed_while_parked != r.wanted)
      f.fail(where, ": ", r.completed_while_parked, " of ", r.wanted,
             " calls of the others completed while it stayed parked");
    for (const auto& p : s.check().problems) f.fail(where, ": ", p);
  }
  return f;
}

}  // namespace cp::test
