// sweep.hpp: which rows one design runs in one table, in which order.
//
//   PlannedRow       - one row to run: thread count, load model, offered rate percent.
//   fitting_clients  - how many open-loop clients fit beside the threads a design owns.
//   plan_design_rows - the rows of one design: for each closed-loop thread count the closed
//                      row, then at once the open rows at that count (their 100% is that
//                      closed row's throughput, measured just before them).
//
// A design that is not thread-safe (the sequential reference) runs at 1 thread only: its
// closed row, and its open rows when open rows are wanted at all.
//
// Open rows whose clients and owned threads exceed the cores measure the scheduler as much as
// the design (a client waits for a core to wake on). So a design that owns threads also gets
// its open rows at fitting_clients (cores - owned, at least 1) where the profile's open counts
// do not fit, with a closed row at that count for their 100%; the oversubscribed open rows
// stay, and the tables label them.
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

// fitting_clients: clients that fit in `cores` beside `owned` threads (at least 1).
inline unsigned fitting_clients(unsigned cores, unsigned owned) {
  return cores > owned ? cores - owned : 1;
}

inline std::vector<PlannedRow> plan_design_rows(const CompareOptions& o, bool thread_safe,
                                                unsigned owned_threads = 0) {
  std::vector<PlannedRow> rows;
  auto add_open = [&](unsigned n) {
    for (double p : o.rates) rows.push_back({n, LoadModel::open, p});
  };
  if (!thread_safe) {
    rows.push_back({1, LoadModel::closed, 0});
    if (o.wants_open()) add_open(1);
    return rows;
  }
  std::vector<unsigned> closed = o.closed_thread_counts();
  std::vector<unsigned> open = o.wants_open() ? o.open_threads : std::vector<unsigned>{};
  const unsigned fit = fitting_clients(o.cores, owned_threads);
  const bool none_fits = std::none_of(open.begin(), open.end(), [&](unsigned n) {
    return n + owned_threads <= o.cores;
  });
  if (owned_threads > 0 && !open.empty() && none_fits) {
    open.push_back(fit);
    if (std::find(closed.begin(), closed.end(), fit) == closed.end()) {
      closed.push_back(fit);
      std::sort(closed.begin(), closed.end());
    }
  }
  for (unsigned n : closed) {
    rows.push_back({n, LoadModel::closed, 0});
    if (std::find(open.begin(), open.end(), n) != open.end()) add_open(n);
  }
  return rows;
}

inline std::vector<PlannedRow> plan_design_rows(const CompareOptions& o, const DesignTraits& t) {
  return plan_design_rows(o, t.thread_safe, t.owned_threads);
}

}  // namespace cp::bench
