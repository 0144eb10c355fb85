// work_stealing_cache.hpp: the cache workload on oneTBB's scheduler (patterns/work_stealing).
//
//   CacheBatchCommand / CacheBatchResult - one command of a batch (get, put, erase), its reply
//   WorkStealingCache "work-stealing" - S shards, each an exact LRU (lru.hpp) over the keys
//       that hash to it, a ws::Arena and a gate (a Mutex). S and the hash are those of
//       StripedMutexCache, so both evict the same keys ("sharded LRU").
//       Synchronous calls: get/put/erase take the gate and run inside the arena (the caller
//       joins it): the family's wrong use, measured.
//       Batches: run_batch(commands) groups the commands by shard; each shard's commands run
//       in batch order as one task; shards run in parallel on any worker.
//
// Guarantee: linearizable (the gate orders calls and batches). A batch's replies and final
// state equal the same sharded LRU applying the batch in order, exactly: the eviction policy
// is per shard, so shards never read each other's state. With capacity >= key_space nothing
// is evicted and that is the reference itself. A command whose handler throws (the
// BatchHook, run before any change) is answered `failed` and has no effect.
// Waiting: a caller blocks on the gate while another call or batch runs.
#pragma once

#include <absl/base/thread_annotations.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "comparisons/cache/contract.hpp"
#include "comparisons/cache/lru.hpp"
#include "comparisons/cache/shard_capacity.hpp"
#include "comparisons/common/random.hpp"
#include "patterns/mutex/mutex.hpp"
#include "patterns/work_stealing/work_stealing.hpp"

namespace cp {

enum class CacheBatchOp : std::uint8_t { get, put, erase };

struct CacheBatchCommand {
  CacheBatchOp op = CacheBatchOp::get;
  std::uint64_t key = 0;
  CacheValue value{};  // put only
};

struct CacheBatchResult {
  CacheError error = CacheError::ok;  // put's validation
  std::optional<CacheValue> value;    // get
  bool erased = false;                // erase
  friend bool operator==(const CacheBatchResult&, const CacheBatchResult&) = default;
};

class WorkStealingCache {
 public:
  using lock_type = Mutex;  // the gate
  static constexpr std::size_t kMaxShards = 16;  // as StripedMutexCache
  static constexpr DesignTraits traits{
      .name = "work-stealing",
      .family = Family::work_stealing,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = lock_type::waiting,
      .eviction = "sharded LRU (per shard exact)",
  };

  explicit WorkStealingCache(CacheConfig config, ws::DesignOptions options = {})
      : config_(check(config)), shard_count_(shard_count_for(config_.capacity)),
        shards_(std::make_unique<ExactLru[]>(shard_count_)), hook_(std::move(options.hook)),
        arena_(options.arena_threads) {
    const std::vector<std::size_t> share = shard_capacities(
        config_, shard_count_, [this](std::uint64_t k) { return shard_index(k); });
    for (std::size_t s = 0; s < shard_count_; ++s) shards_[s].reset(share[s]);
  }

  std::optional<CacheValue> get(std::uint64_t key) ABSL_LOCKS_EXCLUDED(gate_) {
    if (key >= config_.key_space) return std::nullopt;
    MutexLock lock(gate_);
    return arena_.run([&]() -> std::optional<CacheValue> {
      if (const CacheValue* v = shards_[shard_index(key)].get(key)) return *v;
      return std::nullopt;
    });
  }

  CacheError put(std::uint64_t key, const CacheValue& value) ABSL_LOCKS_EXCLUDED(gate_) {
    if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
    MutexLock lock(gate_);
    arena_.run([&] { shards_[shard_index(key)].put(key, value); });
    return CacheError::ok;
  }

  bool erase(std::uint64_t key) ABSL_LOCKS_EXCLUDED(gate_) {
    if (key >= config_.key_space) return false;
    MutexLock lock(gate_);
    return arena_.run([&] { return shards_[shard_index(key)].erase(key); });
  }

  std::size_t size() ABSL_LOCKS_EXCLUDED(gate_) {
    MutexLock lock(gate_);
    std::size_t sum = 0;
    for (std::size_t s = 0; s < shard_count_; ++s) sum += shards_[s].size();
    return sum;
  }

  std::size_t capacity() const { return config_.capacity; }
  std::size_t shard_count() const { return shard_count_; }
  unsigned arena_threads() { return arena_.threads(); }

  // run_batch: any thread. Every command gets exactly one reply, at its index.
  std::vector<ws::BatchReply<CacheBatchResult>> run_batch(std::span<const CacheBatchCommand> batch)
      ABSL_LOCKS_EXCLUDED(gate_) {
    const std::size_t n = batch.size();
    std::vector<ws::BatchReply<CacheBatchResult>> replies(n);
    const ws::Groups by_shard = ws::group_stably(n, shard_count_, [&](std::size_t i) {
      const CacheBatchCommand& c = batch[i];
      if (c.op == CacheBatchOp::put) {
        if (const CacheError e = validate_put(config_, c.key, c.value); e != CacheError::ok) {
          replies[i].reply.error = e;  // answered here: nothing to run
          return ws::kNoGroup;
        }
      } else if (c.key >= config_.key_space) {
        return ws::kNoGroup;  // a miss / not erased: the default reply
      }
      return static_cast<std::uint32_t>(shard_index(c.key));
    });
    MutexLock lock(gate_);
    arena_.run([&] {
      ws::for_each_group(by_shard, [&](std::size_t shard, std::span<const std::uint32_t> members) {
        ExactLru& lru = shards_[shard];
        for (const std::uint32_t i : members) {
          const CacheBatchCommand& c = batch[i];
          CacheBatchResult& r = replies[i].reply;
          ws::run_guarded(hook_, i, replies[i], [&] {
            switch (c.op) {
              case CacheBatchOp::get:
                if (const CacheValue* v = lru.get(c.key)) r.value = *v;
                break;
              case CacheBatchOp::put: lru.put(c.key, c.value); break;
              case CacheBatchOp::erase: r.erased = lru.erase(c.key); break;
            }
          });
        }
      });
    });
    return replies;
  }

 private:
  static std::size_t shard_count_for(std::size_t capacity) {
    std::size_t n = 1;
    while (n * 2 <= kMaxShards && n * 2 <= capacity) n *= 2;
    return n;
  }
  std::size_t shard_index(std::uint64_t key) const {
    return static_cast<std::size_t>(mix64(key) & (shard_count_ - 1));
  }

  const CacheConfig config_;
  const std::size_t shard_count_;
  Mutex gate_;
  // Owned by the gate's holder and the arena tasks it waits for (see WorkStealingCounter).
  const std::unique_ptr<ExactLru[]> shards_;
  const ws::BatchHook hook_;
  ws::Arena arena_;
};

}  // namespace cp
