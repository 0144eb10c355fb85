// lock_free_order_book.hpp (order, lock-free): the copy-on-write book of one symbol.
//
//   lf_order::Level       - one price level's resting orders, never written once published.
//   lf_order::BookVersion - one symbol's book at one instant (level pointers, trade totals).
//   lf_order::Edit        - what one attempt at a new version built and what it replaces.
//   lf_order::Garbage     - an old version and the levels only it held, retired as one object.
//
// The engine keeps one atomic pointer per symbol to its current BookVersion. A command builds
// a new version from the one it loaded and swaps it in by CAS. A new version shares every level
// it does not change with the old one, so an attempt copies the two short lists of level
// pointers and the one or two levels it touches, not the book.
//
// Exceptions. An Edit owns the levels it made until commit(): an attempt that throws part-way
// (an allocation fails) or loses its CAS frees them when the Edit is reset or destroyed, so a
// failed attempt leaves nothing behind. After commit() the levels belong to the version.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "comparisons/order/contract.hpp"
#include "comparisons/order/lock_free_order_ids.hpp"

namespace cp::lf_order {

struct Resting {
  OrderNode* order;
  Qty remaining;
};
struct Level {
  Price price;
  std::vector<Resting> orders;  // oldest first
};

struct BookVersion {
  std::vector<Level*> bids;  // best first: price descending
  std::vector<Level*> asks;  // best first: price ascending
  std::uint64_t trades = 0;  // the symbol's totals so far
  Qty traded_qty = 0;
  Cash traded_notional = 0;
};

// Edit: the levels one attempt created (owned until commit) and the levels of the loaded
// version it replaces (retired with that version if the attempt's CAS succeeds).
class Edit {
 public:
  Edit() = default;
  Edit(const Edit&) = delete;
  Edit& operator=(const Edit&) = delete;
  ~Edit() { reset(); }

  // make: a new level, owned by the Edit. If recording it throws, the level is freed too.
  Level* make(Price price, std::vector<Resting> orders = {}) {
    auto level = std::make_unique<Level>(Level{price, std::move(orders)});
    created_.push_back(level.get());
    return level.release();
  }
  void drop(Level* replaced) { dropped_.push_back(replaced); }

  // reset: frees what the attempt made (nobody saw it) and forgets what it would replace.
  void reset() noexcept {
    for (Level* l : created_) delete l;
    created_.clear();
    dropped_.clear();
  }
  // commit: the attempt's version is published; its new levels belong to it now. Returns the
  // replaced levels, to retire with the old version.
  std::vector<Level*> commit() noexcept {
    created_.clear();
    return std::move(dropped_);
  }

 private:
  std::vector<Level*> created_;
  std::vector<Level*> dropped_;
};

// Garbage: a replaced version and the levels it alone held. Allocated before the CAS, so the
// steps after the CAS allocate nothing of their own; deleting it deletes both.
struct Garbage {
  BookVersion* version = nullptr;
  std::vector<Level*> levels;
  Garbage* next_orphan = nullptr;  // see the engine's orphans_
  ~Garbage() {
    for (Level* l : levels) delete l;
    delete version;
  }
};

}  // namespace cp::lf_order
