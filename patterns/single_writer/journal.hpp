// journal.hpp: the single-writer engine's append-only command journal.
//
//   FsyncPolicy     - when appended records are forced to stable storage.
//   JournalWriter   - appends [length][sequence][payload][crc] records to one file.
//                     Used by the single owner thread only: it has no locks, by design.
//   JournalReader   - reads records back in order; stops at the first truncated or corrupt
//                     record and says exactly where and why (ReplayReport).
//   read_journal    - replays every record with sequence > after_sequence through a callback.
//   read_commands   - the same, decoding each payload with the user's CommandCodec.
//   find_next_good_record
//                   - after damage, the next offset where a good record starts (if any):
//                     tells a torn tail (nothing good after it) from damage mid-file.
//   truncate_to_last_good
//                   - cuts a torn or corrupt tail so the engine can append again.
//
// WHAT. The single-writer engine applies commands one at a time, in one explicit order, and
// gives each a sequence number. The journal is that order written down: every command, in
// sequence, before (or while) it is applied. Snapshots (snapshot.hpp) save the whole state
// now and then; recovery (recovery.hpp) is "load the newest snapshot, replay the journal
// records after its sequence".
//
// WHY IT WORKS: replay = determinism. The state after command n is a pure function of the
// state after n-1 and command n, because only one thread ever touches the state and it
// applies commands in sequence order. So the same snapshot plus the same commands give the
// same state, byte for byte, on any run. Anything else an apply step depends on (the clock,
// randomness, a thread's timing) must be inside the command, decided before it is journaled;
// an apply that reads the wall clock breaks recovery silently.
//
// FILE FORMAT (all integers little-endian):
//
//   file header, 16 bytes:
//   +--------+-------------------+---------------------------------------------+
//   | offset | field             |                                             |
//   +--------+-------------------+---------------------------------------------+
//   |   0    | magic   8 bytes   | "CPSWJRNL"                                  |
//   |   8    | version u32       | 1                                           |
//   |  12    | crc     u32       | CRC-32C of bytes 0..11                      |
//   +--------+-------------------+---------------------------------------------+
//   then records, back to back:
//   +--------+-------------------+---------------------------------------------+
//   |   0    | length  u32       | payload bytes, <= kMaxRecordPayload         |
//   |   4    | sequence u64      | > the previous record's; the first is >= 1  |
//   |  12    | payload           | the command, encoded by the user's codec    |
//   | 12+len | crc     u32       | CRC-32C of length + sequence + payload      |
//   +--------+-------------------+---------------------------------------------+
//
// A record is good when all 16 + length bytes are there, the length is possible, the CRC
// matches and the sequence increases. Reading stops at the first record that is not good:
//   truncated_tail  - the file ends inside a record: a write torn by a crash. Normal.
//   corrupt_record  - an impossible length, a CRC mismatch or a sequence that goes back: the
//                     bytes changed after they were written (or a torn write left garbage, e.g.
//                     zeros from a file system that extended the file before the data landed).
//   bad_header      - the file is not a journal of this version. Nothing is read.
// Everything before the problem is returned. A length corrupted into a value that runs past
// the end of the file cannot be told from a torn write; it is reported as truncated_tail.
//
// FSYNC POLICY: what a committed command survives.
//   +-------------+----------------------------+------------------------------------------+
//   | policy      | process crash loses        | power failure / kernel crash loses       |
//   +-------------+----------------------------+------------------------------------------+
//   | none        | nothing (one write(2) per  | whatever the OS had not written back     |
//   |             | append, the kernel has it) | yet: typically up to ~30 s of records    |
//   | per_batch   | the batch not yet synced   | the batch not yet synced                 |
//   | per_command | at most the record being   | at most the record being written         |
//   |             | written                    |                                          |
//   +-------------+----------------------------+------------------------------------------+
// per_batch is group commit: the owner drains a batch of commands from its queue, appends
// them all (buffered in memory), calls sync() once (one write + one fdatasync), and only then
// sends the replies. A reply therefore always means "durable", yet one fdatasync is shared by
// the whole batch. per_command costs one fdatasync per command (~0.1-10 ms on real disks);
// none is as fast as write(2) and is right when the journal is a debugging aid or when
// replicas, not the local disk, provide durability.
// After a failed fdatasync the writer refuses further use: Linux may already have dropped
// the dirty pages, so retrying could report success for data that is gone ("fsyncgate").
//
// WHEN NOT: state that can be rebuilt from elsewhere (a cache), commands that are not
// deterministic and cannot be made so, or when a database already gives you a log.
// Alternatives: a write-ahead log inside an embedded database (SQLite WAL, RocksDB), or
// replicating the command stream to other machines (Raft) instead of trusting one disk.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <concepts>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "patterns/single_writer/codec.hpp"

namespace cp::sw {

enum class FsyncPolicy { none, per_batch, per_command };

inline constexpr const char* to_string(FsyncPolicy p) {
  switch (p) {
    case FsyncPolicy::none: return "none";
    case FsyncPolicy::per_batch: return "per_batch";
    case FsyncPolicy::per_command: return "per_command";
  }
  return "?";
}

inline constexpr char kJournalMagic[8] = {'C', 'P', 'S', 'W', 'J', 'R', 'N', 'L'};
inline constexpr std::uint32_t kJournalVersion = 1;
inline constexpr std::size_t kJournalHeaderSize = 16;
inline constexpr std::size_t kRecordOverhead = 16;  // length + sequence + crc
// Larger lengths are corruption, not records: bounds the memory a bad length can demand.
inline constexpr std::uint32_t kMaxRecordPayload = 16u << 20;

// ---- POSIX helpers (shared with snapshot.hpp) ----------------------------------------------

namespace detail {

[[noreturn]] inline void throw_errno(int err, const std::string& what, const std::filesystem::path& path) {
  throw std::system_error(err, std::generic_category(), what + " " + path.string());
}

// Fd: owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);  // errors of close after fdatasync carry no news
    fd_ = -1;
  }
  // close that reports: for files whose data we have not synced ourselves.
  void close_or_throw(const std::filesystem::path& path) {
    const int fd = std::exchange(fd_, -1);
    if (fd >= 0 && ::close(fd) != 0) throw_errno(errno, "close", path);
  }

 private:
  int fd_ = -1;
};

inline Fd open_or_throw(const std::filesystem::path& path, int flags, mode_t mode = 0644) {
  int fd;
  do fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) throw_errno(errno, "open", path);
  return Fd(fd);
}

// write(2) may write less than asked (signals, quotas): loop until all is written.
inline void write_all(int fd, const std::byte* data, std::size_t n, const std::filesystem::path& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, "write", path);
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
}

inline void fdatasync_or_throw(int fd, const std::filesystem::path& path) {
  if (::fdatasync(fd) != 0) throw_errno(errno, "fdatasync", path);
}

// A new or renamed file's name lives in its directory: without this fsync a power failure
// can leave the data on disk but no name pointing at it.
inline void fsync_directory(const std::filesystem::path& dir) {
  Fd d = open_or_throw(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY);
  if (::fsync(d.get()) != 0) throw_errno(errno, "fsync directory", dir);
}

inline std::uint64_t file_size_or_throw(int fd, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_errno(errno, "fstat", path);
  return static_cast<std::uint64_t>(st.st_size);
}

inline Buffer journal_header() {
  Buffer h;
  put_bytes(h, as_bytes(std::string_view(kJournalMagic, 8)));
  put_u32(h, kJournalVersion);
  put_u32(h, crc32c(h));
  return h;
}

}  // namespace detail

// ---- writing ------------------------------------------------------------------------------

// JournalWriter: appends records to one journal file. Single owner thread only (the engine's
// writer thread): there are no locks and none are needed, since nothing else touches it.
// Creates the file (with its header) if it is missing or empty; appends to it otherwise after
// checking its header. O_APPEND: every write lands at the end, even after a truncation.
class JournalWriter {
 public:
  // last_sequence: the highest sequence already in the file (from recovery), 0 if none;
  // append() refuses sequences <= it. Throws std::system_error (with the path) if the file
  // cannot be opened or created, std::runtime_error if it exists but is not a journal.
  JournalWriter(std::filesystem::path path, FsyncPolicy policy, std::uint64_t last_sequence = 0)
      : path_(std::move(path)), policy_(policy), last_sequence_(last_sequence) {
    fd_ = detail::open_or_throw(path_, O_RDWR | O_CREAT | O_APPEND);  // RDWR: to check the header
    size_ = detail::file_size_or_throw(fd_.get(), path_);
    if (size_ == 0) {
      const Buffer h = detail::journal_header();
      detail::write_all(fd_.get(), h.data(), h.size(), path_);
      size_ = h.size();
      if (policy_ != FsyncPolicy::none) {
        detail::fdatasync_or_throw(fd_.get(), path_);
        detail::fsync_directory(path_.parent_path());
      }
    } else {
      check_existing_header();
    }
  }

  JournalWriter(JournalWriter&&) noexcept = default;
  // No move assignment: it would silently drop the target's buffered records.
  JournalWriter& operator=(JournalWriter&&) = delete;

  // ~JournalWriter: best effort close() (writes and syncs what is buffered); errors are
  // swallowed, so call close() to hear about them.
  ~JournalWriter() {
    try {
      close();
    } catch (...) {
    }
  }

  // append: adds one record. per_command: written and fdatasync'ed before returning;
  // none: written (one write(2)); per_batch: buffered until sync() (or 1 MiB of records).
  void append(std::uint64_t sequence, ByteView payload) {
    check_usable();
    if (sequence <= last_sequence_)
      throw std::logic_error("JournalWriter::append: sequence " + std::to_string(sequence) +
                             " is not above the last one, " + std::to_string(last_sequence_));
    if (payload.size() > kMaxRecordPayload)
      throw std::length_error("JournalWriter::append: payload of " + std::to_string(payload.size()) +
                              " bytes exceeds kMaxRecordPayload");
    const std::size_t start = pending_.size();
    put_u32(pending_, static_cast<std::uint32_t>(payload.size()));
    put_u64(pending_, sequence);
    put_bytes(pending_, payload);
    const auto crc = crc32c(ByteView(pending_).subspan(start));
    put_u32(pending_, crc);
    last_sequence_ = sequence;
    ++records_;
    switch (policy_) {
      case FsyncPolicy::none: write_pending(); break;
      case FsyncPolicy::per_command:
        write_pending();
        sync_file();
        break;
      case FsyncPolicy::per_batch:
        if (pending_.size() >= kMaxPending) write_pending();  // bounds memory; not a sync point
        break;
    }
  }

  // append: encodes `command` with `codec`, then appends it.
  template <class Command, class Codec>
    requires CommandCodec<Codec, Command>
  void append(std::uint64_t sequence, const Command& command, const Codec& codec) {
    scratch_.clear();
    codec.encode(command, scratch_);
    append(sequence, scratch_);
  }

  // sync: the end of a batch. per_batch: writes the buffered records and fdatasyncs; the
  // other policies have nothing buffered, so this is a no-op. When it returns, every record
  // appended so far survives what the policy promises (see the table above).
  void sync() {
    check_usable();
    if (policy_ != FsyncPolicy::per_batch) return;
    const bool had_unsynced = !pending_.empty() || written_unsynced_;
    write_pending();
    if (had_unsynced) sync_file();
  }

  // close: sync(), then closes the file. Idempotent. Throws on error.
  void close() {
    if (!fd_) return;
    if (!failed_) sync();
    fd_.close_or_throw(path_);
  }

  // abandon: closes WITHOUT writing what is buffered, as a process crash would. For tests and
  // demonstrations of what each policy loses.
  void abandon() {
    pending_.clear();
    fd_.reset();
  }

  std::uint64_t last_sequence() const { return last_sequence_; }
  std::uint64_t records_appended() const { return records_; }
  // Bytes in the file once everything buffered is written.
  std::uint64_t size_bytes() const { return size_ + pending_.size(); }
  FsyncPolicy policy() const { return policy_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  static constexpr std::size_t kMaxPending = 1u << 20;

  void check_usable() const {
    if (!fd_) throw std::logic_error("JournalWriter: used after close: " + path_.string());
    if (failed_)
      throw std::runtime_error("JournalWriter: an earlier write or fdatasync failed; refusing "
                               "further use of " + path_.string());
  }

  void write_pending() {
    if (pending_.empty()) return;
    failed_ = true;  // until proven otherwise: a failed or partial write leaves a torn record
    detail::write_all(fd_.get(), pending_.data(), pending_.size(), path_);
    failed_ = false;
    size_ += pending_.size();
    pending_.clear();
    written_unsynced_ = true;
  }

  void sync_file() {
    failed_ = true;  // see "fsyncgate" above: no retry after a failed fdatasync
    detail::fdatasync_or_throw(fd_.get(), path_);
    failed_ = false;
    written_unsynced_ = false;
  }

  void check_existing_header() {
    std::byte h[kJournalHeaderSize];
    ssize_t got;
    do got = ::pread(fd_.get(), h, sizeof h, 0);
    while (got < 0 && errno == EINTR);
    if (got < 0) detail::throw_errno(errno, "pread", path_);
    const Buffer want = detail::journal_header();
    if (static_cast<std::size_t>(got) != sizeof h || std::memcmp(h, want.data(), sizeof h) != 0)
      throw std::runtime_error("JournalWriter: " + path_.string() +
                               " exists but does not start with a version-1 journal header");
  }

  std::filesystem::path path_;
  FsyncPolicy policy_;
  detail::Fd fd_;
  std::uint64_t last_sequence_;
  std::uint64_t size_ = 0;     // bytes written to the file
  std::uint64_t records_ = 0;  // appended by this writer
  Buffer pending_;             // records not yet written (per_batch)
  Buffer scratch_;             // reused encode buffer
  bool written_unsynced_ = false;
  bool failed_ = false;
};

// ---- reading ------------------------------------------------------------------------------

enum class StopReason {
  clean_end,       // the file ends exactly after a good record (or after the header)
  truncated_tail,  // the file ends inside a record (or inside the header)
  corrupt_record,  // impossible length, checksum mismatch, or sequence not increasing
  bad_header,      // not a journal (or another version); nothing was read
  undecodable,     // a good record whose payload the CommandCodec rejected (read_commands)
};

inline constexpr const char* to_string(StopReason r) {
  switch (r) {
    case StopReason::clean_end: return "clean_end";
    case StopReason::truncated_tail: return "truncated_tail";
    case StopReason::corrupt_record: return "corrupt_record";
    case StopReason::bad_header: return "bad_header";
    case StopReason::undecodable: return "undecodable";
  }
  return "?";
}

// ReplayReport: how far a read got and why it stopped.
struct ReplayReport {
  std::uint64_t records_read = 0;       // good records, including those at or below after_sequence
  std::uint64_t records_delivered = 0;  // records passed to the callback (sequence > after)
  std::uint64_t last_good_sequence = 0;  // 0: no good record
  StopReason stop_reason = StopReason::clean_end;
  // Where the first bad record (or header) starts; everything before it is good. At a
  // clean end: the file size. truncate_to_last_good cuts the file here.
  std::uint64_t byte_offset_of_problem = 0;
  std::uint64_t file_size = 0;
  std::string message;  // human-readable detail, empty at a clean end

  bool clean() const { return stop_reason == StopReason::clean_end; }
  // Bytes truncate_to_last_good would remove.
  std::uint64_t bytes_after_problem() const { return file_size - byte_offset_of_problem; }
};

// JournalReader: reads one journal front to back in 64 KiB chunks. Not thread-safe; meant
// for recovery, before the engine's writer opens the same file.
class JournalReader {
 public:
  struct Record {
    std::uint64_t sequence;
    ByteView payload;  // valid until the next call to next()
  };

  // start_offset: 0 reads from the file header; otherwise it must be where a record starts
  // (from find_next_good_record). Throws std::system_error (with the path) if the file
  // cannot be opened.
  explicit JournalReader(std::filesystem::path path, std::uint64_t start_offset = 0) : path_(std::move(path)) {
    fd_ = detail::open_or_throw(path_, O_RDONLY);
    report_.file_size = detail::file_size_or_throw(fd_.get(), path_);
    if (start_offset > 0) {
      if (::lseek(fd_.get(), static_cast<off_t>(start_offset), SEEK_SET) < 0) detail::throw_errno(errno, "lseek", path_);
      header_checked_ = true;
      offset_ = report_.byte_offset_of_problem = start_offset;
    }
  }

  // next: the next good record, or nullopt at the end or at the first problem (see report()).
  std::optional<Record> next() {
    if (done_) return std::nullopt;
    if (!header_checked_ && !check_header()) return std::nullopt;
    const std::uint64_t at = offset_;
    if (!fill(12)) {
      if (available() == 0) return stop(StopReason::clean_end, at, "");
      return stop(StopReason::truncated_tail, at,
                  "record at offset " + std::to_string(at) + ": file ends after " +
                      std::to_string(available()) + " of its 12 header bytes");
    }
    const std::byte* p = buf_.data() + begin_;
    const std::uint32_t length = load_u32(p);
    const std::uint64_t sequence = load_u64(p + 4);
    if (length > kMaxRecordPayload)
      return stop(StopReason::corrupt_record, at,
                  "record at offset " + std::to_string(at) + ": impossible length " +
                      std::to_string(length) + " (max " + std::to_string(kMaxRecordPayload) + ")");
    const std::size_t total = kRecordOverhead + length;
    if (!fill(total))
      return stop(StopReason::truncated_tail, at,
                  "record at offset " + std::to_string(at) + " (sequence " + std::to_string(sequence) +
                      "?) needs " + std::to_string(total) + " bytes, file ends after " +
                      std::to_string(available()));
    p = buf_.data() + begin_;  // fill may have moved the buffer
    const std::uint32_t stored = load_u32(p + 12 + length);
    const std::uint32_t computed = crc32c(ByteView(p, 12 + length));
    if (stored != computed)
      return stop(StopReason::corrupt_record, at,
                  "record at offset " + std::to_string(at) + ": checksum mismatch (stored " +
                      hex(stored) + ", computed " + hex(computed) + ")");
    if (sequence == 0 || (report_.records_read > 0 && sequence <= report_.last_good_sequence))
      return stop(StopReason::corrupt_record, at,
                  "record at offset " + std::to_string(at) + ": sequence " + std::to_string(sequence) +
                      " does not follow " + std::to_string(report_.last_good_sequence));
    begin_ += total;
    offset_ += total;
    previous_sequence_ = report_.last_good_sequence;
    ++report_.records_read;
    report_.last_good_sequence = sequence;
    report_.byte_offset_of_problem = offset_;
    return Record{sequence, ByteView(p + 12, length)};
  }

  // reject_last: ends reading because the caller rejected the record just returned
  // (read_commands: it did not decode). The report points at that record's start.
  void reject_last(std::uint64_t record_start, std::string message) {
    report_.last_good_sequence = previous_sequence_;
    --report_.records_read;
    done_ = true;
    report_.stop_reason = StopReason::undecodable;
    report_.byte_offset_of_problem = record_start;
    report_.message = std::move(message);
  }

  // Offset in the file where the next record starts (the end of the last good one).
  std::uint64_t offset() const { return offset_; }
  const ReplayReport& report() const { return report_; }
  void count_delivered() { ++report_.records_delivered; }

 private:
  static constexpr std::size_t kChunk = 64 * 1024;

  std::size_t available() const { return end_ - begin_; }

  // fill: makes at least n unread bytes available in buf_[begin_, end_); false at end of file.
  bool fill(std::size_t n) {
    if (available() >= n) return true;
    if (begin_ > 0) {  // slide the unread bytes to the front
      std::memmove(buf_.data(), buf_.data() + begin_, available());
      end_ -= begin_;
      begin_ = 0;
    }
    if (buf_.size() < std::max(n, kChunk)) buf_.resize(std::max(n, kChunk));
    while (end_ < n) {
      const ssize_t got = ::read(fd_.get(), buf_.data() + end_, buf_.size() - end_);
      if (got < 0) {
        if (errno == EINTR) continue;
        detail::throw_errno(errno, "read", path_);
      }
      if (got == 0) return false;
      end_ += static_cast<std::size_t>(got);
    }
    return true;
  }

  bool check_header() {
    header_checked_ = true;
    const Buffer want = detail::journal_header();
    const bool complete = fill(kJournalHeaderSize);
    const std::size_t have = std::min(available(), kJournalHeaderSize);
    const bool prefix_matches = std::memcmp(buf_.data() + begin_, want.data(), have) == 0;
    if (!complete && prefix_matches) {
      stop(StopReason::truncated_tail, 0,
           "file ends after " + std::to_string(have) + " of the 16 header bytes");
      return false;
    }
    if (!prefix_matches || !complete) {
      stop(StopReason::bad_header, 0, "not a version-1 journal: the 16-byte header does not match");
      return false;
    }
    begin_ += kJournalHeaderSize;
    offset_ = kJournalHeaderSize;
    report_.byte_offset_of_problem = offset_;
    return true;
  }

  std::nullopt_t stop(StopReason reason, std::uint64_t at, std::string message) {
    done_ = true;
    report_.stop_reason = reason;
    report_.byte_offset_of_problem = at;
    report_.message = std::move(message);
    return std::nullopt;
  }

  static std::string hex(std::uint32_t v) {
    char s[16];
    std::snprintf(s, sizeof s, "0x%08x", v);
    return s;
  }

  std::filesystem::path path_;
  detail::Fd fd_;
  Buffer buf_;
  std::size_t begin_ = 0, end_ = 0;  // unread bytes in buf_
  std::uint64_t offset_ = 0;         // file offset of buf_[begin_]
  bool header_checked_ = false;
  bool done_ = false;
  std::uint64_t previous_sequence_ = 0;  // last_good_sequence before the latest record
  ReplayReport report_;
};

// read_journal: calls on_record(sequence, payload) for every good record with
// sequence > after_sequence, in file order; returns where and why reading stopped.
// start_offset: see JournalReader. Throws std::system_error if the file cannot be read.
template <class OnRecord>
  requires std::invocable<OnRecord&, std::uint64_t, ByteView>
ReplayReport read_journal(const std::filesystem::path& path, std::uint64_t after_sequence, OnRecord&& on_record,
                          std::uint64_t start_offset = 0) {
  JournalReader reader(path, start_offset);
  while (auto r = reader.next()) {
    if (r->sequence <= after_sequence) continue;
    on_record(r->sequence, r->payload);
    reader.count_delivered();
  }
  return reader.report();
}

// read_commands: read_journal plus decoding. A good record that codec.decode rejects stops
// the read with StopReason::undecodable (a codec bug or version skew, not disk damage).
template <class Command, class Codec, class OnCommand>
  requires CommandCodec<Codec, Command> && std::invocable<OnCommand&, const Command&, std::uint64_t>
ReplayReport read_commands(const std::filesystem::path& path, std::uint64_t after_sequence, const Codec& codec,
                           OnCommand&& on_command, std::uint64_t start_offset = 0) {
  JournalReader reader(path, start_offset);
  std::uint64_t start = reader.offset();
  while (auto r = reader.next()) {
    if (r->sequence > after_sequence) {
      std::optional<Command> cmd = codec.decode(r->payload);
      if (!cmd) {
        reader.reject_last(start, "record at offset " + std::to_string(start) + " (sequence " +
                                      std::to_string(r->sequence) + "): payload does not decode");
        break;
      }
      on_command(*cmd, r->sequence);
      reader.count_delivered();
    }
    start = reader.offset();
  }
  return reader.report();
}

struct RecordLocation {
  std::uint64_t offset;    // where the record starts
  std::uint64_t sequence;  // its sequence
};

// find_next_good_record: the first offset >= from where a complete record with a plausible
// length, a non-zero sequence and a matching checksum starts; nullopt if there is none, i.e.
// the damage is a tail. Reads the rest of the file into memory: a repair path, not a hot one.
// (A payload that itself contains a well-formed record could be mistaken for one; recovery
// guards with its sequence-continuity check.)
inline std::optional<RecordLocation> find_next_good_record(const std::filesystem::path& path, std::uint64_t from) {
  detail::Fd fd = detail::open_or_throw(path, O_RDONLY);
  const auto size = detail::file_size_or_throw(fd.get(), path);
  if (from >= size) return std::nullopt;
  Buffer rest(size - from);
  std::size_t got = 0;
  while (got < rest.size()) {
    const ssize_t n = ::pread(fd.get(), rest.data() + got, rest.size() - got, static_cast<off_t>(from + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) detail::throw_errno(errno, "pread", path);
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  for (std::size_t i = 0; i + kRecordOverhead <= got; ++i) {
    const std::byte* p = rest.data() + i;
    const std::uint32_t length = load_u32(p);
    if (length > kMaxRecordPayload || kRecordOverhead + length > got - i) continue;
    const std::uint64_t sequence = load_u64(p + 4);
    if (sequence == 0 || load_u32(p + 12 + length) != crc32c(ByteView(p, 12 + length))) continue;
    return RecordLocation{from + i, sequence};
  }
  return std::nullopt;
}

// truncate_to_last_good: cuts a truncated_tail or corrupt_record journal back to its last
// good record (a journal cut inside its header becomes empty; JournalWriter rewrites the
// header). Returns false (and does nothing) at a clean end. Refuses (std::logic_error) a
// bad_header or undecodable report: those files hold data we must not destroy. Throws
// std::system_error on I/O errors, std::runtime_error if the file shrank since the report.
inline bool truncate_to_last_good(const std::filesystem::path& path, const ReplayReport& report) {
  switch (report.stop_reason) {
    case StopReason::clean_end: return false;
    case StopReason::bad_header:
    case StopReason::undecodable:
      throw std::logic_error(std::string("truncate_to_last_good: refusing to cut ") + path.string() +
                             " after " + to_string(report.stop_reason) + ": " + report.message);
    case StopReason::truncated_tail:
    case StopReason::corrupt_record: break;
  }
  detail::Fd fd = detail::open_or_throw(path, O_WRONLY);
  const auto size = detail::file_size_or_throw(fd.get(), path);
  if (size < report.byte_offset_of_problem)
    throw std::runtime_error("truncate_to_last_good: " + path.string() + " is shorter (" + std::to_string(size) +
                             ") than the report's good prefix (" + std::to_string(report.byte_offset_of_problem) +
                             "); was it changed since it was read?");
  if (::ftruncate(fd.get(), static_cast<off_t>(report.byte_offset_of_problem)) != 0)
    detail::throw_errno(errno, "ftruncate", path);
  if (::fsync(fd.get()) != 0) detail::throw_errno(errno, "fsync", path);  // the size is metadata
  return true;
}

}  // namespace cp::sw
