// scheduler.hpp: Scheduler, a fixed pool of worker threads that run ready actors.
//
//   Runnable   - what the scheduler runs: run_turn(max_messages) handles up to that many
//                messages and says whether the actor still has work (then it is queued again,
//                at the back).
//   Scheduler  - N workers and one shared ready queue (FIFO). An actor is in the queue or on a
//                worker at most once (its mailbox's "scheduled" bit, mailbox.hpp), so it runs
//                on at most one worker at a time and its handler needs no lock.
//
// throughput = messages per turn: an actor with a full mailbox handles up to that many, then
// goes to the back of the ready queue so other actors get a worker. Small: fairer, more queue
// traffic. Large: better batching (the mailbox lock and the queue are touched once per turn).
//
// Idle workers sleep on a condition variable; schedule() wakes one only if one is asleep.
//
// Why one shared queue and not per-worker queues with stealing (CAF 0.17's default,
// policy/work_stealing.hpp): stealing pays off when many cores would contend on one queue.
// This project's machine has 2 cores, so the shared queue's lock is taken by at most two
// workers plus the senders, and it is held for a push or a pop. One queue is also strictly
// FIFO (no actor starves behind a busy worker's local queue), and an idle worker needs no
// polling: CAF's workers poll their queue and try to steal for a while before they sleep
// (aggressive, then moderate, then relaxed polling), which is CPU a 2-core machine does not
// have to spare. Where stealing wins: many cores, and actors that spawn or tell many others
// (the new work stays on the local, cache-warm worker).
//
// Not for: blocking handlers. A handler that sleeps or waits holds one of a few workers.
#pragma once

#include <absl/base/thread_annotations.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <stdexcept>
#include <thread>
#include <vector>

#include "patterns/actor/signal_mutex.hpp"

namespace cp::actor {

class Runnable {
 public:
  virtual ~Runnable() = default;
  // run_turn: used by one worker at a time. True: the actor has more messages (requeue it).
  // False: it went idle; the worker must not touch it again.
  virtual bool run_turn(std::size_t max_messages) = 0;
};

struct SchedulerConfig {
  unsigned workers = 2;
  std::size_t throughput = 64;  // messages per turn, > 0
};

class Scheduler {
 public:
  explicit Scheduler(SchedulerConfig config) : config_(config) {
    if (config_.workers == 0) throw std::invalid_argument("actor scheduler: workers must be > 0");
    if (config_.throughput == 0)
      throw std::invalid_argument("actor scheduler: throughput must be > 0");
    workers_.reserve(config_.workers);
    for (unsigned i = 0; i < config_.workers; ++i) workers_.emplace_back([this] { work(); });
  }

  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;
  ~Scheduler() { stop_and_join(); }

  // schedule: any thread, for an actor that just became ready (mailbox push said so).
  void schedule(Runnable* r) ABSL_LOCKS_EXCLUDED(mu_) {
    bool wake = false;
    {
      SignalLock lock(mu_);
      ready_.push_back(r);
      wake = sleeping_ > 0;
    }
    if (wake) wake_.notify_one();
  }

  // stop_and_join: any thread but a worker. Workers finish the ready queue, then exit; all are
  // joined. The caller makes sure no actor becomes ready afterwards (ActorSystem closes every
  // mailbox and waits for each actor to finish first). Idempotent; safe from two threads.
  void stop_and_join() ABSL_LOCKS_EXCLUDED(mu_, join_mu_) {
    {
      SignalLock lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    SignalLock join_lock(join_mu_);  // one joiner at a time: join() twice would be UB
    for (auto& t : workers_)
      if (t.joinable()) t.join();
  }

  unsigned workers() const { return config_.workers; }
  std::size_t throughput() const { return config_.throughput; }

 private:
  void work() ABSL_LOCKS_EXCLUDED(mu_) {
    for (;;) {
      Runnable* r = nullptr;
      {
        SignalLock lock(mu_);
        while (ready_.empty() && !stopping_) {
          ++sleeping_;
          mu_.wait(wake_);
          --sleeping_;
        }
        if (ready_.empty()) return;  // stopping and nothing left
        r = ready_.front();
        ready_.pop_front();
      }
      if (r->run_turn(config_.throughput)) {
        SignalLock lock(mu_);
        ready_.push_back(r);  // to the back: the others get their turn first
      }
    }
  }

  const SchedulerConfig config_;
  SignalMutex mu_;
  std::condition_variable wake_;
  std::deque<Runnable*> ready_ ABSL_GUARDED_BY(mu_);
  unsigned sleeping_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  SignalMutex join_mu_;
  std::vector<std::thread> workers_;  // filled by the constructor; joined under join_mu_
};

}  // namespace cp::actor
