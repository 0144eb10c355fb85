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
//   bool holds_replies_until_end_batch() const - when true, the owner sends no reply of a batch
//                                               before end_batch() returned (a reply then means
//                                               "durable", not just "applied"). Replies wait in
//                                               a buffer sized max_batch at construction: no
//                                               allocation per command.
// Pipelined replies (submit_to) are published at the end of the batch, after the hook (and,
// unless replies are held, also mid-batch once a quarter of a window waits: see ReplyWindow).
//
// Shutdown: stop() closes the ring (later submits return stopped, calls return nullopt),
// lets the owner drain every command accepted before, joins the owner. The destructor calls
// stop(). Every accepted command is applied exactly once; none is lost (the ring's close is
// exact, see multi_producer_ring.hpp).
//
// A handler that throws halts the engine (fail-stop, as the Disruptor's default exception
// handler halts its processor). apply may have changed part of the state before it threw,
// and no reply can say which part, so the owner never touches the state again:
//   - the failed command's caller gets nullopt (call) or EngineStopped (its window's take);
//   - so does every command after it: the owner keeps draining and answering, so no caller
//     hangs; new submits and calls are refused at once (stopped);
//   - failure() says which sequence failed and why. Recovery is the journal's business:
//     restart from a snapshot and replay up to the failed sequence (lesson 05).
//
// Contract:
//   - submit/call/stop/processed/counters: any thread (with RingT = SingleProducerRing: one
//     thread only, the same one for submit, call and stop);
//   - never call stop() or call() from inside apply (the owner would wait for itself);
//   - an exception from apply halts the engine (above); it does not end the program.
//   - State::apply returns the reply type (non-void; return a small status if nothing else).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
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
  // What halted the engine: the sequence whose apply threw, and the exception's what().
  struct Failure {
    std::uint64_t sequence = 0;
    std::string what;
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
          held_.reserve(max_batch_);     // the owner's own buffers, sized once
          windows_.reserve(max_batch_);
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

  // processed: commands applied so far (= last sequence + 1). Any thread.
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
  // The owner loop: the only code that touches state_.
  void run() {
    while (ring_.wait_for_data()) {
      const bool hold = holds_replies();
      ring_.consume_batch([&](Envelope& env, std::uint64_t seq) { apply_one(env, seq, hold); },
                          max_batch_);
      if constexpr (HasEndBatch<State>) state_.end_batch();
      for (auto& [slot, reply] : held_) slot->fulfil(std::optional<reply_type>(std::move(reply)));
      held_.clear();
      for (reply_window* w : windows_) w->publish();
      windows_.clear();
      for (reply_window* w : failing_) {
        w->publish();
        w->fail();
      }
      failing_.clear();
      // release: pairs with processed()'s acquire load.
      processed_.store(ring_.next_sequence(), std::memory_order_release);
    }
  }

  void apply_one(Envelope& env, std::uint64_t seq, bool hold) {
    reply_slot* slot = std::exchange(env.reply, nullptr);
    reply_window* w = std::exchange(env.window, nullptr);
    std::optional<reply_type> reply = apply_guarded(env.command, seq);
    if (slot != nullptr) {
      if (hold && reply) {
        held_.emplace_back(slot, std::move(*reply));
      } else {
        slot->fulfil(std::move(reply));
      }
    } else if (w != nullptr) {
      if (!reply) {
        // Failed at the end of the batch, after its replies are published (and, when replies
        // are held, made durable): the replies before the failure still reach the producer,
        // and its take() of this one throws EngineStopped.
        if (std::find(failing_.begin(), failing_.end(), w) == failing_.end()) failing_.push_back(w);
        return;
      }
      const bool first_unpublished = w->put(std::move(*reply));
      if (!hold && w->publish_due()) {
        w->publish();  // the producer may be waiting for these: don't make it wait a whole batch
      } else if (first_unpublished) {
        windows_.push_back(w);  // at most once per put: fits the max_batch reserved
      }
    }
  }

  // apply_guarded: the reply, or nullopt once the engine halted (now or before).
  std::optional<reply_type> apply_guarded(Command& command, std::uint64_t seq) {
    if (halted_.load(std::memory_order_relaxed)) return std::nullopt;  // our own store
    try {
      return state_.apply(command, seq);
    } catch (const std::exception& e) {
      halt(seq, e.what());
    } catch (...) {
      halt(seq, "an exception not derived from std::exception");
    }
    return std::nullopt;
  }

  void halt(std::uint64_t seq, std::string what) {
    {
      std::lock_guard<std::mutex> lock(failure_mu_);
      failure_ = Failure{seq, std::move(what)};
    }
    // release: pairs with halted()'s acquire load.
    halted_.store(true, std::memory_order_release);
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
  // Owner thread only: replies held until end_batch(), windows to publish after the batch.
  std::vector<std::pair<reply_slot*, reply_type>> held_;
  std::atomic<bool> halted_{false};  // written by the owner only
  mutable std::mutex failure_mu_;
  std::optional<Failure> failure_;  // guarded by failure_mu_
  std::vector<reply_window*> windows_;
  std::vector<reply_window*> failing_;  // windows with a request the halted engine cannot answer
  std::thread owner_;  // last: starts after everything it uses is constructed
};

}  // namespace cp::sw
