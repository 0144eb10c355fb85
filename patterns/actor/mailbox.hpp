// mailbox.hpp: Mailbox<T>, an actor's multi-producer, single-consumer message queue, which
// also records whether its actor is scheduled.
//
// Bounded or not is declared at construction (capacity 0 = unbounded). A bounded mailbox that
// is full answers per its sw::OverloadPolicy (patterns/single_writer/overload.hpp):
// block (the sender sleeps until there is room), reject (rejected_full) or drop (dropped).
// block is for senders outside the actor system: a worker thread that blocks on a full mailbox
// holds a worker of a small pool, and two actors that fill each other's mailboxes deadlock.
// Actors that tell other actors use reject or drop (or unbounded).
//
// The "scheduled" bit is the mailbox's: a push that finds the actor idle marks it scheduled and
// tells the caller (push(...).became_ready), which then hands the actor to the scheduler. The
// bit and the queue change under one lock, so a message can never be left in an idle mailbox
// (the lost wake-up that lock-free mailboxes avoid with a "reader blocked" tag, as CAF's
// lifo_inbox does). The consumer takes up to a turn's worth of messages per lock.
//
// States: open -> closed (close(): no push is accepted again). Closing with discard hands the
// queued messages back to the closer, who answers them. wait_until_done() returns once the
// mailbox is closed, empty and not scheduled: its actor will never run again.
#pragma once

#include <absl/base/thread_annotations.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <vector>

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

  // push: any thread. May block only if bounded with OverloadPolicy::block and full.
  PushResult push(T&& item) ABSL_LOCKS_EXCLUDED(mu_) {
    SignalLock lock(mu_);
    if (capacity_ != 0 && policy_ == OverloadPolicy::block) {
      while (!closed_ && queue_.size() >= capacity_) mu_.wait(not_full_);
    }
    if (closed_) return {SubmitStatus::stopped, false};
    if (capacity_ != 0 && queue_.size() >= capacity_)
      return {policy_ == OverloadPolicy::reject ? SubmitStatus::rejected_full
                                                : SubmitStatus::dropped,
              false};
    queue_.push_back(std::move(item));
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
      while (n < max && !queue_.empty()) {
        out.push_back(std::move(queue_.front()));
        queue_.pop_front();
        ++n;
      }
    }
    if (n != 0 && capacity_ != 0) not_full_.notify_all();
    return n;
  }

  // finish_turn: used by the consumer at the end of a turn. True: messages are waiting, the
  // actor stays scheduled and must be run again. False: the mailbox was empty, the actor is
  // idle now (the next accepted push schedules it), and the caller must not touch it again.
  bool finish_turn() ABSL_LOCKS_EXCLUDED(mu_) {
    SignalLock lock(mu_);
    if (!queue_.empty()) return true;
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
        while (!queue_.empty()) {
          discarded.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      if (!scheduled_ && queue_.empty()) done_.notify_all();
    }
    not_full_.notify_all();
  }

  // wait_until_done: any thread but the consumer. Returns once closed, empty and idle.
  void wait_until_done() ABSL_LOCKS_EXCLUDED(mu_) {
    SignalLock lock(mu_);
    while (!(closed_ && !scheduled_ && queue_.empty())) mu_.wait(done_);
  }

  bool closed() ABSL_LOCKS_EXCLUDED(mu_) {
    SignalLock lock(mu_);
    return closed_;
  }

  std::size_t size() ABSL_LOCKS_EXCLUDED(mu_) {
    SignalLock lock(mu_);
    return queue_.size();
  }

  std::size_t capacity() const { return capacity_; }
  OverloadPolicy policy() const { return policy_; }

 private:
  const std::size_t capacity_;
  const OverloadPolicy policy_;
  SignalMutex mu_;
  std::condition_variable not_full_;  // bounded + block: senders wait here for room
  std::condition_variable done_;      // wait_until_done waits here
  std::deque<T> queue_ ABSL_GUARDED_BY(mu_);
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;  // in the ready queue or running on a worker
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cp::actor
