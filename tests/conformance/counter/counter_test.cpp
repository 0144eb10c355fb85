// counter_test.cpp: the counter conformance suite, run against every registered design.
#include <catch2/catch.hpp>

#include "comparisons/counter/designs.hpp"
#include "tests/conformance/counter/counter_checks.hpp"
#include "tests/support/design_test.hpp"
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
