// net.hpp: the few socket calls the daemon and the load generator need, on 127.0.0.1 only.
//
//   Socket           - owns a file descriptor (closed in the destructor).
//   bind_udp         - a UDP socket bound to 127.0.0.1:port (0: the kernel picks a free port).
//   listen_tcp       - a listening TCP socket on 127.0.0.1:port (0: a free port).
//   local_port       - the port a socket is bound to.
//   readable         - poll() for input with a timeout (the loops use it to see a stop flag).
//   udp_socket_drops - datagrams the kernel dropped at one UDP socket (its receive buffer was
//                      full): the `drops` column of /proc/net/udp on the socket's inode.
//   udp_sender, send_to_local, tcp_request - the client side (load generator, tests).
// Errors throw std::system_error with the call that failed.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace cp::metrics::net {

class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Socket& operator=(Socket&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Socket() { reset(); }
  int fd() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

[[noreturn]] inline void fail(const char* call) {
  throw std::system_error(errno, std::generic_category(), call);
}

inline sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

inline std::uint16_t local_port(const Socket& s) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  if (::getsockname(s.fd(), reinterpret_cast<sockaddr*>(&a), &len) != 0) fail("getsockname");
  return ntohs(a.sin_port);
}

inline Socket bind_udp(std::uint16_t port, int receive_buffer_bytes) {
  Socket s(::socket(AF_INET, SOCK_DGRAM, 0));
  if (!s.valid()) fail("socket");
  // A larger receive buffer absorbs bursts; the kernel may cap it (net.core.rmem_max).
  ::setsockopt(s.fd(), SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
  const sockaddr_in a = loopback(port);
  if (::bind(s.fd(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) fail("bind (udp)");
  return s;
}

inline Socket listen_tcp(std::uint16_t port) {
  Socket s(::socket(AF_INET, SOCK_STREAM, 0));
  if (!s.valid()) fail("socket");
  const int one = 1;
  ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in a = loopback(port);
  if (::bind(s.fd(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) fail("bind (tcp)");
  if (::listen(s.fd(), 16) != 0) fail("listen");
  return s;
}

inline bool readable(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

// udp_socket_drops: how many datagrams addressed to `s` the kernel has dropped since the socket
// was created, because its receive buffer was full (or a socket filter refused them). Linux
// keeps the count per socket (sk_drops) and shows it as the last column of /proc/net/udp,
// on the line whose inode column is the socket's inode (fstat of the descriptor). nullopt if
// the file or the line cannot be read. /proc/net/snmp's Udp RcvbufErrors is the same count
// summed over every socket of the network namespace.
inline std::optional<std::uint64_t> udp_socket_drops(const Socket& s) {
  struct stat st{};
  if (::fstat(s.fd(), &st) != 0) return std::nullopt;
  std::ifstream in("/proc/net/udp");
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
    std::istringstream fields(line);
    std::string f[13];
    for (auto& x : f) fields >> x;
    if (!fields) continue;
    if (f[9] == std::to_string(st.st_ino)) return std::stoull(f[12]);
  }
  return std::nullopt;
}

inline Socket udp_sender() {
  Socket s(::socket(AF_INET, SOCK_DGRAM, 0));
  if (!s.valid()) fail("socket");
  return s;
}

// send_to_local: one datagram to 127.0.0.1:port; false if the kernel refused it.
inline bool send_to_local(const Socket& s, std::uint16_t port, std::string_view data) {
  const sockaddr_in a = loopback(port);
  return ::sendto(s.fd(), data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&a),
                  sizeof a) == static_cast<ssize_t>(data.size());
}

// write_all: the whole buffer, retrying short writes; false on an error.
inline bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// tcp_request: connects to 127.0.0.1:port, sends one request line, returns the whole answer
// (the server closes the connection after answering).
inline std::string tcp_request(std::uint16_t port, const std::string& request) {
  Socket s(::socket(AF_INET, SOCK_STREAM, 0));
  if (!s.valid()) fail("socket");
  const sockaddr_in a = loopback(port);
  if (::connect(s.fd(), reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) fail("connect");
  if (!write_all(s.fd(), request + "\n")) fail("write");
  std::string answer;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(s.fd(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buf, static_cast<std::size_t>(n));
  }
  return answer;
}

}  // namespace cp::metrics::net
