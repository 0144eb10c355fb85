// harness_rows.hpp: the `harness` row of every workload: an empty design driven exactly like
// the others (the same driver, generator, buffer, loop and bookkeeping), so its ops/s is the
// harness's own ceiling, printed in every run. A design row at a tenth of it is measuring
// mostly itself; one close to it is measuring mostly the harness.
//
//   kHarnessRowName       - "harness", the row's name in every table.
//   HarnessCounter / HarnessCache / HarnessOrderEngine - the empty designs: each answers at
//                           once with the reply that keeps the driver's stream on its usual
//                           path (an order rests, so the stream goes on to cancel it).
//   design_is_harness_row - D is one of them: the runner skips the workload's check, which an
//                           empty design cannot pass, and says so in the row's verdict.
//   HarnessRows<W>        - the harness row of one workload, appended to its registry.
//
// Their traits say family "reference" and thread-safe: never a contender, at every thread
// count. Only the harness's registry holds them (bench/harness/workloads.hpp), never the
// comparisons' own registries, so the conformance suites never see them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>

#include "comparisons/cache/contract.hpp"
#include "comparisons/counter/contract.hpp"
#include "comparisons/order/contract.hpp"
#include "patterns/common/traits.hpp"

namespace cp::bench {

inline constexpr std::string_view kHarnessRowName = "harness";

inline constexpr DesignTraits kHarnessTraits{.name = kHarnessRowName,
                                             .family = Family::reference,
                                             .thread_safe = true,
                                             .linearizable_reads = false,
                                             .lock_free = true,
                                             .waiting = Waiting::never};

// The empty designs' calls are inline and touch no shared memory: what is left is the harness.
struct HarnessCounter {
  static constexpr bool harness_row = true;
  static constexpr DesignTraits traits = kHarnessTraits;
  explicit HarnessCounter(CounterConfig config) : keys_(config.keys) {}
  CounterError add(std::uint32_t, std::int64_t) { return CounterError::ok; }
  CounterRead get(std::uint32_t) { return {CounterError::ok, 0}; }
  std::int64_t total() { return 0; }
  std::uint32_t keys() { return keys_; }

 private:
  std::uint32_t keys_;
};

struct HarnessCache {
  static constexpr bool harness_row = true;
  static constexpr DesignTraits traits = kHarnessTraits;
  explicit HarnessCache(CacheConfig config) : capacity_(config.capacity) {}
  std::optional<CacheValue> get(std::uint64_t) { return std::nullopt; }
  CacheError put(std::uint64_t, const CacheValue&) { return CacheError::ok; }
  bool erase(std::uint64_t) { return false; }
  std::size_t size() { return 0; }
  std::size_t capacity() { return capacity_; }

 private:
  std::size_t capacity_;
};

struct HarnessOrderEngine {
  static constexpr bool harness_row = true;
  static constexpr DesignTraits traits = kHarnessTraits;
  explicit HarnessOrderEngine(OrderConfig) {}
  PlaceReply place(const PlaceCmd&) { return {.rests = true}; }
  CancelReply cancel(const CancelCmd&) { return {}; }
  QueryReply query(const QueryCmd&) { return {}; }
  OrderState state() { return {}; }
};

template <class D>
constexpr bool design_is_harness_row() {
  return requires { requires D::harness_row; };
}

}  // namespace cp::bench
