// rwlock_order.hpp: the order workload with a read-write lock (patterns/rwlock).
//
//   RwLockOrderEngine<SharedMutex>      "rwlock-std"
//   RwLockOrderEngine<AbslSharedMutex>  "rwlock-absl"
//
// The reference core behind one read-write lock: query shares it, place and cancel exclude.
// Only 10% of the default stream are queries and a query is short, so expect little gain over
// the plain mutex; the row shows what the reader count costs.
//
// Commit order: exposed. Writes (place, cancel) are totally ordered by the exclusive lock. A
// query logs how many writes it saw (the write log's length, read under the shared lock, so no
// write can run concurrently); replaying each query right after that many writes gives the
// same reply, and queries between the same two writes commute. commits() merges the two logs
// into one total order that the reference reproduces. Queries log into their own small mutex,
// taken under the shared lock (hierarchy: mu_ shared, then query_log_mu_).
#pragma once

#include <absl/base/thread_annotations.h>

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <vector>

#include "comparisons/order/contract.hpp"
#include "comparisons/order/reference.hpp"
#include "patterns/mutex/mutex.hpp"
#include "patterns/rwlock/shared_mutex.hpp"

namespace cp {

template <class M>
class RwLockOrderEngine {
 public:
  using lock_type = M;
  static constexpr DesignTraits traits{
      .name = M::design_name,
      .family = Family::rwlock,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = M::waiting,
      .exposes_commit_order = true,
  };

  explicit RwLockOrderEngine(OrderConfig config) : core_(config) {}

  PlaceReply place(const PlaceCmd& cmd) ABSL_LOCKS_EXCLUDED(mu_) {
    WriteLock<M> lock(mu_);
    const PlaceReply r = core_.place(cmd);
    if (recording_) writes_.push_back({cmd, r});
    return r;
  }

  CancelReply cancel(const CancelCmd& cmd) ABSL_LOCKS_EXCLUDED(mu_) {
    WriteLock<M> lock(mu_);
    const CancelReply r = core_.cancel(cmd);
    if (recording_) writes_.push_back({cmd, r});
    return r;
  }

  QueryReply query(const QueryCmd& cmd) ABSL_LOCKS_EXCLUDED(mu_) {
    ReadLock<M> lock(mu_);
    const QueryReply r = core_.query(cmd);
    if (recording_) {
      const std::size_t seen = writes_.size();  // stable: no writer runs while we read
      MutexLock log_lock(query_log_mu_);
      queries_.push_back({seen, cmd, r});
    }
    return r;
  }

  OrderState state() ABSL_LOCKS_EXCLUDED(mu_) {
    ReadLock<M> lock(mu_);
    return core_.state();
  }

  void record_commits(bool on) ABSL_LOCKS_EXCLUDED(mu_, query_log_mu_) {
    WriteLock<M> lock(mu_);
    recording_ = on;
    if (on) {
      writes_.clear();
      MutexLock log_lock(query_log_mu_);
      queries_.clear();
    }
  }

  // commits: writes in lock order, each query placed after the writes it saw.
  std::vector<Commit> commits() ABSL_LOCKS_EXCLUDED(mu_, query_log_mu_) {
    WriteLock<M> lock(mu_);
    MutexLock log_lock(query_log_mu_);
    std::vector<LoggedQuery> queries = queries_;
    std::stable_sort(queries.begin(), queries.end(),
                     [](const LoggedQuery& a, const LoggedQuery& b) { return a.seen < b.seen; });
    std::vector<Commit> out;
    out.reserve(writes_.size() + queries.size());
    std::size_t q = 0;
    for (std::size_t w = 0; w <= writes_.size(); ++w) {
      for (; q < queries.size() && queries[q].seen == w; ++q)
        out.push_back({queries[q].cmd, queries[q].reply});
      if (w < writes_.size()) out.push_back(writes_[w]);
    }
    return out;
  }

 private:
  struct LoggedQuery {
    std::size_t seen = 0;  // writes committed before this query
    QueryCmd cmd;
    QueryReply reply;
  };

  M mu_;
  OrderCore core_ ABSL_GUARDED_BY(mu_);
  bool recording_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Commit> writes_ ABSL_GUARDED_BY(mu_);
  Mutex query_log_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::vector<LoggedQuery> queries_ ABSL_GUARDED_BY(query_log_mu_);
};

}  // namespace cp
