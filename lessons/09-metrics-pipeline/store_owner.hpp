// store_owner.hpp: OwnerStore, the same store owned by one thread (the single-writer engine of
// patterns/single_writer), which the aggregators feed through its bounded ring.
//
//   add    - any aggregator thread: sends the point to the owner (waits only when the ring is
//            full: backpressure to the aggregator pool). The owner applies it later.
//   flush  - the flusher: a command like any other, so it lands after every point sent before.
//   query  - any thread: a command carrying a promise; the owner copies the selected part
//            between two points and fulfils it. No lock anywhere: the owner is the only thread
//            that ever touches the state.
// Why: no lock handoff per point, one thread's caches hold the maps. Cost: one more thread and
// a queue hop per point; a query waits behind the points queued before it.
// The engine halts if apply throws (fail-stop), so apply only does what cannot fail except by
// running out of memory; the aggregator pool catches poisoned points before they get here.
#pragma once

#include <cstdint>
#include <future>
#include <string_view>
#include <utility>

#include "lessons/09-metrics-pipeline/store_state.hpp"
#include "patterns/single_writer/engine.hpp"

namespace cp::metrics {

struct StoreCommand {
  enum class Kind { add, flush, query };
  Kind kind = Kind::add;
  Point point;                      // add
  std::int64_t end_ms = 0;          // flush
  Query query;                      // query
  std::promise<StoreView> reply;    // query
};

// The owner's state: StoreState plus the command dispatch the engine calls.
class StoreOwnerState {
 public:
  explicit StoreOwnerState(StoreConfig cfg = {}) : state_(cfg) {}
  // [quote: owner-apply]
  bool apply(StoreCommand& c, std::uint64_t /*sequence*/) {
    switch (c.kind) {
      case StoreCommand::Kind::add: state_.add(c.point); break;
      case StoreCommand::Kind::flush: state_.flush(c.end_ms); break;
      case StoreCommand::Kind::query: c.reply.set_value(state_.view(c.query)); break;
    }
    return true;
  }
  // [end quote]

 private:
  StoreState state_;
};

class OwnerStore {
 public:
  static constexpr std::string_view name = "owner";

  // ring: the owner's queue capacity (a power of two).
  explicit OwnerStore(StoreConfig cfg = {}, std::size_t ring = 4096)
      : engine_(ring, StoreOwnerState(cfg)) {}

  void add(const Point& p) {
    StoreCommand c;
    c.point = p;
    engine_.submit(std::move(c), sw::OverloadPolicy::block);
  }

  void flush(std::int64_t end_ms) {
    StoreCommand c;
    c.kind = StoreCommand::Kind::flush;
    c.end_ms = end_ms;
    engine_.submit(std::move(c), sw::OverloadPolicy::block);
  }

  // query: the future carries the view, or std::future_error (broken_promise) if the engine
  // was stopped before the command got in.
  std::future<StoreView> query(Query q) {
    StoreCommand c;
    c.kind = StoreCommand::Kind::query;
    c.query = std::move(q);
    auto answer = c.reply.get_future();
    engine_.submit(std::move(c), sw::OverloadPolicy::block);
    return answer;
  }

 private:
  sw::Engine<StoreOwnerState, StoreCommand> engine_;
};

}  // namespace cp::metrics
