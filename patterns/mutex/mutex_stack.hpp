// mutex_stack.hpp: MutexStack<T>, a std::vector behind one Mutex: the baseline beside the
// lock-free Treiber stack (patterns/lock_free/treiber_stack.hpp), with the same interface.
//
// Guarantee: linearizable, simple, and often as fast as the Treiber stack on few cores (both
// serialise on one cache line). Not lock-free: a thread stalled while holding the lock stops
// every other push and pop (the progress test parks one inside the critical section).
// Hooks: as the Treiber stack's (NoHooks by default); its hook point sits inside the lock.
#pragma once

#include <absl/base/thread_annotations.h>

#include <optional>
#include <utility>
#include <vector>

#include "patterns/lock_free/hooks.hpp"
#include "patterns/mutex/mutex.hpp"

namespace cp {

template <class T, class Hooks = lf::NoHooks>
class MutexStack {
 public:
  // push: blocks while another thread holds the lock.
  void push(T value) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    Hooks::at(lf::HookPoint::push_before_cas, nullptr);  // a stall here holds the lock
    items_.push_back(std::move(value));
  }

  // try_pop: the top value or nothing; blocks while another thread holds the lock.
  std::optional<T> try_pop() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    Hooks::at(lf::HookPoint::pop_before_cas, nullptr);
    if (items_.empty()) return std::nullopt;
    T v = std::move(items_.back());
    items_.pop_back();
    return v;
  }

 private:
  Mutex mu_;
  std::vector<T> items_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cp
