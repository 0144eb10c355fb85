// counter_test.cpp: the counter conformance suite, run against every registered design.
#include <catch2/catch.hpp>

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
// inside add(); the other threads must still complete all of theirs.
CP_DESIGN_TEST(counter_progress, "counter: lock-free, others progress while one add is parked",
               "[trait]", CounterDesigns) {
  if constexpr (TestType::traits.lock_free) {
    using Hooked = typename TestType::template with_hooks<lf::ScriptedHooks>;
    Hooked design(CounterConfig{.keys = 4});
    const auto r = run_with_one_parked(
        lf::HookPoint::add_before_rmw, [&] { design.add(0, 1); },
        [&](unsigned) { design.add(0, 1); }, 2, 1000, std::chrono::seconds(60));
    INFO(r.completed_while_parked << " of " << r.wanted << " adds completed while one was parked");
    CHECK(r.completed_while_parked == r.wanted);
    CHECK(design.get(0).value == static_cast<std::int64_t>(r.wanted) + 1);
  }
}
