// store_rwlock.hpp: RwlockStore, the store shared by the aggregators behind a read-write lock.
//
//   add    - any aggregator thread: takes the lock exclusively for one point (a map lookup and
//            a few additions).
//   flush  - the flusher: exclusive, moves the current window into the history.
//   query  - any thread; returns a future at once. One of the store's query threads takes the
//            lock shared, copies the selected part, and fulfils the promise: two queries copy
//            at once, and a slow one (a big copy) stops the writers only for the copy.
// Why a read-write lock: in the source scenario queries are many and cheap next to each other;
// here every point is a write, so the lock is mostly exclusive (the lesson measures what that
// costs against the owner store).
#pragma once

#include <absl/base/thread_annotations.h>

#include <algorithm>
#include <future>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "lessons/09-metrics-pipeline/bounded_queue.hpp"
#include "lessons/09-metrics-pipeline/store_state.hpp"
#include "patterns/rwlock/shared_mutex.hpp"

namespace cp::metrics {

template <class M = cp::SharedMutex>
class RwlockStore {
 public:
  static constexpr std::string_view name = "rwlock";

  // query_threads: how many queries can copy at once (each holds the lock shared).
  explicit RwlockStore(StoreConfig cfg = {}, unsigned query_threads = 2,
                       std::size_t query_queue = 64)
      : state_(cfg), queries_(query_queue) {
    for (unsigned i = 0; i < std::max(1u, query_threads); ++i)
      query_threads_.emplace_back([this] { answer_queries(); });
  }
  ~RwlockStore() {
    queries_.close();  // the query threads answer what is queued, then end
    for (auto& t : query_threads_) t.join();
  }
  RwlockStore(const RwlockStore&) = delete;
  RwlockStore& operator=(const RwlockStore&) = delete;

  // [quote: rw-add]
  void add(const Point& p) ABSL_LOCKS_EXCLUDED(mu_) {
    WriteLock<M> lock(mu_);
    state_.add(p);
  }
  // [end quote]

  void flush(std::int64_t end_ms) ABSL_LOCKS_EXCLUDED(mu_) {
    WriteLock<M> lock(mu_);
    state_.flush(end_ms);
  }

  // query: waits only for room in the query queue (it holds 64 by default); the future
  // carries the view, or std::future_error (broken_promise) if the store was being destroyed.
  std::future<StoreView> query(Query q) {
    Request r{std::move(q), {}};
    auto answer = r.reply.get_future();
    queries_.push(std::move(r));  // closed: r is destroyed, the promise breaks
    return answer;
  }

 private:
  struct Request {
    Query query;
    std::promise<StoreView> reply;
  };

  // [quote: rw-query]
  void answer_queries() {
    while (auto r = queries_.pop()) {
      StoreView v;
      {
        ReadLock<M> lock(mu_);
        v = state_.view(r->query);
      }
      r->reply.set_value(std::move(v));  // outside the lock: waking the reader costs a syscall
    }
  }
  // [end quote]

  M mu_;
  StoreState state_ ABSL_GUARDED_BY(mu_);
  BoundedQueue<Request> queries_;
  std::vector<std::thread> query_threads_;  // last: they start after what they read exists
};

}  // namespace cp::metrics
