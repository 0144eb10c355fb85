// designs.hpp (counter): the registry. Every design listed here runs through the conformance
// suite (tests/conformance/counter) and the comparison (bench/). Adding a design = one line.
#pragma once

#include <tuple>

#include "comparisons/counter/lock_free_counter.hpp"
#include "comparisons/counter/actor_counter.hpp"
#include "comparisons/counter/caf_counter.hpp"
#include "comparisons/counter/mutex_counter.hpp"
#include "comparisons/counter/reference.hpp"
#include "comparisons/counter/rwlock_counter.hpp"
#include "comparisons/counter/single_writer_counter.hpp"
#include "comparisons/counter/work_stealing_counter.hpp"

namespace cp {

using CounterDesigns = std::tuple<CounterReference,                  //
                                  MutexCounter,                      //
                                  StripedMutexCounter,               //
                                  RwLockCounter<SharedMutex>,        //
                                  RwLockCounter<AbslSharedMutex>,    //
                                  SingleWriterCounter,               //
                                  ShardedSingleWriterCounter,        //
                                  PipelinedSingleWriterCounter,      //
                                  LockFreeCounter,                   //
                                  LockFreeShardedCounter,            //
                                  ActorCounter,                      //
                                  PipelinedActorCounter,             //
                                  CafCounter,                        //
                                  WorkStealingCounter>;

}  // namespace cp
