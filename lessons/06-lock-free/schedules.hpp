// schedules.hpp: the two classic Treiber-stack bugs, forced by a script instead of by luck.
//
//   run_use_after_free<Reclaim>() - a pop stops after loading the top; another pop takes that
//                                   node (and, with NaiveDelete, deletes it); the first pop
//                                   then reads the node's `next`.
//   run_aba<Reclaim>()            - a pop stops before its CAS; other threads pop both nodes
//                                   and push two new values, reusing the first node; the
//                                   stale CAS then succeeds (with NaiveRecycle) and links a
//                                   node that is not in the stack.
//
// Each thread stops at a hook point (patterns/lock_free/hooks.hpp) and waits on a latch, so
// the interleaving is the same on every run and every machine. Both return what every party
// popped and what a final drain finds, so a caller can check "each pushed value popped exactly
// once". With the tagged, hazard-pointer and epoch policies both schedules come out right.
#pragma once

#include <algorithm>
#include <latch>
#include <optional>
#include <thread>
#include <vector>

#include "patterns/lock_free/hooks.hpp"
#include "patterns/lock_free/treiber_stack.hpp"

namespace cp::lessons {

struct ScheduleOutcome {
  std::vector<int> pushed;  // every value pushed, in order
  std::vector<int> popped;  // every value popped, by anyone, including the final drain
  bool drain_ended = true;  // false: the stack still gave values after many pops (a cycle)
};

// exactly_once: every pushed value popped once, none twice, none invented, the drain ended.
inline bool exactly_once(const ScheduleOutcome& o) {
  if (!o.drain_ended) return false;
  auto a = o.pushed, b = o.popped;
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

template <class Stack>
void drain_into(Stack& stack, ScheduleOutcome& out, int limit = 16) {
  for (int i = 0; i < limit; ++i) {
    const auto v = stack.try_pop();
    if (!v) return;
    out.popped.push_back(*v);
  }
  out.drain_ended = false;
}

// [quote: uaf-schedule]
template <class Reclaim>
ScheduleOutcome run_use_after_free() {
  ScheduleOutcome out;
  out.pushed = {2, 1};
  {
    lf::TreiberStack<int, Reclaim, lf::ScriptedHooks> stack;
    stack.push(2);
    stack.push(1);  // top: node(1) -> node(2)
    std::latch parked(1), resume(1);
    std::optional<int> slow_result;
    std::thread slow([&] {
      lf::ParkOnce park(lf::HookPoint::pop_loaded_top, parked, resume);
      slow_result = stack.try_pop();  // loads node(1), then stops before reading its next
    });
    parked.wait();
    out.popped.push_back(*stack.try_pop());  // pops node(1): NaiveDelete deletes it now
    resume.count_down();                     // the slow pop reads node(1)->next
    slow.join();
    if (slow_result) out.popped.push_back(*slow_result);
    drain_into(stack, out);
  }
  return out;
}
// [end quote]

// [quote: aba-schedule]
template <class Reclaim>
ScheduleOutcome run_aba() {
  ScheduleOutcome out;
  out.pushed = {2, 1, 3, 4};
  auto* owned = new lf::TreiberStack<int, Reclaim, lf::ScriptedHooks>;
  {
    auto& stack = *owned;
    stack.push(2);  // node B
    stack.push(1);  // node A; top: A(1) -> B(2)
    std::latch pop_parked(1), pop_resume(1), push_parked(1), push_resume(1);
    std::optional<int> pop_result;
    std::thread slow_pop([&] {  // loads top A and next B, then stops before its CAS
      lf::ParkOnce park(lf::HookPoint::pop_before_cas, pop_parked, pop_resume);
      pop_result = stack.try_pop();
    });
    pop_parked.wait();
    out.popped.push_back(*stack.try_pop());  // A leaves (recycled: free list A)
    out.popped.push_back(*stack.try_pop());  // B leaves (free list B, A)
    std::thread slow_push([&] {  // takes node B for value 3, stops before publishing it
      lf::ParkOnce park(lf::HookPoint::push_before_cas, push_parked, push_resume);
      stack.push(3);
    });
    push_parked.wait();
    stack.push(4);            // takes node A: top is A(4) again, as the slow pop saw it
    pop_resume.count_down();  // its CAS(top: A -> B) succeeds without a version tag
    slow_pop.join();
    push_resume.count_down();  // B is already "on top": push links B -> B
    slow_push.join();
    if (pop_result) out.popped.push_back(*pop_result);
    drain_into(stack, out);
  }
  // A corrupted stack may hold a node twice or a cycle: deleting it would loop or free a
  // node twice, so the bug demo leaks it on purpose.
  if (exactly_once(out)) delete owned;
  return out;
}
// [end quote]

}  // namespace cp::lessons
