// broadcast.hpp: Broadcast<T>, one publisher, many subscribers, each subscriber sees every value
// published after it subscribed, unless it falls behind by more than the channel holds.
//
//   Broadcast<T>(capacity)  - keeps the last `capacity` values. publish() never waits for a
//                             subscriber: when the ring is full the oldest value is overwritten.
//   Subscriber              - subscribe() gives one; recv() blocks for the next value,
//                             try_recv() does not, recv_newest() skips to the newest value.
//   Received<T>             - value (or closed / empty), and `missed`: how many values this
//                             subscriber lost because it was too slow.
//
// A slow subscriber does not slow the publisher or the others. What it gets, as tokio's
// broadcast channel: its next recv() reports how many values were overwritten before it read
// them (`missed`), and it carries on from the oldest value still held. recv_newest() is for
// state-like values (a config): it jumps straight to the latest and counts the rest as missed.
// close() (the publisher's last word, e.g. "shutting down"): subscribers read what is still
// held, then get `closed`.
//
// One lock guards the ring; every call holds it for a copy of one value. Right for config
// updates and shutdown notices (rare, small); not for a high-rate data feed, where each
// subscriber's lock traffic would matter (a per-slot sequence, as the Disruptor's, would not).
#pragma once

#include <absl/base/thread_annotations.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "patterns/actor/hooks.hpp"
#include "patterns/actor/signal_mutex.hpp"

namespace cp::actor {

enum class ReceiveStatus { value, empty, closed };

template <class T>
struct Received {
  ReceiveStatus status = ReceiveStatus::empty;
  std::optional<T> value;     // set iff status == value
  std::uint64_t missed = 0;   // values overwritten before this subscriber could read them
};

template <class T>
class Broadcast {
  struct Channel;

 public:
  class Subscriber {
   public:
    // recv: blocks until a value is published after the last one read, or the channel closes.
    Received<T> recv() { return channel_->next(next_, true, false); }
    // try_recv: as recv, but returns `empty` instead of waiting.
    Received<T> try_recv() { return channel_->next(next_, false, false); }
    // recv_newest: the newest value not yet read (waiting if none); older ones count as missed.
    Received<T> recv_newest() { return channel_->next(next_, true, true); }

   private:
    friend class Broadcast;
    Subscriber(std::shared_ptr<Channel> c, std::uint64_t next)
        : channel_(std::move(c)), next_(next) {}
    std::shared_ptr<Channel> channel_;
    std::uint64_t next_;  // sequence number of the next value this subscriber wants
  };

  explicit Broadcast(std::size_t capacity) : channel_(std::make_shared<Channel>(capacity)) {}
  ~Broadcast() { close(); }
  Broadcast(const Broadcast&) = delete;
  Broadcast& operator=(const Broadcast&) = delete;

  // subscribe: any thread. The subscriber sees values published from now on.
  Subscriber subscribe() { return Subscriber(channel_, channel_->published()); }

  // publish: the publisher. Never waits for subscribers. Throws std::logic_error after close.
  void publish(T value) { channel_->publish(std::move(value)); }

  // close: the publisher; idempotent. Subscribers read what is held, then get `closed`.
  void close() { channel_->close(); }

 private:
  struct Channel {
    explicit Channel(std::size_t capacity) : slots(capacity) {
      if (capacity == 0) throw std::invalid_argument("broadcast: capacity must be > 0");
    }

    std::uint64_t published() ABSL_LOCKS_EXCLUDED(mu) {
      SignalLock lock(mu);
      return count;
    }

    void publish(T value) ABSL_LOCKS_EXCLUDED(mu) {
      {
        SignalLock lock(mu);
        if (closed) throw std::logic_error("broadcast: publish after close");
        slots[count % slots.size()] = std::move(value);
        ++count;
        // Under the lock: a subscriber that owns the channel may free it once it has the value.
        arrived.notify_all();
      }
      ActorHooks::at(ActorHookPoint::broadcast_published, this);  // test hook: nothing after
    }

    void close() ABSL_LOCKS_EXCLUDED(mu) {
      {
        SignalLock lock(mu);
        closed = true;
        arrived.notify_all();  // under the lock, as in publish
      }
      ActorHooks::at(ActorHookPoint::broadcast_published, this);  // test hook: nothing after
    }

    Received<T> next(std::uint64_t& next_seq, bool wait, bool newest) ABSL_LOCKS_EXCLUDED(mu) {
      SignalLock lock(mu);
      while (next_seq == count) {
        if (closed) return {ReceiveStatus::closed, std::nullopt, 0};
        if (!wait) return {ReceiveStatus::empty, std::nullopt, 0};
        mu.wait(arrived);
      }
      const std::uint64_t oldest = count > slots.size() ? count - slots.size() : 0;
      const std::uint64_t from = newest ? count - 1 : (next_seq < oldest ? oldest : next_seq);
      const std::uint64_t missed = from - next_seq;
      next_seq = from + 1;
      return {ReceiveStatus::value, *slots[from % slots.size()], missed};
    }

    SignalMutex mu;
    std::condition_variable arrived;
    std::vector<std::optional<T>> slots ABSL_GUARDED_BY(mu);
    std::uint64_t count ABSL_GUARDED_BY(mu) = 0;  // values published so far
    bool closed ABSL_GUARDED_BY(mu) = false;
  };

  std::shared_ptr<Channel> channel_;
};

}  // namespace cp::actor
