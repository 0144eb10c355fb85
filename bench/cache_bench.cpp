// cache_bench.cpp: the cache workload (both mixes) under Google Benchmark, for JSON output and
// benchmark's filters. The same runner and rows as `compare --workload cache`; see
// bench/README.md.
#include "bench/harness/gbench.hpp"

int main(int argc, char** argv) {
  return cp::bench::gbench_main(argc, argv, "cache");
}
