// design_rows.hpp: one registered design of one table, as a value: what `compare` needs to plan,
// run and label its rows, without knowing the design's type.
//
//   DesignRows      - name, traits, labels, and `make`: builds the design's driver for a row.
//   TableRows       - one table (a workload and its params) and the designs that run in it.
//   table_rows_of   - the TableRows of a workload's tables for registry entries [First, Last).
//   registered_table_rows - every table of every workload (compare_rows.cpp), in run order.
//
// Why. Building a row's driver instantiates the closed and open loops for that design's type,
// which is most of the compile time of `compare` (about two minutes of one core for every design
// in one file). Behind `make`, each workload's rows compile in files of their own
// (bench/harness/rows/), in parallel, once per build, and `compare`'s loop (compare_app.cpp) is plain code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "bench/harness/knobs.hpp"
#include "bench/harness/runner.hpp"
#include "patterns/common/traits.hpp"

namespace cp::bench {

struct DesignRows {
  std::string name;
  DesignTraits traits{};
  bool pipelined = false;  // latency is hand-off time
  bool batched = false;    // a batch row: one call runs a batch of commands
  // Its idle threads spin (a yielding or busy-spin wait strategy): its repetitions run back to
  // back in round 1, so that it does not steal the cores of the designs measured between them.
  bool idle_spins = false;
  std::string params_suffix;  // " wait=<strategy>" for a design that takes one, else empty
  // make(threads, seconds, seed, options): the design's driver for one row (throws as the
  // driver's constructor does, e.g. for a bad knob value).
  std::function<std::unique_ptr<RowSeries>(unsigned, double, std::uint64_t, const RunOptions&)>
      make;
};

struct TableRows {
  std::string workload;  // what --workload accepts
  std::string title;     // the table's heading
  std::vector<DesignRows> designs;
};

// Every table of every workload, each with all its designs, in the order compare runs them.
std::vector<TableRows> registered_table_rows(const Knobs& knobs);

namespace rows {  // the parts registered_table_rows joins, one per file (bench/harness/rows/)
std::vector<TableRows> counter(const Knobs& knobs);
std::vector<TableRows> cache(const Knobs& knobs);
std::vector<TableRows> order_first_half(const Knobs& knobs);
std::vector<TableRows> order_second_half(const Knobs& knobs);
}  // namespace rows

}  // namespace cp::bench
