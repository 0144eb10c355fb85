// designs.hpp (cache): the registry. Every design listed here runs through the conformance
// suite (tests/conformance/cache) and the comparison (bench/). Adding a design = one line.
// The libcds-feldman peer is left out under ThreadSanitizer (why: libcds_cache.hpp).
#pragma once

#include <tuple>

#include "comparisons/cache/lock_free_cache.hpp"
#include "comparisons/cache/actor_cache.hpp"
#include "comparisons/cache/caf_cache.hpp"
#include "comparisons/cache/libcds_cache.hpp"
#include "comparisons/cache/mutex_cache.hpp"
#include "comparisons/cache/reference.hpp"
#include "comparisons/cache/rwlock_cache.hpp"
#include "comparisons/cache/single_writer_cache.hpp"
#include "comparisons/cache/tbb_cache.hpp"
#include "comparisons/cache/work_stealing_cache.hpp"

namespace cp {

using CacheDesigns = std::tuple<CacheReference,                  //
                                MutexCache,                      //
                                StripedMutexCache,               //
                                RwLockCache<SharedMutex>,        //
                                RwLockCache<AbslSharedMutex>,    //
                                SingleWriterCache,               //
                                ShardedSingleWriterCache,        //
                                TbbHashMapCache,                 //
                                LockFreeCache,                   //
                                ActorCache,                      //
                                CafCache,                        //
                                WorkStealingCache
#if CP_HAS_LIBCDS_CACHE
                                ,
                                LibcdsCache
#endif
                                >;

}  // namespace cp
