// libcds_cache.hpp (cache): a peer, not one of our patterns. libcds's FeldmanHashSet (Debian
// libcds-dev 2.3.3), a lock-free hash trie whose memory is reclaimed by libcds's own hazard
// pointers, run through the same contract, driver and histogram as our caches, with the same
// capacity and CLOCK on top as the tbb-hash-map peer (clock_tickets.hpp).
//
//   LibcdsCache - design "libcds-feldman"
//
// What a user of libcds gets. The trie (Feldman, LaBorde, Dechev 2013) indexes entries by a
// fixed-size hash: a head array of 256 slots, below it arrays of 16, each slot an atomic
// pointer to an entry or to the next array. The hash must be perfect (two keys, two hashes);
// ours is mix64(key), a bijection on 64 bits. find, insert, erase and update are lock-free
// CASes on one slot; a removed entry is retired to libcds's hazard-pointer domain and deleted
// once no thread protects it. Every thread that touches the map must be attached to that
// domain; the implementation does it on a thread's first call and detaches at its exit.
//
// How the contract is kept:
//   - A reader never sees a half-written value: an entry's value is written before the entry
//     is published and never after. An overwrite publishes a new entry in the old one's slot
//     (one CAS), so get/put/erase of a key stay linearizable.
//   - The CLOCK stamp is the one field written after publication: the replacing entry copies
//     it from the entry it replaced, right after its CAS. Until then it reads 0, and the
//     evictor treats that entry as referenced (an overwrite is a use).
//   - The evictor erases the very entry it judged (FeldmanHashSet::unlink compares addresses),
//     so an entry put again meanwhile is not evicted in its place.
//
// Guarantees. Linearizable, as above. get is lock-free and writes no shared line but, once per
// hand pass, the entry's referenced bit (and its hazard pointer, which is per thread). put and
// erase are lock-free in the map; a put of a new key into a full cache may wait (ClockTickets),
// hence lock_free = false and Waiting::spins. It allocates while running: an entry per put
// (the replaced one is freed when no hazard pointer holds it) and the trie's arrays.
//
// Build note: the class is compiled in libcds_cache.cpp, so libcds's headers stay out of every
// file that includes the registry; each call is one call into that file (no inlining across).
// Under ThreadSanitizer the peer is not built: libcds's hazard-pointer scan, which decides when
// an entry may be freed, runs in libcds.so, which Debian does not build with TSan, so TSan
// would take every free of a retired entry for a race with its last reader. bench/stack leaves
// out libcds's stack under TSan for the same reason.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define CP_HAS_LIBCDS_CACHE 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CP_HAS_LIBCDS_CACHE 0
#endif
#endif
#ifndef CP_HAS_LIBCDS_CACHE
#define CP_HAS_LIBCDS_CACHE 1
#endif

#if CP_HAS_LIBCDS_CACHE

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "comparisons/cache/contract.hpp"

namespace cp {

class LibcdsCache {
 public:
  static constexpr DesignTraits traits{
      .name = "libcds-feldman",
      .family = Family::peer,
      .thread_safe = true,
      .linearizable_reads = true,  // one slot CAS per operation on a key
      .lock_free = false,          // a put into a full cache may wait for a slot
      .waiting = Waiting::spins,   // that wait yields; it never sleeps in the kernel
      .eviction = "CLOCK (second chance)",
  };

  explicit LibcdsCache(CacheConfig config);
  ~LibcdsCache();
  LibcdsCache(const LibcdsCache&) = delete;
  LibcdsCache& operator=(const LibcdsCache&) = delete;

  std::optional<CacheValue> get(std::uint64_t key);
  CacheError put(std::uint64_t key, const CacheValue& value);
  bool erase(std::uint64_t key);
  std::size_t size();  // the trie's item counter: <= capacity at every instant
  std::size_t capacity() const { return config_.capacity; }

  // tickets_queued: tickets in the eviction queue, stale ones included; for tests.
  std::size_t tickets_queued() const;

 private:
  struct Map;  // libcds_cache.cpp

  const CacheConfig config_;
  std::unique_ptr<Map> map_;
};

}  // namespace cp

#endif  // CP_HAS_LIBCDS_CACHE
