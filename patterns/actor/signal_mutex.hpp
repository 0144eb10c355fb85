// signal_mutex.hpp: a mutex that a std::condition_variable can wait on, annotated for clang's
// thread-safety analysis.
//
//   SignalMutex  - std::mutex with capability annotations, plus wait()/wait_until() on a
//                  std::condition_variable while holding it.
//   SignalLock   - scoped exclusive lock of a SignalMutex.
//
// Why not cp::Mutex (patterns/mutex): a std::condition_variable needs the std::mutex itself,
// and cp::Mutex keeps it private. std::condition_variable_any would work with cp::Mutex, but
// it allocates a mutex of its own on construction, and the actor runtime makes one waitable
// object per ask.
#pragma once

#include <absl/base/thread_annotations.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "patterns/common/traits.hpp"

namespace cp::actor {

class ABSL_LOCKABLE SignalMutex {
 public:
  static constexpr Waiting waiting = Waiting::blocks;

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { m_.lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { m_.unlock(); }

  // wait: releases the lock while asleep on `cv`, holds it again on return. May wake
  // spuriously: callers re-check their condition in a loop.
  void wait(std::condition_variable& cv) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> adopted(m_, std::adopt_lock);
    cv.wait(adopted);
    adopted.release();  // still locked: the caller's SignalLock unlocks it
  }

  // wait_until: as wait, or until `deadline`. Returns false once the deadline has passed.
  template <class Clock, class Duration>
  bool wait_until(std::condition_variable& cv,
                  std::chrono::time_point<Clock, Duration> deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    std::unique_lock<std::mutex> adopted(m_, std::adopt_lock);
    const bool in_time = cv.wait_until(adopted, deadline) == std::cv_status::no_timeout;
    adopted.release();
    return in_time;
  }

 private:
  std::mutex m_;
};

class ABSL_SCOPED_LOCKABLE SignalLock {
 public:
  explicit SignalLock(SignalMutex& m) ABSL_EXCLUSIVE_LOCK_FUNCTION(m) : m_(m) { m_.lock(); }
  ~SignalLock() ABSL_UNLOCK_FUNCTION() { m_.unlock(); }
  SignalLock(const SignalLock&) = delete;
  SignalLock& operator=(const SignalLock&) = delete;

 private:
  SignalMutex& m_;
};

}  // namespace cp::actor
