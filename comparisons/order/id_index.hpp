// id_index.hpp (order): the order id index, split into segments so that it never stalls.
//
//   SegmentedIdIndex<V> - OrderId -> V, as a fixed number of absl::flat_hash_maps chosen by a
//                         hash of the id. Not thread-safe (its owner's lock or thread guards it).
//
// Why. One hash map holding every accepted order doubles and rehashes everything at once as it
// grows: with a million orders that is one insert taking tens of milliseconds, which showed up
// as the reference engine's max latency (52 ms in a 0.3 s row). The engine did nothing wrong;
// the stall was the index's. With kSegments maps, each one grows on its own and a rehash moves
// a kSegments-th of the entries, so the worst insert stays well under a millisecond.
// Reserving ahead would work too, but no one knows ahead how many orders a run accepts.
//
// Unequal shares. Segments of equal share reach their doubling size together, so all 64
// rehash within a few thousand inserts of each other: each insert stays short, but the index
// still stalls its owner for the whole rehash, in installments. Timed in steps of 20 k
// sequential ids (2026-12-06, quiet 2-core VM): with equal shares the steps crossing 240 k,
// 460 k and 920 k ids took 7-8, 13-18 and 27-42 ms, the others 1.3-1.7 ms. So segment s gets a
// share of the ids proportional to 2^(s/64): the segments' sizes spread evenly over a factor
// of 2, and within each doubling of the index they rehash one after another, each a 64th of
// the work. The slowest step then took 2.7-4.4 ms, and the total time was unchanged.
//
// When not: a map that stays small (a few thousand entries) gains nothing from segments.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "comparisons/order/contract.hpp"

namespace cp {

template <class V>
class SegmentedIdIndex {
 public:
  using Map = absl::flat_hash_map<OrderId, V>;
  static constexpr unsigned kSegmentBits = 6;
  static constexpr std::size_t kSegments = std::size_t{1} << kSegmentBits;
  static_assert(kSegments <= 256, "cell_segments() stores a segment in a byte");

  // try_emplace: as absl::flat_hash_map::try_emplace on the id's segment. The iterator stays
  // valid until the next insert into the index.
  template <class... Args>
  std::pair<typename Map::iterator, bool> try_emplace(OrderId id, Args&&... args) {
    return segment(id).try_emplace(id, std::forward<Args>(args)...);
  }

  // erase: removes the entry an iterator from try_emplace points at.
  void erase(typename Map::iterator it) { segment(it->first).erase(it); }

  // find: the value of `id`, or nullptr.
  V* find(OrderId id) {
    Map& m = segment(id);
    const auto it = m.find(id);
    return it == m.end() ? nullptr : &it->second;
  }
  const V* find(OrderId id) const {
    const Map& m = segment(id);
    const auto it = m.find(id);
    return it == m.end() ? nullptr : &it->second;
  }

  std::size_t size() const {
    std::size_t n = 0;
    for (const Map& m : segments_) n += m.size();
    return n;
  }

  // reserve: room for about `n` entries in all, each segment by its share.
  void reserve(std::size_t n) {
    for (std::size_t s = 0; s < kSegments; ++s)
      segments_[s].reserve(static_cast<std::size_t>(static_cast<double>(n) * share_of(s)) + 1);
  }

  // for_each: f(id, value) for every entry, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    for (const Map& m : segments_)
      for (const auto& [id, value] : m) f(id, value);
  }

  // segment_of: which segment holds `id`. A multiplicative hash spreads consecutive ids over
  // 2^64; its top 12 bits pick one of 4096 cells, and segment s owns about 4096 (2^(s/64) - 1)
  // up to the next segment's first cell: a share proportional to 2^(s/64) (see "Unequal
  // shares" above). One table load, no branch: a binary search over the segments' bounds
  // mispredicted its way to about 65 ns more per insert.
  static std::size_t segment_of(OrderId id) {
    const std::uint64_t h = static_cast<std::uint64_t>(id) * 0x9E3779B97F4A7C15ull;
    return cell_segments()[h >> (64 - kCellBits)];
  }

  // share_of: the fraction of ids segment s receives (its cells over all cells); for tests.
  static double share_of(std::size_t s) {
    const auto& cells = cell_segments();
    return static_cast<double>(std::count(cells.begin(), cells.end(), s)) / kCells;
  }

 private:
  static constexpr unsigned kCellBits = 12;
  static constexpr std::size_t kCells = std::size_t{1} << kCellBits;

  // cell_segments: the segment of each cell. Segment s starts at cell
  // round(4096 (2^(s/64) - 1)): 0 for s = 0, and every segment gets 45 to 89 cells.
  static const std::array<std::uint8_t, kCells>& cell_segments() {
    static const std::array<std::uint8_t, kCells> table = [] {
      std::array<std::uint8_t, kCells> t{};
      std::size_t s = 0;
      for (std::size_t c = 0; c < kCells; ++c) {
        while (s + 1 < kSegments && static_cast<double>(c) >= first_cell(s + 1)) ++s;
        t[c] = static_cast<std::uint8_t>(s);
      }
      return t;
    }();
    return table;
  }
  static double first_cell(std::size_t s) {
    return std::round(kCells * (std::exp2(static_cast<double>(s) / kSegments) - 1));
  }

  Map& segment(OrderId id) { return segments_[segment_of(id)]; }
  const Map& segment(OrderId id) const { return segments_[segment_of(id)]; }

  std::array<Map, kSegments> segments_;
};

}  // namespace cp
