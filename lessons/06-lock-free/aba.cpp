// aba.cpp (target l06_aba): SHOWS A BUG ON PURPOSE.
//
// ABA on a Treiber stack that recycles nodes without a version tag. A pop loads top A and
// its next B, then stops before its CAS. Other threads pop A and B, and push two values:
// the first push takes node B (and stops before publishing it), the second takes node A, so
// A is on top again. The stale CAS compares only the pointer: A == A, it succeeds and sets
// the top to B, a node no one pushed. The stack is corrupted: a value comes out twice.
//
// --tagged, --hazard-pointers or --epochs run the same schedule with a cure: the stale CAS
// fails (the tag moved on, or A could not be reused while protected) and retries.
#include <cstdio>

#include "lessons/06-lock-free/print_outcome.hpp"
#include "lessons/06-lock-free/schedules.hpp"
#include "lessons/common/cli.hpp"
#include "patterns/lock_free/epochs.hpp"
#include "patterns/lock_free/hazard_pointers.hpp"
#include "patterns/lock_free/naive.hpp"
#include "patterns/lock_free/tagged.hpp"

int main(int argc, char** argv) {
  bool hp = false, epochs = false, tagged = false;
  cp::lessons::Cli cli("l06_aba", "forces the ABA interleaving on a stack that recycles nodes");
  cli.flag("tagged", tagged, "run the schedule with a version tag on the top (the cure)")
      .flag("hazard-pointers", hp, "run the schedule with hazard pointers (the cure)")
      .flag("epochs", epochs, "run the schedule with epoch-based reclamation (the cure)");
  cli.parse(argc, argv);

  using namespace cp;
  bool ok = true;
  if (tagged) ok &= lessons::print_outcome("tagged", lessons::run_aba<lf::TaggedRecycle>());
  if (hp) ok &= lessons::print_outcome("hazard pointers", lessons::run_aba<lf::HazardPointers>());
  if (epochs) ok &= lessons::print_outcome("epochs", lessons::run_aba<lf::Epochs>());
  if (!hp && !epochs && !tagged) {
    const bool clean = lessons::print_outcome("naive (recycle, no tag)", lessons::run_aba<lf::NaiveRecycle>());
    if (!clean)
      std::printf("the stale CAS saw node A on top again and succeeded: ABA.\n");
  }
  return ok ? 0 : 1;
}

// How to run:
//   ./build/debug/lessons/06-lock-free/l06_aba
//   ./build/debug/lessons/06-lock-free/l06_aba --tagged --hazard-pointers --epochs
// What to expect: the naive run pushes 2 1 3 4 and pops 1 2 4 3 3 4: values 3 and 4 come out
// twice (node B was linked to itself). Every cure pops each of 1 2 3 4 exactly once. Same
// output on every run: the interleaving is scripted, not left to chance.
