// lock_free_order_accounts.hpp (order, lock-free): one account's cash and positions.
//
//   lf_order::Account - available, reserved and each position as independent atomics.
//
// Every access is relaxed: each field is only ever a sum, and what must come first comes first
// through the book CAS (a reservation is sequenced before the CAS that publishes the resting
// buy; a settlement or cancel after the acquire that loaded that version), so by coherence no
// field is seen below 0. A reservation is two steps, take() from `available` then
// add_reserved(), and a query between them sees the cash in neither (one reason the engine's
// reads are not linearizable).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>

#include "comparisons/order/contract.hpp"

namespace cp::lf_order {

struct alignas(64) Account {
  std::atomic<Cash> available{0};
  std::atomic<Cash> reserved{0};
  std::array<std::atomic<Qty>, kMaxSymbols> positions{};

  // take: lowers `available` by `amount`, or returns false if that would go below 0. Retries
  // only when another command changed `available` meanwhile.
  bool take(Cash amount) {
    Cash a = available.load(std::memory_order_relaxed);
    do {
      if (amount > a) return false;
    } while (!available.compare_exchange_weak(a, a - amount, std::memory_order_relaxed));
    return true;
  }
  void add_reserved(Cash amount) { reserved.fetch_add(amount, std::memory_order_relaxed); }
  // untake: gives back what take() took, before anything was reserved (a failed place).
  void untake(Cash amount) { available.fetch_add(amount, std::memory_order_relaxed); }
  // release: moves reserved cash back to available (a cancel, or a failed place).
  void release(Cash amount) {
    reserved.fetch_sub(amount, std::memory_order_relaxed);
    available.fetch_add(amount, std::memory_order_relaxed);
  }
  QueryReply reply() const {
    QueryReply r{Reject::none, available.load(std::memory_order_relaxed),
                 reserved.load(std::memory_order_relaxed), {}};
    for (std::size_t s = 0; s < kMaxSymbols; ++s)
      r.positions[s] = positions[s].load(std::memory_order_relaxed);
    return r;
  }
};

}  // namespace cp::lf_order
