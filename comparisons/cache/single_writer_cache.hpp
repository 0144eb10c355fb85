// single_writer_cache.hpp: the cache workload with the single-writer pattern
// (patterns/single_writer).
//
//   CacheCommand, CacheReply, CacheLogEntry, CacheShardLog
//                                - what travels to the owner and back, and the optional
//                                  record of what it applied (a test hook, off by default)
//   CacheShardState              - the owner's state: one ExactLru (lru.hpp), plain
//                                  single-threaded code, exactly the reference's
//   SingleWriterCache            - one engine (one owner thread) owns the whole exact LRU;
//                                  get/put/erase/size are each one call() and the caller waits
//                                  for the owner's reply. Linearizable (one owner, one order),
//                                  and its evictions are exactly the reference's.
//   ShardedSingleWriterCacheT<N> - N engines, key -> shard by hash, each shard an exact LRU
//                                  of its share of the capacity ("sharded LRU"); get/put/erase
//                                  stay linearizable per key; size() sums the shards one after
//                                  another (not one instant's sum; exact at quiescence,
//                                  <= capacity always).
//   ShardedSingleWriterCache     - the registered shape: N = 2.
//
// Why a cache suits the pattern better than a counter: an LRU get is a write (it moves the
// entry to the front), so a lock-based cache serialises reads anyway (see mutex_cache.hpp);
// here that serialisation is the owner's loop, and the LRU's lists and hash map stay in the
// owner's core cache instead of bouncing between cores with a lock.
//
// Bad input is answered on the caller's side, without a round trip: a key outside the key
// space (get -> none, erase -> false, put -> key_out_of_range), a value for another key
// (key_mismatch) or a corrupt one (corrupt_value): validate_put reads only the immutable
// config and the caller's value. The owner validates again (its state must be safe alone).
//
// Waiting, overload, lifecycle: as single_writer_counter.hpp (callers sleep after a short
// spin, a full ring makes a caller wait, the destructor drains and joins; after
// stop_and_take_log() every operation throws sw::EngineStopped: CacheError has no "stopped").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "comparisons/cache/contract.hpp"
#include "comparisons/cache/shard_capacity.hpp"
#include "comparisons/cache/lru.hpp"
#include "comparisons/common/random.hpp"
#include "patterns/single_writer/single_writer.hpp"

namespace cp {

enum class CacheOp : std::uint8_t { get, put, erase, size };

// One command for an owner: the value travels by copy (64 bytes), so a command never points
// into the caller's memory and would stay valid in a fire-and-forget mode too.
struct CacheCommand {
  CacheOp op = CacheOp::get;
  std::uint64_t key = 0;
  CacheValue value{};  // put only
  friend bool operator==(const CacheCommand&, const CacheCommand&) = default;
};

// The owner's reply:
//   get   -> {ok, hit, 0, value if hit}     put  -> {error, false, 0, {}}
//   erase -> {ok, was present, 0, {}}       size -> {ok, false, entries, {}}
struct CacheReply {
  CacheError error = CacheError::ok;
  bool hit = false;
  std::uint64_t size = 0;
  CacheValue value{};
  friend bool operator==(const CacheReply&, const CacheReply&) = default;
};

struct CacheLogEntry {
  std::uint64_t seq = 0;  // the owner's sequence number: the order of effects
  CacheCommand command;
  CacheReply reply;
};

// What one owner applied, and its exact LRU at the end.
struct CacheShardLog {
  std::size_t capacity = 0;                      // this owner's share of the capacity
  std::vector<CacheLogEntry> entries;            // in sequence order, dense from 0
  std::vector<CacheValue> final_most_recent_first;  // the LRU's contents, most recent first
};

struct SingleWriterCacheOptions {
  bool record_log = false;  // test hook: the owner records every (seq, command, reply)
};

// The state one owner thread holds: an exact LRU of `capacity` entries over the whole key
// space. Not thread-safe: only its engine's owner touches it (and the stopper, after the join).
class CacheShardState {
 public:
  CacheShardState(std::uint64_t key_space, std::size_t capacity, bool record_log)
      : key_space_(key_space), lru_(capacity), record_log_(record_log) {}

  // apply: used by the single writer. Never throws (except bad_alloc from the log, a test
  // hook: that ends the program, as the engine cannot answer a call it failed).
  CacheReply apply(const CacheCommand& c, std::uint64_t seq) {
    const CacheReply reply = execute(c);
    if (record_log_) [[unlikely]] log_.entries.push_back({seq, c, reply});  // the one branch
    return reply;
  }

  // take_log: after the owner has been joined. A copy of the log and of the final LRU.
  CacheShardLog take_log() const {
    CacheShardLog out = log_;
    out.capacity = lru_.capacity();
    for (std::uint64_t k : lru_.keys_most_recent_first())
      out.final_most_recent_first.push_back(*lru_.peek(k));
    return out;
  }

 private:
  CacheReply execute(const CacheCommand& c) {
    switch (c.op) {
      case CacheOp::get:
        if (const CacheValue* v = c.key < key_space_ ? lru_.get(c.key) : nullptr)
          return {CacheError::ok, true, 0, *v};
        return {};
      case CacheOp::put: {
        const CacheConfig config{.key_space = key_space_, .capacity = lru_.capacity()};
        if (const CacheError e = validate_put(config, c.key, c.value); e != CacheError::ok)
          return {e, false, 0, {}};
        lru_.put(c.key, c.value);
        return {};
      }
      case CacheOp::erase:
        return {CacheError::ok, c.key < key_space_ && lru_.erase(c.key), 0, {}};
      case CacheOp::size:
        return {CacheError::ok, false, lru_.size(), {}};
    }
    return {};
  }

  std::uint64_t key_space_;
  ExactLru lru_;
  bool record_log_;
  CacheShardLog log_;
};

// The engine the designs use: any number of client threads. SingleWriterCache waits with
// PhasedBackoffWaitStrategy (spin ~10 us, yield until ~100 us, then sleep: a
// round trip to a running owner costs no futex; an idle owner sleeps after 100 us). The sharded
// designs keep BlockingWaitStrategy: with more owners than cores, idle owners must not spin.
// The comparison's --set single-writer.wait knob swaps it (SingleWriterCacheT::with_wait).
template <sw::WaitStrategy Wait>
using CacheEngineT = sw::Engine<CacheShardState, CacheCommand, sw::MultiProducerRing, Wait>;
using CacheEngine = CacheEngineT<sw::BlockingWaitStrategy>;

namespace detail {
inline constexpr std::size_t kCacheRingCapacity = 256;  // power of two (the ring's rule)

inline CacheReply cache_reply_or_throw(std::optional<CacheReply> r) {
  if (!r) throw sw::EngineStopped("single-writer cache");
  return std::move(*r);
}

inline std::optional<CacheValue> cache_get_result(const CacheReply& r) {
  if (!r.hit) return std::nullopt;
  return r.value;
}
}  // namespace detail

template <sw::WaitStrategy Wait>
class SingleWriterCacheT {
 public:
  using wait_strategy = Wait;
  template <sw::WaitStrategy W>
  using with_wait = SingleWriterCacheT<W>;  // the same design, waiting another way

  static constexpr DesignTraits traits{
      .name = "single-writer",
      .family = Family::single_writer,
      .thread_safe = true,
      .linearizable_reads = true,  // one owner applies every command in one order
      .lock_free = false,          // callers wait (sleep) for the owner's reply
      .waiting = sw::kCallerWaiting<Wait>,
      .queue_bound = detail::kCacheRingCapacity,
      .overload = Overload::block,  // a synchronous call waits for ring space
      .owned_threads = 1,
      .eviction = "exact LRU",
  };

  explicit SingleWriterCacheT(CacheConfig config, SingleWriterCacheOptions options = {})
      : config_(check(config)),
        engine_(detail::kCacheRingCapacity,
                CacheShardState(config_.key_space, config_.capacity, options.record_log)) {}

  std::optional<CacheValue> get(std::uint64_t key) {
    if (key >= config_.key_space) return std::nullopt;  // never present: no round trip
    return detail::cache_get_result(
        detail::cache_reply_or_throw(engine_.call({CacheOp::get, key, {}})));
  }

  CacheError put(std::uint64_t key, const CacheValue& value) {
    if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
    return detail::cache_reply_or_throw(engine_.call({CacheOp::put, key, value})).error;
  }

  bool erase(std::uint64_t key) {
    if (key >= config_.key_space) return false;
    return detail::cache_reply_or_throw(engine_.call({CacheOp::erase, key, {}})).hit;
  }

  std::size_t size() {
    return static_cast<std::size_t>(
        detail::cache_reply_or_throw(engine_.call({CacheOp::size, 0, {}})).size);
  }

  std::size_t capacity() const { return config_.capacity; }

  // stop_and_take_log: test hook. Stops the engine (drains, joins) and returns what the owner
  // applied (no entries unless constructed with record_log) and its final LRU. The design
  // answers nothing afterwards (operations throw sw::EngineStopped).
  std::vector<CacheShardLog> stop_and_take_log() {
    engine_.stop();
    return {engine_.state_after_stop().take_log()};
  }

 private:
  const CacheConfig config_;
  CacheEngineT<Wait> engine_;  // last: its owner thread starts once everything else exists
};

using SingleWriterCache = SingleWriterCacheT<sw::PhasedBackoffWaitStrategy>;

// ShardedSingleWriterCacheT<Shards>: key k lives on shard mix64(k) % Shards (the routing of
// sw::Sharded), each shard an exact LRU of its share of the capacity.
//
// The capacity split is StripedMutexCache's (shard_capacities in shard_capacity.hpp: shares
// sum to exactly C, and with C >= N no shard ever evicts). With C < Shards (C = 1 and 2
// shards) one share is 0: that shard keeps nothing (a put is accepted and immediately gone),
// which a cache may do.
//
// Why 2 shards: see ShardedSingleWriterCounterT (2 cores; more owners than cores do not help).
template <unsigned Shards>
class ShardedSingleWriterCacheT {
  static_assert(Shards >= 1);

 public:
  static constexpr DesignTraits traits{
      .name = Shards == 2 ? "single-writer-sharded" : "single-writer-sharded-n",
      .family = Family::single_writer,
      .thread_safe = true,
      // get/put/erase of one key go to one owner: linearizable per key, so the cache is a
      // linearizable map without eviction. size() is a sum over shards read one after
      // another (like mutex-striped's): not one instant's, exact at quiescence.
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = sw::kCallerWaiting<CacheEngine::wait_strategy>,
      .queue_bound = detail::kCacheRingCapacity,  // per shard
      .overload = Overload::block,
      .owned_threads = Shards,
      .eviction = "sharded LRU (per shard exact)",
  };
  static constexpr unsigned kShards = Shards;

  explicit ShardedSingleWriterCacheT(CacheConfig config, SingleWriterCacheOptions options = {})
      : config_(check(config)), shares_(split_capacity(config_)),
        shards_(Shards, [&](std::size_t shard) {
          return std::make_unique<CacheEngine>(
              detail::kCacheRingCapacity,
              CacheShardState(config_.key_space, shares_[shard], options.record_log));
        }) {}

  std::optional<CacheValue> get(std::uint64_t key) {
    if (key >= config_.key_space) return std::nullopt;
    return detail::cache_get_result(
        detail::cache_reply_or_throw(shard(key).call({CacheOp::get, key, {}})));
  }

  CacheError put(std::uint64_t key, const CacheValue& value) {
    if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
    return detail::cache_reply_or_throw(shard(key).call({CacheOp::put, key, value})).error;
  }

  bool erase(std::uint64_t key) {
    if (key >= config_.key_space) return false;
    return detail::cache_reply_or_throw(shard(key).call({CacheOp::erase, key, {}})).hit;
  }

  // size: each shard's size, asked one after another (not one instant's sum while writers
  // run; exact at quiescence; <= capacity always, as each shard is bounded by its share).
  std::size_t size() {
    std::size_t sum = 0;
    for (std::size_t s = 0; s < Shards; ++s)
      sum += static_cast<std::size_t>(
          detail::cache_reply_or_throw(shards_.shard(s).call({CacheOp::size, 0, {}})).size);
    return sum;
  }

  std::size_t capacity() const { return config_.capacity; }
  std::size_t shard_capacity(std::size_t s) const { return shares_.at(s); }

  // shard_index: the shard that owns `key` (the same function as sw::Sharded::shard_of).
  static std::size_t shard_index(std::uint64_t key) { return mix64(key) % Shards; }

  // stop_and_take_log: test hook, as SingleWriterCache's; one log per shard, each in that
  // shard's own sequence order (there is no order between shards).
  std::vector<CacheShardLog> stop_and_take_log() {
    shards_.stop();
    std::vector<CacheShardLog> logs;
    for (std::size_t s = 0; s < Shards; ++s)
      logs.push_back(shards_.shard(s).state_after_stop().take_log());
    return logs;
  }

 private:
  static std::vector<std::size_t> split_capacity(const CacheConfig& config) {
    return shard_capacities(config, Shards, [](std::uint64_t k) { return shard_index(k); });
  }

  CacheEngine& shard(std::uint64_t key) { return shards_.shard(shard_index(key)); }

  const CacheConfig config_;
  const std::vector<std::size_t> shares_;  // per-shard capacity; sums to min(C, N) or C
  sw::Sharded<CacheEngine> shards_;        // last: the owners start once the rest exists
};

using ShardedSingleWriterCache = ShardedSingleWriterCacheT<2>;

}  // namespace cp
