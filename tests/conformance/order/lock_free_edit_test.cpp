// lock_free_edit_test.cpp: the lock-free order engine (comparisons/order/lock_free_order.hpp)
// when an allocation fails inside a command. Every allocation of every command of a seeded
// stream fails in turn; a command that throws must leave the state exactly as it was (cash,
// reservations, positions, books, orders), its id free for the next try, and nothing leaked
// (LeakSanitizer checks that in the asan preset).
//
// Its own program: the test replaces the global operator new (a per-thread countdown, off
// unless a test sets it), which must not reach the programs that link TBB and CAF.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <optional>

#include "comparisons/common/random.hpp"
#include "comparisons/order/generator.hpp"
#include "comparisons/order/lock_free_order.hpp"
#include "comparisons/order/reference.hpp"
#include "tests/conformance/order/order_checks.hpp"
#include "tests/support/findings.hpp"

namespace {

// The calling thread's countdown: n > 0 makes its n-th allocation from now throw bad_alloc
// (once); 0 is off. fired counts the throws.
thread_local std::uint64_t t_fail_in = 0;
thread_local std::uint64_t t_fired = 0;

void* allocate(std::size_t n, std::size_t align) {
  if (t_fail_in > 0 && --t_fail_in == 0) {
    ++t_fired;
    throw std::bad_alloc();
  }
  if (n == 0) n = 1;
  void* p = align <= alignof(std::max_align_t)
                ? std::malloc(n)
                : std::aligned_alloc(align, (n + align - 1) / align * align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t n) { return allocate(n, alignof(std::max_align_t)); }
void* operator new[](std::size_t n) { return allocate(n, alignof(std::max_align_t)); }
void* operator new(std::size_t n, std::align_val_t a) { return allocate(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return allocate(n, static_cast<std::size_t>(a)); }
// The nothrow forms too: a sanitizer's runtime would otherwise serve them with its own
// allocator, and free() of such a block is an alloc-dealloc mismatch.
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return allocate(n, alignof(std::max_align_t));
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  try {
    return allocate(n, static_cast<std::size_t>(a));
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t& t) noexcept {
  return operator new(n, a, t);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { std::free(p); }

using namespace cp;
using namespace cp::test;

TEST_CASE("order lock-free: a command whose n-th allocation throws leaves the state as it was",
          "[interleaving]") {
  const auto s = seed();
  const OrderConfig config = equivalence_config();  // little cash: rejects for cash too
  LockFreeOrderEngine d(config);
  OrderReference ref(config);
  const ZipfKeys symbols(config.symbols, 0.8);
  OrderStreamParams params;
  params.walk_range = 10;  // a narrow walk: crossing, partial fills, several levels per place
  OrderStream stream(config, params, symbols, 0, 1, s);
  Findings f;
  std::uint64_t throws = 0, most_attempts = 0;
  const int commands = 150 / static_cast<int>(kSanitizerSlowdown);
  for (int i = 0; i < commands && f.ok(); ++i) {
    const OrderCommand cmd = stream.next();
    const OrderReply want = apply_order_command(ref, cmd);
    const OrderState before = d.state();
    // Attempt n fails the n-th allocation, until an attempt runs without throwing. A failed
    // attempt must change nothing, so the next attempt is the same command on the same state.
    for (std::uint64_t n = 1;; ++n) {
      std::optional<OrderReply> got;
      t_fail_in = n;
      try {
        got = apply_order_command(d, cmd);
      } catch (const std::bad_alloc&) {
      }
      t_fail_in = 0;
      if (got) {
        if (*got != want)
          f.fail("command ", i, " (", describe(cmd), "), after ", n - 1, " failed attempts: ",
                 describe(*got), ", reference ", describe(want));
        most_attempts = std::max(most_attempts, n);
        break;
      }
      ++throws;
      if (!(d.state() == before)) {
        f.fail("command ", i, " (", describe(cmd), "): allocation ", n,
               " threw and the state is not the state before");
        break;
      }
    }
    stream.observe(cmd, want);
  }
  const OrderState got = d.state();
  if (!(got == ref.state())) f.fail("final state differs from the reference's");
  add_invariant_problems(f, check_order_invariants(got), "after the stream");
  INFO("seed " << s << ": " << throws << " commands threw, the most allocations in one command "
               << most_attempts - 1 << "\n" << f.report());
  CHECK(f.ok());
  CHECK(throws > static_cast<std::uint64_t>(commands));  // most places allocate several times
  CHECK(most_attempts > 5);
  // A failure the engine swallowed is the epochs' bag failing to grow after a CAS: the
  // command stood (its reply was checked) and its garbage went to the engine's orphans.
  INFO(t_fired - throws << " failures swallowed after a commit");
}
