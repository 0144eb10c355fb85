// hazard_pointers.hpp: our own hazard pointers (Michael 2004), with a P2530-shaped interface.
//
//   HazardDomain                - every thread's slots and retired lists; one per process
//                                 (HazardDomain::global()), like P2530's default domain.
//   HazardDomain::HazardPointer - owns one of this thread's slots. protect(src) loads src and
//                                 publishes it, so the object cannot be freed until
//                                 reset_protection() or the HazardPointer dies.
//   HazardDomain::retire(p)     - p is unlinked; delete it once no slot holds it.
//
// Guarantee: a retired object is deleted only after no slot published it before the scan.
// Memory is bounded: each thread's retired list is scanned when it reaches
// scan_threshold() = kScanBase + 2 x (all slots), and a scan keeps only protected objects,
// so never more than records x threshold objects wait (records = threads that ever used it).
// When not to use: data that readers only traverse briefly and writers rarely retire is
// cheaper with epochs (no store + seq_cst re-load per pointer read); see
// lessons/06-lock-free/README.md.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "patterns/lock_free/thread_records.hpp"

namespace cp::lf {

class HazardDomain {
 public:
  static constexpr unsigned kSlotsPerThread = 4;
  static constexpr std::size_t kScanBase = 64;

  static HazardDomain& global() {
    static HazardDomain domain;
    return domain;
  }

  class HazardPointer;
  // make_hazard_pointer: takes one of this thread's kSlotsPerThread slots (throws if all taken).
  HazardPointer make_hazard_pointer();

  // Deleter: runs once per retired object, on whichever thread scans. It must not throw (the
  // type says so, as P2530 requires): a scan is not left half done. It may retire other
  // objects and call back into the structure (see scan()).
  using Deleter = void (*)(void*) noexcept;

  // retire: p is unreachable for new readers; it is deleted by `deleter` once unprotected.
  void retire(void* p, Deleter deleter) {
    Record& r = mine();
    r.retired.push_back({p, deleter});
    r.unreclaimed.store(r.retired.size(), std::memory_order_relaxed);  // statistic only
    if (r.retired.size() >= scan_threshold()) scan(r);
  }
  template <class T>
  void retire(T* p) {
    static_assert(std::is_nothrow_destructible_v<T>, "a deleter must not throw");
    retire(p, [](void* q) noexcept { delete static_cast<T*>(q); });
  }

  // collect: scan the calling thread's retired list now (frees what no slot protects).
  void collect() { scan(mine()); }

  // unreclaimed: retired objects not yet deleted, over all threads (a sum of per-thread
  // counts read one after another: exact when no thread retires meanwhile).
  std::size_t unreclaimed() const {
    std::size_t n = 0;
    for (const Record* r = records_.first(); r != nullptr; r = r->next)
      n += r->unreclaimed.load(std::memory_order_relaxed);  // statistic only
    return n;
  }
  std::size_t scan_threshold() const { return kScanBase + 2 * kSlotsPerThread * records_.count(); }
  std::size_t record_count() const { return records_.count(); }
  // The most objects that can wait for reclamation with the records that exist now.
  std::size_t unreclaimed_bound() const { return record_count() * scan_threshold(); }

 private:
  struct Retired {
    void* p;
    Deleter deleter;
  };
  struct alignas(64) Record {
    std::array<std::atomic<const void*>, kSlotsPerThread> slots{};  // read by every scan
    std::atomic<bool> in_use{false};
    Record* next = nullptr;
    std::atomic<std::size_t> unreclaimed{0};  // written by the owner only
    // Owned by the thread that claimed the record:
    unsigned free_slots = (1u << kSlotsPerThread) - 1;
    bool scanning = false;  // a scan of this record is running its deleters
    std::vector<Retired> retired;
  };

  // The calling thread's record, claimed on first use and given back at thread exit.
  struct ThreadHandle {
    HazardDomain* domain = nullptr;
    Record* record = nullptr;
    ~ThreadHandle() {
      if (record == nullptr) return;
      domain->scan(*record);  // what is still protected stays listed for the next owner
      domain->records_.give_back(record);
    }
  };

  HazardDomain() = default;
  ~HazardDomain() {  // at exit, every thread has finished: nothing is protected any more
    // A deleter may retire more (into any record): repeat until every list is empty.
    for (bool more = true; more;) {
      more = false;
      for (Record* r = records_.first(); r != nullptr; r = r->next) {
        std::vector<Retired> all;
        all.swap(r->retired);
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

  // scan: delete every retired object of r that no slot of any thread holds.
  //
  // Re-entrant: a deleter may retire (a node whose destructor retires its children) or use
  // the structure again. So the scan first takes the unprotected objects out of r.retired
  // and sets the count, and only then runs their deleters: a nested retire appends to a list
  // no loop is reading. A nested retire does not scan again (r.scanning); instead this scan
  // repeats while the list is at the threshold, which keeps the bound of the top.
  void scan(Record& r) {
    if (r.scanning) return;
    r.scanning = true;
    struct Done {
      bool& flag;
      ~Done() { flag = false; }
    } done{r.scanning};
    do {
      std::vector<Retired> ready = take_unprotected(r);
      for (const Retired& x : ready) x.deleter(x.p);  // may append to r.retired
    } while (r.retired.size() >= scan_threshold());
  }

  // take_unprotected: removes from r.retired, and returns, the objects no slot holds now.
  std::vector<Retired> take_unprotected(Record& r) {
    std::vector<const void*> protected_now;
    for (const Record* x = records_.first(); x != nullptr; x = x->next)
      for (const auto& slot : x->slots)
        // seq_cst pairs with protect()'s seq_cst store + reload and with the seq_cst CAS that
        // unlinked the object: either this load sees the slot, or the protecting thread's
        // reload sees the object already unlinked and does not use it (see protect()).
        // Its acquire half pairs with reset_protection()'s release (the reader is done with
        // the object before we free it). One seq_cst fence before the loop would replace the
        // seq_cst part, but the loads must still be acquire, and on x86-64 (and AArch64
        // without RCpc) a seq_cst load and an acquire load are the same instruction (a
        // plain mov here): the fence would add a locked instruction per scan and save
        // nothing. ThreadSanitizer also does not model fences. So: seq_cst loads.
        if (const void* p = slot.load(std::memory_order_seq_cst)) protected_now.push_back(p);
    std::sort(protected_now.begin(), protected_now.end());
    std::vector<Retired> ready;
    std::size_t kept = 0;
    for (const Retired& x : r.retired) {
      if (std::binary_search(protected_now.begin(), protected_now.end(), x.p))
        r.retired[kept++] = x;
      else
        ready.push_back(x);
    }
    r.retired.resize(kept);
    r.unreclaimed.store(kept, std::memory_order_relaxed);  // statistic only
    return ready;
  }

  ThreadRecords<Record> records_;
};

class HazardDomain::HazardPointer {
 public:
  HazardPointer(HazardPointer&& o) noexcept : record_(o.record_), index_(o.index_) {
    o.record_ = nullptr;
  }
  HazardPointer& operator=(HazardPointer&&) = delete;
  HazardPointer(const HazardPointer&) = delete;
  ~HazardPointer() {
    if (record_ == nullptr) return;
    reset_protection();
    record_->free_slots |= 1u << index_;
  }

  // protect: loads src and returns it, published in this slot so it is not freed while held.
  // Loops until the published value is still the one in src (else it may already be retired).
  template <class T>
  T* protect(const std::atomic<T*>& src) noexcept {
    T* p = src.load(std::memory_order_relaxed);  // only a guess: checked below
    for (;;) {
      // seq_cst store, then seq_cst reload: in the single order of seq_cst operations either
      // a scan's load of this slot comes after the store (it sees p and keeps it), or the
      // unlinking CAS came before our reload (then src != p and we retry). Release/acquire
      // alone would let the reload move before the store.
      slot().store(p, std::memory_order_seq_cst);
      T* again = src.load(std::memory_order_seq_cst);
      if (again == p) return p;
      p = again;
    }
  }

  // reset_protection: the object may be freed from now on. Release pairs with scan()'s load:
  // our reads of the object happen before a scan that sees the empty slot frees it.
  void reset_protection() noexcept { slot().store(nullptr, std::memory_order_release); }

 private:
  friend class HazardDomain;
  HazardPointer(Record* r, unsigned i) : record_(r), index_(i) {}
  std::atomic<const void*>& slot() { return record_->slots[index_]; }
  Record* record_;
  unsigned index_;
};

inline HazardDomain::HazardPointer HazardDomain::make_hazard_pointer() {
  Record& r = mine();
  if (r.free_slots == 0) throw std::length_error("all hazard pointer slots of this thread taken");
  const auto i = static_cast<unsigned>(__builtin_ctz(r.free_slots));
  r.free_slots &= ~(1u << i);
  return HazardPointer(&r, i);
}

// HazardPointers: the Treiber stack's reclamation policy over the global hazard domain.
// A pop holds one hazard pointer; a popped node is retired, never reused while protected.
struct HazardPointers {
  static constexpr const char* name = "hazard-pointers";

  template <class Node>
  class Top {
   public:
    struct Snapshot {
      Node* p;
      Node* ptr() const { return p; }
    };
    using Guard = HazardDomain::HazardPointer;
    static_assert(std::atomic<Node*>::is_always_lock_free);

    Guard guard() { return HazardDomain::global().make_hazard_pointer(); }
    Snapshot protect(Guard& g) { return {g.protect(top_)}; }
    Snapshot load() const { return {top_.load(std::memory_order_relaxed)}; }  // push: no deref
    // compare_exchange (pop): seq_cst on success, because protect()'s argument needs the
    // unlink in the seq_cst order (a scan after it sees every slot published before it).
    bool compare_exchange(Snapshot& expected, Node* desired) {
      return top_.compare_exchange_weak(expected.p, desired, std::memory_order_seq_cst,
                                        std::memory_order_relaxed);
    }
    // publish (push): release on success is enough. It unlinks nothing, so protect()'s
    // argument does not involve it; it only has to make the new node's fields visible to
    // the protect() reload (seq_cst, so acquire) or pop CAS that reads it. A protect() that
    // reads a pushed node whose address was freed and reused is still safe: the node's own
    // unlink comes after this CAS in the top's modification order, hence after that reload
    // in the seq_cst order, and its scan sees the slot.
    bool publish(Snapshot& expected, Node* desired) {
      return top_.compare_exchange_weak(expected.p, desired, std::memory_order_release,
                                        std::memory_order_relaxed);
    }
    template <class V>
    Node* make(V&& v) { return new Node(std::forward<V>(v)); }
    void retire(Node* n, Guard& g) {
      g.reset_protection();  // our own slot must not keep n alive
      HazardDomain::global().retire(n);
    }
    void destroy(Node* n) { delete n; }  // teardown: no other thread
    std::size_t unreclaimed() const { return HazardDomain::global().unreclaimed(); }

   private:
    std::atomic<Node*> top_{nullptr};
  };
};

}  // namespace cp::lf
