// naive.hpp: two reclamation policies that are WRONG on purpose, kept for the bug demos only.
//
//   NaiveDelete  - deletes a popped node at once (the textbook Treiber stack). Another pop
//                  that loaded the same top is still about to read its `next`: a
//                  use-after-free (lessons/06-lock-free/use_after_free.cpp).
//   NaiveRecycle - keeps popped nodes in a free list and reuses them, with no version tag. A
//                  pop that loaded top A and next B succeeds with its CAS if A is back on top,
//                  even when B is long gone: ABA (lessons/06-lock-free/aba.cpp).
//
// Never use either for real work. TaggedRecycle, HazardPointers and Epochs are the cures.
#pragma once

#include <atomic>
#include <cstddef>
#include <utility>

namespace cp::lf {

struct NaiveDelete {
  static constexpr const char* name = "naive";

  template <class Node>
  class Top {
   public:
    struct Snapshot {
      Node* p;
      Node* ptr() const { return p; }
    };
    struct Guard {};
    static_assert(std::atomic<Node*>::is_always_lock_free);

    Guard guard() { return {}; }
    // Acquire pairs with the CAS that published the node: its fields are visible. Nothing
    // keeps the node alive, which is the bug.
    Snapshot protect(Guard&) { return {top_.load(std::memory_order_acquire)}; }
    Snapshot load() const { return {top_.load(std::memory_order_relaxed)}; }
    // acq_rel: release publishes a pushed node's fields; acquire is the pop's view of them.
    bool compare_exchange(Snapshot& expected, Node* desired) {
      return top_.compare_exchange_weak(expected.p, desired, std::memory_order_acq_rel,
                                        std::memory_order_relaxed);
    }
    bool publish(Snapshot& expected, Node* desired) { return compare_exchange(expected, desired); }
    template <class V>
    Node* make(V&& v) { return new Node(std::forward<V>(v)); }
    void retire(Node* n, Guard&) { delete n; }  // THE BUG: another pop may still read n->next
    void destroy(Node* n) { delete n; }
    std::size_t unreclaimed() const { return 0; }

   private:
    std::atomic<Node*> top_{nullptr};
  };
};

struct NaiveRecycle {
  static constexpr const char* name = "naive-recycle";

  template <class Node>
  class Top {
   public:
    struct Snapshot {
      Node* p;
      Node* ptr() const { return p; }
    };
    struct Guard {};
    static_assert(std::atomic<Node*>::is_always_lock_free);

    Top() = default;
    Top(const Top&) = delete;
    Top& operator=(const Top&) = delete;
    ~Top() {
      for (Node* n = free_.load(std::memory_order_acquire); n != nullptr;) {
        Node* next = n->next.load(std::memory_order_relaxed);
        delete n;
        n = next;
      }
    }

    Guard guard() { return {}; }
    Snapshot protect(Guard&) { return {top_.load(std::memory_order_acquire)}; }  // see NaiveDelete
    Snapshot load() const { return {top_.load(std::memory_order_relaxed)}; }
    bool compare_exchange(Snapshot& expected, Node* desired) {  // THE BUG: no version to compare
      return top_.compare_exchange_weak(expected.p, desired, std::memory_order_acq_rel,
                                        std::memory_order_relaxed);
    }
    bool publish(Snapshot& expected, Node* desired) { return compare_exchange(expected, desired); }
    // make: a node from the free list (LIFO), else a new one. The free list is itself an
    // untagged Treiber stack, as ABA-prone as the main one.
    template <class V>
    Node* make(V&& v) {
      Node* n = free_.load(std::memory_order_acquire);  // pairs with retire()'s release CAS
      while (n != nullptr &&
             !free_.compare_exchange_weak(n, n->next.load(std::memory_order_relaxed),
                                          std::memory_order_acquire, std::memory_order_acquire)) {
      }
      if (n == nullptr) return new Node(std::forward<V>(v));
      n->value = std::forward<V>(v);
      return n;
    }
    void retire(Node* n, Guard&) {
      Node* old = free_.load(std::memory_order_relaxed);
      do {
        n->next.store(old, std::memory_order_relaxed);  // published by the release CAS
      } while (!free_.compare_exchange_weak(old, n, std::memory_order_release,
                                            std::memory_order_relaxed));
    }
    void destroy(Node* n) { delete n; }
    std::size_t unreclaimed() const { return 0; }

   private:
    std::atomic<Node*> top_{nullptr};
    std::atomic<Node*> free_{nullptr};
  };
};

}  // namespace cp::lf
