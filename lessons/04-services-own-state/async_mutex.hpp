// async_mutex.hpp: AsyncMutex, a lock that tasks of one executor may hold across co_await.
//
//   AsyncMutex        - co_await mu.lock() returns a Guard once this task owns the mutex. A
//                       task that finds it held is suspended (the thread goes on running other
//                       tasks), never blocked. unlock() hands the mutex straight to the
//                       longest waiter and schedules it: first come, first served, and no
//                       task that arrives later can take it in between (no barging).
//   AsyncMutex::Guard - owns the mutex; unlocks when destroyed.
//
// What it protects: state that a task reads, then awaits something, then writes back. Across
// the co_await other tasks of the same thread run, and could change the state in between.
// What it costs: a task waiting for it waits as long as the holder's awaits take, so hold it
// around the read-modify-write that must be whole, not around everything.
// Why not std::mutex: a task that holds a std::mutex across co_await keeps it while the
// thread runs other tasks; the first of them to lock it blocks the only thread that could
// resume the holder: a deadlock with one thread (lesson 04c shows it, detected).
//
// One executor's tasks only: no atomics, no thread may touch it (like tasks.hpp).
#pragma once

#include <coroutine>
#include <cstddef>
#include <deque>
#include <utility>

#include "lessons/04-services-own-state/tasks.hpp"

namespace cp::lessons::tasks {

class AsyncMutex {
 public:
  explicit AsyncMutex(Executor& ex) : ex_(ex) {}
  AsyncMutex(const AsyncMutex&) = delete;
  AsyncMutex& operator=(const AsyncMutex&) = delete;

  class [[nodiscard]] Guard {
   public:
    explicit Guard(AsyncMutex* m) : m_(m) {}
    Guard(Guard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    Guard& operator=(Guard&&) = delete;
    ~Guard() {
      if (m_) m_->unlock();
    }

   private:
    AsyncMutex* m_;
  };

  // co_await mu.lock(): a Guard, once this task owns the mutex (at once if it is free).
  class LockAwaiter {
   public:
    explicit LockAwaiter(AsyncMutex& m) : m_(m) {}
    LockAwaiter(const LockAwaiter&) = delete;
    ~LockAwaiter() { m_.abandon(this); }  // our task was destroyed while it waited
    bool await_ready() noexcept { return m_.try_lock(); }
    void await_suspend(std::coroutine_handle<> h) {
      me_ = h;
      m_.waiters_.push_back(this);  // first come, first served
    }
    Guard await_resume() noexcept {
      me_ = {};  // we own it now (handed over, or free at once): the Guard unlocks it
      return Guard(&m_);
    }

   private:
    friend class AsyncMutex;
    AsyncMutex& m_;
    std::coroutine_handle<> me_;  // set while suspended
    bool granted_ = false;        // unlock() handed us the mutex; we have not run yet
  };
  LockAwaiter lock() { return LockAwaiter(*this); }

  bool try_lock() noexcept {
    if (locked_) return false;
    locked_ = true;
    return true;
  }

  // [quote: unlock]
  void unlock() {
    if (waiters_.empty()) {
      locked_ = false;
      return;
    }
    LockAwaiter* next = waiters_.front();  // hand over: locked_ stays true, no barging
    waiters_.pop_front();
    next->granted_ = true;
    ex_.schedule(next->me_);
  }
  // [end quote]

  bool locked() const { return locked_; }
  std::size_t waiting() const { return waiters_.size(); }

 private:
  // A waiting task's frame is being destroyed (shutdown): forget its wait, or, if it was
  // handed the mutex and never ran, pass the mutex on.
  void abandon(LockAwaiter* a) {
    if (!a->me_) return;  // not waiting: never suspended, or already resumed
    if (a->granted_) {
      ex_.forget(a->me_);  // it was scheduled: out of the run queue, and the mutex moves on
      unlock();
      return;
    }
    for (auto it = waiters_.begin(); it != waiters_.end(); ++it)
      if (*it == a) {
        waiters_.erase(it);
        return;
      }
  }

  Executor& ex_;
  bool locked_ = false;
  std::deque<LockAwaiter*> waiters_;
};

}  // namespace cp::lessons::tasks
