// shared_mutex.hpp: the read-write-lock pattern's building blocks, annotated for clang's
// thread-safety analysis.
//
//   SharedMutex      - std::shared_mutex (glibc's pthread_rwlock) with capability annotations.
//   AbslSharedMutex  - absl::Mutex behind the same interface (its ReaderLock is the shared mode).
//   ReadLock<M>      - scoped shared lock: many readers at once.
//   WriteLock<M>     - scoped exclusive lock: one writer, no readers.
//
// Why: when reads dominate and a read takes long enough, readers proceed in parallel.
// When not: when critical sections are tiny, the reader count itself is a contended cache
// line, and a read-write lock can be slower than a plain mutex (lessons/02 measures it).
#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/synchronization/mutex.h>

#include <shared_mutex>

#include "patterns/common/traits.hpp"

#if defined(__SANITIZE_THREAD__)
#define CP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CP_TSAN 1
#endif
#endif

#ifdef CP_TSAN
#include <sanitizer/tsan_interface.h>
#define CP_TSAN_ANNOTATE(call) call
#else
#define CP_TSAN_ANNOTATE(call) ((void)0)
#endif

namespace cp {

class ABSL_LOCKABLE SharedMutex {
 public:
  static constexpr Waiting waiting = Waiting::blocks;
  static constexpr std::string_view name = "std::shared_mutex";
  static constexpr std::string_view design_name = "rwlock-std";  // row label of designs on it

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { m_.lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { m_.unlock(); }
  void lock_shared() ABSL_SHARED_LOCK_FUNCTION() { m_.lock_shared(); }
  void unlock_shared() ABSL_UNLOCK_FUNCTION() { m_.unlock_shared(); }

 private:
  std::shared_mutex m_;
};

// Debian's libabsl is not built with ThreadSanitizer, so TSan cannot see the happens-before
// edges inside absl::Mutex. Under TSan we describe each lock and unlock to it with its mutex
// annotation API, exactly as an instrumented Abseil would; elsewhere these calls vanish.
class ABSL_LOCKABLE AbslSharedMutex {
 public:
  static constexpr Waiting waiting = Waiting::blocks;
  static constexpr std::string_view name = "absl::Mutex";
  static constexpr std::string_view design_name = "rwlock-absl";

#ifdef CP_TSAN
  AbslSharedMutex() { __tsan_mutex_create(&m_, 0); }
  ~AbslSharedMutex() { __tsan_mutex_destroy(&m_, 0); }
#endif

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    CP_TSAN_ANNOTATE(__tsan_mutex_pre_lock(&m_, 0));
    m_.Lock();
    CP_TSAN_ANNOTATE(__tsan_mutex_post_lock(&m_, 0, 0));
  }
  void unlock() ABSL_UNLOCK_FUNCTION() {
    CP_TSAN_ANNOTATE(__tsan_mutex_pre_unlock(&m_, 0));
    m_.Unlock();
    CP_TSAN_ANNOTATE(__tsan_mutex_post_unlock(&m_, 0));
  }
  void lock_shared() ABSL_SHARED_LOCK_FUNCTION() {
    CP_TSAN_ANNOTATE(__tsan_mutex_pre_lock(&m_, __tsan_mutex_read_lock));
    m_.ReaderLock();
    CP_TSAN_ANNOTATE(__tsan_mutex_post_lock(&m_, __tsan_mutex_read_lock, 0));
  }
  void unlock_shared() ABSL_UNLOCK_FUNCTION() {
    CP_TSAN_ANNOTATE(__tsan_mutex_pre_unlock(&m_, __tsan_mutex_read_lock));
    m_.ReaderUnlock();
    CP_TSAN_ANNOTATE(__tsan_mutex_post_unlock(&m_, __tsan_mutex_read_lock));
  }

 private:
  absl::Mutex m_;
};

template <class M>
class ABSL_SCOPED_LOCKABLE ReadLock {
 public:
  explicit ReadLock(M& m) ABSL_SHARED_LOCK_FUNCTION(m) : m_(m) { m_.lock_shared(); }
  ~ReadLock() ABSL_UNLOCK_FUNCTION() { m_.unlock_shared(); }
  ReadLock(const ReadLock&) = delete;
  ReadLock& operator=(const ReadLock&) = delete;

 private:
  M& m_;
};

template <class M>
class ABSL_SCOPED_LOCKABLE WriteLock {
 public:
  explicit WriteLock(M& m) ABSL_EXCLUSIVE_LOCK_FUNCTION(m) : m_(m) { m_.lock(); }
  ~WriteLock() ABSL_UNLOCK_FUNCTION() { m_.unlock(); }
  WriteLock(const WriteLock&) = delete;
  WriteLock& operator=(const WriteLock&) = delete;

 private:
  M& m_;
};

}  // namespace cp
