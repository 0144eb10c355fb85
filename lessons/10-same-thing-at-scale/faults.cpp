// l10_faults: three faults on a 3-node JetStream cluster with a replicas-3 stream, each shown
// and checked against the sequential reference (lesson 10, "Faults").
//
//   1. Servers lost while publishing: the stream's leader is killed (SIGKILL) after a third
//      of the commands; until the other two elect a leader, publishes get no acknowledgement
//      and the publisher retries each with the same message id. With --lose-quorum, after
//      two thirds the new leader is stopped too: one server of three is no quorum, and nothing
//      is acknowledged until the demo starts that server again (--outage-ms later). Printed: how long
//      publishes went unacknowledged, the retries, the duplicates the stream recognised.
//      Checked: the stream holds each command once, in publish order.
//   2. The whole cluster restarted: an engine (LogEngine, in this process) has applied half the
//      stream when all three servers stop; it dies in the outage without a last snapshot. The
//      servers start again on their stores; a new engine resumes from the newest snapshot and
//      the stream. Checked: every reply and the final state hash equal the reference's.
//   3. A slow partition: two partitions on one stream, partition 1 applying at most
//      --slow-batch commands per round while partition 0 keeps up. Printed: partition 1's lag
//      from JetStream's consumer info (NumPending) as the commands arrive, and how long it
//      takes to catch up. Checked: the consumer info equals the commands published minus those
//      applied, and both partitions end as the partitioned reference.
//
// Everything is on 127.0.0.1 in a temporary folder that is removed at the end; every server
// started is stopped, on every path. Exit code 0 only if every check held, 1 if not.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "lessons/05-single-writer-engine/crash_recovery.hpp"
#include "lessons/10-same-thing-at-scale/order_on_log.hpp"
#include "lessons/10-same-thing-at-scale/partitions.hpp"
#include "lessons/common/cli.hpp"
#include "patterns/distributed/nats_servers.hpp"

namespace dist = cp::dist;
namespace l10 = cp::lessons::l10;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Checks: each one printed as it is made; the exit code says whether all held.
struct Checks {
  int failed = 0;
  void expect(bool ok, const std::string& what) {
    std::printf("  check: %s: %s\n", what.c_str(), ok ? "yes" : "NO");
    if (!ok) ++failed;
  }
};

// First answer per stream sequence (a command applied again after a restart is answered
// again, with the same bytes); `repeated` counts the later ones, `different` those that differ.
struct Replies {
  std::map<std::uint64_t, cp::OrderReply> first;
  std::uint64_t repeated = 0, different = 0, undecodable = 0;

  void drain(dist::Subscription& inbox, std::chrono::milliseconds quiet) {
    while (auto bytes = inbox.next(quiet)) {
      cp::sw::ByteReader r(
          cp::sw::ByteView(reinterpret_cast<const std::byte*>(bytes->data()), bytes->size()));
      const std::uint64_t seq = r.u64();
      const auto status = static_cast<dist::LogReplyStatus>(r.u8());
      const auto reply = l10::decode_order_reply(r);
      if (status != dist::LogReplyStatus::applied || !reply || !r.done()) {
        ++undecodable;
        continue;
      }
      const auto [at, inserted] = first.emplace(seq, *reply);
      if (!inserted) {
        ++repeated;
        if (!(at->second == *reply)) ++different;
      }
    }
  }
};

// poll_until: `engine` polled until it has applied through `last`, reading again when the
// cluster does not answer (still settling after a restart); bounded in time.
void poll_until(l10::OrderLogEngine& engine, std::uint64_t last, std::chrono::seconds bound = 60s) {
  const auto deadline = Clock::now() + bound;
  while (engine.applied_through() < last && Clock::now() < deadline) {
    try {
      engine.poll(100ms);
    } catch (const dist::NatsError&) {
      std::this_thread::sleep_for(50ms);
    }
  }
}

int leader_index(const dist::NatsConnection& c, const std::string& stream) {
  const auto deadline = Clock::now() + 60s;
  for (;;) {
    std::string name;
    try {
      name = dist::stream_leader(c, stream);
    } catch (const dist::NatsError&) {
    }
    if (name.size() == 2 && name[0] == 'n') return name[1] - '0';
    if (Clock::now() > deadline) throw std::runtime_error("no leader for stream " + stream);
    std::this_thread::sleep_for(50ms);
  }
}

// Part 1 and 2: one stream ORDERS (replicas 3), one engine partition on orders.p0.
void server_stopped_and_cluster_restarted(dist::NatsServers& servers, const std::filesystem::path& dir,
                                          std::uint64_t seed, std::size_t n,
                                          std::uint64_t snapshot_every,
                                          bool lose_quorum, std::chrono::milliseconds outage,
                                          Checks& checks) {
  const auto script = cp::lessons::l05::make_order_script(seed, n);
  // Short request bounds (no answer at all while there is no leader), and a reconnect window
  // longer than any outage below.
  dist::NatsConnection client(servers.urls(), 300ms, 60s);
  dist::until_answered([&] { dist::create_log(client, dist::LogSpec{"ORDERS", {"orders.>"}, 3}); });
  dist::Subscription inbox(client, "replies.faults");
  const int leader = leader_index(client, "ORDERS");
  std::printf("\n1. servers lost while publishing\n"
              "stream ORDERS, replicas 3, leader n%d; order script: seed %llu, %zu commands\n",
              leader, static_cast<unsigned long long>(seed), n);

  std::vector<std::uint64_t> seq_of(n);
  std::size_t retries = 0, duplicates = 0, retried_commands = 0;
  double longest_unacked = 0;
  const std::size_t crash_at = n / 3, quorum_lost_at = 2 * n / 3;
  int quorum_node = -1;  // the server stopped at quorum_lost_at, started again after `outage`
  auto t = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    if (i == crash_at) {
      servers.kill(leader);
      std::printf("after %zu acknowledged commands: server n%d (the stream's leader) killed "
                  "(SIGKILL)\n", i, leader);
    }
    if (lose_quorum && i == quorum_lost_at) {
      quorum_node = leader_index(client, "ORDERS");
      servers.stop(quorum_node);
      std::printf("after %zu: server n%d (the new leader) stopped too: 1 of 3 up, no quorum;\n"
                  "  it is started again %lld ms later\n", i, quorum_node,
                  static_cast<long long>(outage.count()));
    }
    const auto first_try = Clock::now();
    const auto deadline = first_try + 60s;
    std::size_t tries = 0;
    std::string error;
    for (;;) {
      if (quorum_node >= 0 && !servers.running(quorum_node) && Clock::now() - first_try >= outage) {
        servers.start(quorum_node);
        std::printf("server n%d started again: 2 of 3 up, a quorum\n", quorum_node);
      }
      try {
        const dist::Appended a =
            dist::append(client, "ORDERS", "orders.p0", l10::command_bytes(script.commands[i]),
                         "cmd-" + std::to_string(i), "replies.faults");
        seq_of[i] = a.sequence;
        duplicates += a.duplicate ? 1 : 0;
        break;
      } catch (const dist::NatsError& e) {  // no acknowledgement: the same id again
        if (Clock::now() > deadline) throw;
        error = natsStatus_GetText(e.status);
        if (e.js_error) error += " (JetStream error " + std::to_string(e.js_error) + ")";
        ++tries;
        std::this_thread::sleep_for(20ms);
      }
    }
    retries += tries;
    retried_commands += tries ? 1 : 0;
    const double waited = seconds_since(first_try);
    if (waited > longest_unacked) longest_unacked = waited;
    if (i == crash_at || (lose_quorum && i == quorum_lost_at))
      std::printf("  the next command acknowledged %.2f s after its first try (%zu retries with "
                  "its id);\n  leader now n%d; its last failed try: %s\n",
                  waited, tries, leader_index(client, "ORDERS"), error.c_str());
  }
  std::printf("published %zu commands in %.2f s; commands retried: %zu, retries in all: %zu,\n"
              "  acknowledged as duplicates (stored by a try whose ack was lost): %zu;\n"
              "  longest a publish went unacknowledged: %.2f s\n",
              n, seconds_since(t), retried_commands, retries, duplicates, longest_unacked);
  servers.start(leader);
  std::printf("server n%d started again on its store: it catches up from the leader\n", leader);
  const std::uint64_t last = dist::until_answered([&] { return dist::last_sequence(client, "ORDERS"); });
  bool in_order = true;
  for (std::size_t i = 0; i < n; ++i) in_order = in_order && seq_of[i] == i + 1;
  checks.expect(last == n && in_order,
                "the stream holds each command once, in publish order (last sequence " +
                    std::to_string(last) + ")");

  std::printf("\n2. the whole cluster restarted under a running engine\n");
  const auto snaps = dir / "p0";
  std::filesystem::create_directories(snaps);
  const l10::OrderLogCodec codec(script.config);
  const dist::LogEngineOptions options{"ORDERS", "orders.p0", snaps, snapshot_every, 64};
  Replies replies;
  std::uint64_t stopped_at = 0;
  {
    dist::NatsConnection engine_conn(servers.urls(), 300ms, 60s);
    auto first = dist::until_answered([&] {
      return std::make_unique<l10::OrderLogEngine>(engine_conn, codec,
                                                   l10::OrderLogOwner{cp::OrderCore(script.config)},
                                                   options);
    });
    poll_until(*first, last / 2 + 37);  // not on a snapshot boundary
    stopped_at = first->applied_through();
    replies.drain(inbox, 300ms);
    t = Clock::now();
    for (int i = 0; i < 3; ++i) servers.stop(i);
    std::printf("engine applied through sequence %llu (snapshots every %llu); all 3 servers "
                "stopped in %.2f s;\n  the engine dies in the outage without a last snapshot\n",
                static_cast<unsigned long long>(stopped_at),
                static_cast<unsigned long long>(snapshot_every), seconds_since(t));
  }
  t = Clock::now();
  for (int i = 0; i < 3; ++i) servers.start(i);
  std::printf("all 3 servers started again on their stores in %.2f s\n", seconds_since(t));
  t = Clock::now();
  dist::NatsConnection engine_conn(servers.urls(), 300ms, 60s);
  auto second = dist::until_answered([&] {
    return std::make_unique<l10::OrderLogEngine>(engine_conn, codec,
                                                 l10::OrderLogOwner{cp::OrderCore(script.config)},
                                                 options);
  });
  const std::uint64_t resumed = second->stats().resumed_after;
  std::printf("a new engine resumed after sequence %llu (its newest snapshot) %.2f s after the "
              "restart\n", static_cast<unsigned long long>(resumed), seconds_since(t));
  poll_until(*second, last);
  replies.drain(inbox, 300ms);
  std::printf("it applied %llu commands from the stream and caught up in %.2f s; %llu replies\n"
              "  re-sent; entries its consumer delivered again, dropped unapplied: %llu\n",
              static_cast<unsigned long long>(second->stats().applied), seconds_since(t),
              static_cast<unsigned long long>(replies.repeated),
              static_cast<unsigned long long>(second->stats().redelivered));
  const std::uint64_t hash = cp::state_hash(second->owner().core.state());
  std::size_t equal = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto at = replies.first.find(seq_of[i]);
    if (at != replies.first.end() && at->second == script.replies[i]) ++equal;
  }
  checks.expect(second->applied_through() == last, "the engine applied through the stream's end");
  checks.expect(second->stats().applied == last - resumed,
                "each command after the snapshot applied once (" +
                    std::to_string(second->stats().applied) + " = " + std::to_string(last) +
                    " - " + std::to_string(resumed) + ")");
  checks.expect(equal == n && replies.different == 0 && replies.undecodable == 0,
                "replies equal to the reference's: " + std::to_string(equal) + " of " +
                    std::to_string(n));
  char want[40];
  std::snprintf(want, sizeof want, "%016llx", static_cast<unsigned long long>(script.final_hash));
  checks.expect(hash == script.final_hash,
                std::string("final state hash equal to the reference's (") + want + ")");
}

// Part 3: two partitions on the stream PARTS (replicas 3); partition 1 is slow.
void slow_partition(dist::NatsServers& servers, const std::filesystem::path& dir, std::uint64_t seed,
                    std::size_t n, std::size_t slow_batch, Checks& checks) {
  constexpr std::uint32_t parts = 2;
  const auto script = cp::lessons::l05::make_order_script(seed, n);
  dist::NatsConnection client(servers.urls(), 300ms, 60s);
  dist::until_answered([&] { dist::create_log(client, dist::LogSpec{"PARTS", {"parts.>"}, 3}); });
  auto subject = [](std::uint32_t k) { return "parts.p" + std::to_string(k); };
  std::printf("\n3. a slow partition\n"
              "stream PARTS, replicas 3, 2 partitions; partition 1 applies at most %zu commands "
              "a round,\n  partition 0 all it has; a round publishes 60 commands\n",
              slow_batch);

  dist::NatsConnection engine_conn(servers.urls(), 300ms, 60s);
  std::vector<std::unique_ptr<l10::OrderLogEngine>> engines;
  for (std::uint32_t k = 0; k < parts; ++k) {
    const auto snaps = dir / ("parts-p" + std::to_string(k));
    std::filesystem::create_directories(snaps);
    const cp::OrderConfig config = l10::partition_config(script.config, k, parts);
    engines.push_back(dist::until_answered([&] {
      return std::make_unique<l10::OrderLogEngine>(
          engine_conn, l10::OrderLogCodec(config), l10::OrderLogOwner{cp::OrderCore(config)},
          dist::LogEngineOptions{"PARTS", subject(k), snaps, 0,
                                 k == 1 ? static_cast<int>(slow_batch) : 256});
    }));
  }

  l10::PartitionRouter router(parts);
  std::vector<std::uint64_t> last_of(parts, 0), published(parts, 0), applied(parts, 0);
  bool lag_matches = true, fast_kept_up = true;
  std::uint64_t max_lag = 0;
  const auto t = Clock::now();
  for (std::size_t i = 0; i < n;) {
    for (const std::size_t end = std::min(n, i + 60); i < end; ++i)
      for (const std::uint32_t k : router.route(script.commands[i])) {
        last_of[k] = dist::until_answered([&] {
                       return dist::append(client, "PARTS", subject(k),
                                           l10::command_bytes(script.commands[i]),
                                           "c-" + std::to_string(i) + "-" + std::to_string(k));
                     }).sequence;
        ++published[k];
      }
    poll_until(*engines[0], last_of[0], 30s);
    applied[1] += engines[1]->poll(1s);
    applied[0] = published[0];
    const std::uint64_t lag0 = dist::until_answered([&] { return engines[0]->lag(); });
    const std::uint64_t lag1 = dist::until_answered([&] { return engines[1]->lag(); });
    fast_kept_up = fast_kept_up && lag0 == 0 && engines[0]->applied_through() == last_of[0];
    lag_matches = lag_matches && lag1 == published[1] - applied[1];
    max_lag = std::max(max_lag, lag1);
    if (i % 240 == 0 || i == n)
      std::printf("  %4zu commands published: partition 0 lag %llu, partition 1 lag %llu "
                  "(consumer info)\n", i, static_cast<unsigned long long>(lag0),
                  static_cast<unsigned long long>(lag1));
  }
  const double publish_s = seconds_since(t);
  const auto catch_up = Clock::now();
  poll_until(*engines[1], last_of[1], 60s);
  std::printf("publishing done in %.2f s; partition 1 then caught up its %llu commands in %.2f s\n",
              publish_s, static_cast<unsigned long long>(max_lag), seconds_since(catch_up));

  l10::PartitionedReference reference(script.config, parts);
  for (const auto& cmd : script.commands) reference.apply(cmd);
  bool states_equal = true;
  for (std::uint32_t k = 0; k < parts; ++k)
    states_equal = states_equal && cp::state_hash(engines[k]->owner().core.state()) ==
                                       cp::state_hash(reference.partition(k).state());
  checks.expect(fast_kept_up, "partition 0 kept up (lag 0 after every round)");
  checks.expect(lag_matches && max_lag > 0,
                "partition 1's consumer info counted exactly what it owed, at most " +
                    std::to_string(max_lag));
  checks.expect(dist::until_answered([&] { return engines[1]->lag(); }) == 0 &&
                    engines[1]->applied_through() == last_of[1],
                "partition 1 caught up (lag 0)");
  checks.expect(states_equal, "both partitions' states equal the partitioned reference's");
}

}  // namespace

int main(int argc, char** argv) {
  long long seed = 42, commands = 1500, slow_commands = 1200, slow_batch = 8, snapshot_every = 200,
            outage_ms = 1000;
  bool lose_quorum = false;
  cp::lessons::Cli cli("l10_faults",
                       "on a 3-node JetStream cluster with a replicas-3 stream: a server stopped "
                       "while publishing, the whole cluster restarted under an engine, and a "
                       "slow partition's lag; each checked against the reference");
  cli.option("seed", seed, "seed of the order scripts", 0, 1LL << 62)
      .option("commands", commands, "commands in parts 1 and 2 (at least 10)", 10, 1'000'000)
      .option("slow-commands", slow_commands, "commands in part 3", 1, 1'000'000)
      .option("slow-batch", slow_batch, "commands the slow partition applies per round", 1, 1000)
      .option("snapshot-every", snapshot_every, "commands between the engine's snapshots", 1,
              10'000'000)
      .flag("lose-quorum", lose_quorum,
            "in part 1, also stop the new leader after two thirds (no quorum; adds ~10 s)")
      .option("outage-ms", outage_ms, "with --lose-quorum: how long before it is started again",
              0, 60'000);
  cli.parse(argc, argv);

  try {
    const auto started = Clock::now();
    cp::lessons::l05::TempDir dir("l10_faults_");
    std::filesystem::create_directories(dir.path() / "nats");
    dist::NatsServers servers({dir.path() / "nats", 3});
    std::printf("3 nats-servers, n0 n1 n2, on 127.0.0.1, client ports");
    for (int i = 0; i < 3; ++i) std::printf(" %s", servers.url(i).substr(17).c_str());
    std::printf("\n");
    Checks checks;
    server_stopped_and_cluster_restarted(servers, dir.path(), static_cast<std::uint64_t>(seed),
                                         static_cast<std::size_t>(commands),
                                         static_cast<std::uint64_t>(snapshot_every),
                                         lose_quorum, std::chrono::milliseconds(outage_ms),
                                         checks);
    slow_partition(servers, dir.path(), static_cast<std::uint64_t>(seed) + 1,
                   static_cast<std::size_t>(slow_commands), static_cast<std::size_t>(slow_batch),
                   checks);
    std::printf("\n%s (%.1f s)\n",
                checks.failed == 0 ? "OK: every check held"
                                   : (std::to_string(checks.failed) + " checks FAILED").c_str(),
                seconds_since(started));
    return checks.failed == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "l10_faults: %s\n", e.what());
    return 1;
  }
}
