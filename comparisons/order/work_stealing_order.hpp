// work_stealing_order.hpp: the order workload on oneTBB's scheduler (patterns/work_stealing).
//
//   WorkStealingOrderEngine "work-stealing" - accounts, one SymbolMarket per symbol, the id
//       index, a ws::Arena and a gate (a Mutex).
//       Synchronous calls: place/cancel/query take the gate and run inside the arena (the
//       caller joins it and runs the command itself). One command has nothing to split: the
//       row shows what the arena costs on tiny request/response calls.
//       Batches: run_batch(commands) builds a conservative dependency graph of the batch and
//       runs it as oneTBB tasks (ws::TaskGraph). docs/work_stealing.md tells the story.
//
// The graph. Two commands get an edge (the earlier first) when they may touch the same
// thing in a way that does not commute:
//   - a symbol's book: every place on it and every cancel of an order on it, in batch order;
//   - an order id: places and cancels of one id, in batch order;
//   - an account. Cash moves by increments (a reservation, a release, a trade's settlement)
//     and is read by a buy's cash check and by a query. Increments commute with each other,
//     so they need no edge between them (they are atomic adds); a read needs an edge from
//     every earlier increment and to every later one. A buy reads and increments.
//   - the increments nobody can list in advance: a trade settles the resting order's
//     account, known only when the book is matched. A resting order's account is one of
//     the accounts resting on that book at the batch's start, or one that placed an order
//     there earlier in the batch. So a read of account a waits for the latest command on
//     every book where a may rest, and the next command on each such book waits for the read.
// Every pair of commands that do not commute is thus ordered as in the batch; the others
// commute. So the replies and the final state equal the reference applying the batch in
// order, exactly (checked on many seeds, tests/conformance/work_stealing).
//
// Guarantee: linearizable; the gate orders calls and batches, and within a batch the order
// is the batch's (exposes_commit_order: the synchronous calls' log; a batch is logged in
// batch order). A batch command whose handler throws (the BatchHook, run before the command
// changes anything) is answered `failed` and has no effect. (An allocation failure inside
// matching is not covered: the book may be half-updated then, as in the reference.)
// Waiting: a caller blocks on the gate while another call or batch runs.
#pragma once

#include <absl/base/thread_annotations.h>
#include <absl/container/flat_hash_map.h>

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <variant>
#include <utility>
#include <vector>

#include "comparisons/order/contract.hpp"
#include "comparisons/order/reference.hpp"
#include "patterns/mutex/mutex.hpp"
#include "patterns/work_stealing/work_stealing.hpp"

namespace cp {

class WorkStealingOrderEngine {
 public:
  using lock_type = Mutex;  // the gate
  static constexpr DesignTraits traits{
      .name = "work-stealing",
      .family = Family::work_stealing,
      .thread_safe = true,
      .linearizable_reads = true,
      .lock_free = false,
      .waiting = lock_type::waiting,
      .exposes_commit_order = true,
  };

  explicit WorkStealingOrderEngine(OrderConfig config, ws::DesignOptions options = {})
      : config_(check(config)), accounts_(std::make_unique<Account[]>(config_.accounts)),
        hook_(std::move(options.hook)), arena_(options.arena_threads) {
    for (AccountId a = 0; a < config_.accounts; ++a)
      accounts_[a].available.store(config_.initial_cash, std::memory_order_relaxed);  // no thread yet
    markets_.reserve(config_.symbols);
    for (SymbolId s = 0; s < config_.symbols; ++s) markets_.emplace_back(s);
    resting_qty_.assign(config_.symbols, std::vector<Qty>(config_.accounts, 0));
    phases_.resize(config_.accounts);
  }

  PlaceReply place(const PlaceCmd& cmd) ABSL_LOCKS_EXCLUDED(gate_) {
    MutexLock lock(gate_);
    const PlaceReply r = arena_.run([&] {
      if (const Reject e = validate_place_shape(config_, cmd); e != Reject::none) return PlaceReply{e};
      if (ids_.contains(cmd.id)) return PlaceReply{Reject::duplicate_order_id};
      const auto placed = place_valid(cmd);
      if (placed.reply.reject == Reject::none) ids_.emplace(cmd.id, OrderLocation{cmd.symbol, placed.slot});
      return placed.reply;
    });
    if (recording_) log_.push_back({cmd, r});
    return r;
  }

  CancelReply cancel(const CancelCmd& cmd) ABSL_LOCKS_EXCLUDED(gate_) {
    MutexLock lock(gate_);
    const CancelReply r = arena_.run([&] {
      if (cmd.account >= config_.accounts) return CancelReply{Reject::unknown_account};
      const auto it = ids_.find(cmd.id);
      if (it == ids_.end()) return CancelReply{Reject::unknown_order};
      return cancel_at(cmd, it->second);
    });
    if (recording_) log_.push_back({cmd, r});
    return r;
  }

  QueryReply query(const QueryCmd& cmd) ABSL_LOCKS_EXCLUDED(gate_) {
    MutexLock lock(gate_);
    const QueryReply r = arena_.run([&] { return query_now(cmd); });
    if (recording_) log_.push_back({cmd, r});
    return r;
  }

  // run_batch: any thread. Every command gets exactly one reply, at its index.
  std::vector<ws::BatchReply<OrderReply>> run_batch(std::span<const OrderCommand> batch)
      ABSL_LOCKS_EXCLUDED(gate_) {
    MutexLock lock(gate_);
    BatchRun run(*this, batch);
    arena_.run([&] { run.execute(); });
    run.finish();  // new ids into the index
    last_edges_ = run.graph.edges();
    if (recording_)
      for (std::size_t j = 0; j < batch.size(); ++j)
        if (!run.replies[j].failed) log_.push_back({batch[j], run.replies[j].reply});
    return std::move(run.replies);
  }

  OrderState state() ABSL_LOCKS_EXCLUDED(gate_) {
    MutexLock lock(gate_);
    OrderState s = empty_state(config_);
    s.accounts.reserve(config_.accounts);
    for (AccountId a = 0; a < config_.accounts; ++a) s.accounts.push_back(account_state(a));
    s.orders.reserve(ids_.size());
    for (const auto& [id, loc] : ids_)
      s.orders.push_back(make_state_order(id, loc.symbol, markets_[loc.symbol].record(loc.slot)));
    sort_orders(s);
    for (const auto& m : markets_) m.append_snapshot(s);
    return s;
  }

  // record_commits / commits: every command with its reply, in the gate's order (a batch's
  // commands in batch order; a failed batch command is not logged).
  void record_commits(bool on) ABSL_LOCKS_EXCLUDED(gate_) {
    MutexLock lock(gate_);
    recording_ = on;
    if (on) log_.clear();
  }
  std::vector<Commit> commits() ABSL_LOCKS_EXCLUDED(gate_) {
    MutexLock lock(gate_);
    return log_;
  }

  unsigned arena_threads() { return arena_.threads(); }

  // last_batch_edges: the dependency graph's edge count of the last batch (for the lesson).
  std::size_t last_batch_edges() ABSL_LOCKS_EXCLUDED(gate_) {
    MutexLock lock(gate_);
    return last_edges_;
  }

 private:
  // One account. Cash moves by atomic adds: in a batch, increments from different books run
  // at once (they commute); every read is ordered against them by the graph. positions[s]
  // is only written by commands on book s, which run one at a time.
  struct Account {
    std::atomic<Cash> available{0};
    std::atomic<Cash> reserved{0};
    std::array<Qty, kMaxSymbols> positions{};
  };

  // All cash accesses are relaxed: a command's increments need no order among themselves,
  // and every read that must see them is ordered after them by the graph's edges (the
  // acq_rel count in ws::TaskGraph, or the gate for synchronous calls).
  static void add(std::atomic<Cash>& c, Cash v) { c.fetch_add(v, std::memory_order_relaxed); }
  static Cash load(const std::atomic<Cash>& c) { return c.load(std::memory_order_relaxed); }

  OrderState::Account account_state(AccountId a) const {
    return {load(accounts_[a].available), load(accounts_[a].reserved), accounts_[a].positions};
  }

  QueryReply query_now(const QueryCmd& cmd) const {
    if (cmd.account >= config_.accounts) return {Reject::unknown_account};
    const auto s = account_state(cmd.account);
    return {Reject::none, s.available, s.reserved, s.positions};
  }

  // place_valid: a place whose shape and id are valid: the cash check, then the market.
  SymbolMarket::Placed place_valid(const PlaceCmd& cmd) {
    Account& acc = accounts_[cmd.account];
    if (const Cash cost = reservation(cmd); cost > 0) {
      if (cost > load(acc.available)) return {PlaceReply{Reject::insufficient_cash}, 0};
      add(acc.available, -cost);
      add(acc.reserved, cost);
    }
    const SymbolId s = cmd.symbol;
    std::vector<Qty>& resting = resting_qty_[s];
    const auto placed = markets_[s].place(cmd, [&](const Trade& t) {
      Account& buyer = accounts_[t.buyer];
      Account& seller = accounts_[t.seller];
      add(buyer.reserved, -t.buyer_limit * t.qty);
      add(buyer.available, (t.buyer_limit - t.price) * t.qty);
      buyer.positions[s] += t.qty;
      add(seller.available, t.price * t.qty);
      seller.positions[s] -= t.qty;
      resting[cmd.side == Side::buy ? t.seller : t.buyer] -= t.qty;  // the maker's
    });
    if (placed.reply.rests) resting[cmd.account] += cmd.qty - placed.reply.filled_qty;
    return placed;
  }

  CancelReply cancel_at(const CancelCmd& cmd, OrderLocation loc) {
    const auto c = markets_[loc.symbol].cancel(loc.slot, cmd.account);
    if (c.reject != Reject::none) return {c.reject};
    resting_qty_[loc.symbol][cmd.account] -= c.qty;
    add(accounts_[cmd.account].reserved, -c.released);
    add(accounts_[cmd.account].available, c.released);
    return {Reject::none, c.qty};
  }

  // BatchRun: one batch: the graph built on the caller's thread, run in the arena.
  struct BatchRun {
    enum class Access : std::uint8_t { none, read, increment, both };
    struct AccountPhase {  // an account's accesses so far: a run of one kind, and the one before
      Access kind = Access::none;
      std::vector<std::uint32_t> current, previous;
    };
    struct IdSlot {  // an order id placed in this batch
      std::int64_t last = -1;               // the latest command with this id
      std::uint16_t symbols = 0;            // books of its places so far
      std::int64_t accepted = -1;           // run time: the place that took the id
      OrderLocation location{};             // run time: where that place's record is
    };

    static constexpr std::uint32_t kNoCommand = ~std::uint32_t{0};

    WorkStealingOrderEngine& e;
    std::span<const OrderCommand> batch;
    std::vector<ws::BatchReply<OrderReply>> replies;
    std::vector<char> active;                      // runs as a node (else answered at build)
    std::vector<std::int64_t> id_slot_of;          // command -> IdSlot index, or -1
    std::vector<OrderLocation> pre_location;       // cancels of orders placed before the batch
    std::vector<IdSlot> ids;
    std::vector<AccountId> touched;  // accounts whose phase the build set (reset on exit)
    ws::TaskGraph graph;

    BatchRun(WorkStealingOrderEngine& engine, std::span<const OrderCommand> b)
        : e(engine), batch(b), replies(b.size()), active(b.size(), 0), id_slot_of(b.size(), -1),
          pre_location(b.size()), graph(b.size()) {
      build();
    }

    BatchRun(const BatchRun&) = delete;
    BatchRun& operator=(const BatchRun&) = delete;
    ~BatchRun() {  // the next batch starts from clean account phases (capacity kept)
      for (const AccountId a : touched) {
        AccountPhase& p = e.phases_[a];
        p.kind = Access::none;
        p.current.clear();
        p.previous.clear();
      }
    }

    void build() {
      const OrderConfig& cfg = e.config_;
      const std::size_t symbols = cfg.symbols;
      // Where each account may rest at the start: a bit per book.
      std::vector<std::uint16_t> may_rest(cfg.accounts, 0);
      for (SymbolId s = 0; s < symbols; ++s)
        for (AccountId a = 0; a < cfg.accounts; ++a)
          if (e.resting_qty_[s][a] > 0) may_rest[a] |= std::uint16_t(1u << s);
      std::vector<std::int64_t> book_last(symbols, -1);
      std::vector<std::vector<std::uint32_t>> reads_before_next(symbols);
      std::vector<AccountPhase>& phase = e.phases_;  // kept between batches: no allocation
      absl::flat_hash_map<OrderId, std::uint32_t> slot_of_id;
      slot_of_id.reserve(batch.size());
      graph.reserve_edges(4 * batch.size());  // the default stream's graphs: about 3 a command
      // Every edge made while command j is visited ends at j, so "from -> j already made" is
      // one stamp per node: a book's last command is often also the one an account read waits
      // for, and a read can sit in several books' lists.
      std::vector<std::uint32_t> edge_to(batch.size(), kNoCommand);

      const auto edge = [&](std::int64_t from, std::uint32_t to) {
        if (from < 0 || static_cast<std::uint32_t>(from) == to) return;
        std::uint32_t& stamp = edge_to[static_cast<std::size_t>(from)];
        if (stamp == to) return;  // made already
        stamp = to;
        graph.add_edge(static_cast<std::uint32_t>(from), to);
      };
      const auto on_book = [&](SymbolId s, std::uint32_t j) {
        edge(book_last[s], j);
        for (std::uint32_t r : reads_before_next[s]) edge(r, j);
        reads_before_next[s].clear();
        book_last[s] = j;
      };
      const auto on_account = [&](AccountId a, Access kind, std::uint32_t j) {
        AccountPhase& p = phase[a];
        if (p.kind == Access::none) touched.push_back(a);
        if (kind != Access::both && p.kind == kind) {
          for (std::uint32_t k : p.previous) edge(k, j);
          p.current.push_back(j);
        } else {
          for (std::uint32_t k : p.current) edge(k, j);
          std::swap(p.previous, p.current);  // a swap keeps both buffers: no allocation
          p.current.clear();
          p.current.push_back(j);
          p.kind = kind;
        }
        if (kind == Access::increment) return;
        // A read: order it against trades that may settle this account as the resting side.
        for (unsigned m = may_rest[a]; m != 0; m &= m - 1) {  // the set bits only
          const auto s = static_cast<SymbolId>(std::countr_zero(m));
          edge(book_last[s], j);
          reads_before_next[s].push_back(j);
        }
      };
      const auto id_slot = [&](OrderId id) -> std::uint32_t {
        const auto [it, fresh] = slot_of_id.try_emplace(id, static_cast<std::uint32_t>(ids.size()));
        if (fresh) ids.emplace_back();
        return it->second;
      };

      for (std::uint32_t j = 0; j < batch.size(); ++j) {
        const OrderCommand& c = batch[j];
        if (const auto* p = std::get_if<PlaceCmd>(&c)) {
          if (const Reject r = validate_place_shape(cfg, *p); r != Reject::none) {
            replies[j].reply = PlaceReply{r};
            continue;
          }
          if (e.ids_.contains(p->id)) {
            replies[j].reply = PlaceReply{Reject::duplicate_order_id};
            continue;
          }
          active[j] = 1;
          const std::uint32_t slot = id_slot(p->id);
          id_slot_of[j] = slot;
          edge(ids[slot].last, j);
          ids[slot].last = j;
          ids[slot].symbols |= std::uint16_t(1u << p->symbol);
          on_account(p->account, p->side == Side::buy ? Access::both : Access::increment, j);
          on_book(p->symbol, j);
          may_rest[p->account] |= std::uint16_t(1u << p->symbol);
        } else if (const auto* x = std::get_if<CancelCmd>(&c)) {
          if (x->account >= cfg.accounts) {
            replies[j].reply = CancelReply{Reject::unknown_account};
            continue;
          }
          std::uint16_t books = 0;
          if (const auto it = e.ids_.find(x->id); it != e.ids_.end()) {
            pre_location[j] = it->second;
            books = std::uint16_t(1u << it->second.symbol);
          } else if (const auto s = slot_of_id.find(x->id); s != slot_of_id.end()) {
            id_slot_of[j] = s->second;
            edge(ids[s->second].last, j);
            ids[s->second].last = j;
            books = ids[s->second].symbols;
          } else {
            replies[j].reply = CancelReply{Reject::unknown_order};
            continue;
          }
          active[j] = 1;
          on_account(x->account, Access::increment, j);
          for (SymbolId s = 0; s < symbols; ++s)
            if (books >> s & 1u) on_book(s, j);
        } else {
          const auto& q = std::get<QueryCmd>(c);
          if (q.account >= cfg.accounts) {
            replies[j].reply = QueryReply{Reject::unknown_account};
            continue;
          }
          active[j] = 1;
          on_account(q.account, Access::read, j);
        }
      }
    }

    // execute: inside the arena. Each node is one command, run by whichever worker gets it.
    void execute() {
      graph.run([this](std::uint32_t j) { return active[j] != 0; },
                [this](std::uint32_t j) { run_command(j); });
    }

    void run_command(std::uint32_t j) {
      ws::run_guarded(e.hook_, j, replies[j], [&] {
        const OrderCommand& c = batch[j];
        if (const auto* p = std::get_if<PlaceCmd>(&c)) {
          IdSlot& slot = ids[static_cast<std::size_t>(id_slot_of[j])];
          if (slot.accepted >= 0) {
            replies[j].reply = PlaceReply{Reject::duplicate_order_id};
            return;
          }
          const auto placed = e.place_valid(*p);
          if (placed.reply.reject == Reject::none) {
            slot.accepted = j;
            slot.location = OrderLocation{p->symbol, placed.slot};
          }
          replies[j].reply = placed.reply;
        } else if (const auto* x = std::get_if<CancelCmd>(&c)) {
          OrderLocation loc = pre_location[j];
          if (id_slot_of[j] >= 0) {
            const IdSlot& slot = ids[static_cast<std::size_t>(id_slot_of[j])];
            if (slot.accepted < 0) {
              replies[j].reply = CancelReply{Reject::unknown_order};
              return;
            }
            loc = slot.location;
          }
          replies[j].reply = e.cancel_at(*x, loc);
        } else {
          replies[j].reply = e.query_now(std::get<QueryCmd>(c));
        }
      });
    }

    // finish: on the caller's thread, after the graph ran.
    void finish() {
      for (const IdSlot& slot : ids)
        if (slot.accepted >= 0) {
          const auto& p = std::get<PlaceCmd>(batch[static_cast<std::size_t>(slot.accepted)]);
          e.ids_.emplace(p.id, slot.location);
        }
    }
  };

  const OrderConfig config_;
  Mutex gate_;
  // Owned by the gate's holder and the arena tasks it waits for; not ABSL_GUARDED_BY because
  // those tasks run on oneTBB's workers, which the analysis cannot see holding anything.
  std::unique_ptr<Account[]> accounts_;
  std::vector<SymbolMarket> markets_;
  absl::flat_hash_map<OrderId, OrderLocation> ids_;  // every accepted order (read-only in a batch)
  // resting_qty_[s][a]: what account a rests on book s; row s is only written by commands
  // on book s. The graph's "where may this account rest" comes from it.
  std::vector<std::vector<Qty>> resting_qty_;
  std::vector<BatchRun::AccountPhase> phases_;  // the graph builder's, per account
  bool recording_ ABSL_GUARDED_BY(gate_) = false;
  std::vector<Commit> log_ ABSL_GUARDED_BY(gate_);
  std::size_t last_edges_ ABSL_GUARDED_BY(gate_) = 0;
  const ws::BatchHook hook_;
  ws::Arena arena_;
};

}  // namespace cp
