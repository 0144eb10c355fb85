// ring.hpp: the two bounded rings of the single-writer pattern, and the concept they share.
//
//   SingleProducerRing<T, Wait>  - one producer thread, no CAS (single_producer_ring.hpp).
//   MultiProducerRing<T, Wait>   - any number of producers, CAS claim + per-slot publish flag
//                                  (multi_producer_ring.hpp).
//   ReceiveEnd<R>, SendEnd<S>    - a channel's two halves: what a consumer (select.hpp, lesson
//                                  04's services) and a producer need. A ring is both; a NATS
//                                  subject implements them too (patterns/distributed/
//                                  nats_channel.hpp), so a service written against them runs
//                                  in one process or across processes unchanged.
//   Ring<R>                      - the concept: what Engine needs from a ring (both halves).
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

// The consumer's half: wait (wait_for_data), try-receive (consume_batch: what is there now,
// never waits), has_data, and the end (drained: closed and everything read).
template <class R>
concept ReceiveEnd = requires(R& r, const R& cr,
                              detail::CountingConsumer<typename R::value_type> f) {
  typename R::value_type;
  typename R::wait_strategy;
  { r.consume_batch(f, std::size_t{1}) } -> std::same_as<std::size_t>;
  { r.wait_for_data() } -> std::same_as<bool>;
  { r.has_data() } -> std::same_as<bool>;
  { cr.drained() } -> std::same_as<bool>;
  { cr.capacity() } -> std::same_as<std::size_t>;
};

// The producer's half: send (push: may wait while full), try_push (never waits), close.
template <class S>
concept SendEnd = requires(S& s, const S& cs, typename S::value_type&& v) {
  typename S::value_type;
  { s.try_push(std::move(v)) } -> std::same_as<bool>;
  { s.push(std::move(v)) } -> std::same_as<bool>;
  s.close();
  { cs.capacity() } -> std::same_as<std::size_t>;
};

template <class R>
concept Ring = ReceiveEnd<R> && SendEnd<R> && requires(const R& cr) {
  { R::single_producer } -> std::convertible_to<bool>;
  { cr.closed() } -> std::same_as<bool>;
  { cr.size_approx() } -> std::same_as<std::size_t>;
};

static_assert(Ring<SingleProducerRing<int>>);
static_assert(Ring<MultiProducerRing<int>>);

}  // namespace cp::sw
