// queue_adapters.hpp: one tiny, uniform face per queue, so one bench drives them all.
//
//   QueueAdapter          - the concept: construct(capacity), try_push, try_pop, static traits.
//   BlockingQueueAdapter  - adds push/pop that wait (only where the library has them).
//   BatchConsumer         - adds consume_batch(f, max) (only where the library has a bulk pop).
//   BoostSpscQueue        - boost::lockfree::spsc_queue        (1 producer, 1 consumer)
//   BoostLockfreeQueue    - boost::lockfree::queue             (MPMC, Michael-Scott + freelist)
//   MoodycamelQueue       - moodycamel::ConcurrentQueue        (MPMC, per-producer sub-queues)
//   AtomicQueueSpsc       - atomic_queue::AtomicQueueB2<SPSC>  (1 producer, 1 consumer)
//   AtomicQueueMpmc       - atomic_queue::AtomicQueueB2        (MPMC ring, per-slot state)
//   TbbBoundedQueue       - tbb::concurrent_bounded_queue      (MPMC, blocking-capable)
//   MutexRingQueue        - std::mutex + ring + condition variables (the baseline)
//   SingleWriterRingAdapter - the face our cp::sw rings will wear (see "OUR RINGS" below)
//   AllQueues / for_each_queue - the registry: one line per queue.
//
// Why adapters and not a virtual interface: the hot loop of a queue bench is a few
// nanoseconds per item; a virtual call (and the lost inlining) would be a visible share of
// it and would tax the fast queues more than the slow ones. Each adapter is a template the
// bench instantiates, so the loop compiles to the library's own code.
//
// Contract of every adapter (what the bench and the tests rely on):
//   - `Q(std::size_t capacity)`: capacity is a power of two; the adapter holds at least that
//     many items (moodycamel: approximately, see its comment), and try_push fails when full.
//   - `bool try_push(value_type)`: never blocks, never allocates after construction (except
//     moodycamel's first push from a new thread, which allocates that thread's sub-queue).
//   - `bool try_pop(value_type&)`: never blocks; false when it found nothing.
//   - Only the threads the traits allow call them: one producer unless `multi_producer`, one
//     consumer unless `multi_consumer`.
//   - FIFO with one producer: items come out in the order they were pushed (every queue).
//   - `per_producer_fifo`: with several producers, each producer's items still come out in
//     its order. True for all but atomic_queue's MPMC ring (see AtomicQueueAdapter). No queue
//     here promises an order *between* producers.
//   - `name` (the CLI name), `library` (what it is), `multi_producer`, `multi_consumer`.
//
// Adding a queue = one adapter class here + one line in AllQueues (and its peer package in
// bench/queues/CMakeLists.txt). The bench, the tests and --queues pick it up.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include <atomic_queue/atomic_queue.h>
#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <concurrentqueue/concurrentqueue.h>
#include <tbb/concurrent_queue.h>

#include "patterns/single_writer/ring.hpp"  // ours: SingleProducerRing, MultiProducerRing

namespace cp::bench::queues {

// The item every bench and test moves through the queues: 8 bytes, trivially copyable (a
// requirement of boost::lockfree), so the cost measured is the queue's, not the payload's.
using Item = std::uint64_t;

template <class Q>
concept QueueAdapter =
    std::constructible_from<Q, std::size_t> &&
    requires(Q& q, typename Q::value_type v, typename Q::value_type& out) {
      { Q::name } -> std::convertible_to<std::string_view>;
      { Q::library } -> std::convertible_to<std::string_view>;
      { Q::multi_producer } -> std::convertible_to<bool>;
      { Q::multi_consumer } -> std::convertible_to<bool>;
      { Q::per_producer_fifo } -> std::convertible_to<bool>;
      { q.try_push(std::move(v)) } -> std::same_as<bool>;
      { q.try_pop(out) } -> std::same_as<bool>;
    };

// push waits until there is room, pop until there is an item (each in its library's way:
// atomic_queue spins, TBB and the mutex baseline sleep).
template <class Q>
concept BlockingQueueAdapter =
    QueueAdapter<Q> && requires(Q& q, typename Q::value_type v, typename Q::value_type& out) {
      q.push(std::move(v));
      q.pop(out);
    };

// consume_batch(f, max): pops up to `max` items, calling f(item&) on each in FIFO order;
// returns how many. Never blocks.
template <class Q>
concept BatchConsumer = QueueAdapter<Q> && requires(Q& q, std::size_t max) {
  { q.consume_batch([](typename Q::value_type&) {}, max) } -> std::same_as<std::size_t>;
};

// A string usable as a template argument (names of the generic adapters below).
template <std::size_t N>
struct FixedString {
  char text[N]{};
  constexpr FixedString(const char (&s)[N]) { std::copy_n(s, N, text); }  // NOLINT: implicit
  constexpr std::string_view view() const { return {text, N - 1}; }
};

// ---- peers --------------------------------------------------------------------------------

// BoostSpscQueue: boost::lockfree::spsc_queue, run-time capacity. A ring with a cached-free
// read and write index on separate cache lines; wait-free for its one producer and one
// consumer. Its bulk pop (pop(T*, n)) is the consume_batch.
template <class T>
class BoostSpscQueue {
 public:
  using value_type = T;
  static constexpr std::string_view name = "boost-spsc";
  static constexpr std::string_view library = "boost::lockfree::spsc_queue (Boost 1.74)";
  static constexpr bool multi_producer = false;
  static constexpr bool multi_consumer = false;
  static constexpr bool per_producer_fifo = true;

  explicit BoostSpscQueue(std::size_t capacity) : q_(capacity) {}
  bool try_push(T v) { return q_.push(v); }
  bool try_pop(T& out) { return q_.pop(out); }
  template <class F>
  std::size_t consume_batch(F&& f, std::size_t max) {
    std::array<T, 64> buffer;
    const std::size_t n = q_.pop(buffer.data(), std::min(max, buffer.size()));
    for (std::size_t i = 0; i < n; ++i) f(buffer[i]);
    return n;
  }

 private:
  boost::lockfree::spsc_queue<T> q_;
};

// BoostLockfreeQueue: boost::lockfree::queue, the Michael-Scott queue over a freelist of
// `capacity` nodes allocated up front. bounded_push never allocates: it fails when the
// freelist is empty, which makes the queue bounded like the others.
template <class T>
class BoostLockfreeQueue {
 public:
  using value_type = T;
  static constexpr std::string_view name = "boost-queue";
  static constexpr std::string_view library = "boost::lockfree::queue (Boost 1.74)";
  static constexpr bool multi_producer = true;
  static constexpr bool multi_consumer = true;
  static constexpr bool per_producer_fifo = true;

  explicit BoostLockfreeQueue(std::size_t capacity) : q_(capacity) {}
  bool try_push(T v) { return q_.bounded_push(v); }
  bool try_pop(T& out) { return q_.pop(out); }

 private:
  boost::lockfree::queue<T> q_;
};

// MoodycamelQueue: moodycamel::ConcurrentQueue, one sub-queue per producer thread (implicit
// producers: found by a thread-id hash on every call; explicit ProducerTokens would be faster
// but do not fit a token-free interface, see README). It is an unbounded queue by design; the
// constructor pre-allocates blocks for `capacity` items and try_enqueue never allocates a
// block, so it is bounded here too, at block granularity (32 items) and per producer.
// try_dequeue_bulk is the consume_batch.
template <class T>
class MoodycamelQueue {
 public:
  using value_type = T;
  static constexpr std::string_view name = "moodycamel";
  static constexpr std::string_view library = "moodycamel::ConcurrentQueue (1.0.3, Debian)";
  static constexpr bool multi_producer = true;
  static constexpr bool multi_consumer = true;
  static constexpr bool per_producer_fifo = true;

  explicit MoodycamelQueue(std::size_t capacity) : q_(capacity) {}
  bool try_push(T v) { return q_.try_enqueue(std::move(v)); }
  bool try_pop(T& out) { return q_.try_dequeue(out); }
  template <class F>
  std::size_t consume_batch(F&& f, std::size_t max) {
    std::array<T, 64> buffer;
    const std::size_t n = q_.try_dequeue_bulk(buffer.data(), std::min(max, buffer.size()));
    for (std::size_t i = 0; i < n; ++i) f(buffer[i]);
    return n;
  }

 private:
  moodycamel::ConcurrentQueue<T> q_;
};

// AtomicQueueSpsc / AtomicQueueMpmc: atomic_queue's AtomicQueueB2 (run-time capacity, any
// element type: a state byte per slot, so no reserved NIL value). Index arithmetic is relaxed;
// the per-slot state carries the hand-off. SPSC=true drops the CAS on head/tail.
// push/pop (the blocking variant) spin inside the library with a pause instruction.
template <class T, bool Spsc>
class AtomicQueueAdapter {
 public:
  using value_type = T;
  static constexpr std::string_view name = Spsc ? "atomic-queue-spsc" : "atomic-queue";
  static constexpr std::string_view library =
      Spsc ? "atomic_queue::AtomicQueueB2<SPSC=true> (git 2022-05-18)"
           : "atomic_queue::AtomicQueueB2 (git 2022-05-18)";
  static constexpr bool multi_producer = !Spsc;
  static constexpr bool multi_consumer = !Spsc;
  // false for the MPMC ring: see the comment above the class.
  static constexpr bool per_producer_fifo = Spsc;

  explicit AtomicQueueAdapter(std::size_t capacity) : q_(static_cast<unsigned>(capacity)) {}
  bool try_push(T v) { return q_.try_push(std::move(v)); }
  bool try_pop(T& out) { return q_.try_pop(out); }
  void push(T v) { q_.push(std::move(v)); }
  void pop(T& out) { out = q_.pop(); }

 private:
  // MAXIMIZE_THROUGHPUT = true, TOTAL_ORDER = false: the library's defaults.
  atomic_queue::AtomicQueueB2<T, std::allocator<T>, true, false, Spsc> q_;
};
template <class T>
using AtomicQueueSpsc = AtomicQueueAdapter<T, true>;
template <class T>
using AtomicQueueMpmc = AtomicQueueAdapter<T, false>;

// TbbBoundedQueue: tbb::concurrent_bounded_queue with set_capacity. Micro-queues selected by
// ticket; push/pop sleep in TBB's concurrent monitor when full/empty.
template <class T>
class TbbBoundedQueue {
 public:
  using value_type = T;
  static constexpr std::string_view name = "tbb-bounded";
  static constexpr std::string_view library = "tbb::concurrent_bounded_queue (oneTBB 2021.8)";
  static constexpr bool multi_producer = true;
  static constexpr bool multi_consumer = true;
  static constexpr bool per_producer_fifo = true;

  explicit TbbBoundedQueue(std::size_t capacity) {
    q_.set_capacity(static_cast<std::ptrdiff_t>(capacity));
  }
  bool try_push(T v) { return q_.try_push(std::move(v)); }
  bool try_pop(T& out) { return q_.try_pop(out); }
  void push(T v) { q_.push(std::move(v)); }
  void pop(T& out) { q_.pop(out); }

 private:
  tbb::concurrent_bounded_queue<T> q_;
};

// MutexRingQueue: the baseline every lock-free queue must beat. A fixed ring under one
// std::mutex; two condition variables for the blocking push/pop. A notify is only issued when
// someone waits (the waiter counts), so the try_ path pays for the lock and nothing else.
// (Not annotated for clang's -Wthread-safety: libstdc++'s std::mutex is not a capability
// type. Every member below `mu_` is guarded by it; only the constructor touches them unlocked.)
template <class T>
class MutexRingQueue {
 public:
  using value_type = T;
  static constexpr std::string_view name = "mutex-ring";
  static constexpr std::string_view library = "std::mutex + ring + std::condition_variable";
  static constexpr bool multi_producer = true;
  static constexpr bool multi_consumer = true;
  static constexpr bool per_producer_fifo = true;

  explicit MutexRingQueue(std::size_t capacity) : slots_(capacity), mask_(capacity - 1) {}

  bool try_push(T v) {
    std::lock_guard lock(mu_);
    if (tail_ - head_ == slots_.size()) return false;
    put(std::move(v));
    return true;
  }
  bool try_pop(T& out) {
    std::lock_guard lock(mu_);
    if (tail_ == head_) return false;
    out = take();
    return true;
  }
  void push(T v) {
    std::unique_lock lock(mu_);
    ++push_waiters_;
    not_full_.wait(lock, [&] { return tail_ - head_ < slots_.size(); });
    --push_waiters_;
    put(std::move(v));
  }
  void pop(T& out) {
    std::unique_lock lock(mu_);
    ++pop_waiters_;
    not_empty_.wait(lock, [&] { return tail_ != head_; });
    --pop_waiters_;
    out = take();
  }

 private:
  // put/take: called with mu_ held. Notifying under the lock is simplest and correct; the
  // waiter counts keep the common (nobody waits) case free of the futex call.
  void put(T v) {
    slots_[tail_++ & mask_] = std::move(v);
    if (pop_waiters_ != 0) not_empty_.notify_one();
  }
  T take() {
    T v = std::move(slots_[head_++ & mask_]);
    if (push_waiters_ != 0) not_full_.notify_one();
    return v;
  }

  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::vector<T> slots_;
  std::size_t mask_;
  std::uint64_t head_ = 0, tail_ = 0;  // pop and push counters; size = tail_ - head_
  unsigned push_waiters_ = 0, pop_waiters_ = 0;
};

// ---- OUR RINGS ------------------------------------------------------------------------------
//
// SingleWriterRingAdapter<Ring, Name, MultiProducer>: wraps a ring with the interface of
// cp::sw::SingleProducerRing<T, Wait> / MultiProducerRing<T, Wait>:
//     explicit Ring(std::size_t capacity);
//     bool try_push(T&&);  bool push(T&&);
//     std::size_t consume_batch(F&& f /* f(T&, std::uint64_t seq) */, std::size_t max);
// try_pop is consume_batch(.., 1); consume_batch is passed through (dropping the sequence), so
// `queue_compare --batch 64` measures the ring the way it is meant to be used. If the ring's
// constructor differs, adapt it here, in one place.
template <class Ring, FixedString Name, bool MultiProducer>
class SingleWriterRingAdapter {
 public:
  using value_type = typename Ring::value_type;
  static constexpr std::string_view name = Name.view();
  static constexpr std::string_view library = "ours: patterns/single_writer";
  static constexpr bool multi_producer = MultiProducer;
  static constexpr bool multi_consumer = false;  // single writer: one consumer by design
  static constexpr bool per_producer_fifo = true;

  explicit SingleWriterRingAdapter(std::size_t capacity) : ring_(capacity) {}
  bool try_push(value_type v) { return ring_.try_push(std::move(v)); }
  void push(value_type v) { (void)ring_.push(std::move(v)); }
  bool try_pop(value_type& out) {
    return ring_.consume_batch([&out](value_type& v, std::uint64_t) { out = std::move(v); },
                               1) == 1;
  }
  void pop(value_type& out) {
    while (!try_pop(out)) {
    }
  }
  template <class F>
  std::size_t consume_batch(F&& f, std::size_t max) {
    return ring_.consume_batch([&f](value_type& v, std::uint64_t) { f(v); }, max);
  }

 private:
  Ring ring_;
};

// BusySpinWaitStrategy, because every peer here is driven by busy-spinning on
// try_push/try_pop; the ring's own wait strategy only matters to its blocking push and
// wait_for_data, which the bench does not call.
template <class T>
using SwSingleProducerRing =
    SingleWriterRingAdapter<cp::sw::SingleProducerRing<T, cp::sw::BusySpinWaitStrategy>,
                            "sw-spsc-ring", false>;
template <class T>
using SwMultiProducerRing =
    SingleWriterRingAdapter<cp::sw::MultiProducerRing<T, cp::sw::BusySpinWaitStrategy>,
                            "sw-mpsc-ring", true>;

// ---- the registry ---------------------------------------------------------------------------

template <class... Qs>
struct QueueList {};

// AllQueues: every queue the bench and the tests run, in table order. One line per queue.
template <class T>
using AllQueues = QueueList<BoostSpscQueue<T>,      //
                            BoostLockfreeQueue<T>,  //
                            MoodycamelQueue<T>,     //
                            AtomicQueueSpsc<T>,     //
                            AtomicQueueMpmc<T>,     //
                            TbbBoundedQueue<T>,     //
                            MutexRingQueue<T>,      //
                            SwSingleProducerRing<T>,  // ours
                            SwMultiProducerRing<T>    // ours
                            >;

// for_each_queue<AllQueues<Item>>(f): calls f.template operator()<Q>() for each Q, in order.
template <class List>
struct ForEachQueue;
template <class... Qs>
struct ForEachQueue<QueueList<Qs...>> {
  static_assert((QueueAdapter<Qs> && ...), "every registered queue must satisfy QueueAdapter");
  template <class F>
  static void run(F&& f) {
    (f.template operator()<Qs>(), ...);
  }
};
template <class List, class F>
void for_each_queue(F&& f) {
  ForEachQueue<List>::run(std::forward<F>(f));
}

// queue_names: the CLI names of a list, in order.
template <class List>
std::vector<std::string_view> queue_names() {
  std::vector<std::string_view> names;
  for_each_queue<List>([&names]<class Q>() { names.push_back(Q::name); });
  return names;
}

}  // namespace cp::bench::queues
