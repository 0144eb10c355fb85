// flat_combining_order.hpp: the order workload by flat combining (patterns/lock_free/
// flat_combining.hpp).
//
//   FlatCombiningOrderEngine "flat-combining" - the reference core (OrderCore) behind a
//       FlatCombiner: each command is pushed onto a lock-free publication stack; whichever
//       caller takes the combiner role applies the whole pending batch to the core, one
//       command after another, and hands each caller its reply.
//
// Linearizable, with a commit order: every command is applied by one combiner at a time, at
// an instant between its push and its reply, and the order of application is logged (on
// request) like the coarse mutex's lock order. The contract's rules are the core's.
//
// Not lock-free (lock_free = false): the combiner is one thread doing everyone's work. If it
// is preempted in the middle of a batch, every caller whose command is in that batch waits,
// as behind a preempted lock holder. The family is lock_free because the publication stack
// is the Treiber stack's push (lessons/06-lock-free/order-engine.md says why the order
// contract resists true lock-freedom: its invariants span accounts and symbols).
//
// Waiting: a caller spins kSpins times (checking its reply and whether it can combine), then
// sleeps on a futex (std::atomic::wait) until the combiner's notify. The spin covers the common
// case where the batch holding its command is already being applied (a batch of a few
// commands takes a microsecond or two; 256 pauses are of that order on x86), so most waits
// end without the two system calls of a sleep and a wake. Spinning longer only helps when
// batches are long, and when clients outnumber cores (8 on 2) it burns the time slices the
// combiner needs. bench/order_fc_spins measures the choice: throughput, p50/p99 and CPU
// seconds per million commands at 0 to 16384 spins and 1 to 8 threads
// (lessons/06-lock-free/order-engine.md).
#pragma once

#include <utility>
#include <vector>

#include "comparisons/order/contract.hpp"
#include "comparisons/order/reference.hpp"
#include "patterns/lock_free/flat_combining.hpp"

namespace cp {

template <unsigned Spins = lf::FlatCombiner<int>::kDefaultSpins, class Hooks = lf::NoHooks>
class FlatCombiningOrderEngineT {
 public:
  static constexpr unsigned kSpins = Spins;
  static constexpr DesignTraits traits{
      .name = "flat-combining",
      .family = Family::lock_free,
      .thread_safe = true,
      .linearizable_reads = true,  // one combiner applies every command, queries included
      .lock_free = false,          // a stalled combiner stalls the callers in its batch
      .waiting = Waiting::blocks,  // after a short spin, a futex sleep
      .exposes_commit_order = true,
  };

  // Not for a progress claim (there is none): the test that parks a combiner inside its batch
  // shows the callers in it blocked.
  template <class H>
  using with_hooks = FlatCombiningOrderEngineT<Spins, H>;

  explicit FlatCombiningOrderEngineT(OrderConfig config) : fc_(Spins, check(config)) {}

  PlaceReply place(const PlaceCmd& cmd) {
    return fc_.apply([&cmd](Core& c) { return c.commit(cmd, c.engine.place(cmd)); });
  }
  CancelReply cancel(const CancelCmd& cmd) {
    return fc_.apply([&cmd](Core& c) { return c.commit(cmd, c.engine.cancel(cmd)); });
  }
  QueryReply query(const QueryCmd& cmd) {
    return fc_.apply([&cmd](Core& c) { return c.commit(cmd, c.engine.query(cmd)); });
  }
  OrderState state() {
    return fc_.apply([](Core& c) { return c.engine.state(); });
  }

  // record_commits: starts (clearing the log) or stops logging every command with its reply,
  // in the order the combiners applied them.
  void record_commits(bool on) {
    fc_.apply([on](Core& c) {
      c.recording = on;
      if (on) c.log.clear();
    });
  }
  std::vector<Commit> commits() {
    return fc_.apply([](Core& c) { return c.log; });
  }

  // How many commands a combiner applied per batch, on average (the lesson quotes it).
  double mean_batch() const {
    const auto b = fc_.batches();
    return b == 0 ? 0.0 : static_cast<double>(fc_.combined()) / static_cast<double>(b);
  }

 private:
  // Core: touched only by the thread holding the combiner role.
  struct Core {
    explicit Core(const OrderConfig& config) : engine(config) {}
    template <class Cmd, class Reply>
    Reply commit(const Cmd& cmd, Reply reply) {
      if (recording) log.push_back({cmd, reply});
      return reply;
    }
    OrderCore engine;
    bool recording = false;
    std::vector<Commit> log;
  };

  lf::FlatCombiner<Core, Hooks> fc_;
};
using FlatCombiningOrderEngine = FlatCombiningOrderEngineT<>;

}  // namespace cp
