// supervision.hpp: what happens when an actor's handler throws.
//
//   RestartPolicy    - reset_state: the actor's behaviour is rebuilt from its factory (Erlang/
//                      OTP and Akka's default); keep_state: the behaviour object is kept as it
//                      is (for state that a failed message cannot have left half-changed).
//   SupervisionPolicy - the restart policy, the restart budget (at most max_restarts within
//                      `window`; one more failure stops the actor for good, as OTP's
//                      intensity/period), the clock that measures the window (injectable, for
//                      tests), and an optional on_failure report.
//   FailureReport    - what on_failure receives: the exception's text, the failure count, and
//                      whether the actor was restarted or stopped.
//   RestartBudget    - the sliding-window count behind the restart limit.
//
// Guarantee: a throwing handler (or clock, factory, on_failure: see actor.hpp) never kills a
// worker; the message's asker gets AskError::handler_failed; the failure is counted; the
// messages behind it are still handled (after a restart) or, once the budget is spent,
// answered with AskError::actor_failed.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>
#include <functional>
#include <string>

namespace cp::actor {

enum class RestartPolicy { reset_state, keep_state };

using SupervisionClock = std::function<std::chrono::steady_clock::time_point()>;

struct FailureReport {
  std::string what;             // the exception's what(), or "unknown exception"
  std::uint64_t failures = 0;   // this actor's failures so far, this one included
  bool stopped = false;         // true: the restart budget was spent and the actor stopped
};

struct SupervisionPolicy {
  RestartPolicy restart = RestartPolicy::reset_state;
  unsigned max_restarts = 10;  // within `window`; 0: the first failure stops the actor
  std::chrono::steady_clock::duration window = std::chrono::seconds(1);
  SupervisionClock clock;      // empty: std::chrono::steady_clock::now. If it throws, the
                               // actor cannot restart: it stops, as when the budget is spent
  // on_failure: called on the worker thread, inside the failed message's turn (asking its own
  // actor from here answers asked_itself). If it throws, that report is lost, nothing else.
  std::function<void(const FailureReport&)> on_failure;
};

// RestartBudget: not thread-safe; used by the worker running the actor's turn (turns of one
// actor are ordered by its mailbox lock).
class RestartBudget {
 public:
  explicit RestartBudget(const SupervisionPolicy& p) : max_(p.max_restarts), window_(p.window) {}

  // try_restart: true if one more restart at `now` stays within the budget (and records it).
  bool try_restart(std::chrono::steady_clock::time_point now) {
    std::size_t old = 0;
    while (old < restarts_.size() && now - restarts_[old] >= window_) ++old;
    restarts_.erase(restarts_.begin(), restarts_.begin() + static_cast<std::ptrdiff_t>(old));
    if (restarts_.size() >= max_) return false;
    restarts_.push_back(now);
    return true;
  }

 private:
  unsigned max_;
  std::chrono::steady_clock::duration window_;
  std::vector<std::chrono::steady_clock::time_point> restarts_;  // empty: no allocation
};

}  // namespace cp::actor
