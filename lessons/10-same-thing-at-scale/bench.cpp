// l10_bench: what the log costs, beside the in-process engine in the same run (a benchmark:
// figures, no assertion beyond "the replayed state equals the reference's").
//
// For replicas 1 (one server) and replicas 3 (a 3-node cluster), each repeated --repeats
// times on a fresh stream:
//   publish  - one publisher appends the order script, each command waiting for the stream's
//              acknowledgement (closed loop): acknowledged commands/s, and p50/p99 of one
//              append (publish to acknowledgement) from a log-linear histogram;
//   replay   - a fresh engine (no snapshot) reads the whole stream from sequence 1 and applies
//              it: commands/s replayed and the recovery time per 100,000 commands; its lag
//              (consumer info) starts at the whole stream: a burst of --commands;
//   live     - a publisher thread appends --burst commands while the engine consumes them as
//              they come: the largest lag the engine's consumer info showed.
// In process: the sequential reference applying the same commands, untimed per command.
// Medians over the repeats, with min-max. Publish to reply at 1, 2 and 4 partitions is
// l10_partitions' figure (partitions.md).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/harness/histogram.hpp"
#include "lessons/05-single-writer-engine/crash_recovery.hpp"
#include "lessons/10-same-thing-at-scale/order_on_log.hpp"
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

// Spread: median (min-max) of one figure over the repeats.
std::string spread(std::vector<double> v, const char* fmt) {
  std::sort(v.begin(), v.end());
  char buf[96];
  const double median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  std::string f = std::string(fmt) + " (" + fmt + "-" + fmt + ")";
  std::snprintf(buf, sizeof buf, f.c_str(), median, v.front(), v.back());
  return buf;
}

struct Repeat {
  double publish_per_s = 0, ack_p50_ms = 0, ack_p99_ms = 0;
  double replay_per_s = 0, live_max_lag = 0;
  bool state_ok = false;
};

Repeat one_repeat(const dist::NatsServers& servers, const cp::lessons::l05::OrderScript& script,
                  int replicas, int r, std::size_t burst, const std::filesystem::path& dir) {
  Repeat out;
  const std::size_t n = script.commands.size();
  const std::string stream = "B" + std::to_string(r);
  const std::string subject = "b" + std::to_string(r) + ".p0";
  dist::NatsConnection client(servers.urls(), 500ms, 60s);
  dist::until_answered([&] { dist::create_log(client, dist::LogSpec{stream, {subject}, replicas}); });

  // publish: closed loop, one append at a time, each timed.
  cp::bench::LatencyHistogram acks;
  const auto t = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    dist::until_answered([&] {
      return dist::append(client, stream, subject, l10::command_bytes(script.commands[i]),
                          "c-" + std::to_string(i));
    });
    acks.record(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count()));
  }
  out.publish_per_s = static_cast<double>(n) / seconds_since(t);
  out.ack_p50_ms = static_cast<double>(acks.value_at_percentile(50)) / 1e6;
  out.ack_p99_ms = static_cast<double>(acks.value_at_percentile(99)) / 1e6;

  // replay: the whole stream into a fresh engine, as a recovery with no snapshot does.
  const auto snaps = dir / ("snap-" + std::to_string(replicas) + "-" + std::to_string(r));
  std::filesystem::create_directories(snaps);
  dist::NatsConnection engine_conn(servers.urls(), 500ms, 60s);
  const l10::OrderLogCodec codec(script.config);
  const auto replay_start = Clock::now();
  auto engine = dist::until_answered([&] {
    return std::make_unique<l10::OrderLogEngine>(
        engine_conn, codec, l10::OrderLogOwner{cp::OrderCore(script.config)},
        dist::LogEngineOptions{stream, subject, snaps, 0, 256});
  });
  const auto deadline = Clock::now() + 120s;
  while (engine->applied_through() < n && Clock::now() < deadline) engine->poll(100ms);
  out.replay_per_s = static_cast<double>(n) / seconds_since(replay_start);
  out.state_ok = engine->applied_through() == n &&
                 cp::state_hash(engine->owner().core.state()) == script.final_hash;

  // live: `burst` more commands (queries: they change no state) from a publisher thread while
  // the engine consumes them; the engine's thread samples its lag after every poll.
  std::atomic<bool> done{false};  // seq_cst: read by the engine loop after the publisher's last append
  std::thread publisher([&] {
    dist::NatsConnection pub(servers.urls(), 500ms, 60s);
    const cp::OrderCommand query = cp::QueryCmd{0};
    for (std::size_t i = 0; i < burst; ++i)
      dist::until_answered([&] {
        return dist::append(pub, stream, subject, l10::command_bytes(query), "q-" + std::to_string(i));
      });
    done = true;
  });
  std::uint64_t max_lag = 0;
  const auto live_deadline = Clock::now() + 120s;
  while ((!done || engine->applied_through() < n + burst) && Clock::now() < live_deadline) {
    engine->poll(20ms);
    max_lag = std::max<std::uint64_t>(max_lag, dist::until_answered([&] { return engine->lag(); }));
  }
  publisher.join();
  out.live_max_lag = static_cast<double>(max_lag);
  out.state_ok = out.state_ok && engine->applied_through() == n + burst;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  long long seed = 42, commands = 5000, repeats = 3, burst = 2000;
  cp::lessons::Cli cli("l10_bench",
                       "the log's costs beside the in-process engine: publish to acknowledgement, "
                       "replay (recovery) per 100,000 commands, lag under a burst; replicas 1 and 3");
  cli.option("seed", seed, "seed of the order script", 0, 1LL << 62)
      .option("commands", commands, "commands published and replayed per repeat", 1, 10'000'000)
      .option("repeats", repeats, "repeats per replication setting", 1, 100)
      .option("burst", burst, "commands published while the engine consumes (live lag)", 1,
              10'000'000);
  cli.parse(argc, argv);

  try {
    {
      std::ifstream load("/proc/loadavg");
      std::string a, b, c;
      load >> a >> b >> c;
      std::printf("load average %s %s %s (1, 5, 15 min)\n", a.c_str(), b.c_str(), c.c_str());
    }
    const auto script = cp::lessons::l05::make_order_script(static_cast<std::uint64_t>(seed),
                                                            static_cast<std::size_t>(commands));
    std::vector<double> in_process;
    for (long long r = 0; r < repeats; ++r) {
      cp::OrderCore core(script.config);
      const auto t = Clock::now();
      for (const auto& cmd : script.commands) cp::apply_order_command(core, cmd);
      in_process.push_back(static_cast<double>(script.commands.size()) / seconds_since(t));
      if (cp::state_hash(core.state()) != script.final_hash) throw std::runtime_error("reference?");
    }
    std::printf("order script: seed %lld, %lld commands; %lld repeats, medians (min-max)\n", seed,
                commands, repeats);
    std::printf("in process, the sequential reference: %s commands/s\n",
                spread(in_process, "%.0f").c_str());
    bool all_ok = true;
    for (const int replicas : {1, 3}) {
      cp::lessons::l05::TempDir dir("l10_bench_");
      std::filesystem::create_directories(dir.path() / "nats");
      dist::NatsServers servers({dir.path() / "nats", replicas});
      std::vector<double> pub, p50, p99, replay, per100k, lag;
      for (long long r = 0; r < repeats; ++r) {
        const Repeat x = one_repeat(servers, script, replicas, static_cast<int>(r),
                                    static_cast<std::size_t>(burst), dir.path());
        all_ok = all_ok && x.state_ok;
        pub.push_back(x.publish_per_s);
        p50.push_back(x.ack_p50_ms);
        p99.push_back(x.ack_p99_ms);
        replay.push_back(x.replay_per_s);
        per100k.push_back(100'000.0 / x.replay_per_s);
        lag.push_back(x.live_max_lag);
      }
      std::printf("replicas %d (%d server%s):\n", replicas, replicas, replicas > 1 ? "s" : "");
      std::printf("  publish to acknowledgement: %s commands/s\n", spread(pub, "%.0f").c_str());
      std::printf("    one append: p50 %s ms, p99 %s ms\n", spread(p50, "%.2f").c_str(),
                  spread(p99, "%.1f").c_str());
      std::printf("  replay from sequence 1: %s commands/s,\n    %s s per 100,000 commands\n",
                  spread(replay, "%.0f").c_str(), spread(per100k, "%.2f").c_str());
      std::printf("  live: %lld commands published while consumed, largest lag %s\n", burst,
                  spread(lag, "%.0f").c_str());
    }
    std::printf("%s\n", all_ok ? "replayed states equal the reference's: yes"
                               : "replayed states equal the reference's: NO");
    return all_ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "l10_bench: %s\n", e.what());
    return 1;
  }
}
