// nats_servers.hpp: NatsServers, one nats-server or a cluster of them on 127.0.0.1, started and
// stopped by the program that needs them (a test, an example, a benchmark).
//
//   NatsServers(opts)  - writes a config per node into opts.dir, starts every node, and waits
//                        until each accepts connections. Throws NatsServerError (with the
//                        tail of the node's log) if a node does not come up.
//   ~NatsServers()     - stops every node it started (SIGTERM, then SIGKILL after a grace
//                        period) and reaps it. Runs on every path out of a test, also a
//                        failing one, so no server outlives the program that started it.
//   url(i), urls()     - where node i listens; all nodes, comma-separated (what a client takes).
//   stop(i) / kill(i)  - a clean stop, or SIGKILL (a crash: JetStream's store is left as a
//                        crash leaves it). start(i) brings the node back on the same ports and
//                        the same store, as an operator's restart would.
//
// Guarantees: nothing listens outside loopback; ports are chosen free at start; each node's
// JetStream store is under opts.dir; each node is a ChildProcess (child_process.hpp), so even
// a crashed test leaves no server behind. Start servers from a thread that outlives them (the
// test's main thread).
//
// Not a client: jetstream_log.hpp talks to the servers.
#pragma once

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "patterns/distributed/child_process.hpp"

namespace cp::dist {

struct NatsServerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct NatsServerOptions {
  std::filesystem::path dir;  // configs, logs and JetStream stores go here (must exist)
  int nodes = 1;              // 1: a single server; 3: a cluster where replicas 3 make sense
  std::string server = "nats-server";  // the binary, found on PATH
  std::chrono::milliseconds ready_timeout{10000};
};

class NatsServers {
 public:
  explicit NatsServers(NatsServerOptions opts) : opts_(std::move(opts)) {
    if (opts_.nodes < 1) throw NatsServerError("NatsServers: nodes must be >= 1");
    for (int i = 0; i < opts_.nodes; ++i) nodes_.push_back(Node{free_port(), free_port(), {}});
    for (int i = 0; i < opts_.nodes; ++i) write_config(i);
    try {
      for (int i = 0; i < opts_.nodes; ++i) spawn(i);
      for (int i = 0; i < opts_.nodes; ++i) wait_ready(i);
    } catch (...) {
      stop_all();
      throw;
    }
  }
  ~NatsServers() { stop_all(); }
  NatsServers(const NatsServers&) = delete;
  NatsServers& operator=(const NatsServers&) = delete;

  int nodes() const { return static_cast<int>(nodes_.size()); }
  std::string url(int i) const { return "nats://127.0.0.1:" + std::to_string(nodes_.at(i).client_port); }
  std::string urls() const {
    std::string all;
    for (int i = 0; i < nodes(); ++i) all += (i ? "," : "") + url(i);
    return all;
  }
  bool running(int i) const { return nodes_.at(i).process.running(); }
  pid_t pid(int i) const { return nodes_.at(i).process.pid(); }
  std::filesystem::path log_path(int i) const { return opts_.dir / ("n" + std::to_string(i) + ".log"); }

  // stop: SIGTERM (nats-server shuts down cleanly: flushes its store, leaves the cluster).
  void stop(int i) { nodes_.at(i).process.stop(); }
  // kill: SIGKILL, as a crash.
  void kill(int i) { nodes_.at(i).process.kill(); }
  // start: a stopped or killed node again, with its config, ports and store.
  void start(int i) {
    if (running(i)) return;
    spawn(i);
    wait_ready(i);
  }

 private:
  struct Node {
    int client_port;
    int route_port;
    ChildProcess process;  // not running until spawn
  };

  // free_port: a port the kernel says is free on 127.0.0.1 now. Another process could take it
  // before the server binds; the server then fails to start and says so in its log.
  static int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw NatsServerError("NatsServers: socket() failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    ::close(fd);
    if (!ok) throw NatsServerError("NatsServers: no free port on 127.0.0.1");
    return ntohs(addr.sin_port);
  }

  std::filesystem::path config_path(int i) const {
    return opts_.dir / ("n" + std::to_string(i) + ".conf");
  }

  void write_config(int i) const {
    const auto store = opts_.dir / ("n" + std::to_string(i) + "-store");
    std::filesystem::create_directories(store);
    std::ofstream conf(config_path(i));
    conf << "server_name: n" << i << "\n"
         << "listen: 127.0.0.1:" << nodes_[i].client_port << "\n"
         << "jetstream {\n  store_dir: \"" << store.string() << "\"\n"
         << "  max_memory_store: 64MB\n  max_file_store: 1GB\n}\n";
    if (nodes() > 1) {
      conf << "cluster {\n  name: cp\n  listen: 127.0.0.1:" << nodes_[i].route_port << "\n"
           << "  routes: [\n";
      for (int j = 0; j < nodes(); ++j)
        if (j != i) conf << "    nats-route://127.0.0.1:" << nodes_[j].route_port << "\n";
      conf << "  ]\n}\n";
    }
    if (!conf) throw NatsServerError("NatsServers: cannot write " + config_path(i).string());
  }

  void spawn(int i) {
    nodes_[i].process = ChildProcess({opts_.server, "-c", config_path(i).string()},
                                     log_path(i).string());
  }

  // wait_ready: until the node's client port answers with the server's INFO line.
  void wait_ready(int i) {
    const auto deadline = std::chrono::steady_clock::now() + opts_.ready_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (nodes_[i].process.exited()) {
        throw NatsServerError("NatsServers: node " + std::to_string(i) + " exited at start:\n" +
                              log_tail(i));
      }
      if (answers(nodes_[i].client_port)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw NatsServerError("NatsServers: node " + std::to_string(i) + " not ready after " +
                          std::to_string(opts_.ready_timeout.count()) + " ms:\n" + log_tail(i));
  }

  static bool answers(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    char buf[4] = {};
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    ::recv(fd, buf, sizeof buf, 0) == 4 && std::string(buf, 4) == "INFO";
    ::close(fd);
    return ok;
  }

  std::string log_tail(int i) const {
    std::ifstream in(log_path(i));
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::ostringstream tail;
    for (std::size_t k = lines.size() > 15 ? lines.size() - 15 : 0; k < lines.size(); ++k)
      tail << "  " << lines[k] << "\n";
    return tail.str();
  }

  void stop_all() noexcept {
    for (auto& n : nodes_) n.process.stop();
  }

  NatsServerOptions opts_;
  std::vector<Node> nodes_;
};

}  // namespace cp::dist
