// epochs.hpp: our own epoch-based reclamation (Fraser 2004; the idea of crossbeam-epoch).
//
//   EpochDomain         - a global epoch, every thread's pinned epoch, per-thread retired bags;
//                         one per process (EpochDomain::global()).
//   EpochDomain::Guard  - pins the calling thread for its lifetime (nestable). While pinned, a
//                         thread may use any node it reaches from the structure.
//   EpochDomain::retire - the node is unlinked; delete it two epochs later.
//
// Guarantee: the global epoch moves from e to e+1 only when every pinned thread is pinned at
// e. A node retired at epoch r is deleted once the epoch reaches r+2: by then every thread
// that was pinned when the node was still reachable has unpinned.
// The cost: reads are cheap (one pin per operation, not one publication per pointer), but
// memory is not bounded. One thread that stays pinned stops the epoch, and every node retired
// meanwhile waits (the test and lessons/06-lock-free/README.md show this growth).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <type_traits>
#include <vector>

#include "patterns/lock_free/thread_records.hpp"

namespace cp::lf {

class EpochDomain {
 public:
  static constexpr std::size_t kCollectEvery = 64;  // retires between two collections

  static EpochDomain& global() {
    static EpochDomain domain;
    return domain;
  }

  class Guard;
  // pin: the calling thread is pinned until the Guard dies (pins nest).
  Guard pin();
  friend class Guard;

  // Deleter: runs once per retired object, on whichever thread collects. It must not throw
  // (the type says so): a collection is not left half done. It may retire other objects and
  // call back into the structure (see free_old()).
  using Deleter = void (*)(void*) noexcept;

  // retire: p is unreachable for threads that pin from now on; deleted two epochs later.
  void retire(void* p, Deleter deleter) {
    Record& r = mine();
    // seq_cst: this load comes after the unlinking CAS in the seq_cst order (see try_advance()).
    r.bag.push_back({p, deleter, epoch_.load(std::memory_order_seq_cst)});
    r.unreclaimed.store(r.bag.size(), std::memory_order_relaxed);  // statistic only
    if (++r.since_collect >= kCollectEvery) {
      try_advance();
      free_old(r);
    }
  }
  template <class T>
  void retire(T* p) {
    static_assert(std::is_nothrow_destructible_v<T>, "a deleter must not throw");
    retire(p, [](void* q) noexcept { delete static_cast<T*>(q); });
  }

  // collect: try to advance the epoch, then free the old enough nodes of the calling thread
  // and of the records no thread holds (bags left behind by threads that exited).
  void collect() {
    try_advance();
    free_old(mine());
    for (Record* r = records_.first(); r != nullptr; r = r->next) {
      bool expected = false;
      // Acquire pairs with give_back()'s release: the bag's last owner's writes are visible.
      if (r->in_use.load(std::memory_order_relaxed) ||
          !r->in_use.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                             std::memory_order_relaxed))
        continue;
      free_old(*r);
      records_.give_back(r);
    }
  }

  std::size_t unreclaimed() const {
    std::size_t n = 0;
    for (const Record* r = records_.first(); r != nullptr; r = r->next)
      n += r->unreclaimed.load(std::memory_order_relaxed);  // statistic only
    return n;
  }
  std::uint64_t epoch() const { return epoch_.load(std::memory_order_relaxed); }  // statistic

  // try_advance: moves the epoch one step if every pinned thread is pinned at the current one.
  //
  // Why seq_cst: a thread T reads a node n (seq_cst load of the top, after its seq_cst pin
  // store), n is unlinked (seq_cst CAS) and retired at epoch r (seq_cst load). For n to be
  // freed the epoch must reach r+2, so some advance r+1 -> r+2 loaded T's state after
  // loading the epoch r+1, i.e. after the retire's load of r in the single seq_cst order, so
  // after T's pin store: it saw T pinned at an epoch <= r and could not advance. With
  // acquire/release only, T's reload of the top could be ordered before its pin store.
  bool try_advance() {
    std::uint64_t e = epoch_.load(std::memory_order_seq_cst);
    for (const Record* r = records_.first(); r != nullptr; r = r->next) {
      const std::uint64_t s = r->state.load(std::memory_order_seq_cst);  // pairs with pin()
      if ((s & 1) != 0 && (s >> 1) != e) return false;  // pinned in an older epoch
    }
    return epoch_.compare_exchange_strong(e, e + 1, std::memory_order_seq_cst);
  }

 private:
  struct Retired {
    void* p;
    Deleter deleter;
    std::uint64_t epoch;
  };
  struct alignas(64) Record {
    std::atomic<std::uint64_t> state{0};  // (pinned epoch << 1) | 1 while pinned, else 0
    std::atomic<bool> in_use{false};
    Record* next = nullptr;
    std::atomic<std::size_t> unreclaimed{0};  // written by the owner only
    // Owned by the thread that claimed the record:
    unsigned depth = 0;  // nested pins
    std::size_t since_collect = 0;
    bool freeing = false;  // free_old() is running this record's deleters
    // Oldest first: a thread retires in epoch order, so a collection frees a prefix and
    // stops at the first node too young. While the epoch is stuck it costs O(1), not O(bag).
    std::deque<Retired> bag;
  };
  struct ThreadHandle {
    EpochDomain* domain = nullptr;
    Record* record = nullptr;
    ~ThreadHandle() {
      if (record == nullptr) return;
      domain->try_advance();
      domain->free_old(*record);  // what is still too young stays in the bag for the next owner
      domain->records_.give_back(record);
    }
  };

  EpochDomain() = default;
  ~EpochDomain() {  // at exit, no thread is pinned any more
    // A deleter may retire more (into any record): repeat until every bag is empty.
    for (bool more = true; more;) {
      more = false;
      for (Record* r = records_.first(); r != nullptr; r = r->next) {
        std::deque<Retired> all;
        all.swap(r->bag);
        more = more || !all.empty();
        for (const Retired& x : all) x.deleter(x.p);
      }
    }
  }

  // mine: the calling thread's record. One thread-local handle per thread, not per domain:
  // right because global() is the only domain (the constructor is private).
  Record& mine() {
    thread_local ThreadHandle handle;
    if (handle.record == nullptr) {
      handle.domain = this;
      handle.record = records_.claim();
    }
    return *handle.record;
  }

  void pin(Record& r) {
    if (r.depth++ > 0) return;
    const std::uint64_t e = epoch_.load(std::memory_order_seq_cst);
    r.state.store((e << 1) | 1, std::memory_order_seq_cst);  // see try_advance()
  }
  void unpin(Record& r) {
    if (--r.depth > 0) return;
    // Release pairs with try_advance()'s load: our reads of nodes happen before an advance
    // that sees us unpinned, hence before the node is freed.
    r.state.store(0, std::memory_order_release);
  }

  // free_old: delete r's nodes retired at least two epochs ago (a prefix of the bag).
  //
  // Re-entrant: a deleter may retire (a node whose destructor retires its children) or use
  // the structure again. So the ready prefix is taken out of the bag and the counters are
  // reset first, and only then are the deleters run: a nested retire appends to a bag no
  // loop is reading, and its own collection (since_collect reaching kCollectEvery) returns
  // at once instead of freeing this prefix a second time. What it retired is freed later.
  void free_old(Record& r) {
    if (r.freeing) return;
    r.freeing = true;
    struct Done {
      bool& flag;
      ~Done() { flag = false; }
    } done{r.freeing};
    // Acquire, not seq_cst: the load takes no part in the seq_cst argument of try_advance()
    // (that one is about the retire's epoch load and the pins). Reading an epoch >= r + 2
    // synchronises with the CAS that wrote it, or an earlier advance whose release sequence
    // it continues; each advance loaded every pinned state first (acquire, pairing with
    // unpin()'s release). So every read of a node by a thread pinned when it was reachable
    // happens before the deleter runs.
    const std::uint64_t now = epoch_.load(std::memory_order_acquire);
    std::vector<Retired> ready;
    while (!r.bag.empty() && r.bag.front().epoch + 2 <= now) {
      ready.push_back(r.bag.front());
      r.bag.pop_front();
    }
    r.since_collect = 0;
    r.unreclaimed.store(r.bag.size(), std::memory_order_relaxed);  // statistic only
    for (const Retired& x : ready) x.deleter(x.p);  // may append to r.bag
  }

  std::atomic<std::uint64_t> epoch_{0};
  ThreadRecords<Record> records_;
};

class EpochDomain::Guard {
 public:
  explicit Guard(EpochDomain& d) : domain_(&d), record_(&d.mine()) { domain_->pin(*record_); }
  Guard(Guard&& o) noexcept : domain_(o.domain_), record_(o.record_) { o.record_ = nullptr; }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  Guard& operator=(Guard&&) = delete;
  ~Guard() {
    if (record_ != nullptr) domain_->unpin(*record_);
  }

 private:
  EpochDomain* domain_;
  Record* record_;
};

inline EpochDomain::Guard EpochDomain::pin() { return Guard(*this); }

// Epochs: the Treiber stack's reclamation policy over the global epoch domain. A pop pins;
// a popped node is retired and deleted two epochs later.
struct Epochs {
  static constexpr const char* name = "epochs";

  template <class Node>
  class Top {
   public:
    struct Snapshot {
      Node* p;
      Node* ptr() const { return p; }
    };
    using Guard = EpochDomain::Guard;
    static_assert(std::atomic<Node*>::is_always_lock_free);

    Guard guard() { return EpochDomain::global().pin(); }
    // seq_cst: must not move before the pin store (see EpochDomain::try_advance()).
    Snapshot protect(Guard&) { return {top_.load(std::memory_order_seq_cst)}; }
    Snapshot load() const { return {top_.load(std::memory_order_relaxed)}; }  // push: no deref
    // compare_exchange (pop): seq_cst on success: the unlink must be in the seq_cst order
    // before the retire's epoch load (try_advance()'s argument).
    bool compare_exchange(Snapshot& expected, Node* desired) {
      return top_.compare_exchange_weak(expected.p, desired, std::memory_order_seq_cst,
                                        std::memory_order_relaxed);
    }
    // publish (push): release on success is enough: a push unlinks nothing, so it has no
    // part in try_advance()'s argument; it only releases the new node's fields to the
    // protect() load (seq_cst, so acquire) or pop CAS that reads it.
    bool publish(Snapshot& expected, Node* desired) {
      return top_.compare_exchange_weak(expected.p, desired, std::memory_order_release,
                                        std::memory_order_relaxed);
    }
    template <class V>
    Node* make(V&& v) { return new Node(std::forward<V>(v)); }
    void retire(Node* n, Guard&) { EpochDomain::global().retire(n); }
    void destroy(Node* n) { delete n; }  // teardown: no other thread
    std::size_t unreclaimed() const { return EpochDomain::global().unreclaimed(); }

   private:
    std::atomic<Node*> top_{nullptr};
  };
};

}  // namespace cp::lf
