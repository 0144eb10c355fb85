// thread_slot.hpp: ThreadSlots<N>, a small index per calling thread, exclusive while slots last.
//
//   ThreadSlots<N>::mine() - this thread's {index, exclusive}. The first call from a thread
//                            claims a free slot 0..N-1 (exclusive = true: no other thread gets
//                            that index from this object); once all N are taken, later threads
//                            all get index N, shared (exclusive = false). Never blocks.
//   ThreadSlots<N>::claimed() - how many claims so far: which indexes may be in use.
//
// A slot is kept until the object dies (threads do not give theirs back), so an object that
// sees many short-lived threads ends up shared. Per-thread rows of a sharded counter use it.
// The per-thread cache is keyed by a process-unique object id, never by address, so an object
// allocated where an old one was does not inherit the old one's slots.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace cp::lf {

struct ThreadSlot {
  unsigned index;
  bool exclusive;
};

template <unsigned N>
class ThreadSlots {
 public:
  ThreadSlots() = default;
  ThreadSlots(const ThreadSlots&) = delete;
  ThreadSlots& operator=(const ThreadSlots&) = delete;

  // claimed: how many claims were made so far (indexes 0..claimed-1 are taken, and index N is
  // shared once claimed > N). Relaxed: a claim happens before every use of its slot, so a
  // reader that must see a use (it happens before the read) sees the claim too.
  unsigned claimed() const { return claimed_.load(std::memory_order_relaxed); }

  ThreadSlot mine() {
    Cache& c = cache();
    for (const auto& e : c.entries)
      if (e.owner == id_) return e.slot;
    const ThreadSlot s = claim();
    c.entries[c.next++ % c.entries.size()] = {id_, s};
    return s;
  }

 private:
  struct Entry {
    std::uint64_t owner = 0;  // 0: empty (ids start at 1)
    ThreadSlot slot{0, false};
  };
  struct Cache {
    std::array<Entry, 4> entries{};  // the last few objects this thread used
    unsigned next = 0;
  };
  static Cache& cache() {
    thread_local Cache c;
    return c;
  }
  static std::uint64_t fresh_id() {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);  // uniqueness only: no ordering
  }

  ThreadSlot claim() {
    // Relaxed: the counter only hands out distinct numbers; a slot's cells are ordered by
    // their own atomics.
    // (Claims past N still count up; 2^32 of them would wrap: not a concern for one object.)
    const unsigned n = claimed_.fetch_add(1, std::memory_order_relaxed);
    return n < N ? ThreadSlot{n, true} : ThreadSlot{N, false};
  }

  const std::uint64_t id_ = fresh_id();
  std::atomic<unsigned> claimed_{0};
};

}  // namespace cp::lf
