// sharded_order.hpp: the order workload on several single-writer engines, sharded by symbol.
//
//   ShardedSingleWriterOrderEngine "single-writer-sharded"
//       - one ACCOUNT engine (owns every account's cash and positions and the order-id index)
//         and N BOOK engines (each owns the SymbolMarkets of the symbols s with s % N == its
//         index). A command is a short pipeline that the CALLER drives, waiting at each step:
//           place : [account] reserve (duplicate id, cash) -> [book] match, rest
//                   -> [account] settle the trades (only if any) -> reply
//           cancel: [account] look up (unknown order, not owner) -> [book] cancel the remainder
//                   (not active) -> [account] release the reservation (buys) -> reply
//           query : [account] read
//       - no owner ever waits for another owner (the caller carries the messages), so no cycle
//         of waits can form: no deadlock, whatever the queue sizes.
//   AccountOwner, BookOwner - the two kinds of owner state (one thread each).
//
// Why: an order on one symbol and an order on another can match at the same time on two
// cores, while every piece of state keeps exactly one writer. Accounts span symbols (one
// account trades everywhere), so they cannot be split by symbol: they get their own engine,
// as Payment does in scenario A. When not: each place costs two or three hand-offs instead of
// one, and the account engine sees every place; with few cores, or one hot symbol (Zipf 0.99
// sends most orders to symbol 0), the extra hand-offs cost more than the parallel matching
// gains. The comparison table shows which.
//
// What a query may observe (why linearizable_reads is false): a place's effects land in two
// steps, the book (match) and the accounts (settle). Between them, another place on the same
// symbol can match against the first one's resting remainder and settle first, so the account
// engine can hold the second place's trades but not yet the first's. A query in that window
// sees a state no serial order of the places had. What does hold: a query sees every command
// that returned before it was sent (each place settles before it replies), a query never sees
// one place's trades partly settled (they settle in one message), available cash is never
// negative, and at quiescence every invariant holds (the stress tests check it).
//
// Every contract rule is kept: the validation order is the contract's (stateless checks at the
// caller, then duplicate id and cash at the account engine); a rejected place claims no id
// and reserves nothing; a cancel of an order whose place has not reached its book yet answers
// unknown_order (the cancel is ordered before that place, which has not returned).
//
// Lifecycle: stop() first closes the front door (new commands get Reject::stopped), waits for
// the pipelines already started to finish, then stops every engine. Without that order a
// place could have its cash reserved and then find its book engine stopped.
#pragma once

#include <absl/container/flat_hash_map.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "comparisons/order/contract.hpp"
#include "comparisons/order/id_index.hpp"
#include "comparisons/order/reference.hpp"
#include "patterns/single_writer/engine.hpp"
#include "patterns/single_writer/reply_slot.hpp"

namespace cp {

namespace sharded_order {

// ---- the account engine ---------------------------------------------------------------------

struct ReserveMsg {  // place, step 1: claim the id, reserve a buy's cash
  OrderId id = 0;
  AccountId account = 0;
  SymbolId symbol = 0;
  Cash cost = 0;
};
struct SettleMsg {  // place, step 3: the trades the book made
  SymbolId symbol = 0;
  std::vector<Trade> trades;
};
struct LookupMsg {  // cancel, step 1
  OrderId id = 0;
  AccountId account = 0;
};
struct ReleaseMsg {  // cancel, step 3
  AccountId account = 0;
  Cash amount = 0;
};
struct AccountsStateMsg {  // state(): the accounts part
  OrderState* out = nullptr;
};
using AccountMsg = std::variant<ReserveMsg, SettleMsg, LookupMsg, ReleaseMsg, QueryCmd, AccountsStateMsg>;

struct AccountReply {
  Reject reject = Reject::none;
  SymbolId symbol = 0;  // LookupMsg: where the order lives
  QueryReply query{};   // QueryCmd
};

// AccountOwner: every account and the id index. Owner thread only (others after stop()).
class AccountOwner {
 public:
  explicit AccountOwner(const OrderConfig& config) : accounts_(config.accounts) {
    for (auto& a : accounts_) a.available = config.initial_cash;
  }

  AccountReply apply(AccountMsg& m, std::uint64_t /*sequence*/) {
    return std::visit([this](auto& msg) { return on(msg); }, m);
  }

  void fill_accounts(OrderState& s) const {
    s.accounts.reserve(accounts_.size());
    for (const auto& a : accounts_) s.accounts.push_back({a.available, a.reserved, a.positions});
  }

 private:
  struct IdEntry {
    AccountId account = 0;
    SymbolId symbol = 0;
  };

  AccountReply on(const ReserveMsg& r) {
    const auto [it, claimed] = ids_.try_emplace(r.id, IdEntry{r.account, r.symbol});
    if (!claimed) return {Reject::duplicate_order_id};
    if (!accounts_[r.account].try_reserve(r.cost)) {
      ids_.erase(it);  // a rejected place does not use up its id
      return {Reject::insufficient_cash};
    }
    return {};
  }
  AccountReply on(const SettleMsg& s) {
    for (const Trade& t : s.trades) {
      accounts_[t.buyer].settle_buy(s.symbol, t.buyer_limit, t.price, t.qty);
      accounts_[t.seller].settle_sell(s.symbol, t.price, t.qty);
    }
    return {};
  }
  AccountReply on(const LookupMsg& l) {
    const IdEntry* entry = ids_.find(l.id);
    if (entry == nullptr) return {Reject::unknown_order};
    if (entry->account != l.account) return {Reject::not_owner};
    return {Reject::none, entry->symbol};
  }
  AccountReply on(const ReleaseMsg& r) {
    accounts_[r.account].release(r.amount);
    return {};
  }
  AccountReply on(const QueryCmd& q) { return {Reject::none, 0, accounts_[q.account].reply()}; }
  AccountReply on(const AccountsStateMsg& m) {
    fill_accounts(*m.out);
    return {};
  }

  std::vector<AccountBalance> accounts_;
  SegmentedIdIndex<IdEntry> ids_;  // every order whose cash step succeeded (segmented: no rehash stall)
};

// ---- the book engines -----------------------------------------------------------------------

struct MatchMsg {  // place, step 2; the trades go to *trades_out (the caller's, published by
                   // the reply slot's release/acquire)
  PlaceCmd cmd{};
  std::vector<Trade>* trades_out = nullptr;
};
struct BookCancelMsg {  // cancel, step 2
  OrderId id = 0;
  AccountId account = 0;
  SymbolId symbol = 0;
};
struct BooksStateMsg {  // state(): this shard's orders, books and trade totals
  OrderState* out = nullptr;
};
using BookMsg = std::variant<MatchMsg, BookCancelMsg, BooksStateMsg>;

struct BookReply {
  PlaceReply place{};
  SymbolMarket::Cancelled cancel{};
};

// BookOwner: the markets of this shard's symbols and their id -> slot index. Owner thread only.
class BookOwner {
 public:
  BookOwner(const OrderConfig& config, std::uint32_t shard, std::uint32_t shards) {
    for (SymbolId s = 0; s < config.symbols; ++s)
      if (s % shards == shard) markets_.emplace(s, SymbolMarket(s));
  }

  BookReply apply(BookMsg& m, std::uint64_t /*sequence*/) {
    return std::visit([this](auto& msg) { return on(msg); }, m);
  }

  // fill_books: appends this shard's orders, books and trade totals to a state.
  void fill_books(OrderState& s) const {
    slots_.for_each([&](OrderId id, const OrderLocation& loc) {
      s.orders.push_back(make_state_order(id, loc.symbol, markets_.at(loc.symbol).record(loc.slot)));
    });
    for (const auto& [symbol, market] : markets_) market.append_snapshot(s);
  }

 private:
  BookReply on(MatchMsg& m) {
    SymbolMarket& market = markets_.at(m.cmd.symbol);
    const auto placed = market.place(m.cmd, [&m](const Trade& t) { m.trades_out->push_back(t); });
    slots_.try_emplace(m.cmd.id, OrderLocation{m.cmd.symbol, placed.slot});
    return {placed.reply, {}};
  }
  BookReply on(const BookCancelMsg& c) {
    const OrderLocation* loc = slots_.find(c.id);
    if (loc == nullptr) return {{}, {Reject::unknown_order}};  // its place is still in flight
    return {{}, markets_.at(c.symbol).cancel(loc->slot, c.account)};
  }
  BookReply on(const BooksStateMsg& m) {
    fill_books(*m.out);
    return {};
  }

  absl::flat_hash_map<SymbolId, SymbolMarket> markets_;   // this shard's symbols
  SegmentedIdIndex<OrderLocation> slots_;                 // this shard's orders
};

}  // namespace sharded_order

class ShardedSingleWriterOrderEngine {
 public:
  static constexpr std::size_t kQueueCapacity = 1024;  // per engine
  static constexpr std::uint32_t kBookShards = 2;
  using account_engine = sw::Engine<sharded_order::AccountOwner, sharded_order::AccountMsg>;
  using book_engine = sw::Engine<sharded_order::BookOwner, sharded_order::BookMsg>;

  static constexpr DesignTraits traits{
      .name = "single-writer-sharded",
      .family = Family::single_writer,
      .thread_safe = true,
      .linearizable_reads = false,  // see the header: a query can see places settle out of order
      .lock_free = false,
      .waiting = sw::ReplySlot<sharded_order::AccountReply>::waiting,  // blocks
      .queue_bound = kQueueCapacity,  // of each engine's ring
      .overload = Overload::block,
      .exposes_commit_order = false,  // one order per engine, no total order
      .owned_threads = 1 + kBookShards,
  };

  explicit ShardedSingleWriterOrderEngine(OrderConfig config)
      : config_(check(config)), accounts_(kQueueCapacity, sharded_order::AccountOwner(config_)) {
    for (std::uint32_t i = 0; i < kBookShards; ++i)
      books_.push_back(std::make_unique<book_engine>(kQueueCapacity, sharded_order::BookOwner(config_, i, kBookShards)));
  }
  ShardedSingleWriterOrderEngine(const ShardedSingleWriterOrderEngine&) = delete;
  ShardedSingleWriterOrderEngine& operator=(const ShardedSingleWriterOrderEngine&) = delete;
  ~ShardedSingleWriterOrderEngine() { stop(); }

  PlaceReply place(const PlaceCmd& cmd) {
    if (const Reject r = validate_place_shape(config_, cmd); r != Reject::none) return {r};
    Entry entry(*this);
    if (!entry) return {Reject::stopped};
    const auto reserved = accounts_.call(
        sharded_order::ReserveMsg{cmd.id, cmd.account, cmd.symbol, reservation(cmd)});
    if (!reserved) return {Reject::stopped};  // not reached: engines stop after the pipelines
    if (reserved->reject != Reject::none) return {reserved->reject};
    std::vector<Trade> trades;
    const auto matched = book_of(cmd.symbol).call(sharded_order::MatchMsg{cmd, &trades});
    if (!trades.empty())
      (void)accounts_.call(sharded_order::SettleMsg{cmd.symbol, std::move(trades)});
    return matched ? matched->place : PlaceReply{Reject::stopped};
  }

  CancelReply cancel(const CancelCmd& cmd) {
    if (cmd.account >= config_.accounts) return {Reject::unknown_account};
    Entry entry(*this);
    if (!entry) return {Reject::stopped};
    const auto found = accounts_.call(sharded_order::LookupMsg{cmd.id, cmd.account});
    if (!found) return {Reject::stopped};
    if (found->reject != Reject::none) return {found->reject};
    const auto c = book_of(found->symbol).call(sharded_order::BookCancelMsg{cmd.id, cmd.account, found->symbol});
    if (!c) return {Reject::stopped};
    if (c->cancel.reject != Reject::none) return {c->cancel.reject};
    if (c->cancel.released > 0)
      (void)accounts_.call(sharded_order::ReleaseMsg{cmd.account, c->cancel.released});
    return {Reject::none, c->cancel.qty};
  }

  QueryReply query(const QueryCmd& cmd) {
    if (cmd.account >= config_.accounts) return {Reject::unknown_account};
    Entry entry(*this);
    if (!entry) return {Reject::stopped};
    const auto r = accounts_.call(cmd);
    return r ? r->query : QueryReply{Reject::stopped};
  }

  // state: each engine's part, asked one engine at a time (exact at quiescence; while
  // commands run, the parts come from different instants). After stop(): read directly.
  OrderState state() {
    OrderState s = empty_state(config_);
    Entry entry(*this);
    if (entry) {
      (void)accounts_.call(sharded_order::AccountsStateMsg{&s});
      for (auto& b : books_) (void)b->call(sharded_order::BooksStateMsg{&s});
    } else {
      stop();  // makes sure the engines are joined before reading their owners
      accounts_.state_after_stop().fill_accounts(s);
      for (auto& b : books_) b->state_after_stop().fill_books(s);
    }
    sort_orders(s);
    return s;
  }

  // stop: new commands get Reject::stopped; commands already in their pipeline finish; then
  // every engine drains and joins. Idempotent; any thread except from inside a command.
  void stop() {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_.store(true);  // seq_cst: pairs with Entry's seq_cst fetch_add and load (Dekker)
    for (auto n = inflight_.load(); n != 0; n = inflight_.load()) inflight_.wait(n);
    accounts_.stop();
    for (auto& b : books_) b->stop();
  }

 private:
  // Entry: admission to the pipeline. Either it sees stopping_ (and backs out), or stop()
  // sees its count and waits for it: with seq_cst on both sides, both cannot miss each other.
  class Entry {
   public:
    explicit Entry(ShardedSingleWriterOrderEngine& e) : e_(e) {
      e_.inflight_.fetch_add(1);  // seq_cst (see stop())
      admitted_ = !e_.stopping_.load();
      if (!admitted_) leave();
    }
    ~Entry() {
      if (admitted_) leave();
    }
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    explicit operator bool() const { return admitted_; }

   private:
    void leave() {
      if (e_.inflight_.fetch_sub(1) == 1) e_.inflight_.notify_all();  // seq_cst
    }
    ShardedSingleWriterOrderEngine& e_;
    bool admitted_ = false;
  };

  book_engine& book_of(SymbolId symbol) { return *books_[symbol % kBookShards]; }

  const OrderConfig config_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint32_t> inflight_{0};
  std::mutex stop_mu_;
  account_engine accounts_;
  std::vector<std::unique_ptr<book_engine>> books_;
};

}  // namespace cp
