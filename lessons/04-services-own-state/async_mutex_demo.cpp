// async_mutex_demo.cpp (target l04c_async_mutex): state changed across a co_await, on one
// thread, without a lock, with a std::mutex, and with an AsyncMutex.
//
// --tasks tasks each add 1 to a balance --adds times. Each add reads the balance, awaits a
// slow call (a reply that the loop delivers later, as Fraud's verdict is delivered in
// task_payment_service.hpp), then writes the balance back. There is one thread and no data
// race, and still:
//   1. no lock: every task reads the same old balance before any writes: updates are lost;
//   2. a std::mutex held across the co_await: the second task to lock it would block the only
//      thread, so the first could never resume to unlock: a deadlock. This program asks with
//      try_lock() instead of lock() and reports it rather than hanging;
//   3. an AsyncMutex held across the co_await: the balance is exact; the tasks now take turns
//      through the slow call, so it takes --tasks times as many loop rounds.
#include <cstdio>
#include <mutex>
#include <optional>

#include "lessons/04-services-own-state/async_mutex.hpp"
#include "lessons/04-services-own-state/tasks.hpp"
#include "lessons/common/cli.hpp"

namespace {

using namespace cp::lessons::tasks;

struct Account {
  long balance = 0;
};

// The slow call: a reply per task, delivered by the loop (the "event source").
using SlowCalls = Replies<int, int>;

// [quote: lost-update]
Task<> add_unlocked(Account& a, SlowCalls& slow, int id, int adds) {
  for (int i = 0; i < adds; ++i) {
    const long read = a.balance;
    (void)co_await slow.wait(id);  // other tasks run here, and read the same balance
    a.balance = read + 1;
  }
}
// [end quote]

// [quote: std-mutex]
Task<> add_std_mutex(Account& a, std::mutex& m, SlowCalls& slow, int id, int adds,
                     int& would_deadlock) {
  for (int i = 0; i < adds; ++i) {
    if (!m.try_lock()) {  // lock() here blocks the thread the holder needs to resume on
      ++would_deadlock;
      co_return;
    }
    std::lock_guard held(m, std::adopt_lock);
    const long read = a.balance;
    (void)co_await slow.wait(id);  // suspended while holding a std::mutex
    a.balance = read + 1;
  }
}
// [end quote]

// [quote: async-mutex]
Task<> add_async_mutex(Account& a, AsyncMutex& m, SlowCalls& slow, int id, int adds) {
  for (int i = 0; i < adds; ++i) {
    auto guard = co_await m.lock();  // suspends (never blocks) while another task holds it
    const long read = a.balance;
    (void)co_await slow.wait(id);
    a.balance = read + 1;
  }  // guard: unlocked here, handed to the longest waiter
}
// [end quote]

// One run's world: one thread's executor, its event source, the state, an AsyncMutex.
struct World {
  Executor ex;
  SlowCalls slow{ex};
  Account account;
  AsyncMutex mu{ex};
};

// The loop: run the tasks; when all wait, answer every pending slow call (one "round").
template <class Spawn>
long run(int tasks, Spawn spawn, long& rounds) {
  World w;
  TaskGroup group(w.ex);
  for (int id = 0; id < tasks; ++id) group.spawn(spawn(w, id));
  rounds = 0;
  for (;;) {
    w.ex.run_ready();
    bool answered = false;
    for (int id = 0; id < tasks; ++id) answered = w.slow.deliver(id, 0) || answered;
    if (!answered) break;
    ++rounds;
  }
  return w.account.balance;
}

}  // namespace

int main(int argc, char** argv) {
  long long tasks = 4, adds = 1000;
  cp::lessons::Cli cli("l04c_async_mutex",
                       "state changed across co_await on one thread: no lock, std::mutex, "
                       "AsyncMutex");
  cli.option("tasks", tasks, "tasks on the one thread", 2, 10'000)
      .option("adds", adds, "adds per task, each across a slow call", 1, 10'000'000);
  cli.parse(argc, argv);
  const int t = static_cast<int>(tasks), k = static_cast<int>(adds);
  const long expected = static_cast<long>(tasks * adds);
  long rounds = 0;

  std::printf("%d tasks on one thread, each adding 1 to a balance %d times across a slow call\n"
              "(expected balance %ld). A round: the loop answers every slow call pending.\n\n",
              t, k, expected);

  const long lost = run(t, [k](World& w, int id) {
    return add_unlocked(w.account, w.slow, id, k);
  }, rounds);
  std::printf("1. no lock:                    balance %8ld (%ld updates lost), %ld rounds\n",
              lost, expected - lost, rounds);

  std::mutex plain;
  int would_deadlock = 0;
  const long with_std = run(t, [&](World& w, int id) {
    return add_std_mutex(w.account, plain, w.slow, id, k, would_deadlock);
  }, rounds);
  std::printf("2. std::mutex across co_await: balance %8ld; %d of %d tasks found it held by a\n"
              "   task suspended on their own thread: lock() there would hang the program\n",
              with_std, would_deadlock, t);

  const long exact = run(t, [k](World& w, int id) {
    return add_async_mutex(w.account, w.mu, w.slow, id, k);
  }, rounds);
  std::printf("3. AsyncMutex across co_await: balance %8ld (%s), %ld rounds: the tasks take turns\n",
              exact, exact == expected ? "exact" : "WRONG", rounds);
  return exact == expected && would_deadlock == t - 1 ? 0 : 1;
}

// How to run:
//   ./build/release/lessons/04-services-own-state/l04c_async_mutex
//   ./build/release/lessons/04-services-own-state/l04c_async_mutex --tasks=2 --adds=3
// What to expect: 1. the balance is --adds, not --tasks x --adds: all tasks read the same
// balance in each round, so (tasks - 1) x adds updates are lost, with --adds rounds.
// 2. every task but the first finds the std::mutex held by a task that is suspended on the
// same thread, and gives up (a real lock() would block forever); the first one finishes.
// 3. exact, in --tasks x --adds rounds: holding the lock across the slow call serialises the
// calls. Exit code 0 when 3 is exact and 2 detected every would-be deadlock.
