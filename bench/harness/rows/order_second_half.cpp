// The second half of the order workload's rows (see order_first_half.cpp).
#include "bench/harness/design_rows_of.hpp"

namespace cp::bench::rows {

std::vector<TableRows> order_second_half(const Knobs& knobs) {
  return table_rows_of<OrderWorkload, kRegistrySize<OrderWorkload> / 2>(knobs);
}

}  // namespace cp::bench::rows
