// hooks.hpp: test-only hook points inside lock-free operations (between a load and its CAS),
// and inside flat combining (patterns/lock_free/flat_combining.hpp), to show it is not lock-free.
//
//   HookPoint     - where an operation can stop: after loading the top, before the CAS...
//   NoHooks       - the default: empty inline calls, so the optimizer removes them (zero cost).
//   ScriptedHooks - calls this thread's handler, if it set one. Tests and bug demos use it to
//                   force an interleaving (ABA, use-after-free) or to park a thread mid-operation
//                   (the progress test), instead of hoping a stress test hits the window.
//   ParkOnce      - parks the calling thread at one hook point until released (latches).
//
// A structure takes the hooks as a template parameter (`TreiberStack<T, R, ScriptedHooks>`), so
// production instantiations carry no hook code at all. Handlers are per thread: a thread that
// set none runs straight through.
#pragma once

#include <functional>
#include <latch>
#include <string_view>

namespace cp::lf {

enum class HookPoint {
  pop_loaded_top,   // pop: the top is loaded (and protected), its `next` not yet read
  pop_before_cas,   // pop: `next` is read, the CAS that unlinks the top not yet tried
  push_before_cas,  // push: the new node is linked to the loaded top, CAS not yet tried
  add_before_rmw,   // counters: the key is checked, the one atomic step not yet taken
  swap_before_cas,  // copy-on-write: a new version is built from the loaded one, not yet CASed in
  fc_published,     // flat combining: a caller's request is on the stack, it has not waited yet
  fc_before_apply,  // flat combining: the combiner holds a batch, the next request not yet applied
  cache_inserted,   // cache: a new entry is in its slot, not yet counted
  cache_uncounted,  // cache: a removal has uncounted its entry, the CAS that unlinks it not yet tried
  order_id_claimed,     // order: the id is claimed, nothing else done yet
  order_cash_taken,     // order: a buy's cash is out of `available`, not yet in `reserved`
  order_book_swapped,   // order: the new book version is in, its trades not yet settled
  order_trade_settled,  // order: one trade's cash and positions are settled, not the next
};

constexpr std::string_view to_string(HookPoint p) {
  switch (p) {
    case HookPoint::pop_loaded_top: return "pop: top loaded";
    case HookPoint::pop_before_cas: return "pop: before CAS";
    case HookPoint::push_before_cas: return "push: before CAS";
    case HookPoint::add_before_rmw: return "add: before the atomic step";
    case HookPoint::swap_before_cas: return "swap: new version built, before CAS";
    case HookPoint::fc_published: return "flat combining: request published";
    case HookPoint::fc_before_apply: return "flat combining: combiner inside its batch";
    case HookPoint::cache_inserted: return "cache: entry in its slot, not yet counted";
    case HookPoint::cache_uncounted: return "cache: removal uncounted, before its CAS";
    case HookPoint::order_id_claimed: return "order: id claimed";
    case HookPoint::order_cash_taken: return "order: cash taken, not yet reserved";
    case HookPoint::order_book_swapped: return "order: book swapped, trades not settled";
    case HookPoint::order_trade_settled: return "order: one trade settled";
  }
  return "?";
}

struct NoHooks {
  static constexpr bool enabled = false;
  static void at(HookPoint, const void*) noexcept {}
};

struct ScriptedHooks {
  static constexpr bool enabled = true;
  using Handler = std::function<void(HookPoint, const void* node)>;

  // at: runs this thread's handler (if any). `node` is the node the operation holds, or null.
  static void at(HookPoint p, const void* node) {
    Handler* h = handler();
    if (h == nullptr || !*h) return;
    handler() = nullptr;  // not re-entered while it runs
    (*h)(p, node);
    handler() = h;
  }

  // The calling thread's handler slot. The handler is not called again while it runs, so it
  // may itself call into the structure (a one-thread script of "another thread got in here").
  static Handler*& handler() {
    thread_local Handler* h = nullptr;
    return h;
  }

  // Scoped: installs `h` for the calling thread until the Scope ends.
  class Scope {
   public:
    explicit Scope(Handler h) : handler_(std::move(h)), previous_(handler()) { handler() = &handler_; }
    ~Scope() { handler() = previous_; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Handler handler_;
    Handler* previous_;
  };
};

// ParkOnce: while alive, the calling thread parks the first time it reaches `where`: it counts
// `parked` down and waits for `resume`. Later visits run through. (Tests and demos only.)
class ParkOnce {
 public:
  ParkOnce(HookPoint where, std::latch& parked, std::latch& resume)
      : scope_([this, where, &parked, &resume](HookPoint p, const void*) {
          if (p != where || done_) return;
          done_ = true;
          parked.count_down();
          resume.wait();
        }) {}

 private:
  bool done_ = false;
  ScriptedHooks::Scope scope_;
};

}  // namespace cp::lf
