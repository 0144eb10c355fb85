// cache_lin.hpp: the cache workload, configured as a map (C >= N, nothing evicted), under the
// general linearizability checker.
//
//   CacheModel            - the sequential map as a model (tests/support/linearizability.hpp);
//                           every call names its key, so each key is checked on its own.
//   check_cache_histories - records `histories` small seeded histories of a fresh design
//                           (3 clients x 12 calls; by default a key space of 4 keys, capacity 4;
//                           a few invalid puts and out-of-range keys) and checks each one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "comparisons/cache/contract.hpp"
#include "comparisons/common/random.hpp"
#include "tests/support/findings.hpp"
#include "tests/support/linearizability.hpp"

namespace cp::test {

struct CacheModel {
  enum class Kind : std::uint8_t { get, put, erase };
  struct Input {
    Kind kind = Kind::get;
    std::uint64_t key = 0;
    CacheValue value{};  // put only
  };
  struct Output {
    std::optional<CacheValue> value;  // get
    CacheError error = CacheError::ok;  // put
    bool erased = false;                // erase
    bool operator==(const Output&) const = default;
  };
  using State = std::map<std::uint64_t, CacheValue>;

  CacheConfig config{.key_space = 4, .capacity = 4};

  State init() const { return {}; }

  Output step(State& s, const Input& in) const {
    Output out;
    switch (in.kind) {
      case Kind::get:
        if (const auto it = s.find(in.key); it != s.end()) out.value = it->second;
        break;
      case Kind::put:
        out.error = validate_put(config, in.key, in.value);
        if (out.error == CacheError::ok) s[in.key] = in.value;
        break;
      case Kind::erase: out.erased = s.erase(in.key) > 0; break;
    }
    return out;
  }

  // A value is determined by its key and version (make_cache_value), and only intact values
  // are ever stored, so (key, version) pairs identify the state.
  struct Key {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> entries;
    bool operator==(const Key&) const = default;
  };
  Key fingerprint(const State& s) const {
    Key k;
    for (const auto& [key, v] : s) k.entries.emplace_back(key, v.version);
    return k;
  }

  std::optional<std::uint64_t> partition(const Input& in) const { return in.key; }

  std::string describe(const Input& in, const Output& out) const {
    std::ostringstream s;
    auto show = [&](const CacheValue& v) {
      s << "{key " << v.key << ", version " << v.version << (intact(v) ? "" : ", corrupt") << "}";
    };
    switch (in.kind) {
      case Kind::get:
        s << "get(" << in.key << ") -> ";
        if (out.value) show(*out.value);
        else s << "none";
        break;
      case Kind::put:
        s << "put(" << in.key << ", ";
        show(in.value);
        s << ") -> " << to_string(out.error);
        break;
      case Kind::erase: s << "erase(" << in.key << ") -> " << (out.erased ? "true" : "false"); break;
    }
    return s.str();
  }
};

}  // namespace cp::test

template <>
struct std::hash<cp::test::CacheModel::Key> {
  std::size_t operator()(const cp::test::CacheModel::Key& k) const {
    std::size_t h = 0xcbf29ce484222325ULL;
    for (const auto& [key, version] : k.entries) h = (h ^ key ^ (version << 7)) * 0x100000001b3ULL;
    return h;
  }
};

namespace cp::test {

using CacheCall = lin::Operation<CacheModel::Input, CacheModel::Output>;

template <class D>
CacheModel::Output call_cache(D& d, const CacheModel::Input& in) {
  CacheModel::Output out;
  switch (in.kind) {
    case CacheModel::Kind::get: out.value = d.get(in.key); break;
    case CacheModel::Kind::put: out.error = d.put(in.key, in.value); break;
    case CacheModel::Kind::erase: out.erased = d.erase(in.key); break;
  }
  return out;
}

template <class D>
std::vector<CacheCall> record_cache_history(const CacheModel& model, std::uint64_t seed,
                                            unsigned clients, unsigned ops_per_client) {
  D design(model.config);
  return lin::record_history<CacheModel::Input, CacheModel::Output>(
      clients, ops_per_client, [&, seed](unsigned client, unsigned i) {
        Xoshiro256 rng(derive_seed(seed, client * 1000 + i));
        CacheModel::Input in;
        in.key = rng.below(model.config.key_space);
        if (rng.below(40) == 0) in.key = model.config.key_space;  // out of range
        const auto roll = rng.below(100);
        if (roll < 45) {
          in.kind = CacheModel::Kind::get;
        } else if (roll < 85) {
          in.kind = CacheModel::Kind::put;
          // Versions unique per call: (client, i) -> a distinct value for every put.
          in.value = make_cache_value(in.key, (std::uint64_t{client} << 32) | (i + 1));
          if (rng.below(30) == 0) in.value.payload[1] ^= 1;  // corrupt
          if (rng.below(30) == 0) in.value = make_cache_value(in.key + 1, 7);  // another key's
        } else {
          in.kind = CacheModel::Kind::erase;
        }
        return std::pair{in, call_cache(design, in)};
      });
}

template <class D>
Findings check_cache_histories(std::uint64_t seed, unsigned histories,
                               lin::HistoryTally<CacheModel::Input, CacheModel::Output>*
                                   tally_out = nullptr,
                               CacheModel model = {}, unsigned clients = 3,
                               unsigned ops_per_client = 12) {
  return lin::check_histories(
      model, seed, histories,
      [&](std::uint64_t s) { return record_cache_history<D>(model, s, clients, ops_per_client); },
      tally_out);
}

}  // namespace cp::test
