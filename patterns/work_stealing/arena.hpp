// arena.hpp: ws::Arena, the oneTBB task arena a work-stealing design runs its work in.
//
//   Arena(threads)  - a tbb::task_arena of `threads` slots (0: one per core). Its workers come
//                     from oneTBB's global pool; the design starts no thread of its own.
//   run(f)          - runs f() inside the arena and returns its result. The calling thread
//                     joins the arena and runs f itself when a slot is free; otherwise f is
//                     handed to the arena and the caller sleeps until it is done. Inside f,
//                     parallel algorithms (parallel_for, task_group...) use the arena's
//                     threads, and the caller works on them instead of waiting idle.
//
// Guarantee: run() returns after f has finished; what f did is visible to the caller (and
// TSan is told so, tsan_edges.hpp). An exception thrown by f propagates out of run().
// It gives no mutual exclusion: several threads may run inside one arena at once.
#pragma once

#include <oneapi/tbb/task_arena.h>

#include <type_traits>
#include <utility>

#include "patterns/work_stealing/tsan_edges.hpp"

namespace cp::ws {

class Arena {
 public:
  explicit Arena(unsigned threads = 0)
      : arena_(threads == 0 ? tbb::task_arena::automatic : static_cast<int>(threads)) {}

  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  template <class F>
  std::invoke_result_t<F&> run(F&& f) {
    char edge = 0;  // this call's own edge object (see tsan_edges.hpp)
    hand_over(&edge);
    if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
      arena_.execute([&] {
        take_over(&edge);
        f();
        hand_over(&edge);
      });
      take_over(&edge);
    } else {
      auto result = arena_.execute([&] {
        take_over(&edge);
        auto r = f();
        hand_over(&edge);
        return r;
      });
      take_over(&edge);
      return result;
    }
  }

  // threads: the arena's slots (its concurrency), at least 1.
  unsigned threads() { return static_cast<unsigned>(arena_.max_concurrency()); }

 private:
  tbb::task_arena arena_;
};

}  // namespace cp::ws
