// work_stealing_counter.hpp: the counter workload on oneTBB's scheduler (patterns/work_stealing).
//
//   CounterBatchCommand  - one command of a batch: add, get or total
//   WorkStealingCounter  "work-stealing" - the counters, a ws::Arena, and a gate (a Mutex).
//       Synchronous calls: add/get/total each take the gate and run inside the arena (the
//       caller joins it and runs the call itself). This is the family's wrong use: one tiny
//       operation has nothing to split, so the row shows what the arena costs.
//       Batches: run_batch(commands) takes the gate once and runs the whole batch in
//       parallel: commands are grouped by key (key % groups), each group runs in batch order
//       as one task, groups run on any worker. A total is the running sum at its place in
//       the batch (a prefix sum of the applied deltas, after the groups are done).
//
// Guarantee: linearizable. The gate orders every call and every batch; within a batch the
// replies and the final counters equal the reference applying the batch in order (each key's
// commands keep their order; different keys commute). A command whose handler throws (the
// BatchHook) is answered `failed` and has no effect: the hook runs before the command changes
// anything, and the change itself (an int64 add) cannot throw.
// Waiting: a caller blocks on the gate (a futex mutex) while another call or batch runs.
#pragma once

#include <absl/base/thread_annotations.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "comparisons/counter/contract.hpp"
#include "comparisons/counter/reference.hpp"
#include "patterns/mutex/mutex.hpp"
#include "patterns/work_stealing/work_stealing.hpp"

namespace cp {

enum class CounterBatchOp : std::uint8_t { add, get, total };

struct CounterBatchCommand {
  CounterBatchOp op = CounterBatchOp::get;
  std::uint32_t key = 0;
  std::int64_t delta = 0;  // add only
};

class WorkStealingCounter {
 public:
  using lock_type = Mutex;  // the gate
  static constexpr DesignTraits traits{
      .name = "work-stealing",
      .family = Family::work_stealing,
      .thread_safe = true,
      .linearizable_reads = true,  // the gate orders every call and batch
      .lock_free = false,
      .waiting = lock_type::waiting,
  };
  // At most this many groups per batch: enough to keep every worker busy and let idle ones
  // steal, few enough that a group is more than a handful of commands.
  static constexpr std::uint32_t kMaxGroups = 256;

  explicit WorkStealingCounter(CounterConfig config, ws::DesignOptions options = {})
      : keys_(CounterReference::check(config).keys), values_(keys_, 0),
        hook_(std::move(options.hook)), arena_(options.arena_threads) {}

  CounterError add(std::uint32_t key, std::int64_t delta) ABSL_LOCKS_EXCLUDED(gate_) {
    if (key >= keys_) return CounterError::unknown_key;
    MutexLock lock(gate_);
    arena_.run([&] {
      values_[key] = wrapping_add(values_[key], delta);
      total_ = wrapping_add(total_, delta);
    });
    return CounterError::ok;
  }

  CounterRead get(std::uint32_t key) ABSL_LOCKS_EXCLUDED(gate_) {
    if (key >= keys_) return {CounterError::unknown_key, 0};
    MutexLock lock(gate_);
    return arena_.run([&] { return CounterRead{CounterError::ok, values_[key]}; });
  }

  std::int64_t total() ABSL_LOCKS_EXCLUDED(gate_) {
    MutexLock lock(gate_);
    return arena_.run([&] { return total_; });
  }

  std::uint32_t keys() const { return keys_; }
  unsigned arena_threads() { return arena_.threads(); }

  // run_batch: any thread. Every command gets exactly one reply, at its index.
  std::vector<ws::BatchReply<CounterRead>> run_batch(std::span<const CounterBatchCommand> batch)
      ABSL_LOCKS_EXCLUDED(gate_) {
    const std::size_t n = batch.size();
    std::vector<ws::BatchReply<CounterRead>> replies(n);
    std::vector<std::int64_t> applied(n, 0);  // the delta each command added (0: none)
    const std::uint32_t groups = keys_ < kMaxGroups ? keys_ : kMaxGroups;
    const ws::Groups by_key = ws::group_stably(n, groups, [&](std::size_t i) {
      const CounterBatchCommand& c = batch[i];
      if (c.op == CounterBatchOp::total) return ws::kNoGroup;
      if (c.key >= keys_) {  // answered here: nothing to run
        replies[i].reply = {CounterError::unknown_key, 0};
        return ws::kNoGroup;
      }
      return c.key % groups;
    });
    MutexLock lock(gate_);
    arena_.run([&] {
      ws::for_each_group(by_key, [&](std::size_t, std::span<const std::uint32_t> members) {
        for (const std::uint32_t i : members) {
          const CounterBatchCommand& c = batch[i];
          ws::run_guarded(hook_, i, replies[i], [&] {
            if (c.op == CounterBatchOp::add) {
              values_[c.key] = wrapping_add(values_[c.key], c.delta);
              applied[i] = c.delta;
              replies[i].reply = {CounterError::ok, 0};
            } else {
              replies[i].reply = {CounterError::ok, values_[c.key]};
            }
          });
        }
      });
    });
    // Totals and the running total: one pass in batch order on this thread (a few ns a
    // command; the groups above are the work).
    for (std::size_t i = 0; i < n; ++i) {
      if (batch[i].op == CounterBatchOp::total) {
        const std::int64_t sum = total_;
        ws::run_guarded(hook_, i, replies[i], [&] { replies[i].reply = {CounterError::ok, sum}; });
      } else {
        total_ = wrapping_add(total_, applied[i]);
      }
    }
    return replies;
  }

 private:
  const std::uint32_t keys_;
  Mutex gate_;
  // Owned by the gate's holder, and by the tasks it runs in the arena while it waits for
  // them; not ABSL_GUARDED_BY because those tasks run on oneTBB's workers, which the
  // analysis cannot see holding anything.
  std::vector<std::int64_t> values_;
  std::int64_t total_ = 0;  // the wrapping sum of values_, always
  const ws::BatchHook hook_;
  ws::Arena arena_;
};

}  // namespace cp
