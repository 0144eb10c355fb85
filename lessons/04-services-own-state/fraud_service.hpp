// fraud_service.hpp: FraudService, the owner of the checks in progress.
//
//   FraudService - its own thread; input: fraud checks (from Payment); output: verdicts (to
//                  Payment). A check takes `check_time` from when it was asked (it stands for
//                  a call to an outside scoring service, so it costs time, not CPU): Fraud
//                  keeps the checks in progress in its own state and sleeps until the next one
//                  is due, so many checks overlap, as awaiting many calls at once would.
//
// Why sleeping until the earliest due time loses nothing: every check takes the same time and
// Payment stamps them in the order it sends them, so checks are due in arrival order (a FIFO
// is sorted by due time), and a check that arrives during the sleep is due *later* than the
// one slept for: it is picked up, on time, at the next wake-up.
//
// Verdict: clean. (A real check could say no; Payment handles `clean == false` by declining
// the waiting payments, which the lesson does not need to show.)
//
// Shutdown: when its input is closed and drained and no check is in progress, Fraud closes
// the verdict ring and returns.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <thread>

#include "lessons/04-services-own-state/messages.hpp"

namespace cp::lessons::services {

template <class Wiring = InProcess>
class FraudService {
  template <class T>
  using In = typename Wiring::template Input<T>;
  template <class T>
  using Out = typename Wiring::template Output<T>;

 public:
  FraudService(std::chrono::microseconds check_time, In<FraudCheck>& checks_in,
               Out<FraudVerdict>& verdicts_out)
      : check_time_(check_time), checks_in_(checks_in), verdicts_out_(verdicts_out) {}

  // [quote: fraud-run]
  // run: the service's thread. Returns when its input has ended and every check is answered.
  void run() {
    for (;;) {
      if (in_progress_.empty()) {
        if (!checks_in_.wait_for_data()) break;  // closed and drained: done
      } else {
        std::this_thread::sleep_until(in_progress_.front().due);
      }
      checks_in_.consume_batch(
          [this](FraudCheck& c, std::uint64_t) {
            in_progress_.push_back({c.customer, c.asked_at + check_time_});
          },
          kBatch);
      answer_due_checks();
    }
    verdicts_out_.close();
  }
  // [end quote]

  // After run() returned (join first).
  std::uint64_t answered() const { return answered_; }
  std::size_t max_in_progress() const { return max_in_progress_; }

 private:
  struct InProgress {
    CustomerId customer;
    Clock::time_point due;
  };

  void answer_due_checks() {
    if (in_progress_.size() > max_in_progress_) max_in_progress_ = in_progress_.size();
    const Clock::time_point now = Clock::now();
    while (!in_progress_.empty() && in_progress_.front().due <= now) {
      verdicts_out_.push({in_progress_.front().customer, true});
      in_progress_.pop_front();
      ++answered_;
    }
  }

  const std::chrono::microseconds check_time_;
  In<FraudCheck>& checks_in_;
  Out<FraudVerdict>& verdicts_out_;
  std::deque<InProgress> in_progress_;  // due in this order (see the top of the file)
  std::uint64_t answered_ = 0;
  std::size_t max_in_progress_ = 0;
};

}  // namespace cp::lessons::services
