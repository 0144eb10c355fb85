// ask.hpp: the one-shot reply of an ask, and the errors an ask can end with.
//
//   AskError      - ok, timeout, stopped, actor_failed, handler_failed, mailbox_full.
//   AskResult<R>  - an AskError and, when ok, the reply value.
//   ReplyPromise<R> - the shared one-shot slot: the actor fulfils it once; the asker waits for
//                  it until a deadline. Either side may go first; the asker may give up (timeout)
//                  and leave; a late fulfil then lands in a slot nobody reads (it is shared, so
//                  this is safe) and is lost on purpose.
//
// Guarantee: wait_until never hangs past its deadline, and the first fulfil wins (later ones are
// ignored), so every ask ends with exactly one AskResult. A fulfil whose result cannot be
// moved in (the reply's move throws) leaves the slot empty and throws to the fulfiller, who
// then fulfils it with an error. wait_until moves the reply out on the asker's thread: a reply
// whose move throws there throws from ask().
// Cost: one allocation (the shared slot) and, if the asker sleeps, one futex wake per ask.
#pragma once

#include <absl/base/thread_annotations.h>

#include <chrono>
#include <condition_variable>
#include <optional>
#include <string_view>
#include <utility>

#include "patterns/actor/hooks.hpp"
#include "patterns/actor/signal_mutex.hpp"

namespace cp::actor {

enum class AskError {
  ok,
  timeout,         // no reply before the deadline (the message may still be handled later)
  stopped,         // the actor was stopped: the message was refused or discarded, not handled
  actor_failed,    // the actor hit its restart limit and stopped: the message was not handled
  handler_failed,  // the handler threw on this message (the actor was restarted per policy)
  mailbox_full,    // bounded mailbox, overload policy reject: not accepted
  asked_itself,    // asked from the actor's own handler: the reply could only come after the
                   // handler returns, so the message was not sent (not counted)
};

constexpr std::string_view to_string(AskError e) {
  switch (e) {
    case AskError::ok: return "ok";
    case AskError::timeout: return "timed out waiting for the reply";
    case AskError::stopped: return "actor stopped";
    case AskError::actor_failed: return "actor failed (restart limit reached)";
    case AskError::handler_failed: return "handler threw on this message";
    case AskError::mailbox_full: return "mailbox full";
    case AskError::asked_itself: return "an actor asked itself from its own handler";
  }
  return "?";
}

template <class R>
struct AskResult {
  AskError error = AskError::ok;
  std::optional<R> value;  // set iff error == ok
  bool ok() const { return error == AskError::ok; }
};

template <class R>
class ReplyPromise {
 public:
  // fulfil: used by the actor's worker (or by whoever discards the message). The first call
  // wins; later calls change nothing. Never blocks (beyond the slot's short lock).
  void fulfil(AskResult<R> result) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      SignalLock lock(mu_);
      if (result_) return;
      result_ = std::move(result);
    }
    // After the lock, so the asker does not wake into a held lock. The asker may have its
    // result and be gone by now: this is safe because the slot is shared (the fulfiller holds
    // a reference for the whole call).
    ActorHooks::at(ActorHookPoint::reply_stored, this);
    cv_.notify_one();
  }

  // wait_until: used by the asker. The result, or AskError::timeout once `deadline` passed.
  AskResult<R> wait_until(std::chrono::steady_clock::time_point deadline)
      ABSL_LOCKS_EXCLUDED(mu_) {
    SignalLock lock(mu_);
    while (!result_) {
      if (!mu_.wait_until(cv_, deadline) && !result_) return {AskError::timeout, std::nullopt};
    }
    return std::move(*result_);
  }

 private:
  SignalMutex mu_;
  std::condition_variable cv_;
  std::optional<AskResult<R>> result_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cp::actor
