// pacer.hpp: Pacer, the open-loop timetable of a load generator.
//
// wait(i) returns when item i is due, at start + i / rate, sleeping until then (never
// spinning: the machine may have two cores). A sender that is late sends at once and does not
// skip: the offered rate stays the declared one, whatever the receiver does (open loop).
// rate <= 0: no pacing (closed loop, as fast as the sender goes).
#pragma once

#include <chrono>
#include <cstdint>
#include <thread>

namespace cp::metrics {

class Pacer {
 public:
  Pacer(double rate, std::chrono::steady_clock::time_point start) : rate_(rate), start_(start) {}
  void wait(std::uint64_t i) const {
    if (rate_ <= 0) return;
    std::this_thread::sleep_until(
        start_ + std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 * static_cast<double>(i) / rate_)));
  }

 private:
  double rate_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace cp::metrics
