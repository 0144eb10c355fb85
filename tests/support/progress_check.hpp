// progress_check.hpp: the lock-free claim, tested. One thread is parked in the middle of an
// operation (at a hook point of patterns/lock_free/hooks.hpp); other threads must still
// complete theirs. A lock-based structure parked inside its critical section stops them all.
//
//   run_with_one_parked(...) - parks one thread at `where` inside `parked_op`, runs `others`
//                              threads doing `ops_each` calls of `other_op`, and counts how
//                              many calls completed while the first thread stayed parked.
//
// It waits at most `patience` for the others. A lock-free design finishes long before (the
// patience is only a guard against hanging the test suite: no speed is asserted). A blocked
// design completes nothing however long we wait; the contrast test waits a short while and
// checks that nothing completed. The parked thread is released afterwards either way.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include "patterns/lock_free/hooks.hpp"

namespace cp::test {

struct ProgressResult {
  std::uint64_t completed_while_parked = 0;
  std::uint64_t wanted = 0;  // others x ops_each
};

template <class ParkedOp, class OtherOp>
ProgressResult run_with_one_parked(lf::HookPoint where, ParkedOp parked_op, OtherOp other_op,
                                   unsigned others, int ops_each,
                                   std::chrono::milliseconds patience) {
  ProgressResult r;
  r.wanted = std::uint64_t{others} * static_cast<std::uint64_t>(ops_each);
  std::latch parked(1), resume(1);
  std::thread stalled([&] {
    lf::ParkOnce park(where, parked, resume);
    parked_op();
  });
  parked.wait();
  std::atomic<std::uint64_t> completed{0};
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < others; ++t)
    workers.emplace_back([&, t] {
      for (int i = 0; i < ops_each; ++i) {
        other_op(t);
        completed.fetch_add(1, std::memory_order_relaxed);  // a count only
      }
    });
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (completed.load(std::memory_order_relaxed) < r.wanted &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  r.completed_while_parked = completed.load(std::memory_order_relaxed);
  resume.count_down();
  stalled.join();
  for (auto& w : workers) w.join();
  return r;
}

}  // namespace cp::test
