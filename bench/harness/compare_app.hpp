// compare_app.hpp: the `compare` command as a function, so tests can run it in-process.
//
//   build_catalogue - workload and design names, for the option parser and --list.
//   print_design_list - --list: every design and its declared traits.
//   TeeBuffer       - a streambuf writing to two others (the terminal and summary.txt).
//   format_eta      - "1m23s".
//   run_compare     - parse, run every planned row (closed rows as interleaved repetitions,
//                     then open rows at a % of their median), print tables, write the result
//                     files; returns the exit status: 0 all rows passed, 1 some row's
//                     correctness check failed (or a file could not be written), 2 bad usage.
//                     Progress (ProgressStyle, with an ETA) goes to `progress`; the header,
//                     the compact tables and the summary to `terminal`.
// The functions are compiled in compare_app.cpp, the designs' rows in bench/harness/rows/: this
// header names no design, so including it costs little.
#pragma once

#include <absl/synchronization/mutex.h>

#include <algorithm>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include "bench/harness/options.hpp"

namespace cp::bench {

// Benchmarks run with Abseil's lock-order tracking off: Debian builds it on, and it costs
// ~40 ns per uncontended lock. Tests keep it on. Idempotent.
inline void disable_abseil_deadlock_detection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

Catalogue build_catalogue();
void print_design_list(std::ostream& out);

// TeeBuffer: everything written goes to both buffers (the terminal and summary.txt).
class TeeBuffer : public std::streambuf {
 public:
  TeeBuffer(std::streambuf* first, std::streambuf* second) : first_(first), second_(second) {}

 protected:
  int overflow(int c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    const bool ok = first_->sputc(ch) != traits_type::eof() && second_->sputc(ch) != traits_type::eof();
    return ok ? c : traits_type::eof();
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    const auto a = first_->sputn(s, n), b = second_->sputn(s, n);
    return std::min(a, b);
  }
  int sync() override {
    const int a = first_->pubsync(), b = second_->pubsync();
    return a == 0 && b == 0 ? 0 : -1;
  }

 private:
  std::streambuf* first_;
  std::streambuf* second_;
};

inline std::string format_eta(double seconds) {
  const long s = std::max(0L, static_cast<long>(seconds + 0.5));
  if (s < 60) return std::to_string(s) + "s";
  return std::to_string(s / 60) + "m" + (s % 60 < 10 ? "0" : "") + std::to_string(s % 60) + "s";
}

// How run_compare reports progress: every_run (a line per run: tests), periodic (a log: the
// first and last runs, failures, a line every 10 s), bar (a terminal: one line rewritten).
enum class ProgressStyle { every_run, periodic, bar };

int run_compare(const std::vector<std::string>& args, std::ostream& terminal,
                std::ostream& progress, ProgressStyle style = ProgressStyle::every_run);

}  // namespace cp::bench
