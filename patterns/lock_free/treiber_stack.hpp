// treiber_stack.hpp: the Treiber stack (IBM 1986), generic over how popped nodes are reclaimed.
//
//   TreiberStack<T, Reclaim, Hooks> - an unbounded LIFO stack: push(v) and try_pop().
//   Reclaim, one small file each:
//     HazardPointers (hazard_pointers.hpp) - bounded garbage; a store + seq_cst load per pop
//     Epochs         (epochs.hpp)          - cheap pins; garbage unbounded while a thread is pinned
//     TaggedRecycle  (tagged.hpp)          - version tag against ABA; memory kept until the end
//     NaiveDelete, NaiveRecycle (naive.hpp) - the two classic bugs, for the demos only
//   Hooks: NoHooks (default, zero cost) or ScriptedHooks (tests force interleavings).
//   Backoff: after a lost CAS, NoBackoff (default: retry at once) or ExponentialBackoff
//     (backoff.hpp: pause, then yield; measured in lessons/06-lock-free/beyond-the-stack.md).
//
// Guarantee: lock-free. A push or pop retries only when another thread's CAS on the top
// succeeded (or its weak CAS failed spuriously, which LL/SC machines allow and retry), so
// some thread always completes; a stalled thread blocks no one
// (tests/patterns/lock_free/stack_test.cpp parks one at each hook point in turn). It never
// waits and never spins on a flag; under contention it retries (every push and pop is a CAS
// on one cache line, which is why it does not scale:
// lessons/06-lock-free/beyond-the-stack.md measures it).
// (The allocator aside: push calls new, and HP and epochs delete popped nodes later.)
// Every pushed value is popped at most once, each exactly once if the stack is drained.
// When not to use: a mutex + vector is as fast or faster on few cores (one hot line either
// way) and far simpler; use this where a thread must never wait for another.
#pragma once

#include <atomic>
#include <cstddef>
#include <optional>
#include <type_traits>
#include <utility>

#include "patterns/lock_free/backoff.hpp"
#include "patterns/lock_free/hooks.hpp"

namespace cp::lf {

template <class T>
struct StackNode {
  template <class V>
  explicit StackNode(V&& v) : value(std::forward<V>(v)) {}
  std::atomic<StackNode*> next{nullptr};  // atomic: a stale pop may read it while it changes
  T value;
};

template <class T, class Reclaim, class Hooks = NoHooks, class Backoff = NoBackoff>
class TreiberStack {
  // A pop moves the value out after its CAS has committed, and the tagged policy move-assigns
  // into a recycled node it has already taken: a throw there would lose a value or a node.
  static_assert(std::is_nothrow_move_constructible_v<T> && std::is_nothrow_move_assignable_v<T>,
                "TreiberStack needs a value type that moves without throwing");

 public:
  using Node = StackNode<T>;
  using reclaim_type = Reclaim;

  TreiberStack() = default;
  TreiberStack(const TreiberStack&) = delete;
  TreiberStack& operator=(const TreiberStack&) = delete;
  ~TreiberStack() {  // no other thread may use the stack now
    Node* n = top_.load().ptr();
    while (n != nullptr) {
      Node* next = n->next.load(std::memory_order_relaxed);
      top_.destroy(n);
      n = next;
    }
  }

  // push: never fails (except std::bad_alloc), never waits; retries while other CASes win.
  // [quote: push]
  void push(T value) {
    Node* n = top_.make(std::move(value));
    auto seen = top_.load();
    Backoff backoff;
    for (;;) {
      // Relaxed: the CAS below publishes it (its release pairs with protect()'s acquire).
      n->next.store(seen.ptr(), std::memory_order_relaxed);
      Hooks::at(HookPoint::push_before_cas, n);
      if (top_.publish(seen, n)) return;  // a release CAS: a push unlinks nothing
      backoff();  // another thread's CAS won: `seen` now holds the new top
    }
  }
  // [end quote]

  // try_pop: the top value, or nothing if the stack was empty. Never waits.
  // [quote: pop]
  std::optional<T> try_pop() {
    auto guard = top_.guard();  // hazard pointer, epoch pin, or nothing
    Backoff backoff;
    for (;;) {
      const auto seen = top_.protect(guard);  // n cannot be freed while guarded
      Node* n = seen.ptr();
      if (n == nullptr) return std::nullopt;
      Hooks::at(HookPoint::pop_loaded_top, n);
      // Relaxed: protect()'s acquire load already made the pusher's store visible. A stale
      // n may be popped meanwhile; then the CAS below fails (or, in the naive policies, the
      // bug happens here).
      Node* next = n->next.load(std::memory_order_relaxed);
      Hooks::at(HookPoint::pop_before_cas, n);
      auto expected = seen;
      if (top_.compare_exchange(expected, next)) {
        T value = std::move(n->value);  // n is ours: no other pop can win it now
        top_.retire(n, guard);
        return value;
      }
      backoff();
    }
  }
  // [end quote]

  // unreclaimed: nodes popped but not yet freed (for HP and epochs: in the whole process's
  // domain; for the tagged policy: every node the stack holds, free list included).
  std::size_t unreclaimed() const { return top_.unreclaimed(); }

 private:
  typename Reclaim::template Top<Node> top_;
};

}  // namespace cp::lf
