// lock_free_order.hpp: the order workload with no lock (family lock_free).
//
//   LockFreeOrderEngine "lock-free" - three lock-free pieces, each with one atomic step that
//       decides it, in a file of its own:
//     - the id index (lock_free_order_ids.hpp): claiming an id is one CAS; its node is then
//       the order's record (its fields, filled, cancelled).
//     - cash (lock_free_order_accounts.hpp): available, reserved and positions are separate
//       atomics. A buy takes its cash from `available` by a CAS loop (refused when it would go
//       below 0), then adds it to `reserved`; trades and cancels add and subtract.
//     - the books (lock_free_order_book.hpp, lock_free_order_matching.hpp): per symbol, one
//       atomic pointer to an immutable BookVersion. A place or cancel builds a new version from
//       the one it loaded and swaps it in by CAS; if another command swapped first it starts
//       again from the new version. The old version, and the levels only it held, are retired
//       to the family's epochs (patterns/lock_free/epochs.hpp): every operation pins, so a
//       level outlives every operation that may have reached it through any version. (Hazard
//       pointers protect the one pointer a reader published, the version, not the levels
//       behind it that older and newer versions share; epochs protect everything reachable.)
//
// A place: shape checks; claim the id (duplicate_order_id if taken); reserve a buy's cash
// (insufficient_cash: the id is freed again); match into a new book version and CAS it in;
// then, after the CAS, settle each trade's cash and positions and add the fills to the orders'
// records. A cancel: find the node; owner; CAS in a version without its entry (order_not_active
// if the entry is gone); then add the remainder to `cancelled` and release a buy's reservation.
//
// Exceptions (an allocation that fails). Everything that allocates happens before the book's
// CAS: the id node, the new version, its levels (owned by the Edit until the CAS succeeds),
// the list of fills, and the Garbage that will carry the old version to the epochs. A place
// that throws there undoes what it did, in reverse: the cash goes back, the id is freed (the
// next place of that id may use it), the Edit frees its levels; it then rethrows, and the state
// is the state before it. After the CAS nothing of ours allocates, and the command completes:
// the one allocation left is the epoch domain's, inside retire(); if that throws, the Garbage
// goes on the engine's own list of orphans (a CAS push) and is freed with the engine, late but
// never early. tests/conformance/order/lock_free_edit_test.cpp fails each allocation in turn.
//
// Lock-free: every loop retries only because another thread's CAS on the same word succeeded
// (that thread made progress), and nothing waits for another thread. The order suite parks a
// place and a cancel at every hook point in turn (id claimed, cash taken, before the CAS, book
// swapped, each trade settled) and the others finish. Allocation goes through malloc, which is
// not lock-free itself (as in the stack).
//
// What it does not give (why linearizable_reads = false): a place's effects land in several
// atomic steps, the book's CAS first, then each trade's cash one account at a time. A query
// in between sees a half-settled trade (the buyer holds the shares, the seller is not paid
// yet: positions do not sum to zero) or a reservation half made (available lowered, reserved
// not yet raised), a state no serial order had. Replies to places and cancels are also not
// linearizable in two races no single-client stream can produce: a place that is being
// rejected for cash holds its id for a moment (a racing place of the same id is refused as a
// duplicate), and a cancel that races the place of its id answers unknown_order until that
// place's CAS is done. What does hold: a query never sees negative cash (a reservation is made
// before the version that uses it is published, and every settlement happens after); each
// symbol's book and trade totals change atomically; at quiescence every contract invariant
// holds (the suite's stress checks); and one client alone gets exactly the reference's replies
// (its reference check).
//
// Why not linearizable and lock-free both: a trade changes one book and two accounts, and a
// query must see all three change at once. That needs a multi-word atomic update (a software
// transactional memory, or a multi-word CAS with descriptors that other threads help to
// finish): possible, but each trade then costs several CASes and helpers, more than a lock.
// lessons/06-lock-free/order-engine.md discusses it beside the flat-combining engine.
//
// Costs: an attempt is O(levels + orders at the touched levels), and a failed CAS throws it
// away; contention on one hot symbol is one CAS word, as in the Treiber stack, but each retry
// redoes the matching. Memory: a pinned thread that stalls holds back every retired version
// (epochs' price).
#pragma once

#include <absl/container/flat_hash_map.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "comparisons/order/contract.hpp"
#include "comparisons/order/lock_free_order_accounts.hpp"
#include "comparisons/order/lock_free_order_book.hpp"
#include "comparisons/order/lock_free_order_ids.hpp"
#include "comparisons/order/lock_free_order_matching.hpp"
#include "comparisons/order/reference.hpp"
#include "patterns/lock_free/epochs.hpp"
#include "patterns/lock_free/hooks.hpp"

namespace cp {

template <class Hooks = lf::NoHooks>
class LockFreeOrderEngineT {
 public:
  static constexpr DesignTraits traits{
      .name = "lock-free",
      .family = Family::lock_free,
      .thread_safe = true,
      .linearizable_reads = false,  // a query may see a trade half settled (see the top)
      .lock_free = true,
      .waiting = Waiting::never,
  };
  template <class H>
  using with_hooks = LockFreeOrderEngineT<H>;  // the progress test parks a thread at each hook

  explicit LockFreeOrderEngineT(OrderConfig config)
      : config_(check(config)),
        accounts_(std::make_unique<lf_order::Account[]>(config_.accounts)),
        books_(std::make_unique<std::atomic<Version*>[]>(config_.symbols)) {
    for (AccountId a = 0; a < config_.accounts; ++a)
      accounts_[a].available.store(config_.initial_cash, std::memory_order_relaxed);
    // Relaxed: the engine is published to other threads by whatever hands it to them.
    for (SymbolId s = 0; s < config_.symbols; ++s)
      books_[s].store(new Version(), std::memory_order_relaxed);
  }
  LockFreeOrderEngineT(const LockFreeOrderEngineT&) = delete;
  LockFreeOrderEngineT& operator=(const LockFreeOrderEngineT&) = delete;
  ~LockFreeOrderEngineT() {  // no other thread; what was retired belongs to the epoch domain
    for (lf_order::Garbage* g = orphans_.load(std::memory_order_relaxed); g != nullptr;) {
      lf_order::Garbage* next = g->next_orphan;
      delete g;
      g = next;
    }
    for (SymbolId s = 0; s < config_.symbols; ++s) {
      Version* v = books_[s].load(std::memory_order_relaxed);
      for (const auto* side : {&v->bids, &v->asks})
        for (lf_order::Level* l : *side) delete l;
      delete v;
    }
  }

  PlaceReply place(const PlaceCmd& cmd) {
    if (const Reject r = validate_place_shape(config_, cmd); r != Reject::none) return {r};
    lf_order::OrderNode* node = ids_.claim(cmd.id);  // may throw: nothing claimed then
    if (node == nullptr) return {Reject::duplicate_order_id};
    Hooks::at(lf::HookPoint::order_id_claimed, node);
    lf_order::Account& account = accounts_[cmd.account];
    const Cash cost = reservation(cmd);
    if (cost > 0) {
      if (!account.take(cost)) {
        lf_order::IdIndex::free(node);  // a rejected place does not use up its id
        return {Reject::insufficient_cash};
      }
      Hooks::at(lf::HookPoint::order_cash_taken, node);
      account.add_reserved(cost);
    }
    node->account = cmd.account;
    node->symbol = cmd.symbol;
    node->side = cmd.side;
    node->price = cmd.price;
    node->qty = cmd.qty;

    std::vector<lf_order::Fill> fills;
    Qty left = 0;
    try {
      swap_book(cmd.symbol, [&](const Version& cur, Version& next, lf_order::Edit& edit) {
        fills.clear();
        left = lf_order::match_into(cur, cmd, node, next, fills, edit);
        return true;
      });
    } catch (...) {  // nothing was published: undo the reservation and the claim
      if (cost > 0) account.release(cost);
      lf_order::IdIndex::free(node);
      throw;
    }
    lf_order::IdIndex::placed(node);
    Hooks::at(lf::HookPoint::order_book_swapped, node);

    // After the CAS: the trades' cash and positions, and the orders' fills. Nothing allocates.
    PlaceReply reply{Reject::none, cmd.qty - left, 0, left > 0};
    for (const lf_order::Fill& f : fills) {
      const bool taker_buys = cmd.side == Side::buy;
      settle(taker_buys ? cmd.account : f.maker->account,
             taker_buys ? f.maker->account : cmd.account, cmd.symbol,
             taker_buys ? cmd.price : f.price, f.price, f.qty);
      f.maker->filled.fetch_add(f.qty, std::memory_order_relaxed);  // a sum: see lf_order::Account
      reply.filled_notional += f.price * f.qty;
      Hooks::at(lf::HookPoint::order_trade_settled, f.maker);
    }
    if (reply.filled_qty > 0) node->filled.fetch_add(reply.filled_qty, std::memory_order_relaxed);
    return reply;
  }

  CancelReply cancel(const CancelCmd& cmd) {
    if (cmd.account >= config_.accounts) return {Reject::unknown_account};
    lf_order::OrderNode* node = ids_.find(cmd.id);
    // Acquire: pairs with placed()'s release; the node's fields are visible.
    if (node == nullptr || node->status.load(std::memory_order_acquire) != lf_order::OrderNode::kPlaced)
      return {Reject::unknown_order};
    if (node->account != cmd.account) return {Reject::not_owner};
    Qty remaining = 0;
    const bool removed = swap_book(node->symbol, [&](const Version& cur, Version& next,
                                                     lf_order::Edit& edit) {
      return lf_order::remove_from(cur, node, next, &remaining, edit);
    });
    if (!removed) return {Reject::order_not_active};
    Hooks::at(lf::HookPoint::order_book_swapped, node);
    node->cancelled.fetch_add(remaining, std::memory_order_relaxed);  // a sum: see lf_order::Account
    if (node->side == Side::buy) accounts_[cmd.account].release(node->price * remaining);
    return {Reject::none, remaining};
  }

  QueryReply query(const QueryCmd& cmd) const {
    if (cmd.account >= config_.accounts) return {Reject::unknown_account};
    return accounts_[cmd.account].reply();
  }

  // state: exact at quiescence (the contract's snapshot); while commands run, its parts come
  // from different instants.
  OrderState state() const {
    OrderState st = empty_state(config_);
    absl::flat_hash_map<const lf_order::OrderNode*, Qty> resting;
    {
      const auto pinned = lf::EpochDomain::global().pin();  // the versions we read stay alive
      for (SymbolId s = 0; s < config_.symbols; ++s) {
        // seq_cst: after the pin (see lf::EpochDomain::try_advance()).
        const Version* v = books_[s].load(std::memory_order_seq_cst);
        OrderState::Book& b = st.books[s];
        for (const auto* side : {&v->bids, &v->asks})
          for (const lf_order::Level* l : *side)
            for (const auto& r : l->orders) {
              (side == &v->bids ? b.bids : b.asks).push_back({r.order->id, l->price, r.remaining});
              resting[r.order] = r.remaining;
            }
        st.trades += v->trades;
        st.traded_qty += v->traded_qty;
        st.traded_notional += v->traded_notional;
      }
    }
    ids_.for_each([&](const lf_order::OrderNode& n) {
      // Acquire: as in cancel().
      if (n.status.load(std::memory_order_acquire) != lf_order::OrderNode::kPlaced) return;
      const auto it = resting.find(&n);
      st.orders.push_back({.id = n.id, .account = n.account, .symbol = n.symbol, .side = n.side,
                           .price = n.price, .qty = n.qty,
                           .filled = n.filled.load(std::memory_order_relaxed),
                           .cancelled = n.cancelled.load(std::memory_order_relaxed),
                           .resting = it == resting.end() ? 0 : it->second});
    });
    sort_orders(st);
    st.accounts.reserve(config_.accounts);
    for (AccountId a = 0; a < config_.accounts; ++a) {
      const QueryReply q = accounts_[a].reply();
      st.accounts.push_back({q.available, q.reserved, q.positions});
    }
    return st;
  }

 private:
  using Version = lf_order::BookVersion;

  // swap_book: the copy-on-write loop. build(cur, next, edit) fills `next` from the current
  // version `cur` and returns true, or returns false to change nothing. Returns whether a
  // version was swapped in. Retries when another command swapped first (it made progress).
  // Everything that may throw comes before the CAS, and a throw there leaves nothing behind
  // (see Exceptions at the top); after the CAS it does not throw.
  template <class Build>
  bool swap_book(SymbolId symbol, Build&& build) {
    std::atomic<Version*>& book = books_[symbol];
    lf::EpochDomain& epochs = lf::EpochDomain::global();
    const auto pinned = epochs.pin();  // nothing we load is freed until we unpin
    auto garbage = std::make_unique<lf_order::Garbage>();  // carries the old version out
    lf_order::Edit edit;
    for (;;) {
      // seq_cst: after the pin in the seq_cst order (see lf::EpochDomain::try_advance()); it
      // also acquires the version's contents, published by the CAS below.
      Version* cur = book.load(std::memory_order_seq_cst);
      auto next = std::make_unique<Version>();
      if (!build(*cur, *next, edit)) return false;
      Hooks::at(lf::HookPoint::swap_before_cas, cur);
      // seq_cst on success: the unlink must precede the retire's epoch load in the seq_cst
      // order (the epoch argument); it also releases `next` and its new levels.
      if (book.compare_exchange_strong(cur, next.get(), std::memory_order_seq_cst,
                                       std::memory_order_relaxed)) {
        next.release();
        garbage->version = cur;
        garbage->levels = edit.commit();
        retire(garbage.release());
        return true;
      }
      edit.reset();  // nobody saw them
    }
  }

  // retire: hands an old version and its levels to the epochs. Does not throw: the epochs'
  // retire throws only when its bag cannot grow, before it records g; the garbage is then kept
  // on orphans_ and freed with the engine (late, never early: a reader may still hold it).
  void retire(lf_order::Garbage* g) noexcept {
    try {
      lf::EpochDomain::global().retire(g);
    } catch (...) {
      // A CAS push, so that racing pushes all land. Release: g's fields before g on the list
      // (the destructor reads it only after every operation ended, which orders it anyway).
      g->next_orphan = orphans_.load(std::memory_order_relaxed);
      while (!orphans_.compare_exchange_weak(g->next_orphan, g, std::memory_order_release,
                                             std::memory_order_relaxed)) {
      }
    }
  }

  // settle: one trade's cash and positions, one atomic step at a time (see the top).
  void settle(AccountId buyer, AccountId seller, SymbolId symbol, Price buyer_limit, Price price,
              Qty qty) {
    lf_order::Account& b = accounts_[buyer];
    lf_order::Account& s = accounts_[seller];
    // Relaxed, as every account access (see lf_order::Account).
    b.reserved.fetch_sub(buyer_limit * qty, std::memory_order_relaxed);
    b.available.fetch_add((buyer_limit - price) * qty, std::memory_order_relaxed);
    b.positions[symbol].fetch_add(qty, std::memory_order_relaxed);
    s.available.fetch_add(price * qty, std::memory_order_relaxed);
    s.positions[symbol].fetch_sub(qty, std::memory_order_relaxed);
  }

  const OrderConfig config_;
  std::unique_ptr<lf_order::Account[]> accounts_;
  std::unique_ptr<std::atomic<Version*>[]> books_;
  lf_order::IdIndex ids_;
  std::atomic<lf_order::Garbage*> orphans_{nullptr};  // garbage the epochs could not take
};
using LockFreeOrderEngine = LockFreeOrderEngineT<>;

}  // namespace cp
