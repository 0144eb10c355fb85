// engine.hpp: Engine<State, Command, RingT, Wait>, one owner thread applying commands in order.
//
//   Engine  - owns a State and the one thread that ever touches it. Other threads submit()
//             commands (fire-and-forget, with an OverloadPolicy) or call() them (and wait for
//             the reply through a ReplySlot on their own stack). The owner takes commands in
//             batches and applies each with `state.apply(command, sequence)`; sequences are
//             0, 1, 2, ... in the one order that counts.
//   Handles - the State contract, see the concept below.
//
// How a reply travels: the ring carries an Envelope { Command; ReplySlot* reply; ReplyWindow*
// window; }. submit() sends neither (fire-and-forget); call() sends the address of a ReplySlot
// on its stack and waits on it; submit_to() sends the producer's ReplyWindow (pipelining: many
// requests in flight, replies taken back in order, published once per batch). The Command type
// stays the user's plain payload.
//
// End of batch (optional hooks of State, detected at compile time):
//   void end_batch()                          - called by the owner after each batch it applied
//                                               (group commit: fsync the batch's journal records);
//   bool holds_replies_until_end_batch() const - asked before each batch; when true, the
//                                               owner sends no reply of that batch before
//                                               end_batch() returned (a reply then means
//                                               "durable", not just "applied"). Replies wait in
//                                               a buffer sized max_batch at construction: no
//                                               allocation per command.
// Pipelined replies (submit_to) are published at the end of the batch, after the hook (and,
// unless replies are held, also mid-batch once a quarter of a window waits: see ReplyWindow).
//
// Shutdown: stop() closes the ring (later submits return stopped, calls return nullopt),
// lets the owner drain every command accepted before, joins the owner. The destructor calls
// stop(). Every accepted command is answered exactly once: applied exactly once, or, after a
// halt (below), refused. None is lost (the ring's close is exact, see multi_producer_ring.hpp).
//
// A handler that throws halts the engine (fail-stop, as the Disruptor's default exception
// handler halts its processor). So does a throwing end_batch() or
// holds_replies_until_end_batch(): every callable of the State runs under the same guard.
// apply may have changed part of the state before it threw, and no reply can say which part,
// so the owner never touches the state again (no apply, no hook):
//   - the failed command's caller gets nullopt (call) or EngineStopped (its window's take);
//   - so does every command after it: the owner keeps draining and answering, so no caller
//     hangs; new submits and calls are refused at once (stopped);
//   - when replies are held, the halted batch's replies before the failure are withdrawn
//     too (end_batch did not make them durable): nullopt / EngineStopped;
//   - failure() says which step threw, at which sequence (a hook: the batch's first), and
//     why. Recovery is the journal's business: restart from a snapshot and replay up to the
//     failed sequence (lesson 05).
//
// Contract:
//   - submit/call/stop/processed/counters: any thread (with RingT = SingleProducerRing: one
//     thread only, the same one for submit, call and stop);
//   - never call stop() or call() from inside apply (the owner would wait for itself);
//   - an exception from apply or a hook halts the engine (above); it does not end the program;
//   - a ReplyWindow may be destroyed as soon as its producer has taken (or been refused) every
//     reply: the owner's last access to it is the store that hands the last one over.
//   - State::apply returns the reply type (non-void; return a small status if nothing else).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "patterns/single_writer/overload.hpp"
#include "patterns/single_writer/reply_slot.hpp"
#include "patterns/single_writer/reply_window.hpp"
#include "patterns/single_writer/ring.hpp"
#include "patterns/single_writer/wait_strategy.hpp"

namespace cp::sw {

template <class State, class Command>
concept Handles = requires(State& s, Command& c, std::uint64_t seq) {
  { s.apply(c, seq) };
  requires !std::is_void_v<decltype(s.apply(c, seq))>;
};

// kCallerWaiting<Wait>: how a caller of an Engine with strategy Wait waits, as one trait: for
// its reply (a ReplySlot: blocks after a short spin) and for ring space (Wait). It spins if
// either does. Designs built on the engine declare it as their `waiting`.
template <WaitStrategy Wait>
inline constexpr cp::Waiting kCallerWaiting =
    Wait::waiting == cp::Waiting::spins ? cp::Waiting::spins : ReplySlot<int>::waiting;

template <class State>
concept HasEndBatch = requires(State& s) { s.end_batch(); };

template <class State>
concept HoldsReplies = requires(const State& s) {
  { s.holds_replies_until_end_batch() } -> std::convertible_to<bool>;
};

template <class State, class Command,
          template <class, class> class RingT = MultiProducerRing,
          WaitStrategy Wait = BlockingWaitStrategy>
  requires Handles<State, Command>
class Engine {
 public:
  using state_type = State;
  using command_type = Command;
  using reply_type = std::decay_t<decltype(std::declval<State&>().apply(
      std::declval<Command&>(), std::uint64_t{}))>;
  using reply_window = ReplyWindow<reply_type, Wait>;
  // A caller's slot carries nullopt when its command was not applied (the engine halted).
  using reply_slot = ReplySlot<std::optional<reply_type>>;
  struct Envelope {
    Command command{};
    reply_slot* reply = nullptr;     // call(): the caller waits on it
    reply_window* window = nullptr;  // submit_to(): the producer's window
  };
  // What halted the engine: the step that threw ("apply", "end_batch",
  // "holds_replies_until_end_batch"), the sequence (apply: its command; a hook: the first of
  // its batch), and the exception's what().
  struct Failure {
    std::uint64_t sequence = 0;
    std::string what;
    std::string_view step = "apply";
  };
  using ring_type = RingT<Envelope, Wait>;
  using wait_strategy = Wait;
  static_assert(Ring<ring_type>);

  static constexpr std::size_t kDefaultMaxBatch = 256;

  // Starts the owner thread. capacity: the ring's (power of two, else std::invalid_argument).
  explicit Engine(std::size_t capacity, State initial = State{},
                  std::size_t max_batch = kDefaultMaxBatch)
      : max_batch_(max_batch == 0 ? 1 : max_batch),
        state_(std::move(initial)),
        ring_(capacity),
        owner_([this] {
          held_.reserve(max_batch_);  // the owner's own buffers, sized once
          pending_.reserve(max_batch_);
          run();
        }) {}

  ~Engine() { stop(); }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // submit: fire-and-forget. block waits for room; reject returns at once when full.
  SubmitStatus submit(Command command, OverloadPolicy policy) {
    Envelope env{std::move(command), nullptr};
    SubmitStatus status;
    if (halted()) {
      status = SubmitStatus::stopped;
    } else if (policy == OverloadPolicy::block) {
      status = ring_.push(std::move(env)) ? SubmitStatus::accepted : SubmitStatus::stopped;
    } else if (ring_.try_push(std::move(env))) {
      status = SubmitStatus::accepted;
    } else if (ring_.closed()) {
      status = SubmitStatus::stopped;
    } else {
      status = SubmitStatus::rejected_full;
    }
    counters_.record(status);
    return status;
  }

  // call: sends the command (waiting for room if full) and waits for its reply. nullopt when
  // the engine was stopped before the command was accepted.
  // nullopt also when the engine halted, before or because of this command.
  std::optional<reply_type> call(Command command) {
    reply_slot slot;
    if (halted() || !ring_.push(Envelope{std::move(command), &slot})) {
      counters_.record(SubmitStatus::stopped);
      return std::nullopt;
    }
    counters_.record(SubmitStatus::accepted);
    return slot.wait();  // the owner fulfils it before stop() can finish
  }

  // submit_to: pipelined request. Sends the command (waiting for room in the ring if full) and
  // returns at once; the reply arrives in `window` (window.take(), in the order sent). Returns
  // accepted, or stopped (then no reply will come). Throws std::logic_error if the window is
  // full (take() a reply first). The window must belong to the calling thread and outlive its
  // requests' replies.
  SubmitStatus submit_to(Command command, reply_window& window) {
    window.reserve();
    if (halted() || !ring_.push(Envelope{std::move(command), nullptr, &window})) {
      window.unreserve();
      counters_.record(SubmitStatus::stopped);
      return SubmitStatus::stopped;
    }
    counters_.record(SubmitStatus::accepted);
    return SubmitStatus::accepted;
  }

  // stop: closes the input, drains every accepted command, joins the owner. Idempotent; any
  // thread (not the owner).
  void stop() {
    std::lock_guard<std::mutex> lock(stop_mu_);
    ring_.close();
    if (owner_.joinable()) owner_.join();
  }

  // processed: commands taken from the ring and answered so far (= last sequence + 1): all
  // applied until a halt; after it, the ones refused count too. Any thread.
  // acquire: pairs with the owner's release store in run(); the reads of state after
  // stop() are ordered by the join instead.
  std::uint64_t processed() const { return processed_.load(std::memory_order_acquire); }
  bool stopped() const { return ring_.closed(); }
  OverloadCounters::Snapshot counters() const { return counters_.snapshot(); }
  std::size_t capacity() const { return ring_.capacity(); }
  std::size_t queue_depth_approx() const { return ring_.size_approx(); }

  // halted: a handler threw; the engine applies nothing more. Any thread.
  // acquire: pairs with halt()'s release store (nothing else is published through it).
  bool halted() const { return halted_.load(std::memory_order_acquire); }
  // failure: why it halted, or nullopt. Any thread.
  std::optional<Failure> failure() const {
    std::lock_guard<std::mutex> lock(failure_mu_);
    return failure_;
  }

  // state_after_stop: the owner's state, for inspection once stop() has returned (the join
  // makes every write of the owner visible). Throws std::logic_error before.
  const State& state_after_stop() const {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (owner_.joinable()) throw std::logic_error("Engine::state_after_stop before stop()");
    return state_;
  }

 private:
  // ---- The owner loop: the only code that touches state_ ----------------------------------
  //
  //   run           batch after batch until the ring is closed and drained
  //   run_batch     live: apply each command, then end_batch, every call guarded
  //   refuse_batch  halted: answer each command with a failure; the state is never touched
  //   send_replies  held replies, then each window with unpublished replies, once
  //
  // A reply takes one of three paths: a call's slot (fulfilled now, or held until end_batch),
  // a window (put now, published when due or at the end of the batch), or a failure.
  void run() {
    while (ring_.wait_for_data()) {
      if (halted_now()) {
        refuse_batch();  // the state's life ended with the throw
      } else {
        run_batch();
      }
      send_replies();
      // release: pairs with processed()'s acquire load.
      processed_.store(ring_.next_sequence(), std::memory_order_release);
    }
  }

  void run_batch() {
    const std::uint64_t first = ring_.next_sequence();
    bool hold = false;
    if (!guarded(first, "holds_replies_until_end_batch", [&] { hold = holds_replies(); }))
      return;  // halted before applying any of the batch: the next turn refuses it
    ring_.consume_batch(
        [&](Envelope& env, std::uint64_t seq) {
          if (halted_now()) {
            answer_failed(take_destination(env));
          } else {
            apply_one(env, seq, hold);
          }
        },
        max_batch_);
    if (!halted_now()) guarded(first, "end_batch", [&] { end_batch(); });
    if (halted_now() && hold) withdraw_held();
  }

  void refuse_batch() {
    ring_.consume_batch([&](Envelope& env, std::uint64_t) { answer_failed(take_destination(env)); },
                        max_batch_);
  }

  struct Destination {
    reply_slot* slot;
    reply_window* window;
  };
  // take_destination: where the command's reply goes; clears the ring cell's pointers.
  static Destination take_destination(Envelope& env) {
    return {std::exchange(env.reply, nullptr), std::exchange(env.window, nullptr)};
  }

  void apply_one(Envelope& env, std::uint64_t seq, bool hold) {
    const Destination to = take_destination(env);
    std::optional<reply_type> reply;
    if (!guarded(seq, "apply", [&] { reply.emplace(state_.apply(env.command, seq)); }))
      return answer_failed(to);
    if (to.slot != nullptr) {
      if (hold) {
        held_.emplace_back(to.slot, std::move(*reply));
      } else {
        to.slot->fulfil(std::move(reply));
      }
    } else if (to.window != nullptr) {
      put_reply(*to.window, std::move(*reply), hold);
    }
  }

  // put_reply: invariant: a window is in pending_ exactly while it has unpublished puts, so
  // send_replies publishes it once, and never after a publish that may have been its last.
  void put_reply(reply_window& w, reply_type reply, bool hold) {
    const bool first = w.put(std::move(reply));
    if (!hold && w.publish_due()) {  // the producer may be waiting: don't wait a whole batch
      if (!first) unlist(w);
      w.publish();  // may be our last access to w
    } else if (first) {
      pending_.push_back(&w);  // at most once per put: fits the max_batch reserved
    }
  }

  // answer_failed: the command was not applied (the engine halted, now or before).
  void answer_failed(Destination to) {
    if (to.slot != nullptr) {
      to.slot->fulfil(std::nullopt);
    } else if (to.window != nullptr) {
      if (to.window->put_failure()) pending_.push_back(to.window);  // published by send_replies
    }
  }

  // withdraw_held: the halt came before end_batch made the batch durable, so its held replies
  // must not go out: callers get nullopt, producers EngineStopped.
  void withdraw_held() {
    for (auto& held : held_) held.first->fulfil(std::nullopt);
    held_.clear();
    for (reply_window* w : pending_) w->fail_unpublished();
  }

  void send_replies() {
    for (auto& [slot, reply] : held_) slot->fulfil(std::optional<reply_type>(std::move(reply)));
    held_.clear();
    for (reply_window* w : pending_) w->publish();  // once each; may be our last access to w
    pending_.clear();
  }

  void unlist(const reply_window& w) {
    const auto it = std::find(pending_.begin(), pending_.end(), &w);
    if (it == pending_.end()) return;
    *it = pending_.back();
    pending_.pop_back();
  }

  // guarded: runs one of the state's callables; a throw halts the engine. Returns whether it
  // returned normally.
  template <class F>
  bool guarded(std::uint64_t seq, std::string_view step, F&& f) noexcept {
    try {
      f();
      return true;
    } catch (const std::exception& e) {
      halt(seq, step, e.what());
    } catch (...) {
      halt(seq, step, "an exception not derived from std::exception");
    }
    return false;
  }

  void halt(std::uint64_t seq, std::string_view step, const char* what) noexcept {
    {
      std::lock_guard<std::mutex> lock(failure_mu_);
      failure_.emplace();
      failure_->sequence = seq;
      failure_->step = step;
      try {
        failure_->what = what;
      } catch (...) {  // out of memory: the message is lost, not the halt
      }
    }
    // release: pairs with halted()'s acquire load.
    halted_.store(true, std::memory_order_release);
  }

  bool halted_now() const { return halted_.load(std::memory_order_relaxed); }  // our own store

  void end_batch() {
    if constexpr (HasEndBatch<State>) state_.end_batch();
  }

  bool holds_replies() const {
    if constexpr (HoldsReplies<State>) return state_.holds_replies_until_end_batch();
    return false;
  }

  const std::size_t max_batch_;
  State state_;  // owner thread only (and after stop())
  ring_type ring_;
  OverloadCounters counters_;
  alignas(kCacheLine) std::atomic<std::uint64_t> processed_{0};
  mutable std::mutex stop_mu_;
  // Owner thread only: replies held until end_batch(); windows with unpublished replies.
  std::vector<std::pair<reply_slot*, reply_type>> held_;
  std::vector<reply_window*> pending_;
  std::atomic<bool> halted_{false};  // written by the owner only
  mutable std::mutex failure_mu_;
  std::optional<Failure> failure_;  // guarded by failure_mu_
  std::thread owner_;  // last: starts after everything it uses is constructed
};

}  // namespace cp::sw
