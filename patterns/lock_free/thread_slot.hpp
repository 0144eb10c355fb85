// thread_slot.hpp: ThreadSlots<N>, a small index per calling thread, exclusive while slots last.
//
//   ThreadSlots<N>::mine() - this thread's {index, exclusive}. The first call from a thread
//                            claims a free slot 0..N-1 (exclusive = true: no other thread gets
//                            that index from this object); once all N are taken, later threads
//                            all get index N, shared (exclusive = false). Never blocks.
//   ThreadSlots<N>::claimed() - which indexes may be in use (0..claimed-1).
//
// A slot is kept until the object dies (threads do not give theirs back), so an object that
// sees many short-lived threads ends up shared. Per-thread rows of a sharded counter use it.
//
// Where a thread's slot is found. The object keeps a registry: one owner cell per slot,
// holding the token of the thread that claimed it (a process-unique number, never reused).
// A thread finds its slot by reading those N cells, and claims only if its token is in none
// of them, so it claims at most once per object however many objects it uses. In front of
// the registry, a thread-local cache remembers the last few objects this thread used (keyed
// by a process-unique object id, never by address, so an object allocated where an old one
// was cannot inherit its entries); a miss costs N relaxed loads of lines that are written only
// by claims, never a claim. Claims per object are therefore at most N, and the counts cannot
// wrap.
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

  // claimed: indexes 0..claimed-1 may be in use (claimed = N + 1 once a thread was given the
  // shared index N). Relaxed: a thread publishes its claim (below) before it uses the slot,
  // so a reader that must see a use (the use happens before the read) sees the claim too.
  unsigned claimed() const {
    return shared_used_.load(std::memory_order_relaxed) ? N + 1
                                                        : claimed_.load(std::memory_order_relaxed);
  }

  ThreadSlot mine() {
    Cache& c = cache();
    for (const auto& e : c.entries)
      if (e.owner == id_) return e.slot;
    const ThreadSlot s = find_or_claim();
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
  static std::uint64_t thread_token() {
    thread_local const std::uint64_t token = fresh_id();  // the same counter: never 0
    return token;
  }

  // find_or_claim: the calling thread's slot from the registry, claimed if it has none.
  // Owner cells are taken in index order and never freed, so the taken ones are a prefix:
  // a thread reads them up to the first free one, and claims that one if its token was not
  // among them.
  ThreadSlot find_or_claim() {
    const std::uint64_t me = thread_token();
    for (unsigned i = 0; i < N; ++i) {
      // Relaxed: the cell's value is only compared with our own token; no data rides on it.
      std::uint64_t owner = owners_[i].load(std::memory_order_relaxed);
      if (owner == 0 &&
          owners_[i].compare_exchange_strong(owner, me, std::memory_order_relaxed,
                                             std::memory_order_relaxed)) {
        publish_claim(i + 1);
        return {i, true};
      }
      if (owner == me) return {i, true};  // (on a lost CAS, owner is the winner's token)
    }
    // All N taken by other threads: the shared row. Set before this thread's first use.
    if (!shared_used_.load(std::memory_order_relaxed))
      shared_used_.store(true, std::memory_order_relaxed);  // see claimed()
    return {N, false};
  }

  // publish_claim: claimed_ becomes at least n. A maximum, not a count: two threads that
  // claim cells 0 and 1 may get here in either order, and a reader after the second's use
  // must cover both rows. Relaxed: see claimed().
  void publish_claim(unsigned n) {
    unsigned c = claimed_.load(std::memory_order_relaxed);
    while (c < n &&
           !claimed_.compare_exchange_weak(c, n, std::memory_order_relaxed,
                                           std::memory_order_relaxed)) {
    }
  }

  const std::uint64_t id_ = fresh_id();
  std::array<std::atomic<std::uint64_t>, N> owners_{};  // 0: free, else the owner's token
  std::atomic<unsigned> claimed_{0};                     // at most N
  std::atomic<bool> shared_used_{false};
};

}  // namespace cp::lf
