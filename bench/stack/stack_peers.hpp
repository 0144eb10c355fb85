// stack_peers.hpp: every stack in the stack comparison behind one small interface.
//
//   Each adapter S has: a per-thread `Local` (made by S::local()), push(local, v), pop(local)
//   -> bool, and unreclaimed() (retired-but-not-freed nodes, or -1 where the library does not
//   say). Intrusive peers (cds_lfs, ck_stack) take nodes from a per-thread pool, so no row
//   pays for malloc that another does not.
//
//   Ours<Reclaim>  - patterns/lock_free/treiber_stack.hpp with each reclamation policy
//   MutexVector    - patterns/mutex/mutex_stack.hpp (std::vector behind one Mutex)
//   BoostStack     - boost::lockfree::stack (tagged pointers, a free list it never returns)
//   LibcdsHP       - libcds cds::container::TreiberStack over cds::gc::HP, optionally with
//                    elimination back-off
//   CdsLfs         - liburcu's cds_lfs: lock-free push; pop under the stack's own mutex
//                    (cds_lfs_pop_blocking), which is what lets a popped node be reused at once
//   CkStack        - Concurrency Kit's ck_stack, push_mpmc / pop_mpmc (a 16-byte CAS with a
//                    generation counter; nodes must stay allocated, hence the pools)
//   The two C peers are called through c_peers.c (their headers are not valid C++).
#pragma once

#include <boost/lockfree/stack.hpp>
#include <cds/container/treiber_stack.h>
#include <cds/gc/hp.h>
#include <cds/init.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "bench/stack/c_peers.h"
#include "patterns/lock_free/epochs.hpp"
#include "patterns/lock_free/hazard_pointers.hpp"
#include "patterns/lock_free/treiber_stack.hpp"
#include "patterns/mutex/mutex_stack.hpp"

namespace cp::bench::stack {

struct NoLocal {};

template <class Reclaim, class Backoff = lf::NoBackoff>
struct Ours {
  using Local = NoLocal;
  lf::TreiberStack<std::uint64_t, Reclaim, lf::NoHooks, Backoff> s;
  Local local() { return {}; }
  void push(Local&, std::uint64_t v) { s.push(v); }
  bool pop(Local&) { return s.try_pop().has_value(); }
  long long unreclaimed() const { return static_cast<long long>(s.unreclaimed()); }
  // settle: between runs (no worker alive), free what earlier runs' threads left in the
  // process-wide domain, so the next run's count is its own.
  static void settle() {
    for (int i = 0; i < 3; ++i) lf::EpochDomain::global().collect();
    lf::HazardDomain::global().collect();
  }
};

struct MutexVector {
  using Local = NoLocal;
  MutexStack<std::uint64_t> s;
  Local local() { return {}; }
  void push(Local&, std::uint64_t v) { s.push(v); }
  bool pop(Local&) { return s.try_pop().has_value(); }
  long long unreclaimed() const { return 0; }
};

struct BoostStack {
  using Local = NoLocal;
  boost::lockfree::stack<std::uint64_t> s{1024};
  Local local() { return {}; }
  void push(Local&, std::uint64_t v) { s.push(v); }
  bool pop(Local&) {
    std::uint64_t v;
    return s.pop(v);
  }
  long long unreclaimed() const { return -1; }  // its free list keeps every node: not counted
};

struct ElimTraits : cds::container::treiber_stack::traits {
  static constexpr bool enable_elimination = true;
};

template <bool Elimination>
struct LibcdsHP {
  // The thread guard attaches the calling thread to libcds's HP domain for the run.
  struct Local {
    bool attached_here = !cds::threading::Manager::isThreadAttached();
    Local() {
      if (attached_here) cds::threading::Manager::attachThread();
    }
    ~Local() {
      if (attached_here) cds::threading::Manager::detachThread();
    }
    Local(const Local&) = delete;
    Local(Local&&) = delete;
  };
  Local local() { return {}; }
  using Traits = std::conditional_t<Elimination, ElimTraits, cds::container::treiber_stack::traits>;
  cds::container::TreiberStack<cds::gc::HP, std::uint64_t, Traits> s;
  void push(Local&, std::uint64_t v) { s.push(v); }
  bool pop(Local&) {
    std::uint64_t v;
    return s.pop(v);
  }
  long long unreclaimed() const { return -1; }
};

// A per-thread pool of intrusive nodes: pop returns the node to the popping thread's pool.
template <class Node>
struct Pool {
  std::vector<std::unique_ptr<Node>> owned;
  std::vector<Node*> free;
  Node* take() {
    if (free.empty()) {
      owned.push_back(std::make_unique<Node>());
      return owned.back().get();
    }
    Node* n = free.back();
    free.pop_back();
    return n;
  }
};

// An intrusive node for the C peers: `link` stands for ck_stack_entry / cds_lfs_node (each is
// one `next` pointer, at offset 0). Nodes outlive every thread's pool: a node popped by thread
// A may have come from B's pool, so the adapter owns them all (freed after the threads join).
struct CNode {
  void* link = nullptr;
  std::uint64_t v = 0;
};
struct CLocal {
  std::vector<CNode*> free;
};

class CNodes {
 public:
  CNode* take(CLocal& l) {
    if (!l.free.empty()) {
      CNode* n = l.free.back();
      l.free.pop_back();
      return n;
    }
    std::lock_guard<std::mutex> lock(mu_);  // only while the pools fill up
    owned_.push_back(std::make_unique<CNode>());
    return owned_.back().get();
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<CNode>> owned_;
};

struct CdsLfs {
  using Local = CLocal;
  cds_lfs_stack* s = cp_lfs_new();
  CNodes nodes;
  CdsLfs() = default;
  CdsLfs(const CdsLfs&) = delete;
  ~CdsLfs() { cp_lfs_delete(s); }
  Local local() { return {}; }
  void push(Local& l, std::uint64_t v) {
    CNode* n = nodes.take(l);
    n->v = v;
    auto* link = reinterpret_cast<cds_lfs_node*>(&n->link);
    cp_lfs_node_init(link);
    cp_lfs_push(s, link);
  }
  bool pop(Local& l) {
    cds_lfs_node* link = cp_lfs_pop_blocking(s);
    if (link == nullptr) return false;
    l.free.push_back(reinterpret_cast<CNode*>(link));  // link is at offset 0
    return true;
  }
  long long unreclaimed() const { return -1; }
};

struct CkStack {
  using Local = CLocal;
  ck_stack* s = cp_ck_new();
  CNodes nodes;
  CkStack() = default;
  CkStack(const CkStack&) = delete;
  ~CkStack() { cp_ck_delete(s); }
  Local local() { return {}; }
  void push(Local& l, std::uint64_t v) {
    CNode* n = nodes.take(l);
    n->v = v;
    cp_ck_push(s, reinterpret_cast<ck_stack_entry*>(&n->link));
  }
  bool pop(Local& l) {
    ck_stack_entry* e = cp_ck_pop(s);
    if (e == nullptr) return false;
    l.free.push_back(reinterpret_cast<CNode*>(e));  // the entry is at offset 0
    return true;
  }
  long long unreclaimed() const { return -1; }
};

}  // namespace cp::bench::stack
