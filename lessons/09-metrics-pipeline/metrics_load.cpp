// metrics_load: the load generator of lesson 09. Sends N seeded StatsD points at a fixed rate
// (open loop: point i is due at start + i / rate, whether or not the receiver keeps up) with
// malformed lines and poisoned points mixed in, and knows what the receiver must end with.
//
//   --target=udp     datagrams to metricsd on 127.0.0.1:--port (--batch lines per datagram)
//   --target=stdout  lines on stdout, for `metrics_load ... | metricsd --stdin`
//   --target=inproc  straight into a Pipeline in this process (--producers threads), then
//                    compares its totals with the sequential computation (all but the
//                    gauges' values, which depend on the order of updates) and prints the
//                    send-to-counted latency; exit 1 if they differ while nothing was dropped
// --expect=FILE writes the sequential computation (totals in metricsd's dump format).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "lessons/09-metrics-pipeline/net.hpp"
#include "lessons/09-metrics-pipeline/pacer.hpp"
#include "lessons/09-metrics-pipeline/pipeline.hpp"
#include "lessons/09-metrics-pipeline/store_owner.hpp"
#include "lessons/09-metrics-pipeline/store_rwlock.hpp"
#include "lessons/09-metrics-pipeline/stream_gen.hpp"
#include "lessons/09-metrics-pipeline/window_text.hpp"
#include "lessons/common/cli.hpp"

using namespace cp::metrics;
using Steady = std::chrono::steady_clock;

namespace {

struct Options {
  long long points = 10000, rate = 10000, seed = 20261202, port = 8125, batch = 1;
  long long malformed_pct = 10, poison_pct = 2, producers = 2, validators = 2, aggregators = 2;
  long long queue = 8192;
  std::string target = "udp", host = "test", poison_prefix = "poison.", expect, store = "rwlock";
  std::string policy = "block";
};

[[noreturn]] void usage_error(const std::string& why) {
  std::fprintf(stderr, "metrics_load: %s (try --help)\n", why.c_str());
  std::exit(2);
}

StreamConfig stream_config(const Options& o, unsigned stream) {
  StreamConfig sc;
  sc.seed = stream == 0 ? static_cast<std::uint64_t>(o.seed)
                        : cp::derive_seed(static_cast<std::uint64_t>(o.seed), stream);
  sc.malformed_pct = static_cast<unsigned>(o.malformed_pct);
  sc.poisoned_pct = static_cast<unsigned>(o.poison_pct);
  sc.poison_prefix = o.poison_prefix;
  sc.host = o.host;
  sc.now_ms = SystemClock().now_ms();
  return sc;
}

void write_expect(const Options& o, const Expected& e) {
  if (o.expect.empty()) return;
  std::ofstream out(o.expect);
  out << format_window(e.totals);
  if (!out) usage_error("cannot write " + o.expect);
}

int send_lines(const Options& o) {
  StreamGen gen(stream_config(o, 0));
  Expected expected;
  net::Socket sock;
  if (o.target == "udp") sock = net::udp_sender();
  const Pacer pacer(static_cast<double>(o.rate), Steady::now());
  const auto start = Steady::now();
  auto last_report = start;
  std::string datagram;
  std::uint64_t send_failures = 0;
  for (long long i = 0; i < o.points; ++i) {
    pacer.wait(static_cast<std::uint64_t>(i));
    const GenLine g = gen.next();
    expected.add(g);
    datagram += g.text + "\n";
    if ((i + 1) % o.batch == 0 || i + 1 == o.points) {
      if (o.target == "udp") {
        if (!net::send_to_local(sock, static_cast<std::uint16_t>(o.port), datagram)) ++send_failures;
      } else if (!net::write_all(1, datagram)) {
        std::fprintf(stderr, "metrics_load: stdout closed\n");
        return 1;
      }
      datagram.clear();
    }
    if (Steady::now() - last_report >= std::chrono::seconds(1)) {
      last_report = Steady::now();
      std::fprintf(stderr, "\rmetrics_load: %lld/%lld sent", i + 1, o.points);
    }
  }
  const double secs = std::chrono::duration<double>(Steady::now() - start).count();
  std::fprintf(stderr,
               "\rmetrics_load: sent %llu lines in %.2f s (valid %llu, invalid %llu, poisoned %llu,"
               " send failures %llu)\n",
               static_cast<unsigned long long>(expected.lines), secs,
               static_cast<unsigned long long>(expected.valid),
               static_cast<unsigned long long>(expected.invalid_total()),
               static_cast<unsigned long long>(expected.poisoned),
               static_cast<unsigned long long>(send_failures));
  write_expect(o, expected);
  return 0;
}

template <class Store>
int run_inproc(const Options& o, Store& store) {
  SystemClock clock;
  PipelineConfig cfg;
  cfg.intake_capacity = cfg.validated_capacity = static_cast<std::size_t>(o.queue);
  cfg.intake_policy = cfg.validated_policy =
      o.policy == "drop" ? StagePolicy::drop : StagePolicy::block;
  cfg.validators = static_cast<unsigned>(o.validators);
  cfg.aggregators = static_cast<unsigned>(o.aggregators);
  cfg.rules.host = o.host;
  cfg.poison_prefix = o.poison_prefix;
  cfg.measure_latency = true;
  const auto producers = static_cast<unsigned>(o.producers);
  // Generate first (not timed), then send.
  std::vector<std::vector<std::string>> streams(producers);
  Expected expected;
  for (unsigned p = 0; p < producers; ++p) {
    StreamGen gen(stream_config(o, p + 1));
    const long long n = o.points / producers + (p < o.points % producers ? 1 : 0);
    for (long long i = 0; i < n; ++i) {
      const GenLine g = gen.next();
      expected.add(g);
      streams[p].push_back(g.text);
    }
  }
  Pipeline<Store> pipeline(cfg, store, clock);
  const auto start = Steady::now();
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      const Pacer pacer(static_cast<double>(o.rate) / producers, start);
      for (std::size_t i = 0; i < streams[p].size(); ++i) {
        pacer.wait(i);
        pipeline.submit(std::move(streams[p][i]));
      }
    });
  for (auto& t : threads) t.join();
  pipeline.stop();
  const double secs = std::chrono::duration<double>(Steady::now() - start).count();
  const StatsSnapshot s = pipeline.stats();
  const auto latency = pipeline.latency_after_stop();
  const Window got = totals(pipeline.query({}).get());
  // Every field exactly, except a gauge's value: it is the last update the store applied, and
  // several producers, validators and aggregators may apply two updates of one gauge in either
  // order (aggregate.hpp). order_free leaves it out on both sides.
  const bool exact = order_free(got) == order_free(expected.totals);
  std::printf("store=%s producers=%u lines=%llu in %.3f s = %.0f lines/s\n  %s balanced=%s\n",
              std::string(Store::name).c_str(), producers,
              static_cast<unsigned long long>(s.received), secs,
              static_cast<double>(s.received) / secs, s.summary().c_str(),
              s.balanced() ? "yes" : "no");
  std::printf("  send->counted p50=%.1f us p99=%.1f us max=%.1f us\n",
              static_cast<double>(latency.value_at_percentile(50)) / 1e3,
              static_cast<double>(latency.value_at_percentile(99)) / 1e3,
              static_cast<double>(latency.max()) / 1e3);
  std::printf("  totals vs the sequential computation: %s\n",
              exact ? "exact" : (s.dropped() ? "differ (points were dropped, as declared)" : "DIFFER"));
  write_expect(o, expected);
  return s.balanced() && (exact || s.dropped() > 0) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  cp::lessons::Cli cli("metrics_load", "Seeded StatsD load at a fixed rate (lesson 09).");
  cli.option("points", o.points, "lines to send", 1, 1LL << 40)
      .option("rate", o.rate, "lines per second, all senders together (0: as fast as possible)", 0,
              1LL << 32)
      .option("seed", o.seed, "seed of the stream", 0, 1LL << 62)
      .text("target", o.target, "udp, stdout or inproc")
      .option("port", o.port, "metricsd's UDP port (udp)", 1, 65535)
      .option("batch", o.batch, "lines per datagram (udp)", 1, 1000)
      .option("malformed-pct", o.malformed_pct, "share of lines the service must refuse", 0, 100)
      .option("poison-pct", o.poison_pct, "share of poisoned points", 0, 100)
      .text("host", o.host, "the host tag the service adds (for the expected series keys)")
      .text("poison-prefix", o.poison_prefix, "name prefix of poisoned points")
      .text("expect", o.expect, "write the expected totals to this file")
      .text("store", o.store, "inproc: rwlock or owner")
      .option("producers", o.producers, "inproc: producer threads", 1, 64)
      .option("validators", o.validators, "inproc: validator threads", 1, 64)
      .option("aggregators", o.aggregators, "inproc: aggregator threads", 1, 64)
      .option("queue", o.queue, "inproc: capacity of each queue", 1, 1 << 24)
      .text("policy", o.policy, "inproc: block or drop, for both queues");
  cli.parse(argc, argv);
  if (o.malformed_pct + o.poison_pct > 100) usage_error("malformed + poison must be <= 100");
  if (o.target == "udp" || o.target == "stdout") return send_lines(o);
  if (o.target != "inproc") usage_error("--target must be udp, stdout or inproc");
  if (o.policy != "block" && o.policy != "drop") usage_error("--policy must be block or drop");
  if (o.store == "owner") {
    OwnerStore store;
    return run_inproc(o, store);
  }
  if (o.store != "rwlock") usage_error("--store must be rwlock or owner");
  RwlockStore<> store;
  return run_inproc(o, store);
}

// Run:
//   ./build/release/lessons/09-metrics-pipeline/metrics_load --target=inproc --points=200000 --rate=0
//   (cd build/release/lessons/09-metrics-pipeline &&
//    ./metrics_load --target=stdout --points=100000 --rate=0 --expect=expected.txt |
//    ./metricsd --stdin --port=-1 --query-port=-1 --host=test --poison-prefix=poison.
//               --intake=block --dump=got.txt --run-ms=3000 && cmp expected.txt got.txt)
// Expect (inproc) "totals vs the sequential computation: exact" and balanced=yes.
