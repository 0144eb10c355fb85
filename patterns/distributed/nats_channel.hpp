// nats_channel.hpp: a NATS subject as the two halves of a channel, so that code written
// against cp::sw::SendEnd and cp::sw::ReceiveEnd (patterns/single_writer/ring.hpp) runs across
// processes unchanged. Lesson 04's services are that code (lessons/10-same-thing-at-scale/
// services-across-processes.md).
//
//   NatsSender<T>    - the sending end: push/try_push publish one message on the subject;
//                      close() publishes the end marker (an empty message) and flushes.
//   NatsReceiver<T>  - the receiving end: a subscription and a pump thread that moves each
//                      message into a local SingleProducerRing (the pump is its one producer)
//                      and closes the ring on the end marker. The service reads the ring: it
//                      waits, takes batches and selects over two inputs as it does in-process.
//   subscribed(c)    - a flush: once it returns, the server has every subscription made on
//                      this connection so far, so a message sent after it is delivered.
//
// What is the same as a ring: one order per sender (NATS keeps the order of one publisher's
// messages to one subscriber), close after the last message, a consumer that reads what was
// sent and then sees the end. What is not:
//   - Core NATS delivers at most once. A message published before the receiver subscribed is
//     gone, so a system starts its receivers first and says so (subscribed(), then a "ready"
//     message), and a process that dies takes its messages in flight with it.
//   - No backpressure across the wire. push never waits for the receiver: the receiver's ring
//     bounds only the receiving process, and behind it the client library buffers up to its
//     pending limit, then drops (a "slow consumer", counted in dropped()). A bound that holds
//     end to end must come from the protocol (lesson 04's window) or from JetStream's
//     max-ack-pending.
//   - A message is bytes: T must be trivially copyable and is sent as its bytes, which is only
//     right between processes of the same binary on the same machine (clocks included:
//     steady_clock is the machine's monotonic clock). A real system sends a schema.
//
// Threads: NatsSender is used by one thread (the service's); NatsReceiver's consumer side by
// one thread (the service's), its producer side by its own pump thread. libnats connections
// are thread-safe, so all ends of one process may share one NatsConnection.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>

#include "patterns/distributed/jetstream_log.hpp"
#include "patterns/single_writer/ring.hpp"

namespace cp::dist {

// subscribed: the server has processed every subscription of this connection (a PING/PONG).
inline void subscribed(const NatsConnection& c) { flush(c); }

template <class T>
class NatsSender {
  static_assert(std::is_trivially_copyable_v<T>, "sent as its bytes (see the top)");

 public:
  using value_type = T;

  // `receiver_capacity`: the ring size the receiving end was given (what capacity() reports,
  // so that a sender can check, as lesson 04's Basket does, that its window fits).
  NatsSender(const NatsConnection& c, std::string subject, std::size_t receiver_capacity)
      : conn_(c), subject_(std::move(subject)), capacity_(receiver_capacity) {}

  // [quote: nats-send]
  // push: publishes `item` on the subject. Never waits for the receiver (see the top).
  // False after close().
  bool push(T&& item) {
    if (closed_) return false;
    publish(conn_, subject_, std::string_view(reinterpret_cast<const char*>(&item), sizeof(T)));
    return true;
  }
  bool try_push(T&& item) { return push(std::move(item)); }

  // close: the end marker (an empty message) after everything sent, then a flush, so the
  // server has all of it before this process may exit.
  void close() {
    if (closed_) return;
    closed_ = true;
    publish(conn_, subject_, std::string_view());
    flush(conn_);
  }
  // [end quote]

  std::size_t capacity() const { return capacity_; }
  const std::string& subject() const { return subject_; }

 private:
  const NatsConnection& conn_;
  const std::string subject_;
  const std::size_t capacity_;
  bool closed_ = false;
};

template <class T>
class NatsReceiver {
  static_assert(std::is_trivially_copyable_v<T>, "sent as its bytes (see the top)");
  using LocalRing = sw::SingleProducerRing<T, sw::BlockingWaitStrategy>;

 public:
  using value_type = T;
  using wait_strategy = sw::BlockingWaitStrategy;

  // Subscribes now (call subscribed(c) before anyone may send). `data_wait`: as a ring's, a
  // strategy shared with another input for SelectTwo; null: the ring's own.
  NatsReceiver(const NatsConnection& c, const std::string& subject, std::size_t capacity,
               wait_strategy* data_wait = nullptr)
      : ring_(capacity, data_wait) {
    check(natsConnection_SubscribeSync(&sub_, c.raw(), subject.c_str()), "subscribe " + subject);
    pump_ = std::jthread([this](std::stop_token stop) { pump(stop); });
  }
  // Stops the pump (at once if the end marker came; else within one poll) and unsubscribes.
  ~NatsReceiver() {
    pump_.request_stop();
    if (pump_.joinable()) pump_.join();
    natsSubscription_Unsubscribe(sub_);
    natsSubscription_Destroy(sub_);
  }
  NatsReceiver(const NatsReceiver&) = delete;
  NatsReceiver& operator=(const NatsReceiver&) = delete;

  // ---- the consumer (the service's thread): the ring's own calls --------------------------
  template <class F>
  std::size_t consume_batch(F&& f, std::size_t max_batch) {
    return ring_.consume_batch(std::forward<F>(f), max_batch);
  }
  bool wait_for_data() { return ring_.wait_for_data(); }
  bool has_data() { return ring_.has_data(); }
  bool drained() const { return ring_.drained(); }
  bool closed() const { return ring_.closed(); }
  std::size_t capacity() const { return ring_.capacity(); }

  // abandon: stop reading the subject (any thread): the pump ends the ring within one poll,
  // and the consumer sees the end as if the sender had closed. For a driver whose peer
  // process died, so that it does not wait forever for an end marker that will never come.
  void abandon() { pump_.request_stop(); }

  // Messages the client library dropped because this receiver fell behind its pending limit
  // (a slow consumer), and messages that were not a T (wrong size): both lost, both counted.
  std::uint64_t dropped() const {
    std::int64_t n = 0;
    natsSubscription_GetDropped(sub_, &n);
    return static_cast<std::uint64_t>(n) + malformed_.load(std::memory_order_relaxed);
  }

 private:
  // [quote: nats-pump]
  // pump: the local ring's one producer. A message becomes a T in the ring; the end marker
  // closes the ring, after everything the sender sent before it.
  void pump(std::stop_token stop) {
    while (!stop.stop_requested()) {
      natsMsg* m = nullptr;
      const natsStatus s = natsSubscription_NextMsg(&m, sub_, kPollMs);
      if (s == NATS_TIMEOUT) continue;
      if (s != NATS_OK) break;  // the subscription or the connection is gone
      const int len = natsMsg_GetDataLength(m);
      if (len == 0) {  // the end marker
        natsMsg_Destroy(m);
        break;
      }
      if (len == static_cast<int>(sizeof(T))) {
        T item;
        std::memcpy(&item, natsMsg_GetData(m), sizeof(T));
        // While the service is behind by a whole ring: wait, but still see a stop request.
        while (!ring_.try_push(std::move(item)) && !stop.stop_requested())
          std::this_thread::sleep_for(std::chrono::microseconds(100));
      } else {
        // relaxed: a statistic; read by dropped() on any thread, ordered by nothing.
        malformed_.fetch_add(1, std::memory_order_relaxed);
      }
      natsMsg_Destroy(m);
    }
    ring_.close();  // the consumer drains the ring, then sees the end
  }
  // [end quote]

  static constexpr std::int64_t kPollMs = 50;  // how soon a stop request is seen

  LocalRing ring_;
  natsSubscription* sub_ = nullptr;
  std::atomic<std::uint64_t> malformed_{0};
  std::jthread pump_;  // last: started after everything it uses, joined first
};

static_assert(sw::SendEnd<NatsSender<int>>);
static_assert(sw::ReceiveEnd<NatsReceiver<int>>);

}  // namespace cp::dist
