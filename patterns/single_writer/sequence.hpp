// sequence.hpp: Sequence, a cache-line-padded 64-bit counter, the unit of progress in the rings.
//
//   Sequence  - std::atomic<std::uint64_t> alone on its cache line, with accessors named for
//               their memory ordering (load_acquire, store_release, ...), so that every call
//               site reads as the ordering it relies on.
//   kCacheLine - 64: the line size of the x86-64 and most ARM cores this project runs on.
//
// Why padded: a ring has a few counters written by different threads (the producers' claim
// cursor, the consumer's released position). Sharing one cache line would make every write by
// one thread invalidate the line under the others ("false sharing"), a cost that can exceed
// the work itself. (Some Intel parts prefetch line pairs; 128 would be safer there, at twice
// the memory; we keep 64, as the Disruptor's padding does.)
//
// Why no implicit conversions or operator++: an atomic access with an unnamed ordering is
// exactly what this project's style rules out (every non-seq_cst access names its partner at
// the call site).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace cp::sw {

inline constexpr std::size_t kCacheLine = 64;

class alignas(kCacheLine) Sequence {
 public:
  constexpr explicit Sequence(std::uint64_t initial = 0) noexcept : value_(initial) {}
  Sequence(const Sequence&) = delete;
  Sequence& operator=(const Sequence&) = delete;

  // Reads with no ordering: for the thread that owns the counter, or for a hint.
  std::uint64_t load_relaxed() const noexcept { return value_.load(std::memory_order_relaxed); }
  // Reads, and sees everything written before the store_release (or release RMW) it reads from.
  std::uint64_t load_acquire() const noexcept { return value_.load(std::memory_order_acquire); }
  // Writes, publishing everything this thread wrote before to whoever load_acquires the value.
  void store_release(std::uint64_t v) noexcept { value_.store(v, std::memory_order_release); }
  void store_relaxed(std::uint64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }

  // CAS with no ordering (the caller orders its data by other accesses, and says which).
  bool compare_exchange_weak_relaxed(std::uint64_t& expected, std::uint64_t desired) noexcept {
    return value_.compare_exchange_weak(expected, desired, std::memory_order_relaxed,
                                        std::memory_order_relaxed);
  }
  std::uint64_t fetch_or_acq_rel(std::uint64_t bits) noexcept {
    return value_.fetch_or(bits, std::memory_order_acq_rel);
  }

 private:
  std::atomic<std::uint64_t> value_;
};

static_assert(sizeof(Sequence) == kCacheLine, "a Sequence fills its cache line exactly");

}  // namespace cp::sw
