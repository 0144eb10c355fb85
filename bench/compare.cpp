// compare.cpp: the comparison command. Runs every selected design of every selected workload
// at each thread count, closed loop, and prints one table per workload (see bench/README.md).
//
//   compare                                   # everything, default profile (about 2 min)
//   compare --workload counter --seconds 0.5  # one workload
//   compare --list                            # designs and their declared traits
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "bench/harness/compare_app.hpp"

int main(int argc, char** argv) {
  // First thing: lock-order tracking off for the whole benchmark process (see compare_app.hpp).
  cp::bench::disable_abseil_deadlock_detection();
  const std::vector<std::string> args(argv + 1, argv + argc);
  // Progress goes to stderr: a bar rewritten in place on a terminal, a line now and then in a log.
  const auto style = isatty(STDERR_FILENO) ? cp::bench::ProgressStyle::bar
                                           : cp::bench::ProgressStyle::periodic;
  return cp::bench::run_compare(args, std::cout, std::cerr, style);
}
