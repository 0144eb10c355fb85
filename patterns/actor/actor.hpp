// actor.hpp: actors on a shared worker pool: private state + a mailbox + a message handler.
//
//   Behavior      - the concept an actor's state satisfies: `message` and `reply` types and
//                   `reply handle(message&)`. Plain single-threaded code: it handles one
//                   message at a time and nothing else touches it.
//   ActorOptions  - mailbox bound and overload policy, supervision (supervision.hpp).
//   ActorStats    - accepted, handled, failed, discarded, restarts, resumes. Exact once
//                   wait_until_stopped() returned: accepted == handled + failed + discarded.
//   ActorRef<B>   - a handle to an actor; copyable, any thread:
//                     tell(m)             fire-and-forget; returns the mailbox's SubmitStatus
//                     ask(m, timeout)     waits for the reply: AskResult (ask.hpp), never past
//                                         the timeout; from the actor's own handler it
//                                         answers asked_itself at once (nothing is sent)
//                     stop(policy)        drain (handle what was accepted) or discard (answer
//                                         it, and the rest of a turn in progress, with
//                                         AskError::stopped); refuse new messages
//                     wait_until_stopped  returns once the actor will never run again; from
//                                         its own handler it throws std::logic_error
//   ActorSystem   - the Scheduler (scheduler.hpp) and every actor spawned on it. shutdown()
//                   stops every actor per a StopPolicy, waits for each, joins the workers.
//
// Guarantees: an actor runs on at most one worker at a time; messages from one sender are
// handled in the order sent; every accepted message is handled, failed (its asker gets
// handler_failed) or discarded (its asker gets stopped / actor_failed), and counted as such.
// A tell's sender hears about refusal at once (the SubmitStatus) and about failures through
// the stats and SupervisionPolicy::on_failure.
// Every user-supplied callable the worker calls may throw without killing the worker: the
// handler and the reply's move fail their message (the asker gets handler_failed); the
// supervision clock and the factory make carrying on impossible (the actor stops, as when its
// budget is spent); an exception from on_failure is dropped. A message type must move without
// throwing (checked at compile time): the mailbox moves it under its lock.
//
// When not: state that many threads read far more often than they change (a lock or RCU reads
// it in place; an actor serialises every read through a mailbox), and handlers that block.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "patterns/actor/ask.hpp"
#include "patterns/actor/hooks.hpp"
#include "patterns/actor/mailbox.hpp"
#include "patterns/actor/scheduler.hpp"
#include "patterns/actor/supervision.hpp"

namespace cp::actor {

template <class B>
concept Behavior = std::move_constructible<B> && requires(B& b, typename B::message& m) {
  typename B::message;
  typename B::reply;
  { b.handle(m) } -> std::convertible_to<typename B::reply>;
};

enum class StopPolicy {
  drain,    // handle every message already accepted, then stop
  discard,  // answer the queued messages with AskError::stopped (counted as discarded)
};

struct ActorOptions {
  std::size_t mailbox_capacity = 0;  // 0: unbounded
  OverloadPolicy overload = OverloadPolicy::block;
  SupervisionPolicy supervision;
};

// ActorStats: every accepted message ends counted once, as handled, failed or discarded.
struct ActorStats {
  std::uint64_t accepted = 0, handled = 0, failed = 0, discarded = 0, restarts = 0, resumes = 0;
  bool balanced() const { return accepted == handled + failed + discarded; }
};

// ActorError: thrown by callers that turn an AskError into an exception (the workload
// designs, whose contracts have no error channel for "the actor did not answer").
struct ActorError : std::runtime_error {
  ActorError(const std::string& who, AskError e)
      : std::runtime_error(who + ": " + std::string(to_string(e))), error(e) {}
  AskError error;
};

// The part of an actor the system sees, whatever its behaviour.
class ActorControl : public Runnable {
 public:
  virtual void stop(StopPolicy policy) = 0;
  virtual void wait_until_stopped() = 0;

 protected:
  // The actor whose turn runs on this thread (null outside a turn): how ask and
  // wait_until_stopped tell a call from the actor's own handler.
  static const ActorControl*& running_here() {
    thread_local const ActorControl* running = nullptr;
    return running;
  }

  // RunningScope: marks this thread as running `a`'s turn, until the scope ends.
  class RunningScope {
   public:
    explicit RunningScope(const ActorControl* a) : previous_(running_here()) {
      running_here() = a;
    }
    ~RunningScope() { running_here() = previous_; }
    RunningScope(const RunningScope&) = delete;
    RunningScope& operator=(const RunningScope&) = delete;

   private:
    const ActorControl* previous_;
  };

 public:
  // running_on_this_thread: the actor whose handler this thread is running, or null.
  static const ActorControl* running_on_this_thread() { return running_here(); }
};

template <Behavior B>
class ActorCell final : public ActorControl {
 public:
  using message = typename B::message;
  using reply = typename B::reply;
  static_assert(std::is_nothrow_move_constructible_v<message>,
                "an actor's message must move without throwing: the mailbox moves it under "
                "its lock, where a throw would lose it uncounted");

  ActorCell(Scheduler& scheduler, std::function<B()> factory, ActorOptions options)
      : scheduler_(scheduler), factory_(std::move(factory)), options_(std::move(options)),
        mailbox_(options_.mailbox_capacity, options_.overload),
        budget_(options_.supervision), behavior_(factory_()) {}

  // tell / ask: any thread. See ActorRef.
  SubmitStatus tell(message m) { return post(Envelope{std::move(m), nullptr}); }

  AskResult<reply> ask(message m, std::chrono::steady_clock::duration timeout) {
    // From its own handler: the reply could only come after this handler returns.
    if (running_here() == this) return {AskError::asked_itself, std::nullopt};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto promise = std::make_shared<ReplyPromise<reply>>();
    switch (post(Envelope{std::move(m), promise}, deadline)) {
      case SubmitStatus::accepted: break;
      case SubmitStatus::rejected_full:  // policy block: no room before the deadline
        return {mailbox_.policy() == OverloadPolicy::block ? AskError::timeout
                                                           : AskError::mailbox_full,
                std::nullopt};
      case SubmitStatus::stopped: return {refusal(), std::nullopt};
    }
    return promise->wait_until(deadline);
  }

  void stop(StopPolicy policy) override { close(policy == StopPolicy::discard, AskError::stopped); }

  void wait_until_stopped() override {
    if (running_here() == this)  // its own handler: the actor would wait for itself forever
      throw std::logic_error("actor: wait_until_stopped from the actor's own handler");
    mailbox_.wait_until_done();
  }

  ActorStats stats() const {
    // relaxed: statistics. Exact once wait_until_stopped() returned (in this thread, or in one
    // that happens-before the call), whatever senders and stoppers are still inside their
    // calls: `accepted`, and the messages a close(discard) took out of the mailbox, are counted
    // inside the mailbox lock; every other count by the worker before its last turn released
    // that lock; wait_until_done takes the lock after all of them. While the actor runs, each
    // count is a recent value, and the sum may be off by the messages in flight.
    return {mailbox_.accepted(), handled_.load(std::memory_order_relaxed),
            failed_.load(std::memory_order_relaxed),
            mailbox_.discarded() + discarded_.load(std::memory_order_relaxed),
            restarts_.load(std::memory_order_relaxed), resumes_.load(std::memory_order_relaxed)};
  }

  std::size_t mailbox_capacity() const { return mailbox_.capacity(); }

  // run_turn: used by the one worker running this actor (Scheduler).
  bool run_turn(std::size_t max_messages) override {
    RunningScope running(this);
    batch_.clear();
    mailbox_.take(batch_, max_messages);
    for (Envelope& e : batch_) {
      if (failed_for_good_) {
        answer_unhandled(e, AskError::actor_failed);
      } else if (discarding_.load(std::memory_order_acquire)) {
        // acquire: pairs with the release store in close(); a stop(discard) made during this
        // turn (by the handler itself, or by another thread) discards the rest of the batch.
        answer_unhandled(e, AskError::stopped);
      } else {
        deliver(e);
      }
    }
    batch_.clear();  // drop the promises now, not at the next turn
    return mailbox_.finish_turn();
  }

 private:
  struct Envelope {
    message msg;
    std::shared_ptr<ReplyPromise<reply>> promise;  // null for a tell
  };

  SubmitStatus post(Envelope e,
                    std::optional<std::chrono::steady_clock::time_point> deadline = {}) {
    // Counted as accepted inside the mailbox lock (Mailbox::accepted), see stats().
    const PushResult r = mailbox_.push(std::move(e), deadline);
    if (r.status != SubmitStatus::accepted) return r.status;
    ActorHooks::at(ActorHookPoint::post_pushed, this);
    if (r.became_ready) scheduler_.schedule(this);
    return r.status;
  }

  // Why a push was refused: the actor was stopped, or it stopped itself after its failure
  // budget ran out.
  AskError refusal() const {
    // acquire: pairs with the release store in on_failure, made before the mailbox closed.
    return stopped_by_failure_.load(std::memory_order_acquire) ? AskError::actor_failed
                                                               : AskError::stopped;
  }

  // deliver: the handler, then the reply. Counted handled only once both are done: a reply
  // whose move throws fails the message (once), as a throwing handler does.
  void deliver(Envelope& e) {
    std::string what;
    try {
      reply r = behavior_->handle(e.msg);
      if (e.promise) e.promise->fulfil({AskError::ok, std::move(r)});
      handled_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
      return;
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
      what = "unknown exception";
    }
    const std::uint64_t failures = failed_.fetch_add(1, std::memory_order_relaxed) + 1;
    // Restart, resume or stop first, answer after: an asker that got handler_failed and asks
    // again reaches the restarted actor, and the failure is timed before the asker moves on.
    supervise(std::move(what), failures);
    if (e.promise) e.promise->fulfil({AskError::handler_failed, std::nullopt});
  }

  // supervise: restart, resume or stop. Every user callable here is caught: a clock or a
  // factory that throws leaves the actor unable to carry on (it stops, as when the budget is
  // spent); an on_failure that throws loses its report, nothing else.
  void supervise(std::string what, std::uint64_t failures) {
    const SupervisionPolicy& p = options_.supervision;
    const bool restart = p.directive == FailureDirective::restart;
    bool carried_on = false;
    try {
      const auto now = p.clock ? p.clock() : std::chrono::steady_clock::now();
      carried_on = budget_.try_carry_on(now);
      if (carried_on && restart) behavior_.emplace(factory_());
    } catch (...) {
      carried_on = false;
    }
    if (carried_on) {
      (restart ? restarts_ : resumes_).fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    } else {
      failed_for_good_ = true;
      // release: pairs with the acquire load in refusal(), in a sender refused after close.
      stopped_by_failure_.store(true, std::memory_order_release);
      close(true, AskError::actor_failed);
    }
    if (p.on_failure) {
      try {
        p.on_failure(FailureReport{std::move(what), failures, !carried_on});
      } catch (...) {  // the report is lost; the actor carries on per the decision above
      }
    }
  }

  // close: any thread. The messages taken out of the mailbox are counted there (under its
  // lock); they are answered here, after.
  void close(bool discard, AskError answer) {
    // release: pairs with the acquire load in run_turn (the rest of a running batch).
    if (discard) discarding_.store(true, std::memory_order_release);
    std::vector<Envelope> discarded;
    mailbox_.close(discard, discarded);
    for (Envelope& e : discarded)
      if (e.promise) e.promise->fulfil({answer, std::nullopt});
  }

  // answer_unhandled: used by the worker, for a message of its batch it will not handle.
  void answer_unhandled(Envelope& e, AskError answer) {
    discarded_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    if (e.promise) e.promise->fulfil({answer, std::nullopt});
  }

  Scheduler& scheduler_;
  std::function<B()> factory_;
  const ActorOptions options_;
  Mailbox<Envelope> mailbox_;
  // Used only by the worker running the actor's turn (turns are ordered by the mailbox lock):
  FailureBudget budget_;
  std::optional<B> behavior_;
  std::vector<Envelope> batch_;
  bool failed_for_good_ = false;

  std::atomic<bool> stopped_by_failure_{false};
  std::atomic<bool> discarding_{false};  // a stop(discard) was made
  // Counted by the worker (discarded_: from its batch; the mailbox counts the rest).
  std::atomic<std::uint64_t> handled_{0}, failed_{0}, discarded_{0}, restarts_{0}, resumes_{0};
};

template <Behavior B>
class ActorRef {
 public:
  using message = typename B::message;
  using reply = typename B::reply;

  ActorRef() = default;
  explicit ActorRef(std::shared_ptr<ActorCell<B>> cell) : cell_(std::move(cell)) {}

  // tell: fire-and-forget. accepted, or why not (stopped, rejected_full). May block
  // only on a full bounded mailbox with OverloadPolicy::block.
  SubmitStatus tell(message m) const { return cell_->tell(std::move(m)); }

  // ask: sends `m` and waits for its reply. Waiting for room in a full mailbox (policy block)
  // and for the reply together take at most `timeout`, then AskError::timeout.
  AskResult<reply> ask(message m, std::chrono::steady_clock::duration timeout) const {
    return cell_->ask(std::move(m), timeout);
  }

  void stop(StopPolicy policy = StopPolicy::drain) const { cell_->stop(policy); }
  void wait_until_stopped() const { cell_->wait_until_stopped(); }
  ActorStats stats() const { return cell_->stats(); }
  explicit operator bool() const { return cell_ != nullptr; }

 private:
  std::shared_ptr<ActorCell<B>> cell_;
};

class ActorSystem {
 public:
  explicit ActorSystem(SchedulerConfig config = {}) : scheduler_(config) {}
  ActorSystem(const ActorSystem&) = delete;
  ActorSystem& operator=(const ActorSystem&) = delete;
  ~ActorSystem() { shutdown(StopPolicy::drain); }

  // spawn: any thread (also a handler). The behaviour is built by `factory` now, and again on
  // each restart (FailureDirective::restart). Throws std::logic_error after shutdown.
  template <Behavior B>
  ActorRef<B> spawn(std::function<B()> factory, ActorOptions options = {})
      ABSL_LOCKS_EXCLUDED(mu_) {
    auto cell = std::make_shared<ActorCell<B>>(scheduler_, std::move(factory), std::move(options));
    SignalLock lock(mu_);
    if (shut_down_) throw std::logic_error("actor system: spawn after shutdown");
    actors_.push_back(cell);
    return ActorRef<B>(std::move(cell));
  }

  // shutdown: not from a handler of this system's actors (throws std::logic_error there,
  // before doing anything: the worker would wait for its own actor; from the destructor that
  // ends the process). Stops every actor per `policy` (no new message is accepted from now
  // on), waits until each has finished, joins the workers. Idempotent.
  void shutdown(StopPolicy policy) ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<std::shared_ptr<ActorControl>> actors;
    {
      SignalLock lock(mu_);
      if (const ActorControl* here = ActorControl::running_on_this_thread())
        for (const auto& a : actors_)
          if (a.get() == here) throw std::logic_error("actor system: shutdown from a handler");
      shut_down_ = true;
      actors = actors_;
    }
    for (auto& a : actors) a->stop(policy);
    for (auto& a : actors) a->wait_until_stopped();
    scheduler_.stop_and_join();
  }

  unsigned workers() const { return scheduler_.workers(); }

 private:
  Scheduler scheduler_;
  SignalMutex mu_;
  // Every actor lives until the system is destroyed: the ready queue holds plain pointers.
  std::vector<std::shared_ptr<ActorControl>> actors_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace cp::actor
