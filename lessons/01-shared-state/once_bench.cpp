// once_bench.cpp (target l01b_once_bench): what one-time init and thread_local cost per call.
//
// Google Benchmark program. Each row calls one accessor (never inlined, so every row pays
// the same call) in a tight loop, after the one-time work is done:
//   plain_call       - returns a global: the floor (a call and a return)
//   static_local     - shared_table(): the guard check of a function-local static
//   call_once        - LazyTable::get(): std::call_once on a flag that is already set
//   thread_local     - scratch_buffer(): a thread_local std::string (TLS access + init check)
//   mutex            - a std::mutex lock/unlock around the return: what "init under a lock"
//                      would cost on every call instead
// and the one-time costs themselves:
//   thread_start     - start and join a thread that does nothing
//   thread_start_tls - the same thread touching scratch_buffer() once (its init and exit)
// Rows marked /threads:2 run on both cores at once: read-only checks scale, a mutex does not.
#include <benchmark/benchmark.h>

#include <mutex>
#include <thread>

#include "lessons/01-shared-state/one_time.hpp"

namespace {

std::vector<std::int64_t> g_table = cp::lessons::build_table();
cp::lessons::LazyTable g_lazy;
std::mutex g_mu;

[[gnu::noinline]] const std::vector<std::int64_t>& plain_call() { return g_table; }
[[gnu::noinline]] const std::vector<std::int64_t>& static_local() {
  return cp::lessons::shared_table();
}
[[gnu::noinline]] const std::vector<std::int64_t>& call_once() { return g_lazy.get(); }
[[gnu::noinline]] std::string& thread_local_buffer() { return cp::lessons::scratch_buffer(); }
[[gnu::noinline]] const std::vector<std::int64_t>& under_mutex() {
  std::lock_guard<std::mutex> lock(g_mu);
  return g_table;
}

template <auto Accessor>
void BM_accessor(benchmark::State& state) {
  benchmark::DoNotOptimize(&Accessor());  // the one-time work happens here, untimed
  for (auto _ : state) benchmark::DoNotOptimize(&Accessor());
  state.SetItemsProcessed(state.iterations());
}

void BM_thread_start(benchmark::State& state) {
  for (auto _ : state) std::thread([] {}).join();
}
void BM_thread_start_tls(benchmark::State& state) {
  for (auto _ : state) std::thread([] { benchmark::DoNotOptimize(&thread_local_buffer()); }).join();
}

}  // namespace

BENCHMARK_TEMPLATE(BM_accessor, plain_call)->Name("plain_call")->ThreadRange(1, 2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_accessor, static_local)
    ->Name("static_local")->ThreadRange(1, 2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_accessor, call_once)->Name("call_once")->ThreadRange(1, 2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_accessor, thread_local_buffer)
    ->Name("thread_local")->ThreadRange(1, 2)->UseRealTime();
BENCHMARK_TEMPLATE(BM_accessor, under_mutex)->Name("mutex")->ThreadRange(1, 2)->UseRealTime();
BENCHMARK(BM_thread_start)->Name("thread_start")->UseRealTime();
BENCHMARK(BM_thread_start_tls)->Name("thread_start_tls")->UseRealTime();

BENCHMARK_MAIN();

// How to run (Release):
//   cmake --preset release && cmake --build --preset release --target l01b_once_bench
//   build/release/lessons/01-shared-state/l01b_once_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one line)
// What to expect: static_local, call_once and thread_local within a nanosecond or two of
// plain_call, and halving from 1 to 2 threads (nothing shared is written); mutex an order of
// magnitude slower with 2 threads; a thread start tens of microseconds.
