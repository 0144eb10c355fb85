// shard_capacity.hpp (cache): how a sharded cache splits its capacity C over its shards.
//
// Evenly, so the shares sum to exactly C, except in the no-eviction configuration (C >= N),
// where the contract asks for a linearizable map: a hash spreads the N keys unevenly, and a
// shard holding more keys than an even share would evict. So then each shard's share is the
// number of keys that hash to it (they sum to N <= C): such a cache never evicts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "comparisons/cache/contract.hpp"

namespace cp {

// shard_capacities: the share of each of `shards` shards; shard_of(key) -> shard index.
template <class ShardOf>
std::vector<std::size_t> shard_capacities(const CacheConfig& config, std::size_t shards,
                                          ShardOf shard_of) {
  std::vector<std::size_t> share(shards, 0);
  if (config.capacity >= config.key_space) {
    for (std::uint64_t k = 0; k < config.key_space; ++k) ++share[shard_of(k)];
  } else {
    for (std::size_t s = 0; s < shards; ++s)
      share[s] = config.capacity / shards + (s < config.capacity % shards ? 1 : 0);
  }
  return share;
}

}  // namespace cp
