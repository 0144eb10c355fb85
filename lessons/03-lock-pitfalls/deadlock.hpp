// deadlock.hpp: lesson 03, pitfall 2: two locks taken in opposite orders, and the cure.
//
//   Account                     - a balance behind its own cp::Mutex, with a rank (its id).
//   try_lock_within()           - try_lock until a deadline: how the demo notices a deadlock.
//   demonstrate_deadlock()      - A BUG ON PURPOSE: thread 1 moves money a->b locking a then b,
//                                 thread 2 moves money b->a locking b then a. A latch makes
//                                 both hold their first lock before either asks for its second,
//                                 so the deadlock is certain, not a matter of timing. Each
//                                 thread gives up after a timeout, reports what it held, and
//                                 backs off (releases its lock).
//   transfer_in_global_order()  - THE CURE: both locks through cp::PairLock, which takes the
//                                 lower-ranked account first whoever calls, so no cycle forms.
//   run_transfers_in_global_order() - the demo's workload, many times, to completion.
#pragma once

#include <absl/base/thread_annotations.h>

#include <chrono>
#include <cstdint>
#include <latch>
#include <string>
#include <thread>
#include <vector>

#include "patterns/mutex/mutex.hpp"

namespace cp::lessons {

struct Account {
  Account(std::uint64_t id, std::string name, std::int64_t opening)
      : id(id), name(std::move(name)), balance(opening) {}
  const std::uint64_t id;  // the rank in the global lock order
  const std::string name;
  Mutex mu;
  std::int64_t balance ABSL_GUARDED_BY(mu);

  std::int64_t read_balance() ABSL_LOCKS_EXCLUDED(mu) {
    MutexLock lock(mu);
    return balance;
  }
};

// try_lock_within: tries to lock `m` until `timeout` has passed, by polling try_lock, so that
// the cure below can use the same cp::Mutex. (std::timed_mutex::try_lock_for does not poll: it
// sleeps in a futex wait with a timeout, pthread_mutex_clocklock.) Not
// analysed: a loop that may or may not end holding the lock is beyond the analysis; the
// annotation tells callers that `true` means "now held".
inline bool try_lock_within(Mutex& m, std::chrono::milliseconds timeout)
    ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true, m) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!m.try_lock()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// What one thread of the demo saw.
struct TransferAttempt {
  std::string held, wanted;  // the account locked first, the one it then waited for
  bool got_both = false;
  std::chrono::milliseconds waited{};
};

// [quote: naive]
// transfer_in_caller_order: locks `from`, then `to` - whichever order the caller names them.
// Two callers naming the same pair in opposite orders can each hold one lock and wait
// forever for the other. (The latches only make that interleaving certain for the demo.)
inline TransferAttempt transfer_in_caller_order(Account& from, Account& to, std::int64_t amount,
                                                std::latch& both_hold_first,
                                                std::latch& both_decided,
                                                std::chrono::milliseconds timeout) {
  TransferAttempt attempt{from.name, to.name};
  MutexLock first(from.mu);
  both_hold_first.arrive_and_wait();  // the other thread now holds `to`
  const auto began = std::chrono::steady_clock::now();
  const auto decided = [&] {
    attempt.waited = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - began);
    both_decided.arrive_and_wait();  // nobody releases before both have given up
  };
  if (try_lock_within(to.mu, timeout)) {  // a plain lock() would wait forever
    decided();
    attempt.got_both = true;
    from.balance -= amount;
    to.balance += amount;
    to.mu.unlock();
  } else {
    decided();
  }
  return attempt;  // releasing `first` here is the back-off
}
// [end quote]

// demonstrate_deadlock: runs the two opposite transfers once; returns what each thread saw.
inline std::vector<TransferAttempt> demonstrate_deadlock(Account& a, Account& b,
                                                         std::chrono::milliseconds timeout) {
  std::latch both_hold_first(2), both_decided(2);
  std::vector<TransferAttempt> attempts(2);
  std::thread t1([&] {
    attempts[0] = transfer_in_caller_order(a, b, 10, both_hold_first, both_decided, timeout);
  });
  std::thread t2([&] {
    attempts[1] = transfer_in_caller_order(b, a, 10, both_hold_first, both_decided, timeout);
  });
  t1.join();
  t2.join();
  return attempts;
}

// [quote: ordered]
// transfer_in_global_order: PairLock locks the lower-ranked account first, whatever order
// the caller names them in; every thread agrees on the order, so no cycle of waits can form.
inline void transfer_in_global_order(Account& from, Account& to, std::int64_t amount) {
  PairLock both(from.mu, from.id, to.mu, to.id);
  from.balance -= amount;
  to.balance += amount;
}
// [end quote]

// run_transfers_in_global_order: the demo's workload at scale: thread 1 moves `amount` a->b
// and thread 2 moves it b->a, `transfers` times each, released together by a latch.
inline std::chrono::nanoseconds run_transfers_in_global_order(Account& a, Account& b,
                                                              std::int64_t transfers,
                                                              std::int64_t amount) {
  std::latch start(3);
  auto worker = [&](Account& from, Account& to) {
    start.arrive_and_wait();
    for (std::int64_t i = 0; i < transfers; ++i) transfer_in_global_order(from, to, amount);
  };
  std::thread t1(worker, std::ref(a), std::ref(b));
  std::thread t2(worker, std::ref(b), std::ref(a));
  const auto begin = std::chrono::steady_clock::now();
  start.arrive_and_wait();
  t1.join();
  t2.join();
  return std::chrono::steady_clock::now() - begin;
}

}  // namespace cp::lessons
