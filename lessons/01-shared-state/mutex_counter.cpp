// mutex_counter.cpp (target l01_mutex_counter): the first fix for the lost updates.
//
// The same workload as l01_racy_counter, but each increment happens inside a cp::Mutex, so
// the read and the write of one increment can no longer be separated by another thread's.
// The program prints the count (always exact) and what an increment cost.
#include "lessons/01-shared-state/exact_counter_demo.hpp"

int main(int argc, char** argv) {
  return cp::lessons::run_exact_counter_demo<cp::lessons::MutexCounter>(
      "l01_mutex_counter", "the racy counter fixed with a mutex: exact", argc, argv);
}

// How to run:
//   ./build/release/lessons/01-shared-state/l01_mutex_counter --threads=4
// What to expect: "exact" every time. Compare the ns per increment with --threads=1: with
// more threads each increment costs several times more, because the lock's cache line moves
// between cores and waiting threads sleep and wake (l01_cost_bench measures it properly).
