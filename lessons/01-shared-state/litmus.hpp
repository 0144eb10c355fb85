// litmus.hpp: lesson 01b's litmus tests, each run many times on two (or three) threads.
//
//   Ordering           - the memory orders a test's accesses use (relaxed, release/acquire,
//                        seq_cst, or relaxed accesses with fences: seq_cst fences in the
//                        store-buffering test, release and acquire fences in message passing).
//   pin_to_cpu()       - best effort: keep a thread on one of the CPUs this process may use.
//   store_buffering()  - x = i; r1 = y  ||  y = i; r2 = x. Counts of the four (r1, r2).
//   message_passing()  - payload = i; flag = i  ||  wait for flag; read payload. Stale reads.
//   release_sequence() - one producer publishes two items with one release store; two
//                        consumers each take one with fetch_sub. Wrong items seen.
//
// Round i of a test writes the value i, so no variable is ever reset between rounds: "r1 = 0"
// means "thread 1 did not see thread 2's store of this round". The threads keep each other in
// step: after its test, each thread waits until it sees the other's store of this round.
// Lesson: lessons/01-shared-state/memory-model.md.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>
#include <thread>
#include <vector>

namespace cp::lessons {

enum class Ordering { relaxed, release_acquire, seq_cst, fences };

inline std::string_view name(Ordering o) {
  switch (o) {
    case Ordering::relaxed: return "relaxed";
    case Ordering::release_acquire: return "release/acquire";
    case Ordering::seq_cst: return "seq_cst";
    case Ordering::fences: return "relaxed + fences";
  }
  return "?";
}

// pin_to_cpu: puts the calling thread on the `index`-th CPU this process may run on (modulo
// their number). On two cores, pinning the test's two threads apart means that whenever both
// run, they run at the same time, which is when a reordering can show. Best effort: a
// failure leaves the thread where it was.
inline void pin_to_cpu(int index) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  const int count = CPU_COUNT(&allowed);
  if (count < 2) return;
  int wanted = index % count;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (wanted-- == 0) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      pthread_setaffinity_np(pthread_self(), sizeof one, &one);
      return;
    }
  }
}

// PinCaller: pins the calling thread like pin_to_cpu for its lifetime, then puts it back
// where it was allowed to run before (the tests' main thread runs other tests afterwards).
class PinCaller {
 public:
  explicit PinCaller(int index) {
    saved_ok_ = pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_) == 0;
    pin_to_cpu(index);
  }
  ~PinCaller() {
    if (saved_ok_) pthread_setaffinity_np(pthread_self(), sizeof saved_, &saved_);
  }
  PinCaller(const PinCaller&) = delete;
  PinCaller& operator=(const PinCaller&) = delete;

 private:
  cpu_set_t saved_{};
  bool saved_ok_ = false;
};

// relax: called in every spin-wait loop of these tests. Yields now and then, so that a
// partner thread sharing our core (a loaded machine) gets to run.
inline void relax(int& spins) {
  if (++spins % 256 == 0) std::this_thread::yield();
}

// wait_until_at_least: spins until v holds `round` or more.
inline void wait_until_at_least(const std::atomic<std::int64_t>& v, std::int64_t round) {
  int spins = 0;
  // Relaxed: this wait only paces the rounds; what a round's test reads is not ordered by it.
  while (v.load(std::memory_order_relaxed) < round) relax(spins);
}

// Outcomes of the store-buffering test: count[r1 * 2 + r2], where r1 = 1 means thread 1 saw
// thread 2's store of its round (and r2 likewise).
struct StoreBufferingCounts {
  std::array<std::int64_t, 4> count{};
  std::int64_t both_zero() const { return count[0]; }
  std::int64_t total() const { return count[0] + count[1] + count[2] + count[3]; }
};

// The store-buffering test shows the store buffer only in optimized code: g++ -O0 (the debug
// build) puts so much work between the store and the load that both-zero never appears, and
// a test could not tell seq_cst from release/acquire. So g++ compiles this part at -O2 in
// every build (clang's builds here are optimized already).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("O2")
#endif

// [quote: sb-side]
// One side of the store-buffering test: store to `mine`, then load `theirs`. Under seq_cst
// the two stores and two loads have one order that all threads agree on, so whichever store
// comes first in it is seen by the other side's load: at least one side reads 1. Under
// release/acquire (or relaxed) nothing forbids both loads reading the old values.
template <Ordering O>
bool store_then_load(std::atomic<std::int64_t>& mine, const std::atomic<std::int64_t>& theirs,
                     std::int64_t round) {
  if constexpr (O == Ordering::seq_cst) {
    mine.store(round, std::memory_order_seq_cst);
    return theirs.load(std::memory_order_seq_cst) >= round;
  } else if constexpr (O == Ordering::fences) {
    mine.store(round, std::memory_order_relaxed);  // ordered before the load by the fence
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with the other side's fence
    return theirs.load(std::memory_order_relaxed) >= round;
  } else if constexpr (O == Ordering::release_acquire) {
    mine.store(round, std::memory_order_release);  // pairs with the other side's acquire load
    return theirs.load(std::memory_order_acquire) >= round;  // pairs with its release store
  } else {
    mine.store(round, std::memory_order_relaxed);  // pairs with nothing: no ordering asked
    return theirs.load(std::memory_order_relaxed) >= round;
  }
}
// [end quote]

template <Ordering O>
StoreBufferingCounts store_buffering(std::int64_t rounds) {
  struct alignas(64) Cell {  // x and y on their own cache lines
    std::atomic<std::int64_t> value{0};
  };
  Cell x, y;
  std::vector<unsigned char> r1(rounds), r2(rounds);
  std::thread other([&] {
    pin_to_cpu(1);
    for (std::int64_t i = 1; i <= rounds; ++i) {
      r2[i - 1] = store_then_load<O>(y.value, x.value, i);
      wait_until_at_least(x.value, i);  // keep in step with thread 1
    }
  });
  const PinCaller pinned(0);
  for (std::int64_t i = 1; i <= rounds; ++i) {
    r1[i - 1] = store_then_load<O>(x.value, y.value, i);
    wait_until_at_least(y.value, i);
  }
  other.join();
  StoreBufferingCounts c;
  for (std::int64_t i = 0; i < rounds; ++i) ++c.count[r1[i] * 2 + r2[i]];
  return c;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

inline StoreBufferingCounts store_buffering(Ordering o, std::int64_t rounds) {
  switch (o) {
    case Ordering::relaxed: return store_buffering<Ordering::relaxed>(rounds);
    case Ordering::release_acquire: return store_buffering<Ordering::release_acquire>(rounds);
    case Ordering::seq_cst: return store_buffering<Ordering::seq_cst>(rounds);
    case Ordering::fences: return store_buffering<Ordering::fences>(rounds);
  }
  return {};
}

// The message-passing test: rounds run, and reads of the payload that missed its round's value.
struct MessagePassingCounts {
  std::int64_t rounds = 0;
  std::int64_t stale = 0;
};

// [quote: mp-sides]
// The writer publishes a plain int through an atomic flag. With release/acquire, the reader
// that sees round i's flag also sees round i's payload: the store to `payload` happens before
// the release store, that store synchronizes with the acquire load that reads it, and that
// load happens before the read of `payload`. With relaxed, nothing orders the two threads'
// accesses to `payload`: a data race, undefined behaviour, and what ThreadSanitizer reports.
template <Ordering O>
void publish(int& payload, std::atomic<std::int64_t>& flag, std::int64_t round) {
  payload = static_cast<int>(round);
  if constexpr (O == Ordering::release_acquire) {
    flag.store(round, std::memory_order_release);  // pairs with read_after_flag's acquire load
  } else if constexpr (O == Ordering::fences) {
    std::atomic_thread_fence(std::memory_order_release);  // pairs with the reader's acquire fence
    flag.store(round, std::memory_order_relaxed);  // ordered after the payload by the fence
  } else {
    flag.store(round, std::memory_order_relaxed);  // BUG (relaxed): publishes nothing
  }
}

template <Ordering O>
int read_after_flag(const int& payload, const std::atomic<std::int64_t>& flag, std::int64_t round) {
  int spins = 0;
  if constexpr (O == Ordering::release_acquire) {
    while (flag.load(std::memory_order_acquire) < round) relax(spins);  // pairs with publish
  } else if constexpr (O == Ordering::fences) {
    while (flag.load(std::memory_order_relaxed) < round) relax(spins);  // ordered by the fence
    std::atomic_thread_fence(std::memory_order_acquire);  // pairs with publish's release fence
  } else {
    while (flag.load(std::memory_order_relaxed) < round) relax(spins);  // BUG: orders nothing
  }
  return payload;
}
// [end quote]

// message_passing: `rounds` rounds of publish || read_after_flag. The reader's `done` store
// tells the writer it may write the next round's payload (release/acquire: the read of round
// i happens before the write of round i + 1, so the rounds never race with each other).
template <Ordering O>
MessagePassingCounts message_passing(std::int64_t rounds) {
  int payload = 0;
  alignas(64) std::atomic<std::int64_t> flag{0};
  alignas(64) std::atomic<std::int64_t> done{0};
  MessagePassingCounts c{rounds, 0};
  std::thread reader([&] {
    pin_to_cpu(1);
    for (std::int64_t i = 1; i <= rounds; ++i) {
      if (read_after_flag<O>(payload, flag, i) != static_cast<int>(i)) ++c.stale;
      done.store(i, std::memory_order_release);  // pairs with the writer's acquire load below
    }
  });
  const PinCaller pinned(0);
  for (std::int64_t i = 1; i <= rounds; ++i) {
    publish<O>(payload, flag, i);
    int spins = 0;
    while (done.load(std::memory_order_acquire) < i) relax(spins);  // pairs with done.store
  }
  reader.join();
  return c;
}

inline MessagePassingCounts message_passing(Ordering o, std::int64_t rounds) {
  switch (o) {
    case Ordering::relaxed: return message_passing<Ordering::relaxed>(rounds);
    case Ordering::release_acquire: return message_passing<Ordering::release_acquire>(rounds);
    case Ordering::fences: return message_passing<Ordering::fences>(rounds);
    case Ordering::seq_cst: break;  // not a variant of this test
  }
  return {};
}

// [quote: release-sequence]
// One producer fills two slots and publishes both with one release store of the count. Each
// of two consumers takes one slot with fetch_sub. The second consumer's fetch_sub reads the
// value the first consumer's fetch_sub wrote, not the producer's store; it still synchronizes
// with the producer, because a chain of read-modify-writes continues the release sequence
// that the producer's release store began. (Had the first consumer written with a plain
// store instead of an RMW, the chain would break there.)
struct Handout {
  std::array<int, 2> slot{};
  std::atomic<int> count{0};

  void produce(int value) {
    slot = {value, value};
    count.store(2, std::memory_order_release);  // heads the release sequence take() reads
  }
  int take() {  // called once per round by each consumer
    int spins = 0;
    while (count.load(std::memory_order_relaxed) <= 0) relax(spins);  // only waits: RMW orders
    const int n = count.fetch_sub(1, std::memory_order_acquire);  // pairs with produce's store
    return slot[n - 1];
  }
};
// [end quote]

// release_sequence: `rounds` rounds of produce || take || take; counts the wrong values taken.
// Between rounds the three threads meet at a counter, so round i + 1's produce() happens after
// round i's take()s.
inline std::int64_t release_sequence(std::int64_t rounds) {
  Handout h;
  std::atomic<std::int64_t> arrived{0};
  auto meet = [&](std::int64_t round) {
    arrived.fetch_add(1, std::memory_order_acq_rel);  // pairs with the loads of meet()
    int spins = 0;
    while (arrived.load(std::memory_order_acquire) < 3 * round) relax(spins);  // pairs with ^
  };
  std::atomic<std::int64_t> wrong{0};
  auto consumer = [&](int cpu) {
    pin_to_cpu(cpu);
    for (std::int64_t i = 1; i <= rounds; ++i) {
      // Relaxed: a tally, read after the threads are joined.
      if (h.take() != static_cast<int>(i)) wrong.fetch_add(1, std::memory_order_relaxed);
      meet(i);
    }
  };
  std::thread c1(consumer, 0), c2(consumer, 1);  // the producer is not pinned
  for (std::int64_t i = 1; i <= rounds; ++i) {
    h.produce(static_cast<int>(i));
    meet(i);
  }
  c1.join();
  c2.join();
  return wrong.load(std::memory_order_relaxed);
}

}  // namespace cp::lessons
