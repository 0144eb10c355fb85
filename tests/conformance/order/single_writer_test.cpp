// single_writer_test.cpp: what the single-writer order engine promises beyond the shared
// suite (order_test.cpp runs that suite on it through the registry):
//
//   - determinism: one fixed command sequence gives bit-identical replies, commit log and state
//     hash whether it is fed by call() from 1 thread, by 1, 2 or 4 client threads taking
//     tickets, or pipelined by one producer; and all of them equal the reference's;
//   - serial equivalence with free-running clients and malformed commands: the owner's log
//     replays through the reference to every reply and the final state hash;
//   - lifecycle: after stop(), Reject::stopped; state() and commits() still answer;
//   - traits: the queue bound is the ring's, the engine owns one thread, a waiting caller
//     sleeps (does not spin);
//   - the codec: every command round-trips; garbage and tampered snapshots are refused;
//   - recovery: stopped at a random point of a seeded stream (20 seeds), with a torn journal
//     tail or a corrupt newest snapshot for some, recovered from snapshot + journal, fed the
//     rest: the same replies and the same final state hash as an uninterrupted run.
//
// How the ticketed feed keeps the engine's input order equal to the sequence order: client
// threads take indices from a shared counter; the holder of index i waits until `turn == i`,
// puts command i into the ring (submit_with_reply: it does not wait for the reply yet), sets
// `turn = i + 1`, and only then waits for its reply. So the ring receives the commands in
// sequence order, yet several are in flight at once from different threads, and each thread
// waits for its reply while others submit: the timing differs from run to run, the input order
// does not. This is the fair version of "the same input sequence": the determinism claim is
// about thread timing, not about which thread wins a race to the ring.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "comparisons/common/random.hpp"
#include "comparisons/order/sharded_order.hpp"
#include "comparisons/order/single_writer_order.hpp"
#include "comparisons/order/state_hash.hpp"
#include "tests/conformance/order/order_checks.hpp"
#include "tests/support/findings.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/trait_checks.hpp"

using namespace cp;
using namespace cp::test;

namespace {

// A fixed command sequence and what the reference answers to it.
struct Sequence {
  OrderConfig config;
  std::vector<OrderCommand> commands;
  std::vector<OrderReply> replies;  // the reference's
  std::uint64_t final_hash = 0;
};

// make_sequence: `clients` seeded streams interleaved by a seeded pick, driven through the
// reference (so cancels target orders that rest), malformed commands mixed in.
Sequence make_sequence(std::uint64_t seed, std::size_t n, unsigned malformed_percent = 5) {
  Sequence s;
  s.config = equivalence_config();
  OrderReference ref(s.config);
  const ZipfKeys symbols(s.config.symbols, 0.8);
  OrderStreamParams params;
  params.malformed_percent = malformed_percent;
  params.walk_range = 10;
  constexpr unsigned kClients = 3;
  std::vector<OrderStream> streams;
  for (unsigned c = 0; c < kClients; ++c) streams.emplace_back(s.config, params, symbols, c, kClients, seed);
  Xoshiro256 pick(seed ^ 0xd371);
  for (std::size_t i = 0; i < n; ++i) {
    OrderStream& st = streams[pick.below(kClients)];
    const OrderCommand cmd = st.next();
    const OrderReply reply = apply_order_command(ref, cmd);
    st.observe(cmd, reply);
    s.commands.push_back(cmd);
    s.replies.push_back(reply);
  }
  s.final_hash = state_hash(ref.state());
  return s;
}

// reply_digest: one number over every field of every reply, in order.
std::uint64_t reply_digest(const std::vector<OrderReply>& replies) {
  StateHasher h;
  for (const OrderReply& r : replies) {
    h.add(r.index());
    if (const auto* p = std::get_if<PlaceReply>(&r)) {
      h.add(static_cast<std::uint64_t>(p->reject));
      h.add_signed(p->filled_qty);
      h.add_signed(p->filled_notional);
      h.add(p->rests ? 1 : 0);
    } else if (const auto* c = std::get_if<CancelReply>(&r)) {
      h.add(static_cast<std::uint64_t>(c->reject));
      h.add_signed(c->cancelled_qty);
    } else {
      const auto& q = std::get<QueryReply>(r);
      h.add(static_cast<std::uint64_t>(q.reject));
      h.add_signed(q.available);
      h.add_signed(q.reserved);
      for (const Qty p : q.positions) h.add_signed(p);
    }
  }
  return h.value();
}

struct RunResult {
  std::vector<OrderReply> replies;
  std::vector<Commit> log;
  std::uint64_t hash = 0;
};

enum class Feed { call_one_thread, tickets, pipelined_one_producer };

RunResult run_feed(const Sequence& seq, Feed feed, unsigned threads) {
  SingleWriterOrderEngine engine(seq.config);
  engine.record_commits(true);
  const std::size_t n = seq.commands.size();
  RunResult out;
  out.replies.resize(n);
  if (feed == Feed::call_one_thread) {
    for (std::size_t i = 0; i < n; ++i) out.replies[i] = apply_order_command(engine, seq.commands[i]);
  } else if (feed == Feed::tickets) {
    std::atomic<std::uint64_t> next{0};
    std::atomic<std::uint64_t> turn{0};
    run_threads(threads, [&](unsigned) {
      SingleWriterOrderEngine::ReplyWindow window(1);
      for (;;) {
        // relaxed: the ticket only picks an index; the turn below orders the submissions.
        const std::uint64_t i = next.fetch_add(1, std::memory_order_relaxed);
        if (i >= n) break;
        // acquire: pairs with the release store of turn = i by the holder of ticket i - 1,
        // whose submission therefore came first in the ring.
        for (std::uint64_t t = turn.load(std::memory_order_acquire); t != i;
             t = turn.load(std::memory_order_acquire))
          turn.wait(t, std::memory_order_acquire);
        const bool accepted = engine.submit_with_reply(seq.commands[i], window);
        // release: pairs with the acquire loads above: our push happened before.
        turn.store(i + 1, std::memory_order_release);
        turn.notify_all();
        out.replies[i] = accepted ? window.take() : OrderReply{PlaceReply{Reject::stopped}};
      }
    });
  } else {
    // One producer, up to 64 commands in flight; replies come back in submission order.
    SingleWriterOrderEngine::ReplyWindow window(64);
    std::deque<std::size_t> in_flight;  // indices of the commands whose replies are due
    for (std::size_t i = 0; i < n; ++i) {
      if (!window.has_room()) {
        out.replies[in_flight.front()] = window.take();
        in_flight.pop_front();
      }
      if (engine.submit_with_reply(seq.commands[i], window)) in_flight.push_back(i);
      else out.replies[i] = PlaceReply{Reject::stopped};
    }
    for (; !in_flight.empty(); in_flight.pop_front()) out.replies[in_flight.front()] = window.take();
  }
  out.log = engine.commits();
  out.hash = state_hash(engine.state());
  return out;
}

Findings check_determinism(std::uint64_t seed, std::size_t n) {
  Findings f;
  const Sequence seq = make_sequence(seed, n);
  const std::uint64_t want_digest = reply_digest(seq.replies);
  struct Mode {
    const char* name;
    Feed feed;
    unsigned threads;
  };
  const Mode modes[] = {{"call() from 1 thread", Feed::call_one_thread, 1},
                        {"tickets, 1 thread", Feed::tickets, 1},
                        {"tickets, 2 threads", Feed::tickets, 2},
                        {"tickets, 4 threads", Feed::tickets, 4},
                        {"pipelined, 1 producer", Feed::pipelined_one_producer, 1}};
  for (const Mode& m : modes) {
    const RunResult r = run_feed(seq, m.feed, m.threads);
    for (std::size_t i = 0; i < n; ++i)
      if (r.replies[i] != seq.replies[i]) {
        f.fail(m.name, ": command ", i, " ", describe(seq.commands[i]), " -> ", describe(r.replies[i]),
               ", reference ", describe(seq.replies[i]));
        break;
      }
    if (reply_digest(r.replies) != want_digest) f.fail(m.name, ": reply digest differs");
    if (r.hash != seq.final_hash)
      f.fail(m.name, ": state hash ", r.hash, ", reference ", seq.final_hash);
    // The commit order is the input order, entry for entry.
    if (r.log.size() != n) f.fail(m.name, ": commit log holds ", r.log.size(), " of ", n);
    for (std::size_t i = 0; i < r.log.size() && i < n; ++i)
      if (!(r.log[i].command == seq.commands[i]) || r.log[i].reply != seq.replies[i]) {
        f.fail(m.name, ": commit ", i, " is ", describe(r.log[i].command), ", input ", describe(seq.commands[i]));
        break;
      }
  }
  return f;
}

// Free-running clients (their interleaving is up to the scheduler), malformed commands
// included: the owner's log, replayed through the reference, gives every reply and the final
// state; each client's replies are in the log.
Findings check_free_running_replay(std::uint64_t seed, unsigned threads, int ops_per_thread) {
  Findings f;
  const OrderConfig config = stress_config();
  SingleWriterOrderEngine d(config);
  d.record_commits(true);
  const auto tallies = run_order_clients(d, config, seed, threads, ops_per_thread, 10, true);
  const std::vector<Commit> log = d.commits();
  std::size_t issued = 0;
  for (const auto& t : tallies) issued += t.log.size();
  if (log.size() != issued) f.fail("log holds ", log.size(), " commands, clients issued ", issued);
  OrderReference ref(config);
  for (std::size_t i = 0; i < log.size() && f.ok(); ++i) {
    const OrderReply want = apply_order_command(ref, log[i].command);
    if (want != log[i].reply)
      f.fail("commit ", i, ": ", describe(log[i].command), " got ", describe(log[i].reply),
             ", the reference replays ", describe(want));
  }
  if (state_hash(d.state()) != state_hash(ref.state())) f.fail("final state hash differs from the replay's");
  add_invariant_problems(f, check_order_invariants(d.state()), "free-running");
  return f;
}

// Stop while clients run: no hang; once a client sees Reject::stopped it sees nothing else;
// every command got one reply; after stop, state() answers and every invariant holds, with the
// fills of the accepted places adding up to the trades.
template <class D>
Findings check_stop_under_load(std::uint64_t seed, unsigned clients) {
  Findings f;
  const OrderConfig config = stress_config();
  D d(config);
  const ZipfKeys symbols(config.symbols, 0.99);
  OrderStreamParams params;
  params.walk_range = 10;
  struct Tally {
    std::uint64_t replies = 0, stopped = 0, after_stop_accepted = 0;
    Qty filled = 0;
    Cash notional = 0;
  };
  std::vector<Tally> tallies(clients);
  std::atomic<std::uint64_t> progress{0};
  run_threads(clients + 1, [&](unsigned t) {
    if (t == clients) {  // the stopper: waits for some traffic, then stops
      // relaxed: only a rough point in time; stop() orders what matters.
      while (progress.load(std::memory_order_relaxed) < 2'000) std::this_thread::yield();
      d.stop();
      return;
    }
    Tally& tally = tallies[t];
    OrderStream stream(config, params, symbols, t, clients, seed);
    for (int i = 0; i < 200'000; ++i) {
      const OrderCommand cmd = stream.next();
      const OrderReply reply = apply_order_command(d, cmd);
      ++tally.replies;
      progress.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter, see above
      if (reject_of(reply) == Reject::stopped) {
        if (++tally.stopped == 3) break;
        continue;
      }
      if (tally.stopped > 0) ++tally.after_stop_accepted;
      if (const auto* p = std::get_if<PlaceReply>(&reply)) {
        tally.filled += p->filled_qty;
        tally.notional += p->filled_notional;
      }
      stream.observe(cmd, reply);
    }
  });
  Qty filled = 0;
  Cash notional = 0;
  for (unsigned t = 0; t < clients; ++t) {
    if (tallies[t].stopped == 0) f.fail("client ", t, " never saw Reject::stopped");
    if (tallies[t].after_stop_accepted) f.fail("client ", t, " had commands served after a stopped reply");
    filled += tallies[t].filled;
    notional += tallies[t].notional;
  }
  const OrderState s = d.state();
  add_invariant_problems(f, check_order_invariants(s), "after stop");
  add_invariant_problems(f, check_fill_totals(s, filled, notional), "after stop");
  return f;
}

// Threads of this process right now. A sanitizer runtime may start a helper thread of its own
// when the first thread is created (ThreadSanitizer does), so that happens here first, once.
unsigned threads_of_this_process() {
  static const bool runtime_threads_started = [] {
    std::thread([] {}).join();
    return true;
  }();
  (void)runtime_threads_started;
  unsigned n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// threads_settling_to: the thread count, re-read for up to 2 s until it equals `expected`. A
// joined thread can still be listed for a moment: join returns when the thread's exit clears
// its id word, and the kernel removes its /proc entry a little later.
unsigned threads_settling_to(unsigned expected) {
  unsigned n = threads_of_this_process();
  for (int i = 0; i < 200 && n != expected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    n = threads_of_this_process();
  }
  return n;
}


void append_bytes(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::app);
  out << bytes;
}

void flip_byte(const std::filesystem::path& p, std::size_t at) {
  std::fstream io(p, std::ios::binary | std::ios::in | std::ios::out);
  io.seekg(static_cast<std::streamoff>(at));
  char c = 0;
  io.get(c);
  io.seekp(static_cast<std::streamoff>(at));
  io.put(static_cast<char>(c ^ 0x5a));
}

enum class Damage { none, torn_journal_tail, corrupt_newest_snapshot };

// What the recovery rounds exercised (so a test that never used a snapshot cannot pass).
struct RecoveryCoverage {
  unsigned from_snapshot = 0, journal_only = 0, torn_tails = 0, skipped_snapshots = 0;
};

// check_recovery: the first k commands of a seeded sequence on a durable engine, stopped;
// optional damage (what a crash or a bad disk leaves); recovery; the rest of the sequence.
Findings check_recovery(std::uint64_t seed, std::size_t n, RecoveryCoverage& coverage) {
  Findings f;
  const Sequence seq = make_sequence(seed, n);
  Xoshiro256 rng(seed ^ 0x7ec0);
  const std::size_t k = rng.below(n + 1);
  const auto damage = static_cast<Damage>(seed % 3);
  TempDir dir;
  const DurableOrderOptions options{.dir = dir.path(), .fsync = sw::FsyncPolicy::none,
                                    .snapshot_every = 150 + rng.below(600), .snapshots_to_keep = 2};
  const std::string where = "stop after " + std::to_string(k) + " of " + std::to_string(n) +
                            ", snapshot every " + std::to_string(options.snapshot_every);
  std::uint64_t journaled = 0;  // place/cancel among the first k: the journal's last sequence
  {
    SingleWriterOrderEngine e(seq.config, options);
    if (e.recovery_report().next_sequence != 1) f.fail(where, ": a fresh directory did not start at 1");
    for (std::size_t i = 0; i < k; ++i) {
      if (apply_order_command(e, seq.commands[i]) != seq.replies[i]) {
        f.fail(where, ": before the stop, command ", i, " differs from the reference");
        return f;
      }
      journaled += std::holds_alternative<QueryCmd>(seq.commands[i]) ? 0 : 1;
    }
  }  // stopped: drained, joined, journal closed
  bool had_snapshot = !sw::list_snapshots(dir.path()).empty();
  if (damage == Damage::torn_journal_tail) {
    append_bytes(sw::journal_path(dir.path()), std::string(7, '\x11'));  // a record cut short
  } else if (damage == Damage::corrupt_newest_snapshot && had_snapshot) {
    const auto newest = sw::list_snapshots(dir.path()).front().second;
    flip_byte(newest, std::filesystem::file_size(newest) / 2);
  }
  {
    SingleWriterOrderEngine e(seq.config, options);
    const sw::RecoveryReport& rep = e.recovery_report();
    ++(rep.snapshot_sequence ? coverage.from_snapshot : coverage.journal_only);
    coverage.torn_tails += rep.journal.stop_reason == sw::StopReason::truncated_tail ? 1 : 0;
    coverage.skipped_snapshots += static_cast<unsigned>(rep.skipped_snapshots.size());
    if (rep.next_sequence != journaled + 1)
      f.fail(where, ": recovered up to sequence ", rep.next_sequence - 1, ", journaled ", journaled, "; ",
             rep.summary());
    if (damage == Damage::torn_journal_tail && rep.journal.stop_reason != sw::StopReason::truncated_tail)
      f.fail(where, ": the torn tail was not reported: ", rep.summary());
    if (damage == Damage::corrupt_newest_snapshot && had_snapshot && rep.skipped_snapshots.size() != 1)
      f.fail(where, ": the corrupt snapshot was not skipped: ", rep.summary());
    if (damage == Damage::none && !rep.clean()) f.fail(where, ": recovery not clean: ", rep.summary());
    OrderReference prefix(seq.config);
    for (std::size_t i = 0; i < k; ++i) apply_order_command(prefix, seq.commands[i]);
    if (state_hash(e.state()) != state_hash(prefix.state()))
      f.fail(where, ": the recovered state differs from the reference's after ", k, " commands; ",
             rep.summary());
    for (std::size_t i = k; i < n && f.ok(); ++i)
      if (apply_order_command(e, seq.commands[i]) != seq.replies[i])
        f.fail(where, ": after recovery, command ", i, " ", describe(seq.commands[i]),
               " differs from the uninterrupted run");
    if (state_hash(e.state()) != seq.final_hash) f.fail(where, ": final state hash differs");
  }
  {  // recovering the finished run gives the final state again (and repaired the torn tail)
    SingleWriterOrderEngine e(seq.config, options);
    if (!e.recovery_report().clean()) f.fail(where, ": second recovery not clean: ", e.recovery_report().summary());
    if (state_hash(e.state()) != seq.final_hash) f.fail(where, ": re-recovered final state hash differs");
  }
  return f;
}

}  // namespace

TEST_CASE("single-writer order: the same sequence gives bit-identical replies and state "
          "whatever the feeding threads",
          "[stress]") {
  const auto s = seed();
  for (std::uint64_t round = 0; round < 3; ++round)
    CP_REQUIRE_CLEAN(check_determinism(s + round, 4'000), s + round);
}

TEST_CASE("single-writer order: free-running clients' log replays through the reference",
          "[stress]") {
  const auto s = seed();
  for (unsigned threads : {2u, 4u, 8u})
    CP_REQUIRE_CLEAN(check_free_running_replay(s + threads, threads, 12'000 / threads), s + threads);
}

TEST_CASE("single-writer order: stop drains, joins, then answers Reject::stopped", "[unit]") {
  const OrderConfig config{.symbols = 2, .accounts = 4, .initial_cash = 1'000};
  const unsigned before = threads_of_this_process();
  auto engine = std::make_unique<SingleWriterOrderEngine>(config);
  CHECK(threads_settling_to(before + SingleWriterOrderEngine::traits.owned_threads) ==
        before + SingleWriterOrderEngine::traits.owned_threads);
  engine->record_commits(true);
  REQUIRE(engine->place({1, 0, 0, Side::buy, 10, 5}) == PlaceReply{Reject::none, 0, 0, true});
  REQUIRE(engine->place({2, 1, 0, Side::sell, 10, 2}) == PlaceReply{Reject::none, 2, 20, false});
  const OrderState running = engine->state();
  engine->stop();
  CHECK(threads_settling_to(before) == before);
  CHECK(engine->processed() >= 4);  // record_commits, two places, state()
  CHECK(engine->place({3, 0, 0, Side::buy, 10, 1}).reject == Reject::stopped);
  CHECK(engine->cancel({1, 0}) == CancelReply{Reject::stopped});
  CHECK(engine->query({0}) == QueryReply{Reject::stopped});
  SingleWriterOrderEngine::ReplyWindow window(4);
  CHECK_FALSE(engine->submit_with_reply(QueryCmd{0}, window));
  CHECK(window.in_flight() == 0);  // the refused request holds no reply cell
  engine->record_commits(false);  // no effect, no hang
  CHECK(engine->state() == running);
  CHECK(engine->commits().size() == 2);
  engine->stop();  // idempotent
  engine.reset();  // the destructor after stop()
  CHECK(threads_settling_to(before) == before);
}

TEST_CASE("single-writer order: stop while clients run: no hang, then stopped, state intact",
          "[stress]") {
  const auto s = seed();
  CP_REQUIRE_CLEAN(check_stop_under_load<SingleWriterOrderEngine>(s, 4), s);
  CP_REQUIRE_CLEAN(check_stop_under_load<ShardedSingleWriterOrderEngine>(s, 4), s);
}

TEST_CASE("single-writer-sharded order: stop, then stopped replies, one thread per engine",
          "[unit]") {
  const OrderConfig config{.symbols = 3, .accounts = 4, .initial_cash = 1'000};
  const unsigned before = threads_of_this_process();
  auto engine = std::make_unique<ShardedSingleWriterOrderEngine>(config);
  CHECK(threads_settling_to(before + ShardedSingleWriterOrderEngine::traits.owned_threads) ==
        before + ShardedSingleWriterOrderEngine::traits.owned_threads);
  REQUIRE(engine->place({1, 0, 2, Side::buy, 10, 5}) == PlaceReply{Reject::none, 0, 0, true});
  REQUIRE(engine->place({2, 1, 2, Side::sell, 10, 2}) == PlaceReply{Reject::none, 2, 20, false});
  const OrderState running = engine->state();
  engine->stop();
  CHECK(threads_settling_to(before) == before);
  CHECK(engine->place({3, 0, 0, Side::buy, 10, 1}).reject == Reject::stopped);
  CHECK(engine->cancel({1, 0}) == CancelReply{Reject::stopped});
  CHECK(engine->query({0}) == QueryReply{Reject::stopped});
  CHECK(engine->state() == running);
  engine->stop();
  engine.reset();
}

TEST_CASE("single-writer order: traits hold (queue bound, owner thread, a waiting caller sleeps)",
          "[unit]") {
  constexpr DesignTraits t = SingleWriterOrderEngine::traits;
  STATIC_REQUIRE(t.family == Family::single_writer);
  STATIC_REQUIRE(t.waiting == Waiting::blocks);
  STATIC_REQUIRE(t.overload == Overload::block);
  STATIC_REQUIRE(t.owned_threads == 1);
  SingleWriterOrderEngine engine(OrderConfig{.symbols = 1, .accounts = 1});
  CHECK(engine.queue_capacity() == t.queue_bound);
  // A caller waits in its ReplySlot: hold the reply back 300 ms and measure the waiter's CPU.
  sw::ReplySlot<OrderReply> slot;
  double cpu = 0, wall = 0;
  std::thread waiter([&] {
    const auto w0 = std::chrono::steady_clock::now();
    const double c0 = thread_cpu_seconds();
    (void)slot.wait();
    cpu = thread_cpu_seconds() - c0;
    wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  slot.fulfil(QueryReply{});
  waiter.join();
  INFO("the waiter used " << cpu << " s of CPU in " << wall << " s");
  CHECK(cpu < 0.25 * wall);
}

TEST_CASE("single-writer order: the codec round-trips commands and refuses garbage", "[unit]") {
  const OrderCommand cmds[] = {
      PlaceCmd{(OrderId{3} << 40) | 77, 5, 2, Side::sell, 1'000'000, 999},
      PlaceCmd{1, 0, 0, Side::buy, -7, 0},  // malformed commands are journaled as they came
      CancelCmd{~OrderId{0}, 4'000'000'000u}, QueryCmd{12}};
  for (const OrderCommand& c : cmds) {
    sw::Buffer b;
    OrderCodec::encode(c, b);
    const auto back = OrderCodec::decode(b);
    REQUIRE(back.has_value());
    CHECK(*back == c);
    b.push_back(std::byte{0});
    CHECK_FALSE(OrderCodec::decode(b).has_value());  // trailing bytes
    b.resize(b.size() - 2);
    CHECK_FALSE(OrderCodec::decode(b).has_value());  // cut short
  }
  const std::byte bad_tag[] = {std::byte{3}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}};
  CHECK_FALSE(OrderCodec::decode(bad_tag).has_value());

  // Snapshots: a tampered hash or another configuration is refused.
  const Sequence seq = make_sequence(seed(), 500, 0);
  OrderOwner owner(seq.config);
  for (const OrderCommand& c : seq.commands) owner.replay(c);
  const OrderCodec codec(seq.config);
  sw::Buffer snap;
  codec.snapshot_encode(owner, snap);
  const auto good = codec.snapshot_decode(snap);
  REQUIRE(good.has_value());
  CHECK(state_hash(good->core().state()) == seq.final_hash);
  sw::Buffer tampered = snap;
  tampered.back() ^= std::byte{1};  // the state hash's last byte
  CHECK_FALSE(codec.snapshot_decode(tampered).has_value());
  OrderConfig other = seq.config;
  other.initial_cash += 1;
  CHECK_FALSE(OrderCodec(other).snapshot_decode(snap).has_value());
}

// Group commit: with fsync per_batch the owner writes and fdatasyncs a batch's journal records
// at the end of the batch and only then replies. So when the producer holds the reply to
// command i, the journal file already holds the records of every place/cancel up to i. (If
// the engine replied as it applied, a reply would come while its record still sat in the
// writer's buffer, and the file would be shorter than this test requires.)
TEST_CASE("single-writer order: fsync per_batch replies only after the batch is on disk",
          "[unit]") {
  const auto s = seed();
  const Sequence seq = make_sequence(s, 600);
  TempDir dir;
  const auto journal = sw::journal_path(dir.path());
  std::vector<std::uint64_t> bytes_through(seq.commands.size());  // journal size needed after i
  std::uint64_t bytes = sw::kJournalHeaderSize;
  for (std::size_t i = 0; i < seq.commands.size(); ++i) {
    if (!std::holds_alternative<QueryCmd>(seq.commands[i])) {
      sw::Buffer record;
      OrderCodec::encode(seq.commands[i], record);
      bytes += sw::kRecordOverhead + record.size();
    }
    bytes_through[i] = bytes;
  }
  std::vector<std::uint64_t> seen(seq.commands.size());
  std::vector<OrderReply> replies(seq.commands.size());
  {
    SingleWriterOrderEngine engine(seq.config, DurableOrderOptions{.dir = dir.path(),
                                                                   .fsync = sw::FsyncPolicy::per_batch,
                                                                   .snapshot_every = 0});
    SingleWriterOrderEngine::ReplyWindow window(32);
    std::size_t taken = 0;
    auto take_one = [&] {
      replies[taken] = window.take();
      seen[taken] = std::filesystem::file_size(journal);
      ++taken;
    };
    for (std::size_t i = 0; i < seq.commands.size(); ++i) {
      if (!window.has_room()) take_one();
      REQUIRE(engine.submit_with_reply(seq.commands[i], window));
    }
    while (window.in_flight() > 0) take_one();
  }
  std::size_t short_at = seq.commands.size();
  for (std::size_t i = 0; i < seq.commands.size() && short_at == seq.commands.size(); ++i)
    if (seen[i] < bytes_through[i]) short_at = i;
  INFO("seed " << s << ": first reply that came before its record was on disk: command "
                << short_at);
  CHECK(short_at == seq.commands.size());
  CHECK(replies == seq.replies);
  CHECK(std::filesystem::file_size(journal) == bytes);
}

TEST_CASE("single-writer order: stopped at a random point, recovered from snapshot + journal, "
          "ends in the uninterrupted run's state",
          "[stress]") {
  const auto s = seed();
  RecoveryCoverage coverage;
  for (std::uint64_t round = 0; round < 20; ++round)
    CP_REQUIRE_CLEAN(check_recovery(s + round, 1'500, coverage), s + round);
  INFO("seed " << s << ": " << coverage.from_snapshot << " from a snapshot, " << coverage.journal_only
                << " from the journal alone, " << coverage.torn_tails << " torn tails, "
                << coverage.skipped_snapshots << " corrupt snapshots skipped");
  CHECK(coverage.from_snapshot > 0);
  CHECK(coverage.journal_only + coverage.skipped_snapshots > 0);
  CHECK(coverage.torn_tails > 0);
  CHECK(coverage.skipped_snapshots > 0);
}
