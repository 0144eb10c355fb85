// lock_free_counter.hpp: the counter workload with no lock (family lock_free).
//
//   LockFreeCounter        ("lock-free")         - one std::atomic<int64_t> per key; add is one
//                          fetch_add. Wait-free where the hardware adds in one instruction (x86's
//                          lock xadd, ARMv8.1's LDADD); an LL/SC retry loop elsewhere is lock-free.
//   LockFreeShardedCounter ("lock-free-sharded") - per-thread rows of cells, padded to cache lines;
//                          add writes only the caller's row, get/total sum all rows.
//
// Memory orders: every access is relaxed. The counters publish nothing but their own values,
// and per-location coherence already gives what the contract asks: an add that returned
// before a get began (known through some other synchronisation) is seen by it, and one
// thread's reads of a cell never go backwards.
//
// Neither declares linearizable reads, because total() (and the sharded get) read several
// cells one after another. Two readers can disagree about the order of two adds. Cells x
// and y start at 0; reader R1 reads x (0); add(x, 1) completes; reader R2 reads x (1) and y
// (0); add(y, 10) completes; R1 reads y (10). R1 returns 10 (saw only the second add), R2
// returns 1 (saw only the first). No single order of the two adds explains both answers, so
// the reads are not linearizable, though each read sees every add that completed before it
// began. Use the mutex-striped counter if total() must be a snapshot.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "comparisons/counter/contract.hpp"
#include "comparisons/counter/reference.hpp"
#include "patterns/lock_free/hooks.hpp"
#include "patterns/lock_free/thread_slot.hpp"

namespace cp {

template <class Hooks = lf::NoHooks>
class LockFreeCounterT {
 public:
  static constexpr DesignTraits traits{
      .name = "lock-free",
      .family = Family::lock_free,
      .thread_safe = true,
      .linearizable_reads = false,  // total() sums keys one after another (see the top)
      .lock_free = true,
      .waiting = Waiting::never,
  };
  template <class H>
  using with_hooks = LockFreeCounterT<H>;  // the progress test parks a thread inside add()

  explicit LockFreeCounterT(CounterConfig config)
      : keys_(CounterReference::check(config).keys), values_(keys_) {}

  CounterError add(std::uint32_t key, std::int64_t delta) {
    if (key >= keys_) return CounterError::unknown_key;
    Hooks::at(lf::HookPoint::add_before_rmw, &values_[key]);
    values_[key].fetch_add(delta, std::memory_order_relaxed);  // wraps; coherence is enough
    return CounterError::ok;
  }

  CounterRead get(std::uint32_t key) const {
    if (key >= keys_) return {CounterError::unknown_key, 0};
    return {CounterError::ok, values_[key].load(std::memory_order_relaxed)};
  }

  std::int64_t total() const {
    std::int64_t sum = 0;
    for (const auto& v : values_) sum = wrapping_add(sum, v.load(std::memory_order_relaxed));
    return sum;
  }

  std::uint32_t keys() const { return keys_; }

 private:
  const std::uint32_t keys_;
  std::vector<std::atomic<std::int64_t>> values_;  // neighbours share lines: see the sharded one
};
using LockFreeCounter = LockFreeCounterT<>;

// Each thread that adds gets a row of its own (claimed on its first add, kept for the
// counter's life). Its add is then a relaxed load and store on its own cell: no lock prefix,
// no line shared with another writer. Threads beyond kRows all share one extra row and use
// fetch_add there. get() sums one key over the rows in use, total() sums every cell of them.
template <class Hooks = lf::NoHooks>
class LockFreeShardedCounterT {
 public:
  static constexpr unsigned kRows = 16;
  static constexpr DesignTraits traits{
      .name = "lock-free-sharded",
      .family = Family::lock_free,
      .thread_safe = true,
      .linearizable_reads = false,  // get and total sum rows one after another (see the top)
      .lock_free = true,
      .waiting = Waiting::never,
  };
  template <class H>
  using with_hooks = LockFreeShardedCounterT<H>;

  explicit LockFreeShardedCounterT(CounterConfig config)
      : keys_(CounterReference::check(config).keys), rows_(kRows + 1) {  // + the shared row
    for (auto& row : rows_) row.cells = std::vector<Line>((keys_ + kPerLine - 1) / kPerLine);
  }

  CounterError add(std::uint32_t key, std::int64_t delta) {
    if (key >= keys_) return CounterError::unknown_key;
    const lf::ThreadSlot slot = slots_.mine();
    std::atomic<std::int64_t>& cell = rows_[slot.index].cells[key / kPerLine].v[key % kPerLine];
    Hooks::at(lf::HookPoint::add_before_rmw, &cell);
    if (slot.exclusive) {
      // Only this thread writes this cell: load + store cannot lose an update. Relaxed:
      // readers need only this cell's coherence (see the top).
      cell.store(wrapping_add(cell.load(std::memory_order_relaxed), delta),
                 std::memory_order_relaxed);
    } else {
      cell.fetch_add(delta, std::memory_order_relaxed);  // a shared row: an atomic add
    }
    return CounterError::ok;
  }

  CounterRead get(std::uint32_t key) const {
    if (key >= keys_) return {CounterError::unknown_key, 0};
    std::int64_t sum = 0;
    for (std::size_t r = 0, n = rows_in_use(); r < n; ++r)
      sum = wrapping_add(
          sum, rows_[r].cells[key / kPerLine].v[key % kPerLine].load(std::memory_order_relaxed));
    return {CounterError::ok, sum};
  }

  std::int64_t total() const {
    std::int64_t sum = 0;
    for (std::size_t r = 0, n = rows_in_use(); r < n; ++r)
      for (const auto& line : rows_[r].cells)
        for (const auto& c : line.v) sum = wrapping_add(sum, c.load(std::memory_order_relaxed));
    return sum;
  }

  std::uint32_t keys() const { return keys_; }

 private:
  // rows_in_use: the rows a thread may have added to (the claimed ones, and the shared row
  // once all are claimed); the others hold zeros, and a read skips them. A row claimed after
  // this call holds only adds concurrent with the read (see claimed()).
  std::size_t rows_in_use() const {
    const unsigned claimed = slots_.claimed();
    return claimed <= kRows ? claimed : kRows + 1;
  }

  static constexpr std::uint32_t kPerLine = 8;
  struct alignas(64) Line {
    std::atomic<std::int64_t> v[kPerLine] = {};
  };
  struct Row {
    std::vector<Line> cells;  // line-aligned: two rows never share a cache line
  };
  const std::uint32_t keys_;
  std::vector<Row> rows_;
  lf::ThreadSlots<kRows> slots_;
};
using LockFreeShardedCounter = LockFreeShardedCounterT<>;

}  // namespace cp
