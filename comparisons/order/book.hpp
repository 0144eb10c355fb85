// book.hpp (order): a single-threaded limit order book for one symbol. Every order design uses
// it (the reference, the lock-based engines, later the single-writer one); it knows nothing of
// accounts or cash.
//
//   OrderBook        - price-time priority matching; resting orders live in a node pool.
//   OrderBook::Fill  - one trade, reported to the caller's callback so that it settles cash.
//
// Data structures, and why:
//   - Price levels: one std::map per side, best level first (bids by std::greater, asks by
//     std::less). Inserting a new level is O(log levels); matching walks from begin(), O(1) per
//     level. Levels are few (prices cluster around the mid) so the tree stays shallow.
//   - Orders: a pool (std::vector<Node>) with an intrusive free list; each level is an
//     intrusive doubly linked FIFO of node indices. Resting an order at an existing level is
//     O(log levels) for the lookup plus O(1); cancel by handle is O(1) unless the level empties
//     (then one map erase). No allocation per order once the pool has grown.
//   - Handles are pool indices. A handle is valid from rest until the order is filled or
//     cancelled; the caller keeps it (e.g. in its order record) and forgets it on the fill
//     that reports maker_remaining == 0.
// Prices and quantities are integers; a trade executes at the resting order's price.
// Not thread-safe: the caller serialises access (a lock, or a single owning thread).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include "comparisons/order/contract.hpp"

namespace cp {

class OrderBook {
 public:
  using Handle = std::uint32_t;
  static constexpr Handle kNoHandle = std::numeric_limits<Handle>::max();

  // One trade between the incoming order (the taker) and a resting one (the maker).
  struct Fill {
    OrderId maker_id = 0;
    AccountId maker_account = 0;
    std::uint32_t maker_tag = 0;  // the caller's datum stored with the maker (e.g. a record slot)
    Price price = 0;              // the maker's price: trades execute at the resting price
    Qty qty = 0;
    Qty maker_remaining = 0;      // after this fill; 0 means the maker left the book
  };

  struct Result {
    Qty filled_qty = 0;
    Cash filled_notional = 0;
    std::uint32_t trades = 0;
    Handle rested = kNoHandle;  // the remainder's handle, or kNoHandle if nothing rests
  };

  // One entry of a side in priority order (for snapshots).
  struct Entry {
    OrderId id = 0;
    Price price = 0;
    Qty remaining = 0;
  };

  // execute: matches an incoming limit order against the opposite side while it crosses, then
  // rests the remainder. on_fill(const Fill&) runs once per trade, after the book has been
  // updated for it; it must not touch this book.
  template <class OnFill>
  Result execute(Side side, OrderId id, AccountId account, std::uint32_t tag, Price limit,
                 Qty qty, OnFill&& on_fill) {
    Result r;
    if (side == Side::buy) {
      qty = match(asks_, limit, qty, r, on_fill, [](Price ask, Price lim) { return ask <= lim; });
      if (qty > 0) r.rested = rest(bids_, Side::buy, id, account, tag, limit, qty);
    } else {
      qty = match(bids_, limit, qty, r, on_fill, [](Price bid, Price lim) { return bid >= lim; });
      if (qty > 0) r.rested = rest(asks_, Side::sell, id, account, tag, limit, qty);
    }
    return r;
  }

  // cancel: takes a resting order out of the book; returns its remaining quantity, or 0 if
  // the handle does not name a resting order.
  Qty cancel(Handle h) {
    if (h >= nodes_.size() || !nodes_[h].live) return 0;
    Node& n = nodes_[h];
    const Qty remaining = n.remaining;
    Level& level = *n.level;
    const Price price = n.price;
    const Side side = n.side;
    unlink(level, h);
    release(h);
    if (level.head == kNoHandle) {
      if (side == Side::buy) bids_.erase(price); else asks_.erase(price);
    }
    return remaining;
  }

  // remaining: the resting quantity behind a handle, 0 if it rests no more.
  Qty remaining(Handle h) const {
    return h < nodes_.size() && nodes_[h].live ? nodes_[h].remaining : 0;
  }

  std::optional<Price> best_bid() const {
    if (bids_.empty()) return std::nullopt;
    return bids_.begin()->first;
  }
  std::optional<Price> best_ask() const {
    if (asks_.empty()) return std::nullopt;
    return asks_.begin()->first;
  }

  std::size_t resting_orders() const { return live_; }
  std::size_t levels() const { return bids_.size() + asks_.size(); }

  // for_each_bid / for_each_ask: visit resting orders in priority order (best price, then
  // time). f(const Entry&).
  template <class F>
  void for_each_bid(F&& f) const { visit(bids_, f); }
  template <class F>
  void for_each_ask(F&& f) const { visit(asks_, f); }

 private:
  struct Level {
    Handle head = kNoHandle;  // oldest order: next to trade
    Handle tail = kNoHandle;
  };
  struct Node {
    OrderId id = 0;
    Price price = 0;
    Qty remaining = 0;
    Level* level = nullptr;  // map nodes are stable, so a pointer stays valid while it rests
    AccountId account = 0;
    std::uint32_t tag = 0;
    Handle prev = kNoHandle;
    Handle next = kNoHandle;  // also links the free list
    Side side = Side::buy;
    bool live = false;
  };

  template <class Levels, class OnFill, class Crosses>
  Qty match(Levels& levels, Price limit, Qty qty, Result& r, OnFill& on_fill, Crosses crosses) {
    auto it = levels.begin();
    while (qty > 0 && it != levels.end() && crosses(it->first, limit)) {
      Level& level = it->second;
      const Price price = it->first;
      while (qty > 0 && level.head != kNoHandle) {
        const Handle h = level.head;
        Node& n = nodes_[h];
        const Qty q = std::min(qty, n.remaining);
        n.remaining -= q;
        qty -= q;
        r.filled_qty += q;
        r.filled_notional += price * q;
        ++r.trades;
        const Fill fill{n.id, n.account, n.tag, price, q, n.remaining};
        if (n.remaining == 0) {
          unlink(level, h);
          release(h);
        }
        on_fill(fill);
      }
      if (level.head != kNoHandle) break;  // the incoming order is used up
      it = levels.erase(it);
    }
    return qty;
  }

  template <class Levels>
  Handle rest(Levels& levels, Side side, OrderId id, AccountId account, std::uint32_t tag,
              Price price, Qty qty) {
    Level& level = levels.try_emplace(price).first->second;
    const Handle h = acquire();
    Node& n = nodes_[h];
    n = Node{.id = id, .price = price, .remaining = qty, .level = &level, .account = account,
             .tag = tag, .prev = level.tail, .next = kNoHandle, .side = side, .live = true};
    if (level.tail != kNoHandle) nodes_[level.tail].next = h; else level.head = h;
    level.tail = h;
    return h;
  }

  void unlink(Level& level, Handle h) {
    Node& n = nodes_[h];
    if (n.prev != kNoHandle) nodes_[n.prev].next = n.next; else level.head = n.next;
    if (n.next != kNoHandle) nodes_[n.next].prev = n.prev; else level.tail = n.prev;
  }

  Handle acquire() {
    ++live_;
    if (free_ != kNoHandle) {
      const Handle h = free_;
      free_ = nodes_[h].next;
      return h;
    }
    nodes_.emplace_back();
    return static_cast<Handle>(nodes_.size() - 1);
  }

  void release(Handle h) {
    --live_;
    nodes_[h].live = false;
    nodes_[h].level = nullptr;
    nodes_[h].next = free_;
    free_ = h;
  }

  template <class Levels, class F>
  void visit(const Levels& levels, F& f) const {
    for (const auto& [price, level] : levels)
      for (Handle h = level.head; h != kNoHandle; h = nodes_[h].next)
        f(Entry{nodes_[h].id, price, nodes_[h].remaining});
  }

  std::map<Price, Level, std::greater<>> bids_;  // best (highest) first
  std::map<Price, Level, std::less<>> asks_;     // best (lowest) first
  std::vector<Node> nodes_;
  Handle free_ = kNoHandle;
  std::size_t live_ = 0;
};

}  // namespace cp
