// snapshot.hpp: whole-state snapshots of a single-writer engine, written atomically.
//
//   snapshot_path        - <dir>/snapshot-<sequence, 20 digits>.snap
//   write_snapshot       - writes one snapshot atomically (temp file, fsync, rename, fsync dir).
//   write_state_snapshot - the same, encoding a State with the user's StateCodec.
//   read_snapshot        - reads and checks one snapshot file.
//   list_snapshots       - the snapshot files in a directory, newest (highest sequence) first.
//   read_latest_snapshot - the newest valid snapshot; corrupt newer ones are skipped and named.
//   prune_snapshots      - keeps the newest N snapshot files, deletes older ones and temp files.
//
// A snapshot at sequence S is the state after applying every command with sequence <= S.
// Recovery loads it and replays the journal records after S (recovery.hpp). Snapshots bound
// recovery time; they are not needed for correctness, since the journal alone replays from
// the initial state.
//
// Why atomic: a crash while writing must leave either the old set of snapshots or the old set
// plus the complete new one, never a half snapshot under a final name. rename(2) within one
// directory is atomic; the fsync before it makes sure the name never points at data that is
// not on disk, and the directory fsync after it makes the new name itself durable. The
// checksum still guards against what atomicity cannot: media errors, a copy gone wrong.
//
// File format (little-endian):
//   +--------+------------------+-------------------------------------------+
//   |   0    | magic  8 bytes   | "CPSWSNAP"                                |
//   |   8    | version u32      | 1                                         |
//   |  12    | reserved u32     | 0                                         |
//   |  16    | sequence u64     | equals the sequence in the file name      |
//   |  24    | length u64       | payload bytes                             |
//   |  32    | payload          | the State, encoded by the user's codec    |
//   | 32+len | crc u32          | CRC-32C of every byte before it           |
//   +--------+------------------+-------------------------------------------+
//
// Threads: these are plain functions; the engine's owner thread calls them with a state it
// owns. (Snapshotting a large state without stalling the owner, e.g. by fork() or a
// persistent data structure, is a refinement not shown here.)
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "patterns/single_writer/codec.hpp"
#include "patterns/single_writer/journal.hpp"  // detail:: POSIX helpers

namespace cp::sw {

inline constexpr char kSnapshotMagic[8] = {'C', 'P', 'S', 'W', 'S', 'N', 'A', 'P'};
inline constexpr std::uint32_t kSnapshotVersion = 1;
inline constexpr std::size_t kSnapshotHeaderSize = 32;

// snapshot_path: zero-padded so that names sort like sequences.
inline std::filesystem::path snapshot_path(const std::filesystem::path& dir, std::uint64_t sequence) {
  char name[48];
  std::snprintf(name, sizeof name, "snapshot-%020llu.snap", static_cast<unsigned long long>(sequence));
  return dir / name;
}

// parse_snapshot_name: the sequence in a snapshot file name, nullopt for any other name.
inline std::optional<std::uint64_t> parse_snapshot_name(const std::string& name) {
  constexpr std::string_view prefix = "snapshot-", suffix = ".snap";
  if (name.size() != prefix.size() + 20 + suffix.size()) return std::nullopt;
  if (name.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) return std::nullopt;
  std::uint64_t seq = 0;
  const char* first = name.data() + prefix.size();
  const auto [end, ec] = std::from_chars(first, first + 20, seq);
  if (ec != std::errc{} || end != first + 20) return std::nullopt;
  return seq;
}

// write_snapshot: writes `bytes` as the snapshot at `sequence` in `dir` (created if missing)
// and returns its path. Atomic and durable when it returns. Overwrites an existing snapshot
// of the same sequence. Throws std::system_error (with the path) on any I/O error; the temp
// file is removed in that case.
inline std::filesystem::path write_snapshot(const std::filesystem::path& dir, std::uint64_t sequence,
                                            ByteView bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw std::system_error(ec, "create_directories " + dir.string());

  Buffer head;
  put_bytes(head, as_bytes(std::string_view(kSnapshotMagic, 8)));
  put_u32(head, kSnapshotVersion);
  put_u32(head, 0);
  put_u64(head, sequence);
  put_u64(head, bytes.size());
  Buffer tail;
  put_u32(tail, crc32c_extend(crc32c(head), bytes));

  const auto final_path = snapshot_path(dir, sequence);
  auto tmp_path = final_path;
  tmp_path += ".tmp";
  try {
    detail::Fd fd = detail::open_or_throw(tmp_path, O_WRONLY | O_CREAT | O_TRUNC);
    detail::write_all(fd.get(), head.data(), head.size(), tmp_path);
    detail::write_all(fd.get(), bytes.data(), bytes.size(), tmp_path);
    detail::write_all(fd.get(), tail.data(), tail.size(), tmp_path);
    detail::fdatasync_or_throw(fd.get(), tmp_path);
    fd.close_or_throw(tmp_path);
    if (::rename(tmp_path.c_str(), final_path.c_str()) != 0) detail::throw_errno(errno, "rename to", final_path);
  } catch (...) {
    std::filesystem::remove(tmp_path, ec);
    throw;
  }
  detail::fsync_directory(dir);
  return final_path;
}

// write_state_snapshot: encodes `state` with codec.snapshot_encode, then write_snapshot.
template <class State, class Codec>
  requires StateCodec<Codec, State>
std::filesystem::path write_state_snapshot(const std::filesystem::path& dir, std::uint64_t sequence,
                                           const State& state, const Codec& codec) {
  Buffer bytes;
  codec.snapshot_encode(state, bytes);
  return write_snapshot(dir, sequence, bytes);
}

struct Snapshot {
  std::uint64_t sequence = 0;
  std::filesystem::path path;
  Buffer bytes;  // the user's encoded state
};

struct SkippedSnapshot {
  std::filesystem::path path;
  std::string reason;
};

// read_snapshot: the snapshot in `file`, or nullopt with `problem` saying what is wrong
// (unreadable, short, bad magic/version, checksum, or a sequence that disagrees with the name).
inline std::optional<Snapshot> read_snapshot(const std::filesystem::path& file, std::string& problem) {
  Buffer data;
  try {
    detail::Fd fd = detail::open_or_throw(file, O_RDONLY);
    data.resize(detail::file_size_or_throw(fd.get(), file));
    std::size_t got = 0;
    while (got < data.size()) {
      const ssize_t n = ::read(fd.get(), data.data() + got, data.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) detail::throw_errno(errno, "read", file);
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    data.resize(got);
  } catch (const std::system_error& e) {
    problem = e.what();
    return std::nullopt;
  }
  ByteReader r(data);
  const ByteView magic = r.bytes(8);
  const auto version = r.u32();
  r.u32();
  const auto sequence = r.u64();
  const auto length = r.u64();
  if (!r.ok() || !std::equal(magic.begin(), magic.end(), as_bytes(std::string_view(kSnapshotMagic, 8)).begin()) ||
      version != kSnapshotVersion) {
    problem = "not a version-1 snapshot (bad header)";
    return std::nullopt;
  }
  if (data.size() < kSnapshotHeaderSize + 4 || length != data.size() - kSnapshotHeaderSize - 4) {
    problem = "length " + std::to_string(length) + " does not match the file size " + std::to_string(data.size());
    return std::nullopt;
  }
  const auto body = ByteView(data).first(data.size() - 4);
  if (load_u32(data.data() + body.size()) != crc32c(body)) {
    problem = "checksum mismatch";
    return std::nullopt;
  }
  if (const auto named = parse_snapshot_name(file.filename().string()); named && *named != sequence) {
    problem = "sequence " + std::to_string(sequence) + " disagrees with the file name";
    return std::nullopt;
  }
  Snapshot s;
  s.sequence = sequence;
  s.path = file;
  s.bytes.assign(data.begin() + kSnapshotHeaderSize, data.end() - 4);
  return s;
}

// list_snapshots: (sequence, path) of every snapshot-named file in dir, highest sequence
// first. A missing directory has none.
inline std::vector<std::pair<std::uint64_t, std::filesystem::path>> list_snapshots(const std::filesystem::path& dir) {
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (auto seq = parse_snapshot_name(it->path().filename().string())) out.emplace_back(*seq, it->path());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return out;
}

struct LatestSnapshot {
  std::optional<Snapshot> snapshot;      // nullopt: no valid snapshot at all
  std::vector<SkippedSnapshot> skipped;  // newer snapshots that were invalid, newest first
};

// read_latest_snapshot: the valid snapshot with the highest sequence, skipping (and naming)
// invalid newer ones. `accept` may reject a snapshot that checks out on disk but that the
// caller cannot use (its state does not decode): it returns an empty string to accept, or
// the reason to skip.
template <class Accept>
LatestSnapshot read_latest_snapshot(const std::filesystem::path& dir, Accept&& accept) {
  LatestSnapshot out;
  for (auto& [seq, path] : list_snapshots(dir)) {
    std::string problem;
    auto snap = read_snapshot(path, problem);
    if (snap) problem = accept(*snap);
    if (problem.empty()) {
      out.snapshot = std::move(snap);
      break;
    }
    out.skipped.push_back({path, std::move(problem)});
  }
  return out;
}

inline LatestSnapshot read_latest_snapshot(const std::filesystem::path& dir) {
  return read_latest_snapshot(dir, [](const Snapshot&) { return std::string(); });
}

// prune_snapshots: deletes all but the `keep` newest snapshot files (keep >= 1) and any
// leftover temp files of interrupted writes. Returns how many files it removed. Keep more
// than one: if the newest turns out corrupt, recovery falls back to the one before.
inline std::size_t prune_snapshots(const std::filesystem::path& dir, std::size_t keep) {
  keep = std::max<std::size_t>(keep, 1);
  std::size_t removed = 0;
  std::error_code ec;
  const auto all = list_snapshots(dir);
  for (std::size_t i = keep; i < all.size(); ++i) removed += std::filesystem::remove(all[i].second, ec) ? 1 : 0;
  std::vector<std::filesystem::path> temps;  // collected first: no removal while iterating
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.starts_with("snapshot-") && name.ends_with(".snap.tmp")) temps.push_back(it->path());
  }
  for (const auto& t : temps) removed += std::filesystem::remove(t, ec) ? 1 : 0;
  return removed;
}

}  // namespace cp::sw
