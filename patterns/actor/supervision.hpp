// supervision.hpp: what happens when an actor's handler throws.
//
//   FailureDirective  - what a failure does to the actor's state, named as Akka names its
//                       directives. restart: the state is discarded and rebuilt from the
//                       factory (Erlang/OTP's restart from the child spec, Akka's Restart, and
//                       our default). resume: the state is kept as the failed message left it
//                       (Akka's Resume); safe only when the handler gives the strong exception
//                       guarantee (a throw leaves the state as it was before the message).
//   SupervisionPolicy - the directive, the failure budget (at most max_failures within
//                       `window`, restarts and resumes alike; one more stops the actor for
//                       good, as OTP's intensity/period), the clock that measures the window
//                       (injectable, for tests), and an optional on_failure report.
//   FailureReport     - what on_failure receives: the exception's text, the failure count, and
//                       whether the actor carried on (restarted or resumed) or stopped.
//   FailureBudget     - the sliding-window count behind the failure limit.
//
// Guarantee: a throwing handler (or clock, factory, on_failure: see actor.hpp) never kills a
// worker; the message's asker gets AskError::handler_failed; the failure is counted; the
// messages behind it are still handled (after the restart or resume) or, once the budget is
// spent, answered with AskError::actor_failed.
// Differences from the anchors: OTP and Akka count restarts only (Akka's resume is free); we
// count every failure, so a handler that always throws stops under either directive.
// lessons/07-actors ("Step 3: supervision") says when each directive is safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>
#include <functional>
#include <string>

namespace cp::actor {

// FailureDirective: restart (fresh state from the factory) or resume (keep the state).
enum class FailureDirective { restart, resume };

using SupervisionClock = std::function<std::chrono::steady_clock::time_point()>;

struct FailureReport {
  std::string what;             // the exception's what(), or "unknown exception"
  std::uint64_t failures = 0;   // this actor's failures so far, this one included
  bool stopped = false;         // true: the failure budget was spent and the actor stopped
};

struct SupervisionPolicy {
  FailureDirective directive = FailureDirective::restart;
  unsigned max_failures = 10;  // within `window`; 0: the first failure stops the actor
  std::chrono::steady_clock::duration window = std::chrono::seconds(1);
  SupervisionClock clock;      // empty: std::chrono::steady_clock::now. If it throws, the
                               // actor cannot carry on: it stops, as when the budget is spent
  // on_failure: called on the worker thread, inside the failed message's turn (asking its own
  // actor from here answers asked_itself). If it throws, that report is lost, nothing else.
  std::function<void(const FailureReport&)> on_failure;
};

// FailureBudget: not thread-safe; used by the worker running the actor's turn (turns of one
// actor are ordered by its mailbox lock).
class FailureBudget {
 public:
  explicit FailureBudget(const SupervisionPolicy& p) : max_(p.max_failures), window_(p.window) {}

  // try_carry_on: true if surviving one more failure at `now` stays within the budget (and
  // records it).
  bool try_carry_on(std::chrono::steady_clock::time_point now) {
    std::size_t old = 0;
    while (old < survived_.size() && now - survived_[old] >= window_) ++old;
    survived_.erase(survived_.begin(), survived_.begin() + static_cast<std::ptrdiff_t>(old));
    if (survived_.size() >= max_) return false;
    survived_.push_back(now);
    return true;
  }

 private:
  unsigned max_;
  std::chrono::steady_clock::duration window_;
  std::vector<std::chrono::steady_clock::time_point> survived_;  // empty: no allocation
};

}  // namespace cp::actor
