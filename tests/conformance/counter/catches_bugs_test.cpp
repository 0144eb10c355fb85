// catches_bugs_test.cpp: the counter checks must reject a broken design.
#include <catch2/catch.hpp>

#include "tests/conformance/counter/broken_counter.hpp"
#include "tests/conformance/counter/counter_checks.hpp"

using namespace cp::test;

TEST_CASE("counter suite rejects a counter that loses updates", "[suite-catches-bugs]") {
  // Single-threaded, the broken counter is right: the reference check must pass...
  REQUIRE(check_counter_matches_reference<LostUpdateCounter>(seed()).ok());
  // ...and the concurrent check must catch the lost updates. A loss needs two adds to
  // interleave inside the window; a few rounds make missing it practically impossible.
  bool caught = false;
  for (int round = 0; round < 10 && !caught; ++round)
    caught = !check_counter_concurrent<LostUpdateCounter>(seed() + round, 4, 5'000, 2).ok();
  REQUIRE(caught);
}
