// child_process.hpp: ChildProcess, a program this process starts and is sure to stop: a NATS
// server (nats_servers.hpp), an engine process in a demo or a test.
//
//   ChildProcess()           - none yet (running() is false).
//   ChildProcess(args, log)  - starts args[0] (found on PATH) with stdout and stderr appended to
//                              `log`. The kernel sends the child SIGKILL if the thread that
//                              started it dies (PR_SET_PDEATHSIG), so a crashed parent leaves
//                              no child behind: start children from a thread that outlives them.
//   running(), pid()
//   exited()                 - reaps the child if it has exited: its status, else nullopt.
//   stop() / kill()          - SIGTERM, then SIGKILL after a grace period / SIGKILL at once
//                              (a crash); either way the child is reaped. Returns its status.
//   ~ChildProcess()          - stop(), if still running.
//
// Status: the exit code, or 128 + the signal that ended it (as a shell reports it).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace cp::dist {

class ChildProcess {
 public:
  ChildProcess() = default;  // none: not running
  ChildProcess(std::vector<std::string> args, const std::string& log) {
    if (args.empty()) throw std::invalid_argument("ChildProcess: no program");
    // Everything the child needs is built before fork: between fork and exec a child of a
    // threaded program may only make async-signal-safe calls.
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("ChildProcess: fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
      }
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~ChildProcess() { stop(); }
  ChildProcess(ChildProcess&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
  ChildProcess& operator=(ChildProcess&& o) noexcept {
    if (this != &o) {
      stop();
      pid_ = std::exchange(o.pid_, -1);
    }
    return *this;
  }

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

  std::optional<int> exited() {
    if (pid_ <= 0) return status_;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return std::nullopt;
    return reaped(status);
  }

  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5)) { return end(SIGTERM, grace); }
  int kill() { return end(SIGKILL, std::chrono::milliseconds(0)); }

 private:
  int reaped(int status) {
    pid_ = -1;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return *status_;
  }

  int end(int sig, std::chrono::milliseconds grace) {
    if (pid_ <= 0) return status_.value_or(-1);
    ::kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return reaped(status);
  }

  pid_t pid_ = -1;
  std::optional<int> status_;
};

}  // namespace cp::dist
