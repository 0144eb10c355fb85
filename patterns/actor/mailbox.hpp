// mailbox.hpp: Mailbox<T>, an actor's multi-producer, single-consumer message queue, which
// also records whether its actor is scheduled.
//
// Bounded or not is declared at construction (capacity 0 = unbounded). A bounded mailbox that
// is full answers per its sw::OverloadPolicy (patterns/single_writer/overload.hpp):
// block (the sender sleeps until there is room), or reject (rejected_full).
// block is for senders outside the actor system: a worker thread that blocks on a full mailbox
// holds a worker of a small pool, and two actors that fill each other's mailboxes deadlock.
// Actors that tell other actors use reject (or unbounded).
//
// The "scheduled" bit is the mailbox's: a push that finds the actor idle marks it scheduled and
// tells the caller (push(...).became_ready), which then hands the actor to the scheduler. The
// bit and the queue change under one lock, so a message can never be left in an idle mailbox
// (the lost wake-up that lock-free mailboxes avoid with a "reader blocked" tag, as CAF's
// lifo_inbox does). The consumer takes up to a turn's worth of messages per lock.
//
// States: open -> closed (close(): no push is accepted again). Closing with discard hands the
// queued messages back to the closer, who answers them. wait_until_done() returns once the
// mailbox is closed, empty and not scheduled: its actor will never run again, and the waiter
// may destroy the mailbox at once (no call touches it after releasing the lock that made it
// done).
#pragma once

#include <absl/base/thread_annotations.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <optional>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "patterns/actor/hooks.hpp"
#include "patterns/actor/signal_mutex.hpp"
#include "patterns/single_writer/overload.hpp"

namespace cp::actor {

using sw::OverloadPolicy;
using sw::SubmitStatus;

struct PushResult {
  SubmitStatus status = SubmitStatus::accepted;
  bool became_ready = false;  // accepted into an idle mailbox: the caller must schedule it
};

template <class T>
class Mailbox {
 public:
  // capacity 0: unbounded (the policy is then never used).
  explicit Mailbox(std::size_t capacity = 0, OverloadPolicy policy = OverloadPolicy::block)
      : capacity_(capacity), policy_(policy) {}

  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // push: any thread. May block only if bounded with OverloadPolicy::block and full; given a
  // `deadline`, it waits for room only until then, and answers rejected_full after.
  PushResult push(T&& item, std::optional<std::chrono::steady_clock::time_point> deadline = {})
      ABSL_LOCKS_EXCLUDED(mu_) {
    SignalLock lock(mu_);
    if (capacity_ != 0 && policy_ == OverloadPolicy::block) {
      while (!closed_ && queued() >= capacity_) {
        if (!deadline) {
          mu_.wait(not_full_);
        } else if (!mu_.wait_until(not_full_, *deadline) && !closed_ && queued() >= capacity_) {
          return {SubmitStatus::rejected_full, false};
        }
      }
    }
    if (closed_) return {SubmitStatus::stopped, false};
    if (capacity_ != 0 && queued() >= capacity_)
      return {SubmitStatus::rejected_full, false};
    queue_.push_back(std::move(item));
    // relaxed: the count changes only under mu_; wait_until_done takes mu_ after it (see
    // accepted()).
    accepted_.store(accepted_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    const bool became_ready = !scheduled_;
    scheduled_ = true;
    return {SubmitStatus::accepted, became_ready};
  }

  // take: used by the consumer (the worker running this actor's turn). Moves up to `max`
  // messages into `out`; returns how many.
  std::size_t take(std::vector<T>& out, std::size_t max) ABSL_LOCKS_EXCLUDED(mu_) {
    std::size_t n = 0;
    {
      SignalLock lock(mu_);
      while (n < max && head_ < queue_.size()) {
        out.push_back(std::move(queue_[head_++]));
        ++n;
      }
      compact();
    }
    if (n != 0 && capacity_ != 0) not_full_.notify_all();
    return n;
  }

  // finish_turn: used by the consumer at the end of a turn. True: messages are waiting, the
  // actor stays scheduled and must be run again. False: the mailbox was empty, the actor is
  // idle now (the next accepted push schedules it), and the caller must not touch it again.
  bool finish_turn() ABSL_LOCKS_EXCLUDED(mu_) {
    SignalLock lock(mu_);
    if (queued() != 0) return true;
    scheduled_ = false;
    if (closed_) done_.notify_all();  // under the lock: the waiter may destroy us right after
    return false;
  }

  // close: any thread; idempotent. No push is accepted afterwards (senders blocked on a full
  // mailbox wake and get `stopped`). With discard, the queued messages are moved into
  // `discarded` for the caller to answer; without, they stay and the consumer drains them.
  void close(bool discard, std::vector<T>& discarded) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      SignalLock lock(mu_);
      closed_ = true;
      if (discard) {
        const std::size_t before = discarded.size();
        while (head_ < queue_.size()) discarded.push_back(std::move(queue_[head_++]));
        compact();
        // relaxed: changes only under mu_, as accepted_ (see accepted()).
        discarded_.store(discarded_.load(std::memory_order_relaxed) + (discarded.size() - before),
                         std::memory_order_relaxed);
      }
      if (!scheduled_ && queued() == 0) done_.notify_all();
      // Under the lock, as finish_turn's: once the lock is released, a waiter may see the
      // mailbox done and destroy it.
      not_full_.notify_all();
    }
    ActorHooks::at(ActorHookPoint::mailbox_closed, this);  // test hook: the call touches us no more
  }

  // wait_until_done: any thread but the consumer. Returns once closed, empty and idle.
  void wait_until_done() ABSL_LOCKS_EXCLUDED(mu_) {
    SignalLock lock(mu_);
    while (!(closed_ && !scheduled_ && queued() == 0)) mu_.wait(done_);
  }

  bool closed() ABSL_LOCKS_EXCLUDED(mu_) {
    SignalLock lock(mu_);
    return closed_;
  }

  std::size_t size() ABSL_LOCKS_EXCLUDED(mu_) {
    SignalLock lock(mu_);
    return queued();
  }

  std::size_t capacity() const { return capacity_; }
  OverloadPolicy policy() const { return policy_; }

  // accepted: how many pushes were accepted. Counted inside the lock, so exact for a thread
  // that returned from wait_until_done (it took the lock after every accepted push); a recent
  // value otherwise. Any thread.
  std::uint64_t accepted() const {
    return accepted_.load(std::memory_order_relaxed);  // relaxed: see above
  }

  // discarded: how many queued messages close(discard) handed back. Counted inside the lock,
  // exact as accepted() is, although the closer answers them after releasing it.
  std::uint64_t discarded() const {
    return discarded_.load(std::memory_order_relaxed);  // relaxed: see accepted()
  }

 private:
  std::size_t queued() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return queue_.size() - head_; }

  // compact: drops the taken prefix: all of it once empty (keeping the vector's memory), or
  // by moving the rest down once the prefix is the larger half (amortised O(1) per message).
  void compact() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (head_ == queue_.size()) {
      queue_.clear();
      head_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= queue_.size()) {
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }

  const std::size_t capacity_;
  const OverloadPolicy policy_;
  SignalMutex mu_;
  std::condition_variable not_full_;  // bounded + block: senders wait here for room
  std::condition_variable done_;      // wait_until_done waits here
  // The queue: a vector read from head_. An empty mailbox allocates nothing (a std::deque
  // allocates ~600 bytes up front, which dominated the cost of spawning an actor).
  std::vector<T> queue_ ABSL_GUARDED_BY(mu_);
  std::size_t head_ ABSL_GUARDED_BY(mu_) = 0;  // queue_[head_..] are waiting
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;  // in the ready queue or running on a worker
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<std::uint64_t> accepted_{0}, discarded_{0};  // written under mu_ only
};

}  // namespace cp::actor
