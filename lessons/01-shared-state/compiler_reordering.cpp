// compiler_reordering.cpp: small functions whose generated code shows the compiler, not the
// processor, reordering around relaxed atomics, and what x86 code each ordering costs. Part
// of target l01b_message_passing (so it is compiled with the project's flags), never called:
// read its assembly instead.
//
//   g++ -std=c++20 -O2 -S -fno-asynchronous-unwind-tables -o - FILE | c++filt
// (FILE: lessons/01-shared-state/compiler_reordering.cpp, from the repository root)
//
// The recorded output, with the machine and compiler, is compiler-reordering.txt.
#include <atomic>

namespace l01b {

int payload;
std::atomic<bool> ready{false};

// [quote: reorder-store]
// Writes the payload, raises the flag, then overwrites the payload. With relaxed, the
// compiler may drop the first payload store (no one is promised to see it) and raise the
// flag before any payload is written. With release, the first store must stay before it.
void publish_then_overwrite_relaxed(int v) {
  payload = v;
  ready.store(true, std::memory_order_relaxed);
  payload = v + 1;
}
void publish_then_overwrite_release(int v) {
  payload = v;
  ready.store(true, std::memory_order_release);
  payload = v + 1;
}
// [end quote]

// [quote: reorder-load]
// Reads the payload before and after waiting for the flag. With relaxed, the compiler may
// reuse the first read for the second: the read "after the flag" happens before it. With
// acquire, the second read must be a new load after the flag is seen.
int read_around_wait_relaxed() {
  const int before = payload;
  while (!ready.load(std::memory_order_relaxed)) {
  }
  return payload + before;
}
int read_around_wait_acquire() {
  const int before = payload;
  while (!ready.load(std::memory_order_acquire)) {
  }
  return payload + before;
}
// [end quote]

// [quote: sb-code]
// The store-buffering test's one side, in two orderings: on x86 a release store and an
// acquire load are plain moves; a seq_cst store becomes xchg, a locked instruction that
// waits for the store buffer to drain before the load may read.
int store_then_load_release_acquire(std::atomic<int>& mine, std::atomic<int>& theirs) {
  mine.store(1, std::memory_order_release);
  return theirs.load(std::memory_order_acquire);
}
int store_then_load_seq_cst(std::atomic<int>& mine, std::atomic<int>& theirs) {
  mine.store(1, std::memory_order_seq_cst);
  return theirs.load(std::memory_order_seq_cst);
}
// [end quote]

}  // namespace l01b
