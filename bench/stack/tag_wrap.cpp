// tag_wrap.cpp (target tag_wrap): how soon the 16-bit tag of patterns/lock_free/tagged.hpp
// wraps on this machine.
//
// The tagged stack is safe from ABA only while a pop's load and its CAS are fewer than 65,536
// successful CASes on the top apart. This program runs push/pop pairs on one tagged stack
// (1, 2 and 4 threads, untimed operations, the window timed once, repetitions interleaved)
// and prints the rate of successful CASes on the top (each push and each pop commits one)
// and what it means: the time 65,536 of them take, the shortest stall of a pop that can be
// wrapped. Compare it with a scheduler time slice (a few ms): a pop preempted between its
// load and its CAS for one slice can see the same tag again.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <string_view>
#include <thread>
#include <vector>

#include "patterns/lock_free/tagged.hpp"
#include "patterns/lock_free/treiber_stack.hpp"

namespace {

using Stack = cp::lf::TreiberStack<std::uint64_t, cp::lf::TaggedRecycle>;

// One repetition: `threads` threads do push/pop pairs for `ms`; returns top CASes per second.
double cas_rate(unsigned threads, int ms) {
  Stack stack;
  for (std::uint64_t i = 0; i < 64; ++i) stack.push(i);  // pops rarely find it empty
  std::atomic<bool> stop{false};
  std::vector<std::uint64_t> commits(threads * 8, 0);  // 8 apart: no shared line
  std::latch start(threads + 1);
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < threads; ++t)
    workers.emplace_back([&, t] {
      std::uint64_t n = 0;
      start.arrive_and_wait();
      while (!stop.load(std::memory_order_relaxed)) {  // a flag only: joined below
        for (int i = 0; i < 256; ++i) {
          stack.push(n);
          n += stack.try_pop() ? 2 : 1;  // a pop that finds it empty commits no CAS
        }
      }
      commits[t * 8] = n;
    });
  start.arrive_and_wait();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  stop.store(true, std::memory_order_relaxed);
  for (auto& w : workers) w.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::uint64_t total = 0;
  for (unsigned t = 0; t < threads; ++t) total += commits[t * 8];
  return static_cast<double>(total) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5, ms = 200;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.rfind("--reps=", 0) == 0) reps = std::clamp(std::atoi(argv[i] + 7), 1, 100);
    else if (a.rfind("--ms=", 0) == 0) ms = std::clamp(std::atoi(argv[i] + 5), 10, 60000);
    else {
      std::fprintf(stderr, "usage: tag_wrap [--reps=N (5)] [--ms=N (200)]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  const unsigned counts[] = {1, 2, 4};
  std::vector<std::vector<double>> rates(std::size(counts));
  for (int r = 0; r < reps; ++r)  // interleaved: a noisy neighbour hits every row alike
    for (std::size_t c = 0; c < std::size(counts); ++c) rates[c].push_back(cas_rate(counts[c], ms));
  std::printf("tagged stack: successful CASes on the top, and the time 65,536 of them take\n");
  std::printf("(the 16-bit tag's wrap: a pop stalled that long between its load and its CAS\n");
  std::printf("can see its tag again). Median of %d x %d ms, min..max.\n\n", reps, ms);
  std::printf("threads | M CAS/s (min..max)   | wrap in ms (min..max)\n");
  for (std::size_t c = 0; c < std::size(counts); ++c) {
    auto v = rates[c];
    std::sort(v.begin(), v.end());
    const double med = v[v.size() / 2];
    std::printf("%7u | %5.1f (%5.1f..%5.1f) | %5.2f (%5.2f..%5.2f)\n", counts[c], med / 1e6,
                v.front() / 1e6, v.back() / 1e6, 65536e3 / med, 65536e3 / v.back(),
                65536e3 / v.front());
  }
  return 0;
}

// Build and run (Release):
//   cmake --preset release && cmake --build --preset release --target tag_wrap
//   ./build/release/bench/stack/tag_wrap            (5 x 200 ms per row, about 3 s)
// Expect, on a 2-core VM: tens of millions of CASes per second, so a wrap in a few ms.
