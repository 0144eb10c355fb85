// l10_partitions: the order engine sharded by symbol, one engine process per partition, fed by
// one JetStream stream. For each partition count P it:
//   1. starts a nats-server (or a 3-node cluster with --nodes=3, stream replicas 3) and the
//      stream ORDERS (orders.>), and P processes of l10_order_partition, partition k reading
//      orders.p<k> and holding the k-th share of every account's cash;
//   2. routes lesson 05's seeded order script (partitions.hpp: a place to its symbol's
//      partition, a cancel to its order's, a query to every one) and publishes it from P
//      threads, one per partition, each waiting for the stream's acknowledgement of every
//      command before the next (a partition's commands keep their order);
//   3. reads every reply, stops the engines with SIGTERM, loads their last snapshots, and
//      compares: every reply and every partition's state with the partitioned reference, and
//      the merged market with one sequential engine over the whole market.
// It prints commands/s from the first publish to the last reply and p50/p99 from a command's
// publish to its reply, beside the sequential reference's commands/s in the same run. A figure
// from a loaded 2-core machine: the load average is printed first.
// Exit code 0 if every reply and state equal the partitioned reference's, 1 if not.
#include "lessons/10-same-thing-at-scale/partitions.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "lessons/05-single-writer-engine/crash_recovery.hpp"
#include "lessons/10-same-thing-at-scale/order_on_log.hpp"
#include "lessons/common/cli.hpp"
#include "patterns/distributed/child_process.hpp"
#include "patterns/distributed/nats_servers.hpp"

namespace dist = cp::dist;
namespace l10 = cp::lessons::l10;
using Clock = std::chrono::steady_clock;

namespace {

// libnats's library-wide threads, released at exit (closing a library never opened crashes).
struct NatsLibraryForThisProcess {
  NatsLibraryForThisProcess() { nats_Open(-1); }
  ~NatsLibraryForThisProcess() { nats_CloseAndWait(2000); }
};

struct Outgoing {  // one message of one partition's share of the script
  std::size_t command = 0;
  std::string bytes;
};
struct Sent {  // what its publisher saw
  std::uint64_t sequence = 0;
  Clock::time_point at;
};
struct Arrived {
  std::string bytes;
  Clock::time_point at;
};

bool wait_for_line(const std::filesystem::path& log, const std::string& text,
                   std::chrono::seconds patience) {
  const auto deadline = Clock::now() + patience;
  while (Clock::now() < deadline) {
    std::ifstream in(log);
    for (std::string line; std::getline(in, line);)
      if (line.find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// run: one partition count, end to end. Prints one block; returns whether it all matched.
bool run(const cp::lessons::l05::OrderScript& script, const cp::OrderConfig& whole,
         std::uint32_t parts, int nodes, long long snapshot_every, const std::string& engine_exe) {
  const std::size_t n = script.commands.size();
  cp::lessons::l05::TempDir dir("l10_partitions_");
  std::filesystem::create_directories(dir.path() / "nats");
  dist::NatsServers servers({dir.path() / "nats", nodes});
  dist::NatsConnection admin(servers.urls(), std::chrono::milliseconds(500));
  // A new cluster elects its JetStream meta leader after the nodes meet; until then stream
  // creation fails, so it is retried (bounded).
  for (const auto ready_by = Clock::now() + std::chrono::seconds(30);;) {
    try {
      dist::create_log(admin, dist::LogSpec{"ORDERS", {"orders.>"}, nodes});
      break;
    } catch (const dist::NatsError&) {
      if (Clock::now() > ready_by) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // The route and the partitioned reference's answer to each message.
  l10::PartitionRouter router(parts);
  l10::PartitionedReference reference(whole, parts);
  std::vector<std::vector<Outgoing>> out(parts);
  std::map<std::pair<std::size_t, std::uint32_t>, cp::OrderReply> expected;
  for (std::size_t i = 0; i < n; ++i) {
    const std::string bytes = l10::command_bytes(script.commands[i]);
    for (const std::uint32_t k : router.route(script.commands[i])) out[k].push_back({i, bytes});
    std::vector<std::pair<std::uint32_t, cp::OrderReply>> each;
    reference.apply(script.commands[i], &each);
    for (auto& [k, r] : each) expected.emplace(std::pair{i, k}, r);
  }
  std::size_t messages = 0;
  for (const auto& o : out) messages += o.size();

  std::vector<dist::ChildProcess> engines;
  for (std::uint32_t k = 0; k < parts; ++k) {
    const auto log = dir.path() / ("p" + std::to_string(k) + ".log");
    engines.emplace_back(
        std::vector<std::string>{
            engine_exe, "--urls=" + servers.urls(), "--subject=" + l10::partition_subject(k),
            "--snapshot-dir=" + (dir.path() / ("p" + std::to_string(k))).string(),
            "--snapshot-every=" + std::to_string(snapshot_every),
            "--partition=" + std::to_string(k), "--partitions=" + std::to_string(parts),
            "--initial-cash=" + std::to_string(whole.initial_cash)},
        log.string());
    if (!wait_for_line(log, "started:", std::chrono::seconds(40))) {
      std::ifstream in(log);
      std::string line, last;
      while (std::getline(in, line)) last = line.empty() ? last : line;
      std::printf("partition %u did not start: %s\n", k, last.c_str());
      return false;
    }
  }

  // One reader of every reply, P publishers; each thread owns its connection and its results.
  // An error in a thread is kept as text (index 0: the reader, k + 1: publisher k).
  std::vector<std::string> errors(parts + 1);
  std::vector<Arrived> arrived;
  std::promise<void> subscribed;
  std::thread reader([&] {
    try {
      dist::NatsConnection c(servers.urls());
      dist::Subscription inbox(c, "replies.partitions");
      dist::flush(c);  // the server has the subscription before the first publish
      subscribed.set_value();
      arrived.reserve(messages);
      while (arrived.size() < messages) {
        auto bytes = inbox.next(std::chrono::seconds(20));
        if (!bytes) break;
        arrived.push_back({std::move(*bytes), Clock::now()});
      }
    } catch (const std::exception& e) {
      errors[0] = e.what();
      try {
        subscribed.set_value();
      } catch (const std::future_error&) {  // already set
      }
    }
  });
  subscribed.get_future().wait();
  const auto start = Clock::now();
  std::vector<std::vector<Sent>> sent(parts);
  std::vector<std::thread> publishers;
  for (std::uint32_t k = 0; k < parts; ++k)
    publishers.emplace_back([&, k] {
      try {
        dist::NatsConnection c(servers.urls());
        sent[k].reserve(out[k].size());
        for (const Outgoing& m : out[k]) {
          const auto t = Clock::now();
          const auto a = dist::append(c, "ORDERS", l10::partition_subject(k), m.bytes,
                                      "c-" + std::to_string(m.command) + "-" + std::to_string(k),
                                      "replies.partitions");
          sent[k].push_back({a.sequence, t});
        }
      } catch (const std::exception& e) {
        errors[k + 1] = e.what();
      }
    });
  for (auto& t : publishers) t.join();
  reader.join();
  for (const auto& e : errors)
    if (!e.empty()) {
      std::printf("P=%u: %s\n", parts, e.c_str());
      return false;
    }
  for (auto& e : engines) e.stop();  // SIGTERM: each writes its last snapshot

  // Compare, and measure.
  std::map<std::uint64_t, std::pair<std::uint32_t, std::size_t>> by_seq;  // seq -> (k, index)
  for (std::uint32_t k = 0; k < parts; ++k)
    for (std::size_t j = 0; j < sent[k].size(); ++j) by_seq[sent[k][j].sequence] = {k, j};
  std::size_t equal = 0;
  std::vector<double> latency_us;
  Clock::time_point last = start;
  std::map<std::uint64_t, bool> seen;
  for (const Arrived& a : arrived) {
    cp::sw::ByteReader r(
        cp::sw::ByteView(reinterpret_cast<const std::byte*>(a.bytes.data()), a.bytes.size()));
    const std::uint64_t seq = r.u64();
    const auto status = static_cast<dist::LogReplyStatus>(r.u8());
    const auto reply = l10::decode_order_reply(r);
    const auto at = by_seq.find(seq);
    if (at == by_seq.end() || !seen.emplace(seq, true).second) continue;
    const auto [k, j] = at->second;
    latency_us.push_back(std::chrono::duration<double, std::micro>(a.at - sent[k][j].at).count());
    last = std::max(last, a.at);
    if (status == dist::LogReplyStatus::applied && reply &&
        *reply == expected.at({out[k][j].command, k}))
      ++equal;
  }
  std::vector<cp::OrderState> states;
  bool states_ok = true;
  for (std::uint32_t k = 0; k < parts; ++k) {
    const l10::OrderLogCodec codec(l10::partition_config(whole, k, parts));
    const auto latest = cp::sw::read_latest_snapshot(dir.path() / ("p" + std::to_string(k)));
    const auto owner =
        latest.snapshot ? codec.snapshot_decode(latest.snapshot->bytes) : std::nullopt;
    if (!owner) {
      std::printf("partition %u left no readable snapshot\n", k);
      return false;
    }
    states.push_back(owner->core.state());
    states_ok = states_ok &&
                cp::state_hash(states.back()) == cp::state_hash(reference.partition(k).state());
  }
  cp::OrderReference single(whole);
  std::size_t differ = 0;
  std::string first;
  l10::PartitionedReference again(whole, parts);
  for (std::size_t i = 0; i < n; ++i) {
    const cp::OrderReply p = again.apply(script.commands[i]);
    const cp::OrderReply w = cp::apply_order_command(single, script.commands[i]);
    if (p == w) continue;
    if (differ++ == 0) {
      const auto* place = std::get_if<cp::PlaceCmd>(&script.commands[i]);
      const auto* pr = std::get_if<cp::PlaceReply>(&p);
      const auto* wr = std::get_if<cp::PlaceReply>(&w);
      first = "command " + std::to_string(i) +
              (place && place->side == cp::Side::buy && pr && wr &&
                       pr->reject == cp::Reject::insufficient_cash && wr->reject == cp::Reject::none
                   ? ", a buy short of cash in its partition only"
                   : ", not a buy short of cash (unexpected)");
    }
  }
  const bool merged_equal =
      cp::state_hash(l10::merge_states(whole, states)) == cp::state_hash(single.state());

  const double seconds = std::chrono::duration<double>(last - start).count();
  std::printf(
      "P=%u  %zu commands (%zu messages): %.0f commands/s; publish to reply p50 %.1f ms, "
      "p99 %.1f ms\n",
      parts, n, messages, seconds > 0 ? static_cast<double>(n) / seconds : 0.0,
      percentile(latency_us, 0.50) / 1000, percentile(latency_us, 0.99) / 1000);
  std::printf(
      "     replies equal to the partitioned reference's: %zu of %zu; partition states "
      "equal: %s\n",
      equal, messages, states_ok ? "yes" : "NO");
  std::printf(
      "     against one engine over the whole market: %zu replies differ, merged state "
      "equal: %s\n",
      differ, merged_equal ? "yes" : "no");
  if (differ) std::printf("     the first that differs: %s\n", first.c_str());
  return equal == messages && states_ok;
}

}  // namespace

int main(int argc, char** argv) {
  long long seed = 42, commands = 20'000, nodes = 1, snapshot_every = 2'000;
  long long initial_cash = 1'000'000'000'000;
  std::string partitions = "1,2,4";
  cp::lessons::Cli cli("l10_partitions",
                       "the order engine sharded by symbol, one process per partition on one "
                       "JetStream stream, compared with the references and measured");
  cli.option("seed", seed, "seed of the order script", 0, 1LL << 62)
      .option("commands", commands, "commands in the script", 1, 10'000'000)
      .text("partitions", partitions, "partition counts to run, comma-separated (default 1,2,4)")
      .option("nodes", nodes, "NATS servers: 1, or 3 with stream replicas 3", 1, 3)
      .option("initial-cash", initial_cash,
              "every account's whole cash (default ample: no share runs short)", 0,
              1'000'000'000'000'000)
      .option("snapshot-every", snapshot_every, "commands between each engine's snapshots", 1,
              10'000'000);
  cli.parse(argc, argv);
  if (nodes == 2) nodes = 3;

  try {
    NatsLibraryForThisProcess nats_library;
    const auto script = cp::lessons::l05::make_order_script(static_cast<std::uint64_t>(seed),
                                                            static_cast<std::size_t>(commands));
    cp::OrderConfig whole = script.config;
    whole.initial_cash = initial_cash;
    {
      std::ifstream load("/proc/loadavg");
      std::string one, five;
      load >> one >> five;
      std::printf("load average %s (1 min) %s (5 min), %d server(s)\n", one.c_str(), five.c_str(),
                  static_cast<int>(nodes));
      std::printf("order script: seed %lld, %lld commands, cash %lld per account\n", seed, commands,
                  initial_cash);
    }
    cp::OrderReference timed(whole);
    const auto t = Clock::now();
    for (const auto& cmd : script.commands) cp::apply_order_command(timed, cmd);
    const double ref_s = std::chrono::duration<double>(Clock::now() - t).count();
    std::printf("in process, the sequential reference: %.0f commands/s\n",
                ref_s > 0 ? static_cast<double>(commands) / ref_s : 0.0);

    const std::string engine =
        (std::filesystem::canonical("/proc/self/exe").parent_path() / "l10_order_partition")
            .string();
    bool ok = true;
    for (std::size_t at = 0; at <= partitions.size();) {
      const std::size_t comma = std::min(partitions.find(',', at), partitions.size());
      const int p = std::stoi(partitions.substr(at, comma - at));
      at = comma + 1;
      if (p < 1 || p > 16) throw std::invalid_argument("a partition count is 1..16");
      ok = run(script, whole, static_cast<std::uint32_t>(p), static_cast<int>(nodes),
               snapshot_every, engine) &&
           ok;
    }
    std::printf("%s\n", ok ? "OK: every partition answered and ended as the partitioned reference"
                           : "MISMATCH: see the lines above");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "l10_partitions: %s\n", e.what());
    return 1;
  }
}
