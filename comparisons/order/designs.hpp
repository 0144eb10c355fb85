// designs.hpp (order): the registry. Every design listed here runs through the conformance
// suite (tests/conformance/order) and the comparison (bench/). Adding a design = one line.
#pragma once

#include <tuple>

#include "comparisons/order/actor_order.hpp"
#include "comparisons/order/caf_order.hpp"
#include "comparisons/order/flat_combining_order.hpp"
#include "comparisons/order/lock_free_order.hpp"
#include "comparisons/order/mutex_order.hpp"
#include "comparisons/order/reference.hpp"
#include "comparisons/order/rwlock_order.hpp"
#include "comparisons/order/sharded_order.hpp"
#include "comparisons/order/single_writer_order.hpp"
#include "comparisons/order/work_stealing_order.hpp"

namespace cp {

using OrderDesigns = std::tuple<OrderReference,                      //
                                MutexOrderEngine,                    //
                                FineMutexOrderEngine,                //
                                RwLockOrderEngine<SharedMutex>,      //
                                RwLockOrderEngine<AbslSharedMutex>,  //
                                SingleWriterOrderEngine,             //
                                ShardedSingleWriterOrderEngine,      //
                                SingleWriterOrderPipelined,          //
                                ActorOrderEngine,                    //
                                CafOrderEngine,                      //
                                WorkStealingOrderEngine,             //
                                FlatCombiningOrderEngine,            //
                                LockFreeOrderEngine>;

}  // namespace cp
