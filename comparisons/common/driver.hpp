// driver.hpp: how the benchmark harness drives one workload on one design.
//
// A driver owns the design instance and the shared, read-only inputs of a run (key
// distributions, prefilled state). Each client thread gets its own `Thread` state (its own
// generator, its own tallies), so the hot loop touches nothing shared but the design:
//
//     Driver drv(params, threads, seed);            // builds and prefills the design
//     auto t = drv.make_thread(i);                  // per client thread
//     loop: drv.next(t);                            // untimed: draw the next operation
//           start clock; drv.execute(t); stop clock // timed: exactly one design call
//     after join: Verdict v = drv.verify(all_threads);
//
// Everything is a template over the design, so the harness adds no virtual call, allocation or
// lock per operation.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "patterns/common/traits.hpp"

namespace cp {

// The correctness check of one benchmark row, made after all client threads joined.
struct Verdict {
  bool passed = true;
  std::string detail;  // what was checked, or what failed (with the numbers)
};

template <class W>
concept WorkloadDriver =
    requires(W& w, const W& cw, typename W::Thread& t, std::vector<typename W::Thread>& all) {
      typename W::Design;
      typename W::Params;
      { W::workload_name } -> std::convertible_to<std::string_view>;
      { w.make_thread(0u) } -> std::same_as<typename W::Thread>;
      w.next(t);
      w.execute(t);
      { w.verify(all) } -> std::same_as<Verdict>;
      { cw.describe() } -> std::convertible_to<std::string>;  // the params, for the report
    };

// state_grows_with_run<W>: W's design keeps something of every operation it serves, so the
// longer it has run, the slower it gets. The order engine is one: ids are never reused, so it
// keeps every order it accepted, and its id index outgrows the caches. A driver says so with
// `static constexpr bool state_grows = true`. The harness then builds it afresh (and checks
// the old one) before each window of a row: every repetition measures the same thing, an
// engine from its prefill on, instead of a later repetition measuring a bigger engine.
template <class W>
inline constexpr bool state_grows_with_run = requires { requires W::state_grows; };

}  // namespace cp
