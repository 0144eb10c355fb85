// lock_free_order.hpp: the order workload with no lock (family lock_free).
//
//   LockFreeOrderEngine "lock-free" - three lock-free pieces, each with one atomic step that
//       decides it:
//     - the id index (lf_order::IdIndex): buckets of insert-only lists of OrderNodes, one node
//       per id ever seen. Claiming an id is a CAS on its bucket's head (or on a freed node's
//       status); the node is then the order's record (its fields, filled, cancelled).
//     - cash (lf_order::Account): available, reserved and positions are separate atomics. A buy
//       reserves by a CAS loop on `available` (refused when it would go below 0), then adds to
//       `reserved`; trades and cancels add and subtract.
//     - the books: per symbol, one atomic pointer to an immutable BookVersion (both sides as
//       lists of price levels, and the symbol's trade totals). A place or cancel builds a new
//       version from the one it loaded and swaps it in by CAS; if another command swapped
//       first it starts again from the new version. A new version shares every level it does
//       not change with the old one, so an attempt copies the two short lists of levels and
//       the one or two levels it touches. The old version, and the levels only it held, are
//       retired to the family's epochs (patterns/lock_free/epochs.hpp): every operation pins,
//       so a level outlives every operation that may have reached it through any version.
//       (Hazard pointers protect the one pointer a reader published, the version, not the
//       levels behind it that older and newer versions share; epochs protect everything
//       reachable at once.)
//
// A place: shape checks; claim the id (duplicate_order_id if taken); reserve a buy's cash
// (insufficient_cash: the id is freed again); match into a new book version and CAS it in;
// then, after the CAS, settle each trade's cash and positions and add the fills to the orders'
// records. A cancel: find the node; owner; CAS in a version without its entry (order_not_active
// if the entry is gone); then add the remainder to `cancelled` and release a buy's reservation.
//
// Lock-free: every loop retries only because another thread's CAS on the same word succeeded
// (that thread made progress), and nothing waits for another thread. A thread parked between
// building its version and its CAS stops no one (the progress test in the order suite parks
// one there). Allocation goes through malloc, which is not lock-free itself (as in the stack).
//
// What it does not give (why linearizable_reads = false): a place's effects land in several
// atomic steps, the book's CAS first, then each trade's cash one account at a time. A query
// in between sees a half-settled trade (the buyer holds the shares, the seller is not paid
// yet: positions do not sum to zero) or a reservation half made (available lowered, reserved
// not yet raised), a state no serial order had. Replies to places and cancels are also not linearizable in two races
// no single-client stream can produce: a place that is being rejected for cash holds its id
// for a moment (a racing place of the same id is refused as a duplicate), and a cancel that
// races the place of its id answers unknown_order until that place's CAS is done. What does
// hold: a query never sees negative cash (a reservation is made before the version that uses
// it is published, and every settlement happens after); each symbol's book and trade totals
// change atomically; at quiescence every contract invariant holds (the suite's stress
// checks); and one client alone gets exactly the reference's replies (its reference check).
//
// Why not linearizable and lock-free both: a trade changes one book and two accounts, and a
// query must see all three change at once. That needs a multi-word atomic update (a software
// transactional memory, or a multi-word CAS with descriptors that other threads help to
// finish): possible, but each trade then costs several CASes and helpers, more than a lock.
// lessons/06-lock-free discusses it beside the flat-combining engine.
//
// Costs: an attempt is O(levels + orders at the touched levels), and a failed CAS throws it
// away; contention on one hot symbol is one CAS word, as in the Treiber stack, but each retry
// redoes the matching. Memory: a pinned thread that stalls holds back every retired version
// (epochs' price). The id index has a fixed 2^16 buckets (one pointer each, 512 KiB per
// engine): past a few million orders its lists get long; a resizable lock-free table
// (split-ordered lists, Shalev and Shavit) would fix that. Nodes of ids stay until the engine
// dies, as the contract's duplicate rule requires of ids anyway.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "comparisons/order/contract.hpp"
#include "comparisons/order/reference.hpp"
#include "patterns/lock_free/epochs.hpp"
#include "patterns/lock_free/hooks.hpp"

namespace cp {

namespace lf_order {

// OrderNode: one id in the index and, once its place is accepted, that order's record.
struct OrderNode {
  enum : std::uint8_t { kClaimed, kPlaced, kFree };

  explicit OrderNode(OrderId i) : id(i) {}
  const OrderId id;
  OrderNode* next_in_bucket = nullptr;  // written before the node is published, then fixed
  // kClaimed: a place owns it (in flight); kPlaced: accepted, for ever; kFree: its place was
  // rejected, the next place of the id may claim it.
  std::atomic<std::uint8_t> status{kClaimed};
  // Written by the claiming place before its book CAS; read by others only after that CAS
  // (through a book version) or after seeing kPlaced. Never written once placed.
  AccountId account = 0;
  SymbolId symbol = 0;
  Side side = Side::buy;
  Price price = 0;
  Qty qty = 0;
  // Added to after book CASes, by whichever thread made the trade or the cancel.
  std::atomic<Qty> filled{0};
  std::atomic<Qty> cancelled{0};
};

// IdIndex: OrderId -> OrderNode, lock-free. Fixed buckets, each an insert-only list pushed at
// its head by CAS. A claim scans the bucket; if no node has the id it pushes a new one with a
// CAS that succeeds only if the head is still the one it scanned from, so two claims of one
// id cannot both succeed (the loser rescans and finds the winner's node).
class IdIndex {
 public:
  static constexpr unsigned kBucketBits = 16;
  static constexpr std::size_t kBuckets = std::size_t{1} << kBucketBits;

  IdIndex() : buckets_(std::make_unique<std::atomic<OrderNode*>[]>(kBuckets)) {}
  IdIndex(const IdIndex&) = delete;
  IdIndex& operator=(const IdIndex&) = delete;
  ~IdIndex() {  // no other thread
    for (std::size_t b = 0; b < kBuckets; ++b)
      for (OrderNode* n = buckets_[b].load(std::memory_order_relaxed); n != nullptr;) {
        OrderNode* next = n->next_in_bucket;
        delete n;
        n = next;
      }
  }

  // claim: the id's node, now kClaimed and owned by the caller; nullptr if the id is taken
  // (placed, or being placed by another thread).
  OrderNode* claim(OrderId id) {
    std::atomic<OrderNode*>& head = bucket(id);
    // Acquire: pairs with the release CAS below; the nodes' id and links are visible.
    OrderNode* top = head.load(std::memory_order_acquire);
    std::unique_ptr<OrderNode> fresh;
    for (;;) {
      if (OrderNode* n = find_from(top, id)) {
        std::uint8_t s = OrderNode::kFree;
        // Acquire: pairs with free()'s release; the last claimer's writes come before ours.
        return n->status.compare_exchange_strong(s, OrderNode::kClaimed,
                                                 std::memory_order_acquire,
                                                 std::memory_order_relaxed)
                   ? n
                   : nullptr;
      }
      if (!fresh) fresh = std::make_unique<OrderNode>(id);
      fresh->next_in_bucket = top;
      // Release: publishes the node's fields. On failure, acquire: rescan the new head.
      if (head.compare_exchange_weak(top, fresh.get(), std::memory_order_release,
                                     std::memory_order_acquire))
        return fresh.release();
    }
  }

  // free: gives back a claimed id whose place was rejected. Release: pairs with claim()'s
  // acquire (a later claimer writes the fields after our reads and writes).
  static void free(OrderNode* n) { n->status.store(OrderNode::kFree, std::memory_order_release); }
  // placed: the claimed id's place is accepted for ever (release: its fields, for cancel and
  // state(), which read them after an acquire load of kPlaced).
  static void placed(OrderNode* n) { n->status.store(OrderNode::kPlaced, std::memory_order_release); }

  // find: the id's node in any status, or nullptr.
  OrderNode* find(OrderId id) const {
    return find_from(bucket(id).load(std::memory_order_acquire), id);  // as in claim()
  }

  // for_each: f(node) for every node, any status.
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t b = 0; b < kBuckets; ++b)
      for (OrderNode* n = buckets_[b].load(std::memory_order_acquire); n != nullptr;
           n = n->next_in_bucket)
        f(*n);
  }

 private:
  static OrderNode* find_from(OrderNode* n, OrderId id) {
    for (; n != nullptr; n = n->next_in_bucket)
      if (n->id == id) return n;
    return nullptr;
  }
  std::atomic<OrderNode*>& bucket(OrderId id) const {
    return buckets_[(id * 0x9E3779B97F4A7C15ull) >> (64 - kBucketBits)];
  }

  std::unique_ptr<std::atomic<OrderNode*>[]> buckets_;
};

// Account: cash and positions as independent atomics. Every access is relaxed: each field is
// only ever a sum, and what must come first comes first through the book CAS (a reservation
// is sequenced before the CAS that publishes the resting buy; a settlement or cancel after the
// acquire that loaded that version), so by coherence no field is seen below 0.
struct alignas(64) Account {
  std::atomic<Cash> available{0};
  std::atomic<Cash> reserved{0};
  std::array<std::atomic<Qty>, kMaxSymbols> positions{};

  bool try_reserve(Cash amount) {
    Cash a = available.load(std::memory_order_relaxed);
    do {
      if (amount > a) return false;
    } while (!available.compare_exchange_weak(a, a - amount, std::memory_order_relaxed));
    reserved.fetch_add(amount, std::memory_order_relaxed);
    return true;
  }
  void release(Cash amount) {
    reserved.fetch_sub(amount, std::memory_order_relaxed);
    available.fetch_add(amount, std::memory_order_relaxed);
  }
  QueryReply reply() const {
    QueryReply r{Reject::none, available.load(std::memory_order_relaxed),
                 reserved.load(std::memory_order_relaxed), {}};
    for (std::size_t s = 0; s < kMaxSymbols; ++s)
      r.positions[s] = positions[s].load(std::memory_order_relaxed);
    return r;
  }
};

// Level: one price level's resting orders in time order, never written once published. A
// version shares every level it does not change with the version before it, so a place copies
// the two short lists of level pointers and the one or two levels it touches, not the book.
struct Resting {
  OrderNode* order;
  Qty remaining;
};
struct Level {
  Price price;
  std::vector<Resting> orders;  // oldest first
};

// BookVersion: one symbol's book at one instant, never written once published.
struct BookVersion {
  std::vector<Level*> bids;  // best first: price descending
  std::vector<Level*> asks;  // best first: price ascending
  std::uint64_t trades = 0;  // the symbol's totals so far
  Qty traded_qty = 0;
  Cash traded_notional = 0;
};

// Edit: what one attempt at a new version built. If its CAS fails, the new levels are deleted
// (nobody saw them); if it succeeds, the levels it replaced are retired with the old version.
struct Edit {
  std::vector<Level*> created;
  std::vector<Level*> dropped;
  Level* make(Price price, std::vector<Resting> orders = {}) {
    created.push_back(new Level{price, std::move(orders)});
    return created.back();
  }
  void discard() {
    for (Level* l : created) delete l;
    created.clear();
    dropped.clear();
  }
};

struct Fill {
  OrderNode* maker;
  Price price;
  Qty qty;
};

// match_into: `next` = `cur` after the incoming order (its node `taker`) trades and rests.
// Returns the quantity left to rest (0: nothing rests); the trades go to `fills`.
inline Qty match_into(const BookVersion& cur, const PlaceCmd& cmd, OrderNode* taker,
                      BookVersion& next, std::vector<Fill>& fills, Edit& edit) {
  const bool buy = cmd.side == Side::buy;
  const auto& opposite = buy ? cur.asks : cur.bids;
  auto& next_opposite = buy ? next.asks : next.bids;
  Qty left = cmd.qty;
  Cash notional = 0;
  std::size_t i = 0;
  next_opposite.reserve(opposite.size());
  for (; left > 0 && i < opposite.size(); ++i) {
    Level* level = opposite[i];
    if (buy ? level->price > cmd.price : level->price < cmd.price) break;  // no longer crosses
    std::size_t k = 0;
    Qty partial = 0;  // what the last maker keeps, if it is not filled whole
    for (; left > 0 && k < level->orders.size(); ++k) {
      const Resting& m = level->orders[k];
      const Qty q = std::min(left, m.remaining);
      fills.push_back({m.order, level->price, q});
      left -= q;
      notional += level->price * q;
      if (q < m.remaining) {
        partial = m.remaining - q;
        break;
      }
    }
    edit.dropped.push_back(level);
    if (partial > 0 || k < level->orders.size()) {  // the taker is used up; the level stays
      Level* smaller = edit.make(level->price);
      if (partial > 0) smaller->orders.push_back({level->orders[k++].order, partial});
      smaller->orders.insert(smaller->orders.end(),
                             level->orders.begin() + static_cast<std::ptrdiff_t>(k),
                             level->orders.end());
      next_opposite.push_back(smaller);
      ++i;
      break;
    }
  }
  next_opposite.insert(next_opposite.end(), opposite.begin() + static_cast<std::ptrdiff_t>(i),
                       opposite.end());
  const auto& own = buy ? cur.bids : cur.asks;
  auto& next_own = buy ? next.bids : next.asks;
  if (left > 0) {  // rest behind every order at the same price (time priority)
    auto at = std::find_if(own.begin(), own.end(), [&](const Level* l) {
      return buy ? l->price <= cmd.price : l->price >= cmd.price;
    });
    next_own.reserve(own.size() + 1);
    next_own.insert(next_own.end(), own.begin(), at);
    if (at != own.end() && (*at)->price == cmd.price) {
      Level* grown = edit.make(cmd.price, (*at)->orders);
      grown->orders.push_back({taker, left});
      edit.dropped.push_back(*at++);
      next_own.push_back(grown);
    } else {
      next_own.push_back(edit.make(cmd.price, {{taker, left}}));
    }
    next_own.insert(next_own.end(), at, own.end());
  } else {
    next_own = own;
  }
  next.trades = cur.trades + fills.size();
  next.traded_qty = cur.traded_qty + (cmd.qty - left);
  next.traded_notional = cur.traded_notional + notional;
  return left;
}

// remove_from: `next` = `cur` without `order`'s entry; its remaining quantity in *remaining.
// False (and nothing built) if the order rests no more.
inline bool remove_from(const BookVersion& cur, const OrderNode* order, BookVersion& next,
                        Qty* remaining, Edit& edit) {
  const bool buy = order->side == Side::buy;
  const auto& side = buy ? cur.bids : cur.asks;
  const auto level = std::find_if(side.begin(), side.end(),
                                  [&](const Level* l) { return l->price == order->price; });
  if (level == side.end()) return false;
  const auto& orders = (*level)->orders;
  const auto entry = std::find_if(orders.begin(), orders.end(),
                                  [&](const Resting& r) { return r.order == order; });
  if (entry == orders.end()) return false;
  *remaining = entry->remaining;
  auto& out = buy ? next.bids : next.asks;
  out.reserve(side.size());
  out.insert(out.end(), side.begin(), level);
  if (orders.size() > 1) {
    Level* smaller = edit.make((*level)->price);
    smaller->orders.reserve(orders.size() - 1);
    smaller->orders.insert(smaller->orders.end(), orders.begin(), entry);
    smaller->orders.insert(smaller->orders.end(), entry + 1, orders.end());
    out.push_back(smaller);
  }
  edit.dropped.push_back(*level);
  out.insert(out.end(), level + 1, side.end());
  (buy ? next.asks : next.bids) = buy ? cur.asks : cur.bids;
  next.trades = cur.trades;
  next.traded_qty = cur.traded_qty;
  next.traded_notional = cur.traded_notional;
  return true;
}

}  // namespace lf_order

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
  using with_hooks = LockFreeOrderEngineT<H>;  // the progress test parks a thread before a CAS

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
    for (SymbolId s = 0; s < config_.symbols; ++s) {
      Version* v = books_[s].load(std::memory_order_relaxed);
      for (const auto* side : {&v->bids, &v->asks})
        for (lf_order::Level* l : *side) delete l;
      delete v;
    }
  }

  PlaceReply place(const PlaceCmd& cmd) {
    if (const Reject r = validate_place_shape(config_, cmd); r != Reject::none) return {r};
    lf_order::OrderNode* node = ids_.claim(cmd.id);
    if (node == nullptr) return {Reject::duplicate_order_id};
    if (const Cash cost = reservation(cmd); cost > 0 && !accounts_[cmd.account].try_reserve(cost)) {
      lf_order::IdIndex::free(node);  // a rejected place does not use up its id
      return {Reject::insufficient_cash};
    }
    node->account = cmd.account;
    node->symbol = cmd.symbol;
    node->side = cmd.side;
    node->price = cmd.price;
    node->qty = cmd.qty;

    std::vector<lf_order::Fill> fills;
    Qty left = 0;
    swap_book(cmd.symbol, [&](const Version& cur, Version& next, lf_order::Edit& edit) {
      fills.clear();
      left = lf_order::match_into(cur, cmd, node, next, fills, edit);
      return true;
    });
    lf_order::IdIndex::placed(node);

    // After the CAS: the trades' cash and positions, and the orders' fills.
    PlaceReply reply{Reject::none, cmd.qty - left, 0, left > 0};
    for (const lf_order::Fill& f : fills) {
      const bool taker_buys = cmd.side == Side::buy;
      settle(taker_buys ? cmd.account : f.maker->account,
             taker_buys ? f.maker->account : cmd.account, cmd.symbol,
             taker_buys ? cmd.price : f.price, f.price, f.qty);
      f.maker->filled.fetch_add(f.qty, std::memory_order_relaxed);  // a sum: see Account
      reply.filled_notional += f.price * f.qty;
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
    node->cancelled.fetch_add(remaining, std::memory_order_relaxed);  // a sum: see Account
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
  template <class Build>
  bool swap_book(SymbolId symbol, Build&& build) {
    std::atomic<Version*>& book = books_[symbol];
    lf::EpochDomain& epochs = lf::EpochDomain::global();
    const auto pinned = epochs.pin();  // nothing we load is freed until we unpin
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
        epochs.retire(cur);
        for (lf_order::Level* l : edit.dropped) epochs.retire(l);
        return true;
      }
      edit.discard();  // nobody saw them
    }
  }

  // settle: one trade's cash and positions, one atomic step at a time (see the top).
  void settle(AccountId buyer, AccountId seller, SymbolId symbol, Price buyer_limit, Price price,
              Qty qty) {
    lf_order::Account& b = accounts_[buyer];
    lf_order::Account& s = accounts_[seller];
    // Relaxed, as every account access (see Account).
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
};
using LockFreeOrderEngine = LockFreeOrderEngineT<>;

}  // namespace cp
