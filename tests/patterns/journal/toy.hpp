// toy.hpp: a toy command/state/codec for the journal tests, plus a temporary directory.
//
// State: counters keyed by u64; commands add to, set or erase one counter. The state's hash
// covers every counter and the last applied sequence, so two runs agree only if they applied
// the same commands in the same order.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

#include "comparisons/common/random.hpp"
#include "patterns/single_writer/codec.hpp"
#include "tests/support/temp_dir.hpp"

namespace cp::sw::toy {

using cp::test::TempDir;

enum class Op : std::uint8_t { add = 0, set = 1, erase = 2 };

struct Cmd {
  Op op = Op::add;
  std::uint64_t key = 0;
  std::int64_t value = 0;
  std::string note;  // variable length, so records are not all the same size
  bool operator==(const Cmd&) const = default;
};

struct State {
  std::map<std::uint64_t, std::int64_t> counters;
  std::uint64_t last_sequence = 0;

  std::uint64_t hash() const {
    std::uint64_t h = mix64(last_sequence);
    for (const auto& [k, v] : counters) h = mix64(h ^ mix64(k) ^ (static_cast<std::uint64_t>(v) * 0x9e37ULL));
    return h;
  }
};

inline void apply(State& s, const Cmd& c, std::uint64_t seq) {
  switch (c.op) {
    case Op::add: s.counters[c.key] += c.value; break;
    case Op::set: s.counters[c.key] = c.value; break;
    case Op::erase: s.counters.erase(c.key); break;
  }
  s.last_sequence = seq;
}

struct Codec {
  void encode(const Cmd& c, Buffer& out) const {
    put_u8(out, static_cast<std::uint8_t>(c.op));
    put_u64(out, c.key);
    put_i64(out, c.value);
    put_string(out, c.note);
  }
  std::optional<Cmd> decode(ByteView in) const {
    ByteReader r(in);
    Cmd c;
    const auto op = r.u8();
    c.key = r.u64();
    c.value = r.i64();
    c.note = r.string();
    if (!r.done() || op > 2) return std::nullopt;
    c.op = static_cast<Op>(op);
    return c;
  }
  void snapshot_encode(const State& s, Buffer& out) const {
    put_u64(out, s.last_sequence);
    put_u64(out, s.counters.size());
    for (const auto& [k, v] : s.counters) put_u64(out, k), put_i64(out, v);
  }
  std::optional<State> snapshot_decode(ByteView in) const {
    ByteReader r(in);
    State s;
    s.last_sequence = r.u64();
    const auto n = r.u64();
    for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
      const auto k = r.u64();
      s.counters[k] = r.i64();
    }
    if (!r.done()) return std::nullopt;
    return s;
  }
};
static_assert(CommandCodec<Codec, Cmd> && StateCodec<Codec, State>);

inline std::vector<Cmd> make_stream(std::uint64_t seed, std::size_t n) {
  Xoshiro256 rng(seed);
  std::vector<Cmd> out(n);
  for (auto& c : out) {
    const auto r = rng.below(100);
    c.op = r < 80 ? Op::add : r < 95 ? Op::set : Op::erase;
    c.key = rng.below(64);
    c.value = static_cast<std::int64_t>(rng.below(2001)) - 1000;
    c.note.assign(rng.below(24), static_cast<char>('a' + rng.below(26)));
  }
  return out;
}

// The state after the first n commands of `stream` (sequences 1..n).
inline State reference_state(const std::vector<Cmd>& stream, std::size_t n) {
  State s;
  for (std::size_t i = 0; i < n; ++i) apply(s, stream[i], i + 1);
  return s;
}


inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}
inline void flip_byte(const std::filesystem::path& p, std::size_t offset, unsigned char mask = 0xFF) {
  auto bytes = read_file(p);
  bytes.at(offset) = static_cast<char>(static_cast<unsigned char>(bytes[offset]) ^ mask);
  write_file(p, bytes);
}

}  // namespace cp::sw::toy
