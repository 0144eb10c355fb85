// use_after_free.cpp (target l06_use_after_free): SHOWS A BUG ON PURPOSE.
//
// The textbook Treiber stack deletes a node as soon as it is popped. Here one pop loads the
// top node and stops (a hook in the stack parks it); another pop takes the same node and
// deletes it; the first pop then reads the deleted node's `next` field. That read is a
// use-after-free. Built with AddressSanitizer (the `asan` preset) the program stops with a
// "heap-use-after-free" report naming the read and the delete. Without ASan the read
// usually returns garbage, the CAS fails, and the output looks fine: the bug is silent.
//
// --hazard-pointers, --epochs or --tagged run the same schedule with a cure: the node is not
// freed while the slow pop can still read it, and every value comes out exactly once.
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
  cp::lessons::Cli cli("l06_use_after_free",
                       "forces a pop to read a node another pop has just deleted");
  cli.flag("hazard-pointers", hp, "run the schedule with hazard pointers (the cure)")
      .flag("epochs", epochs, "run the schedule with epoch-based reclamation (the cure)")
      .flag("tagged", tagged, "run the schedule with the tagged, recycling policy (the cure)");
  cli.parse(argc, argv);

  using namespace cp;
  bool ok = true;
  if (hp) ok = lessons::print_outcome("hazard pointers", lessons::run_use_after_free<lf::HazardPointers>());
  if (epochs) ok &= lessons::print_outcome("epochs", lessons::run_use_after_free<lf::Epochs>());
  if (tagged) ok &= lessons::print_outcome("tagged", lessons::run_use_after_free<lf::TaggedRecycle>());
  if (!hp && !epochs && !tagged) {
    std::printf("naive stack: a pop loads node(1) and stops; another pop deletes node(1);\n"
                "the first pop now reads node(1)->next ...\n");
    std::fflush(stdout);
    lessons::print_outcome("naive (delete at once)", lessons::run_use_after_free<lf::NaiveDelete>());
    std::printf("no crash: without AddressSanitizer the freed memory was read silently.\n"
                "Build with the asan preset to see the report.\n");
  }
  return ok ? 0 : 1;
}

// How to run:
//   cmake --preset asan && cmake --build --preset asan --target l06_use_after_free
//   ./build/asan/lessons/06-lock-free/l06_use_after_free
//   ./build/debug/lessons/06-lock-free/l06_use_after_free --hazard-pointers --epochs --tagged
// What to expect: under ASan, "ERROR: AddressSanitizer: heap-use-after-free" with a READ of
// 8 bytes in try_pop, and the node freed by the other pop's delete. In a plain build the
// naive run prints normal-looking results (the bug is there, unseen). With a cure, each
// policy pops 1 and 2 exactly once.
