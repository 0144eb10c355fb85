// counter_lin.hpp: the counter workload under the general linearizability checker.
//
//   CounterModel            - the sequential counter as a model (tests/support/linearizability.hpp);
//                             add and get name their key's partition, total() touches all.
//   check_counter_histories - records `histories` small seeded histories of a fresh design
//                             (3 clients x 12 calls over 4 keys, a few calls with a bad key,
//                             total() in every other history) and checks each one. Findings
//                             name the seed, the counts, and the smallest failing history.
#pragma once

#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "comparisons/common/random.hpp"
#include "comparisons/counter/contract.hpp"
#include "tests/support/findings.hpp"
#include "tests/support/linearizability.hpp"

namespace cp::test {

struct CounterModel {
  enum class Kind : std::uint8_t { add, get, total };
  struct Input {
    Kind kind = Kind::get;
    std::uint32_t key = 0;
    std::int64_t delta = 0;
  };
  struct Output {
    CounterError error = CounterError::ok;
    std::int64_t value = 0;  // get and total; 0 for add
    bool operator==(const Output&) const = default;
  };
  using State = std::vector<std::int64_t>;

  std::uint32_t keys = 4;

  State init() const { return State(keys, 0); }

  Output step(State& s, const Input& in) const {
    switch (in.kind) {
      case Kind::add:
        if (in.key >= keys) return {CounterError::unknown_key, 0};
        s[in.key] = wrapping_add(s[in.key], in.delta);
        return {};
      case Kind::get:
        if (in.key >= keys) return {CounterError::unknown_key, 0};
        return {CounterError::ok, s[in.key]};
      case Kind::total: {
        std::int64_t sum = 0;
        for (auto v : s) sum = wrapping_add(sum, v);
        return {CounterError::ok, sum};
      }
    }
    return {};
  }

  struct Key {
    State values;
    bool operator==(const Key&) const = default;
  };
  Key fingerprint(const State& s) const { return {s}; }

  std::optional<std::uint64_t> partition(const Input& in) const {
    if (in.kind == Kind::total) return std::nullopt;
    return in.key;
  }

  std::string describe(const Input& in, const Output& out) const {
    std::ostringstream s;
    switch (in.kind) {
      case Kind::add: s << "add(" << in.key << ", " << in.delta << ")"; break;
      case Kind::get: s << "get(" << in.key << ")"; break;
      case Kind::total: s << "total()"; break;
    }
    s << " -> ";
    if (out.error != CounterError::ok) s << to_string(out.error);
    else if (in.kind == Kind::add) s << "ok";
    else s << out.value;
    return s.str();
  }
};

}  // namespace cp::test

template <>
struct std::hash<cp::test::CounterModel::Key> {
  std::size_t operator()(const cp::test::CounterModel::Key& k) const {
    std::size_t h = 0xcbf29ce484222325ULL;
    for (auto v : k.values) h = (h ^ static_cast<std::size_t>(v)) * 0x100000001b3ULL;
    return h;
  }
};

namespace cp::test {

using CounterCall = lin::Operation<CounterModel::Input, CounterModel::Output>;

template <class D>
CounterModel::Output call_counter(D& d, const CounterModel::Input& in) {
  switch (in.kind) {
    case CounterModel::Kind::add: return {d.add(in.key, in.delta), 0};
    case CounterModel::Kind::get: {
      const CounterRead r = d.get(in.key);
      return {r.error, r.error == CounterError::ok ? r.value : 0};
    }
    case CounterModel::Kind::total: return {CounterError::ok, d.total()};
  }
  return {};
}

// One seeded history of a fresh design: clients x ops_per_client calls.
template <class D>
std::vector<CounterCall> record_counter_history(std::uint64_t seed, unsigned clients,
                                              unsigned ops_per_client) {
  const CounterModel model;
  D design(CounterConfig{.keys = model.keys});
  const bool with_totals = seed % 2 == 0;
  return lin::record_history<CounterModel::Input, CounterModel::Output>(
      clients, ops_per_client, [&, seed](unsigned client, unsigned i) {
        Xoshiro256 rng(derive_seed(seed, client * 1000 + i));
        CounterModel::Input in;
        const auto roll = rng.below(100);
        in.key = static_cast<std::uint32_t>(rng.below(model.keys));
        if (rng.below(30) == 0) in.key = model.keys;  // now and then a key that does not exist
        if (roll < 55) {
          in.kind = CounterModel::Kind::add;
          in.delta = static_cast<std::int64_t>(rng.below(5)) - 1;  // -1..3
        } else if (roll < 90 || !with_totals) {
          in.kind = CounterModel::Kind::get;
        } else {
          in.kind = CounterModel::Kind::total;
        }
        return std::pair{in, call_counter(design, in)};
      });
}

template <class D>
Findings check_counter_histories(std::uint64_t seed, unsigned histories, unsigned clients = 3,
                                 unsigned ops_per_client = 12,
                                 lin::HistoryTally<CounterModel::Input, CounterModel::Output>*
                                     tally_out = nullptr) {
  const CounterModel model;
  return lin::check_histories(
      model, seed, histories,
      [&](std::uint64_t s) { return record_counter_history<D>(s, clients, ops_per_client); },
      tally_out);
}

}  // namespace cp::test
