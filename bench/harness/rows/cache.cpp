// The cache workload's rows (see design_rows.hpp for why they compile in a file of their own).
#include "bench/harness/design_rows_of.hpp"

namespace cp::bench::rows {

std::vector<TableRows> cache(const Knobs& knobs) {
  return table_rows_of<CacheWorkload, 0, kRegistrySize<1>>(
      std::get<1>(registered_workloads(knobs)), knobs);
}

}  // namespace cp::bench::rows
