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
// When not: a map that stays small (a few thousand entries) gains nothing from segments.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <array>
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

  // reserve: room for about `n` entries in all, spread evenly.
  void reserve(std::size_t n) {
    for (Map& m : segments_) m.reserve(n / kSegments + 1);
  }

  // for_each: f(id, value) for every entry, in no particular order.
  template <class F>
  void for_each(F&& f) const {
    for (const Map& m : segments_)
      for (const auto& [id, value] : m) f(id, value);
  }

  // segment_of: which segment holds `id` (the top bits of a multiplicative hash, so that
  // consecutive ids spread over every segment).
  static std::size_t segment_of(OrderId id) {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(id) * 0x9E3779B97F4A7C15ull) >>
                                    (64 - kSegmentBits));
  }

 private:
  Map& segment(OrderId id) { return segments_[segment_of(id)]; }
  const Map& segment(OrderId id) const { return segments_[segment_of(id)]; }

  std::array<Map, kSegments> segments_;
};

}  // namespace cp
