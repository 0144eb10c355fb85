// id_index_test.cpp: the order id index (comparisons/order/id_index.hpp): every id found, and
// segments of unequal share, so that they do not all rehash at the same moment.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "comparisons/order/id_index.hpp"

using cp::OrderId;
using Index = cp::SegmentedIdIndex<std::uint64_t>;

TEST_CASE("id index: every id inserted is found once, with its value", "[unit]") {
  Index index;
  constexpr std::uint64_t kIds = 200'000;
  for (std::uint64_t id = 1; id <= kIds; ++id)
    REQUIRE(index.try_emplace(OrderId{id}, id * 3).second);
  REQUIRE_FALSE(index.try_emplace(OrderId{77}, 0).second);  // a duplicate id is refused
  REQUIRE(index.size() == kIds);
  for (std::uint64_t id = 1; id <= kIds; ++id) {
    const std::uint64_t* v = index.find(OrderId{id});
    REQUIRE(v != nullptr);
    REQUIRE(*v == id * 3);
  }
  REQUIRE(index.find(OrderId{kIds + 1}) == nullptr);
  std::uint64_t seen = 0;
  index.for_each([&](OrderId, std::uint64_t) { ++seen; });
  REQUIRE(seen == kIds);
}

TEST_CASE("id index: segment shares grow by 2^(1/64) a step, over a factor of 2", "[unit]") {
  // Equal shares made all 64 segments reach their doubling size together: the whole index
  // rehashed within a few thousand inserts (25-147 ms stalls in a benchmark window).
  double total = 0;
  for (std::size_t s = 0; s < Index::kSegments; ++s) {
    const double share = Index::share_of(s);
    INFO("segment " << s << " share " << share);
    REQUIRE(share > 0);
    if (s > 0) REQUIRE(share >= Index::share_of(s - 1) * 0.97);  // cell rounding only
    total += share;
  }
  REQUIRE(total == Approx(1.0));
  const double ratio = Index::share_of(Index::kSegments - 1) / Index::share_of(0);
  REQUIRE(ratio > 1.8);
  REQUIRE(ratio < 2.2);

  // And the ids follow the shares: consecutive ids (as clients number them) land in each
  // segment in proportion, within 10%.
  std::vector<std::uint64_t> count(Index::kSegments, 0);
  constexpr std::uint64_t kIds = 1'000'000;
  for (std::uint64_t id = 1; id <= kIds; ++id) ++count[Index::segment_of(OrderId{id})];
  for (std::size_t s = 0; s < Index::kSegments; ++s) {
    INFO("segment " << s << ": " << count[s] << " ids, share " << Index::share_of(s));
    REQUIRE(static_cast<double>(count[s]) == Approx(kIds * Index::share_of(s)).epsilon(0.10));
  }
}
