// counter_test.cpp: the counter conformance suite, run against every registered design.
#include <catch2/catch.hpp>

#include <memory>

#include "comparisons/counter/designs.hpp"
#include "tests/conformance/counter/counter_checks.hpp"
#include "tests/support/design_test.hpp"
#include "tests/support/progress_check.hpp"
#include "tests/support/trait_checks.hpp"

using namespace cp;
using namespace cp::test;

template <class D>
struct IsCounterDesign : std::bool_constant<CounterDesign<D>> {};
static_assert(all_of_v<CounterDesigns, IsCounterDesign>,
              "every registered counter design satisfies the contract");

CP_DESIGN_TEST(counter_unit, "counter: replies match the reference", "[unit]", CounterDesigns) {
  const auto s = seed();
  CP_REQUIRE_CLEAN(check_counter_matches_reference<TestType>(s), s);
}

CP_DESIGN_TEST(counter_bad_config, "counter: zero keys is refused", "[unit]", CounterDesigns) {
  REQUIRE_THROWS_AS(TestType(CounterConfig{.keys = 0}), std::invalid_argument);
}

CP_DESIGN_TEST(counter_stress, "counter: exact at quiescence, monotonic reads", "[stress]",
               CounterDesigns) {
  const auto s = seed();
  for (unsigned threads : kStressThreadCounts) {
    if (!TestType::traits.thread_safe && threads > 1) continue;
    INFO("threads " << threads);
    CP_REQUIRE_CLEAN(check_counter_concurrent<TestType>(s + threads, threads, 20'000), s + threads);
  }
}

CP_DESIGN_TEST(counter_linearizable, "counter: reads see every completed add", "[trait]",
               CounterDesigns) {
  if constexpr (TestType::traits.thread_safe && TestType::traits.linearizable_reads) {
    const auto s = seed();
    CP_REQUIRE_CLEAN(check_counter_reads_see_completed_adds<TestType>(s), s);
  }
}

CP_DESIGN_TEST(counter_traits, "counter: declared traits hold", "[trait]", CounterDesigns) {
  CP_REQUIRE_CLEAN(check_traits_consistent<TestType>(), 0);
  CP_REQUIRE_CLEAN(check_waiting_claim<TestType>(), 0);
}

// A design that declares lock_free = true offers `with_hooks<H>`, so a thread can be parked
// inside add(), at each of its hook points in turn (the sharded counter: after its first add
// claimed a row, before it writes its cell); the other threads must still complete all of
// theirs on the same key, and no add is lost.
namespace {
template <class D>
struct CounterParkScenario {
  std::unique_ptr<D> design = std::make_unique<D>(CounterConfig{.keys = 4});
  void parked_op() { design->add(0, 1); }
  void other_op(unsigned) { design->add(0, 1); }
  Findings check() {
    Findings f;
    if (design->get(0).value != 2 * 1000 + 1) f.fail("get(0) = ", design->get(0).value, ", want 2001");
    if (design->total() != 2 * 1000 + 1) f.fail("total() = ", design->total(), ", want 2001");
    return f;
  }
};
}  // namespace

CP_DESIGN_TEST(counter_progress, "counter: lock-free, others progress while one add is parked",
               "[trait]", CounterDesigns) {
  if constexpr (TestType::traits.lock_free) {
    using Hooked = typename TestType::template with_hooks<lf::ScriptedHooks>;
    CP_REQUIRE_CLEAN(park_at_every_visit([] { return CounterParkScenario<Hooked>(); }, 2, 1000,
                                         std::chrono::seconds(60)),
                     0);
  }
}
