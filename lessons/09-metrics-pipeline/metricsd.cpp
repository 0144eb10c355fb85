// metricsd: the metrics ingestion service (lesson 09) with its front door.
//
// Reads StatsD lines from UDP on 127.0.0.1:--port and, with --stdin, from standard input; runs
// them through the pipeline (validators, aggregators, store, flusher); prints a stats line every
// second on stderr; answers queries on TCP 127.0.0.1:--query-port, one request line per
// connection:
//   stats               every counter, one key=value per line, and the UDP socket's own:
//                       udp_datagrams (read by us) and udp_kernel_drops (dropped by the
//                       kernel because the socket's receive buffer was full)
//   totals [prefix]     all-time aggregates per series (flushed windows + the current one)
//   current [prefix]    the current window
//   history [prefix]    the retained flushed windows, each after a "window <start> <end>" line
// On SIGINT or SIGTERM (or after --run-ms): stops the receivers, drains the pipeline, makes the
// final flush, prints the final stats on stdout (with a "final: udp_datagrams=D
// udp_kernel_drops=K" line: a sender's datagrams = D + K) and writes the totals to --dump.
// The first line on stdout says where it listens: "metricsd: udp 127.0.0.1:P query
// 127.0.0.1:Q store=S" (port 0 asks the kernel for a free one; this line tells which).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "lessons/09-metrics-pipeline/net.hpp"
#include "lessons/09-metrics-pipeline/pipeline.hpp"
#include "lessons/09-metrics-pipeline/store_owner.hpp"
#include "lessons/09-metrics-pipeline/store_rwlock.hpp"
#include "lessons/09-metrics-pipeline/window_text.hpp"
#include "lessons/common/cli.hpp"

using namespace cp::metrics;

namespace {

struct Options {
  long long port = 8125, query_port = 8126, validators = 2, aggregators = 2, queue = 8192;
  long long flush_ms = 1000, history = 60, run_ms = 0;
  bool stdin_input = false, quiet = false;
  std::string store = "rwlock", intake = "drop", validated = "block", host, poison_prefix, dump;
};

[[noreturn]] void usage_error(const std::string& why) {
  std::fprintf(stderr, "metricsd: %s (try --help)\n", why.c_str());
  std::exit(2);
}

StagePolicy policy(const std::string& name, const char* option) {
  if (name == "block") return StagePolicy::block;
  if (name == "drop") return StagePolicy::drop;
  usage_error(std::string("--") + option + " must be block or drop, got '" + name + "'");
}

// The receivers and the query server poll their sockets and this flag.
std::atomic<bool> g_running{true};
// Datagrams read from the UDP socket (a statistic: relaxed, read after the join at the end).
std::atomic<std::uint64_t> g_datagrams{0};

// udp_stats: the socket's side of the balance. Every datagram sent to the port was either read
// (udp_datagrams) or dropped by the kernel (udp_kernel_drops, from /proc/net/udp); the lines
// read then enter the pipeline's own balance (received = invalid + dropped + processed + errors).
std::string udp_stats(const net::Socket& udp) {
  if (!udp.valid()) return "";
  const auto drops = net::udp_socket_drops(udp);
  return "udp_datagrams=" + std::to_string(g_datagrams.load(std::memory_order_relaxed)) +
         " udp_kernel_drops=" + (drops ? std::to_string(*drops) : std::string("unknown"));
}

template <class P>
void receive_udp(P& pipeline, const net::Socket& sock) {
  std::string buf(65536, '\0');
  while (g_running.load(std::memory_order_relaxed)) {  // relaxed: a flag; the join orders the rest
    if (!net::readable(sock.fd(), 100)) continue;
    const ssize_t n = ::recv(sock.fd(), buf.data(), buf.size(), 0);
    if (n < 0) continue;
    g_datagrams.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    if (n > 0) pipeline.submit_text(std::string_view(buf.data(), static_cast<std::size_t>(n)));
  }
}

template <class P>
void receive_stdin(P& pipeline) {
  std::string pending;  // a line cut by a read boundary waits here for its end
  char buf[65536];
  while (g_running.load(std::memory_order_relaxed)) {  // relaxed: as above
    if (!net::readable(0, 100)) continue;
    const ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of input: UDP goes on
    pending.append(buf, static_cast<std::size_t>(n));
    const auto last_nl = pending.rfind('\n');
    if (last_nl == std::string::npos) continue;
    pipeline.submit_text(std::string_view(pending).substr(0, last_nl));
    pending.erase(0, last_nl + 1);
  }
  if (!pending.empty()) pipeline.submit(pending);
}

template <class P>
std::string answer(P& pipeline, const net::Socket& udp, const std::string& request) {
  const auto space = request.find(' ');
  const std::string verb = request.substr(0, space);
  Query q;
  if (space != std::string::npos) q.prefix = request.substr(space + 1);
  if (verb == "stats") {
    std::string out = format_stats(pipeline.stats());
    std::string socket = udp_stats(udp);  // "a=1 b=2" -> one key=value per line
    for (char& c : socket)
      if (c == ' ') c = '\n';
    return socket.empty() ? out : out + socket + "\n";
  }
  if (verb != "totals" && verb != "current" && verb != "history")
    return "error: unknown request '" + verb + "' (stats, totals, current, history)\n";
  q.with_history = verb == "history";
  // The store answers through a future: this thread waits, ingestion goes on meanwhile.
  auto future = pipeline.query(q);
  if (future.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
    return "error: the store did not answer within 5 s\n";
  const StoreView v = future.get();
  if (verb == "totals") return format_window(totals(v));
  if (verb == "current") return format_window(v.current);
  std::string out;
  for (const auto& w : v.history)
    out += "window " + std::to_string(w.start_ms) + " " + std::to_string(w.end_ms) + "\n" +
           format_window(w.series);
  return out;
}

template <class P>
void serve_queries(P& pipeline, const net::Socket& listener, const net::Socket& udp) {
  while (g_running.load(std::memory_order_relaxed)) {  // relaxed: as above
    if (!net::readable(listener.fd(), 100)) continue;
    net::Socket client(::accept(listener.fd(), nullptr, nullptr));
    if (!client.valid()) continue;
    std::string request;
    char c = 0;
    // One short line; a client that sends nothing for a second is dropped.
    while (request.size() < 1024 && net::readable(client.fd(), 1000) &&
           ::read(client.fd(), &c, 1) == 1 && c != '\n')
      request += c;
    if (!request.empty() && request.back() == '\r') request.pop_back();
    net::write_all(client.fd(), answer(pipeline, udp, request));
  }
}

template <class Store>
int run(const Options& o, Store& store) {
  SystemClock clock;
  PipelineConfig cfg;
  cfg.intake_capacity = static_cast<std::size_t>(o.queue);
  cfg.validated_capacity = static_cast<std::size_t>(o.queue);
  cfg.intake_policy = policy(o.intake, "intake");
  cfg.validated_policy = policy(o.validated, "validated");
  cfg.validators = static_cast<unsigned>(o.validators);
  cfg.aggregators = static_cast<unsigned>(o.aggregators);
  cfg.rules.host = o.host;
  cfg.flush_interval_ms = o.flush_ms;
  cfg.poison_prefix = o.poison_prefix;

  net::Socket udp, query;
  try {
    if (o.port >= 0) udp = net::bind_udp(static_cast<std::uint16_t>(o.port), 8 << 20);
    if (o.query_port >= 0) query = net::listen_tcp(static_cast<std::uint16_t>(o.query_port));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "metricsd: %s\n", e.what());
    return 1;
  }
  Pipeline<Store> pipeline(cfg, store, clock);
  std::printf("metricsd: udp 127.0.0.1:%d query 127.0.0.1:%d store=%s\n",
              udp.valid() ? net::local_port(udp) : -1, query.valid() ? net::local_port(query) : -1,
              std::string(Store::name).c_str());
  std::fflush(stdout);

  std::vector<std::thread> threads;
  if (udp.valid()) threads.emplace_back([&] { receive_udp(pipeline, udp); });
  if (o.stdin_input) threads.emplace_back([&] { receive_stdin(pipeline); });
  if (query.valid()) threads.emplace_back([&] { serve_queries(pipeline, query, udp); });

  // The main thread waits for a signal, printing a stats line every second.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t last_received = 0;
  for (int seconds = 1;; ++seconds) {
    const auto next = start + std::chrono::seconds(seconds);
    int sig = -1;
    while (sig < 0 && std::chrono::steady_clock::now() < next) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          next - std::chrono::steady_clock::now());
      const timespec wait{0, std::min<long>(left.count(), 100) * 1'000'000L};
      sig = sigtimedwait(&stop_signals, nullptr, &wait);
      if (o.run_ms > 0 && std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(o.run_ms))
        sig = 0;
    }
    if (sig >= 0) {
      if (!o.quiet) std::fprintf(stderr, "\nmetricsd: %s, shutting down\n", sig ? strsignal(sig) : "run time over");
      break;
    }
    if (!o.quiet) {
      const StatsSnapshot s = pipeline.stats();
      std::fprintf(stderr, "\rmetricsd %4ds: %s in/s=%llu queues=%zu/%zu   ", seconds,
                   s.summary().c_str(), static_cast<unsigned long long>(s.received - last_received),
                   pipeline.intake_depth(), pipeline.validated_depth());
      last_received = s.received;
    }
  }
  // Shutdown: stop intake (receivers, queries), drain and join the stages, final flush.
  g_running.store(false, std::memory_order_relaxed);  // relaxed: the joins order everything after
  for (auto& t : threads) t.join();
  pipeline.stop();
  const StatsSnapshot s = pipeline.stats();
  // Two lines, so that each fits 100 columns where the lesson quotes them.
  std::printf("final: %s\n", s.summary().c_str());
  std::printf("final: balanced=%s (received = processed + invalid + dropped + errors)\n",
              s.balanced() ? "yes" : "no");
  if (udp.valid()) std::printf("final: %s\n", udp_stats(udp).c_str());
  for (std::size_t r = 0; r < kInvalidReasons; ++r)
    if (s.invalid[r]) std::printf("final: invalid.%s=%llu\n", std::string(to_string(static_cast<Invalid>(r))).c_str(),
                                  static_cast<unsigned long long>(s.invalid[r]));
  if (!o.dump.empty()) {
    std::ofstream out(o.dump);
    out << format_window(totals(pipeline.query({}).get()));
    if (!out) {
      std::fprintf(stderr, "metricsd: cannot write %s\n", o.dump.c_str());
      return 1;
    }
  }
  std::fflush(stdout);
  return s.balanced() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  char hostname[256] = "localhost";
  ::gethostname(hostname, sizeof hostname - 1);
  o.host = hostname;
  cp::lessons::Cli cli("metricsd", "StatsD metrics ingestion on 127.0.0.1 (lesson 09).");
  cli.option("port", o.port, "UDP port for StatsD lines (0: a free one; -1: no UDP)", -1, 65535)
      .option("query-port", o.query_port, "TCP port for queries (0: a free one; -1: none)", -1, 65535)
      .flag("stdin", o.stdin_input, "also read StatsD lines from standard input")
      .text("store", o.store, "rwlock (a read-write lock) or owner (a single-writer thread)")
      .option("validators", o.validators, "validator threads", 1, 64)
      .option("aggregators", o.aggregators, "aggregator threads", 1, 64)
      .option("queue", o.queue, "capacity of each stage's queue", 1, 1 << 24)
      .text("intake", o.intake, "when the intake queue is full: drop (count) or block")
      .text("validated", o.validated, "when the validated queue is full: drop or block")
      .option("flush-ms", o.flush_ms, "flush interval in ms", 1, 3'600'000)
      .option("history", o.history, "flushed windows kept one by one", 0, 100000)
      .text("host", o.host, "value of the host tag added to every point (empty: none)")
      .text("poison-prefix", o.poison_prefix,
            "fault injection: aggregating a metric with this name prefix throws (empty: off)")
      .text("dump", o.dump, "write the final totals to this file at shutdown")
      .option("run-ms", o.run_ms, "stop by itself after this many ms (0: wait for a signal)", 0,
              1LL << 40)
      .flag("quiet", o.quiet, "no live stats line");
  cli.parse(argc, argv);
  if (o.store != "rwlock" && o.store != "owner")
    usage_error("--store must be rwlock or owner, got '" + o.store + "'");
  policy(o.intake, "intake");
  policy(o.validated, "validated");

  // SIGINT/SIGTERM are taken by sigtimedwait in the main thread only: block them before any
  // thread starts (threads inherit the mask). A client hanging up must not kill us: no SIGPIPE.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  const StoreConfig sc{static_cast<std::size_t>(o.history), SystemClock().now_ms()};
  if (o.store == "owner") {
    OwnerStore store(sc, 8192);
    return run(o, store);
  }
  RwlockStore<> store(sc);
  return run(o, store);
}

// Run:
//   ./build/release/lessons/09-metrics-pipeline/metricsd --port=8125 --query-port=8126
//   echo "app.requests:1|c|#env:prod" | nc -u -w0 127.0.0.1 8125
//   echo totals | nc 127.0.0.1 8126
// Expect a stats line each second on stderr, and on Ctrl-C "final: ... balanced=yes".
