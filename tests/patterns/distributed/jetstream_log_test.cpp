// jetstream_log_test.cpp: the NATS servers the tests start (patterns/distributed/nats_servers.hpp)
// and a JetStream stream used as a command log (jetstream_log.hpp): sequences, deduplication
// of a retried id, replay from an offset, and a node of a 3-node cluster killed while
// publishing. Every server is started on 127.0.0.1 by the test and stopped by it.
#include <catch2/catch.hpp>

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "patterns/distributed/jetstream_log.hpp"
#include "patterns/distributed/nats_servers.hpp"
#include "tests/support/temp_dir.hpp"

using namespace cp::dist;
using namespace std::chrono_literals;

namespace {

// libnats keeps library-wide state (its timer and flusher threads); release it at exit so
// LeakSanitizer sees only what the tests themselves leave.
// Opened at start, so that a process running only a case that never connects closes an
// opened library too (closing one never opened crashes inside libnats).
struct NatsLibraryForThisProcess {
  NatsLibraryForThisProcess() { nats_Open(-1); }
  ~NatsLibraryForThisProcess() { nats_CloseAndWait(2000); }
} nats_library;

bool process_gone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

std::string command(int i) { return "cmd-" + std::to_string(i); }

// append_retrying: what a publisher does when the cluster is briefly without a leader: the
// same id again until the stream acknowledges it (bounded; the test fails if it never does).
Appended append_retrying(const NatsConnection& c, const std::string& log,
                         const std::string& subject, const std::string& bytes,
                         const std::string& id, int* retries) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    try {
      return append(c, log, subject, bytes, id);
    } catch (const NatsError&) {
      if (std::chrono::steady_clock::now() > deadline) throw;
      ++*retries;
      std::this_thread::sleep_for(50ms);
    }
  }
}

// leader_node: the index of the node that leads the stream ("n<i>"). A stream just created
// may not have elected its leader yet: asked again until it has (bounded).
int leader_node(const NatsConnection& c, const std::string& log) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  std::string name;
  while (name.empty() && std::chrono::steady_clock::now() < deadline) {
    try {
      name = stream_leader(c, log);
    } catch (const NatsError&) {
    }
    if (name.empty()) std::this_thread::sleep_for(50ms);
  }
  REQUIRE(name.size() == 2);
  return name[1] - '0';
}

std::vector<LogEntry> read_all(const NatsConnection& c, const std::string& log,
                               std::uint64_t from, std::size_t expected) {
  LogReader reader(c, log, ">", from);
  std::vector<LogEntry> all;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (all.size() < expected && std::chrono::steady_clock::now() < deadline)
    for (auto& e : reader.next_batch(64, 200ms)) all.push_back(std::move(e));
  return all;
}

}  // namespace

TEST_CASE("NatsServers: a server that cannot start is reported, and nothing is left running",
          "[unit]") {
  cp::test::TempDir dir;
  NatsServerOptions opts{dir.path(), 1, "cp-no-such-nats-server", 2000ms};
  std::string what;
  try {
    NatsServers s(opts);
  } catch (const NatsServerError& e) {
    what = e.what();
  }
  CHECK(what.find("exited at start") != std::string::npos);
}

TEST_CASE("NatsServers: the servers started are stopped and reaped by the destructor", "[unit]") {
  cp::test::TempDir dir;
  pid_t pid = 0;
  {
    NatsServers s({dir.path(), 1});
    pid = s.pid(0);
    REQUIRE(pid > 0);
    CHECK_FALSE(process_gone(pid));
    NatsConnection c(s.urls());  // it answers a client
  }
  CHECK(process_gone(pid));
}

TEST_CASE("JetStream log: consecutive sequences, a retried id applied once, replay from an offset",
          "[unit]") {
  cp::test::TempDir dir;
  NatsServers servers({dir.path(), 1});
  NatsConnection c(servers.urls());
  create_log(c, LogSpec{"CMDS", {"cmds.>"}, 1});

  const int n = 50;
  for (int i = 1; i <= n; ++i) {
    const Appended a = append(c, "CMDS", "cmds.s" + std::to_string(i % 3), command(i),
                              "id-" + std::to_string(i));
    REQUIRE(a.sequence == static_cast<std::uint64_t>(i));
    REQUIRE_FALSE(a.duplicate);
  }
  // A publisher that lost the acknowledgement sends the same command with the same id again.
  for (int i : {7, 30, 50}) {
    const Appended again = append(c, "CMDS", "cmds.s" + std::to_string(i % 3), command(i),
                                  "id-" + std::to_string(i));
    CHECK(again.duplicate);
    CHECK(again.sequence == static_cast<std::uint64_t>(i));
  }
  CHECK(last_sequence(c, "CMDS") == n);

  // Replay from offset 21: the commands 21..50, in stream order, each once.
  const auto tail = read_all(c, "CMDS", 21, n - 20);
  REQUIRE(tail.size() == static_cast<std::size_t>(n - 20));
  for (std::size_t k = 0; k < tail.size(); ++k) {
    const int i = 21 + static_cast<int>(k);
    CHECK(tail[k].sequence == static_cast<std::uint64_t>(i));
    CHECK(tail[k].bytes == command(i));
    CHECK(tail[k].subject == "cmds.s" + std::to_string(i % 3));
  }

  // A reader filtered to one subject sees only that partition, still in stream order.
  LogReader part(c, "CMDS", "cmds.s1", 1);
  std::vector<LogEntry> s1;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (s1.size() < 17 && std::chrono::steady_clock::now() < deadline)
    for (auto& e : part.next_batch(64, 200ms)) s1.push_back(std::move(e));
  REQUIRE(s1.size() == 17);  // i = 1, 4, ..., 49
  for (std::size_t k = 0; k < s1.size(); ++k) CHECK(s1[k].bytes == command(1 + 3 * static_cast<int>(k)));
}

TEST_CASE("JetStream log, 3 nodes, replicas 3: a node killed while publishing loses no "
          "acknowledged command, and the cluster restarted keeps them all",
          "[stress]") {
  cp::test::TempDir dir;
  NatsServers servers({dir.path(), 3});
  // Short request bounds: while the cluster has no leader a request gets no answer at all.
  NatsConnection c(servers.urls(), 300ms);
  // A new cluster elects its JetStream meta leader after the nodes meet: until then stream
  // creation fails, so it is retried (bounded).
  const auto ready_by = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    try {
      create_log(c, LogSpec{"R3", {"r3.>"}, 3});
      break;
    } catch (const NatsError& e) {
      if (std::chrono::steady_clock::now() > ready_by) FAIL("stream not created: " << e.what());
      std::this_thread::sleep_for(100ms);
    }
  }

  const int n = 60;
  int retries = 0, killed = -1;
  std::vector<std::uint64_t> seqs;
  for (int i = 1; i <= n; ++i) {
    if (i == 21) killed = leader_node(c, "R3");
    if (i == 21) servers.kill(killed);  // the stream's leader crashes; 2 of 3 are a quorum
    seqs.push_back(append_retrying(c, "R3", "r3.a", command(i), "id-" + std::to_string(i),
                                   &retries)
                       .sequence);
  }
  INFO("publish retries while the cluster re-formed: " << retries);
  for (int i = 1; i <= n; ++i) CHECK(seqs[static_cast<std::size_t>(i - 1)] == static_cast<std::uint64_t>(i));
  servers.start(killed);

  // Every node stopped, then all started again: the stream is on disk on each.
  for (int i = 0; i < 3; ++i) servers.stop(i);
  for (int i = 0; i < 3; ++i) servers.start(i);
  NatsConnection again(servers.urls(), 300ms);
  std::vector<LogEntry> all;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (all.size() < static_cast<std::size_t>(n) && std::chrono::steady_clock::now() < deadline) {
    try {
      all = read_all(again, "R3", 1, n);
    } catch (const NatsError&) {
      std::this_thread::sleep_for(100ms);  // no stream leader yet after the restart
    }
  }
  REQUIRE(all.size() == static_cast<std::size_t>(n));
  for (int i = 1; i <= n; ++i) {
    CHECK(all[static_cast<std::size_t>(i - 1)].sequence == static_cast<std::uint64_t>(i));
    CHECK(all[static_cast<std::size_t>(i - 1)].bytes == command(i));
  }
}
