// journal_test.cpp: the command journal: round trip, torn tails, flipped bytes, bad headers,
// error reporting (patterns/single_writer/journal.hpp, codec.hpp).
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "comparisons/common/random.hpp"
#include "patterns/single_writer/codec.hpp"
#include "patterns/single_writer/journal.hpp"
#include "tests/patterns/journal/toy.hpp"
#include "tests/support/findings.hpp"

using namespace cp;
using namespace cp::sw;
using namespace cp::sw::toy;

namespace {

struct Rec {
  std::uint64_t seq;
  std::string payload;
};

// Records with strictly increasing (sometimes gapped) sequences and 0..300-byte payloads.
std::vector<Rec> make_records(std::uint64_t seed, std::size_t n) {
  Xoshiro256 rng(seed);
  std::vector<Rec> out;
  std::uint64_t seq = 0;
  for (std::size_t i = 0; i < n; ++i) {
    seq += 1 + (rng.percent(10) ? rng.below(5) : 0);
    std::string p(rng.below(301), '\0');
    for (auto& ch : p) ch = static_cast<char>(rng.below(256));
    out.push_back({seq, std::move(p)});
  }
  return out;
}

void write_records(const std::filesystem::path& path, const std::vector<Rec>& recs, FsyncPolicy policy,
                   std::uint64_t seed = 1) {
  Xoshiro256 rng(seed);
  JournalWriter w(path, policy);
  for (const auto& r : recs) {
    w.append(r.seq, as_bytes(r.payload));
    if (rng.percent(2)) w.sync();
  }
  w.close();
}

// File offset where record i starts.
std::uint64_t record_offset(const std::vector<Rec>& recs, std::size_t i) {
  std::uint64_t off = kJournalHeaderSize;
  for (std::size_t j = 0; j < i; ++j) off += kRecordOverhead + recs[j].payload.size();
  return off;
}

// Reads the whole journal; findings if the records read are not exactly recs[0..expect_n).
test::Findings check_prefix(const std::filesystem::path& path, const std::vector<Rec>& recs, std::size_t expect_n,
                            ReplayReport& report) {
  test::Findings f;
  std::size_t i = 0;
  report = read_journal(path, 0, [&](std::uint64_t seq, ByteView payload) {
    if (i >= recs.size()) return f.fail("extra record ", seq);
    if (seq != recs[i].seq) f.fail("record ", i, ": sequence ", seq, " want ", recs[i].seq);
    if (std::string(reinterpret_cast<const char*>(payload.data()), payload.size()) != recs[i].payload)
      f.fail("record ", i, ": payload differs");
    ++i;
  });
  if (i != expect_n) f.fail("read ", i, " records, want ", expect_n);
  if (report.records_read != expect_n) f.fail("records_read ", report.records_read, " want ", expect_n);
  const std::uint64_t want_last = expect_n ? recs[expect_n - 1].seq : 0;
  if (report.last_good_sequence != want_last) f.fail("last_good_sequence ", report.last_good_sequence);
  return f;
}

}  // namespace

TEST_CASE("codec: CRC-32C check value and little-endian round trip", "[unit]") {
  REQUIRE(crc32c(as_bytes("123456789")) == 0xE3069283u);
  REQUIRE(crc32c(as_bytes("")) == 0u);
  REQUIRE(crc32c_extend(crc32c(as_bytes("1234")), as_bytes("56789")) == 0xE3069283u);

  Buffer b;
  put_u8(b, 0xAB);
  put_u16(b, 0x1234);
  put_u32(b, 0xDEADBEEF);
  put_u64(b, 0x0102030405060708ULL);
  put_i64(b, -5);
  put_string(b, "hi");
  REQUIRE(b.size() == 1 + 2 + 4 + 8 + 8 + 4 + 2);
  REQUIRE(b[3] == std::byte{0xEF});  // little-endian: low byte first
  ByteReader r(b);
  REQUIRE(r.u8() == 0xAB);
  REQUIRE(r.u16() == 0x1234);
  REQUIRE(r.u32() == 0xDEADBEEF);
  REQUIRE(r.u64() == 0x0102030405060708ULL);
  REQUIRE(r.i64() == -5);
  REQUIRE(r.string() == "hi");
  REQUIRE(r.done());
  REQUIRE(r.u32() == 0);  // past the end: zero, and ok() is gone for good
  REQUIRE_FALSE(r.ok());
}

TEST_CASE("journal: round trip under every fsync policy", "[unit]") {
  const auto s = test::seed();
  for (const auto policy : {FsyncPolicy::none, FsyncPolicy::per_batch, FsyncPolicy::per_command}) {
    INFO("policy " << to_string(policy) << ", seed " << s);
    TempDir dir;
    const auto recs = make_records(s, policy == FsyncPolicy::per_command ? 50 : 3000);
    const auto path = dir / "journal.log";
    write_records(path, recs, policy, s);

    ReplayReport report;
    CP_REQUIRE_CLEAN(check_prefix(path, recs, recs.size(), report), s);
    REQUIRE(report.stop_reason == StopReason::clean_end);
    REQUIRE(report.byte_offset_of_problem == report.file_size);
    REQUIRE(report.file_size == record_offset(recs, recs.size()));
    REQUIRE(report.message.empty());

    // after_sequence filters; reopening appends after what is there.
    const auto mid = recs[recs.size() / 2].seq;
    std::uint64_t first = 0, n = 0;
    auto r2 = read_journal(path, mid, [&](std::uint64_t seq, ByteView) { first = first ? first : seq, ++n; });
    REQUIRE(first == recs[recs.size() / 2 + 1].seq);
    REQUIRE(n == recs.size() - recs.size() / 2 - 1);
    REQUIRE(r2.records_delivered == n);
    REQUIRE(r2.records_read == recs.size());

    JournalWriter w(path, policy, recs.back().seq);
    REQUIRE_THROWS_AS(w.append(recs.back().seq, as_bytes("x")), std::logic_error);
    w.append(recs.back().seq + 1, as_bytes("more"));
    w.close();
    n = 0;
    auto r3 = read_journal(path, 0, [&](std::uint64_t, ByteView) { ++n; });
    REQUIRE(r3.clean());
    REQUIRE(n == recs.size() + 1);
    REQUIRE(r3.last_good_sequence == recs.back().seq + 1);
  }
}

TEST_CASE("journal: per_batch writes nothing before sync, abandon loses only the open batch", "[unit]") {
  TempDir dir;
  const auto path = dir / "journal.log";
  JournalWriter w(path, FsyncPolicy::per_batch);
  w.append(1, as_bytes("a"));
  w.append(2, as_bytes("b"));
  REQUIRE(std::filesystem::file_size(path) == kJournalHeaderSize);
  w.sync();
  w.append(3, as_bytes("c"));
  w.abandon();
  std::uint64_t n = 0;
  auto r = read_journal(path, 0, [&](std::uint64_t, ByteView) { ++n; });
  REQUIRE(r.clean());
  REQUIRE(n == 2);
  REQUIRE(r.last_good_sequence == 2);
}

TEST_CASE("journal: a torn tail stops at the last complete record", "[unit]") {
  const auto s = test::seed();
  TempDir dir;
  const auto path = dir / "journal.log";
  const auto recs = make_records(s + 1, 40);
  write_records(path, recs, FsyncPolicy::none);
  const std::string full = read_file(path);
  const auto last = recs.size() - 1;
  const auto last_start = record_offset(recs, last);

  // Every cut inside the last record.
  for (std::uint64_t cut = last_start + 1; cut < full.size(); ++cut) {
    INFO("cut at " << cut << " of " << full.size());
    write_file(path, full.substr(0, cut));
    ReplayReport report;
    CP_REQUIRE_CLEAN(check_prefix(path, recs, last, report), s);
    REQUIRE(report.stop_reason == StopReason::truncated_tail);
    REQUIRE(report.byte_offset_of_problem == last_start);
    REQUIRE(report.bytes_after_problem() == cut - last_start);
    REQUIRE(report.message.find(std::to_string(last_start)) != std::string::npos);
  }

  // Random cuts anywhere, including inside the file header.
  Xoshiro256 rng(s);
  for (int trial = 0; trial < 100; ++trial) {  // each repair costs an fsync
    const auto cut = rng.below(full.size() + 1);
    std::size_t complete = 0;
    while (complete < recs.size() && record_offset(recs, complete + 1) <= cut) ++complete;
    INFO("cut at " << cut << ", complete records " << complete);
    write_file(path, full.substr(0, cut));
    ReplayReport report;
    CP_REQUIRE_CLEAN(check_prefix(path, recs, complete, report), s);
    const bool at_boundary = cut == record_offset(recs, complete) && cut >= kJournalHeaderSize;
    REQUIRE(report.stop_reason == (at_boundary ? StopReason::clean_end : StopReason::truncated_tail));
    REQUIRE(report.byte_offset_of_problem == (cut < kJournalHeaderSize ? 0 : record_offset(recs, complete)));

    // Repair, append, read again: the good prefix plus the new record.
    truncate_to_last_good(path, report);
    REQUIRE(std::filesystem::file_size(path) == report.byte_offset_of_problem);
    {
      JournalWriter w(path, FsyncPolicy::none, report.last_good_sequence);
      w.append(report.last_good_sequence + 1, as_bytes("after repair"));
    }
    std::uint64_t n = 0;
    auto again = read_journal(path, 0, [&](std::uint64_t, ByteView) { ++n; });
    REQUIRE(again.clean());
    REQUIRE(n == complete + 1);
  }
}

TEST_CASE("journal: a flipped byte stops replay before the damaged record", "[unit]") {
  const auto s = test::seed();
  TempDir dir;
  const auto path = dir / "journal.log";
  const auto recs = make_records(s + 2, 30);
  write_records(path, recs, FsyncPolicy::none);
  const std::string full = read_file(path);
  const std::size_t k = 15;
  const auto start = record_offset(recs, k), end = record_offset(recs, k + 1);

  for (auto at = start; at < end; ++at) {
    INFO("flipped byte " << at - start << " of record " << k);
    write_file(path, full);
    flip_byte(path, at);
    ReplayReport report;
    CP_REQUIRE_CLEAN(check_prefix(path, recs, k, report), s);
    REQUIRE(report.byte_offset_of_problem == start);
    if (at - start < 4) {
      // A length made larger than the rest of the file looks exactly like a torn write.
      REQUIRE((report.stop_reason == StopReason::corrupt_record || report.stop_reason == StopReason::truncated_tail));
    } else {
      REQUIRE(report.stop_reason == StopReason::corrupt_record);
      REQUIRE(report.message.find("checksum mismatch") != std::string::npos);
    }
  }

  SECTION("the length's high byte: impossible length") {
    write_file(path, full);
    flip_byte(path, start + 3);
    ReplayReport report;
    CP_REQUIRE_CLEAN(check_prefix(path, recs, k, report), s);
    REQUIRE(report.stop_reason == StopReason::corrupt_record);
    REQUIRE(report.message.find("impossible length") != std::string::npos);
    REQUIRE(truncate_to_last_good(path, report));
    REQUIRE(std::filesystem::file_size(path) == start);
  }
  SECTION("any header byte: bad_header, nothing read") {
    for (std::size_t at = 0; at < kJournalHeaderSize; ++at) {
      write_file(path, full);
      flip_byte(path, at, 0x01);
      ReplayReport report;
      CP_REQUIRE_CLEAN(check_prefix(path, recs, 0, report), s);
      REQUIRE(report.stop_reason == StopReason::bad_header);
      REQUIRE(report.byte_offset_of_problem == 0);
      REQUIRE_THROWS_AS(truncate_to_last_good(path, report), std::logic_error);
      REQUIRE_THROWS_AS(JournalWriter(path, FsyncPolicy::none), std::runtime_error);
    }
  }
}

TEST_CASE("journal: a sequence that goes back is corruption", "[unit]") {
  TempDir dir;
  const auto path = dir / "journal.log";
  {
    JournalWriter w(path, FsyncPolicy::none);
    w.append(5, as_bytes("a"));
  }
  {
    JournalWriter w(path, FsyncPolicy::none);  // not told about 5: writes 3 after it
    w.append(3, as_bytes("b"));
  }
  auto r = read_journal(path, 0, [](std::uint64_t, ByteView) {});
  REQUIRE(r.stop_reason == StopReason::corrupt_record);
  REQUIRE(r.records_read == 1);
  REQUIRE(r.last_good_sequence == 5);
}

TEST_CASE("journal: a file that is not a journal is bad_header, errors name the path", "[unit]") {
  TempDir dir;
  const auto text = dir / "notes.txt";
  write_file(text, "this is not a journal, just some text that is long enough\n");
  auto r = read_journal(text, 0, [](std::uint64_t, ByteView) { FAIL("no record expected"); });
  REQUIRE(r.stop_reason == StopReason::bad_header);
  REQUIRE(r.records_read == 0);
  REQUIRE_THROWS_AS(JournalWriter(text, FsyncPolicy::per_batch), std::runtime_error);

  // An empty file is a journal whose header was never written: a torn tail at offset 0.
  const auto empty = dir / "empty.log";
  write_file(empty, "");
  auto e = read_journal(empty, 0, [](std::uint64_t, ByteView) {});
  REQUIRE(e.stop_reason == StopReason::truncated_tail);
  REQUIRE(e.byte_offset_of_problem == 0);

  // Unwritable location (a directory that is a regular file; root ignores chmod, so not that).
  const auto bad = text / "journal.log";
  try {
    JournalWriter w(bad, FsyncPolicy::per_command);
    FAIL("opening under a regular file should throw");
  } catch (const std::system_error& ex) {
    REQUIRE(std::string(ex.what()).find(bad.string()) != std::string::npos);
    REQUIRE(ex.code() == std::errc::not_a_directory);
  }
  REQUIRE_THROWS_AS(read_journal(dir / "missing.log", 0, [](std::uint64_t, ByteView) {}), std::system_error);

  JournalWriter w(dir / "j.log", FsyncPolicy::none);
  REQUIRE_THROWS_AS(w.append(1, Buffer(kMaxRecordPayload + 1)), std::length_error);
  w.close();
  REQUIRE_THROWS_AS(w.append(1, as_bytes("x")), std::logic_error);
}

TEST_CASE("journal: find_next_good_record tells a damaged tail from damage mid-file", "[unit]") {
  const auto s = test::seed();
  TempDir dir;
  const auto path = dir / "journal.log";
  const auto recs = make_records(s + 3, 12);
  write_records(path, recs, FsyncPolicy::none);
  const std::string full = read_file(path);

  SECTION("a zero-filled tail (an extended file whose data never landed) has no good record") {
    write_file(path, full + std::string(100, '\0'));
    ReplayReport report;
    CP_REQUIRE_CLEAN(check_prefix(path, recs, recs.size(), report), s);
    REQUIRE(report.stop_reason == StopReason::corrupt_record);
    REQUIRE(report.byte_offset_of_problem == full.size());
    REQUIRE_FALSE(find_next_good_record(path, report.byte_offset_of_problem + 1));
  }
  SECTION("a length blown past the end of the file: looks torn, but good records follow") {
    const auto at = record_offset(recs, 5);
    flip_byte(path, at + 2, 0x10);  // length += 1 MiB: runs past the end
    ReplayReport report;
    CP_REQUIRE_CLEAN(check_prefix(path, recs, 5, report), s);
    REQUIRE(report.stop_reason == StopReason::truncated_tail);
    const auto next = find_next_good_record(path, report.byte_offset_of_problem + 1);
    REQUIRE(next);
    REQUIRE(next->offset == record_offset(recs, 6));
    REQUIRE(next->sequence == recs[6].seq);
    std::uint64_t n = 0;
    auto rest = read_journal(path, 0, [&](std::uint64_t, ByteView) { ++n; }, next->offset);
    REQUIRE(rest.clean());
    REQUIRE(n == recs.size() - 6);
  }
}
