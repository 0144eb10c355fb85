// one_time.hpp: lesson 01b's one-time initialization and per-thread scratch.
//
//   shared_table()   - a function-local static: built once, by whichever thread comes first,
//                      while the others wait; afterwards every call is a check and a return.
//   LazyTable        - the same with std::call_once, for a member built on first use.
//   scratch_buffer() - a thread_local string: each thread its own buffer, never shared, so
//                      never locked; built in each thread on its first use.
// Costs (one call each, measured): once_bench.cpp and lessons/01-shared-state/memory-model.md.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace cp::lessons {

// Counts the tables built, so that tests can check "exactly once". Relaxed: a tally, read
// after the threads that build are joined.
inline std::atomic<int> tables_built{0};

inline std::vector<std::int64_t> build_table() {
  tables_built.fetch_add(1, std::memory_order_relaxed);
  std::vector<std::int64_t> t(256);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<std::int64_t>(i * i);
  return t;
}

// [quote: static-local]
// Since C++11 the first call initializes `table` exactly once, however many threads call at
// the same time; the others wait until it is built. Later calls only check a guard flag: an
// acquire load that pairs with the release store that marked it built.
inline const std::vector<std::int64_t>& shared_table() {
  static const std::vector<std::int64_t> table = build_table();
  return table;
}
// [end quote]

// [quote: call-once]
class LazyTable {
 public:
  const std::vector<std::int64_t>& get() {
    std::call_once(once_, [this] { table_ = build_table(); });  // one caller builds, all see it
    return table_;
  }

 private:
  std::once_flag once_;
  std::vector<std::int64_t> table_;  // written once inside call_once, read-only after
};
// [end quote]

// [quote: thread-local]
// Each thread gets its own buffer, built on its first call in that thread and destroyed when
// the thread exits. Nothing is shared, so nothing is locked, and the buffer's capacity is
// reused from one call to the next.
inline std::string& scratch_buffer() {
  thread_local std::string buffer;
  buffer.clear();
  return buffer;
}
// [end quote]

}  // namespace cp::lessons
