// codec.hpp: byte-level helpers shared by the journal and the snapshots.
//
//   Buffer        - std::vector<std::byte>, the byte buffer every encoder appends to.
//   ByteView      - std::span<const std::byte>, what every decoder reads from.
//   put_u8/16/32/64, put_i64, put_bytes, put_string
//                 - append fixed-width little-endian integers / length-prefixed bytes.
//   load_u32/u64  - read a little-endian integer at a pointer (no bounds check).
//   ByteReader    - bounds-checked reader over a ByteView with a sticky failure flag: a decoder
//                   reads everything, then checks ok() once (no check after every field).
//   crc32c        - CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, init/xorout
//                   0xFFFFFFFF, table-driven; crc32c("123456789") == 0xE3069283.
//   CommandCodec / StateCodec
//                 - the concepts a user's codec satisfies to put commands in the journal and
//                   state in snapshots (one codec type may satisfy both).
//
// Why fixed-width little-endian and not memcpy of structs: the file must mean the same thing
// to the next build, compiler and machine (no padding, no endianness, no ABI in the format).
// Why CRC-32C: it detects every burst error up to 32 bits and all odd bit counts within a
// record; it is what ext4, iSCSI and many logs (LevelDB, RocksDB, Kafka) use, and CPUs with
// SSE4.2 have an instruction for it (not used here: the table version is portable and enough).
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cp::sw {

using Buffer = std::vector<std::byte>;
using ByteView = std::span<const std::byte>;

// ---- writing ------------------------------------------------------------------------------

template <class UInt>
inline void put_le(Buffer& out, UInt v) {
  for (std::size_t i = 0; i < sizeof(UInt); ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}
inline void put_u8(Buffer& out, std::uint8_t v) { out.push_back(static_cast<std::byte>(v)); }
inline void put_u16(Buffer& out, std::uint16_t v) { put_le(out, v); }
inline void put_u32(Buffer& out, std::uint32_t v) { put_le(out, v); }
inline void put_u64(Buffer& out, std::uint64_t v) { put_le(out, v); }
// Two's complement through the unsigned type: well defined in C++20 both ways.
inline void put_i64(Buffer& out, std::int64_t v) { put_le(out, static_cast<std::uint64_t>(v)); }
// resize + memcpy rather than vector::insert: same speed, and GCC 12 at -O2/-O3 reports a
// false -Wstringop-overflow inside insert for small buffers.
inline void put_bytes(Buffer& out, ByteView bytes) {
  if (bytes.empty()) return;
  const std::size_t at = out.size();
  out.resize(at + bytes.size());
  std::memcpy(out.data() + at, bytes.data(), bytes.size());
}
// A u32 length, then the bytes.
inline void put_string(Buffer& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  put_bytes(out, ByteView(reinterpret_cast<const std::byte*>(s.data()), s.size()));
}

// Overwrites 4 bytes at `at` (used to patch a length or checksum after the fact).
inline void store_u32(std::byte* at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) at[i] = static_cast<std::byte>(v >> (8 * i));
}

// ---- reading ------------------------------------------------------------------------------

template <class UInt>
inline UInt load_le(const std::byte* p) {
  UInt v = 0;
  for (std::size_t i = 0; i < sizeof(UInt); ++i) v |= static_cast<UInt>(static_cast<UInt>(p[i]) << (8 * i));
  return v;
}
inline std::uint32_t load_u32(const std::byte* p) { return load_le<std::uint32_t>(p); }
inline std::uint64_t load_u64(const std::byte* p) { return load_le<std::uint64_t>(p); }

// ByteReader: every read past the end returns 0 / empty and clears ok() for good.
class ByteReader {
 public:
  explicit ByteReader(ByteView in) : in_(in) {}

  std::uint8_t u8() { return take(1) ? static_cast<std::uint8_t>(in_[pos_ - 1]) : 0; }
  std::uint16_t u16() { return take(2) ? load_le<std::uint16_t>(&in_[pos_ - 2]) : 0; }
  std::uint32_t u32() { return take(4) ? load_le<std::uint32_t>(&in_[pos_ - 4]) : 0; }
  std::uint64_t u64() { return take(8) ? load_le<std::uint64_t>(&in_[pos_ - 8]) : 0; }
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  ByteView bytes(std::size_t n) { return take(n) ? in_.subspan(pos_ - n, n) : ByteView{}; }
  std::string string() {
    const auto n = u32();
    const auto b = bytes(n);
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }

  bool ok() const { return ok_; }
  // ok() and every byte consumed: the usual "this decoded cleanly" test.
  bool done() const { return ok_ && pos_ == in_.size(); }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  bool take(std::size_t n) {
    if (!ok_ || in_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    pos_ += n;
    return true;
  }
  ByteView in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// ---- CRC-32C ------------------------------------------------------------------------------

namespace detail {
constexpr std::array<std::uint32_t, 256> make_crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}
inline constexpr auto kCrc32cTable = make_crc32c_table();
}  // namespace detail

// crc32c_extend: continues a CRC over more bytes, so a record's checksum can cover fields that
// are not contiguous in memory. Start from 0; crc32c_extend(crc32c(a), b) == crc32c(a ++ b).
inline std::uint32_t crc32c_extend(std::uint32_t crc, ByteView bytes) {
  std::uint32_t c = ~crc;
  for (const std::byte b : bytes) c = detail::kCrc32cTable[(c ^ static_cast<std::uint8_t>(b)) & 0xFFu] ^ (c >> 8);
  return ~c;
}
inline std::uint32_t crc32c(ByteView bytes) { return crc32c_extend(0, bytes); }

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// ---- user codecs --------------------------------------------------------------------------

// CommandCodec: how a Command becomes a journal payload and back. decode returns nullopt for
// bytes it does not understand (the journal reports that; it never guesses).
template <class C, class Command>
concept CommandCodec = requires(const C& codec, const Command& cmd, Buffer& out, ByteView in) {
  codec.encode(cmd, out);
  { codec.decode(in) } -> std::same_as<std::optional<Command>>;
};

// StateCodec: how the owner's whole State becomes a snapshot payload and back.
template <class C, class State>
concept StateCodec = requires(const C& codec, const State& state, Buffer& out, ByteView in) {
  codec.snapshot_encode(state, out);
  { codec.snapshot_decode(in) } -> std::same_as<std::optional<State>>;
};

}  // namespace cp::sw
