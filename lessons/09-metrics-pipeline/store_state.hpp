// store_state.hpp: StoreState, the store's data and its three operations, not thread-safe.
//
// Both stores wrap this one class, so they differ only in how they make it safe to share:
// store_rwlock.hpp puts it behind a read-write lock, store_owner.hpp gives it to one owner
// thread. The windows follow arrival, as StatsD's flush interval does: a point joins the
// window that is open when it is aggregated, whatever its own timestamp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "lessons/09-metrics-pipeline/aggregate.hpp"

namespace cp::metrics {

struct StoreConfig {
  std::size_t history_windows = 60;  // flushed windows kept one by one (older: totals only)
  std::int64_t start_ms = 0;         // start of the first window
};

class StoreState {
 public:
  explicit StoreState(StoreConfig cfg = {}) : cfg_(cfg) { view_.current_start_ms = cfg.start_ms; }

  void add(const Point& p) {
    add_point(view_.current, gauges_, p);
    ++view_.points;
  }

  // flush: closes the current window at end_ms (an empty window is recorded too: "nothing
  // happened in this interval" is an answer), opens the next.
  void flush(std::int64_t end_ms) {
    merge_into(view_.flushed_totals, view_.current);
    view_.history.push_back({view_.current_start_ms, end_ms, std::move(view_.current)});
    view_.current = Window{};
    view_.current_start_ms = end_ms;
    while (view_.history.size() > cfg_.history_windows) view_.history.pop_front();
    ++view_.flushes;
  }

  StoreView view(const Query& q) const {
    StoreView v;
    v.current_start_ms = view_.current_start_ms;
    v.current = select(view_.current, q.prefix);
    v.flushed_totals = select(view_.flushed_totals, q.prefix);
    if (q.with_history)
      for (const auto& w : view_.history)
        v.history.push_back({w.start_ms, w.end_ms, select(w.series, q.prefix)});
    v.flushes = view_.flushes;
    v.points = view_.points;
    return v;
  }

 private:
  StoreConfig cfg_;
  StoreView view_;
  GaugeValues gauges_;  // every gauge's value, across windows
};

}  // namespace cp::metrics
