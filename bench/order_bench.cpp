// order_bench.cpp: the order workload under Google Benchmark, for JSON output and benchmark's
// filters. The same runner and rows as `compare --workload order`; see bench/README.md.
#include "bench/harness/gbench.hpp"

int main(int argc, char** argv) {
  return cp::bench::gbench_main(argc, argv, "order");
}
