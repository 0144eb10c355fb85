// libcds_cache.cpp: the libcds-feldman cache peer (see libcds_cache.hpp for what it is and
// what it guarantees). libcds's headers are included here only.
#include "comparisons/cache/libcds_cache.hpp"

#if CP_HAS_LIBCDS_CACHE

#include <cds/gc/hp.h>
#include <cds/init.h>
#include <cds/intrusive/feldman_hashset_hp.h>

#include <atomic>
#include <optional>

#include "comparisons/cache/clock_tickets.hpp"
#include "comparisons/common/random.hpp"

namespace cp {
namespace {

// libcds's runtime: cds::Initialize once, one hazard-pointer domain (cds::gc::HP, a
// singleton) alive while any map lives, and every thread that touches a map attached to it.
// attach_this_thread() does all three on a thread's first call. Function-local statics: the
// domain outlives every thread's attachment (the main thread's thread_local is destroyed
// before the statics at exit; other threads detach when they end).
class LibcdsRuntime {
 public:
  static void attach_this_thread() {
    static LibcdsRuntime runtime;
    thread_local Attachment attachment;
  }

 private:
  LibcdsRuntime() { cds::Initialize(); }
  ~LibcdsRuntime() {
    hp_.reset();  // frees every entry still retired
    cds::Terminate();
  }

  struct Attachment {
    Attachment() {
      if (!cds::threading::Manager::isThreadAttached()) {
        cds::threading::Manager::attachThread();
        mine = true;
      }
    }
    ~Attachment() {
      if (mine) cds::threading::Manager::detachThread();
    }
    bool mine = false;  // a thread attached by someone else (a test's main) stays so
  };

  // Defaults: 8 hazard pointers per thread (the trie needs 2; the evictor holds one more),
  // up to 100 threads at once, a scan when a thread has 1,600 entries retired.
  std::optional<cds::gc::HP> hp_{std::in_place};
};

struct Entry {
  Entry(std::uint64_t key, const CacheValue& v) : hash(mix64(key)), value(v) {}

  const std::uint64_t hash;  // the trie's key: mix64 is a bijection, so the hash is perfect
  const CacheValue value;    // written before the entry is published, never after
  // The insertion this entry descends from (ClockTickets); 0 while an overwrite copies it from
  // the entry it replaced. Relaxed everywhere: it guards no other data.
  std::atomic<std::uint64_t> stamp{0};
  // CLOCK's bit: set by gets (only when clear, so a hot key's line is not rewritten), cleared
  // by the hand. Relaxed: a hint, ordered by nothing else.
  std::atomic<std::uint8_t> referenced{0};
};

struct HashOf {
  const std::uint64_t& operator()(const Entry& e) const { return e.hash; }
};
struct DeleteEntry {
  void operator()(Entry* e) const { delete e; }
};
struct SetTraits : cds::intrusive::feldman_hashset::traits {
  using hash_accessor = HashOf;
  using disposer = DeleteEntry;  // called by the hazard-pointer scan once nobody protects it
  using item_counter = cds::atomicity::item_counter;  // size(); the default counts nothing
};
using Trie = cds::intrusive::FeldmanHashSet<cds::gc::HP, Entry, SetTraits>;

// EntrySet adds the one operation the intrusive set keeps protected: an update that tells
// us which entry it replaced (the container FeldmanHashMap is built on the same call, but it
// constructs the new entry from the key alone and fills the value after publishing it).
class EntrySet : public Trie {
 public:
  // replace: puts `fresh` in the place of the key's entry, if there is one, and gives it that
  // entry's stamp. False (and `fresh` untouched) if the key is absent.
  bool replace(Entry& fresh) {
    return do_update(
               fresh,
               [](Entry& now, Entry* old) {
                 // Runs right after the CAS; `old` is still protected by the update's guard.
                 now.stamp.store(old->stamp.load(std::memory_order_relaxed),
                                 std::memory_order_relaxed);
               },
               /*bInsert=*/false)
        .first;
  }
};

}  // namespace

struct LibcdsCache::Map {
  explicit Map(const CacheConfig& config)
      : evicting(config.capacity < config.key_space), clock(config.capacity) {}

  // judge: ClockTickets' look at a popped ticket's entry.
  ClockVerdict judge(const ClockTicket& t, bool may_spare) {
    auto found = set.get(mix64(t.key));  // a guarded pointer: the entry stays allocated
    if (!found) return ClockVerdict::stale;
    const std::uint64_t stamp = found->stamp.load(std::memory_order_relaxed);
    if (stamp != 0 && stamp != t.stamp) return ClockVerdict::stale;
    if (may_spare && (stamp == 0 || found->referenced.load(std::memory_order_relaxed) != 0)) {
      found->referenced.store(0, std::memory_order_relaxed);
      return ClockVerdict::spared;
    }
    // False when the entry was erased or replaced since get: an erase frees a slot, a replaced
    // entry's ticket is stale. Either way take_slot looks again.
    return set.unlink(*found) ? ClockVerdict::evicted : ClockVerdict::lost;
  }

  bool is_live(const ClockTicket& t) {
    auto found = set.get(mix64(t.key));
    if (!found) return false;
    const std::uint64_t stamp = found->stamp.load(std::memory_order_relaxed);
    return stamp == 0 || stamp == t.stamp;
  }

  const bool evicting;  // capacity < key_space: slots, tickets and eviction are needed
  ClockTickets clock;
  EntrySet set;
};

LibcdsCache::LibcdsCache(CacheConfig config) : config_(check(config)) {
  LibcdsRuntime::attach_this_thread();
  map_ = std::make_unique<Map>(config_);
}

LibcdsCache::~LibcdsCache() {
  LibcdsRuntime::attach_this_thread();  // the trie retires its entries when destroyed
  map_.reset();
}

std::optional<CacheValue> LibcdsCache::get(std::uint64_t key) {
  if (key >= config_.key_space) return std::nullopt;
  LibcdsRuntime::attach_this_thread();
  std::optional<CacheValue> copy;
  map_->set.find(mix64(key), [&copy](Entry& e) {  // under a hazard pointer
    copy = e.value;
    if (e.referenced.load(std::memory_order_relaxed) == 0)
      e.referenced.store(1, std::memory_order_relaxed);
  });
  return copy;
}

CacheError LibcdsCache::put(std::uint64_t key, const CacheValue& value) {
  if (const CacheError e = validate_put(config_, key, value); e != CacheError::ok) return e;
  LibcdsRuntime::attach_this_thread();
  Map& m = *map_;
  auto fresh = std::make_unique<Entry>(key, value);
  if (!m.evicting) {
    m.set.update(*fresh, /*bInsert=*/true);  // insert or replace; never fails
    fresh.release();                          // the trie owns it; its disposer deletes it
    return CacheError::ok;
  }
  bool have_slot = false;
  for (;;) {
    // An overwrite is a use: the replacing entry starts referenced (stamp 0 until copied).
    fresh->referenced.store(1, std::memory_order_relaxed);
    fresh->stamp.store(0, std::memory_order_relaxed);
    if (m.set.replace(*fresh)) {
      fresh.release();
      if (have_slot) m.clock.release_slot();  // taken for an insert that another put made
      return CacheError::ok;
    }
    if (!have_slot) {
      m.clock.take_slot([&m](const ClockTicket& t, bool may_spare) { return m.judge(t, may_spare); });
      have_slot = true;
    }
    const ClockTicket ticket{key, m.clock.next_stamp()};
    fresh->referenced.store(0, std::memory_order_relaxed);  // a get earns the second chance
    fresh->stamp.store(ticket.stamp, std::memory_order_relaxed);
    if (m.set.insert(*fresh)) {
      fresh.release();
      m.clock.queue(ticket, [&m](const ClockTicket& t) { return m.is_live(t); });
      return CacheError::ok;
    }
    // Another put inserted the key after our replace found none: overwrite that entry.
  }
}

bool LibcdsCache::erase(std::uint64_t key) {
  if (key >= config_.key_space) return false;
  LibcdsRuntime::attach_this_thread();
  if (!map_->set.erase(mix64(key))) return false;
  if (map_->evicting) map_->clock.release_slot();
  return true;
}

std::size_t LibcdsCache::size() { return map_->set.size(); }

std::size_t LibcdsCache::tickets_queued() const { return map_->clock.tickets_queued(); }

}  // namespace cp

#endif  // CP_HAS_LIBCDS_CACHE
