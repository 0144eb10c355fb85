// crash_recovery.hpp: lesson 05's crash-and-recover experiment, shared by l05_crash_recovery
// and the test.
//
//   OrderScript        - a seeded order stream (place/cancel/query from three interleaved
//                        clients), with the reference's reply to every command and its final
//                        state hash: what any correct run must produce.
//   make_order_script  - builds one from a seed.
//   TempDir            - a fresh directory under the system temp dir, removed on destruction.
//   run_uninterrupted  - the whole script on one (non-durable) SingleWriterOrderEngine.
//   run_with_crash     - the script on a durable engine that "crashes" after crash_at commands
//                        (its process-level state is thrown away and half a journal record is
//                        left behind), then a new engine recovers the directory (snapshot +
//                        journal replay) and takes the rest of the script.
//
// Why shared: the example prints what the test checks for several seeds.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include <unistd.h>

#include "comparisons/common/random.hpp"
#include "comparisons/order/generator.hpp"
#include "comparisons/order/reference.hpp"
#include "comparisons/order/single_writer_order.hpp"
#include "comparisons/order/state_hash.hpp"

namespace cp::lessons::l05 {

struct OrderScript {
  OrderConfig config;
  std::vector<OrderCommand> commands;
  std::vector<OrderReply> replies;  // the reference's, in order
  std::uint64_t final_hash = 0;     // the reference's state after every command
};

inline OrderScript make_order_script(std::uint64_t seed, std::size_t n) {
  OrderScript s;
  s.config = OrderConfig{.symbols = 4, .accounts = 32, .initial_cash = 50'000'000,
                         .max_price = 100'000, .max_qty = 10'000};
  OrderReference ref(s.config);
  const ZipfKeys symbols(s.config.symbols, 0.8);
  OrderStreamParams params;
  params.walk_range = 10;  // a narrow walk: many orders cross, so trades happen
  constexpr unsigned kClients = 3;
  std::vector<OrderStream> streams;
  for (unsigned c = 0; c < kClients; ++c) streams.emplace_back(s.config, params, symbols, c, kClients, seed);
  Xoshiro256 pick(seed ^ 0x105);
  s.commands.reserve(n);
  s.replies.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    OrderStream& st = streams[pick.below(kClients)];
    const OrderCommand cmd = st.next();
    const OrderReply reply = apply_order_command(ref, cmd);
    st.observe(cmd, reply);  // so cancels target orders that rest
    s.commands.push_back(cmd);
    s.replies.push_back(reply);
  }
  s.final_hash = state_hash(ref.state());
  return s;
}

class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    static std::atomic<unsigned> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            (prefix + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;  // best effort: a destructor must not throw
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct UninterruptedResult {
  std::uint64_t hash = 0;
  bool replies_match = true;  // every reply equals the reference's
};

inline UninterruptedResult run_uninterrupted(const OrderScript& s) {
  UninterruptedResult r;
  SingleWriterOrderEngine engine(s.config);
  for (std::size_t i = 0; i < s.commands.size(); ++i)
    if (apply_order_command(engine, s.commands[i]) != s.replies[i]) r.replies_match = false;
  r.hash = state_hash(engine.state());
  return r;
}

struct CrashResult {
  std::size_t crash_at = 0;
  std::uint64_t journaled = 0;          // place/cancel before the crash (queries are not journaled)
  std::size_t snapshots_at_crash = 0;   // snapshot files in the directory when it crashed
  std::uintmax_t journal_bytes = 0;     // journal size at the crash, the torn record included
  sw::RecoveryReport report;            // what recovery found
  bool recovered_prefix_matches = false;  // recovered state == reference after crash_at commands
  bool replies_match = true;            // every reply, before and after the crash, as the reference's
  std::uint64_t hash = 0;               // final state hash after recovery + the rest

  bool ok(const OrderScript& s) const {
    return recovered_prefix_matches && replies_match && hash == s.final_hash &&
           report.next_sequence == journaled + 1;
  }
};

// [quote: crash]
inline CrashResult run_with_crash(const OrderScript& s, std::size_t crash_at,
                                  std::uint64_t snapshot_every, const std::filesystem::path& dir) {
  CrashResult r;
  r.crash_at = crash_at;
  const DurableOrderOptions options{.dir = dir, .fsync = sw::FsyncPolicy::none,
                                    .snapshot_every = snapshot_every, .snapshots_to_keep = 2};
  {  // Run 1: journal every place/cancel before applying it; a snapshot every snapshot_every.
    SingleWriterOrderEngine engine(s.config, options);
    for (std::size_t i = 0; i < crash_at; ++i) {
      if (apply_order_command(engine, s.commands[i]) != s.replies[i]) r.replies_match = false;
      if (!std::holds_alternative<QueryCmd>(s.commands[i])) ++r.journaled;
    }
  }  // The "crash": the engine and all its memory are gone. No shutdown record, no final
     // snapshot: the directory holds only what each command's write(2) put there.
  {  // ... and the process died in the middle of writing one more record: a torn tail.
    std::ofstream journal(sw::journal_path(dir), std::ios::binary | std::ios::app);
    journal << std::string(7, '\x11');
  }
  r.snapshots_at_crash = sw::list_snapshots(dir).size();
  r.journal_bytes = std::filesystem::file_size(sw::journal_path(dir));

  // Run 2: a new engine on the same directory recovers first: newest valid snapshot, then the
  // journal records after it, replayed through the same matching code; the torn tail is cut.
  SingleWriterOrderEngine engine(s.config, options);
  r.report = engine.recovery_report();
  OrderReference prefix(s.config);  // what the state must be after crash_at commands
  for (std::size_t i = 0; i < crash_at; ++i) apply_order_command(prefix, s.commands[i]);
  r.recovered_prefix_matches = state_hash(engine.state()) == state_hash(prefix.state());
  for (std::size_t i = crash_at; i < s.commands.size(); ++i)  // the rest of the stream
    if (apply_order_command(engine, s.commands[i]) != s.replies[i]) r.replies_match = false;
  r.hash = state_hash(engine.state());
  return r;
}
// [end quote]

}  // namespace cp::lessons::l05
