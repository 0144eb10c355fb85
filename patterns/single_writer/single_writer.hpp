// single_writer.hpp: the single-writer pattern. One thread owns the state; everyone else
// sends it commands.
//
//   Sequence                      sequence.hpp       padded counter, orderings in the names
//   BusySpin/Yielding/BlockingWaitStrategy
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
// What. All critical mutable state (an order book, the accounts of a ledger) belongs to one
// thread, the owner. Other threads never touch it: they put commands into a bounded queue and,
// when they need an answer, wait on a reply slot. The owner takes commands in batches and
// applies them one by one, numbering each (its sequence).
//
// Why.
//   - No locks on the state: its code is plain single-threaded code, with no lock order to get
//     wrong and no lock to hold across slow work; the only synchronisation is the queue.
//   - One explicit order: the sequence numbers are the order of effects. Given the same
//     commands in the same order, the state ends the same, whatever the thread timing; with a
//     journal of commands (and snapshots) recovery is "load snapshot, replay from offset".
//   - The owner's caches stay warm: the state never migrates between cores.
//   - Batching: under load the owner takes many commands per wake-up and releases their slots
//     with one store, so per-command overhead falls as load rises (the Disruptor's insight).
//   - Overload is designed: the queue is bounded, and every producer call says what it does
//     when full (block, reject, drop) and counts it.
//
// When not.
//   - CPU-heavy work that parallelises (image processing, search): one owner is one core.
//   - Trivial state (a counter): an atomic is simpler and faster than a hand-off.
//   - Order-insensitive work (independent requests): shared-nothing or a pool scales better.
//   - Plain CRUD over a database: the database is already the single writer.
//   - Replies cost a round trip (two cache-line hand-offs, often a wake-up): a read-mostly
//     workload is usually better served by a read-write lock or a snapshot readers can share.
//
// Alternatives. A mutex around the state (simplest; order is whatever the lock gives, and
// slow work under the lock stalls everyone); a read-write lock (reads in parallel); actors
// (the same idea with one mailbox per entity and usually unbounded queues); sharding (below,
// the way to use more cores while keeping the guarantees per shard).
//
// Waiting on 2 cores: a spinning strategy is the fastest hand-off when the owner and each
// producer have a core; with more runnable threads than cores, a spinner can hold the core the
// thread it waits for needs. Use BlockingWaitStrategy unless you have measured otherwise.
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
