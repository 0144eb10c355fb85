// l10_order_partition: one partition of the order engine as its own process. It is the single
// writer of the commands on one subject of a JetStream stream: it reads them in stream order,
// applies them to the sequential order engine, answers each on the reply subject the command
// names, and snapshots its state with the stream sequence it covers. Restarted (after a clean
// stop or a kill -9), it loads its newest snapshot and goes on after that sequence.
//
// SIGTERM or SIGINT: a last snapshot, then two lines of totals, then exit 0. The market's
// configuration is lesson 05's (the same seeded script drives both lessons), with
// --initial-cash if given. As partition k of P (--partition, --partitions) it holds the k-th
// share of every account's cash (partitions.hpp); give it --subject=orders.p<k>.
//
// Run: a NATS server with JetStream and a stream whose subjects include --subject, e.g.
//   l10_order_partition --urls=nats://127.0.0.1:4222 --subject=orders.p0 --snapshot-dir=p0
// (l10_kill_and_recover starts the server, the stream and this process for you.)
#include <csignal>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "lessons/05-single-writer-engine/crash_recovery.hpp"
#include "lessons/10-same-thing-at-scale/order_on_log.hpp"
#include "lessons/10-same-thing-at-scale/partitions.hpp"
#include "lessons/common/cli.hpp"

namespace {
volatile std::sig_atomic_t stop_requested = 0;
extern "C" void on_stop_signal(int) { stop_requested = 1; }
}  // namespace

int main(int argc, char** argv) {
  std::string urls, stream = "ORDERS", subject = "orders.p0", snapshot_dir;
  long long snapshot_every = 2000, batch = 256, partition = 0, partitions = 1, initial_cash = -1;
  cp::lessons::Cli cli("l10_order_partition",
                       "one order-engine partition as a process: the single writer of one "
                       "subject of a JetStream stream, with snapshots at stream sequences");
  cli.text("urls", urls, "NATS servers, comma-separated (required)")
      .text("stream", stream, "the JetStream stream (default ORDERS)")
      .text("subject", subject, "the partition's subject (default orders.p0)")
      .text("snapshot-dir", snapshot_dir, "where snapshots go, created if missing (required)")
      .option("snapshot-every", snapshot_every, "commands between snapshots", 1, 100'000'000)
      .option("batch", batch, "commands per fetch from the stream", 1, 10'000)
      .option("partition", partition, "this partition's index k (default 0)", 0, 15)
      .option("partitions", partitions, "how many partitions P share each account's cash", 1, 16)
      .option("initial-cash", initial_cash, "every account's whole cash (default lesson 05's)", 0,
              1'000'000'000'000'000);
  cli.parse(argc, argv);
  if (urls.empty() || snapshot_dir.empty()) {
    std::fprintf(stderr, "l10_order_partition: --urls and --snapshot-dir are required (see --help)\n");
    return 2;
  }
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);

  try {
    std::filesystem::create_directories(snapshot_dir);
    cp::OrderConfig whole = cp::lessons::l05::make_order_script(0, 0).config;
    if (initial_cash >= 0) whole.initial_cash = initial_cash;
    if (partition >= partitions) throw std::invalid_argument("--partition must be below --partitions");
    const cp::OrderConfig config = cp::lessons::l10::partition_config(
        whole, static_cast<std::uint32_t>(partition), static_cast<std::uint32_t>(partitions));
    cp::dist::NatsConnection conn(urls);
    namespace l10 = cp::lessons::l10;
    // Its consumer is created on the stream's leader; a cluster busy electing one, or a loaded
    // machine, can leave that request unanswered for a while: retried, bounded.
    std::unique_ptr<l10::OrderLogEngine> made;
    for (const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30); !made;) {
      try {
        made = std::make_unique<l10::OrderLogEngine>(
            conn, l10::OrderLogCodec(config), l10::OrderLogOwner{cp::OrderCore(config)},
            cp::dist::LogEngineOptions{stream, subject, snapshot_dir,
                                       static_cast<std::uint64_t>(snapshot_every),
                                       static_cast<int>(batch)});
      } catch (const cp::dist::NatsError& e) {
        if (std::chrono::steady_clock::now() > give_up) throw;
        std::fprintf(stderr, "l10_order_partition: %s; retrying\n", e.what());
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
    l10::OrderLogEngine& engine = *made;
    std::printf("started: resumed after sequence %llu\n",
                static_cast<unsigned long long>(engine.stats().resumed_after));
    std::fflush(stdout);
    while (!stop_requested) engine.poll(std::chrono::milliseconds(100));
    engine.snapshot();
    const auto& s = engine.stats();
    std::printf("stopped: applied_through=%llu state_hash=%016llx\n"
                "totals: applied=%llu malformed=%llu resumed_after=%llu snapshots=%llu\n",
                static_cast<unsigned long long>(engine.applied_through()),
                static_cast<unsigned long long>(cp::state_hash(engine.owner().core.state())),
                static_cast<unsigned long long>(s.applied),
                static_cast<unsigned long long>(s.malformed),
                static_cast<unsigned long long>(s.resumed_after),
                static_cast<unsigned long long>(s.snapshots));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "l10_order_partition: %s\n", e.what());
    return 1;
  }
}
