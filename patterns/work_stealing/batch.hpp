// batch.hpp: the pieces of a parallel batch whose result must equal running it in order.
//
//   BatchReply<R>     - one command's answer: its reply, or `failed` with the exception's text
//   BatchHook         - a test hook run before each command is applied (it may throw: a
//                       stand-in for a buggy handler); empty in production
//   Groups            - the batch's command indices bucketed by group, each bucket in batch
//                       order (a stable counting sort)
//   DesignOptions     - a design's arena size and hook
//   group_stably      - builds Groups from group_of(i) (kNoGroup: the command is left out)
//   for_each_group    - runs body(group, indices) for every non-empty group as oneTBB tasks
//   run_guarded       - runs one command's work; an exception becomes that command's failure
//
// Why groups: commands on one key (one shard) must run in batch order; commands on
// different groups touch disjoint state and may run in any order, on any worker. So the
// replies and the final state equal the sequential run's, whatever the interleaving.
// When not: when one group holds most of the batch (one hot key), the batch runs on one core.
#pragma once

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "patterns/work_stealing/tsan_edges.hpp"

namespace cp::ws {

template <class R>
struct BatchReply {
  R reply{};
  bool failed = false;  // the command threw; nothing of it was applied
  std::string error;    // the exception's what(), when failed
};

// BatchHook: called as hook(index) in the task that applies command `index`, just before it
// changes anything. Tests use it to throw; production leaves it empty.
using BatchHook = std::function<void(std::size_t)>;

// DesignOptions: what every work-stealing design takes besides its workload's config.
struct DesignOptions {
  unsigned arena_threads = 0;  // the arena's slots; 0: one per core
  BatchHook hook;              // test hook: runs before each batch command is applied
};

inline constexpr std::uint32_t kNoGroup = std::numeric_limits<std::uint32_t>::max();

struct Groups {
  std::vector<std::uint32_t> starts;   // group g's members are indices[starts[g], starts[g+1])
  std::vector<std::uint32_t> indices;  // command indices, grouped, each group in batch order

  std::size_t count() const { return starts.empty() ? 0 : starts.size() - 1; }
  std::span<const std::uint32_t> members(std::size_t g) const {
    return {indices.data() + starts[g], indices.data() + starts[g + 1]};
  }
};

// group_stably: buckets 0..n-1 by group_of(i) in [0, groups) or kNoGroup. Two passes, O(n).
template <class GroupOf>
Groups group_stably(std::size_t n, std::size_t groups, GroupOf group_of) {
  Groups out;
  out.starts.assign(groups + 1, 0);
  std::vector<std::uint32_t> of(n);
  for (std::size_t i = 0; i < n; ++i) {
    of[i] = group_of(i);
    if (of[i] != kNoGroup) ++out.starts[of[i] + 1];
  }
  for (std::size_t g = 0; g < groups; ++g) out.starts[g + 1] += out.starts[g];
  out.indices.resize(out.starts[groups]);
  std::vector<std::uint32_t> next(out.starts.begin(), out.starts.end() - 1);
  for (std::size_t i = 0; i < n; ++i)
    if (of[i] != kNoGroup) out.indices[next[of[i]]++] = static_cast<std::uint32_t>(i);
  return out;
}

// for_each_group: body(g, members) for every non-empty group, as tasks of the current arena
// (call it inside Arena::run). One group is one task (grain 1), so an idle worker can steal
// any group not yet started. Returns when every group is done. Body must not throw (wrap the
// per-command work in run_guarded).
template <class Body>
void for_each_group(const Groups& groups, Body body) {
  const std::size_t n = groups.count();
  std::vector<char> edges(2 * n);  // per group: [2g] caller -> task, [2g+1] task -> caller
  for (std::size_t g = 0; g < n; ++g) hand_over(&edges[2 * g]);
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, 1),
                    [&](const tbb::blocked_range<std::size_t>& r) {
                      for (std::size_t g = r.begin(); g != r.end(); ++g) {
                        take_over(&edges[2 * g]);
                        if (groups.starts[g] != groups.starts[g + 1]) body(g, groups.members(g));
                        hand_over(&edges[2 * g + 1]);
                      }
                    });
  for (std::size_t g = 0; g < n; ++g) take_over(&edges[2 * g + 1]);
}

// run_guarded: hook(index) then work(); true if both returned. An exception from either is
// caught and recorded in `reply`; work() must change nothing before its last step can throw.
template <class R, class Work>
bool run_guarded(const BatchHook& hook, std::size_t index, BatchReply<R>& reply, Work&& work) {
  try {
    if (hook) hook(index);
    work();
    return true;
  } catch (const std::exception& e) {
    reply.failed = true;
    reply.error = e.what();
  } catch (...) {
    reply.failed = true;
    reply.error = "unknown exception";
  }
  return false;
}

}  // namespace cp::ws
