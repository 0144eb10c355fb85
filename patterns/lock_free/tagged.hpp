// tagged.hpp: a version tag beside the top pointer against ABA; popped nodes are recycled.
//
//   TaggedPtr     - a node pointer and a 16-bit version packed into one 64-bit word.
//   TaggedRecycle - the Treiber stack's policy: every successful CAS on the top bumps the tag,
//                   so a pop that loaded (A, v) fails if A left and came back (now (A, v+k)).
//                   Popped nodes go to a free list (itself tagged) and are reused by pushes.
//
// Guarantee: no use-after-free (nodes are freed only with the stack) and no ABA unless the
// tag wraps between one pop's load and its CAS: a CAS that comes exactly k x 65,536
// successful CASes after its load, with the same node back on top, succeeds with a stale
// `next`. That window is short. bench/stack/tag_wrap measured 65,536 top CASes in 4.7-6.9 ms
// with 1 thread, 3.4-5.3 ms with 2 and 2.7-3.5 ms with 4 on a loaded 2-core VM (quiet, the
// CASes are faster and the window shorter): about one scheduler time slice. A pop preempted
// between its load and its CAS can see its tag again; it also needs the same node on top and
// an exact multiple, so it is rare, not impossible. Where that matters, use HazardPointers or
// Epochs (no tag to wrap).
// Memory: never returned while the stack lives. The stack holds its high-water mark of nodes
// (allocated(), what unreclaimed() reports). boost::lockfree::stack makes the same choice.
//
// How the CAS is done: one 64-bit word, because x86-64 and AArch64 user addresses fit in 48
// bits (checked at every allocation; a 57-bit address space aborts with a message). A 16-byte
// CAS (pointer + 64-bit tag, cmpxchg16b) would give a wider tag, but GCC sends 16-byte atomics
// through libatomic, whose is_lock_free() answers false, and a 16-byte atomic load is itself a
// CAS that writes the cache line. The static_assert below checks the word is lock-free.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace cp::lf {

template <class Node>
class TaggedPtr {
 public:
  static constexpr int kTagShift = 48;
  static constexpr std::uint64_t kPtrMask = (std::uint64_t{1} << kTagShift) - 1;

  TaggedPtr() = default;
  TaggedPtr(Node* p, std::uint16_t tag)
      : bits_(reinterpret_cast<std::uintptr_t>(p) | (std::uint64_t{tag} << kTagShift)) {}

  Node* ptr() const { return reinterpret_cast<Node*>(bits_ & kPtrMask); }
  std::uint16_t tag() const { return static_cast<std::uint16_t>(bits_ >> kTagShift); }
  TaggedPtr next(Node* p) const { return TaggedPtr(p, static_cast<std::uint16_t>(tag() + 1)); }

  // fits: p can be packed (its address has no bit above bit 47).
  static bool fits(const Node* p) { return (reinterpret_cast<std::uintptr_t>(p) & ~kPtrMask) == 0; }

 private:
  std::uint64_t bits_ = 0;
};

struct TaggedRecycle {
  static constexpr const char* name = "tagged";

  template <class Node>
  class Top {
    using Word = std::atomic<TaggedPtr<Node>>;
    static_assert(sizeof(void*) == 8 && sizeof(TaggedPtr<Node>) == 8);
    static_assert(Word::is_always_lock_free, "the packed top must be a lock-free 64-bit atomic");

   public:
    using Snapshot = TaggedPtr<Node>;
    struct Guard {};

    Top() = default;
    Top(const Top&) = delete;
    Top& operator=(const Top&) = delete;
    ~Top() {  // no other thread: the free list is ours to delete
      for (Node* n = free_.load(std::memory_order_acquire).ptr(); n != nullptr;) {
        Node* next = n->next.load(std::memory_order_relaxed);
        delete n;
        n = next;
      }
    }

    Guard guard() { return {}; }
    // Acquire pairs with the CAS that published the node. A stale node is still our memory
    // (never freed), so reading its `next` is safe; the tag makes the CAS fail.
    Snapshot protect(Guard&) { return top_.load(std::memory_order_acquire); }
    Snapshot load() const { return top_.load(std::memory_order_relaxed); }  // push: no deref
    // compare_exchange (pop): acq_rel, as it was when push shared it (a pop needs only the
    // acquire half; not changed, not measured).
    bool compare_exchange(Snapshot& expected, Node* desired) {
      return top_.compare_exchange_weak(expected, expected.next(desired),
                                        std::memory_order_acq_rel, std::memory_order_relaxed);
    }
    // publish (push): release publishes the node's fields; a push reads nothing of the old top.
    bool publish(Snapshot& expected, Node* desired) {
      return top_.compare_exchange_weak(expected, expected.next(desired),
                                        std::memory_order_release, std::memory_order_relaxed);
    }

    // make: a recycled node if the free list has one, else a new one.
    template <class V>
    Node* make(V&& v) {
      Snapshot seen = free_.load(std::memory_order_acquire);  // pairs with retire()'s release
      while (seen.ptr() != nullptr &&
             !free_.compare_exchange_weak(seen,
                                          seen.next(seen.ptr()->next.load(std::memory_order_relaxed)),
                                          std::memory_order_acquire, std::memory_order_acquire)) {
      }
      if (Node* n = seen.ptr()) {
        n->value = std::forward<V>(v);
        return n;
      }
      Node* n = new Node(std::forward<V>(v));
      if (!Snapshot::fits(n)) {
        std::fprintf(stderr, "TaggedRecycle: node address %p needs more than 48 bits\n",
                     static_cast<void*>(n));
        std::abort();
      }
      allocated_.fetch_add(1, std::memory_order_relaxed);  // statistic only
      return n;
    }
    // retire: onto the free list; the node's memory stays the stack's until it is destroyed.
    void retire(Node* n, Guard&) {
      Snapshot old = free_.load(std::memory_order_relaxed);
      do {
        n->next.store(old.ptr(), std::memory_order_relaxed);  // published by the release CAS
      } while (!free_.compare_exchange_weak(old, old.next(n), std::memory_order_release,
                                            std::memory_order_relaxed));
    }
    void destroy(Node* n) { delete n; }
    // unreclaimed: every node the stack ever allocated (in the stack or on its free list).
    std::size_t unreclaimed() const { return allocated_.load(std::memory_order_relaxed); }

   private:
    Word top_{};
    Word free_{};
    std::atomic<std::size_t> allocated_{0};
  };
};

}  // namespace cp::lf
