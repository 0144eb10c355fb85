// driver.hpp (cache): the cache workload as a benchmark driver (see common/driver.hpp).
//
// Stream: keys drawn Zipf(theta) over the key space; mix read-heavy (90% get, 9% put,
// 1% erase; the default) or write-heavy (50/45/5). The cache is prefilled (untimed) with the
// `capacity` hottest keys. Every value a client puts is intact and carries a version that
// names its writer and its order: version = writer << 40 | seq, where writer 0 is the prefill
// and client i is writer i + 1, seq counting that writer's puts from 1.
//
// The row's correctness check (verify, after join): no get ever returned a value for another
// key, a corrupt value, or a version no writer had put; size() <= capacity; and every key's
// value present at the end is intact, for its key, with a version that was put.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "comparisons/cache/contract.hpp"
#include "comparisons/common/driver.hpp"
#include "comparisons/common/random.hpp"

namespace cp {

enum class CacheMix : std::uint8_t { read_heavy, write_heavy };

constexpr std::string_view to_string(CacheMix m) {
  return m == CacheMix::read_heavy ? "read-heavy" : "write-heavy";
}

struct CacheParams {
  std::uint64_t key_space = 100'000;
  std::size_t capacity = 50'000;
  double theta = 0.99;  // Zipf skew of keys; 0 = uniform
  CacheMix mix = CacheMix::read_heavy;
  std::uint32_t batch = 4096;  // commands per call of a batch row (bench/harness/batch_rows.hpp)
};

// The version a writer stamps on its seq-th put (seq from 1; writer 0 is the prefill).
constexpr std::uint64_t kCacheVersionShift = 40;
constexpr std::uint64_t cache_version(std::uint64_t writer, std::uint64_t seq) {
  return writer << kCacheVersionShift | seq;
}
constexpr std::uint64_t cache_version_writer(std::uint64_t version) {
  return version >> kCacheVersionShift;
}
constexpr std::uint64_t cache_version_seq(std::uint64_t version) {
  return version & ((std::uint64_t{1} << kCacheVersionShift) - 1);
}

template <CacheDesign D>
class CacheDriver {
 public:
  using Design = D;
  using Params = CacheParams;
  static constexpr std::string_view workload_name = "cache";

  enum class Op : std::uint8_t { get, put, erase };

  struct Thread {
    Xoshiro256 rng;
    std::uint64_t writer = 0;          // this client's writer id (index + 1)
    Op op = Op::get;
    std::uint64_t key = 0;
    CacheValue value{};                // the value the next put will store (built untimed)
    std::optional<CacheValue> read{};  // result of the last get, settled by next()
    bool has_read = false;
    std::uint64_t puts = 0;            // seq of this client's last put
    std::uint64_t gets = 0, hits = 0, erases = 0;
    std::uint64_t errors = 0;          // put replied with an error to a valid value
    std::uint64_t wrong_key = 0;       // a get returned a value for another key
    std::uint64_t corrupt = 0;         // a get returned a value whose checksum fails
    std::uint64_t unknown_writer = 0;  // a get returned a version of a writer that does not exist
    std::vector<std::uint64_t> max_seq_seen{};  // by writer id: the newest seq a get returned
  };

  CacheDriver(const Params& params, unsigned threads, std::uint64_t seed)
      : params_(params), threads_(threads), seed_(seed), keys_(params.key_space, params.theta),
        design_(CacheConfig{params.key_space, params.capacity}) {
    // Prefill, untimed: the hottest keys (0 is the hottest), coldest first so that key 0 ends
    // up most recent.
    const std::uint64_t n = std::min<std::uint64_t>(params.key_space, params.capacity);
    for (std::uint64_t k = n; k-- > 0;) design_.put(k, make_cache_value(k, cache_version(0, k + 1)));
    prefill_seq_ = n;
  }

  Thread make_thread(unsigned index) {
    Thread t{.rng = Xoshiro256(derive_seed(seed_, index)), .writer = index + 1u};
    t.max_seq_seen.assign(threads_ + 1, 0);
    return t;
  }

  // Untimed: settle the previous get, then draw the next operation (and build its value).
  void next(Thread& t) { next_drawn(t, draw(t)); }

  // One operation drawn ahead of its turn (the harness's per-client buffer, runner.hpp).
  struct Drawn {
    Op op;
    std::uint64_t key;
  };

  // Untimed: the next operation of t's stream (its generator only).
  Drawn draw(Thread& t) {
    const auto roll = t.rng.below(100);
    const unsigned get_pct = params_.mix == CacheMix::read_heavy ? 90 : 50;
    const unsigned put_pct = params_.mix == CacheMix::read_heavy ? 9 : 45;
    const Op op = roll < get_pct ? Op::get : roll < get_pct + put_pct ? Op::put : Op::erase;
    return {op, keys_.next(t.rng)};
  }

  // Untimed: settle the previous get, then take `d` as the next operation. A put's value is
  // made here, with this writer's next seq, so that a cycled buffer never repeats a version.
  void next_drawn(Thread& t, const Drawn& d) {
    settle(t);
    t.op = d.op;
    t.key = d.key;
    if (t.op == Op::put) t.value = make_cache_value(t.key, cache_version(t.writer, t.puts + 1));
  }

  // Timed: exactly one design call.
  void execute(Thread& t) {
    switch (t.op) {
      case Op::get:
        t.read = design_.get(t.key);
        t.has_read = true;
        break;
      case Op::put:
        if (design_.put(t.key, t.value) == CacheError::ok) ++t.puts; else ++t.errors;
        break;
      case Op::erase:
        t.erases += design_.erase(t.key) ? 1 : 0;
        break;
    }
  }

  Verdict verify(std::vector<Thread>& threads) {
    std::uint64_t errors = 0, wrong_key = 0, corrupt = 0, unknown = 0, gets = 0, hits = 0;
    std::vector<std::uint64_t> last_seq(threads.size() + 1, 0);  // by writer id
    last_seq[0] = prefill_seq_;
    for (auto& t : threads) {
      settle(t);
      if (t.writer < last_seq.size()) last_seq[t.writer] = t.puts;
    }
    for (auto& t : threads) {
      errors += t.errors;
      wrong_key += t.wrong_key;
      corrupt += t.corrupt;
      gets += t.gets;
      hits += t.hits;
      // A writer's seqs only grow, so a get returned only versions that were put iff the
      // newest seq it saw of each writer is <= that writer's final count.
      unknown += t.unknown_writer;
      for (std::size_t w = 0; w < t.max_seq_seen.size() && w < last_seq.size(); ++w)
        if (t.max_seq_seen[w] > last_seq[w]) ++unknown;
    }
    // Every key's final value: intact, its own key, a version that was put.
    std::uint64_t bad_final = 0;
    for (std::uint64_t k = 0; k < params_.key_space; ++k) {
      const auto v = design_.get(k);
      if (v && (!intact(*v) || v->key != k || !version_was_put(last_seq, v->version))) ++bad_final;
    }
    const std::size_t size = design_.size();
    Verdict verdict;
    std::ostringstream out;
    if (errors || wrong_key || corrupt || unknown || bad_final || size > params_.capacity) {
      verdict.passed = false;
      out << "put errors=" << errors << " wrong-key gets=" << wrong_key
          << " corrupt gets=" << corrupt << " unknown versions=" << unknown
          << " bad final values=" << bad_final << " size=" << size << " capacity="
          << params_.capacity;
    } else {
      out << "intact: " << gets << " gets (" << hits << " hits), size " << size << " <= "
          << params_.capacity;
    }
    verdict.detail = out.str();
    return verdict;
  }

  std::string describe() const {
    std::ostringstream out;
    out << "mix=" << to_string(params_.mix) << " get/put/erase="
        << (params_.mix == CacheMix::read_heavy ? "90/9/1" : "50/45/5")
        << " key_space=" << params_.key_space << " capacity=" << params_.capacity
        << " theta=" << params_.theta << " threads=" << threads_;
    return out.str();
  }

  D& design() { return design_; }

  // settle (public: the batch driver settles a batch's gets one by one through it):
  // O(1): checks the last get's value against its key and checksum, and remembers the newest
  // seq seen per writer (checked against the writers' final counts in verify).
  void settle(Thread& t) {
    if (!t.has_read) return;
    t.has_read = false;
    ++t.gets;
    if (!t.read) return;
    ++t.hits;
    const CacheValue& v = *t.read;
    if (!intact(v)) { ++t.corrupt; return; }
    if (v.key != t.key) { ++t.wrong_key; return; }
    const std::uint64_t writer = cache_version_writer(v.version);
    const std::uint64_t seq = cache_version_seq(v.version);
    if (writer >= t.max_seq_seen.size() || seq == 0) { ++t.unknown_writer; return; }
    t.max_seq_seen[writer] = std::max(t.max_seq_seen[writer], seq);
  }

 private:
  static bool version_was_put(const std::vector<std::uint64_t>& last_seq, std::uint64_t version) {
    const std::uint64_t writer = cache_version_writer(version), seq = cache_version_seq(version);
    return writer < last_seq.size() && seq >= 1 && seq <= last_seq[writer];
  }

  Params params_;
  unsigned threads_;
  std::uint64_t seed_;
  ZipfKeys keys_;
  D design_;
  std::uint64_t prefill_seq_ = 0;
};

}  // namespace cp
