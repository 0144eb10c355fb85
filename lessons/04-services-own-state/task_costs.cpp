// task_costs.cpp (target l04c_task_costs): what one request costs when it is a coroutine, a
// std::future, or a thread, measured on this machine.
//
// Each row does one "request" (compute x + 1) --iterations times, --repeats times, and prints
// the median wall time per request with the fastest and slowest repetition, the median CPU
// time of the process per request (all its threads: what the request costs, without the time
// spent waiting for a core on a loaded machine), and how many heap allocations and bytes one
// request made (this program counts every operator new):
//   function call          - the baseline: a call the compiler may not inline;
//   co_await Task          - a coroutine frame: allocated, run, resumed, freed (tasks.hpp);
//   spawn + run queue      - the same task started by a TaskGroup, run by the Executor;
//   promise/future, 1 thread - std::promise set, its std::future read, on one thread;
//   future from an owner   - lesson 09's query: a request carrying a std::promise goes to an
//                            owner thread over a ring, the caller waits on the future;
//   std::async             - a new thread per request (std::launch::async), its future read;
//   std::thread            - a new thread per request, joined.
// Then the two locks of lesson 04c: an AsyncMutex and a std::mutex, lock + unlock with nobody
// else there, and an AsyncMutex handed between two tasks (each hand-over goes through the run
// queue). Build it in Release: a Debug build measures the debug build.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#include <pthread.h>
#include <time.h>

#include "lessons/04-services-own-state/async_mutex.hpp"
#include "lessons/04-services-own-state/messages.hpp"
#include "lessons/04-services-own-state/tasks.hpp"
#include "lessons/common/cli.hpp"

// ---- Counting every allocation of this program ---------------------------------------------
// relaxed: pure counts; they are read on the main thread after the threads that allocated
// were joined (join synchronizes with their end), or by the thread that allocated.
namespace {
std::atomic<std::uint64_t> g_allocs{0}, g_bytes{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  g_bytes.fetch_add(n, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// g++ warns that memory from an operator new is given to free(): here it came from malloc().
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace {

using cp::lessons::tasks::AsyncMutex;
using cp::lessons::tasks::Executor;
using cp::lessons::tasks::Task;
using cp::lessons::tasks::TaskGroup;
using Clock = std::chrono::steady_clock;

[[gnu::noinline]] long plain_call(long x) { return x + 1; }

// [quote: cost-task]
Task<long> request(long x) { co_return x + 1; }  // one frame per call

Task<> await_each(long n, long& sink) {
  for (long i = 0; i < n; ++i) sink += co_await request(i);
}
// [end quote]

Task<> one_request(long x, long& sink) {
  sink += x + 1;
  co_return;
}

// Lesson 09's shape: requests carrying a promise, answered by an owner thread.
struct Query {
  long x = 0;
  std::promise<long>* reply = nullptr;  // null: stop
};

struct Row {
  const char* name;
  double median_ns, min_ns, max_ns;
  double cpu_ns;  // median CPU time of the whole process per request (every thread of it)
  double allocs, bytes;
};

// CPU time of this process (all its threads): unlike wall time, it does not grow while the
// process waits for a core that other programs hold.
double process_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

template <class Body>
Row measure(const char* name, long iterations, long repeats, Body body) {
  std::vector<double> ns, cpu;
  double allocs = 0, bytes = 0;
  for (long r = 0; r < repeats; ++r) {
    const std::uint64_t a0 = g_allocs.load(std::memory_order_relaxed);  // see the top
    const std::uint64_t b0 = g_bytes.load(std::memory_order_relaxed);
    const double c0 = process_cpu_ns();
    const auto t0 = Clock::now();
    body(iterations);
    const auto t1 = Clock::now();
    cpu.push_back((process_cpu_ns() - c0) / static_cast<double>(iterations));
    allocs = static_cast<double>(g_allocs.load(std::memory_order_relaxed) - a0) /
             static_cast<double>(iterations);
    bytes = static_cast<double>(g_bytes.load(std::memory_order_relaxed) - b0) /
            static_cast<double>(iterations);
    ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() /
                 static_cast<double>(iterations));
  }
  std::sort(ns.begin(), ns.end());
  std::sort(cpu.begin(), cpu.end());
  return {name, ns[ns.size() / 2], ns.front(), ns.back(), cpu[cpu.size() / 2], allocs, bytes};
}

void print(const Row& r) {
  std::printf("  %-28s %11.1f  (%9.1f - %9.1f) %11.1f %7.2f %6.0f\n", r.name, r.median_ns,
              r.min_ns, r.max_ns, r.cpu_ns, r.allocs, r.bytes);
}

}  // namespace

int main(int argc, char** argv) {
  long long iterations = 1'000'000, thread_iterations = 2000, repeats = 7, only = 0;
  cp::lessons::Cli cli("l04c_task_costs",
                       "what a request costs as a coroutine, a future, or a thread");
  cli.option("iterations", iterations, "requests per repetition (cheap rows)", 1, 1'000'000'000)
      .option("thread-iterations", thread_iterations,
              "requests per repetition (rows that start a thread or cross threads x10)", 1,
              10'000'000)
      .option("repeats", repeats, "repetitions per row (median, min and max are printed)", 1,
              1000)
      .option("row", only, "run only row N (1-10, in the order printed; 0: every row), e.g. "
              "under strace -f -c", 0, 10);
  cli.parse(argc, argv);
  const long n = static_cast<long>(iterations), tn = static_cast<long>(thread_iterations),
             reps = static_cast<long>(repeats);

  std::size_t stack = 0;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_getstacksize(&attr, &stack);
  pthread_attr_destroy(&attr);
  std::printf("One request, %lld repetitions per row; %u hardware threads; a new thread's stack "
              "reserves %zu KiB\n(virtual: touched pages only become memory).\n\n",
              repeats, std::thread::hardware_concurrency(), stack / 1024);
  std::printf("  %-28s %11s  %-23s %11s %7s %6s\n", "per request", "median ns", "(min - max ns)",
              "cpu ns", "allocs", "bytes");

  const auto want = [only](long long row) { return only == 0 || only == row; };
  volatile long keep = 0;  // results go somewhere the compiler must keep
  if (want(1)) print(measure("function call", n, reps, [&](long k) {
    long s = 0;
    for (long i = 0; i < k; ++i) s += plain_call(i);
    keep = s;
  }));
  if (want(2)) print(measure("co_await Task", n, reps, [&](long k) {
    Executor ex;
    long s = 0;
    {
      TaskGroup g(ex);
      g.spawn(await_each(k, s));
      ex.run_ready();
    }
    keep = s;
  }));
  if (want(3)) print(measure("spawn + run queue", n, reps, [&](long k) {
    Executor ex;
    long s = 0;
    {
      TaskGroup g(ex);
      for (long i = 0; i < k; ++i) {
        g.spawn(one_request(i, s));
        ex.run_ready();
      }
    }
    keep = s;
  }));
  if (want(4)) print(measure("promise/future, 1 thread", n, reps, [&](long k) {
    long s = 0;
    for (long i = 0; i < k; ++i) {
      std::promise<long> p;
      std::future<long> f = p.get_future();
      p.set_value(i + 1);
      s += f.get();
    }
    keep = s;
  }));
  if (want(5)) print(measure("future from an owner thread", tn * 10, reps, [&](long k) {
    cp::lessons::services::Channel<Query> to_owner(64);
    std::jthread owner([&to_owner] {
      for (;;) {
        Query q;
        if (!to_owner.wait_for_data()) return;
        to_owner.consume_batch([&q](Query& v, std::uint64_t) { q = v; }, 1);
        if (!q.reply) return;
        q.reply->set_value(q.x + 1);
      }
    });
    long s = 0;
    for (long i = 0; i < k; ++i) {
      std::promise<long> p;
      std::future<long> f = p.get_future();
      to_owner.push({i, &p});
      s += f.get();  // the caller's thread sleeps until the owner answers
    }
    to_owner.push({0, nullptr});
    to_owner.close();
    keep = s;
  }));
  if (want(6)) print(measure("std::async (a thread each)", tn, reps, [&](long k) {
    long s = 0;
    for (long i = 0; i < k; ++i) s += std::async(std::launch::async, plain_call, i).get();
    keep = s;
  }));
  if (want(7)) print(measure("std::thread, joined", tn, reps, [&](long k) {
    long s = 0;
    for (long i = 0; i < k; ++i) {
      long out = 0;
      std::thread t([&out, i] { out = plain_call(i); });
      t.join();
      s += out;
    }
    keep = s;
  }));

  if (only == 0 || only >= 8)
    std::printf("\n  %-28s %11s  %-23s %11s %7s %6s\n", "per lock + unlock", "median ns",
                "(min - max ns)", "cpu ns", "allocs", "bytes");
  if (want(8)) print(measure("std::mutex, uncontended", n, reps, [&](long k) {
    std::mutex m;
    long s = 0;
    for (long i = 0; i < k; ++i) {
      std::lock_guard lock(m);
      s += i;
    }
    keep = s;
  }));
  if (want(9)) print(measure("AsyncMutex, uncontended", n, reps, [&](long k) {
    Executor ex;
    AsyncMutex m(ex);
    long s = 0;
    {
      TaskGroup g(ex);
      g.spawn([](AsyncMutex& mu, long count, long& out) -> Task<> {
        for (long i = 0; i < count; ++i) {
          auto guard = co_await mu.lock();
          out += i;
        }
      }(m, k, s));
      ex.run_ready();
    }
    keep = s;
  }));
  if (want(10)) print(measure("AsyncMutex, handed over", n, reps, [&](long k) {
    Executor ex;
    AsyncMutex m(ex);
    long s = 0;
    {
      TaskGroup g(ex);
      for (int t = 0; t < 2; ++t)
        g.spawn([](Executor& e, AsyncMutex& mu, long count, long& out) -> Task<> {
          for (long i = 0; i < count; ++i) {
            auto guard = co_await mu.lock();
            out += i;
            co_await e.yield();  // held across a suspension: the other task queues behind
          }
        }(ex, m, k / 2, s));
      ex.run_ready();
    }
    keep = s;
  }));
  (void)keep;
  return 0;
}

// How to run:
//   cmake --preset release && cmake --build --preset release --target l04c_task_costs
//   ./build/release/lessons/04-services-own-state/l04c_task_costs
// What to expect (Release, a 2-core VM): a function call about 1 ns; a coroutine request
// tens of ns and one allocation (its frame, tens of bytes); a future on one thread a little
// more, with one allocation (the shared state); a future answered by an owner thread
// microseconds (the waiting thread sleeps and is woken); a thread per request tens of
// microseconds. An uncontended AsyncMutex costs a few ns, as a std::mutex does; a hand-over
// costs a trip through the run queue. Loaded machines stretch the max column first.
