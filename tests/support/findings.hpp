// findings.hpp: what the conformance checks return, and small helpers for concurrent tests.
//
// Checks are plain functions that return Findings (a list of problems) instead of asserting,
// for two reasons: Catch2 v2 assertions are not thread-safe (workers record, the main thread
// asserts after joining), and the same checks must be runnable against deliberately broken
// designs to prove that they catch bugs (tests/conformance/catches_bugs_test.cpp).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace cp::test {

// kSanitizerSlowdown: how much to scale down a stress test's work under the sanitizers,
// which run it about 10x slower.
#if defined(CP_SANITIZED)
inline constexpr unsigned kSanitizerSlowdown = 4;
#else
inline constexpr unsigned kSanitizerSlowdown = 1;
#endif

struct Findings {
  std::vector<std::string> problems;

  bool ok() const { return problems.empty(); }

  template <class... Parts>
  void fail(const Parts&... parts) {
    if (problems.size() >= 20) return;  // the first few say enough
    std::ostringstream out;
    (out << ... << parts);
    problems.push_back(out.str());
  }

  void merge(const Findings& other) {
    for (const auto& p : other.problems) problems.push_back(p);
  }

  std::string report() const {
    std::string r;
    for (const auto& p : problems) r += "  - " + p + "\n";
    return r;
  }
};

// The seed of every seeded test: CP_SEED from the environment, or a fixed default, so a
// failure reproduces with `CP_SEED=<printed seed> ctest -R <test>`.
inline std::uint64_t seed() {
  if (const char* s = std::getenv("CP_SEED")) return std::strtoull(s, nullptr, 0);
  return 20261122;
}

inline constexpr unsigned kStressThreadCounts[] = {1, 2, 4, 8};

// Runs body(thread_index) on n threads and joins them all.
template <class Body>
void run_threads(unsigned n, Body body) {
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (unsigned i = 0; i < n; ++i) threads.emplace_back([&body, i] { body(i); });
  for (auto& t : threads) t.join();
}

}  // namespace cp::test

// Asserts that a check found nothing, printing the seed and every problem otherwise.
#define CP_REQUIRE_CLEAN(findings, seed_value)                                   \
  do {                                                                          \
    const auto& cp_findings_ = (findings);                                      \
    INFO("seed " << (seed_value) << " (rerun with CP_SEED=" << (seed_value) << ")\n" \
                 << cp_findings_.report());                                     \
    REQUIRE(cp_findings_.ok());                                                 \
  } while (0)
