// mix64.hpp: mix64, a stateless 64-bit hash (the SplitMix64 finaliser, Steele et al.).
//
// The lowest floor owns it: patterns/ route keys with it (Sharded's shard_of) and
// comparisons/common/random.hpp builds its seeded generators on it. Deterministic on every
// platform.
#pragma once

#include <cstdint>

namespace cp {

// mix64: spreads every input bit over the whole word; mix64(k) % n is a fair shard index.
constexpr std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace cp
