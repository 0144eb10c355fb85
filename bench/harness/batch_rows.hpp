// batch_rows.hpp: the comparison's batch rows: a work-stealing design driven in batches.
//
//   BatchRow<Inner, Adapter> - a row type for the comparison's registry: the design Inner,
//                              labelled "work-stealing batch"; never a design of its own (the
//                              conformance suite checks Inner and its batches directly).
//   BatchDriver<Row>         - the driver of such a row: one execute() = one run_batch of
//                              `batch` commands (the Params' `batch`, the work-stealing.batch
//                              knob), drawn by the workload's own driver and settled by it.
//   Counter/Cache/OrderBatchAdapter - how one drawn operation becomes a batch command, and how
//                              its reply is settled as the one-call driver would settle it.
//   BatchRows<Workload>      - the batch rows `compare` adds to each workload's table.
//
// How a batch row is counted, so that it compares with the other rows honestly: its ops/s
// counts commands (batches x batch size), the unit of every other row; its latency columns
// are per call, that is per batch (the row's label ends in '#', the table's legend says so).
// The commands come from the same generator, mix and key skew as the other rows', and the
// row's check is the workload's own check (exact counters, intact cache values, the order
// invariants), run on the replies in batch order.
//
// What differs, on purpose: a client learns its replies a batch later (as a pipelined client
// does a window later); the order stream then cancels only orders it saw rest.
#pragma once

#include <concepts>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "comparisons/cache/driver.hpp"
#include "comparisons/cache/work_stealing_cache.hpp"
#include "comparisons/common/driver.hpp"
#include "comparisons/counter/driver.hpp"
#include "comparisons/counter/work_stealing_counter.hpp"
#include "comparisons/order/driver.hpp"
#include "comparisons/order/work_stealing_order.hpp"
#include "patterns/common/traits.hpp"
#include "patterns/work_stealing/batch.hpp"

namespace cp::bench {

inline constexpr std::string_view kBatchRowName = "work-stealing batch";

template <class Inner, class Adapter>
struct BatchRow {
  using inner = Inner;
  using adapter = Adapter;
  static constexpr bool batch_row = true;
  static constexpr DesignTraits traits = [] {
    DesignTraits t = Inner::traits;
    t.name = kBatchRowName;
    return t;
  }();
};

// design_is_batch_row<D>(): D is a BatchRow.
template <class D>
constexpr bool design_is_batch_row() {
  return requires { requires D::batch_row; };
}

template <class Row>
class BatchDriver {
 public:
  using Design = Row;
  using Adapter = typename Row::adapter;
  using Sync = typename Adapter::template driver<typename Row::inner>;
  using Params = typename Sync::Params;
  static constexpr std::string_view workload_name = Sync::workload_name;
  static constexpr bool state_grows = state_grows_with_run<Sync>;  // as the one-call driver's

  struct Thread {
    typename Sync::Thread inner;  // the one-call driver's state: generator and tallies
    std::vector<typename Adapter::Command> commands;
    std::vector<ws::BatchReply<typename Adapter::Reply>> replies;
    std::uint64_t failed = 0;  // replies marked failed (a handler threw): never expected here
  };

  BatchDriver(const Params& params, unsigned threads, std::uint64_t seed)
      : sync_(params, threads, seed), batch_(params.batch) {
    if (batch_ == 0) throw std::invalid_argument("batch row: batch size must be > 0");
  }

  Thread make_thread(unsigned index) { return Thread{sync_.make_thread(index), {}, {}, 0}; }

  // Untimed: settle the last batch's replies in batch order, then draw the next batch.
  void next(Thread& t) {
    settle(t);
    t.commands.clear();
    typename Adapter::Drawing drawing{};
    for (std::uint64_t k = 0; k < batch_; ++k)
      t.commands.push_back(Adapter::draw(sync_, t.inner, drawing));
  }

  // Timed: exactly one design call, the whole batch.
  void execute(Thread& t) { t.replies = sync_.design().run_batch(t.commands); }

  Verdict verify(std::vector<Thread>& threads) {
    std::uint64_t failed = 0;
    std::vector<typename Sync::Thread> inner;
    inner.reserve(threads.size());
    for (auto& t : threads) {
      settle(t);
      failed += t.failed;
      inner.push_back(std::move(t.inner));
    }
    Verdict v = sync_.verify(inner);
    for (std::size_t i = 0; i < threads.size(); ++i) threads[i].inner = std::move(inner[i]);
    if (failed != 0) {
      v.passed = false;
      v.detail = std::to_string(failed) + " commands failed in a batch; " + v.detail;
    }
    return v;
  }

  std::string describe() const { return sync_.describe() + " batch=" + std::to_string(batch_); }

  // commands_per_call: what the runner counts per execute() (runner.hpp).
  std::uint64_t commands_per_call() const { return batch_; }

 private:
  void settle(Thread& t) {
    for (std::size_t i = 0; i < t.replies.size(); ++i) {
      if (t.replies[i].failed) ++t.failed;
      else Adapter::settle(sync_, t.inner, t.commands[i], t.replies[i].reply);
    }
    t.replies.clear();
  }

  Sync sync_;  // owns the design (Row::inner) and the workload's shared inputs
  std::uint64_t batch_;
};

struct CounterBatchAdapter {
  template <class D>
  using driver = CounterDriver<D>;
  using Command = CounterBatchCommand;
  using Reply = CounterRead;
  struct Drawing {};

  template <class Sync>
  static Command draw(Sync& sync, typename Sync::Thread& t, Drawing&) {
    sync.next(t);
    using Op = typename Sync::Op;
    const CounterBatchOp op = t.op == Op::add   ? CounterBatchOp::add
                              : t.op == Op::get ? CounterBatchOp::get
                                                : CounterBatchOp::total;
    return {op, t.key, 1};
  }

  // As CounterDriver::execute would have recorded the reply.
  template <class Sync>
  static void settle(Sync& sync, typename Sync::Thread& t, const Command& c, const Reply& r) {
    switch (c.op) {
      case CounterBatchOp::add:
        if (r.error == CounterError::ok) ++t.adds[c.key]; else ++t.errors;
        break;
      case CounterBatchOp::get:
        t.key = c.key;
        t.read = r;
        t.has_read = true;
        sync.settle(t);
        break;
      case CounterBatchOp::total:
        t.sink = r.value;
        break;
    }
  }
};

struct CacheBatchAdapter {
  template <class D>
  using driver = CacheDriver<D>;
  using Command = CacheBatchCommand;
  using Reply = CacheBatchResult;
  struct Drawing {
    std::uint64_t puts = 0;  // puts drawn into this batch so far
  };

  // A put's version is this writer's next seq: t.puts counts the puts already answered, so a
  // batch's puts take the seqs after it, in batch order (the order they are applied in).
  template <class Sync>
  static Command draw(Sync& sync, typename Sync::Thread& t, Drawing& drawing) {
    sync.next(t);
    using Op = typename Sync::Op;
    if (t.op == Op::put) {
      ++drawing.puts;
      return {CacheBatchOp::put, t.key,
              make_cache_value(t.key, cache_version(t.writer, t.puts + drawing.puts))};
    }
    return {t.op == Op::get ? CacheBatchOp::get : CacheBatchOp::erase, t.key, {}};
  }

  template <class Sync>
  static void settle(Sync& sync, typename Sync::Thread& t, const Command& c, const Reply& r) {
    switch (c.op) {
      case CacheBatchOp::get:
        t.key = c.key;
        t.read = r.value;
        t.has_read = true;
        sync.settle(t);
        break;
      case CacheBatchOp::put:
        if (r.error == CacheError::ok) ++t.puts; else ++t.errors;
        break;
      case CacheBatchOp::erase:
        t.erases += r.erased ? 1 : 0;
        break;
    }
  }
};

struct OrderBatchAdapter {
  template <class D>
  using driver = OrderDriver<D>;
  using Command = OrderCommand;
  using Reply = OrderReply;
  struct Drawing {};

  template <class Sync>
  static Command draw(Sync& sync, typename Sync::Thread& t, Drawing&) {
    sync.next(t);
    return t.cmd;
  }

  template <class Sync>
  static void settle(Sync& sync, typename Sync::Thread& t, const Command& c, const Reply& r) {
    t.answered = c;
    t.reply = r;
    t.has_reply = true;
    sync.settle(t);
  }
};

using CounterBatchRows = std::tuple<BatchRow<WorkStealingCounter, CounterBatchAdapter>>;
using CacheBatchRows = std::tuple<BatchRow<WorkStealingCache, CacheBatchAdapter>>;
using OrderBatchRows = std::tuple<BatchRow<WorkStealingOrderEngine, OrderBatchAdapter>>;

// RowDriver<OneCall, D>: the driver of registry entry D: BatchDriver for a batch row, else
// OneCall<D> (picked lazily, so OneCall's constraints are only checked on real designs).
template <template <class> class OneCall, class D>
struct RowDriver {
  using type = OneCall<D>;
};
template <template <class> class OneCall, class D>
  requires(design_is_batch_row<D>())
struct RowDriver<OneCall, D> {
  using type = BatchDriver<D>;
};

}  // namespace cp::bench
