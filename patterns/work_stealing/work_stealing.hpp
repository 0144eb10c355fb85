// work_stealing.hpp: the work-stealing family's building blocks, on oneTBB's scheduler.
//
//   Arena (arena.hpp)         - the tbb::task_arena a design runs in; run(f) joins it
//   batch.hpp                 - BatchReply, BatchHook, group_stably, for_each_group,
//                               run_guarded: a batch split into independent groups
//   TaskGraph (task_graph.hpp) - a dependency graph of nodes run as oneTBB tasks
//   tsan_edges.hpp            - hand_over / take_over: the scheduler's happens-before
//                               edges, told to ThreadSanitizer (libtbb is not instrumented)
//
// The family's rule: work runs on oneTBB's worker threads (task groups, parallel algorithms,
// arenas), never on threads a design starts itself. oneTBB gives each worker a deque of
// tasks; a worker pops its own newest task and, when it has none, steals the oldest task of
// a random other worker. Load balances itself when the work splits unevenly.
//
// When to use it: CPU-bound work that splits into many pieces: a batch of commands, a range
// to map and reduce, a recursion. When not: one tiny request at a time. A task costs far
// more than a counter increment, and a single command has nothing to split. The synchronous
// rows of the comparison show that cost; docs/work_stealing.md has the numbers.
#pragma once

#include "patterns/work_stealing/arena.hpp"
#include "patterns/work_stealing/batch.hpp"
#include "patterns/work_stealing/task_graph.hpp"
#include "patterns/work_stealing/tsan_edges.hpp"
