// task_graph.hpp: ws::TaskGraph, a dependency graph of numbered nodes run as oneTBB tasks.
//
//   TaskGraph(n)           - nodes 0..n-1, no edges
//   add_edge(from, to)     - `from` must finish before `to` starts (from < to: no cycles)
//   run(active, run_node)  - inside an arena: runs run_node(i) once for every node with
//                            active(i), each after all its predecessors, in parallel where
//                            the edges allow; returns when all have run
//
// How: each node counts its unfinished predecessors. The roots (count 0) are spawned into a
// tbb::task_group; a finishing node decrements each successor's count, and a successor that
// reaches 0 is ready. The first ready successor runs next on the same thread (no spawn: a
// chain of dependent nodes costs no task per node); any others are spawned, and idle
// workers steal them. The caller waits in task_group::wait(), running tasks itself.
//
// Guarantee: every effect of a predecessor happens before its successors start (the count's
// acq_rel decrement, and the scheduler's hand-off, which tsan_edges.hpp tells TSan about).
// run_node must not throw. Edges from or to inactive nodes are not allowed.
#pragma once

#include <oneapi/tbb/task_group.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "patterns/work_stealing/tsan_edges.hpp"

namespace cp::ws {

class TaskGraph {
 public:
  explicit TaskGraph(std::size_t nodes) : nodes_(nodes) {}

  void add_edge(std::uint32_t from, std::uint32_t to) { edges_.emplace_back(from, to); }
  void reserve_edges(std::size_t n) { edges_.reserve(n); }
  std::size_t edges() const { return edges_.size(); }

  template <class Active, class RunNode>
  void run(Active active, RunNode run_node) {
    // Successor lists in one array (a counting sort of the edges by `from`).
    std::vector<std::uint32_t> start(nodes_ + 1, 0);
    for (const auto& [from, to] : edges_) ++start[from + 1];
    for (std::size_t i = 0; i < nodes_; ++i) start[i + 1] += start[i];
    std::vector<std::uint32_t> succ(edges_.size());
    std::vector<std::uint32_t> fill(start.begin(), start.end() - 1);
    const auto pending = std::make_unique<std::atomic<std::uint32_t>[]>(nodes_);
    for (const auto& [from, to] : edges_) {
      succ[fill[from]++] = to;
      pending[to].fetch_add(1, std::memory_order_relaxed);  // before any task: no pairing
    }
    std::vector<char> edge(2 * nodes_);  // per node: [2i] spawner -> task, [2i+1] task -> caller
    tbb::task_group group;

    // drain: runs node i, then whichever successor it made ready first, and so on.
    auto drain = [&](auto& self, std::uint32_t i) -> void {
      for (;;) {
        take_over(&edge[2 * i]);
        run_node(i);
        std::uint32_t next = kNone;
        for (std::uint32_t e = start[i]; e < start[i + 1]; ++e) {
          const std::uint32_t s = succ[e];
          // acq_rel: the release publishes node i's effects to whoever runs s; the acquire,
          // by the decrement that reaches 0, takes in every other predecessor's release.
          if (pending[s].fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
          if (next == kNone) {
            next = s;
          } else {
            hand_over(&edge[2 * s]);
            group.run([&self, s] { self(self, s); });
          }
        }
        hand_over(&edge[2 * i + 1]);
        if (next == kNone) return;
        i = next;
      }
    };

    // The roots, all found before the first spawn: once tasks run, counts reach 0 while we
    // look, and such a node is its predecessor's to start, not ours.
    std::vector<std::uint32_t> roots;
    for (std::uint32_t i = 0; i < nodes_; ++i)
      // Relaxed: no task runs yet; the counts were set above on this thread.
      if (active(i) && pending[i].load(std::memory_order_relaxed) == 0) roots.push_back(i);
    for (const std::uint32_t i : roots) {
      hand_over(&edge[2 * i]);
      group.run([&drain, i] { drain(drain, i); });
    }
    group.wait();
    for (std::uint32_t i = 0; i < nodes_; ++i) take_over(&edge[2 * i + 1]);
  }

 private:
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  std::size_t nodes_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> edges_;
};

}  // namespace cp::ws
