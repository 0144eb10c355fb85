// rwlock_two_threads.cpp (target l02_rwlock_two_threads): why std::shared_mutex collapses at
// exactly two threads on a two-core machine, told by counts rather than times.
//
// Each thread runs --ops operations on one shared table of --keys words behind one lock:
// --write-percent of them write a word under the exclusive lock, the rest sum --read-words
// words under the shared lock (the shape of the cache benchmark's read-heavy mix: short
// critical sections, ~10% writes). For 1, 2 and 4 threads (or --threads=N only) it prints, per 1,000 operations, the
// voluntary context switches (a thread went to sleep in the kernel: for these locks, a futex
// wait), the involuntary ones (preempted), and how many cores the threads kept busy (their CPU
// time over the wall time). Counts change little with the machine's load; the ops/s column is
// a time and does (lessons/02-read-mostly/README.md says how to read both).
//
// --mutex runs the same load with a plain std::mutex (readers exclusive) instead, for contrast. The
// table's final contents are checked against the writes every thread made (exit 1 if not).
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <latch>
#include <thread>
#include <vector>

#include "lessons/02-read-mostly/rate_limiter.hpp"
#include "lessons/common/cli.hpp"
#include "patterns/rwlock/shared_mutex.hpp"

namespace {

// The shared state: --keys words behind one lock. A write stores writer-tagged values so that
// the check after join can tell every slot's last writer wrote what it says it did.
template <class M>
class Table {
 public:
  explicit Table(std::size_t keys) : words_(keys, 0) {}

  // read: the sum of `span` words from i on (wrapping): a read section of a chosen length.
  std::uint64_t read(std::size_t i, std::size_t span) {
    cp::ReadLock<M> lock(mu_);
    std::uint64_t sum = 0;
    for (std::size_t k = 0; k < span; ++k) sum += words_[(i + k) % words_.size()];
    return sum;
  }
  void write(std::size_t i, std::uint64_t value) {
    cp::WriteLock<M> lock(mu_);
    words_[i] = value;
  }
  std::vector<std::uint64_t> snapshot() {
    cp::ReadLock<M> lock(mu_);
    return words_;
  }

 private:
  M mu_;
  std::vector<std::uint64_t> words_ ABSL_GUARDED_BY(mu_);
};

// What one thread saw of itself: its own rusage (RUSAGE_THREAD), so the counts are its own.
struct ThreadCounts {
  long voluntary = 0, involuntary = 0;
  double cpu_seconds = 0;
  std::uint64_t checksum = 0;  // sum of values read: keeps the reads from being optimised out
  std::vector<std::uint64_t> last_write;  // per key: the last value this thread wrote, or 0
};

ThreadCounts self_counts() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  ThreadCounts c;
  c.voluntary = u.ru_nvcsw;
  c.involuntary = u.ru_nivcsw;
  c.cpu_seconds = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                  static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
  return c;
}

struct Row {
  double per_k_voluntary = 0, per_k_involuntary = 0, cores_busy = 0, ops_per_s = 0;
  bool intact = true;
};

template <class M>
Row run(unsigned threads, long long ops, long long write_percent, std::size_t keys,
        std::size_t span) {
  Table<M> table(keys);
  std::vector<ThreadCounts> counts(threads);
  std::latch start(threads + 1);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::uint64_t x = 0x9E3779B97F4A7C15ull * (t + 1);  // xorshift64: per-thread stream
      ThreadCounts mine;
      mine.last_write.assign(keys, 0);
      start.arrive_and_wait();
      const ThreadCounts before = self_counts();
      for (long long i = 0; i < ops; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const std::size_t key = static_cast<std::size_t>(x % keys);
        if (static_cast<long long>((x >> 32) % 100) < write_percent) {
          const std::uint64_t value = (std::uint64_t{t} << 48) | static_cast<std::uint64_t>(i + 1);
          table.write(key, value);
          mine.last_write[key] = value;
        } else {
          mine.checksum += table.read(key, span);
        }
      }
      const ThreadCounts after = self_counts();
      mine.voluntary = after.voluntary - before.voluntary;
      mine.involuntary = after.involuntary - before.involuntary;
      mine.cpu_seconds = after.cpu_seconds - before.cpu_seconds;
      counts[t] = std::move(mine);
    });
  }
  start.arrive_and_wait();
  const auto t0 = std::chrono::steady_clock::now();
  for (auto& th : pool) th.join();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  Row row;
  const double total = static_cast<double>(ops) * threads;
  double cpu = 0;
  for (const auto& c : counts) {
    row.per_k_voluntary += 1000.0 * c.voluntary / total;
    row.per_k_involuntary += 1000.0 * c.involuntary / total;
    cpu += c.cpu_seconds;
  }
  row.cores_busy = wall > 0 ? cpu / wall : 0;
  row.ops_per_s = wall > 0 ? total / wall : 0;
  // The check: every slot holds 0 or a value that its tagged writer really wrote last there
  // (writes to one slot by one thread are in program order; between threads, any order).
  const auto words = table.snapshot();
  for (std::size_t k = 0; k < keys && row.intact; ++k) {
    const std::uint64_t w = words[k];
    if (w == 0) {
      for (const auto& c : counts) row.intact &= c.last_write[k] == 0;
      continue;
    }
    const auto writer = static_cast<unsigned>(w >> 48);
    row.intact = writer < threads && counts[writer].last_write[k] == w;
  }
  return row;
}

template <class M>
int sweep(const char* name, const std::vector<unsigned>& thread_counts, long long ops,
          long long write_percent, std::size_t keys, std::size_t span) {
  std::printf("\n%s, %lld ops per thread, %lld%% writes, %zu keys, reads of %zu words\n", name,
              ops, write_percent, keys, span);
  std::printf("  %7s %18s %18s %11s %12s %7s\n", "threads", "sleeps / 1k ops",
              "preempted / 1k ops", "cores busy", "M ops/s (*)", "check");
  int failed = 0;
  for (unsigned t : thread_counts) {
    const Row r = run<M>(t, ops, write_percent, keys, span);
    std::printf("  %7u %18.2f %18.2f %11.2f %12.2f %7s\n", t, r.per_k_voluntary,
                r.per_k_involuntary, r.cores_busy, r.ops_per_s / 1e6, r.intact ? "ok" : "FAIL");
    std::fflush(stdout);
    failed += r.intact ? 0 : 1;
  }
  return failed;
}

}  // namespace

int main(int argc, char** argv) {
  long long ops = 500'000, write_percent = 10, keys = 65'536, threads = 0, span = 16;
  bool mutex = false;
  cp::lessons::Cli cli("l02_rwlock_two_threads",
                       "std::shared_mutex at 1, 2 and 4 threads: sleeps (futex waits), "
                       "preemptions and busy cores per operation");
  cli.option("ops", ops, "operations per thread", 1, 1'000'000'000)
      .option("write-percent", write_percent, "share of operations that write", 0, 100)
      .option("keys", keys, "words in the shared table", 1, 1 << 24)
      .option("read-words", span, "words a read sums (the read section's length)", 1, 1 << 16)
      .option("threads", threads, "run this thread count only (0: 1, 2 and 4)", 0, 256)
      .flag("mutex", mutex, "run a plain std::mutex (readers exclusive) instead, for contrast");
  cli.parse(argc, argv);

  const std::vector<unsigned> counts =
      threads == 0 ? std::vector<unsigned>{1, 2, 4}
                   : std::vector<unsigned>{static_cast<unsigned>(threads)};
  std::printf("%u cores. sleeps = voluntary context switches (futex waits), preempted = "
              "involuntary ones,\ncores busy = the threads' CPU time / wall time. (*) a time: "
              "it moves with the machine's load.\n",
              std::thread::hardware_concurrency());
  const auto k = static_cast<std::size_t>(keys);
  const auto w = static_cast<std::size_t>(span);
  const int failed =
      mutex ? sweep<cp::lessons::ExclusiveOnlyMutex>("std::mutex (readers exclusive)", counts,
                                                     ops, write_percent, k, w)
            : sweep<cp::SharedMutex>("std::shared_mutex (glibc pthread_rwlock, prefer readers)",
                                     counts, ops, write_percent, k, w);
  return failed == 0 ? 0 : 1;
}

// How to run (Release):
//   cmake --build --preset release --target l02_rwlock_two_threads
//   ./build/release/lessons/02-read-mostly/l02_rwlock_two_threads
//   ./build/release/lessons/02-read-mostly/l02_rwlock_two_threads --mutex
//   perf stat -e context-switches,cpu-migrations,task-clock <the same> --threads=2
//   strace -f -c -e trace=futex <the same> --threads=2
// What to expect: see "Why two threads" in lessons/02-read-mostly/README.md.
