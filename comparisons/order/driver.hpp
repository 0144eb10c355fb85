// driver.hpp (order): the order workload as a benchmark driver (see common/driver.hpp).
//
// Stream: per client, OrderStream's default mix (60% place, 30% cancel of an own resting
// order, 10% query; symbols Zipf(theta)). Prefill (untimed, in the constructor): each symbol
// gets prefill_per_side resting bids below the mid and asks above it, so the first crossing
// orders find liquidity.
// The row's correctness check (verify, after join), on design.state():
//   invariants 1-5 (check_order_invariants), invariant 6 (the fills the place replies
//   reported add up to the engine's trades), every command got exactly one reply of its kind,
//   and no reply carried a reject reason that a well-formed stream cannot cause (only
//   insufficient_cash and order_not_active are expected).
// Per-thread bookkeeping is O(1) per command and bounded memory (the stream keeps at most
// recent_capacity ids); the design itself keeps a record of every accepted order (contract).
//
// Pipelined designs (traits.pipelined, PipelinedOrderDesign): each client keeps up to the
// design's kPipelineWindow commands in flight. execute() submits the drawn command and, when
// the window is full, first takes the oldest reply back (that wait is the backpressure, so it
// is inside the timed call); next() settles that reply against the command it answers. The
// stream therefore learns of its resting orders a window later; its cancels still target only
// orders it saw rest. verify() takes the replies still in flight first.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "comparisons/common/driver.hpp"
#include "comparisons/common/random.hpp"
#include "comparisons/order/contract.hpp"
#include "comparisons/order/generator.hpp"
#include "comparisons/order/invariants.hpp"

namespace cp {

struct OrderParams {
  std::uint32_t symbols = 8;
  std::uint32_t accounts = 1024;
  double theta = 0.99;              // Zipf skew of symbols; 0 = uniform
  Cash initial_cash = 1'000'000'000;
  unsigned place_percent = 60;
  unsigned cancel_percent = 30;     // the rest are queries
  unsigned cross_percent = 20;
  std::uint32_t prefill_per_side = 64;
  std::uint32_t batch = 4096;       // commands per call of a batch row (bench/harness/batch_rows.hpp)
};

// PipelinedOrderDesign: a design the driver feeds with a window of commands in flight.
template <class D>
concept PipelinedOrderDesign =
    OrderDesign<D> && D::traits.pipelined &&
    requires(D& d, const OrderCommand& c, typename D::ReplyWindow& w) {
      { d.submit_with_reply(c, w) } -> std::same_as<bool>;
      { D::kPipelineWindow } -> std::convertible_to<std::size_t>;
    };

namespace detail {
// A pipelining client's side: its reply window and the commands in flight, oldest first.
template <class D>
struct OrderPipeline {
  std::unique_ptr<typename D::ReplyWindow> window;
  std::vector<OrderCommand> sent;  // ring of window size; sent[i & mask] = i-th command sent
  std::uint64_t sent_count = 0, answered_count = 0;
};
struct NoOrderPipeline {};
}  // namespace detail

template <OrderDesign D>
class OrderDriver {
 public:
  using Design = D;
  using Params = OrderParams;
  static constexpr std::string_view workload_name = "order";
  static constexpr std::size_t kRejectKinds = static_cast<std::size_t>(Reject::stopped) + 1;

  static constexpr bool kPipelined = PipelinedOrderDesign<D>;
  // The engine keeps every order it accepted (ids are never reused): a row measures each of
  // its windows on a fresh driver (state_grows_with_run, common/driver.hpp).
  static constexpr bool state_grows = true;

  struct Thread {
    OrderStream stream;
    OrderCommand cmd{};       // drawn by next(), sent by execute()
    OrderCommand answered{};  // the command `reply` answers (== cmd unless pipelined)
    OrderReply reply{};
    bool has_reply = false;
    std::uint64_t refused = 0;  // pipelined: submissions the design refused (stopped)
    std::conditional_t<kPipelined, detail::OrderPipeline<D>, detail::NoOrderPipeline> pipe{};
    std::uint64_t commands = 0;
    std::uint64_t replies = 0;
    std::uint64_t mismatched = 0;  // a reply of another kind than its command
    std::array<std::uint64_t, kRejectKinds> rejects{};
    Qty filled_qty = 0;
    Cash filled_notional = 0;
  };

  OrderDriver(const Params& params, unsigned threads, std::uint64_t seed)
      : params_(params), threads_(threads == 0 ? 1 : threads), seed_(seed),
        config_{.symbols = params.symbols, .accounts = params.accounts,
                .initial_cash = params.initial_cash},
        stream_params_{.place_percent = params.place_percent,
                       .cancel_percent = params.cancel_percent,
                       .cross_percent = params.cross_percent},
        symbols_(params.symbols, params.theta), design_(config_) {
    prefill();
  }

  Thread make_thread(unsigned index) {
    Thread t{.stream = OrderStream(config_, stream_params_, symbols_, index, threads_, seed_)};
    if constexpr (kPipelined) {
      t.pipe.window = std::make_unique<typename D::ReplyWindow>(D::kPipelineWindow);
      t.pipe.sent.resize(D::kPipelineWindow);
    }
    return t;
  }

  // Untimed: settle the previous reply, then draw the next command.
  void next(Thread& t) {
    settle(t);
    t.cmd = t.stream.next();
    ++t.commands;
  }

  // Timed: exactly one design call (pipelined: a submit, after taking the oldest reply back
  // if the window is full).
  void execute(Thread& t) {
    if constexpr (kPipelined) {
      auto& p = t.pipe;
      const std::uint64_t mask = p.sent.size() - 1;
      if (!p.window->has_room()) take_oldest(t);
      if (design_.submit_with_reply(t.cmd, *p.window)) p.sent[p.sent_count++ & mask] = t.cmd;
      else ++t.refused;
    } else {
      if (const auto* p = std::get_if<PlaceCmd>(&t.cmd)) t.reply = design_.place(*p);
      else if (const auto* c = std::get_if<CancelCmd>(&t.cmd)) t.reply = design_.cancel(*c);
      else t.reply = design_.query(std::get<QueryCmd>(t.cmd));
      t.answered = t.cmd;
      t.has_reply = true;
    }
  }

  Verdict verify(std::vector<Thread>& threads) {
    Verdict v;
    std::uint64_t commands = 0, replies = 0, mismatched = 0, unexpected = 0;
    std::array<std::uint64_t, kRejectKinds> rejects{};
    Qty filled = prefill_filled_qty_;
    Cash notional = prefill_filled_notional_;
    for (auto& t : threads) {
      settle(t);
      if constexpr (kPipelined) {
        while (t.pipe.window->in_flight() > 0) {
          take_oldest(t);
          settle(t);
        }
        if (t.refused != 0)
          return {false, std::to_string(t.refused) + " submissions refused (engine stopped)"};
      }
      commands += t.commands;
      replies += t.replies;
      mismatched += t.mismatched;
      filled += t.filled_qty;
      notional += t.filled_notional;
      for (std::size_t r = 0; r < kRejectKinds; ++r) rejects[r] += t.rejects[r];
    }
    for (std::size_t r = 1; r < kRejectKinds; ++r)
      if (r != static_cast<std::size_t>(Reject::insufficient_cash) &&
          r != static_cast<std::size_t>(Reject::order_not_active))
        unexpected += rejects[r];
    const OrderState state = design_.state();
    auto problems = check_order_invariants(state);
    for (auto& p : check_fill_totals(state, filled, notional)) problems.push_back(std::move(p));
    std::ostringstream out;
    if (commands != replies || mismatched != 0)
      problems.push_back("commands " + std::to_string(commands) + ", replies " +
                         std::to_string(replies) + ", of the wrong kind " +
                         std::to_string(mismatched));
    if (unexpected != 0)
      problems.push_back(std::to_string(unexpected) + " rejects a well-formed stream cannot cause");
    if (!problems.empty()) {
      v.passed = false;
      for (std::size_t i = 0; i < problems.size() && i < 5; ++i) out << (i ? "; " : "") << problems[i];
    } else {
      out << "invariants 1-6 hold: " << commands << " commands, " << state.trades << " trades, "
          << state.orders.size() << " orders accepted, rejects: "
          << rejects[static_cast<std::size_t>(Reject::insufficient_cash)] << " cash, "
          << rejects[static_cast<std::size_t>(Reject::order_not_active)] << " inactive";
    }
    v.detail = out.str();
    return v;
  }

  std::string describe() const {
    std::ostringstream out;
    out << "symbols=" << params_.symbols << " accounts=" << params_.accounts
        << " theta=" << params_.theta << " mix place/cancel/query=" << params_.place_percent
        << "/" << params_.cancel_percent << "/"
        << 100 - params_.place_percent - params_.cancel_percent
        << " cross=" << params_.cross_percent << "% prefill=" << params_.prefill_per_side
        << "/side/symbol";
    return out.str();
  }

  D& design() { return design_; }

  // settle: checks the reply held in t (public: the batch driver settles a batch's replies one
  // by one through it).
  void settle(Thread& t) {
    if (!t.has_reply) return;
    t.has_reply = false;
    ++t.replies;
    if (t.reply.index() != t.answered.index()) {
      ++t.mismatched;
      return;
    }
    Reject reject = Reject::none;
    if (const auto* p = std::get_if<PlaceReply>(&t.reply)) {
      reject = p->reject;
      t.filled_qty += p->filled_qty;
      t.filled_notional += p->filled_notional;
    } else if (const auto* c = std::get_if<CancelReply>(&t.reply)) {
      reject = c->reject;
    } else {
      reject = std::get<QueryReply>(t.reply).reject;
    }
    const auto r = static_cast<std::size_t>(reject);
    if (r < kRejectKinds) ++t.rejects[r];
    t.stream.observe(t.answered, t.reply);
  }

 private:
  // take_oldest: pipelined: the reply to the oldest command in flight (waits for it).
  void take_oldest(Thread& t) {
    auto& p = t.pipe;
    t.reply = p.window->take();
    t.answered = p.sent[p.answered_count++ & (p.sent.size() - 1)];
    t.has_reply = true;
  }

  // Passive orders only (bids below the mid, asks above), from accounts spread over all;
  // ids below 1 << 40 belong to no client.
  void prefill() {
    const Price mid = OrderStream::mid_price(config_, stream_params_);
    OrderId id = 0;
    for (SymbolId s = 0; s < config_.symbols; ++s) {
      for (std::uint32_t k = 0; k < params_.prefill_per_side; ++k) {
        for (const Side side : {Side::buy, Side::sell}) {
          ++id;
          const Price offset = 1 + static_cast<Price>(k % 16);
          const PlaceCmd cmd{.id = id,
                             .account = static_cast<AccountId>(mix64(id) % config_.accounts),
                             .symbol = s,
                             .side = side,
                             .price = std::max<Price>(1, side == Side::buy ? mid - offset : mid + offset),
                             .qty = 1 + static_cast<Qty>(k % 50)};
          const PlaceReply r = design_.place(cmd);
          prefill_filled_qty_ += r.filled_qty;
          prefill_filled_notional_ += r.filled_notional;
        }
      }
    }
  }

  Params params_;
  unsigned threads_;
  std::uint64_t seed_;
  OrderConfig config_;
  OrderStreamParams stream_params_;
  ZipfKeys symbols_;
  D design_;
  Qty prefill_filled_qty_ = 0;
  Cash prefill_filled_notional_ = 0;
};

}  // namespace cp
