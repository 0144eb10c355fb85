// The counter workload's rows (see design_rows.hpp for why they compile in a file of their own).
#include "bench/harness/design_rows_of.hpp"

namespace cp::bench::rows {

std::vector<TableRows> counter(const Knobs& knobs) {
  return table_rows_of<CounterWorkload>(knobs);
}

}  // namespace cp::bench::rows
