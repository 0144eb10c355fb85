// mutex_order.hpp: the order workload with mutexes (patterns/mutex).
//
//   MutexOrderEngine      "mutex"       - the reference core (OrderCore) behind one lock. Every
//                                         command serialises; the order in which commands took
//                                         the lock is a total commit order, which it exposes
//                                         (record_commits / commits) for serial-equivalence
//                                         replays.
//   FineMutexOrderEngine  "mutex-fine"  - one lock per symbol's book, one per account, and a
//                                         striped order-id index. Commands on different symbols
//                                         match in parallel; a trade locks its two accounts.
//
// Lock hierarchy of FineMutexOrderEngine (a thread only ever acquires downwards):
//
//     1. id-index stripe   (at most one; state() takes all, in index order)
//     2. symbol book       (at most one; state() takes all, in symbol order)
//     3. accounts          (one, or two through PairLock, which orders them by account id)
//
// Since every thread acquires in that order, and locks of one level are never held two at a
// time except through PairLock's global order, no cycle of waiters can form: no deadlock.
//
// Why fine-grained: the coarse engine runs one command at a time. Most commands touch one
// symbol and one or two accounts, so per-symbol and per-account locks let unrelated commands
// proceed together. When not: the hottest symbol (Zipf-skewed) still serialises its commands,
// and each place takes 2-4 locks instead of one, which costs more than it gains on one core or
// under heavy skew; the benchmark shows where the line is.
#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/container/flat_hash_map.h>

#include <array>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "comparisons/common/random.hpp"
#include "comparisons/order/contract.hpp"
#include "comparisons/order/reference.hpp"
#include "patterns/mutex/mutex.hpp"

namespace cp {

class MutexOrderEngine {
 public:
  using lock_type = Mutex;
  static constexpr DesignTraits traits{
      .name = "mutex",
      .family = Family::mutex,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = lock_type::waiting,
      .exposes_commit_order = true,
  };

  explicit MutexOrderEngine(OrderConfig config) : core_(config) {}

  PlaceReply place(const PlaceCmd& cmd) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    const PlaceReply r = core_.place(cmd);
    if (recording_) log_.push_back({cmd, r});
    return r;
  }

  CancelReply cancel(const CancelCmd& cmd) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    const CancelReply r = core_.cancel(cmd);
    if (recording_) log_.push_back({cmd, r});
    return r;
  }

  QueryReply query(const QueryCmd& cmd) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    const QueryReply r = core_.query(cmd);
    if (recording_) log_.push_back({cmd, r});
    return r;
  }

  OrderState state() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    return core_.state();
  }

  // record_commits: starts (clearing the log) or stops logging every command with its reply
  // in lock-acquisition order. Off by default: then logging costs one predictable branch.
  void record_commits(bool on) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    recording_ = on;
    if (on) log_.clear();
  }

  // commits: a copy of the log so far.
  std::vector<Commit> commits() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(mu_);
    return log_;
  }

 private:
  Mutex mu_;
  OrderCore core_ ABSL_GUARDED_BY(mu_);
  bool recording_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Commit> log_ ABSL_GUARDED_BY(mu_);
};

class FineMutexOrderEngine {
 public:
  using lock_type = Mutex;
  static constexpr std::size_t kIdStripes = 64;
  static constexpr DesignTraits traits{
      .name = "mutex-fine",
      .family = Family::mutex,
      .thread_safe = true,
      // Not linearizable: a query locks only its account, so it sees every command that
      // completed before it, but also any part of a place still settling its trades one at a
      // time (a state no single instant had). Exact at quiescence.
      .linearizable_reads = false,
      .lock_free = false,
      .waiting = lock_type::waiting,
  };

  explicit FineMutexOrderEngine(OrderConfig config)
      : config_(check(config)),
        accounts_(std::make_unique<AccountSlot[]>(config_.accounts)),
        symbols_(std::make_unique<SymbolSlot[]>(config_.symbols)) {
    for (AccountId a = 0; a < config_.accounts; ++a) {
      MutexLock lock(accounts_[a].mu);
      accounts_[a].balance.available = config_.initial_cash;
    }
    for (SymbolId s = 0; s < config_.symbols; ++s) {
      MutexLock lock(symbols_[s].mu);
      symbols_[s].market = SymbolMarket(s);
    }
  }

  // place: stripe(id) held throughout, so the id is claimed atomically with its record
  // landing in the book's market (a concurrent cancel of the id sees all or nothing).
  PlaceReply place(const PlaceCmd& cmd) {
    if (const Reject r = validate_place_shape(config_, cmd); r != Reject::none) return {r};
    IdStripe& stripe = stripe_of(cmd.id);
    MutexLock id_lock(stripe.mu);  // level 1
    const auto [it, claimed] = stripe.ids.try_emplace(cmd.id);  // one probe
    if (!claimed) return {Reject::duplicate_order_id};
    if (const Cash cost = reservation(cmd); cost > 0) {
      AccountSlot& account = accounts_[cmd.account];
      MutexLock account_lock(account.mu);  // level 3 (no book held)
      if (!account.balance.try_reserve(cost)) {
        stripe.ids.erase(it);  // a rejected place does not use up its id
        return {Reject::insufficient_cash};
      }
    }
    SymbolSlot& symbol = symbols_[cmd.symbol];
    SymbolMarket::Placed placed;
    {
      MutexLock book_lock(symbol.mu);  // level 2
      placed = symbol.market.place(cmd, [this, sym = cmd.symbol](const Trade& t) {
        settle(sym, t);
      });
    }
    it->second = OrderLocation{cmd.symbol, placed.slot};  // the stripe was held throughout
    return placed.reply;
  }

  // cancel: the id's location is immutable once published, so the stripe is released before
  // the book is locked.
  CancelReply cancel(const CancelCmd& cmd) {
    if (cmd.account >= config_.accounts) return {Reject::unknown_account};
    OrderLocation loc;
    {
      IdStripe& stripe = stripe_of(cmd.id);
      MutexLock id_lock(stripe.mu);  // level 1
      const auto it = stripe.ids.find(cmd.id);
      if (it == stripe.ids.end()) return {Reject::unknown_order};
      loc = it->second;
    }
    SymbolSlot& symbol = symbols_[loc.symbol];
    MutexLock book_lock(symbol.mu);  // level 2
    const auto c = symbol.market.cancel(loc.slot, cmd.account);
    if (c.reject != Reject::none) return {c.reject};
    if (c.released > 0) {
      AccountSlot& account = accounts_[cmd.account];
      MutexLock account_lock(account.mu);  // level 3
      account.balance.release(c.released);
    }
    return {Reject::none, c.qty};
  }

  // query: one account's lock; may see a concurrent place half-settled (see traits).
  QueryReply query(const QueryCmd& cmd) {
    if (cmd.account >= config_.accounts) return {Reject::unknown_account};
    AccountSlot& account = accounts_[cmd.account];
    MutexLock account_lock(account.mu);
    return account.balance.reply();
  }

  // state: copies each part under its own lock, one lock at a time (stripes, then books, then
  // accounts). Exact at quiescence, which is what the contract asks of a snapshot; while
  // commands run, the parts may come from different instants. (Holding all 1,000+ locks at
  // once would give one instant, but it is a lot of locks to hold, and ThreadSanitizer's
  // deadlock detector aborts beyond 64 locks held by one thread.)
  OrderState state() {
    OrderState st = empty_state(config_);
    std::vector<std::vector<std::pair<OrderId, std::uint32_t>>> slots(config_.symbols);
    for (IdStripe& stripe : stripes_) {
      MutexLock id_lock(stripe.mu);
      for (const auto& [id, loc] : stripe.ids) slots[loc.symbol].emplace_back(id, loc.slot);
    }
    for (SymbolId s = 0; s < config_.symbols; ++s) {
      SymbolSlot& symbol = symbols_[s];
      MutexLock book_lock(symbol.mu);
      for (const auto& [id, slot] : slots[s])
        st.orders.push_back(make_state_order(id, s, symbol.market.record(slot)));
      symbol.market.append_snapshot(st);
    }
    st.accounts.reserve(config_.accounts);
    for (AccountId a = 0; a < config_.accounts; ++a) {
      AccountSlot& account = accounts_[a];
      MutexLock account_lock(account.mu);
      st.accounts.push_back({account.balance.available, account.balance.reserved, account.balance.positions});
    }
    sort_orders(st);
    return st;
  }

 private:
  struct alignas(64) AccountSlot {
    Mutex mu;
    AccountBalance balance ABSL_GUARDED_BY(mu);
  };
  struct alignas(64) SymbolSlot {
    Mutex mu;
    SymbolMarket market ABSL_GUARDED_BY(mu);
  };
  struct alignas(64) IdStripe {
    Mutex mu;
    absl::flat_hash_map<OrderId, OrderLocation> ids ABSL_GUARDED_BY(mu);
  };

  IdStripe& stripe_of(OrderId id) { return stripes_[mix64(id) % kIdStripes]; }

  // settle: one trade's cash and positions. Called with the symbol's book held (level 2);
  // takes both accounts (level 3) in account-id order.
  void settle(SymbolId symbol, const Trade& t) {
    AccountSlot& buyer = accounts_[t.buyer];
    AccountSlot& seller = accounts_[t.seller];
    PairLock lock(buyer.mu, t.buyer, seller.mu, t.seller);
    buyer.balance.settle_buy(symbol, t.buyer_limit, t.price, t.qty);
    seller.balance.settle_sell(symbol, t.price, t.qty);
  }

  const OrderConfig config_;
  std::unique_ptr<AccountSlot[]> accounts_;
  std::unique_ptr<SymbolSlot[]> symbols_;
  std::array<IdStripe, kIdStripes> stripes_;
};

}  // namespace cp
