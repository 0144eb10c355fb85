// memory.cpp (target l06_memory): what each reclamation scheme holds while one pop stalls.
//
// One thread starts a pop and stops right after loading the top node (a hook parks it). It
// holds a hazard pointer on that node, or its epoch pin. The main thread meanwhile pushes and
// pops --pops nodes and prints, every quarter, how many popped nodes are still unfreed
// ("unreclaimed"). Hazard pointers free everything but the one protected node at each scan,
// so the count stays under a fixed bound. Epochs cannot advance past the stalled thread's pin,
// so every popped node waits: the count grows with the work done. The tagged stack never frees
// (it recycles), so its count is the most nodes it ever held.
#include <cstdio>
#include <latch>
#include <thread>
#include <type_traits>

#include "lessons/common/cli.hpp"
#include "patterns/lock_free/epochs.hpp"
#include "patterns/lock_free/hazard_pointers.hpp"
#include "patterns/lock_free/hooks.hpp"
#include "patterns/lock_free/tagged.hpp"
#include "patterns/lock_free/treiber_stack.hpp"

namespace {

// [quote: stall]
template <class Reclaim>
void run(const char* name, long long pops) {
  cp::lf::TreiberStack<long long, Reclaim, cp::lf::ScriptedHooks> stack;
  stack.push(-1);
  std::latch parked(1), resume(1);
  std::thread stalled([&] {
    cp::lf::ParkOnce park(cp::lf::HookPoint::pop_loaded_top, parked, resume);
    (void)stack.try_pop();  // loads the top, then waits for `resume`
  });
  parked.wait();
  std::printf("%-16s", name);
  for (long long i = 1; i <= pops; ++i) {
    stack.push(i);
    (void)stack.try_pop();
    if (i % (pops / 4) == 0) std::printf(" %10zu", stack.unreclaimed());
  }
  resume.count_down();
  stalled.join();
  // The next collection (run now rather than waiting for the retire count to trigger it).
  if constexpr (std::is_same_v<Reclaim, cp::lf::HazardPointers>) cp::lf::HazardDomain::global().collect();
  if constexpr (std::is_same_v<Reclaim, cp::lf::Epochs>)
    for (int i = 0; i < 3; ++i) cp::lf::EpochDomain::global().collect();
  std::printf(" | after the stall, one collection: %zu\n", stack.unreclaimed());
}
// [end quote]

}  // namespace

int main(int argc, char** argv) {
  long long pops = 100'000;
  cp::lessons::Cli cli("l06_memory",
                       "unfreed nodes under hazard pointers, epochs and tags while one pop stalls");
  cli.option("pops", pops, "nodes pushed and popped while the pop stalls", 4, 100'000'000);
  cli.parse(argc, argv);

  std::printf("unreclaimed nodes after each quarter of %lld pops, one pop stalled:\n", pops);
  run<cp::lf::HazardPointers>("hazard pointers", pops);
  cp::lf::HazardDomain::global().collect();
  run<cp::lf::Epochs>("epochs", pops);
  run<cp::lf::TaggedRecycle>("tagged", pops);
  std::printf("hazard pointers' bound now: %zu (%zu threads' records x scan threshold %zu)\n",
              cp::lf::HazardDomain::global().unreclaimed_bound(),
              cp::lf::HazardDomain::global().record_count(),
              cp::lf::HazardDomain::global().scan_threshold());
  return 0;
}

// How to run:
//   ./build/release/lessons/06-lock-free/l06_memory
//   ./build/release/lessons/06-lock-free/l06_memory --pops=1000000
// What to expect: hazard pointers stay below their bound (a few dozen nodes) at every quarter;
// epochs grow by --pops/4 per quarter (every popped node waits) and drop to 0 at the first
// collection after the stalled pop ends; tagged shows 2 nodes (it reuses the same nodes:
// memory kept, not garbage).
