// lru.hpp (cache): ExactLru, a single-threaded map of at most `capacity` entries that evicts
// the least recently used one. Not thread-safe: the reference uses it alone, MutexCache puts one
// behind a lock, StripedMutexCache puts one in each shard.
//
// Layout: a preallocated slot array (values in one array, links in another) threaded by an
// intrusive doubly linked recency list, plus an absl::flat_hash_map key -> slot index.
//
//     head (most recent) <-> ... <-> tail (least recent, the next victim)
//     free slots: a singly linked stack through `next`
//
// Every operation is O(1) and, after construction, allocates nothing: the slots never move,
// and the hash map is reserved so that, with at most `capacity` entries, it only ever
// rehashes in place (see the constructor).
//
// "Recently used" means get() or put(); erase() removes; peek() looks without touching.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "comparisons/cache/value.hpp"

namespace cp {

class ExactLru {
 public:
  ExactLru() = default;
  explicit ExactLru(std::size_t capacity) { reset(capacity); }

  // reset: empties the map and sets its capacity (0 is allowed: nothing is ever kept).
  void reset(std::size_t capacity) {
    if (capacity >= kNil) throw std::invalid_argument("ExactLru: capacity too large");
    capacity_ = capacity;
    values_.assign(capacity, CacheValue{});
    links_.assign(capacity, Link{});
    index_.clear();
    // absl's raw_hash_set rehashes in place (no allocation) while size <= 25/32 of its
    // capacity; reserving 1.25x keeps `capacity` entries below 0.7 of it. The floor of 32
    // keeps the table out of absl's "small" regime, which always resizes.
    index_.reserve(std::max<std::size_t>(capacity + capacity / 4, 32));
    head_ = tail_ = kNil;
    size_ = 0;
    free_ = kNil;
    for (std::size_t i = capacity; i-- > 0;) push_free(static_cast<std::uint32_t>(i));
  }

  // get: the value, made most recent; nullptr if absent. Valid until the next mutation.
  const CacheValue* get(std::uint64_t key) {
    const auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    move_to_front(it->second);
    return &values_[it->second];
  }

  // peek: the value without changing recency; nullptr if absent.
  const CacheValue* peek(std::uint64_t key) const {
    const auto it = index_.find(key);
    return it == index_.end() ? nullptr : &values_[it->second];
  }

  // put: inserts or overwrites, making the key most recent. When full, evicts the least
  // recent entry first. Returns true if an entry was evicted.
  bool put(std::uint64_t key, const CacheValue& value) {
    if (capacity_ == 0) return false;
    if (const auto it = index_.find(key); it != index_.end()) {
      values_[it->second] = value;
      move_to_front(it->second);
      return false;
    }
    bool evicted = false;
    if (size_ == capacity_) {
      const std::uint32_t victim = tail_;
      index_.erase(links_[victim].key);
      unlink(victim);
      push_free(victim);
      evicted = true;
    }
    const std::uint32_t slot = pop_free();
    values_[slot] = value;
    links_[slot].key = key;
    link_front(slot);
    index_.emplace(key, slot);
    return evicted;
  }

  // erase: removes the key; returns whether it was present.
  bool erase(std::uint64_t key) {
    const auto it = index_.find(key);
    if (it == index_.end()) return false;
    const std::uint32_t slot = it->second;
    index_.erase(it);
    unlink(slot);
    push_free(slot);
    return true;
  }

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }

  // keys_most_recent_first: the recency order, for tests and docs (allocates).
  std::vector<std::uint64_t> keys_most_recent_first() const {
    std::vector<std::uint64_t> keys;
    keys.reserve(size_);
    for (std::uint32_t s = head_; s != kNil; s = links_[s].next) keys.push_back(links_[s].key);
    return keys;
  }

 private:
  static constexpr std::uint32_t kNil = std::numeric_limits<std::uint32_t>::max();

  struct Link {
    std::uint64_t key = 0;
    std::uint32_t prev = kNil;
    std::uint32_t next = kNil;
  };

  void push_free(std::uint32_t slot) {
    links_[slot].next = free_;
    free_ = slot;
  }
  std::uint32_t pop_free() {
    const std::uint32_t slot = free_;
    free_ = links_[slot].next;
    return slot;
  }

  void link_front(std::uint32_t slot) {
    Link& l = links_[slot];
    l.prev = kNil;
    l.next = head_;
    if (head_ != kNil) links_[head_].prev = slot;
    head_ = slot;
    if (tail_ == kNil) tail_ = slot;
    ++size_;
  }

  void unlink(std::uint32_t slot) {
    Link& l = links_[slot];
    if (l.prev != kNil) links_[l.prev].next = l.next; else head_ = l.next;
    if (l.next != kNil) links_[l.next].prev = l.prev; else tail_ = l.prev;
    l.prev = l.next = kNil;
    --size_;
  }

  void move_to_front(std::uint32_t slot) {
    if (slot == head_) return;
    unlink(slot);
    link_front(slot);
  }

  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
  std::uint32_t head_ = kNil, tail_ = kNil, free_ = kNil;
  std::vector<CacheValue> values_;  // slot -> value (one cache line each)
  std::vector<Link> links_;         // slot -> key and recency links
  absl::flat_hash_map<std::uint64_t, std::uint32_t> index_;  // key -> slot
};

}  // namespace cp
