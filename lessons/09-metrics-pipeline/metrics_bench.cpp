// metrics_bench: the figures of lesson 09 (a benchmark, not a test).
//
//   1. stage costs     - one thread, one stage at a time: parse, validate, StoreState::add,
//                        a BoundedQueue push + pop, RwlockStore::add, OwnerStore::add.
//   2. throughput      - the whole pipeline in-process, closed loop (block policy): points/s
//                        at 1, 2, 4 producers with each store, and p99 from submit to counted.
//   3. overload        - open loop at 50%, 90%, 150% of the throughput measured in 2 (2
//                        producers), both queues dropping: dropped counts and p99.
//   4. peer            - metricsd and collectd's statsd plugin (Debian collectd-core), each a
//                        process on loopback, sent the same plain StatsD stream over UDP at
//                        the same rates: how much each one counted. collectd's count is the
//                        sum of its counters as its csv plugin writes them. Skipped when
//                        collectd is not installed (or with --no-peer).
// Every process it starts, it stops (SIGTERM, then waits for it).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
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
namespace fs = std::filesystem;

namespace {

struct Options {
  long long points = 200000, seed = 20261202, peer_seconds = 2, queue = 1024;
  bool no_peer = false;
  std::string peer_rates = "20000,50000,100000", collectd = "/usr/sbin/collectd";
};

double seconds_since(Steady::time_point t) {
  return std::chrono::duration<double>(Steady::now() - t).count();
}

std::vector<std::string> make_lines(std::uint64_t seed, std::size_t n) {
  StreamConfig sc;
  sc.seed = seed;
  sc.now_ms = SystemClock().now_ms();
  StreamGen gen(sc);
  std::vector<std::string> lines;
  lines.reserve(n);
  for (std::size_t i = 0; i < n; ++i) lines.push_back(gen.next().text);
  return lines;
}

// ---- 1. stage costs --------------------------------------------------------------------------

template <class F>
void time_per_item(const char* what, std::size_t n, F&& f) {
  const auto t0 = Steady::now();
  f();
  std::printf("  %-38s %8.0f ns/item\n", what, seconds_since(t0) * 1e9 / static_cast<double>(n));
}

void stage_costs(const std::vector<std::string>& lines) {
  std::printf("1. stage costs (one thread, %zu lines)\n", lines.size());
  std::vector<Point> points;
  points.reserve(lines.size());
  time_per_item("parse_statsd", lines.size(), [&] {
    for (const auto& l : lines)
      if (auto r = parse_statsd(l); r.ok) points.push_back(std::move(r.point));
  });
  const auto now = SystemClock().now_ms();
  ValidationRules rules;
  std::vector<Point> valid;
  time_per_item("validate_and_enrich", points.size(), [&] {
    for (auto& p : points)
      if (!validate_and_enrich(p, now, rules)) valid.push_back(p);
  });
  // The three adds: the state alone, the state behind its lock, the state behind its owner.
  // Each starts from an empty store (every metric inserted once, then updated), and they run
  // in turn, 5 times, so that the first one does not pay alone for the cold memory and caches
  // the others find warm; the median of the 5 is printed, with the min-max.
  constexpr int kRounds = 5;
  std::vector<double> ns[3];
  const double n = static_cast<double>(valid.size());
  for (int round = 0; round < kRounds; ++round) {
    {
      StoreState state;
      const auto t0 = Steady::now();
      for (const auto& p : valid) state.add(p);
      ns[0].push_back(seconds_since(t0) * 1e9 / n);
    }
    {
      RwlockStore<> store;
      const auto t0 = Steady::now();
      for (const auto& p : valid) store.add(p);
      ns[1].push_back(seconds_since(t0) * 1e9 / n);
    }
    {
      OwnerStore store;
      const auto t0 = Steady::now();
      for (const auto& p : valid) store.add(p);
      store.query({}).get();  // the owner has applied everything sent before
      ns[2].push_back(seconds_since(t0) * 1e9 / n);
    }
  }
  const char* names[3] = {"StoreState::add (no lock)", "RwlockStore::add (uncontended lock)",
                          "OwnerStore::add, until applied"};
  for (int k = 0; k < 3; ++k) {
    std::sort(ns[k].begin(), ns[k].end());
    std::printf("  %-38s %8.0f ns/item (%.0f-%.0f, %d rounds)\n", names[k], ns[k][kRounds / 2],
                ns[k].front(), ns[k].back(), kRounds);
  }
  BoundedQueue<Point> queue(valid.size() + 1);
  time_per_item("BoundedQueue push + pop (uncontended)", valid.size(), [&] {
    for (const auto& p : valid) queue.push(p);
    for (std::size_t i = 0; i < valid.size(); ++i) queue.pop();
  });
}

// ---- 2 and 3. the pipeline in-process ----------------------------------------------------------

struct RunResult {
  double seconds = 0, offered_per_s = 0, counted_per_s = 0, p99_us = 0;
  StatsSnapshot stats;
};

template <class Store>
RunResult run_pipeline(const std::vector<std::string>& lines, unsigned producers, double rate,
                       StagePolicy policy, std::size_t queue) {
  SystemClock clock;
  Store store;
  PipelineConfig cfg;
  cfg.intake_capacity = cfg.validated_capacity = queue;
  cfg.intake_policy = cfg.validated_policy = policy;
  cfg.poison_prefix = "poison.";
  cfg.measure_latency = true;
  Pipeline<Store> pipeline(cfg, store, clock);
  const auto start = Steady::now();
  std::vector<std::thread> threads;
  for (unsigned p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      const Pacer pacer(rate / producers, start);
      std::uint64_t k = 0;
      for (std::size_t i = p; i < lines.size(); i += producers) {
        pacer.wait(k++);
        pipeline.submit(lines[i]);
      }
    });
  for (auto& t : threads) t.join();
  const double offered_s = seconds_since(start);
  pipeline.stop();
  RunResult r;
  r.seconds = seconds_since(start);
  r.stats = pipeline.stats();
  r.offered_per_s = static_cast<double>(lines.size()) / offered_s;
  r.counted_per_s = static_cast<double>(r.stats.received - r.stats.dropped()) / r.seconds;
  r.p99_us = static_cast<double>(pipeline.latency_after_stop().value_at_percentile(99)) / 1e3;
  return r;
}

template <class Store>
double throughput(const std::vector<std::string>& lines, const Options& o) {
  double at2 = 0;
  for (unsigned producers : {1u, 2u, 4u}) {
    const RunResult r =
        run_pipeline<Store>(lines, producers, 0, StagePolicy::block, static_cast<std::size_t>(o.queue));
    std::printf("  %-6s %u producers: %9.0f lines/s  p99 submit->counted %9.1f us  %s\n",
                std::string(Store::name).c_str(), producers, r.counted_per_s, r.p99_us,
                r.stats.balanced() ? "balanced" : "NOT BALANCED");
    if (producers == 2) at2 = r.counted_per_s;
  }
  return at2;
}

template <class Store>
void overload(const std::vector<std::string>& lines, double capacity, const Options& o) {
  for (int pct : {50, 90, 150}) {
    const double rate = capacity * pct / 100.0;
    // About one second of offered load per row.
    const std::size_t n = std::min(lines.size(), static_cast<std::size_t>(rate) + 1);
    const std::vector<std::string> part(lines.begin(), lines.begin() + static_cast<std::ptrdiff_t>(n));
    const RunResult r =
        run_pipeline<Store>(part, 2, rate, StagePolicy::drop, static_cast<std::size_t>(o.queue));
    std::printf("  %-6s %3d%% (%8.0f/s offered): dropped %7llu of %7llu (%5.2f%%)  p99 %9.1f us  %s\n",
                std::string(Store::name).c_str(), pct, r.offered_per_s,
                static_cast<unsigned long long>(r.stats.dropped()),
                static_cast<unsigned long long>(r.stats.received),
                100.0 * static_cast<double>(r.stats.dropped()) / static_cast<double>(r.stats.received),
                r.p99_us, r.stats.balanced() ? "balanced" : "NOT BALANCED");
  }
}

// ---- 4. the peer -------------------------------------------------------------------------------

// A child process; stdout to a pipe (read_line) or to a file.
class Child {
 public:
  Child(std::vector<std::string> argv, const std::string& stdout_file = "") {
    int out[2] = {-1, -1};
    if (stdout_file.empty() && ::pipe(out) != 0) throw std::runtime_error("pipe failed");
    std::fflush(nullptr);  // else the child would write our buffered output a second time
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      if (stdout_file.empty()) {
        ::dup2(out[1], 1);
        ::close(out[0]);
      } else {
        std::FILE* f = std::freopen(stdout_file.c_str(), "w", stdout);
        if (f) ::dup2(1, 2);
      }
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    if (stdout_file.empty()) {
      ::close(out[1]);
      out_ = ::fdopen(out[0], "r");
    }
  }
  ~Child() {
    stop();
    if (out_) std::fclose(out_);
  }
  std::string read_line() {
    char buf[512] = {};
    return out_ && std::fgets(buf, sizeof buf, out_) ? buf : "";
  }
  // stop: SIGTERM and wait; returns the exit status (-1 if killed by a signal).
  int stop() {
    if (pid_ <= 0) return status_;
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return status_;  // its output stays readable until destruction
  }

 private:
  pid_t pid_ = -1;
  std::FILE* out_ = nullptr;
  int status_ = -1;
};

// The peer stream: plain StatsD counters (no tags, no |T: collectd's parser takes neither),
// 10 lines per datagram. Returns the sum of the values sent.
std::uint64_t send_plain(std::uint16_t port, double rate, std::size_t n, std::uint64_t seed) {
  cp::Xoshiro256 rng(seed);
  auto sock = net::udp_sender();
  const Pacer pacer(rate / 10, Steady::now());
  std::uint64_t sum = 0;
  std::string datagram;
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = 1 + rng.below(9);
    sum += v;
    datagram += "bench.c" + std::to_string(rng.below(8)) + ":" + std::to_string(v) + "|c\n";
    if ((i + 1) % 10 == 0 || i + 1 == n) {
      pacer.wait(i / 10);
      net::send_to_local(sock, port, datagram);
      datagram.clear();
    }
  }
  return sum;
}

std::uint16_t free_udp_port() {
  auto s = net::bind_udp(0, 1 << 16);
  return net::local_port(s);  // closed on return; collectd binds it a moment later
}

// collectd's counters: for each derive-bench.c* file of its csv output, the last value written.
std::uint64_t collectd_sum(const fs::path& csv_dir) {
  std::uint64_t sum = 0;
  if (!fs::exists(csv_dir)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(csv_dir)) {
    if (!e.is_regular_file() || e.path().filename().string().rfind("derive-bench.c", 0) != 0) continue;
    std::ifstream in(e.path());
    std::string line, last;
    while (std::getline(in, line))
      if (!line.empty() && line[0] != 'e') last = line;  // skip the "epoch,value" header
    const auto comma = last.find(',');
    if (comma != std::string::npos) sum += std::stoull(last.substr(comma + 1));
  }
  return sum;
}

std::uint64_t metricsd_sum(const std::string& totals) {
  const auto w = parse_window(totals);
  std::uint64_t sum = 0;
  if (w)
    for (const auto& [key, a] : *w) sum += static_cast<std::uint64_t>(a.sum);
  return sum;
}

void peer(const Options& o, const std::vector<double>& rates) {
  std::printf("4. peer: the same plain counter stream over loopback UDP, %lld s per rate\n",
              o.peer_seconds);
  const fs::path dir = fs::temp_directory_path() / ("metrics_bench_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (double rate : rates) {
    const auto n = static_cast<std::size_t>(rate * static_cast<double>(o.peer_seconds));
    // metricsd
    const fs::path md_dump = dir / "metricsd_totals.txt";
    Child md({CP_METRICSD_EXE, "--port=0", "--query-port=-1", "--intake=drop", "--host=",
              "--quiet", "--flush-ms=1000", "--dump=" + md_dump.string()});
    int udp = 0;
    std::sscanf(md.read_line().c_str(), "metricsd: udp 127.0.0.1:%d", &udp);
    const std::uint64_t sent = send_plain(static_cast<std::uint16_t>(udp), rate, n, 7);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the socket buffer is read
    md.stop();  // SIGTERM: it drains its queues, flushes, writes the dump, prints "final: ..."
    const std::string final_line = md.read_line();
    unsigned long long received = 0, dropped = 0;
    if (const auto at = final_line.find("received="); at != std::string::npos)
      received = std::stoull(final_line.substr(at + 9));
    if (const auto at = final_line.find("dropped="); at != std::string::npos)
      dropped = std::stoull(final_line.substr(at + 8));
    std::ifstream dump(md_dump);
    const std::string totals((std::istreambuf_iterator<char>(dump)), std::istreambuf_iterator<char>());
    const std::uint64_t md_sum = metricsd_sum(totals);
    // collectd
    const fs::path run = dir / ("collectd_" + std::to_string(static_cast<long long>(rate)));
    fs::create_directories(run);
    const std::uint16_t port = free_udp_port();
    {
      std::ofstream conf(run / "collectd.conf");
      conf << "Interval 1\nBaseDir \"" << run.string() << "\"\nPIDFile \"" << (run / "pid").string()
           << "\"\nPluginDir \"/usr/lib/collectd\"\nTypesDB \"/usr/share/collectd/types.db\"\n"
           << "Hostname \"bench\"\nFQDNLookup false\nLoadPlugin statsd\nLoadPlugin csv\n"
           << "<Plugin statsd>\n  Host \"127.0.0.1\"\n  Port \"" << port
           << "\"\n  DeleteCounters false\n</Plugin>\n<Plugin csv>\n  DataDir \""
           << (run / "csv").string() << "\"\n  StoreRates false\n</Plugin>\n";
    }
    Child cd({o.collectd, "-f", "-C", (run / "collectd.conf").string()}, (run / "collectd.log").string());
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // until it listens
    const std::uint64_t sent2 = send_plain(port, rate, n, 7);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // two write intervals
    cd.stop();
    const std::uint64_t cd_sum = collectd_sum(run / "csv");
    std::printf("  %8.0f lines/s, %8zu lines: metricsd received %6.2f%% (its queues dropped %llu),"
                " counted %6.2f%% of the sum; collectd counted %6.2f%%\n",
                rate, n, 100.0 * static_cast<double>(received) / static_cast<double>(n), dropped,
                100.0 * static_cast<double>(md_sum) / static_cast<double>(sent),
                100.0 * static_cast<double>(cd_sum) / static_cast<double>(sent2));
  }
  fs::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  cp::lessons::Cli cli("metrics_bench", "Lesson 09's figures: stage costs, throughput, overload, a peer.");
  cli.option("points", o.points, "lines per in-process run", 1000, 1LL << 32)
      .option("seed", o.seed, "seed of the stream", 0, 1LL << 62)
      .option("queue", o.queue, "capacity of each pipeline queue", 1, 1 << 24)
      .text("peer-rates", o.peer_rates, "lines/s offered to metricsd and collectd, comma list")
      .option("peer-seconds", o.peer_seconds, "seconds of load per peer rate", 1, 600)
      .text("collectd", o.collectd, "the collectd binary")
      .flag("no-peer", o.no_peer, "skip the peer comparison");
  cli.parse(argc, argv);
  std::vector<double> rates;
  {
    std::stringstream ss(o.peer_rates);
    std::string item;
    while (std::getline(ss, item, ',')) {
      char* end = nullptr;
      const double r = std::strtod(item.c_str(), &end);
      if (item.empty() || *end != '\0' || !(r > 0)) {
        std::fprintf(stderr, "metrics_bench: bad --peer-rates entry '%s' (try --help)\n", item.c_str());
        return 2;
      }
      rates.push_back(r);
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  const auto lines = make_lines(static_cast<std::uint64_t>(o.seed), static_cast<std::size_t>(o.points));
  stage_costs(lines);
  std::printf("2. throughput, closed loop, queues of %lld, block\n", o.queue);
  const double rw = throughput<RwlockStore<>>(lines, o);
  const double ow = throughput<OwnerStore>(lines, o);
  std::printf("3. overload: open loop at a share of the 2-producer throughput, queues drop\n");
  overload<RwlockStore<>>(lines, rw, o);
  overload<OwnerStore>(lines, ow, o);
  if (o.no_peer || !fs::exists(o.collectd)) {
    std::printf("4. peer: skipped (%s)\n", o.no_peer ? "--no-peer" : "collectd not installed");
    return 0;
  }
  peer(o, rates);
  return 0;
}

// Run (Release; a quiet machine for figures worth keeping):
//   cmake --build --preset release --target metrics_bench metricsd
//   ./build/release/lessons/09-metrics-pipeline/metrics_bench
// Expect four sections; every in-process row "balanced". The peer rows say what share of the
// sent counter total each daemon counted (loopback UDP drops when a receiver falls behind).
