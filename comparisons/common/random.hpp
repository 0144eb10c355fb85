// random.hpp: small, fast, seeded generators for operation streams.
//
//   SplitMix64  - seeds other generators; also a good 64-bit mixer.
//   Xoshiro256  - xoshiro256** (Blackman & Vigna), the per-thread stream generator.
//   ZipfKeys    - keys 0..n-1 with P(k) proportional to 1/(k+1)^theta (Gray et al., SIGMOD 1994,
//                 "Quickly generating billion-record synthetic databases"); theta = 0 is uniform.
// All are deterministic for a given seed, on every platform.
#pragma once

#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "patterns/common/mix64.hpp"

namespace cp {

class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  std::uint64_t state_;
};

// mix64 (a stateless hash of one word) lives in patterns/common/mix64.hpp, below both floors.

// Derives the seed of stream `index` (a thread, a client) from a run's seed.
constexpr std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t index) {
  return mix64(seed ^ mix64(index + 0x51ed2701ULL));
}

class Xoshiro256 {
 public:
  explicit Xoshiro256(std::uint64_t seed) {
    SplitMix64 sm(seed);
    for (auto& word : s_) word = sm.next();
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-32 for the n used here).
  std::uint64_t below(std::uint64_t n) {
    __extension__ using u128 = unsigned __int128;  // a GCC/clang extension, fine on x86-64
    return static_cast<std::uint64_t>((static_cast<u128>(next()) * n) >> 64);
  }
  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // True with probability percent / 100.
  bool percent(unsigned percent) { return below(100) < percent; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

// ZipfKeys: draws keys in [0, n). Key 0 is the hottest. Construction is O(n) for the
// zeta constant; drawing is O(1). Construct once per run and share it (it is immutable).
class ZipfKeys {
 public:
  ZipfKeys(std::uint64_t n, double theta) : n_(n), theta_(theta) {
    if (n == 0) throw std::invalid_argument("ZipfKeys: key space must be > 0");
    if (theta < 0.0 || theta >= 1.0)
      throw std::invalid_argument("ZipfKeys: theta must be in [0, 1)");
    if (theta_ == 0.0) return;
    double zetan = 0.0;
    for (std::uint64_t i = 1; i <= n; ++i) zetan += 1.0 / std::pow(static_cast<double>(i), theta);
    const double zeta2 = 1.0 + 1.0 / std::pow(2.0, theta);
    alpha_ = 1.0 / (1.0 - theta);
    zetan_ = zetan;
    eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2 / zetan);
    half_pow_theta_ = 1.0 + std::pow(0.5, theta);
  }

  std::uint64_t next(Xoshiro256& rng) const {
    if (theta_ == 0.0) return rng.below(n_);
    const double u = rng.unit();
    const double uz = u * zetan_;
    if (uz < 1.0) return 0;
    if (uz < half_pow_theta_) return n_ > 1 ? 1 : 0;
    auto k = static_cast<std::uint64_t>(static_cast<double>(n_) *
                                        std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return k < n_ ? k : n_ - 1;
  }

  std::uint64_t size() const { return n_; }
  double theta() const { return theta_; }

 private:
  std::uint64_t n_;
  double theta_;
  double alpha_ = 0, zetan_ = 0, eta_ = 0, half_pow_theta_ = 0;
};

}  // namespace cp
