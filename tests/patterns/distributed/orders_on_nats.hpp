// orders_on_nats.hpp: what the order-engine-on-a-stream tests (log_engine_test.cpp,
// partitions_test.cpp) set up the same way each time.
//
//   OrdersOnNats(nodes) - a temporary folder (removed at the end, also when a case fails),
//                         `nodes` NATS servers in its "nats" folder (stopped by their
//                         destructor on every path), a client connection, and the stream
//                         ORDERS (orders.>) with `nodes` replicas. With 3 nodes the client's
//                         requests are bounded short (300 ms: no answer at all while there is
//                         no leader) and it reconnects for 60 s (longer than a restart), and
//                         the stream's creation is retried until the new cluster answers.
//   folder(name)        - a folder of that name in the temporary folder, created.
//   bytes_of(cmd)       - a command as the stream carries it (OrderCodec).
//   until_ok(f)         - f again while it throws NatsError, bounded; then the error goes up.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>

#include "lessons/10-same-thing-at-scale/order_on_log.hpp"
#include "patterns/distributed/jetstream_log.hpp"
#include "patterns/distributed/nats_servers.hpp"
#include "tests/support/temp_dir.hpp"

namespace cp::test {

inline std::string bytes_of(const OrderCommand& cmd) { return lessons::l10::command_bytes(cmd); }

// until_ok: dist::until_answered, retrying every 100 ms for at most 60 s.
template <class F>
auto until_ok(F&& f) {
  return dist::until_answered(std::forward<F>(f), std::chrono::seconds(60),
                              std::chrono::milliseconds(100));
}

class OrdersOnNats {
 public:
  explicit OrdersOnNats(int nodes)
      : servers({folder("nats"), nodes}),
        client(nodes == 1 ? dist::NatsConnection(servers.urls())
                          : dist::NatsConnection(servers.urls(), std::chrono::milliseconds(300),
                                                 std::chrono::seconds(60))) {
    if (nodes == 1)
      dist::create_log(client, dist::LogSpec{"ORDERS", {"orders.>"}, 1});
    else
      until_ok([&] { dist::create_log(client, dist::LogSpec{"ORDERS", {"orders.>"}, nodes}); });
  }

  std::filesystem::path folder(const std::string& name) const {
    std::filesystem::create_directories(dir.path() / name);
    return dir.path() / name;
  }

  TempDir dir;  // first: the others live in it, and it goes last
  dist::NatsServers servers;
  dist::NatsConnection client;
};

}  // namespace cp::test
