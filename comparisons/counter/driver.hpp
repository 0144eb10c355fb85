// driver.hpp (counter): the counter workload as a benchmark driver (see common/driver.hpp).
//
// Default stream: 90% add(+1), 9% get, 1% total over K keys drawn Zipf(theta). The row's
// correctness check: every key's final value equals the adds issued to it, total() equals
// all adds, and no client ever saw one key's value go down.
#pragma once

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "comparisons/common/driver.hpp"
#include "comparisons/common/random.hpp"
#include "comparisons/counter/contract.hpp"

namespace cp {

struct CounterParams {
  std::uint32_t keys = 64;
  double theta = 0.99;          // Zipf skew of keys; 0 = uniform
  unsigned add_percent = 90;
  unsigned get_percent = 9;     // the rest are total()
  std::uint32_t batch = 4096;   // commands per call of a batch row (bench/harness/batch_rows.hpp)
};

template <CounterDesign D>
class CounterDriver {
 public:
  using Design = D;
  using Params = CounterParams;
  static constexpr std::string_view workload_name = "counter";

  enum class Op : std::uint8_t { add, get, total };

  struct Thread {
    explicit Thread(std::uint64_t seed) : rng(seed) {}
    Xoshiro256 rng;
    Op op = Op::add;
    std::uint32_t key = 0;
    CounterRead read;                       // result of the last get
    bool has_read = false;
    std::vector<std::int64_t> adds;         // adds issued per key
    std::vector<std::int64_t> last_seen;    // last value seen per key
    std::uint64_t errors = 0;               // unexpected error replies
    std::uint64_t decreases = 0;            // a key's value went down between two reads
    std::int64_t sink = 0;                  // keeps total() from being optimised away
  };

  CounterDriver(const Params& params, unsigned /*threads*/, std::uint64_t seed)
      : params_(checked(params)), seed_(seed), keys_(params.keys, params.theta),
        design_(CounterConfig{params.keys}) {}

  Thread make_thread(unsigned index) {
    Thread t(derive_seed(seed_, index));
    t.adds.assign(params_.keys, 0);
    t.last_seen.assign(params_.keys, 0);
    return t;
  }

  // One operation drawn ahead of its turn (the harness's per-client buffer, runner.hpp): the
  // operation in the top 2 bits, the key below, so that a client's 4096 of them take 16 KiB and
  // stay in L1 beside the design's data.
  struct Drawn {
    static constexpr unsigned kKeyBits = 30;
    static constexpr std::uint32_t kKeyMask = (1u << kKeyBits) - 1;
    std::uint32_t bits;
    static Drawn of(Op op, std::uint32_t key) {
      return {static_cast<std::uint32_t>(op) << kKeyBits | key};
    }
    Op op() const { return static_cast<Op>(bits >> kKeyBits); }
    std::uint32_t key() const { return bits & kKeyMask; }
  };
  static constexpr std::uint32_t kMaxKeys = Drawn::kKeyMask + 1;

  // Untimed: the next operation of t's stream (its generator only).
  Drawn draw(Thread& t) {
    const auto roll = t.rng.below(100);
    const Op op = roll < params_.add_percent                        ? Op::add
                  : roll < params_.add_percent + params_.get_percent ? Op::get
                                                                      : Op::total;
    return Drawn::of(op, static_cast<std::uint32_t>(keys_.next(t.rng)));
  }

  // Untimed: settle the previous read, then take `d` as the next operation.
  void next_drawn(Thread& t, const Drawn& d) {
    settle(t);
    t.op = d.op();
    t.key = d.key();
  }

  // The harness's thin throughput loop (bench/harness/runner.hpp, kRunsDrawnSpans): runs the
  // n drawn operations ops[0..n) in order, untimed, with every design call and every reply
  // check of next_drawn + execute, but not the per-key add tally, which follows from the ops
  // alone: the harness calls tally_drawn for them after the window. A rejected add undoes its
  // share of that tally here (rare: a valid key is never rejected). A get is checked at once
  // (error, monotonic per key), so t holds no pending read afterwards.
  void run_drawn(Thread& t, const Drawn* ops, std::size_t n) {
    settle(t);
    std::int64_t* const last_seen = t.last_seen.data();
#pragma GCC unroll 8
    for (std::size_t i = 0; i < n; ++i) {
      const Op op = ops[i].op();
      const std::uint32_t key = ops[i].key();
      switch (op) {
        case Op::add:
          if (design_.add(key, 1) != CounterError::ok) [[unlikely]] {
            ++t.errors;
            --t.adds[key];
          }
          break;
        case Op::get: {
          const CounterRead r = design_.get(key);
          if (r.error != CounterError::ok) [[unlikely]] {
            ++t.errors;
          } else {
            if (r.value < last_seen[key]) [[unlikely]] ++t.decreases;
            last_seen[key] = r.value;
          }
          break;
        }
        case Op::total:
          t.sink = design_.total();
          break;
      }
    }
  }

  // Adds to t's per-key tally the adds that `times` runs of ops[0..n) issued (after the window).
  void tally_drawn(Thread& t, const Drawn* ops, std::size_t n, std::uint64_t times) {
    if (times == 0) return;
    for (std::size_t i = 0; i < n; ++i)
      if (ops[i].op() == Op::add) t.adds[ops[i].key()] += static_cast<std::int64_t>(times);
  }

  // Untimed: settle the previous read, then draw the next operation.
  void next(Thread& t) {
    settle(t);
    const Drawn d = draw(t);
    t.op = d.op();
    t.key = d.key();
  }

  // Timed: exactly one design call.
  void execute(Thread& t) {
    switch (t.op) {
      case Op::add:
        if (design_.add(t.key, 1) == CounterError::ok) ++t.adds[t.key]; else ++t.errors;
        break;
      case Op::get:
        t.read = design_.get(t.key);
        t.has_read = true;
        break;
      case Op::total:
        t.sink = design_.total();
        break;
    }
  }

  Verdict verify(std::vector<Thread>& threads) {
    Verdict v;
    std::int64_t all = 0;
    std::uint64_t errors = 0, decreases = 0, wrong_keys = 0;
    std::vector<std::int64_t> expected(params_.keys, 0);
    for (auto& t : threads) {
      settle(t);
      errors += t.errors;
      decreases += t.decreases;
      for (std::uint32_t k = 0; k < params_.keys; ++k) expected[k] += t.adds[k];
    }
    for (std::uint32_t k = 0; k < params_.keys; ++k) {
      all += expected[k];
      if (design_.get(k).value != expected[k]) ++wrong_keys;
    }
    const std::int64_t total = design_.total();
    std::ostringstream out;
    if (errors || decreases || wrong_keys || total != all) {
      v.passed = false;
      out << "errors=" << errors << " decreasing reads=" << decreases
          << " keys off=" << wrong_keys << " total=" << total << " expected " << all;
    } else {
      out << "exact: " << all << " adds; reads monotonic";
    }
    v.detail = out.str();
    return v;
  }

  std::string describe() const {
    std::ostringstream out;
    out << "keys=" << params_.keys << " theta=" << params_.theta << " mix add/get/total="
        << params_.add_percent << "/" << params_.get_percent << "/"
        << 100 - params_.add_percent - params_.get_percent;
    return out.str();
  }

  D& design() { return design_; }

  // settle: checks the last get's reply held in t (public: the batch driver settles a batch's
  // gets one by one through it).
  void settle(Thread& t) {
    if (!t.has_read) return;
    t.has_read = false;
    if (t.read.error != CounterError::ok) { ++t.errors; return; }
    if (t.read.value < t.last_seen[t.key]) ++t.decreases;
    t.last_seen[t.key] = t.read.value;
  }

 private:

  static const Params& checked(const Params& params) {
    if (params.keys > kMaxKeys)
      throw std::invalid_argument("counter: keys must be <= 2^30 (a drawn operation packs its "
                                  "key in 30 bits)");
    return params;
  }

  Params params_;
  std::uint64_t seed_;
  ZipfKeys keys_;
  D design_;
};

}  // namespace cp
