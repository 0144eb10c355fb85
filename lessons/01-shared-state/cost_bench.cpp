// cost_bench.cpp (target l01_cost_bench): what one increment costs, per design and thread count.
//
// Google Benchmark program. Each row times `increment()` in a tight loop on 1, 2 and 4
// threads (the machines this project measures on have 2 cores, so 4 is oversubscribed):
//   plain         - `++counter` on a thread's own int64: the floor (single thread only; shared
//                   between threads it would be a data race, i.e. undefined behaviour)
//   mutex         - cp::Mutex around the increment (MutexCounter)
//   atomic        - std::atomic fetch_add (AtomicCounter)
//   per_thread    - one cache line per thread, summed on read (PerThreadCounter)
//   absl_mutex    - one thread: an uncontended absl::Mutex lock/unlock around the add, with
//                   Abseil's deadlock detection on (/1, as Debian builds it) and off (/0);
//                   the difference is what the detection costs per acquisition (lesson 02)
// With threads, Google Benchmark 1.7 divides the wall-clock ("real") time by the increments
// of all threads together: Time is 1 / throughput, and items_per_second is that throughput.
// So on 2 cores a design that scales shows Time halving from 1 to 2 threads; a contended one
// shows it growing. (The cost one thread sees per increment is Time x threads.)
#include <absl/synchronization/mutex.h>
#include <benchmark/benchmark.h>

#include <cstdint>

#include "lessons/01-shared-state/counters.hpp"

namespace {

// [quote: plain]
// Correct only while one thread owns `counter`. Called from two threads on one counter this
// is a data race: undefined behaviour, not merely a wrong count.
inline void plain_increment(std::int64_t& counter) { ++counter; }
// [end quote]

void BM_plain(benchmark::State& state) {
  std::int64_t counter = 0;
  for (auto _ : state) {
    plain_increment(counter);
    benchmark::DoNotOptimize(counter);  // keep one real add per iteration
  }
  state.SetItemsProcessed(state.iterations());
}

cp::lessons::MutexCounter g_mutex;
cp::lessons::AtomicCounter g_atomic;
constexpr unsigned kMaxThreads = 4;
cp::lessons::PerThreadCounter g_per_thread(kMaxThreads);

void BM_mutex(benchmark::State& state) {
  for (auto _ : state) g_mutex.increment();
  state.SetItemsProcessed(state.iterations());
}

void BM_atomic(benchmark::State& state) {
  for (auto _ : state) g_atomic.increment();
  state.SetItemsProcessed(state.iterations());
}

void BM_per_thread(benchmark::State& state) {
  const auto me = static_cast<unsigned>(state.thread_index());
  for (auto _ : state) g_per_thread.increment(me);
  state.SetItemsProcessed(state.iterations());
  if (me == 0) benchmark::DoNotOptimize(g_per_thread.get());  // a read sums every slot
}

void BM_absl_mutex(benchmark::State& state) {
  absl::SetMutexDeadlockDetectionMode(state.range(0) != 0 ? absl::OnDeadlockCycle::kAbort
                                                          : absl::OnDeadlockCycle::kIgnore);
  absl::Mutex mu;
  std::int64_t counter = 0;
  for (auto _ : state) {
    absl::MutexLock lock(&mu);
    ++counter;
  }
  benchmark::DoNotOptimize(counter);
  state.SetItemsProcessed(state.iterations());
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kAbort);  // back to the default
}

}  // namespace

BENCHMARK(BM_absl_mutex)->Arg(1)->Arg(0)->Threads(1);
BENCHMARK(BM_plain)->Threads(1)->UseRealTime();
BENCHMARK(BM_mutex)->Threads(1)->Threads(2)->Threads(kMaxThreads)->UseRealTime();
BENCHMARK(BM_atomic)->Threads(1)->Threads(2)->Threads(kMaxThreads)->UseRealTime();
BENCHMARK(BM_per_thread)->Threads(1)->Threads(2)->Threads(kMaxThreads)->UseRealTime();

BENCHMARK_MAIN();

// How to run (Release; a Debug build measures the debug build, not the idea):
//   cmake --preset release && cmake --build --preset release --target l01_cost_bench
//   ./build/release/lessons/01-shared-state/l01_cost_bench --benchmark_repetitions=3
//   (add --benchmark_report_aggregates_only=true for just mean, median and stddev)
// What to expect: plain well under 1 ns; the mutex ~10 ns alone and several times that
// contended; fetch_add a few ns alone and slower, not faster, with two threads; per-thread
// slots as cheap as plain, and twice the throughput on two cores. The README of lesson 01
// lists one machine's numbers. Run it on a quiet machine: other load shows up as CPU time
// well below Time.
