// lock_free_cache.hpp: the cache workload with no lock (family lock_free).
//
//   LockFreeCache ("lock-free") - one atomic pointer per key to an immutable node {value,
//                 referenced bit}. get protects the node with a hazard pointer
//                 (patterns/lock_free/hazard_pointers.hpp) and copies the value; put swaps in a
//                 new node by CAS and retires the old one; erase swaps in null.
//
// Guarantee: lock-free; each key's slot is one atomic, so get/put/erase of a key are
// linearizable, with or without eviction. A get writes only its own hazard slot and, the first
// time after the hand cleared it, the node's referenced bit. A get can never see a torn value:
// nodes are never written after they are published.
// Capacity, when C < N: size_ counts entries plus insertions in flight and never exceeds the
// capacity (it is raised only by CAS below it). An insert that finds the cache full runs the
// CLOCK hand itself: over the key slots, a referenced entry loses its bit, an unreferenced one
// is evicted and its unit of size passes to the inserter. Two racing inserts of one key both
// take a unit and the loser gives it back, so the hand may evict one entry more than needed.
// When C >= N the cache never evicts: every key fits, and the reservation above would let
// such a race evict an entry the map must keep (the linearizability checker found it). size_
// then counts completed inserts minus completed erases: exact at quiescence, off by the
// operations in flight meanwhile, and size() clamps it to 0..N, the range the real count
// cannot leave.
// When not to use: the table is indexed by key, so it needs memory for the whole key space
// (the contract's keys are 0..N-1; 8 bytes per key). Sparse keys need an open-addressing table.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "comparisons/cache/contract.hpp"
#include "patterns/lock_free/hazard_pointers.hpp"
#include "patterns/lock_free/hooks.hpp"

namespace cp {

template <class Hooks = lf::NoHooks>
class LockFreeCacheT {
 public:
  static constexpr DesignTraits traits{
      .name = "lock-free",
      .family = Family::lock_free,
      .thread_safe = true,
      .linearizable_reads = true,  // one atomic slot per key
      .lock_free = true,
      .waiting = Waiting::never,
      .eviction = "CLOCK over the key slots (second chance)",
  };
  template <class H>
  using with_hooks = LockFreeCacheT<H>;  // the progress test parks a thread inside put()

  explicit LockFreeCacheT(CacheConfig config)
      : config_(check(config)),
        evicts_(config.capacity < config.key_space),
        slots_(config.key_space) {}
  LockFreeCacheT(const LockFreeCacheT&) = delete;
  LockFreeCacheT& operator=(const LockFreeCacheT&) = delete;
  ~LockFreeCacheT() {  // no other thread: delete what the slots hold
    for (auto& s : slots_) delete s.load(std::memory_order_relaxed);
  }

  std::optional<CacheValue> get(std::uint64_t key) {
    if (key >= config_.key_space) return std::nullopt;
    auto hp = lf::HazardDomain::global().make_hazard_pointer();
    const Node* n = hp.protect(slots_[key]);  // acquire: the node's fields as published
    if (n == nullptr) return std::nullopt;
    // Relaxed: the bit is a hint for the hand, ordered by nothing else. Written only when it
    // changes, so repeated gets of a hot key do not keep writing its line.
    if (!n->referenced.load(std::memory_order_relaxed))
      n->referenced.store(true, std::memory_order_relaxed);
    return n->value;  // safe: n cannot be freed while hp protects it
  }

  CacheError put(std::uint64_t key, const CacheValue& value) {
    if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
    Node* fresh = new Node(value);
    std::atomic<Node*>& slot = slots_[key];
    Node* cur = slot.load(std::memory_order_relaxed);  // compared, never dereferenced
    for (;;) {
      Hooks::at(lf::HookPoint::swap_before_cas, fresh);  // tests: the new node is built
      if (cur != nullptr) {  // overwrite: the size does not change
        // seq_cst: the hazard-pointer argument needs the unlink in the seq_cst order; it
        // also releases fresh's fields to readers.
        if (slot.compare_exchange_weak(cur, fresh, std::memory_order_seq_cst,
                                       std::memory_order_relaxed)) {
          lf::HazardDomain::global().retire(cur);
          return CacheError::ok;
        }
        continue;
      }
      if (evicts_) reserve_unit();  // a unit of size for the new entry (evicts if full)
      Node* expected = nullptr;
      if (slot.compare_exchange_strong(expected, fresh, std::memory_order_seq_cst,
                                       std::memory_order_relaxed)) {
        if (!evicts_) size_.fetch_add(1, std::memory_order_relaxed);  // counted once inserted
        return CacheError::ok;
      }
      if (evicts_) size_.fetch_sub(1, std::memory_order_relaxed);  // another put won: give back
      cur = expected;
    }
  }

  bool erase(std::uint64_t key) {
    if (key >= config_.key_space) return false;
    Node* old = slots_[key].exchange(nullptr, std::memory_order_seq_cst);  // see put()
    if (old == nullptr) return false;
    size_.fetch_sub(1, std::memory_order_relaxed);
    lf::HazardDomain::global().retire(old);
    return true;
  }

  // size: exact at quiescence, never above capacity (see Capacity above).
  std::size_t size() const {
    const std::int64_t n = size_.load(std::memory_order_relaxed);
    if (evicts_) return static_cast<std::size_t>(n);  // never below 0: units are paid first
    return static_cast<std::size_t>(std::clamp<std::int64_t>(
        n, 0, static_cast<std::int64_t>(config_.key_space)));
  }
  std::size_t capacity() const { return config_.capacity; }

 private:
  struct alignas(64) Node {
    explicit Node(const CacheValue& v) : value(v) {}
    const CacheValue value;
    mutable std::atomic<bool> referenced{false};  // set by get, cleared by the hand
  };

  // reserve_unit: raises size_ by one below the capacity, or takes over an evicted entry's
  // unit. Relaxed: size_ is only a count; the slots' own atomics order the entries.
  void reserve_unit() {
    std::int64_t s = size_.load(std::memory_order_relaxed);
    for (;;) {
      if (s < static_cast<std::int64_t>(config_.capacity)) {
        if (size_.compare_exchange_weak(s, s + 1, std::memory_order_relaxed)) return;
        continue;
      }
      if (evict_one()) return;
      s = size_.load(std::memory_order_relaxed);
    }
  }

  // evict_one: one step of the CLOCK hand. True if it evicted an entry (its unit is ours).
  bool evict_one() {
    // Relaxed: the hand only spreads the steps over the slots.
    const std::uint64_t i = hand_.fetch_add(1, std::memory_order_relaxed) % config_.key_space;
    auto hp = lf::HazardDomain::global().make_hazard_pointer();
    Node* n = hp.protect(slots_[i]);
    if (n == nullptr) return false;
    if (n->referenced.load(std::memory_order_relaxed)) {
      n->referenced.store(false, std::memory_order_relaxed);  // a second chance
      return false;
    }
    if (!slots_[i].compare_exchange_strong(n, nullptr, std::memory_order_seq_cst,
                                           std::memory_order_relaxed))
      return false;  // overwritten or erased meanwhile
    hp.reset_protection();
    lf::HazardDomain::global().retire(n);
    return true;
  }

  const CacheConfig config_;
  const bool evicts_;  // C < N
  std::vector<std::atomic<Node*>> slots_;  // one per key
  std::atomic<std::int64_t> size_{0};  // may dip below 0 for a moment when C >= N
  std::atomic<std::uint64_t> hand_{0};
};
using LockFreeCache = LockFreeCacheT<>;

}  // namespace cp
