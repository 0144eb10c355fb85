// single_writer.hpp: the single-writer pattern. One thread owns the state; everyone else
// sends it commands.
//
//   Sequence                      sequence.hpp       padded counter, orderings in the names
//   BusySpin/Yielding/PhasedBackoff/BlockingWaitStrategy
//                                 wait_strategy.hpp  how a side waits; the same for both sides
//   SingleProducerRing, MultiProducerRing
//                                 ring.hpp           bounded rings with sequence numbers
//   OverloadPolicy, SubmitStatus, OverloadCounters
//                                 overload.hpp       what "full" means for the caller
//   ReplySlot<R>                  reply_slot.hpp     one-shot reply, no allocation
//   Engine<State, Command, ...>   engine.hpp         the owner thread and its API
//   SelectTwo                     select.hpp         one owner, two inputs
//   Sharded<Engine>               sharded.hpp        N engines routed by key
//
// What. All critical mutable state belongs to one thread, the owner. Other threads put
// commands into a bounded queue and, when they need an answer, wait for the reply. The owner
// applies commands one at a time and numbers each one (its sequence).
//
// Guarantee. The sequence numbers are the order of effects, assigned in one place. Replaying
// the same commands in that order (a journal, after a snapshot) gives the same state. Which
// producer's command gets the next number still depends on timing, as lock order would.
//
// Waiting. The single-engine designs of this project wait with PhasedBackoffWaitStrategy
// (spin ~10 us, yield, then sleep); sharded ones, with more owners than cores, block.
// The figures behind that choice: docs/single_writer.md.
//
// When not, and the longer story: lesson 05 (lessons/05-single-writer-engine/README.md).
//
// Example:
//   struct Book { int apply(const Order& o, std::uint64_t seq) { ...; return filled; } };
//   cp::sw::Engine<Book, Order> engine(1024);
//   engine.submit(order, cp::sw::OverloadPolicy::reject);   // accepted / rejected_full / ...
//   std::optional<int> filled = engine.call(order);          // waits for the owner's answer
//   engine.stop();                                           // drains, joins
#pragma once

#include "patterns/single_writer/engine.hpp"
#include "patterns/single_writer/overload.hpp"
#include "patterns/single_writer/reply_slot.hpp"
#include "patterns/single_writer/ring.hpp"
#include "patterns/single_writer/select.hpp"
#include "patterns/single_writer/sequence.hpp"
#include "patterns/single_writer/sharded.hpp"
#include "patterns/single_writer/wait_strategy.hpp"
