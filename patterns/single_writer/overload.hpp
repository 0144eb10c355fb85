// overload.hpp: what a producer's call does when the owner's queue is full, and the counts
// that prove nothing went missing.
//
//   OverloadPolicy   - block: wait for room (backpressure reaches the caller);
//                      reject: return at once with rejected_full (the caller decides: retry
//                              later, answer "busy", route elsewhere, or shed the command
//                              and count it).
//                      There is no separate "drop": dropping the newest command is a reject
//                      whose caller chose not to retry, so it would differ only in its label.
//                      Dropping the *oldest* queued command instead (keep the freshest
//                      telemetry) would need the producer to take back a slot the owner may
//                      already be reading, which this ring (it takes no lock) cannot do
//                      without one.
//   SubmitStatus     - accepted, rejected_full, stopped (the engine was stopped).
//   EngineStopped    - the exception a design throws when an operation whose contract has no
//                      "stopped" answer (a counter's get, a cache's size) reaches a stopped
//                      engine: a typed error the caller can catch, distinct from misuse.
//   OverloadCounters - relaxed atomic counters; once all submitters have finished,
//                      offered == accepted + rejected + stopped (balanced()).
//   to_string(...)   - names for output.
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "patterns/common/traits.hpp"

namespace cp::sw {

enum class OverloadPolicy { block, reject };
enum class SubmitStatus { accepted, rejected_full, stopped };

// EngineStopped: "the engine was stopped before this command got in; nothing was applied."
struct EngineStopped : std::runtime_error {
  explicit EngineStopped(const std::string& what) : std::runtime_error(what + ": engine stopped") {}
};

constexpr cp::Overload to_overload(OverloadPolicy p) {
  switch (p) {
    case OverloadPolicy::block: return cp::Overload::block;
    case OverloadPolicy::reject: return cp::Overload::reject;
  }
  return cp::Overload::not_applicable;
}

constexpr std::string_view to_string(SubmitStatus s) {
  switch (s) {
    case SubmitStatus::accepted: return "accepted";
    case SubmitStatus::rejected_full: return "rejected (full)";
    case SubmitStatus::stopped: return "stopped";
  }
  return "?";
}

class OverloadCounters {
 public:
  struct Snapshot {
    std::uint64_t offered = 0, accepted = 0, rejected = 0, stopped = 0;
    bool balanced() const { return offered == accepted + rejected + stopped; }
  };

  // Used by submitters. relaxed: these are statistics; they order nothing, and they are
  // exact once the submitting threads have been joined (the join orders them).
  void record(SubmitStatus s) noexcept {
    offered_.fetch_add(1, std::memory_order_relaxed);
    counter(s).fetch_add(1, std::memory_order_relaxed);
  }

  // Any thread; exact only when no submit is in flight.
  Snapshot snapshot() const noexcept {
    // relaxed: see record().
    return {offered_.load(std::memory_order_relaxed), accepted_.load(std::memory_order_relaxed),
            rejected_.load(std::memory_order_relaxed), stopped_.load(std::memory_order_relaxed)};
  }

 private:
  std::atomic<std::uint64_t>& counter(SubmitStatus s) noexcept {
    switch (s) {
      case SubmitStatus::accepted: return accepted_;
      case SubmitStatus::rejected_full: return rejected_;
      case SubmitStatus::stopped: return stopped_;
    }
    return stopped_;
  }
  std::atomic<std::uint64_t> offered_{0}, accepted_{0}, rejected_{0}, stopped_{0};
};

}  // namespace cp::sw
