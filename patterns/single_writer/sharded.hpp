// sharded.hpp: Sharded<EngineT>, N independent engines, commands routed by key.
//
// One engine uses one core for its state. To use more, split the state by a key that no
// command crosses (a symbol, a tenant, an account), give each part its own engine, and route
// each command to shard mix64(key) % N. Each shard keeps every single-writer guarantee for its
// keys (one order per shard, sequences per shard, exactly-once); there is no order *between*
// shards, and a command touching two keys on two shards is exactly what this cannot do.
//
//   Sharded<E> shards(4, [](std::size_t i) { return std::make_unique<E>(1024); });
//   shards.submit(account_id, cmd, OverloadPolicy::reject);
//   auto reply = shards.call(account_id, query);
//
// Contract: the routing is a pure function of the key (shard_of); any thread may submit/call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "patterns/common/mix64.hpp"
#include "patterns/single_writer/overload.hpp"

namespace cp::sw {

template <class EngineT>
class Sharded {
 public:
  using engine_type = EngineT;
  using command_type = typename EngineT::command_type;
  using reply_type = typename EngineT::reply_type;

  // make(i) returns a std::unique_ptr<EngineT> for shard i (its state, capacity, ...).
  template <class MakeEngine>
    requires std::is_invocable_r_v<std::unique_ptr<EngineT>, MakeEngine&, std::size_t>
  Sharded(std::size_t shards, MakeEngine make) {
    if (shards == 0) throw std::invalid_argument("Sharded: needs at least one shard");
    shards_.reserve(shards);
    for (std::size_t i = 0; i < shards; ++i) shards_.push_back(make(i));
  }

  // Every shard with a default State and the given ring capacity.
  Sharded(std::size_t shards, std::size_t capacity_per_shard)
      : Sharded(shards, [capacity_per_shard](std::size_t) {
          return std::make_unique<EngineT>(capacity_per_shard);
        }) {}

  std::size_t shard_of(std::uint64_t key) const { return cp::mix64(key) % shards_.size(); }

  SubmitStatus submit(std::uint64_t key, command_type command, OverloadPolicy policy) {
    return shards_[shard_of(key)]->submit(std::move(command), policy);
  }
  std::optional<reply_type> call(std::uint64_t key, command_type command) {
    return shards_[shard_of(key)]->call(std::move(command));
  }

  // stop: stops every shard (each drains its accepted commands).
  void stop() {
    for (auto& s : shards_) s->stop();
  }

  std::size_t size() const { return shards_.size(); }
  EngineT& shard(std::size_t i) { return *shards_[i]; }
  const EngineT& shard(std::size_t i) const { return *shards_[i]; }

 private:
  std::vector<std::unique_ptr<EngineT>> shards_;
};

}  // namespace cp::sw
