// partitions_test.cpp: the order engine sharded by symbol over a JetStream stream (lesson 10,
// partitions.hpp). Partition engines fed by their subjects answer exactly as the partitioned
// reference in one process; that reference equals the whole-market reference when no share of
// an account runs short, and otherwise first differs at a buy its partition rejects for cash.
#include "lessons/10-same-thing-at-scale/partitions.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "lessons/05-single-writer-engine/crash_recovery.hpp"
#include "lessons/10-same-thing-at-scale/order_on_log.hpp"
#include "patterns/distributed/nats_servers.hpp"
#include "tests/patterns/distributed/orders_on_nats.hpp"

using namespace cp;
using namespace cp::dist;
using namespace cp::lessons::l10;
using namespace std::chrono_literals;

namespace {

// (The program's one NatsLibraryForThisProcess is in jetstream_log_test.cpp.)

using cp::test::bytes_of;

OrderConfig with_cash(OrderConfig c, Cash cash) {
  c.initial_cash = cash;
  return c;
}

// first_difference: the index of the first command whose reply differs between the
// partitioned reference and the whole-market reference, or n if none.
constexpr long long kTightCash = 20'000'000;

struct Difference {
  std::size_t at;
  OrderReply partitioned, whole;
};
Difference first_difference(const std::vector<OrderCommand>& commands,
                            PartitionedReference& partitioned, OrderReference& whole) {
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const OrderReply p = partitioned.apply(commands[i]);
    const OrderReply w = apply_order_command(whole, commands[i]);
    if (!(p == w)) return {i, p, w};
  }
  return {commands.size(), {}, {}};
}

}  // namespace

TEST_CASE(
    "Partitioned reference: equal to the whole-market reference while every share "
    "suffices, else first different at a buy its partition rejects for cash",
    "[unit]") {
  const std::size_t n = 3000;
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    const auto script = lessons::l05::make_order_script(seed, n);
    for (const std::uint32_t parts : {1u, 2u, 4u}) {
      INFO("seed " << seed << ", partitions " << parts);
      // Ample cash: no share ever runs short, so every reply and the final state are equal.
      const OrderConfig ample = with_cash(script.config, Cash{1'000'000'000'000});
      PartitionedReference partitioned(ample, parts);
      OrderReference whole(ample);
      const Difference d = first_difference(script.commands, partitioned, whole);
      CHECK(d.at == n);
      CHECK(state_hash(partitioned.merged_state()) == state_hash(whole.state()));
    }
  }
  // Tight cash: with 4 shares some buy finds its share short.
  std::size_t diverged = 0;
  for (const std::uint64_t seed : {1u, 2u, 3u}) {
    const auto script = lessons::l05::make_order_script(seed, n);
    INFO("seed " << seed << ", partitions 4, tight cash");
    const OrderConfig tight = with_cash(script.config, Cash{kTightCash});
    PartitionedReference partitioned(tight, 4);
    OrderReference whole(tight);
    const Difference d = first_difference(script.commands, partitioned, whole);
    if (d.at == n) continue;
    ++diverged;
    const auto* place = std::get_if<PlaceCmd>(&script.commands[d.at]);
    REQUIRE(place != nullptr);
    CHECK(place->side == Side::buy);
    CHECK(std::get<PlaceReply>(d.partitioned).reject == Reject::insufficient_cash);
    CHECK(std::get<PlaceReply>(d.whole).reject == Reject::none);
  }
  CHECK(diverged > 0);  // the claim above is exercised, not vacuous
}

TEST_CASE(
    "Partitions on a stream: 2 engines, each the single writer of its symbols, answer "
    "and end as the partitioned reference, retried ids apply once, garbage is answered",
    "[unit]") {
  const std::uint64_t seed = 0x23;
  INFO("seed " << seed);
  const std::size_t n = 800;
  const std::uint32_t parts = 2;
  const auto script = lessons::l05::make_order_script(seed, n);

  cp::test::OrdersOnNats nats(1);  // servers, client, the stream ORDERS (orders.>)
  NatsServers& servers = nats.servers;
  NatsConnection& client = nats.client;
  Subscription inbox(client, "replies.t");

  // The publisher routes each command; a query goes to every partition, one message each.
  // Every 50th command is published twice with the same id (a retry): stored once.
  PartitionRouter router(parts);
  std::map<std::uint64_t, std::pair<std::size_t, std::uint32_t>> command_at;  // seq -> (i, k)
  std::vector<std::uint64_t> last_of(parts, 0);
  int retried = 0, duplicates = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (const std::uint32_t k : router.route(script.commands[i])) {
      const std::string id = "c-" + std::to_string(i) + "-" + std::to_string(k);
      const std::string subject = partition_subject(k);
      const Appended a =
          append(client, "ORDERS", subject, bytes_of(script.commands[i]), id, "replies.t");
      if (i % 50 == 0) {
        ++retried;
        const Appended again =
            append(client, "ORDERS", subject, bytes_of(script.commands[i]), id, "replies.t");
        CHECK(again.duplicate);
        CHECK(again.sequence == a.sequence);
        duplicates += again.duplicate ? 1 : 0;
      }
      command_at[a.sequence] = {i, k};
      last_of[k] = a.sequence;
    }
    if (i == 300) {  // garbage on partition 1's subject, in the middle
      const Appended g =
          append(client, "ORDERS", partition_subject(1), "\x05garbage", "g-1", "replies.t");
      last_of[1] = g.sequence;
    }
  }
  CHECK(duplicates == retried);

  // The engines, polled in turn by this thread (each the one writer of its partition's state).
  NatsConnection engine_conn(servers.urls());
  std::vector<std::unique_ptr<OrderLogEngine>> engines;
  for (std::uint32_t k = 0; k < parts; ++k) {
    const auto snaps = nats.folder("p" + std::to_string(k));
    const OrderConfig config = partition_config(script.config, k, parts);
    engines.push_back(std::make_unique<OrderLogEngine>(
        engine_conn, OrderLogCodec(config), OrderLogOwner{OrderCore(config)},
        LogEngineOptions{"ORDERS", partition_subject(k), snaps, 200, 64}));
  }
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  for (bool done = false; !done && std::chrono::steady_clock::now() < deadline;) {
    done = true;
    for (std::uint32_t k = 0; k < parts; ++k)
      if (engines[k]->applied_through() < last_of[k]) {
        engines[k]->poll(20ms);
        done = false;
      }
  }

  // The same commands through the partitioned reference, in stream order.
  PartitionedReference reference(script.config, parts);
  std::map<std::pair<std::size_t, std::uint32_t>, OrderReply> expected;
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::pair<std::uint32_t, OrderReply>> each;
    reference.apply(script.commands[i], &each);
    for (auto& [k, r] : each) expected.emplace(std::pair{i, k}, r);
  }
  for (std::uint32_t k = 0; k < parts; ++k) {
    INFO("partition " << k);
    REQUIRE(engines[k]->applied_through() == last_of[k]);
    CHECK(state_hash(engines[k]->owner().core.state()) ==
          state_hash(reference.partition(k).state()));
  }
  CHECK(engines[0]->stats().malformed == 0);
  CHECK(engines[1]->stats().malformed == 1);

  // Every reply, keyed by sequence: one per stored message, equal to the reference's.
  // Read until every sequence is answered, or 10 s with nothing new (a short quiet gap would
  // cut off the last replies on a loaded machine); one more quiet read for repeats.
  std::map<std::uint64_t, std::string> replies;
  std::size_t received = 0;
  while (replies.size() < command_at.size() + 1) {
    auto bytes = inbox.next(10s);
    if (!bytes) break;
    ++received;
    sw::ByteReader r(
        sw::ByteView(reinterpret_cast<const std::byte*>(bytes->data()), bytes->size()));
    replies.emplace(r.u64(), *bytes);
  }
  while (inbox.next(200ms)) ++received;
  CHECK(received == replies.size());  // no crash, no replay: each message answered once
  CHECK(replies.size() == command_at.size() + 1);
  std::size_t equal = 0, malformed = 0;
  for (const auto& [seq, bytes] : replies) {
    sw::ByteReader r(sw::ByteView(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
    r.u64();
    const auto status = static_cast<LogReplyStatus>(r.u8());
    const auto at = command_at.find(seq);
    if (at == command_at.end()) {
      malformed += status == LogReplyStatus::malformed ? 1 : 0;
      continue;
    }
    const auto reply = decode_order_reply(r);
    if (status == LogReplyStatus::applied && reply && *reply == expected.at(at->second)) ++equal;
  }
  CHECK(equal == command_at.size());
  CHECK(malformed == 1);
}

TEST_CASE(
    "Partitions on a stream: a slow partition lags (its consumer info counts what it "
    "owes) while the other finishes, then catches up to the reference",
    "[unit]") {
  const std::uint64_t seed = 0x51;
  INFO("seed " << seed);
  const std::size_t n = 300;
  const std::uint32_t parts = 2;
  const auto script = lessons::l05::make_order_script(seed, n);

  cp::test::OrdersOnNats nats(1);  // servers, client, the stream ORDERS (orders.>)
  NatsServers& servers = nats.servers;
  NatsConnection& client = nats.client;

  PartitionRouter router(parts);
  std::vector<std::uint64_t> last_of(parts, 0), count_of(parts, 0);
  for (std::size_t i = 0; i < n; ++i)
    for (const std::uint32_t k : router.route(script.commands[i])) {
      last_of[k] = append(client, "ORDERS", partition_subject(k), bytes_of(script.commands[i]),
                          "c-" + std::to_string(i) + "-" + std::to_string(k))
                       .sequence;
      ++count_of[k];
    }

  // Partition 1 reads at most 5 commands a poll, partition 0 the default 64.
  NatsConnection engine_conn(servers.urls());
  std::vector<std::unique_ptr<OrderLogEngine>> engines;
  for (std::uint32_t k = 0; k < parts; ++k) {
    const auto snaps = nats.folder("p" + std::to_string(k));
    const OrderConfig config = partition_config(script.config, k, parts);
    engines.push_back(std::make_unique<OrderLogEngine>(
        engine_conn, OrderLogCodec(config), OrderLogOwner{OrderCore(config)},
        LogEngineOptions{"ORDERS", partition_subject(k), snaps, 0, k == 1 ? 5 : 64}));
  }
  CHECK(engines[1]->lag() == count_of[1]);  // nothing read yet: it owes all of its commands
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (engines[0]->applied_through() < last_of[0] && std::chrono::steady_clock::now() < deadline)
    engines[0]->poll(50ms);
  const std::size_t read = engines[1]->poll(1s);  // the slow one: one small batch meanwhile
  REQUIRE(read > 0);
  REQUIRE(read <= 5);
  REQUIRE(engines[0]->applied_through() == last_of[0]);
  CHECK(engines[0]->lag() == 0);
  CHECK(engines[1]->lag() == count_of[1] - read);
  while (engines[1]->applied_through() < last_of[1] && std::chrono::steady_clock::now() < deadline)
    engines[1]->poll(50ms);
  REQUIRE(engines[1]->applied_through() == last_of[1]);
  CHECK(engines[1]->lag() == 0);

  PartitionedReference reference(script.config, parts);
  for (const auto& cmd : script.commands) reference.apply(cmd);
  for (std::uint32_t k = 0; k < parts; ++k)
    CHECK(state_hash(engines[k]->owner().core.state()) ==
          state_hash(reference.partition(k).state()));
}
