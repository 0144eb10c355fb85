// actor.hpp: actors on a shared worker pool: private state + a mailbox + a message handler.
//
//   Behavior      - the concept an actor's state satisfies: `message` and `reply` types and
//                   `reply handle(message&)`. Plain single-threaded code: it handles one
//                   message at a time and nothing else touches it.
//   ActorOptions  - mailbox bound and overload policy, supervision (supervision.hpp).
//   ActorStats    - accepted, handled, failed, discarded, restarts. Once an actor is done
//                   (stopped and drained): accepted == handled + failed + discarded.
//   ActorRef<B>   - a handle to an actor; copyable, any thread:
//                     tell(m)             fire-and-forget; returns the mailbox's SubmitStatus
//                     ask(m, timeout)     waits for the reply: AskResult (ask.hpp), never past
//                                         the timeout
//                     stop(policy)        drain (handle what was accepted) or discard (answer
//                                         it with AskError::stopped); refuse new messages
//                     wait_until_stopped  returns once the actor will never run again
//   ActorSystem   - the Scheduler (scheduler.hpp) and every actor spawned on it. shutdown()
//                   stops every actor per a StopPolicy, waits for each, joins the workers.
//
// Guarantees: an actor runs on at most one worker at a time; messages from one sender are
// handled in the order sent; every accepted message is handled, failed (its asker gets
// handler_failed) or discarded (its asker gets stopped / actor_failed), and counted as such.
// A tell's sender hears about refusal at once (the SubmitStatus) and about failures through
// the stats and SupervisionPolicy::on_failure.
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
#include <utility>
#include <vector>

#include "patterns/actor/ask.hpp"
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

struct ActorStats {
  std::uint64_t accepted = 0, handled = 0, failed = 0, discarded = 0, restarts = 0;
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
};

template <Behavior B>
class ActorCell final : public ActorControl {
 public:
  using message = typename B::message;
  using reply = typename B::reply;

  ActorCell(Scheduler& scheduler, std::function<B()> factory, ActorOptions options)
      : scheduler_(scheduler), factory_(std::move(factory)), options_(std::move(options)),
        mailbox_(options_.mailbox_capacity, options_.overload),
        budget_(options_.supervision), behavior_(factory_()) {}

  // tell / ask: any thread. See ActorRef.
  SubmitStatus tell(message m) { return post(Envelope{std::move(m), nullptr}); }

  AskResult<reply> ask(message m, std::chrono::steady_clock::duration timeout) {
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
  void wait_until_stopped() override { mailbox_.wait_until_done(); }

  ActorStats stats() const {
    // relaxed: statistics. Exact once the actor is stopped and done: wait_until_stopped takes
    // the mailbox lock after the worker's last turn released it, which orders every count.
    return {accepted_.load(std::memory_order_relaxed), handled_.load(std::memory_order_relaxed),
            failed_.load(std::memory_order_relaxed), discarded_.load(std::memory_order_relaxed),
            restarts_.load(std::memory_order_relaxed)};
  }

  std::size_t mailbox_capacity() const { return mailbox_.capacity(); }

  // run_turn: used by the one worker running this actor (Scheduler).
  bool run_turn(std::size_t max_messages) override {
    batch_.clear();
    mailbox_.take(batch_, max_messages);
    for (Envelope& e : batch_) {
      if (failed_for_good_) {
        answer_unhandled(e, AskError::actor_failed);
        continue;
      }
      deliver(e);
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
    const PushResult r = mailbox_.push(std::move(e), deadline);
    if (r.status != SubmitStatus::accepted) return r.status;
    accepted_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics (see stats())
    if (r.became_ready) scheduler_.schedule(this);
    return r.status;
  }

  // Why a push was refused: the actor was stopped, or it stopped itself after its restart
  // budget ran out.
  AskError refusal() const {
    // acquire: pairs with the release store in on_failure, made before the mailbox closed.
    return stopped_by_failure_.load(std::memory_order_acquire) ? AskError::actor_failed
                                                               : AskError::stopped;
  }

  void deliver(Envelope& e) {
    std::string what;
    try {
      reply r = behavior_->handle(e.msg);
      handled_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
      if (e.promise) e.promise->fulfil({AskError::ok, std::move(r)});
      return;
    } catch (const std::exception& ex) {
      what = ex.what();
    } catch (...) {
      what = "unknown exception";
    }
    const std::uint64_t failures = failed_.fetch_add(1, std::memory_order_relaxed) + 1;
    // Restart (or stop) first, answer after: an asker that got handler_failed and asks again
    // reaches the restarted actor, and the restart is timed before the asker can move on.
    supervise(std::move(what), failures);
    if (e.promise) e.promise->fulfil({AskError::handler_failed, std::nullopt});
  }

  void supervise(std::string what, std::uint64_t failures) {
    const SupervisionPolicy& p = options_.supervision;
    const auto now = p.clock ? p.clock() : std::chrono::steady_clock::now();
    bool restarted = budget_.try_restart(now);
    if (restarted && p.restart == RestartPolicy::reset_state) {
      try {
        behavior_.emplace(factory_());
      } catch (...) {
        restarted = false;  // a factory that throws cannot restart the actor
      }
    }
    if (restarted) {
      restarts_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    } else {
      failed_for_good_ = true;
      // release: pairs with the acquire load in refusal(), in a sender refused after close.
      stopped_by_failure_.store(true, std::memory_order_release);
      close(true, AskError::actor_failed);
    }
    if (p.on_failure) p.on_failure(FailureReport{std::move(what), failures, !restarted});
  }

  void close(bool discard, AskError answer) {
    std::vector<Envelope> discarded;
    mailbox_.close(discard, discarded);
    for (Envelope& e : discarded) answer_unhandled(e, answer);
  }

  void answer_unhandled(Envelope& e, AskError answer) {
    discarded_.fetch_add(1, std::memory_order_relaxed);  // relaxed: statistics
    if (e.promise) e.promise->fulfil({answer, std::nullopt});
  }

  Scheduler& scheduler_;
  std::function<B()> factory_;
  const ActorOptions options_;
  Mailbox<Envelope> mailbox_;
  // Used only by the worker running the actor's turn (turns are ordered by the mailbox lock):
  RestartBudget budget_;
  std::optional<B> behavior_;
  std::vector<Envelope> batch_;
  bool failed_for_good_ = false;

  std::atomic<bool> stopped_by_failure_{false};
  std::atomic<std::uint64_t> accepted_{0}, handled_{0}, failed_{0}, discarded_{0}, restarts_{0};
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
  // each reset_state restart. Throws std::logic_error after shutdown.
  template <Behavior B>
  ActorRef<B> spawn(std::function<B()> factory, ActorOptions options = {})
      ABSL_LOCKS_EXCLUDED(mu_) {
    auto cell = std::make_shared<ActorCell<B>>(scheduler_, std::move(factory), std::move(options));
    SignalLock lock(mu_);
    if (shut_down_) throw std::logic_error("actor system: spawn after shutdown");
    actors_.push_back(cell);
    return ActorRef<B>(std::move(cell));
  }

  // shutdown: not from a handler. Stops every actor per `policy` (no new message is accepted
  // from now on), waits until each has finished, joins the workers. Idempotent.
  void shutdown(StopPolicy policy) ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<std::shared_ptr<ActorControl>> actors;
    {
      SignalLock lock(mu_);
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
