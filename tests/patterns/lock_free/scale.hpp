// scale.hpp: iteration counts for the lock-free tests, smaller under the sanitizers (which run
// the same code 5-20x slower) so the whole folder stays within seconds under TSan.
#pragma once

namespace cp::test {

#if defined(CP_SANITIZED)
inline constexpr int kLockFreeScale = 4;
#else
inline constexpr int kLockFreeScale = 1;
#endif

constexpr int scaled(int n) { return n / kLockFreeScale; }

}  // namespace cp::test
