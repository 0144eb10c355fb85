// actor_bench.cpp: our actor runtime (patterns/actor) and CAF 0.17 (libcaf-dev) side by side,
// in one run, on the same machine, each with 2 worker threads.
//
// Shows:
//   request/response  one client asks an echo actor, one request at a time: round trip p50,
//                     p99, p99.9 (ours: ActorRef::ask; CAF: scoped_actor request().receive()).
//   fan-in            S = 1, 2, 4, 8 sender threads tell one counting actor M messages each:
//                     messages/s until the actor has counted them all (ours: tell; CAF:
//                     anon_send). Both mailboxes unbounded.
//   ring              N actors pass a token around R times: hops/s.
//   spawn             K actors spawned: time per actor, and heap allocations and bytes per
//                     actor (counted by this program's operator new while a spawn sample runs:
//                     live bytes after every actor has handled one message, so that CAF's
//                     actors, which build their behaviour on a worker after spawn returns, are
//                     complete; allocations less those of a second message each).
// Each measurement is repeated (--repeats, interleaving ours and CAF's) and reported as the
// median with the min..max spread. Our scheduler runs 64 messages per turn; CAF keeps its
// default (no limit).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "bench/harness/histogram.hpp"
#include "patterns/actor/actor.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int repeats = 5;
  std::int64_t asks = 20'000;         // per request/response sample
  std::int64_t fan_in = 200'000;      // messages per sample (split over the senders)
  std::int64_t ring_actors = 100;
  std::int64_t ring_hops = 200'000;
  std::int64_t spawns = 10'000;
};

void usage(const char* argv0) {
  std::printf(
      "usage: %s [--repeats=N] [--quick]\n"
      "  Our actors and CAF's, one run: request/response latency, fan-in throughput,\n"
      "  a token ring and spawn cost. --quick: small counts (a smoke test, not a result).\n",
      argv0);
}

bool parse(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      usage(argv[0]);
      std::exit(0);
    } else if (a == "--quick") {
      o.repeats = 1;
      o.asks = 500;
      o.fan_in = 4000;
      o.ring_actors = 10;
      o.ring_hops = 2000;
      o.spawns = 200;
    } else if (a.substr(0, 10) == "--repeats=") {
      char* end = nullptr;
      const long v = std::strtol(argv[i] + 10, &end, 10);
      if (*end != '\0' || v < 1 || v > 100) return false;
      o.repeats = static_cast<int>(v);
    } else {
      return false;
    }
  }
  return true;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Median and spread of repeated samples.
struct Spread {
  std::vector<double> v;
  void add(double x) { v.push_back(x); }
  std::string str(const char* fmt) const {
    std::vector<double> s = v;
    std::sort(s.begin(), s.end());
    char buf[128];
    const double med = s.size() % 2 ? s[s.size() / 2] : (s[s.size() / 2 - 1] + s[s.size() / 2]) / 2;
    std::string out;
    std::snprintf(buf, sizeof buf, fmt, med);
    out += buf;
    out += " (";
    std::snprintf(buf, sizeof buf, fmt, s.front());
    out += buf;
    out += "..";
    std::snprintf(buf, sizeof buf, fmt, s.back());
    out += buf;
    out += ")";
    return out;
  }
};

// Heap accounting for the spawn samples: while `counting` is on, every operator new of the
// process (ours, CAF's, any thread) adds its requested bytes and one allocation, and the
// delete of a block counted so takes its bytes back. Off, it costs one relaxed load per call, so
// the other measurements are not slowed by a shared counter.
//
// Not under ThreadSanitizer: its runtime defines operator new/delete itself (to see every
// allocation), so a second definition does not link. There the spawn rows print no bytes.
#if defined(__SANITIZE_THREAD__)
#define CP_COUNT_HEAP 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CP_COUNT_HEAP 0
#endif
#endif
#ifndef CP_COUNT_HEAP
#define CP_COUNT_HEAP 1
#endif
std::atomic<bool> counting{false};  // relaxed: switched between samples, while all is idle
std::atomic<long> live_bytes{0}, allocations{0};  // relaxed: sums read once the sample is idle
std::atomic<long> sample_id{0};  // relaxed: which sample is counting (set while all is idle)

struct HeapDelta {
  long bytes0 = live_bytes.load(std::memory_order_relaxed);
  long allocs0 = allocations.load(std::memory_order_relaxed);
  HeapDelta() {
    sample_id.fetch_add(1, std::memory_order_relaxed);
    counting.store(true, std::memory_order_relaxed);
  }
  ~HeapDelta() { counting.store(false, std::memory_order_relaxed); }
  double bytes() const { return static_cast<double>(live_bytes.load(std::memory_order_relaxed) - bytes0); }
  double allocs() const { return static_cast<double>(allocations.load(std::memory_order_relaxed) - allocs0); }
};

// The allocations of the spawns alone: everything counted so far (spawns + one message each)
// less what a second round of one message each allocates.
template <class Round>
double spawn_allocations(const HeapDelta& heap, Round&& one_message_each) {
  const double with_messages = heap.allocs();
  one_message_each();
  return with_messages - (heap.allocs() - with_messages);
}

// ---- ours -------------------------------------------------------------------------------------

namespace ours {
using namespace cp::actor;

struct Echo {
  using message = std::int64_t;
  using reply = std::int64_t;
  std::int64_t handle(std::int64_t& x) { return x; }
};

struct Count {
  using message = std::int64_t;
  using reply = int;
  std::int64_t expected = 0, seen = 0;
  std::promise<void>* done = nullptr;
  int handle(std::int64_t&) {
    if (++seen == expected) done->set_value();
    return 0;
  }
};

struct RingNode {
  using message = std::int64_t;  // hops left
  using reply = int;
  const std::vector<std::function<void(std::int64_t)>>* sends = nullptr;
  std::size_t next = 0;
  std::promise<void>* done = nullptr;
  int handle(std::int64_t& hops) {
    if (hops == 0) done->set_value();
    else (*sends)[next](hops - 1);
    return 0;
  }
};

SchedulerConfig pool() { return {.workers = 2, .throughput = 64}; }

void request_response(const Options& o, cp::bench::LatencyHistogram& h) {
  ActorSystem sys(pool());
  auto echo = sys.spawn<Echo>([] { return Echo{}; });
  for (std::int64_t i = 0; i < o.asks; ++i) {
    const auto t0 = Clock::now();
    const auto r = echo.ask(i, std::chrono::seconds(10));
    h.record(static_cast<std::uint64_t>(std::chrono::nanoseconds(Clock::now() - t0).count()));
    if (!r.ok() || *r.value != i) std::abort();
  }
}

double fan_in(const Options& o, unsigned senders) {
  ActorSystem sys(pool());
  std::promise<void> done;
  const std::int64_t per = o.fan_in / senders;
  auto counter = sys.spawn<Count>([&] { return Count{per * senders, 0, &done}; });
  const auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (unsigned s = 0; s < senders; ++s)
    ts.emplace_back([&] {
      for (std::int64_t i = 0; i < per; ++i)
        if (counter.tell(i) != SubmitStatus::accepted) std::abort();
    });
  for (auto& t : ts) t.join();
  done.get_future().wait();
  return static_cast<double>(per * senders) / seconds_since(t0);
}

double ring(const Options& o) {
  ActorSystem sys(pool());
  std::promise<void> done;
  std::vector<std::function<void(std::int64_t)>> sends;
  std::vector<ActorRef<RingNode>> nodes;
  for (std::int64_t i = 0; i < o.ring_actors; ++i) {
    const auto next = static_cast<std::size_t>((i + 1) % o.ring_actors);
    nodes.push_back(sys.spawn<RingNode>([&sends, next, &done] { return RingNode{&sends, next, &done}; }));
  }
  for (auto& n : nodes) sends.push_back([n](std::int64_t h) { n.tell(h); });
  const auto t0 = Clock::now();
  nodes[0].tell(o.ring_hops);
  done.get_future().wait();
  return static_cast<double>(o.ring_hops) / seconds_since(t0);
}

void spawn(const Options& o, double& ns_each, double& bytes_each, double& allocs_each) {
  ActorSystem sys(pool());
  std::vector<ActorRef<Echo>> keep;
  keep.reserve(static_cast<std::size_t>(o.spawns));
  const HeapDelta heap;
  const auto t0 = Clock::now();
  for (std::int64_t i = 0; i < o.spawns; ++i) keep.push_back(sys.spawn<Echo>([] { return Echo{}; }));
  ns_each = seconds_since(t0) * 1e9 / static_cast<double>(o.spawns);
  auto one_message_each = [&] {  // as for CAF's (see there)
    for (auto& a : keep)
      if (!a.ask(1, std::chrono::seconds(10)).ok()) std::abort();
  };
  one_message_each();
  bytes_each = heap.bytes() / static_cast<double>(o.spawns);
  allocs_each = spawn_allocations(heap, one_message_each) / static_cast<double>(o.spawns);
}
}  // namespace ours

// ---- CAF --------------------------------------------------------------------------------------

namespace peer {

caf::behavior echo(caf::event_based_actor*) {
  return {[](std::int64_t x) { return x; }};
}

caf::behavior count(caf::event_based_actor*, std::int64_t expected, std::promise<void>* done) {
  auto seen = std::make_shared<std::int64_t>(0);
  return {[=](std::int64_t) {
    if (++*seen == expected) done->set_value();
  }};
}

caf::behavior ring_node(caf::event_based_actor* self, std::promise<void>* done) {
  auto next = std::make_shared<caf::actor>();
  return {[=](caf::actor n) { *next = std::move(n); },
          [=](std::int64_t hops) {
            if (hops == 0) done->set_value();
            else self->send(*next, hops - 1);
          }};
}

struct System {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  System() {
    cfg.set("scheduler.max-threads", 2);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

void request_response(System& s, const Options& o, cp::bench::LatencyHistogram& h) {
  auto a = s.sys->spawn(echo);
  caf::scoped_actor self{*s.sys};
  for (std::int64_t i = 0; i < o.asks; ++i) {
    const auto t0 = Clock::now();
    bool ok = false;
    self->request(a, std::chrono::seconds(10), i)
        .receive([&](std::int64_t r) { ok = r == i; }, [&](caf::error&) { ok = false; });
    h.record(static_cast<std::uint64_t>(std::chrono::nanoseconds(Clock::now() - t0).count()));
    if (!ok) std::abort();
  }
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

double fan_in(System& s, const Options& o, unsigned senders) {
  std::promise<void> done;
  const std::int64_t per = o.fan_in / senders;
  auto a = s.sys->spawn(count, per * senders, &done);
  const auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (unsigned k = 0; k < senders; ++k)
    ts.emplace_back([&] {
      for (std::int64_t i = 0; i < per; ++i) caf::anon_send(a, i);
    });
  for (auto& t : ts) t.join();
  done.get_future().wait();
  const double rate = static_cast<double>(per * senders) / seconds_since(t0);
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  return rate;
}

double ring(System& s, const Options& o) {
  std::promise<void> done;
  std::vector<caf::actor> nodes;
  for (std::int64_t i = 0; i < o.ring_actors; ++i) nodes.push_back(s.sys->spawn(ring_node, &done));
  for (std::size_t i = 0; i < nodes.size(); ++i) caf::anon_send(nodes[i], nodes[(i + 1) % nodes.size()]);
  const auto t0 = Clock::now();
  caf::anon_send(nodes[0], o.ring_hops);
  done.get_future().wait();
  const double rate = static_cast<double>(o.ring_hops) / seconds_since(t0);
  for (auto& n : nodes) caf::anon_send_exit(n, caf::exit_reason::user_shutdown);
  return rate;
}

void spawn(System& s, const Options& o, double& ns_each, double& bytes_each, double& allocs_each) {
  std::vector<caf::actor> keep;
  keep.reserve(static_cast<std::size_t>(o.spawns));
  caf::scoped_actor self{*s.sys};
  const HeapDelta heap;
  const auto t0 = Clock::now();
  for (std::int64_t i = 0; i < o.spawns; ++i) keep.push_back(s.sys->spawn(echo));
  ns_each = seconds_since(t0) * 1e9 / static_cast<double>(o.spawns);
  // A CAF actor builds its behaviour on a worker after spawn returns; one request each waits
  // for that (the request's own memory is freed once it is answered).
  auto one_message_each = [&] {
    for (auto& a : keep) {
      bool ok = false;
      self->request(a, std::chrono::seconds(10), std::int64_t{1})
          .receive([&](std::int64_t) { ok = true; }, [&](caf::error&) { ok = false; });
      if (!ok) std::abort();
    }
  };
  one_message_each();
  bytes_each = heap.bytes() / static_cast<double>(o.spawns);
  allocs_each = spawn_allocations(heap, one_message_each) / static_cast<double>(o.spawns);
  for (auto& a : keep) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}
}  // namespace peer

}  // namespace

#if CP_COUNT_HEAP
// The counting operator new/delete (see HeapDelta). Sized and unsized delete both land here.
// Each block carries a 16-byte header (malloc's alignment, so the caller's block stays aligned)
// naming the sample that counted it: a delete takes back only what the running sample
// counted. Without it, blocks allocated before the sample and freed during it (an earlier
// sample's actors and buffers, released late by the workers) made the bytes per actor
// negative.
namespace {
constexpr std::size_t kHeader = 16;
struct BlockHeader {
  long counted_bytes;  // 0: allocated while not counting
  long sample;         // sample_id when it was counted
};
static_assert(sizeof(BlockHeader) <= kHeader);
}  // namespace

void* operator new(std::size_t n) {
  void* base = std::malloc(kHeader + (n == 0 ? 1 : n));
  if (base == nullptr) throw std::bad_alloc();
  long counted = 0, sample = 0;
  if (counting.load(std::memory_order_relaxed)) {
    sample = sample_id.load(std::memory_order_relaxed);
    counted = static_cast<long>(n);
    allocations.fetch_add(1, std::memory_order_relaxed);
    live_bytes.fetch_add(counted, std::memory_order_relaxed);
  }
  new (base) BlockHeader{counted, sample};
  return static_cast<char*>(base) + kHeader;
}
void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  void* base = static_cast<char*>(p) - kHeader;
  const BlockHeader& h = *static_cast<BlockHeader*>(base);
  if (h.counted_bytes != 0 && counting.load(std::memory_order_relaxed) &&
      h.sample == sample_id.load(std::memory_order_relaxed))
    live_bytes.fetch_sub(h.counted_bytes, std::memory_order_relaxed);
  std::free(base);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
#endif

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, o)) {
    usage(argv[0]);
    return 2;
  }
  std::printf("actor micro-benchmark: ours (patterns/actor) vs CAF 0.17, 2 workers each, "
              "%d repeat(s); median (min..max)\n\n", o.repeats);
  peer::System caf_sys;

  Spread p50[2], p99[2], p999[2];
  for (int r = 0; r < o.repeats; ++r) {
    for (int who = 0; who < 2; ++who) {
      cp::bench::LatencyHistogram h;
      if (who == 0) ours::request_response(o, h);
      else peer::request_response(caf_sys, o, h);
      p50[who].add(static_cast<double>(h.value_at_percentile(50)) / 1000.0);
      p99[who].add(static_cast<double>(h.value_at_percentile(99)) / 1000.0);
      p999[who].add(static_cast<double>(h.value_at_percentile(99.9)) / 1000.0);
    }
  }
  std::printf("request/response round trip (us), %lld asks per sample\n", static_cast<long long>(o.asks));
  std::printf("  %-5s p50 %s  p99 %s  p99.9 %s\n", "ours", p50[0].str("%.1f").c_str(),
              p99[0].str("%.1f").c_str(), p999[0].str("%.1f").c_str());
  std::printf("  %-5s p50 %s  p99 %s  p99.9 %s\n\n", "CAF", p50[1].str("%.1f").c_str(),
              p99[1].str("%.1f").c_str(), p999[1].str("%.1f").c_str());

  std::printf("fan-in: S senders tell one actor, %lld messages per sample (M msgs/s)\n",
              static_cast<long long>(o.fan_in));
  for (unsigned senders : {1u, 2u, 4u, 8u}) {
    Spread rate[2];
    for (int r = 0; r < o.repeats; ++r) {
      rate[0].add(ours::fan_in(o, senders) / 1e6);
      rate[1].add(peer::fan_in(caf_sys, o, senders) / 1e6);
    }
    std::printf("  S=%u  ours %s  CAF %s\n", senders, rate[0].str("%.2f").c_str(),
                rate[1].str("%.2f").c_str());
  }

  Spread ring_rate[2];
  for (int r = 0; r < o.repeats; ++r) {
    ring_rate[0].add(ours::ring(o) / 1e6);
    ring_rate[1].add(peer::ring(caf_sys, o) / 1e6);
  }
  std::printf("\nring: %lld actors, %lld hops (M hops/s)\n  ours %s  CAF %s\n",
              static_cast<long long>(o.ring_actors), static_cast<long long>(o.ring_hops),
              ring_rate[0].str("%.2f").c_str(), ring_rate[1].str("%.2f").c_str());

  Spread ns[2], bytes[2], allocs[2];
  for (int r = 0; r < o.repeats; ++r) {
    double t = 0, b = 0, a = 0;
    ours::spawn(o, t, b, a);
    ns[0].add(t);
    bytes[0].add(b);
    allocs[0].add(a);
    peer::spawn(caf_sys, o, t, b, a);
    ns[1].add(t);
    bytes[1].add(b);
    allocs[1].add(a);
  }
  std::printf("\nspawn: %lld actors per sample (ns per actor; heap bytes and allocations per "
              "actor)\n", static_cast<long long>(o.spawns));
  if (!CP_COUNT_HEAP)
    std::printf("  (built with ThreadSanitizer: heap not counted, bytes and allocations read 0)\n");
  std::printf("  ours %s ns, %s B, %s allocations\n  CAF  %s ns, %s B, %s allocations\n",
              ns[0].str("%.0f").c_str(), bytes[0].str("%.0f").c_str(), allocs[0].str("%.2f").c_str(),
              ns[1].str("%.0f").c_str(), bytes[1].str("%.0f").c_str(), allocs[1].str("%.2f").c_str());
  return 0;
}

// Run (Release):
//   cmake --preset release && cmake --build --preset release --target actor_bench
//   ./build/release/bench/actor/actor_bench --repeats=5
// Expect four blocks (request/response, fan-in at 1/2/4/8 senders, ring, spawn), each row
// ours and CAF's as "median (min..max)". --quick runs small counts in a second or so.
