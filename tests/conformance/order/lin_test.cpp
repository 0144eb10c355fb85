// lin_test.cpp: the general linearizability checker on every order design that declares
// linearizable reads, and on the broken engines it must reject.
#include <catch2/catch.hpp>

#include "comparisons/order/designs.hpp"
#include "tests/conformance/order/broken_order.hpp"
#include "tests/conformance/order/order_lin.hpp"
#include "tests/support/design_test.hpp"

using namespace cp;
using namespace cp::test;

// Default suite: a few dozen histories per design (each one costs a search with a state
// restore per step); `ctest --preset long` runs 10,000.
constexpr unsigned kHistories = 60 / kSanitizerSlowdown;
constexpr unsigned kLongHistories = 10'000;

CP_DESIGN_TEST(order_lin, "order: recorded histories are linearizable", "[trait]", OrderDesigns) {
  if constexpr (TestType::traits.thread_safe && TestType::traits.linearizable_reads) {
    const auto s = seed();
    CP_REQUIRE_CLEAN(check_order_histories<TestType>(s, kHistories), s);
  }
}

CP_DESIGN_TEST(order_lin_long, "order: 10,000 recorded histories are linearizable", "[long]",
               OrderDesigns) {
  if constexpr (TestType::traits.thread_safe && TestType::traits.linearizable_reads) {
    const auto s = seed();
    CP_REQUIRE_CLEAN(check_order_histories<TestType>(s, kLongHistories), s);
  }
}

CP_DESIGN_TEST(order_lin_catches, "order: the linearizability checker reports a broken engine",
               "[suite-catches-bugs]", BrokenOrderDesigns) {
  const auto s = seed();
  lin::HistoryTally<OrderCommand, OrderReply> tally;
  const Findings f = check_order_histories<TestType>(s, 150, &tally);
  INFO("seed " << s << "\n" << f.report());
  CHECK(tally.failed > 0);
  WARN("smallest failing history (" << tally.smallest_failing.size() << " calls, seed "
                                    << tally.smallest_seed << "):\n"
                                    << lin::format_history(OrderModel{}, tally.smallest_failing));
}
