// ring_capacity.hpp: the capacity rule shared by both rings.
//
//   checked_ring_capacity(n) - n if n is a power of two in [1, 2^32], else throws
//                              std::invalid_argument. A power of two turns "sequence modulo
//                              capacity" into "sequence & (capacity - 1)".
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace cp::sw {

inline std::size_t checked_ring_capacity(std::size_t n) {
  if (n == 0 || (n & (n - 1)) != 0 || n > (std::size_t{1} << 32))
    throw std::invalid_argument("ring capacity must be a power of two in [1, 2^32]");
  return n;
}

}  // namespace cp::sw
