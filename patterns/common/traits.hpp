// traits.hpp: what every design declares about itself, in code the tests and benchmarks read.
//
// Each design class carries `static constexpr cp::DesignTraits traits{...}`. The conformance
// suite checks the claims (tests/conformance/traits_test.cpp) and the comparison prints them.
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>

namespace cp {

// peer: a well-kept library's structure run beside ours (a comparison row), not one of our patterns.
enum class Family { reference, mutex, rwlock, lock_free, work_stealing, actor, single_writer, peer };

// How a caller waits when it cannot proceed at once.
enum class Waiting {
  never,   // never waits (the single-threaded reference, wait-free designs)
  blocks,  // sleeps in the kernel (futex): costs no CPU while waiting
  spins,   // busy-waits: burns a core while waiting
};

// What a design with a queue does when the queue is full.
enum class Overload { not_applicable, block, reject };

struct DesignTraits {
  std::string_view name;            // row label in the comparison, e.g. "mutex-striped"
  Family family;
  bool thread_safe;                 // false only for the sequential reference
  bool linearizable_reads;          // get/total/query see every write that completed before
  bool lock_free;
  Waiting waiting;
  std::size_t queue_bound = 0;      // 0: the design has no queue
  Overload overload = Overload::not_applicable;
  bool exposes_commit_order = false;  // order workload: offers a replayable commit log
  unsigned owned_threads = 0;       // threads the design runs itself (an engine's owner...)
  std::string_view eviction = "";   // cache workload: the eviction policy, in words
  // pipelined: the benchmark drives it without waiting for each reply (fire-and-forget adds,
  // a window of orders in flight). Its latency columns are then the time to hand an operation
  // off (plus waiting for room), not the time until its effect or reply: compare its
  // throughput with the other rows, not its latencies.
  bool pipelined = false;
};

constexpr std::string_view to_string(Family f) {
  switch (f) {
    case Family::reference: return "reference";
    case Family::mutex: return "mutex";
    case Family::rwlock: return "rwlock";
    case Family::lock_free: return "lock-free";
    case Family::work_stealing: return "work-stealing";
    case Family::actor: return "actor";
    case Family::single_writer: return "single-writer";
    case Family::peer: return "peer";
  }
  return "?";
}

constexpr std::string_view to_string(Waiting w) {
  switch (w) {
    case Waiting::never: return "never waits";
    case Waiting::blocks: return "blocks";
    case Waiting::spins: return "spins";
  }
  return "?";
}

constexpr std::string_view to_string(Overload o) {
  switch (o) {
    case Overload::not_applicable: return "n/a";
    case Overload::block: return "block";
    case Overload::reject: return "reject";
  }
  return "?";
}

// Every design of every workload satisfies this.
template <class D>
concept DeclaresTraits = requires {
  { D::traits } -> std::convertible_to<DesignTraits>;
};

}  // namespace cp
