// snapshot_test.cpp: atomic snapshots and falling back past a corrupt one
// (patterns/single_writer/snapshot.hpp).
#include <catch2/catch.hpp>

#include <string>

#include "patterns/single_writer/snapshot.hpp"
#include "tests/patterns/journal/toy.hpp"

using namespace cp::sw;
using namespace cp::sw::toy;

namespace {
std::string text(const Buffer& b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }
std::size_t count_files(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}
}  // namespace

TEST_CASE("snapshot: names sort like sequences and parse back", "[unit]") {
  const auto p = snapshot_path("/d", 42);
  REQUIRE(p.filename() == "snapshot-00000000000000000042.snap");
  REQUIRE(parse_snapshot_name(p.filename().string()) == 42u);
  REQUIRE(parse_snapshot_name(snapshot_path("/d", UINT64_MAX).filename().string()) == UINT64_MAX);
  REQUIRE_FALSE(parse_snapshot_name("snapshot-00000000000000000042.snap.tmp"));
  REQUIRE_FALSE(parse_snapshot_name("journal.log"));
  REQUIRE_FALSE(parse_snapshot_name("snapshot-0000000000000000004x.snap"));
}

TEST_CASE("snapshot: atomic write and read back, the newest valid one wins", "[unit]") {
  TempDir dir;
  REQUIRE_FALSE(read_latest_snapshot(dir.path()).snapshot);
  REQUIRE_FALSE(read_latest_snapshot(dir / "missing").snapshot);

  for (std::uint64_t seq : {10u, 20u, 30u}) write_snapshot(dir.path(), seq, as_bytes("state@" + std::to_string(seq)));
  REQUIRE(count_files(dir.path()) == 3);  // no temp file left behind
  write_snapshot(dir.path(), 5, {});      // an empty state is a valid snapshot

  auto latest = read_latest_snapshot(dir.path());
  REQUIRE(latest.snapshot);
  REQUIRE(latest.snapshot->sequence == 30);
  REQUIRE(text(latest.snapshot->bytes) == "state@30");
  REQUIRE(latest.skipped.empty());

  SECTION("a flipped byte in the newest falls back to the previous and names it") {
    flip_byte(snapshot_path(dir.path(), 30), 34);
    latest = read_latest_snapshot(dir.path());
    REQUIRE(latest.snapshot->sequence == 20);
    REQUIRE(text(latest.snapshot->bytes) == "state@20");
    REQUIRE(latest.skipped.size() == 1);
    REQUIRE(latest.skipped[0].path == snapshot_path(dir.path(), 30));
    REQUIRE(latest.skipped[0].reason == "checksum mismatch");
  }
  SECTION("truncated, bad header, renamed: each skipped with its reason") {
    const auto full = read_file(snapshot_path(dir.path(), 30));
    write_file(snapshot_path(dir.path(), 30), full.substr(0, full.size() - 1));
    flip_byte(snapshot_path(dir.path(), 20), 0);
    std::filesystem::copy_file(snapshot_path(dir.path(), 10), snapshot_path(dir.path(), 40));
    latest = read_latest_snapshot(dir.path());
    REQUIRE(latest.snapshot->sequence == 10);
    REQUIRE(latest.skipped.size() == 3);
    REQUIRE(latest.skipped[0].reason.find("disagrees with the file name") != std::string::npos);
    REQUIRE(latest.skipped[1].reason.find("does not match the file size") != std::string::npos);
    REQUIRE(latest.skipped[2].reason.find("bad header") != std::string::npos);
  }
  SECTION("a crash mid-write leaves only a temp file, which is ignored and pruned") {
    auto tmp = snapshot_path(dir.path(), 99);
    tmp += ".tmp";
    write_file(tmp, "half a snap");
    REQUIRE(read_latest_snapshot(dir.path()).snapshot->sequence == 30);
    REQUIRE(prune_snapshots(dir.path(), 2) == 3);  // 5, 10 and the temp file
    REQUIRE(count_files(dir.path()) == 2);
    REQUIRE(list_snapshots(dir.path()).back().first == 20);
  }
  SECTION("accept can reject a snapshot that checks out but does not decode") {
    latest = read_latest_snapshot(dir.path(), [](const Snapshot& s) {
      return s.sequence == 30 ? std::string("state does not decode") : std::string();
    });
    REQUIRE(latest.snapshot->sequence == 20);
    REQUIRE(latest.skipped.at(0).reason == "state does not decode");
  }
}

TEST_CASE("snapshot: an unwritable directory is a clear error", "[unit]") {
  TempDir dir;
  write_file(dir / "file", "x");
  try {
    write_snapshot(dir / "file", 1, as_bytes("s"));
    FAIL("writing a snapshot under a regular file should throw");
  } catch (const std::system_error& e) {
    REQUIRE(std::string(e.what()).find((dir / "file").string()) != std::string::npos);
  }
}
