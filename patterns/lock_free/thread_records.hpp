// thread_records.hpp: one record per live thread, found without a lock (for reclamation domains).
//
//   ThreadRecords<R> - a grow-only, lock-free list of records of type R. A thread claims a free
//                      record (CAS on `in_use`) the first time it needs one and gives it back when
//                      it exits; a later thread reuses it. Records are freed only with the list.
//
// Hazard pointers and epochs both need "every thread's slot, readable by any thread": this is
// that, and nothing else. Scanning threads walk the whole list, claimed or not (an unclaimed
// record's slots are empty). The list never shrinks, so a walk needs no protection itself.
#pragma once

#include <atomic>

namespace cp::lf {

// R must have: std::atomic<bool> in_use; R* next (written once, before publication).
template <class R>
class ThreadRecords {
 public:
  ThreadRecords() = default;
  ThreadRecords(const ThreadRecords&) = delete;
  ThreadRecords& operator=(const ThreadRecords&) = delete;
  ~ThreadRecords() {  // only when no thread uses the list any more
    R* r = head_.load(std::memory_order_acquire);  // pairs with the release CAS in claim()
    while (r != nullptr) {
      R* next = r->next;
      delete r;
      r = next;
    }
  }

  // claim: a record for the calling thread, reused if one is free, else new. Never blocks.
  R* claim() {
    for (R* r = first(); r != nullptr; r = r->next) {
      bool expected = false;
      // Acquire pairs with the release store in give_back(): the previous owner's writes to the
      // record's thread-owned fields (its retired list) are visible to the new owner.
      if (!r->in_use.load(std::memory_order_relaxed) &&
          r->in_use.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                            std::memory_order_relaxed))
        return r;
    }
    R* fresh = new R();
    fresh->in_use.store(true, std::memory_order_relaxed);  // published by the CAS below
    R* old = head_.load(std::memory_order_relaxed);
    do {
      fresh->next = old;
      // Release pairs with the acquire loads in first(): a walker sees the record initialised.
    } while (!head_.compare_exchange_weak(old, fresh, std::memory_order_release,
                                          std::memory_order_relaxed));
    count_.fetch_add(1, std::memory_order_relaxed);  // a statistic: no ordering needed
    return fresh;
  }

  // give_back: the calling thread is done with r (release pairs with claim()'s acquire CAS).
  void give_back(R* r) { r->in_use.store(false, std::memory_order_release); }

  // first: the newest record; follow `next` to walk them all (any thread, any time).
  R* first() const { return head_.load(std::memory_order_acquire); }  // pairs with claim()

  // count: records ever created (claimed or free): the number of threads that may hold slots.
  std::size_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::atomic<R*> head_{nullptr};
  std::atomic<std::size_t> count_{0};
};

}  // namespace cp::lf
