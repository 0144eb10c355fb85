// lin_test.cpp: the general linearizability checker (tests/support/linearizability.hpp) on
// hand-written histories, on every counter design that declares linearizable reads, and on
// broken counters it must reject.
#include <catch2/catch.hpp>

#include "comparisons/counter/designs.hpp"
#include "tests/conformance/counter/broken_counter.hpp"
#include "tests/conformance/counter/counter_lin.hpp"
#include "tests/support/design_test.hpp"

using namespace cp;
using namespace cp::test;
using Kind = CounterModel::Kind;

namespace {

// A call from `client` over [from, to] (arbitrary time units).
CounterCall op(unsigned client, std::int64_t from, std::int64_t to, Kind kind, std::uint32_t key,
             std::int64_t delta_or_value) {
  CounterCall o;
  o.client = client;
  o.invoke_ns = from;
  o.return_ns = to;
  o.input = {kind, key, kind == Kind::add ? delta_or_value : 0};
  o.output = {CounterError::ok, kind == Kind::add ? 0 : delta_or_value};
  return o;
}

lin::Verdict verdict(const std::vector<CounterCall>& h, std::uint64_t max_steps = 1'000'000) {
  return lin::check_linearizable(CounterModel{}, h, max_steps).verdict;
}

}  // namespace

TEST_CASE("linearizability checker: what a counter history may and may not show", "[unit]") {
  // A get that overlaps an add may see it or not.
  CHECK(verdict({op(0, 0, 10, Kind::add, 1, 5), op(1, 5, 15, Kind::get, 1, 0)}) ==
        lin::Verdict::linearizable);
  CHECK(verdict({op(0, 0, 10, Kind::add, 1, 5), op(1, 5, 15, Kind::get, 1, 5)}) ==
        lin::Verdict::linearizable);
  // A get that begins after the add returned must see it.
  CHECK(verdict({op(0, 0, 10, Kind::add, 1, 5), op(1, 11, 15, Kind::get, 1, 0)}) ==
        lin::Verdict::not_linearizable);
  // Touching intervals (return == invoke) count as concurrent.
  CHECK(verdict({op(0, 0, 10, Kind::add, 1, 5), op(1, 10, 15, Kind::get, 1, 0)}) ==
        lin::Verdict::linearizable);
  // Two gets of one reader, both overlapping two adds: 3 then 2 is no order of the adds.
  CHECK(verdict({op(0, 0, 100, Kind::add, 0, 1), op(1, 0, 100, Kind::add, 0, 2),
                 op(2, 10, 20, Kind::get, 0, 3), op(2, 30, 40, Kind::get, 0, 2)}) ==
        lin::Verdict::not_linearizable);
  CHECK(verdict({op(0, 0, 100, Kind::add, 0, 1), op(1, 0, 100, Kind::add, 0, 2),
                 op(2, 10, 20, Kind::get, 0, 2), op(2, 30, 40, Kind::get, 0, 3)}) ==
        lin::Verdict::linearizable);
  // total() ties the keys together: 5 is the sum only if both adds came before it.
  CHECK(verdict({op(0, 0, 10, Kind::add, 0, 2), op(1, 0, 10, Kind::add, 1, 3),
                 op(2, 20, 30, Kind::total, 0, 5)}) == lin::Verdict::linearizable);
  CHECK(verdict({op(0, 0, 10, Kind::add, 0, 2), op(1, 0, 10, Kind::add, 1, 3),
                 op(2, 20, 30, Kind::total, 0, 2)}) == lin::Verdict::not_linearizable);
}

TEST_CASE("linearizability checker: a search over budget is inconclusive, not ok", "[unit]") {
  std::vector<CounterCall> h;
  for (unsigned c = 0; c < 12; ++c) h.push_back(op(c, 0, 100, Kind::add, 0, 1));
  h.push_back(op(12, 200, 210, Kind::get, 0, 13));  // wrong: forces the whole search
  CHECK(verdict(h, 50) == lin::Verdict::inconclusive);
  CHECK(verdict(h) == lin::Verdict::not_linearizable);
}

TEST_CASE("linearizability checker: the failing history is reported, smallest first", "[unit]") {
  lin::HistoryTally<CounterModel::Input, CounterModel::Output> tally;
  const CounterModel model;
  std::vector<CounterCall> big{op(0, 0, 10, Kind::add, 1, 5), op(0, 20, 30, Kind::add, 1, 1),
                             op(1, 40, 50, Kind::get, 1, 5)};
  std::vector<CounterCall> small{op(0, 0, 10, Kind::add, 2, 1), op(1, 20, 30, Kind::get, 2, 0)};
  tally.add(7, lin::check_linearizable(model, big));
  tally.add(8, lin::check_linearizable(model, small));
  tally.add(9, lin::check_linearizable(model, std::vector<CounterCall>{}));
  CHECK(tally.histories == 3);
  CHECK(tally.failed == 2);
  CHECK(tally.smallest_seed == 8);
  const std::string text = lin::format_history(model, tally.smallest_failing);
  CHECK(text.find("add(2, 1) -> ok") != std::string::npos);
  CHECK(text.find("get(2) -> 0") != std::string::npos);
}

// Default suite: a few hundred histories per design; `ctest --preset long` runs 10,000.
constexpr unsigned kHistories = 300 / kSanitizerSlowdown;
constexpr unsigned kLongHistories = 10'000;

CP_DESIGN_TEST(counter_lin, "counter: recorded histories are linearizable", "[trait]",
               CounterDesigns) {
  if constexpr (TestType::traits.thread_safe && TestType::traits.linearizable_reads) {
    const auto s = seed();
    CP_REQUIRE_CLEAN(check_counter_histories<TestType>(s, kHistories), s);
  }
}

CP_DESIGN_TEST(counter_lin_long, "counter: 10,000 recorded histories are linearizable", "[long]",
               CounterDesigns) {
  if constexpr (TestType::traits.thread_safe && TestType::traits.linearizable_reads) {
    const auto s = seed();
    CP_REQUIRE_CLEAN(check_counter_histories<TestType>(s, kLongHistories), s);
  }
}

TEST_CASE("linearizability checker catches the broken counters", "[suite-catches-bugs]") {
  const auto s = seed();
  lin::HistoryTally<CounterModel::Input, CounterModel::Output> tally;
  SECTION("lost updates") {
    const Findings f = check_counter_histories<LostUpdateCounter>(s, 300, 3, 12, &tally);
    INFO("seed " << s << "\n" << f.report());
    CHECK(tally.failed > 0);
  }
  SECTION("one stale read in a thousand") {
    // About 12 gets per history: a stale one every ~80 histories, caught unless its key's
    // latest add added 0 or was still running.
    const Findings f = check_counter_histories<RareStaleReadCounter>(s, 3'000, 3, 12, &tally);
    INFO("seed " << s << "\n" << f.report());
    CHECK(tally.failed > 0);
    CHECK(tally.failed < tally.histories / 10);  // rare indeed: most histories are fine
  }
  // The report a reader sees: the smallest failing history, one call per line.
  WARN("smallest failing history (" << tally.smallest_failing.size() << " calls, seed "
                                    << tally.smallest_seed << "):\n"
                                    << lin::format_history(CounterModel{}, tally.smallest_failing));
}
