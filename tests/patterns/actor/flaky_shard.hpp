// flaky_shard.hpp: a CounterShard whose message may carry an injected fault, for the fault
// tests of our actor runtime (actor_faults_test.cpp) and of the CAF peer (caf_faults_test.cpp).
// The fault throws before the state is touched, so a failed add has no effect and the state
// behind it is intact (so FailureDirective::resume is safe for it).
#pragma once

#include <cstdint>
#include <stdexcept>

#include "comparisons/counter/actor_counter.hpp"

namespace cp::test {

struct FlakyShard {
  struct message {
    CounterShard::message inner;
    bool fail = false;
  };
  using reply = CounterRead;

  CounterShard shard;
  std::int64_t* sink = nullptr;  // the shard's sum, mirrored for reading after shutdown

  CounterRead handle(message& m) {
    if (m.fail) throw std::runtime_error("injected fault");
    const CounterRead r = shard.handle(m.inner);
    *sink = shard.sum;
    return r;
  }
};

}  // namespace cp::test
