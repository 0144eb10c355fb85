// caf_counter.cpp: CafCounter's CAF side (see caf_counter.hpp).
#include "comparisons/counter/caf_counter.hpp"

#include "comparisons/common/caf_pool.hpp"
#include "comparisons/counter/actor_counter.hpp"

namespace cp {

namespace {
constexpr const char* kWho = "caf counter";
}

struct CafCounter::Actors {
  CafPool<CounterShard> pool;
};

CafCounter::CafCounter(CounterConfig config)
    : keys_(CounterReference::check(config).keys), slot_of_key_(keys_),
      actors_(std::make_unique<Actors>()) {
  // The same placement as ActorCounter: key -> actor by hash, a dense slot inside the actor.
  std::vector<std::uint32_t> slots(ActorCounter::kCounterActors, 0);
  for (std::uint32_t k = 0; k < keys_; ++k) slot_of_key_[k] = slots[ActorCounter::actor_index(k)]++;
  for (const std::uint32_t n : slots)
    actors_->pool.spawn(CounterShard{std::vector<std::int64_t>(n, 0), 0});
}

CafCounter::~CafCounter() = default;

CounterError CafCounter::add(std::uint32_t key, std::int64_t delta) {
  if (key >= keys_) return CounterError::unknown_key;
  return actors_->pool
      .ask(ActorCounter::actor_index(key), {CounterShard::Op::add, slot_of_key_[key], delta}, kWho)
      .error;
}

CounterRead CafCounter::get(std::uint32_t key) {
  if (key >= keys_) return {CounterError::unknown_key, 0};
  return actors_->pool.ask(ActorCounter::actor_index(key),
                           {CounterShard::Op::get, slot_of_key_[key], 0}, kWho);
}

std::int64_t CafCounter::total() {
  std::int64_t sum = 0;
  for (std::size_t a = 0; a < actors_->pool.size(); ++a)
    sum = wrapping_add(sum, actors_->pool.ask(a, {CounterShard::Op::total, 0, 0}, kWho).value);
  return sum;
}

}  // namespace cp
