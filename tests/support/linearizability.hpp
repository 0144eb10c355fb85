// linearizability.hpp: a general linearizability checker for recorded concurrent histories.
//
//   Operation<In, Out> - one call: its client, invoke and return times, argument and reply.
//   record_history()   - runs `clients` threads that start together, each issuing its own
//                        operations; returns every call with its times (the recorder).
//   check_linearizable() - searches for a linearization: a total order of the calls that
//                        respects real time (a call that returned before another began
//                        comes first) and in which the sequential model gives every
//                        recorded reply. Wing and Gong's search with Lowe's memoisation,
//                        as in Knossos and porcupine. Where every call names a partition
//                        (a key), each partition is checked on its own: a history is
//                        linearizable iff each key's sub-history is (Herlihy and Wing's
//                        locality; P-compositionality in Horn and Kroening's terms).
//   format_history()   - the calls of one partition, one line each, for a failure report.
//
// A Model supplies:
//   using State; using Input; using Output;  (Output with ==)
//   State init() const;
//   Output step(State&, const Input&) const;  applies one call to the state, returns its reply
//   Key fingerprint(const State&) const;      hashable (std::hash) and ==: states that compare
//                                             equal here behave the same from now on
//   std::optional<std::uint64_t> partition(const Input&) const;  nullopt: touches every key
//   std::string describe(const Input&, const Output&) const;
//
// The search is exponential in the worst case; histories of 3-4 clients x 10-30 calls are
// what it is for. A search that exceeds max_steps reports "inconclusive", never "ok".
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "comparisons/common/random.hpp"
#include "tests/support/findings.hpp"

namespace cp::test::lin {

template <class In, class Out>
struct Operation {
  unsigned client = 0;
  std::int64_t invoke_ns = 0;  // steady_clock, before the call
  std::int64_t return_ns = 0;  // steady_clock, after the reply
  In input{};
  Out output{};
};

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// record_history: `clients` threads start together, then client c runs `call(c, i)` for
// i = 0..ops_per_client-1; call returns {input, output}. Each thread keeps its own log; the
// logs are merged after the join (no shared writes while recording).
// The start is a yielding spin, not a sleep: a futex wake-up takes tens of microseconds,
// longer than a whole client's calls, and would leave the histories nearly sequential.
template <class In, class Out, class Call>
std::vector<Operation<In, Out>> record_history(unsigned clients, unsigned ops_per_client,
                                               Call&& call) {
  std::vector<std::vector<Operation<In, Out>>> logs(clients);
  std::atomic<unsigned> arrived{0};
  std::vector<std::thread> threads;
  threads.reserve(clients);
  for (unsigned c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto& log = logs[c];
      log.reserve(ops_per_client);
      // acq_rel / acquire: pair with each other's increments; they only gate the start.
      arrived.fetch_add(1, std::memory_order_acq_rel);
      while (arrived.load(std::memory_order_acquire) < clients) std::this_thread::yield();
      for (unsigned i = 0; i < ops_per_client; ++i) {
        Operation<In, Out> op;
        op.client = c;
        op.invoke_ns = now_ns();
        auto [in, out] = call(c, i);
        op.return_ns = now_ns();
        op.input = std::move(in);
        op.output = std::move(out);
        log.push_back(std::move(op));
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<Operation<In, Out>> all;
  for (auto& log : logs)
    for (auto& op : log) all.push_back(std::move(op));
  return all;
}

enum class Verdict { linearizable, not_linearizable, inconclusive };

template <class In, class Out>
struct CheckResult {
  Verdict verdict = Verdict::linearizable;
  // When not linearizable (or inconclusive): the calls of the first failing partition.
  std::vector<Operation<In, Out>> failing;
  std::uint64_t steps = 0;
};

namespace detail {

// The bit set of calls already linearized, as the memo's key part.
struct Bits {
  std::vector<std::uint64_t> words;
  explicit Bits(std::size_t n) : words((n + 63) / 64, 0) {}
  void set(std::size_t i) { words[i / 64] |= std::uint64_t{1} << (i % 64); }
  void reset(std::size_t i) { words[i / 64] &= ~(std::uint64_t{1} << (i % 64)); }
  bool operator==(const Bits&) const = default;
  std::size_t hash() const {
    std::size_t h = 0x9e3779b97f4a7c15ULL;
    for (auto w : words) h = (h ^ w) * 0x100000001b3ULL;
    return h;
  }
};

// Wing-Gong with Lowe's cache on one partition's calls.
template <class Model, class In, class Out>
Verdict search(const Model& model, const std::vector<Operation<In, Out>>& ops,
               std::uint64_t max_steps, std::uint64_t& steps) {
  const std::size_t n = ops.size();
  if (n == 0) return Verdict::linearizable;
  // Entries: a call and a return per operation, ordered by time; at equal times calls come
  // first, so touching calls count as concurrent (the permissive reading).
  struct Entry {
    std::int64_t time;
    bool is_call;
    std::size_t op;
  };
  std::vector<Entry> order;
  order.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    order.push_back({ops[i].invoke_ns, true, i});
    order.push_back({ops[i].return_ns, false, i});
  }
  std::stable_sort(order.begin(), order.end(), [](const Entry& a, const Entry& b) {
    if (a.time != b.time) return a.time < b.time;
    return a.is_call && !b.is_call;
  });
  // A doubly linked list over the entries; node 0 is the head sentinel.
  const std::size_t nodes = 2 * n + 1;
  std::vector<std::size_t> next(nodes), prev(nodes), match(nodes);
  std::vector<std::size_t> call_node(n), return_node(n);
  for (std::size_t k = 0; k < 2 * n; ++k) {
    const std::size_t node = k + 1;
    (order[k].is_call ? call_node : return_node)[order[k].op] = node;
  }
  for (std::size_t i = 0; i < n; ++i) match[call_node[i]] = return_node[i];
  constexpr std::size_t kEnd = static_cast<std::size_t>(-1);
  for (std::size_t node = 0; node < nodes; ++node) {
    next[node] = node + 1 < nodes ? node + 1 : kEnd;
    prev[node] = node == 0 ? kEnd : node - 1;
  }
  auto is_call = [&](std::size_t node) { return order[node - 1].is_call; };
  auto op_of = [&](std::size_t node) { return order[node - 1].op; };
  auto unlink = [&](std::size_t node) {
    next[prev[node]] = next[node];
    if (next[node] != kEnd) prev[next[node]] = prev[node];
  };
  auto relink = [&](std::size_t node) {
    next[prev[node]] = node;
    if (next[node] != kEnd) prev[next[node]] = node;
  };
  auto lift = [&](std::size_t call) {
    unlink(call);
    unlink(match[call]);
  };
  auto unlift = [&](std::size_t call) {
    relink(match[call]);
    relink(call);
  };

  using State = typename Model::State;
  using Key = decltype(model.fingerprint(std::declval<const State&>()));
  struct Memo {
    Bits bits;
    Key key;
    bool operator==(const Memo&) const = default;
  };
  struct MemoHash {
    std::size_t operator()(const Memo& m) const {
      return m.bits.hash() ^ (std::hash<Key>{}(m.key) * 0x9e3779b97f4a7c15ULL);
    }
  };
  std::unordered_set<Memo, MemoHash> seen;
  struct Frame {
    std::size_t call;
    State state;
  };
  std::vector<Frame> stack;
  State state = model.init();
  Bits bits(n);
  std::size_t entry = next[0];
  while (next[0] != kEnd) {
    if (++steps > max_steps) return Verdict::inconclusive;
    if (entry == kEnd) return Verdict::not_linearizable;  // defensive: cannot happen
    if (is_call(entry)) {
      const std::size_t i = op_of(entry);
      State after = state;
      const Out out = model.step(after, ops[i].input);
      bool advanced = false;
      if (out == ops[i].output) {
        Bits with = bits;
        with.set(i);
        if (seen.insert(Memo{with, model.fingerprint(after)}).second) {
          stack.push_back(Frame{entry, std::move(state)});
          state = std::move(after);
          bits = std::move(with);
          lift(entry);
          entry = next[0];
          advanced = true;
        }
      }
      if (!advanced) entry = next[entry];
    } else {
      // A return whose call is not linearized yet: every choice so far fails here.
      if (stack.empty()) return Verdict::not_linearizable;
      Frame top = std::move(stack.back());
      stack.pop_back();
      state = std::move(top.state);
      bits.reset(op_of(top.call));
      unlift(top.call);
      entry = next[top.call];
    }
  }
  return Verdict::linearizable;
}

}  // namespace detail

template <class Model, class In, class Out>
CheckResult<In, Out> check_linearizable(const Model& model,
                                        const std::vector<Operation<In, Out>>& history,
                                        std::uint64_t max_steps = 5'000'000) {
  CheckResult<In, Out> result;
  // Partition by key when every call names one; otherwise the whole history is one.
  std::map<std::uint64_t, std::vector<Operation<In, Out>>> parts;
  bool partitioned = true;
  for (const auto& op : history) {
    const auto key = model.partition(op.input);
    if (!key) {
      partitioned = false;
      break;
    }
    parts[*key].push_back(op);
  }
  if (!partitioned) {
    parts.clear();
    parts[0] = history;
  }
  for (auto& [key, ops] : parts) {
    const Verdict v = detail::search(model, ops, max_steps, result.steps);
    if (v != Verdict::linearizable) {
      result.verdict = v;
      result.failing = std::move(ops);
      return result;
    }
  }
  return result;
}

// format_history: one line per call, by invoke time, times relative to the first invoke.
template <class Model, class In, class Out>
std::string format_history(const Model& model, std::vector<Operation<In, Out>> ops) {
  std::sort(ops.begin(), ops.end(),
            [](const auto& a, const auto& b) { return a.invoke_ns < b.invoke_ns; });
  std::ostringstream out;
  const std::int64_t t0 = ops.empty() ? 0 : ops.front().invoke_ns;
  for (const auto& op : ops)
    out << "    client " << op.client << "  [" << (op.invoke_ns - t0) << " .. "
        << (op.return_ns - t0) << " ns]  " << model.describe(op.input, op.output) << "\n";
  return out.str();
}

// HistoryTally: what a run of many histories found; the smallest failing one is kept.
template <class In, class Out>
struct HistoryTally {
  std::uint64_t histories = 0, failed = 0, inconclusive = 0;
  std::vector<Operation<In, Out>> smallest_failing;
  std::uint64_t smallest_seed = 0;

  void add(std::uint64_t seed, const CheckResult<In, Out>& r) {
    ++histories;
    if (r.verdict == Verdict::inconclusive) ++inconclusive;
    if (r.verdict != Verdict::not_linearizable) return;
    ++failed;
    if (smallest_failing.empty() || r.failing.size() < smallest_failing.size()) {
      smallest_failing = r.failing;
      smallest_seed = seed;
    }
  }
};

// check_histories: records `histories` histories, the h-th with record(derive_seed(seed, h)),
// checks each against the model, and reports the counts and the smallest failing history with
// its seed. The three workloads' check_*_histories are this loop with their own recorder.
template <class Model, class Record>
Findings check_histories(const Model& model, std::uint64_t seed, unsigned histories,
                         Record record,
                         HistoryTally<typename Model::Input, typename Model::Output>* tally_out) {
  HistoryTally<typename Model::Input, typename Model::Output> tally;
  for (unsigned h = 0; h < histories; ++h) {
    const std::uint64_t s = derive_seed(seed, h);
    tally.add(s, check_linearizable(model, record(s)));
  }
  Findings f;
  if (tally.failed > 0)
    f.fail(tally.failed, " of ", tally.histories,
           " histories have no linearization; the smallest (history seed ", tally.smallest_seed,
           "):\n", format_history(model, tally.smallest_failing));
  if (tally.inconclusive > 0)
    f.fail(tally.inconclusive, " of ", tally.histories, " histories exceeded the search budget");
  if (tally_out) *tally_out = std::move(tally);
  return f;
}

}  // namespace cp::test::lin
