// clock_tickets.hpp (cache): the capacity and CLOCK eviction that the two peer rows put on top
// of a library's concurrent map, which has neither. tbb-hash-map (tbb_cache.hpp) and
// libcds-feldman (libcds_cache.hpp) share it, so the two rows differ only in the map below.
//
//   ClockTickets - a count of taken slots (entries present + inserts in flight), bounded by the
//                  capacity C, and a queue of insertion tickets {key, stamp}, oldest first
//
// In words (the map's side is a `judge` the caller passes; see take_slot):
//   - A put of a new key first takes a slot: a compare-exchange below C, or, when all C are
//     taken, evicts one entry and keeps its slot. The map never holds more entries than slots
//     are taken, so its size is <= C at every instant, not only at quiescence.
//   - Every insertion queues a ticket. An entry carries the stamp of its insertion, so a ticket
//     whose key was erased (or erased and put again: another stamp) is stale.
//   - Evicting pops the oldest ticket: a stale one is dropped; an entry whose referenced bit is
//     set (a get or an overwrite since the hand last passed) gets a second chance: bit
//     cleared, ticket queued again; the first entry with a clear bit is erased. That is CLOCK
//     with the queue's head as the hand: the same victims as rwlock_cache.hpp's ring as long
//     as nothing is erased (after an erase the ring reuses the hole for the next key, the
//     queue puts the next key last).
//   - Concurrent gets may keep setting bits while an evictor sweeps: after C second chances in
//     one eviction it takes the next live entry regardless, so an eviction always ends.
//   - Stale tickets are dropped lazily when popped; a put that finds more than 2C tickets pops
//     until it drops one, so the queue stays near 2C even when nothing is ever evicted.
//
// Waiting: a put that finds every slot held by inserts in flight (or by another evictor's
// ticket) yields until one completes; tbb::concurrent_queue's push and pop spin briefly on a
// page another thread is filling. So a put of a new key into a full cache is not lock-free.
#pragma once

#include <oneapi/tbb/concurrent_queue.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>

namespace cp {

struct ClockTicket {
  std::uint64_t key = 0;
  std::uint64_t stamp = 0;  // the insertion it names; the entry of that insertion has it too
};

// What the map found for a popped ticket (see ClockTickets::take_slot).
enum class ClockVerdict {
  stale,    // no entry with the ticket's stamp: drop the ticket
  spared,   // its bit was set and the judge cleared it: the ticket goes back in the queue
  evicted,  // the judge erased the entry: its slot passes to the caller
  lost,     // the entry went between the look and the erase (a concurrent erase frees a slot)
};

class ClockTickets {
 public:
  explicit ClockTickets(std::size_t capacity) : capacity_(capacity) {}

  // A stamp for a new entry. Relaxed: it only has to be unique (the fetch_add is atomic); it
  // is published with the entry by the map and with the ticket by the queue.
  std::uint64_t next_stamp() { return next_stamp_.fetch_add(1, std::memory_order_relaxed); }

  // take_slot: returns owning one of the C slots, taken free or freed by an eviction.
  // judge(ticket, may_spare) looks the ticket's entry up in the map and returns a ClockVerdict;
  // when may_spare is false it must not spare (it evicts a live entry whatever its bit).
  template <class Judge>
  void take_slot(Judge&& judge) {
    std::size_t taken = slots_.load(std::memory_order_relaxed);  // checked by the CAS below
    for (;;) {
      if (taken < capacity_) {
        // acq_rel on success: acquire pairs with release_slot()'s release, so the map's size
        // decrement that preceded a slot's release comes before our insert's increment (the
        // map's size never exceeds C); release orders our earlier accesses for the next taker.
        if (slots_.compare_exchange_weak(taken, taken + 1, std::memory_order_acq_rel,
                                         std::memory_order_relaxed))
          return;
        continue;
      }
      if (evict_one(judge)) return;  // the victim's slot is ours now
      // Nothing evictable: every slot is an insert in flight or a ticket in another evictor's
      // hands, or an erase took our victim and is about to free its slot. Let them run.
      std::this_thread::yield();
      taken = slots_.load(std::memory_order_relaxed);
    }
  }

  void release_slot() {
    // Release: pairs with take_slot()'s acquire (see there).
    slots_.fetch_sub(1, std::memory_order_release);
  }

  // queue: after an insertion is in the map. is_live(ticket) says whether the ticket's entry is
  // still there (same stamp); it is asked only when the queue holds more than 2C tickets.
  // (Should the push throw std::bad_alloc, the entry stays, counted but never a victim.)
  template <class IsLive>
  void queue(const ClockTicket& ticket, IsLive&& is_live) {
    order_.push(ticket);
    drop_a_stale_ticket_if_too_many(is_live);
  }

  // tickets_queued: stale ones included; for tests. Exact when no other thread runs.
  std::size_t tickets_queued() const { return order_.unsafe_size(); }

 private:
  // evict_one: the sweep. True if the judge erased an entry (whose slot passes to the caller).
  template <class Judge>
  bool evict_one(Judge& judge) {
    std::size_t second_chances = 0;
    ClockTicket t;
    while (order_.try_pop(t)) {
      switch (judge(t, second_chances < capacity_)) {
        case ClockVerdict::stale:
          continue;
        case ClockVerdict::spared:
          order_.push(t);
          ++second_chances;
          continue;
        case ClockVerdict::evicted:
          return true;
        case ClockVerdict::lost:
          return false;  // the erase that won frees a slot: take_slot looks again
      }
    }
    return false;
  }

  // drop_a_stale_ticket_if_too_many: with more than 2C tickets queued at most C are live, so
  // popping at most C + 1 finds a stale one; live ones go back (bits untouched, like a hand
  // passing by). unsafe_size() is approximate under concurrency (atomic loads of head and
  // tail), enough for a threshold.
  template <class IsLive>
  void drop_a_stale_ticket_if_too_many(IsLive& is_live) {
    if (order_.unsafe_size() <= 2 * capacity_) return;
    ClockTicket t;
    for (std::size_t popped = 0; popped <= capacity_ && order_.try_pop(t); ++popped) {
      if (!is_live(t)) return;  // dropped
      order_.push(t);
    }
  }

  const std::size_t capacity_;
  // One line for the two counters every insertion of a new key updates.
  alignas(64) std::atomic<std::size_t> slots_{0};
  std::atomic<std::uint64_t> next_stamp_{1};
  // std::allocator: keeps every allocation visible to the sanitizers' interceptors.
  tbb::concurrent_queue<ClockTicket, std::allocator<ClockTicket>> order_;
};

}  // namespace cp
