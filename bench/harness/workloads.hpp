// workloads.hpp: the workloads the comparison knows, and the tables each one prints.
//
//   Workload<DriverT, Designs, BatchRows, HarnessRow> - a workload's driver template, the rows
//                                it runs (the design registry, then its batch rows:
//                                batch_rows.hpp, then its `harness` row: harness_rows.hpp) and
//                                its tables (a title and the params of each).
//   registered_workloads(knobs) - every workload, in the order `compare` runs them, with the
//                                params the knobs set (knobs.hpp; defaults: the drivers').
//   for_each_workload / for_each_design - compile-time iteration (no virtual dispatch).
//
// Adding a workload = one line in registered_workloads(). Adding a design = one line in that
// workload's designs.hpp; nothing here changes.
#pragma once

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "bench/harness/batch_rows.hpp"
#include "bench/harness/harness_rows.hpp"
#include "bench/harness/knobs.hpp"
#include "comparisons/cache/designs.hpp"
#include "comparisons/cache/driver.hpp"
#include "comparisons/common/driver.hpp"
#include "comparisons/counter/designs.hpp"
#include "comparisons/counter/driver.hpp"
#include "comparisons/order/designs.hpp"
#include "comparisons/order/driver.hpp"

namespace cp::bench {

template <template <class> class DriverT, class Designs, class BatchRows = std::tuple<>,
          class HarnessRow = std::tuple<>>
struct Workload {
  using DesignRegistry = decltype(std::tuple_cat(std::declval<Designs>(), std::declval<BatchRows>(),
                                                 std::declval<HarnessRow>()));
  template <class D>
  using Driver = typename RowDriver<DriverT, D>::type;
  using Params = typename DriverT<std::tuple_element_t<0, Designs>>::Params;

  struct Table {
    std::string title;  // heading of the table (a workload with two mixes prints two tables)
    Params params;
  };

  std::string name;  // what --workload accepts
  std::vector<Table> tables;
};

using CounterWorkload =
    Workload<CounterDriver, CounterDesigns, CounterBatchRows, std::tuple<HarnessCounter>>;
using CacheWorkload = Workload<CacheDriver, CacheDesigns, CacheBatchRows, std::tuple<HarnessCache>>;
using OrderWorkload =
    Workload<OrderDriver, OrderDesigns, OrderBatchRows, std::tuple<HarnessOrderEngine>>;

// One line per workload: its --workload name and its tables (title, params). The cache has a
// table per mix that knobs.cache_mixes selects.
inline auto registered_workloads(const Knobs& knobs = {}) {
  std::vector<CacheWorkload::Table> cache_tables;
  for (const CacheMix mix : knobs.cache_mixes) {
    CacheParams params = knobs.cache;
    params.mix = mix;
    cache_tables.push_back({"cache " + std::string(to_string(mix)), params});
  }
  return std::tuple{
      CounterWorkload{"counter", {{"counter", knobs.counter}}},
      CacheWorkload{"cache", std::move(cache_tables)},
      OrderWorkload{"order", {{"order", knobs.order}}},
  };
}

using RegisteredWorkloads = decltype(registered_workloads());

template <class Tuple, class F>
void for_each_in_tuple(Tuple& tuple, F&& f) {
  std::apply([&](auto&... element) { (f(element), ...); }, tuple);
}

// for_each_design<Registry>(f): calls f.template operator()<D>() for each design type D.
template <class Registry, class F>
void for_each_design(F&& f) {
  [&]<class... Ds>(std::tuple<Ds...>*) {
    (f.template operator()<Ds>(), ...);
  }(static_cast<Registry*>(nullptr));
}

}  // namespace cp::bench
