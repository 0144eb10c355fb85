// lock_free_order_ids.hpp (order, lock-free): the order id index of the lock-free engine.
//
//   lf_order::OrderNode - one id in the index and, once its place is accepted, that order's
//                         record (its fields, filled, cancelled).
//   lf_order::IdIndex   - OrderId -> OrderNode, lock-free: fixed buckets of insert-only lists.
//
// Claiming an id is one CAS, on its bucket's head (a new node) or on a freed node's status.
// A claimed id is given back with free() (its place was rejected or failed) and is then
// claimable again; placed() makes it used for ever. Nodes stay until the index dies, as the
// contract's duplicate rule requires of ids anyway.
// When not: the 2^16 buckets are fixed (512 KiB per engine); past a few million ids the lists
// get long, where a resizable lock-free table (split-ordered lists, Shalev and Shavit) would not.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "comparisons/order/contract.hpp"

namespace cp::lf_order {

// OrderNode: one id in the index and, once its place is accepted, that order's record.
struct OrderNode {
  enum : std::uint8_t { kClaimed, kPlaced, kFree };

  explicit OrderNode(OrderId i) : id(i) {}
  const OrderId id;
  OrderNode* next_in_bucket = nullptr;  // written before the node is published, then fixed
  // kClaimed: a place owns it (in flight); kPlaced: accepted, for ever; kFree: its place was
  // rejected (or threw), the next place of the id may claim it.
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

  // free: gives back a claimed id whose place was rejected or failed. Release: pairs with claim()'s
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

}  // namespace cp::lf_order
