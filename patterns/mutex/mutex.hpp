// mutex.hpp: the mutual-exclusion pattern's building blocks, annotated for clang's
// thread-safety analysis (the `tsa` preset builds with -Wthread-safety -Werror).
//
//   Mutex      - std::mutex with capability annotations (libstdc++'s std::mutex has none).
//   MutexLock  - scoped exclusive lock of a Mutex.
//   PairLock   - scoped lock of two Mutexes taken in one global order (by rank), so that two
//                threads locking the same pair can never deadlock.
//
// Why a mutex: it is the simplest correct way to make a group of fields change together.
// When not: when the critical section is a single word (use an atomic), when reads dominate
// (see patterns/rwlock), or when one thread could own the state outright (single-writer).
#pragma once

#include <absl/base/thread_annotations.h>

#include <cstdint>
#include <mutex>

#include "patterns/common/traits.hpp"

namespace cp {

class ABSL_LOCKABLE Mutex {
 public:
  // std::mutex is glibc's default ("timed") pthread mutex: lock() tries one atomic exchange
  // and, if the lock is taken, sleeps in the kernel (futex wait) at once. It does not spin;
  // only PTHREAD_MUTEX_ADAPTIVE_NP spins first (glibc nptl/pthread_mutex_lock.c).
  static constexpr Waiting waiting = Waiting::blocks;

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { m_.lock(); }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) { return m_.try_lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { m_.unlock(); }

 private:
  std::mutex m_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex& m) ABSL_EXCLUSIVE_LOCK_FUNCTION(m) : m_(m) { m_.lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { m_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& m_;
};

// PairLock: locks a (rank a) and b (rank b) lowest rank first. Every caller that needs two
// locks of one kind goes through here, so all threads agree on the order and no cycle of
// waiters can form. The same mutex twice (a self-transfer) is locked once.
class ABSL_SCOPED_LOCKABLE PairLock {
 public:
  PairLock(Mutex& a, std::uint64_t rank_a, Mutex& b, std::uint64_t rank_b)
      ABSL_EXCLUSIVE_LOCK_FUNCTION(a, b)
      : first_(rank_a <= rank_b ? a : b), second_(rank_a <= rank_b ? b : a), same_(&a == &b) {
    first_.lock();
    if (!same_) second_.lock();
  }
  ~PairLock() ABSL_UNLOCK_FUNCTION() {
    if (!same_) second_.unlock();
    first_.unlock();
  }
  PairLock(const PairLock&) = delete;
  PairLock& operator=(const PairLock&) = delete;

 private:
  Mutex& first_;
  Mutex& second_;
  bool same_;
};

}  // namespace cp
