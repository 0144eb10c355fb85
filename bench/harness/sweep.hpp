// sweep.hpp: which rows one design runs in one table, in which order.
//
//   PlannedRow       - one row to run: thread count, load model, offered rate percent.
//   plan_design_rows - the rows of one design: for each closed-loop thread count the closed
//                      row, then at once the open rows at that count (their 100% is that
//                      closed row's throughput, measured just before them).
//
// A design that is not thread-safe (the sequential reference) runs at 1 thread only: its
// closed row, and its open rows when open rows are wanted at all.
#pragma once

#include <algorithm>
#include <vector>

#include "bench/harness/options.hpp"
#include "bench/harness/runner.hpp"

namespace cp::bench {

struct PlannedRow {
  unsigned threads = 1;
  LoadModel load = LoadModel::closed;
  double rate_percent = 0;  // open rows only

  bool operator==(const PlannedRow&) const = default;
};

inline std::vector<PlannedRow> plan_design_rows(const CompareOptions& o, bool thread_safe) {
  std::vector<PlannedRow> rows;
  auto add_open = [&](unsigned n) {
    for (double p : o.rates) rows.push_back({n, LoadModel::open, p});
  };
  if (!thread_safe) {
    rows.push_back({1, LoadModel::closed, 0});
    if (o.wants_open()) add_open(1);
    return rows;
  }
  for (unsigned n : o.closed_thread_counts()) {
    rows.push_back({n, LoadModel::closed, 0});
    if (o.wants_open() &&
        std::find(o.open_threads.begin(), o.open_threads.end(), n) != o.open_threads.end())
      add_open(n);
  }
  return rows;
}

}  // namespace cp::bench
