// contract.hpp (cache): the bounded key-value cache every design implements.
//
// Keys are uint64 in [0, key_space); values are 64-byte CacheValue records. Operations:
//   get(key)          the value, or std::nullopt (a key outside the key space is never present)
//   put(key, value)   insert or overwrite, may evict another entry when full; rejects a key
//                     outside the key space, a value whose .key differs, or a corrupt value
//   erase(key)        remove; returns whether it was present
//   size()            entries held; <= capacity at quiescence, always
// With capacity >= key_space nothing is evicted and the cache is a linearizable map. With
// eviction, get returns only an intact value that was put for that key and was neither
// overwritten nor erased before the get began. The eviction policy is declared in traits.
// The full contract: docs/workloads.md ("Cache, in brief") and docs/cache.md.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "comparisons/cache/value.hpp"
#include "patterns/common/traits.hpp"

namespace cp {

enum class CacheError : std::uint8_t { ok, key_out_of_range, key_mismatch, corrupt_value };

constexpr std::string_view to_string(CacheError e) {
  switch (e) {
    case CacheError::ok: return "ok";
    case CacheError::key_out_of_range: return "key out of range";
    case CacheError::key_mismatch: return "value.key differs from key";
    case CacheError::corrupt_value: return "corrupt value (checksum)";
  }
  return "?";
}

struct CacheConfig {
  std::uint64_t key_space = 100'000;  // N
  std::size_t capacity = 50'000;      // C; must be > 0
};

inline const CacheConfig& check(const CacheConfig& config) {
  if (config.key_space == 0) throw std::invalid_argument("cache: key_space must be > 0");
  if (config.capacity == 0) throw std::invalid_argument("cache: capacity must be > 0");
  return config;
}

// The validation every design applies to put() before touching its state.
constexpr CacheError validate_put(const CacheConfig& config, std::uint64_t key,
                                  const CacheValue& value) {
  if (key >= config.key_space) return CacheError::key_out_of_range;
  if (value.key != key) return CacheError::key_mismatch;
  if (!intact(value)) return CacheError::corrupt_value;
  return CacheError::ok;
}

template <class D>
concept CacheDesign = DeclaresTraits<D> && std::constructible_from<D, CacheConfig> &&
                      requires(D& d, std::uint64_t key, const CacheValue& value) {
                        { d.get(key) } -> std::same_as<std::optional<CacheValue>>;
                        { d.put(key, value) } -> std::same_as<CacheError>;
                        { d.erase(key) } -> std::same_as<bool>;
                        { d.size() } -> std::same_as<std::size_t>;
                        { d.capacity() } -> std::same_as<std::size_t>;
                      };

}  // namespace cp
