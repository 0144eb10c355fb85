// contract.hpp (counter): the counter workload every design implements.
//
// A set of named counters, keys 0..K-1. Operations:
//   add(key, delta)  counter[key] += delta; returns CounterError::ok or unknown_key
//   get(key)         the current value (or unknown_key)
//   total()          the sum over all keys
// Sums wrap modulo 2^64 (two's complement), as std::atomic<int64_t>::fetch_add does, so no
// sequence of deltas is undefined behaviour. Exact at quiescence; with positive deltas one
// reader never sees a key decrease. Designs whose reads are not linearizable say so in traits.
// The full contract: docs/workloads.md ("Counter, in brief").
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>

#include "patterns/common/traits.hpp"

namespace cp {

enum class CounterError : std::uint8_t { ok, unknown_key };

constexpr std::string_view to_string(CounterError e) {
  return e == CounterError::ok ? "ok" : "unknown key";
}

struct CounterRead {
  CounterError error = CounterError::ok;
  std::int64_t value = 0;
  friend bool operator==(const CounterRead&, const CounterRead&) = default;
};

struct CounterConfig {
  std::uint32_t keys = 64;  // K; must be > 0
};

// Wrapping addition on int64 (defined behaviour on overflow).
constexpr std::int64_t wrapping_add(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

template <class D>
concept CounterDesign = DeclaresTraits<D> && std::constructible_from<D, CounterConfig> &&
                        requires(D& d, std::uint32_t key, std::int64_t delta) {
                          { d.add(key, delta) } -> std::same_as<CounterError>;
                          { d.get(key) } -> std::same_as<CounterRead>;
                          { d.total() } -> std::same_as<std::int64_t>;
                          { d.keys() } -> std::same_as<std::uint32_t>;
                        };

}  // namespace cp
