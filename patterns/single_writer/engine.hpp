// engine.hpp: Engine<State, Command, RingT, Wait>, one owner thread applying commands in order.
//
//   Engine  - owns a State and the one thread that ever touches it. Other threads submit()
//             commands (fire-and-forget, with an OverloadPolicy) or call() them (and wait for
//             the reply through a ReplySlot on their own stack). The owner takes commands in
//             batches and applies each with `state.apply(command, sequence)`; sequences are
//             0, 1, 2, ... in the one order that counts.
//   Handles - the State contract, see the concept below.
//
// How a reply travels: the ring carries an Envelope { Command command; ReplySlot<Reply>* reply; }.
// submit() sends reply == nullptr; call() sends the address of a ReplySlot on its stack and
// waits on it. The Command type stays the user's plain payload.
//
// Shutdown: stop() closes the ring (later submits return stopped, calls return nullopt),
// lets the owner drain every command accepted before, joins the owner. The destructor calls
// stop(). Every accepted command is applied exactly once; none is lost (the ring's close is
// exact, see multi_producer_ring.hpp).
//
// Contract:
//   - submit/call/stop/processed/counters: any thread (with RingT = SingleProducerRing: one
//     thread only, the same one for submit, call and stop);
//   - never call stop() or call() from inside apply (the owner would wait for itself);
//   - apply must not throw (an exception escaping it ends the program, like a noexcept
//     function would): the owner cannot answer a call() it failed.
//   - State::apply returns the reply type (non-void; return a small status if nothing else).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>

#include "patterns/single_writer/overload.hpp"
#include "patterns/single_writer/reply_slot.hpp"
#include "patterns/single_writer/ring.hpp"
#include "patterns/single_writer/wait_strategy.hpp"

namespace cp::sw {

template <class State, class Command>
concept Handles = requires(State& s, Command& c, std::uint64_t seq) {
  { s.apply(c, seq) };
  requires !std::is_void_v<decltype(s.apply(c, seq))>;
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
  struct Envelope {
    Command command{};
    ReplySlot<reply_type>* reply = nullptr;  // null: fire-and-forget
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
        owner_([this] { run(); }) {}

  ~Engine() { stop(); }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // submit: fire-and-forget. block waits for room; reject/drop return at once when full.
  SubmitStatus submit(Command command, OverloadPolicy policy) {
    Envelope env{std::move(command), nullptr};
    SubmitStatus status;
    if (policy == OverloadPolicy::block) {
      status = ring_.push(std::move(env)) ? SubmitStatus::accepted : SubmitStatus::stopped;
    } else if (ring_.try_push(std::move(env))) {
      status = SubmitStatus::accepted;
    } else if (ring_.closed()) {
      status = SubmitStatus::stopped;
    } else {
      status = policy == OverloadPolicy::reject ? SubmitStatus::rejected_full
                                                : SubmitStatus::dropped;
    }
    counters_.record(status);
    return status;
  }

  // call: sends the command (waiting for room if full) and waits for its reply. nullopt when
  // the engine was stopped before the command was accepted.
  std::optional<reply_type> call(Command command) {
    ReplySlot<reply_type> slot;
    if (!ring_.push(Envelope{std::move(command), &slot})) {
      counters_.record(SubmitStatus::stopped);
      return std::nullopt;
    }
    counters_.record(SubmitStatus::accepted);
    return slot.wait();  // the owner fulfils it before stop() can finish
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
    auto apply_one = [this](Envelope& env, std::uint64_t seq) {
      if (env.reply != nullptr) {
        ReplySlot<reply_type>* reply = env.reply;
        env.reply = nullptr;
        reply->fulfil(state_.apply(env.command, seq));
      } else {
        (void)state_.apply(env.command, seq);
      }
    };
    while (ring_.wait_for_data()) {
      ring_.consume_batch(apply_one, max_batch_);
      // release: pairs with processed()'s acquire load.
      processed_.store(ring_.next_sequence(), std::memory_order_release);
    }
  }

  const std::size_t max_batch_;
  State state_;  // owner thread only (and after stop())
  ring_type ring_;
  OverloadCounters counters_;
  alignas(kCacheLine) std::atomic<std::uint64_t> processed_{0};
  mutable std::mutex stop_mu_;
  std::thread owner_;  // last: starts after everything it uses is constructed
};

}  // namespace cp::sw
