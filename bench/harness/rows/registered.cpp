// registered_table_rows: the parts (bench/harness/rows/) joined, tables in run order, a split
// workload's halves appended to one table.
#include <algorithm>
#include <utility>

#include "bench/harness/design_rows.hpp"

namespace cp::bench {

std::vector<TableRows> registered_table_rows(const Knobs& knobs) {
  std::vector<TableRows> tables;
#if CP_COMPARE_COUNTER_ROWS_ONLY  // a sanitizer build: see bench/CMakeLists.txt
  for (auto part : {rows::counter}) {
#else
  for (auto part : {rows::counter, rows::cache, rows::order_first_half, rows::order_second_half}) {
#endif
    for (TableRows& t : part(knobs)) {
      auto same = [&](const TableRows& o) { return o.workload == t.workload && o.title == t.title; };
      auto it = std::find_if(tables.begin(), tables.end(), same);
      if (it == tables.end()) {
        tables.push_back(std::move(t));
      } else {
        for (DesignRows& d : t.designs) it->designs.push_back(std::move(d));
      }
    }
  }
  return tables;
}

}  // namespace cp::bench
