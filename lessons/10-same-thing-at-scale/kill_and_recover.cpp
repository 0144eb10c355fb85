// l10_kill_and_recover: the order engine as a separate process fed by a JetStream stream,
// killed with SIGKILL in the middle of the stream and started again: it recovers from its
// snapshot plus the stream after the snapshot's sequence, and ends with the state and the
// replies of the sequential reference applied to the same commands in stream order.
//
// What it does, all on 127.0.0.1 in a temporary folder that it removes at the end:
//   1. starts a nats-server with JetStream and creates the stream ORDERS (orders.>);
//   2. publishes lesson 05's seeded order script to orders.p0, each command with a message id
//      and the subject its reply goes to;
//   3. starts l10_order_partition (beside this program), reads its replies, and kills it with
//      SIGKILL once --kill-after commands have been answered;
//   4. starts it again, reads the rest of the replies, stops it with SIGTERM, and compares.
// Exit code 0 if every reply and the final state hash equal the reference's, 1 if not.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
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

// Replies: the first answer for each stream sequence; later ones (re-sent after a restart)
// are counted and must be equal.
struct Replies {
  std::map<std::uint64_t, cp::OrderReply> first;
  std::uint64_t repeated = 0, repeated_differently = 0, undecodable = 0;

  void take(const std::string& bytes) {
    cp::sw::ByteReader r(cp::sw::ByteView(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()));
    const std::uint64_t seq = r.u64();
    const auto status = static_cast<dist::LogReplyStatus>(r.u8());
    const auto reply = l10::decode_order_reply(r);
    if (status != dist::LogReplyStatus::applied || !reply || !r.done()) {
      ++undecodable;
      return;
    }
    const auto [at, inserted] = first.emplace(seq, *reply);
    if (!inserted) {
      ++repeated;
      if (!(at->second == *reply)) ++repeated_differently;
    }
  }
};

// read_until: replies until `count` distinct sequences are answered, or `patience` passes
// with nothing new.
bool read_until(dist::Subscription& inbox, Replies& replies, std::size_t count,
                std::chrono::milliseconds patience) {
  while (replies.first.size() < count) {
    auto bytes = inbox.next(patience);
    if (!bytes) return false;
    replies.take(*bytes);
  }
  return true;
}

// last_lines: the last `n` non-empty lines of a file, each indented, joined by newlines.
std::string last_lines(const std::filesystem::path& file, std::size_t n) {
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  std::string out;
  for (std::size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    out += (out.empty() ? "  " : "\n  ") + lines[i];
  return out;
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  long long seed = 42, commands = 20'000, kill_after = 12'000, snapshot_every = 2'000;
  cp::lessons::Cli cli("l10_kill_and_recover",
                       "kill -9 an order-engine process fed by a JetStream stream, restart it, "
                       "and compare its replies and state with the sequential reference");
  cli.option("seed", seed, "seed of the order script", 0, 1LL << 62)
      .option("commands", commands, "commands in the stream", 1, 10'000'000)
      .option("kill-after", kill_after, "answered commands before the SIGKILL (clamped)", 0, 10'000'000)
      .option("snapshot-every", snapshot_every, "commands between the engine's snapshots", 1,
              10'000'000);
  cli.parse(argc, argv);
  if (kill_after > commands) kill_after = commands;
  const auto n = static_cast<std::size_t>(commands);

  try {
    const auto script = cp::lessons::l05::make_order_script(static_cast<std::uint64_t>(seed), n);
    cp::lessons::l05::TempDir dir("l10_kill_and_recover_");
    std::filesystem::create_directories(dir.path() / "nats");
    dist::NatsServers servers({dir.path() / "nats", 1});
    dist::NatsConnection client(servers.urls());
    dist::create_log(client, dist::LogSpec{"ORDERS", {"orders.>"}, 1});
    dist::Subscription inbox(client, "replies.demo");
    std::printf("nats-server on %s, stream ORDERS; order script: seed %lld, %zu commands\n",
                servers.url(0).c_str(), seed, n);

    auto t = Clock::now();
    std::vector<std::uint64_t> seq_of(n);
    for (std::size_t i = 0; i < n; ++i)
      seq_of[i] = dist::append(client, "ORDERS", "orders.p0", l10::command_bytes(script.commands[i]),
                               "cmd-" + std::to_string(i), "replies.demo")
                      .sequence;
    std::printf("published %zu commands, each acknowledged by the stream, in %.2f s\n", n,
                seconds_since(t));

    const std::string engine =
        (std::filesystem::canonical("/proc/self/exe").parent_path() / "l10_order_partition").string();
    const std::vector<std::string> args{engine, "--urls=" + servers.urls(),
                                        "--snapshot-dir=" + (dir.path() / "p0").string(),
                                        "--snapshot-every=" + std::to_string(snapshot_every)};
    const auto log = dir.path() / "engine.log";
    Replies replies;

    t = Clock::now();
    {
      dist::ChildProcess first(args, log.string());
      if (!read_until(inbox, replies, static_cast<std::size_t>(kill_after), std::chrono::seconds(30))) {
        std::printf("the engine stopped answering before the kill:\n%s\n", last_lines(log, 2).c_str());
        return 1;
      }
      first.kill();
    }
    const std::size_t answered_at_kill = replies.first.size();
    std::printf("engine process killed with SIGKILL after %zu answered commands (%.2f s)\n",
                answered_at_kill, seconds_since(t));

    t = Clock::now();
    dist::ChildProcess second(args, log.string());
    const bool all = read_until(inbox, replies, n, std::chrono::seconds(30));
    const double rest_s = seconds_since(t);
    second.stop();
    const std::string totals = last_lines(log, 2);
    std::printf("engine process restarted, then stopped with SIGTERM; its last lines:\n%s\n",
                totals.c_str());
    std::printf("the rest answered in %.2f s; %llu replies re-sent for commands applied\n"
                "  again after the snapshot (%llu of them different)\n",
                rest_s, static_cast<unsigned long long>(replies.repeated),
                static_cast<unsigned long long>(replies.repeated_differently));

    std::size_t equal = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto at = replies.first.find(seq_of[i]);
      if (at != replies.first.end() && at->second == script.replies[i]) ++equal;
    }
    char want[32];
    std::snprintf(want, sizeof want, "state_hash=%016llx",
                  static_cast<unsigned long long>(script.final_hash));
    const bool hash_ok = totals.find(want) != std::string::npos;
    std::printf("\nreplies equal to the reference's: %zu of %zu\n", equal, n);
    std::printf("final state hash equal to the reference's (%s): %s\n", want + 11,
                hash_ok ? "yes" : "NO");
    const bool ok = all && equal == n && hash_ok && replies.repeated_differently == 0 &&
                    replies.undecodable == 0;
    std::printf("%s\n", ok ? "OK: nothing skipped, nothing applied twice"
                           : "MISMATCH: see the lines above");
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "l10_kill_and_recover: %s\n", e.what());
    return 1;
  }
}
