// print_outcome.hpp: how lesson 06's demos report a schedule's outcome.
#pragma once

#include <cstdio>

#include "lessons/06-lock-free/schedules.hpp"

namespace cp::lessons {

// Prints pushed and popped values and whether each value came out exactly once; returns that.
inline bool print_outcome(const char* policy, const ScheduleOutcome& o) {
  std::printf("policy %s\n  pushed:", policy);
  for (int v : o.pushed) std::printf(" %d", v);
  std::printf("\n  popped:");
  for (int v : o.popped) std::printf(" %d", v);
  if (!o.drain_ended) std::printf(" ... (still popping after the drain's limit: a cycle)");
  const bool ok = exactly_once(o);
  std::printf("\n  %s\n", ok ? "every value popped exactly once"
                             : "CORRUPTED: some value popped twice or never");
  return ok;
}

}  // namespace cp::lessons
