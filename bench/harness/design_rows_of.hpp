// design_rows_of.hpp: DesignRows from registered design types. Included only by the files that
// compile the rows (bench/harness/rows/): every design it names gets its closed and open loops compiled.
//
//   kTakesWaitStrategy<D> - D is a single-writer design whose wait strategy is a parameter.
//   with_wait_knob<D>     - D's instantiation for the single-writer.wait knob.
//   table_rows_of<W, First, Last>(knobs) - W's tables with registry entries [First, Last).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "bench/harness/batch_rows.hpp"
#include "bench/harness/design_rows.hpp"
#include "bench/harness/open_loop.hpp"
#include "bench/harness/workloads.hpp"
#include "patterns/single_writer/wait_strategy.hpp"

namespace cp::bench {

template <class D>
inline constexpr bool kTakesWaitStrategy =
    requires { typename D::template with_wait<sw::BlockingWaitStrategy>; };

// with_wait_knob<D>(name, f): calls f.template operator()<X>() with X = D's instantiation for
// the wait strategy `name` (the single-writer.wait knob) when D takes one, else X = D. Only
// these four instantiations are compiled, for the few designs that take a strategy.
template <class D, class F>
void with_wait_knob(const std::string& name, F&& f) {
  if constexpr (kTakesWaitStrategy<D>) {
    if (name == sw::PhasedBackoffWaitStrategy::name)
      return f.template operator()<typename D::template with_wait<sw::PhasedBackoffWaitStrategy>>();
    if (name == sw::YieldingWaitStrategy::name)
      return f.template operator()<typename D::template with_wait<sw::YieldingWaitStrategy>>();
    if (name == sw::BusySpinWaitStrategy::name)
      return f.template operator()<typename D::template with_wait<sw::BusySpinWaitStrategy>>();
    return f.template operator()<typename D::template with_wait<sw::BlockingWaitStrategy>>();
  } else {
    f.template operator()<D>();
  }
}

// design_rows_for<W, D>(params): the rows of design D (already the wait knob's instantiation)
// in a table of workload W with these params.
template <class W, class D>
DesignRows design_rows_for(const typename W::Params& params) {
  using Driver = typename W::template Driver<D>;
  DesignRows rows;
  rows.name = std::string(D::traits.name);
  rows.traits = D::traits;
  rows.pipelined = design_is_pipelined<D>();
  rows.batched = design_is_batch_row<D>();
  if constexpr (kTakesWaitStrategy<D>) {
    rows.idle_spins = D::wait_strategy::waiting != Waiting::blocks;
    rows.params_suffix = " wait=" + std::string(D::wait_strategy::name);
  }
  rows.make = [params](unsigned threads, double seconds, std::uint64_t seed,
                       const RunOptions& options) -> std::unique_ptr<RowSeries> {
    return std::make_unique<RowSeriesSession<Driver>>(params, threads, seconds, seed, options);
  };
  return rows;
}

// kRegistrySize<W>: how many rows workload W registers (its designs, then its batch rows).
template <class W>
inline constexpr std::size_t kRegistrySize = std::tuple_size_v<typename W::DesignRegistry>;

// table_rows_of<W, First, Last>(knobs): one TableRows per table of workload W (with the params
// the knobs set), holding the registry's entries First..Last-1 (a workload's rows may be split
// over several files).
template <class W, std::size_t First = 0, std::size_t Last = kRegistrySize<W>>
std::vector<TableRows> table_rows_of(const Knobs& knobs) {
  const W w = std::get<W>(registered_workloads(knobs));
  using Registry = typename W::DesignRegistry;
  static_assert(First <= Last && Last <= std::tuple_size_v<Registry>);
  std::vector<TableRows> tables;
  for (const auto& table : w.tables) {
    TableRows t{w.name, table.title, {}};
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (with_wait_knob<std::tuple_element_t<First + I, Registry>>(
           knobs.wait,
           [&]<class D>() { t.designs.push_back(design_rows_for<W, D>(table.params)); }),
       ...);
    }(std::make_index_sequence<Last - First>{});
    tables.push_back(std::move(t));
  }
  return tables;
}

}  // namespace cp::bench
