// metricsd_test.cpp: the daemon end to end. Starts metricsd on free loopback ports, sends a
// seeded stream with malformed lines and poisoned points, stops it with SIGTERM, and compares
// its final totals (its --dump file) with the sequential computation of the same stream.
//
//   - stdin: every line is read (the daemon's intake blocks rather than drops), so the totals
//     must equal the computation exactly and every line must be accounted for.
//   - UDP: loopback UDP may drop datagrams when the receiver falls behind, so the sender waits,
//     every 100 lines, until the daemon's own `received` counter (read on its query port) has
//     caught up. Then nothing can be lost and the comparison is exact too; a loss would show
//     as received != sent and fail the test. The daemon's socket counts (udp_datagrams read,
//     udp_kernel_drops from /proc/net/udp) must then say: every datagram read, none dropped.
//   - net::udp_socket_drops on its own: a socket with a tiny receive buffer that nobody reads
//     drops most of a burst, and read + dropped equals sent exactly.
// No timing is asserted: the waits have generous deadlines only so that a bug ends in a failure,
// not a hang.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lessons/09-metrics-pipeline/clock.hpp"
#include "lessons/09-metrics-pipeline/net.hpp"
#include "lessons/09-metrics-pipeline/stream_gen.hpp"
#include "lessons/09-metrics-pipeline/window_text.hpp"
#include "tests/support/findings.hpp"
#include "tests/support/temp_dir.hpp"

using namespace cp::metrics;

namespace {

// A metricsd child process with a pipe to its stdin and one from its stdout.
class Daemon {
 public:
  explicit Daemon(std::vector<std::string> args) {
    int in[2], out[2];
    REQUIRE(::pipe(in) == 0);
    REQUIRE(::pipe(out) == 0);
    std::fflush(nullptr);  // else the child could write our buffered output a second time
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::close(in[1]);
      ::close(out[0]);
      std::vector<char*> argv;
      std::string exe = CP_METRICSD_EXE;
      argv.push_back(exe.data());
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(exe.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = ::fdopen(out[0], "r");
    char line[256] = {};
    REQUIRE(std::fgets(line, sizeof line, stdout_) != nullptr);
    int udp = 0, query = 0;
    REQUIRE(std::sscanf(line, "metricsd: udp 127.0.0.1:%d query 127.0.0.1:%d", &udp, &query) == 2);
    udp_port = static_cast<std::uint16_t>(udp);
    query_port = static_cast<std::uint16_t>(query);
  }
  ~Daemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    close_stdin();
    if (stdout_) std::fclose(stdout_);
  }

  void send_stdin(const std::string& text) { REQUIRE(net::write_all(stdin_, text)); }
  void close_stdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }

  // One counter from the query port's "stats" answer.
  std::uint64_t stat(const std::string& name) const {
    std::istringstream answer(net::tcp_request(query_port, "stats"));
    std::string line;
    while (std::getline(answer, line))
      if (line.starts_with(name + "=")) return std::stoull(line.substr(name.size() + 1));
    FAIL("no " << name << " in the stats answer");
    return 0;
  }

  // Waits (deadline 60 s: a hang guard, not a timing claim) until `received` reaches n.
  bool wait_received(std::uint64_t n) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (stat("received") < n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  // SIGTERM, then the exit status and everything it printed after the port line.
  std::pair<int, std::string> terminate() {
    REQUIRE(::kill(pid_, SIGTERM) == 0);
    std::string output;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, stdout_)) output += buf;
    int status = 0;
    REQUIRE(::waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
  }

  std::uint16_t udp_port = 0, query_port = 0;

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  FILE* stdout_ = nullptr;
};

std::vector<GenLine> make_stream(std::uint64_t seed, std::size_t n, Expected& expected) {
  StreamConfig sc;
  sc.seed = seed;
  sc.host = "test";
  sc.now_ms = SystemClock().now_ms();
  StreamGen gen(sc);
  std::vector<GenLine> lines;
  for (std::size_t i = 0; i < n; ++i) {
    lines.push_back(gen.next());
    expected.add(lines.back());
  }
  return lines;
}

std::vector<std::string> daemon_args(const std::string& dump, const std::string& store) {
  return {"--port=0", "--query-port=0", "--stdin", "--host=test", "--poison-prefix=poison.",
          "--intake=block", "--flush-ms=50", "--quiet", "--store=" + store, "--dump=" + dump};
}

std::uint64_t final_stat(const std::string& output, const std::string& name) {
  const auto at = output.find(" " + name + "=");
  if (at == std::string::npos) return ~0ULL;
  return std::stoull(output.substr(at + name.size() + 2));
}

void check_final(const std::string& output, const std::string& dump, const Expected& want,
                 std::uint64_t seed) {
  INFO("seed " << seed << " (rerun with CP_SEED=" << seed << ")\nmetricsd printed:\n" << output);
  CHECK(output.find("balanced=yes") != std::string::npos);
  CHECK(final_stat(output, "received") == want.lines);
  CHECK(final_stat(output, "processed") == want.valid);
  CHECK(final_stat(output, "invalid") == want.invalid_total());
  CHECK(final_stat(output, "errors") == want.poisoned);
  CHECK(final_stat(output, "dropped") == 0);
  std::ifstream in(dump);
  std::stringstream text;
  text << in.rdbuf();
  const auto got = parse_window(text.str());
  REQUIRE(got.has_value());
  CHECK(got->size() == want.totals.size());
  for (const auto& [key, agg] : want.totals) {
    INFO("series " << key);
    REQUIRE(got->count(key) == 1);
    // count, sum, min, max, timing buckets, set members, exactly; a gauge's value depends on
    // the order of its updates through the daemon's several workers (aggregate.hpp)
    CHECK(order_free({{key, got->at(key)}}) == order_free({{key, agg}}));
  }
}

}  // namespace

TEST_CASE("metricsd: a stream on stdin ends in exact totals after SIGTERM", "[unit]") {
  const auto seed = cp::test::seed();
  for (const std::string store : {"rwlock", "owner"}) {
    cp::test::TempDir dir;
    const std::string dump = (dir.path() / "dump.txt").string();
    Expected want;
    const auto lines = make_stream(seed, 3000, want);
    Daemon d(daemon_args(dump, store));
    std::string text;
    for (const auto& g : lines) text += g.text + "\n";
    d.send_stdin(text);
    d.close_stdin();
    INFO("store " << store);
    REQUIRE(d.wait_received(want.lines));
    const auto [status, output] = d.terminate();
    CHECK(status == 0);
    check_final(output, dump, want, seed);
  }
}

TEST_CASE("metricsd: a paced stream over loopback UDP ends in exact totals", "[unit]") {
  const auto seed = cp::test::seed() + 1;
  cp::test::TempDir dir;
  const std::string dump = (dir.path() / "dump.txt").string();
  Expected want;
  const auto lines = make_stream(seed, 2000, want);
  Daemon d(daemon_args(dump, "rwlock"));
  auto sender = net::udp_sender();
  std::string datagram;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    datagram += lines[i].text + "\n";
    if ((i + 1) % 10 == 0 || i + 1 == lines.size()) {  // 10 lines per datagram
      REQUIRE(net::send_to_local(sender, d.udp_port, datagram));
      datagram.clear();
    }
    if ((i + 1) % 100 == 0 || i + 1 == lines.size()) {
      INFO("sent " << i + 1 << " lines; the daemon's received counter did not catch up");
      REQUIRE(d.wait_received(i + 1));
    }
  }
  const auto [status, output] = d.terminate();
  CHECK(status == 0);
  check_final(output, dump, want, seed);
  CHECK(final_stat(output, "udp_datagrams") == (lines.size() + 9) / 10);
  CHECK(final_stat(output, "udp_kernel_drops") == 0);
}

TEST_CASE("net: the kernel's drops at a full UDP socket, read per socket, close the balance",
          "[unit]") {
  // The smallest receive buffer the kernel grants (it rounds 1 up to its minimum, a few KiB):
  // a burst of 1 KB datagrams that nobody reads overflows it at once.
  net::Socket receiver = net::bind_udp(0, 1);
  const std::uint16_t port = net::local_port(receiver);
  REQUIRE(net::udp_socket_drops(receiver) == std::optional<std::uint64_t>(0));
  auto sender = net::udp_sender();
  const std::string datagram(1000, 'x');
  constexpr std::uint64_t kSent = 200;
  for (std::uint64_t i = 0; i < kSent; ++i) REQUIRE(net::send_to_local(sender, port, datagram));
  // Loopback hands each datagram to the receiving socket (queued or dropped) in the kernel's
  // softirq, normally before sendto returns; read until every one is accounted for.
  std::uint64_t read = 0, dropped = 0;
  char buf[2048];
  for (int attempt = 0; attempt < 200 && read + dropped < kSent; ++attempt) {
    while (::recv(receiver.fd(), buf, sizeof buf, MSG_DONTWAIT) > 0) ++read;
    dropped = net::udp_socket_drops(receiver).value_or(0);
    if (read + dropped < kSent) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  INFO("read " << read << ", dropped " << dropped);
  CHECK(dropped > 0);
  CHECK(read > 0);
  CHECK(read + dropped == kSent);
}

TEST_CASE("metricsd: bad arguments exit 2 with a reason", "[unit]") {
  for (const char* arg : {"--store=btree", "--intake=reject", "--port=70000", "--bogus"}) {
    const std::string cmd = std::string(CP_METRICSD_EXE) + " " + arg + " 2>&1";
    FILE* p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    char buf[512] = {};
    const bool printed = std::fgets(buf, sizeof buf, p) != nullptr;
    const int status = ::pclose(p);
    INFO(arg << ": " << buf);
    CHECK(printed);
    CHECK(std::string(buf).find("try --help") != std::string::npos);
    CHECK(WEXITSTATUS(status) == 2);
  }
}
