// scan_test.cpp: lesson 02's ledger scan (scan.hpp). Under either lock, a scan never sees a
// half-done transfer, with readers and the writer running at once; the counts add up. No
// timing: each reader does a fixed number of reads.
#include <catch2/catch.hpp>

#include "lessons/02-read-mostly/rate_limiter.hpp"
#include "lessons/02-read-mostly/scan.hpp"

namespace l02 = cp::lessons::l02;

TEMPLATE_TEST_CASE("l02 scan: no scan sees a half-done transfer", "[stress]", cp::SharedMutex,
                   cp::lessons::ExclusiveOnlyMutex) {
  const l02::ScanConfig cfg{.readers = 3, .accounts = 2'000, .scan = true,
                            .write_every = std::chrono::microseconds(20),
                            .reads_per_reader = 2'000};
  const l02::ScanResult r = l02::run_scan<TestType>(cfg);
  CHECK(r.reads == 3 * 2'000);
  CHECK(r.torn == 0);
  CHECK(r.writes >= 1);
}

TEST_CASE("l02 scan: lookups are counted and never torn", "[unit]") {
  const l02::ScanConfig cfg{.readers = 2, .accounts = 100, .scan = false,
                            .reads_per_reader = 10'000};
  const l02::ScanResult r = l02::run_scan<cp::SharedMutex>(cfg);
  CHECK(r.reads == 20'000);
  CHECK(r.torn == 0);
}
