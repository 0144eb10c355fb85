// value.hpp (cache): the 64-byte cache record whose checksum makes a torn or mixed-up value
// detectable.
//
//   CacheValue{key, version, payload[5], checksum}: exactly one cache line.
//   make_cache_value(key, version) builds an intact record; intact(v) checks it.
#pragma once

#include <array>
#include <cstdint>

#include "comparisons/common/random.hpp"

namespace cp {

struct alignas(64) CacheValue {
  std::uint64_t key = 0;
  std::uint64_t version = 0;
  std::array<std::uint64_t, 5> payload{};
  std::uint64_t checksum = 0;
  friend bool operator==(const CacheValue&, const CacheValue&) = default;
};
static_assert(sizeof(CacheValue) == 64);

constexpr std::uint64_t cache_checksum(const CacheValue& v) {
  std::uint64_t h = mix64(v.key) ^ mix64(v.version + 0x1234567ULL);
  for (std::uint64_t word : v.payload) h = mix64(h ^ word);
  return h;
}

constexpr CacheValue make_cache_value(std::uint64_t key, std::uint64_t version) {
  CacheValue v;
  v.key = key;
  v.version = version;
  std::uint64_t seed = mix64(key * 0x9e3779b97f4a7c15ULL + version);
  for (auto& word : v.payload) word = seed = mix64(seed);
  v.checksum = cache_checksum(v);
  return v;
}

constexpr bool intact(const CacheValue& v) { return v.checksum == cache_checksum(v); }

}  // namespace cp
