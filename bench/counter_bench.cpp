// counter_bench.cpp: the counter workload under Google Benchmark, for JSON output and
// benchmark's filters (`--benchmark_filter=mutex`, `--benchmark_format=json`). The same runner
// and rows as `compare --workload counter`; see bench/README.md.
#include "bench/harness/gbench.hpp"

int main(int argc, char** argv) {
  return cp::bench::gbench_main(argc, argv, "counter");
}
