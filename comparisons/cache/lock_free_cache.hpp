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
//
// Capacity. size_ counts entries, and only ever late: an insert counts its entry after the CAS
// that put it in its slot, a removal uncounts it before the CAS that takes it out (and counts
// it again if that CAS fails). So size_ never counts an entry that is not in a slot, and no
// thread ever holds a unit of capacity that no entry backs. An increment that takes size_
// above the capacity obliges its thread to run the CLOCK hand until it reads size_ <= C (a
// referenced entry loses its bit, an unreferenced one other than its own new one is evicted).
// Why that bounds the cache: at quiescence size_ equals the entries present; the thread of the
// last increment in size_'s modification order read <= C after it, and only decrements follow.
// Why it is lock-free: a thread that reads size_ > C knows more than C >= 1 entries are in
// slots (size_ never counts ahead), so its hand finds one it can evict within two laps, unless
// other threads' operations keep changing them (they make progress). The cache may hold more
// than C entries for a moment, at most one per thread still making room; size() reports at
// most C.
// (The design used to reserve a unit before its CAS: a put stalled in between held a unit no
// entry backed, and at capacity 1 every other insert spun until it resumed. The suite's
// progress test parks every operation at each of its hook points to catch that.)
// When C >= N the count never exceeds C (it never counts ahead of the entries), so nothing is
// ever evicted and the cache is a linearizable map.
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
      : config_(check(config)), slots_(config.key_space) {}
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
    do {
      Hooks::at(lf::HookPoint::swap_before_cas, fresh);  // tests: the new node is built
      // seq_cst: the hazard-pointer argument needs the unlink in the seq_cst order; it also
      // releases fresh's fields to readers.
    } while (!slot.compare_exchange_weak(cur, fresh, std::memory_order_seq_cst,
                                         std::memory_order_relaxed));
    if (cur != nullptr) {  // an overwrite: the count does not change
      lf::HazardDomain::global().retire(cur);
      return CacheError::ok;
    }
    Hooks::at(lf::HookPoint::cache_inserted, fresh);  // in its slot, not yet counted
    count_in(fresh);
    return CacheError::ok;
  }

  bool erase(std::uint64_t key) {
    if (key >= config_.key_space) return false;
    std::atomic<Node*>& slot = slots_[key];
    Node* cur = slot.load(std::memory_order_seq_cst);  // see put(); compared, not dereferenced
    if (cur == nullptr) return false;
    uncount();  // before the unlink: size_ never counts an entry that is gone
    Hooks::at(lf::HookPoint::cache_uncounted, cur);
    // seq_cst: as in put(). A failure means another put or removal of this key got in first:
    // retry on the new node, or, if it is gone, count back in what we uncounted.
    while (!slot.compare_exchange_weak(cur, nullptr, std::memory_order_seq_cst,
                                       std::memory_order_relaxed))
      if (cur == nullptr) {
        count_in(nullptr);
        return false;
      }
    lf::HazardDomain::global().retire(cur);
    return true;
  }

  // size: exact at quiescence. Meanwhile it lags the entries present by the inserts not yet
  // counted and the removals uncounted but not yet done, and is clamped to 0..capacity (the
  // cache holds more than C entries only while an insert is still evicting).
  std::size_t size() const {
    const std::int64_t n = size_.load(std::memory_order_relaxed);  // a count only
    return static_cast<std::size_t>(
        std::clamp<std::int64_t>(n, 0, static_cast<std::int64_t>(config_.capacity)));
  }
  std::size_t capacity() const { return config_.capacity; }

 private:
  struct alignas(64) Node {
    explicit Node(const CacheValue& v) : value(v) {}
    const CacheValue value;
    mutable std::atomic<bool> referenced{false};  // set by get, cleared by the hand
  };

  // count_in: counts one entry that is in a slot (or gives back what a failed removal
  // uncounted). If that takes size_ above the capacity, this thread makes room: it runs the
  // hand until it reads size_ <= C. It never evicts `own`, its own new entry.
  // Release (an RMW: later ones continue its release sequence): pairs with make_room's acquire
  // load, so a thread that reads this count sees the entry it counts in its slot.
  void count_in(const Node* own) {
    if (size_.fetch_add(1, std::memory_order_release) < static_cast<std::int64_t>(config_.capacity))
      return;
    make_room(own);
  }
  // Relaxed: an uncount only lowers the count; nothing is published by it.
  void uncount() { size_.fetch_sub(1, std::memory_order_relaxed); }

  void make_room(const Node* own) {
    // Acquire: pairs with count_in's release (the entries counted are visible in their slots).
    while (size_.load(std::memory_order_acquire) > static_cast<std::int64_t>(config_.capacity))
      evict_one(own);
  }

  // evict_one: one step of the CLOCK hand: clears a referenced bit, or evicts an unreferenced
  // entry other than `own`.
  void evict_one(const Node* own) {
    // Relaxed: the hand only spreads the steps over the slots.
    const std::uint64_t i = hand_.fetch_add(1, std::memory_order_relaxed) % config_.key_space;
    auto hp = lf::HazardDomain::global().make_hazard_pointer();
    Node* n = hp.protect(slots_[i]);
    if (n == nullptr || n == own) return;
    if (n->referenced.load(std::memory_order_relaxed)) {
      n->referenced.store(false, std::memory_order_relaxed);  // a second chance
      return;
    }
    uncount();  // before the unlink, as in erase()
    Hooks::at(lf::HookPoint::cache_uncounted, n);
    if (!slots_[i].compare_exchange_strong(n, nullptr, std::memory_order_seq_cst,
                                           std::memory_order_relaxed)) {
      // Overwritten or erased meanwhile: count back. Our own loop goes on if that takes the
      // count above the capacity again (make_room reads it next).
      size_.fetch_add(1, std::memory_order_release);  // as in count_in()
      return;
    }
    hp.reset_protection();
    lf::HazardDomain::global().retire(n);
  }

  const CacheConfig config_;
  std::vector<std::atomic<Node*>> slots_;  // one per key
  // Entries counted (see Capacity above): at most the entries in slots, and below 0 for a
  // moment when two erases of one key both uncount before one of them fails.
  std::atomic<std::int64_t> size_{0};
  std::atomic<std::uint64_t> hand_{0};
};
using LockFreeCache = LockFreeCacheT<>;

}  // namespace cp
