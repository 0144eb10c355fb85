// messages.hpp: what lesson 04's services say to each other, and the channel they say it on.
//
//   Channel<T>      - a bounded single-producer/single-consumer ring (cp::sw::SingleProducerRing
//                     with the blocking wait strategy): the only thing services share.
//   InProcess       - the wiring every service takes as its template argument by default:
//                     each input and output is a Channel. Lesson 10 wires the same services
//                     with NATS subjects instead (services-across-processes.md).
//   channel_capacity(window) - the ring size that lets `window` orders in flight never fill
//                     a ring (see basket.hpp for why that rules out a deadlock).
//   OrderMsg        - Basket -> Order: place an order, or shut down.
//   Confirmation    - Order -> Basket: an order is done (stamped when Order confirmed it).
//   ChargeRequest   - Order -> Payment: charge a customer for an order, or shut down.
//   ChargeResult    - Payment -> Order: the answer to one charge request.
//   FraudCheck      - Payment -> Fraud: please check this customer (asked at a time).
//   FraudVerdict    - Fraud -> Payment: the answer to one check.
//
// Every message is a small value type: it is moved into a ring slot and out of it, so the
// receiver owns its copy and nothing in it points into the sender's state.
#pragma once

#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "patterns/single_writer/single_writer.hpp"

namespace cp::lessons::services {

using Clock = std::chrono::steady_clock;
using CustomerId = std::uint32_t;
using OrderId = std::uint32_t;
using Cents = std::int64_t;

// [quote: channel]
// One producer thread, one consumer thread, bounded: push() waits while the ring is full.
template <class T>
using Channel = cp::sw::SingleProducerRing<T, cp::sw::BlockingWaitStrategy>;
// [end quote]

// InProcess: a service's inputs (Input<T>, a cp::sw::ReceiveEnd of T) and outputs
// (Output<T>, a cp::sw::SendEnd of T) are rings. A service is a class template over its
// wiring, with this as the default, so `OrderService order(...)` is the in-process service.
struct InProcess {
  template <class T>
  using Input = Channel<T>;
  template <class T>
  using Output = Channel<T>;
};

// channel_capacity: the smallest ring (a power of two) holding `window` messages plus the one
// shutdown message that follows them.
inline std::size_t channel_capacity(std::size_t window) { return std::bit_ceil(window + 1); }

// [quote: messages]
struct OrderMsg {  // Basket -> Order
  enum class Kind : std::uint8_t { place, shutdown } kind = Kind::place;
  OrderId order = 0;
  CustomerId customer = 0;
  Cents amount = 0;
};

struct Confirmation {  // Order -> Basket
  OrderId order = 0;
  CustomerId customer = 0;
  bool approved = false;
  Clock::time_point confirmed_at{};
};

struct ChargeRequest {  // Order -> Payment
  enum class Kind : std::uint8_t { charge, shutdown } kind = Kind::charge;
  OrderId order = 0;
  CustomerId customer = 0;
  Cents amount = 0;
};

struct ChargeResult {  // Payment -> Order
  OrderId order = 0;
  bool approved = false;
};

struct FraudCheck {  // Payment -> Fraud
  CustomerId customer = 0;
  Clock::time_point asked_at{};
};

struct FraudVerdict {  // Fraud -> Payment
  CustomerId customer = 0;
  bool clean = false;
};
// [end quote]

// How many messages a service takes from one input per wake-up (see SelectTwo::drain_fair).
inline constexpr std::size_t kBatch = 32;

}  // namespace cp::lessons::services
