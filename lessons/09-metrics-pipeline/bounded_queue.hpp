// bounded_queue.hpp: BoundedQueue<T>, the queue between two stages of the pipeline.
//
// Many producers, many consumers, a fixed capacity, and a close() that lets consumers drain:
//   try_push  - never waits: pushed, full, or closed (the caller counts a drop);
//   push      - waits for room while open: pushed or closed (backpressure);
//   pop       - waits for an item; returns nullopt only once closed AND empty, so a consumer
//               that loops until nullopt has taken every item ever pushed;
//   close     - idempotent; pushes fail from then on, blocked pushers and poppers wake.
// A mutex and two condition variables: each operation is a short critical section, and a
// waiting thread sleeps (no spinning on a 2-core machine). Why not the project's rings
// (patterns/single_writer): they have one consumer; a stage here is a pool of consumers.
#pragma once

#include <absl/base/thread_annotations.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <optional>
#include <stdexcept>
#include <utility>

#include "patterns/actor/signal_mutex.hpp"

namespace cp::metrics {

enum class PushResult { pushed, full, closed };

template <class T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {
    if (capacity == 0) throw std::invalid_argument("BoundedQueue: capacity must be > 0");
  }
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  PushResult try_push(T item) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      actor::SignalLock lock(mu_);
      if (closed_) return PushResult::closed;
      if (items_.size() >= capacity_) return PushResult::full;
      items_.push_back(std::move(item));
    }
    not_empty_.notify_one();
    return PushResult::pushed;
  }

  PushResult push(T item) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      actor::SignalLock lock(mu_);
      while (!closed_ && items_.size() >= capacity_) mu_.wait(not_full_);
      if (closed_) return PushResult::closed;
      items_.push_back(std::move(item));
    }
    not_empty_.notify_one();
    return PushResult::pushed;
  }

  std::optional<T> pop() ABSL_LOCKS_EXCLUDED(mu_) {
    std::optional<T> item;
    {
      actor::SignalLock lock(mu_);
      while (!closed_ && items_.empty()) mu_.wait(not_empty_);
      if (items_.empty()) return std::nullopt;  // closed and drained
      item.emplace(std::move(items_.front()));
      items_.pop_front();
    }
    not_full_.notify_one();
    return item;
  }

  void close() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      actor::SignalLock lock(mu_);
      closed_ = true;
    }
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  std::size_t size() ABSL_LOCKS_EXCLUDED(mu_) {
    actor::SignalLock lock(mu_);
    return items_.size();
  }
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  actor::SignalMutex mu_;
  std::condition_variable not_empty_;  // poppers wait here
  std::condition_variable not_full_;   // blocking pushers wait here
  std::deque<T> items_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cp::metrics
