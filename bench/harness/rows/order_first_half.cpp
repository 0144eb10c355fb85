// The first half of the order workload's rows: the order designs are the slowest to compile,
// so they are split over two files, which build in parallel (see design_rows.hpp).
#include "bench/harness/design_rows_of.hpp"

namespace cp::bench::rows {

std::vector<TableRows> order_first_half(const Knobs& knobs) {
  return table_rows_of<OrderWorkload, 0, kRegistrySize<OrderWorkload> / 2>(knobs);
}

}  // namespace cp::bench::rows
