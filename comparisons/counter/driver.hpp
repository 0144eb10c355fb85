// driver.hpp (counter): the counter workload as a benchmark driver (see common/driver.hpp).
//
// Default stream: 90% add(+1), 9% get, 1% total over K keys drawn Zipf(theta). The row's
// correctness check: every key's final value equals the adds issued to it, total() equals
// all adds, and no client ever saw one key's value go down.
#pragma once

#include <cstdint>
#include <sstream>
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
      : params_(params), seed_(seed), keys_(params.keys, params.theta),
        design_(CounterConfig{params.keys}) {}

  Thread make_thread(unsigned index) {
    Thread t(derive_seed(seed_, index));
    t.adds.assign(params_.keys, 0);
    t.last_seen.assign(params_.keys, 0);
    return t;
  }

  // One operation drawn ahead of its turn (the harness's per-client buffer, runner.hpp).
  struct Drawn {
    Op op;
    std::uint32_t key;
  };

  // Untimed: the next operation of t's stream (its generator only).
  Drawn draw(Thread& t) {
    const auto roll = t.rng.below(100);
    const Op op = roll < params_.add_percent                        ? Op::add
                  : roll < params_.add_percent + params_.get_percent ? Op::get
                                                                      : Op::total;
    return {op, static_cast<std::uint32_t>(keys_.next(t.rng))};
  }

  // Untimed: settle the previous read, then take `d` as the next operation.
  void next_drawn(Thread& t, const Drawn& d) {
    settle(t);
    t.op = d.op;
    t.key = d.key;
  }

  // Untimed: settle the previous read, then draw the next operation.
  void next(Thread& t) {
    settle(t);
    const Drawn d = draw(t);
    t.op = d.op;
    t.key = d.key;
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

  Params params_;
  std::uint64_t seed_;
  ZipfKeys keys_;
  D design_;
};

}  // namespace cp
