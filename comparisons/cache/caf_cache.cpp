// caf_cache.cpp: CafCache's CAF side (see caf_cache.hpp).
#include "comparisons/cache/caf_cache.hpp"

#include <vector>

#include "comparisons/cache/actor_cache.hpp"
#include "comparisons/cache/shard_capacity.hpp"
#include "comparisons/common/caf_pool.hpp"

namespace cp {

namespace {
constexpr const char* kWho = "caf cache";
}

struct CafCache::Actors {
  CafPool<CacheShard> pool;

  CacheShard::reply ask(std::uint64_t key, CacheShard::message m) {
    return pool.ask(ActorCache::actor_index(key), m, kWho);
  }
};

CafCache::CafCache(CacheConfig config)
    : config_(check(config)), actors_(std::make_unique<Actors>()) {
  // The same split as ActorCache: each actor's share of the capacity, by the same hash.
  const std::vector<std::size_t> share = shard_capacities(
      config_, ActorCache::kCacheActors, [](std::uint64_t k) { return ActorCache::actor_index(k); });
  for (const std::size_t cap : share) actors_->pool.spawn(cap, ActorCacheOptions{});
}

CafCache::~CafCache() = default;

std::optional<CacheValue> CafCache::get(std::uint64_t key) {
  if (key >= config_.key_space) return std::nullopt;
  const CacheShard::reply r = actors_->ask(key, {CacheShard::Op::get, key, {}});
  if (!r.hit) return std::nullopt;
  return r.value;
}

CacheError CafCache::put(std::uint64_t key, const CacheValue& value) {
  if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
  actors_->ask(key, {CacheShard::Op::put, key, value});
  return CacheError::ok;
}

bool CafCache::erase(std::uint64_t key) {
  if (key >= config_.key_space) return false;
  return actors_->ask(key, {CacheShard::Op::erase, key, {}}).hit;
}

void CafCache::clear() {
  for (std::size_t a = 0; a < actors_->pool.size(); ++a)
    actors_->pool.ask(a, {CacheShard::Op::clear, 0, {}}, kWho);
}

std::size_t CafCache::size() {
  std::size_t sum = 0;
  for (std::size_t a = 0; a < actors_->pool.size(); ++a)
    sum += static_cast<std::size_t>(actors_->pool.ask(a, {CacheShard::Op::size, 0, {}}, kWho).size);
  return sum;
}

}  // namespace cp
