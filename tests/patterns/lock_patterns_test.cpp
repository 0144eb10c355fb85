// lock_patterns_test.cpp: the lock building blocks of patterns/mutex and patterns/rwlock.
#include <catch2/catch.hpp>

#include <atomic>
#include <vector>

#include "comparisons/common/random.hpp"
#include "patterns/mutex/mutex.hpp"
#include "patterns/rwlock/shared_mutex.hpp"
#include "tests/support/findings.hpp"
#include "tests/support/trait_checks.hpp"

using namespace cp;
using namespace cp::test;

namespace {

// Accounts moved between at random under PairLock: with opposite-order pairs in flight on
// many threads, a wrong lock order would deadlock (and hit the ctest timeout); a missing lock
// would lose money.
struct Account {
  Mutex mu;
  std::int64_t balance ABSL_GUARDED_BY(mu) = 1000;
};

}  // namespace

TEST_CASE("PairLock: transfers in opposite orders neither deadlock nor lose money", "[stress]") {
  const auto s = seed();
  constexpr int kAccounts = 4;
  std::vector<Account> accounts(kAccounts);
  run_threads(8, [&](unsigned t) {
    Xoshiro256 rng(derive_seed(s, t));
    for (int i = 0; i < 20'000; ++i) {
      const auto a = rng.below(kAccounts), b = rng.below(kAccounts);
      PairLock lock(accounts[a].mu, a, accounts[b].mu, b);
      accounts[a].balance -= 1;
      accounts[b].balance += 1;
    }
  });
  std::int64_t sum = 0;
  for (auto& acc : accounts) {
    MutexLock lock(acc.mu);
    sum += acc.balance;
  }
  INFO("seed " << s);
  REQUIRE(sum == 1000 * kAccounts);
}

TEMPLATE_TEST_CASE("read-write locks: readers share, writers exclude", "[unit]", SharedMutex,
                   AbslSharedMutex) {
  TestType m;
  std::atomic<int> readers_inside{0}, max_readers{0};
  std::atomic<bool> writer_saw_reader{false};
  run_threads(4, [&](unsigned t) {
    for (int i = 0; i < 2'000; ++i) {
      if (t == 0 && i % 10 == 0) {
        WriteLock<TestType> lock(m);
        // seq_cst: the writer must see any reader that got in.
        if (readers_inside.load() != 0) writer_saw_reader.store(true);
      } else {
        ReadLock<TestType> lock(m);
        const int now = readers_inside.fetch_add(1) + 1;
        int seen = max_readers.load();
        while (now > seen && !max_readers.compare_exchange_weak(seen, now)) {
        }
        readers_inside.fetch_sub(1);
      }
    }
  });
  REQUIRE_FALSE(writer_saw_reader.load());
  REQUIRE(max_readers.load() >= 1);
}

TEMPLATE_TEST_CASE("locks that claim to block sleep while waiting", "[trait]", Mutex,
                   SharedMutex, AbslSharedMutex) {
  STATIC_REQUIRE(TestType::waiting == Waiting::blocks);
  // A blocking waiter sleeps in the kernel (a voluntary context switch) at least once while the
  // lock is held for 100 ms; a spinning one never does, however busy the machine.
  const long sleeps = sleeps_while_waiting<TestType>();
  INFO("voluntary context switches while waiting: " << sleeps);
  REQUIRE(sleeps >= 1);
}
