// ring.hpp: the two bounded rings of the single-writer pattern, and the concept they share.
//
//   SingleProducerRing<T, Wait>  - one producer thread, no CAS (single_producer_ring.hpp).
//   MultiProducerRing<T, Wait>   - any number of producers, CAS claim + per-slot publish flag
//                                  (multi_producer_ring.hpp).
//   Ring<R>                      - the concept: what Engine and select.hpp need from a ring.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "patterns/single_writer/multi_producer_ring.hpp"
#include "patterns/single_writer/single_producer_ring.hpp"

namespace cp::sw {

namespace detail {
template <class T>
struct CountingConsumer {
  std::size_t* n;
  void operator()(T&, std::uint64_t) const { ++*n; }
};
}  // namespace detail

template <class R>
concept Ring = requires(R& r, const R& cr, typename R::value_type&& v,
                        detail::CountingConsumer<typename R::value_type> f) {
  typename R::wait_strategy;
  { R::single_producer } -> std::convertible_to<bool>;
  { r.try_push(std::move(v)) } -> std::same_as<bool>;
  { r.push(std::move(v)) } -> std::same_as<bool>;
  r.close();
  { r.consume_batch(f, std::size_t{1}) } -> std::same_as<std::size_t>;
  { r.wait_for_data() } -> std::same_as<bool>;
  { r.has_data() } -> std::same_as<bool>;
  { cr.drained() } -> std::same_as<bool>;
  { cr.closed() } -> std::same_as<bool>;
  { cr.capacity() } -> std::same_as<std::size_t>;
  { cr.size_approx() } -> std::same_as<std::size_t>;
};

static_assert(Ring<SingleProducerRing<int>>);
static_assert(Ring<MultiProducerRing<int>>);

}  // namespace cp::sw
