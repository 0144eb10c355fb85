// work_stealing_order.hpp: the order workload on oneTBB's scheduler (patterns/work_stealing).
//
//   WorkStealingOrderEngine "work-stealing" - the reference core (OrderCore), a ws::Arena and
//       a gate (a Mutex). Synchronous calls: place/cancel/query take the gate and run inside
//       the arena (the caller joins it and runs the command itself). One command has nothing
//       to split: this row shows what the arena costs on tiny request/response calls.
//
// Guarantee: linearizable; the gate's order is a total commit order, exposed for replays
// (record_commits / commits) as MutexOrderEngine does.
// Waiting: a caller blocks on the gate while another call runs.
#pragma once

#include <absl/base/thread_annotations.h>

#include <type_traits>
#include <vector>

#include "comparisons/order/contract.hpp"
#include "comparisons/order/reference.hpp"
#include "patterns/mutex/mutex.hpp"
#include "patterns/work_stealing/work_stealing.hpp"

namespace cp {

class WorkStealingOrderEngine {
 public:
  using lock_type = Mutex;  // the gate
  static constexpr DesignTraits traits{
      .name = "work-stealing",
      .family = Family::work_stealing,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = lock_type::waiting,
      .exposes_commit_order = true,
  };

  explicit WorkStealingOrderEngine(OrderConfig config, ws::DesignOptions options = {})
      : core_(config), arena_(options.arena_threads) {}

  PlaceReply place(const PlaceCmd& cmd) ABSL_LOCKS_EXCLUDED(gate_) { return call<PlaceReply>(cmd); }
  CancelReply cancel(const CancelCmd& cmd) ABSL_LOCKS_EXCLUDED(gate_) { return call<CancelReply>(cmd); }
  QueryReply query(const QueryCmd& cmd) ABSL_LOCKS_EXCLUDED(gate_) { return call<QueryReply>(cmd); }

  OrderState state() ABSL_LOCKS_EXCLUDED(gate_) {
    MutexLock lock(gate_);
    return core_.state();
  }

  // record_commits: starts (clearing the log) or stops logging every command with its reply
  // in the gate's order.
  void record_commits(bool on) ABSL_LOCKS_EXCLUDED(gate_) {
    MutexLock lock(gate_);
    recording_ = on;
    if (on) log_.clear();
  }

  std::vector<Commit> commits() ABSL_LOCKS_EXCLUDED(gate_) {
    MutexLock lock(gate_);
    return log_;
  }

  unsigned arena_threads() { return arena_.threads(); }

 private:
  template <class Reply, class Cmd>
  Reply call(const Cmd& cmd) ABSL_LOCKS_EXCLUDED(gate_) {
    MutexLock lock(gate_);
    const Reply reply = arena_.run([&]() -> Reply {
      if constexpr (std::is_same_v<Cmd, PlaceCmd>) return core_.place(cmd);
      else if constexpr (std::is_same_v<Cmd, CancelCmd>) return core_.cancel(cmd);
      else return core_.query(cmd);
    });
    if (recording_) log_.push_back({cmd, reply});
    return reply;
  }

  Mutex gate_;
  // Owned by the gate's holder and the arena task it runs (see WorkStealingCounter).
  OrderCore core_;
  bool recording_ ABSL_GUARDED_BY(gate_) = false;
  std::vector<Commit> log_ ABSL_GUARDED_BY(gate_);
  ws::Arena arena_;
};

}  // namespace cp
