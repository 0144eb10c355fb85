// reclaim_test.cpp: forced schedules for the reclamation domains, the per-thread caches and the
// flat combiner of patterns/lock_free ([interleaving]):
//   - a deleter that retires another object (a node whose destructor retires its children),
//     and one that calls back into the stack that retired it: each object deleted exactly once;
//   - more objects per thread than a per-thread cache holds (ThreadSlots, hazard slots, epoch
//     records across many stacks): a thread's slot is found, never claimed again, and the
//     results are exact;
//   - the flat combiner: a combined operation that calls back into its own combiner, and
//     seeded throws from combined operations, each with its declared outcome.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "comparisons/common/random.hpp"
#include "comparisons/counter/lock_free_counter.hpp"
#include "patterns/lock_free/epochs.hpp"
#include "patterns/lock_free/flat_combining.hpp"
#include "patterns/lock_free/hazard_pointers.hpp"
#include "patterns/lock_free/tagged.hpp"
#include "patterns/lock_free/thread_slot.hpp"
#include "patterns/lock_free/treiber_stack.hpp"
#include "tests/patterns/lock_free/scale.hpp"
#include "tests/support/findings.hpp"

using namespace cp;
using namespace cp::lf;
using namespace cp::test;

namespace {

// The two reclamation domains behind one face: retire, collect, unreclaimed.
struct HazardFace {
  static constexpr const char* name = "hazard pointers";
  template <class T>
  static void retire(T* p) { HazardDomain::global().retire(p); }
  static void collect() { HazardDomain::global().collect(); }
  static std::size_t unreclaimed() { return HazardDomain::global().unreclaimed(); }
};
struct EpochFace {
  static constexpr const char* name = "epochs";
  template <class T>
  static void retire(T* p) { EpochDomain::global().retire(p); }
  static void collect() { EpochDomain::global().collect(); }
  static std::size_t unreclaimed() { return EpochDomain::global().unreclaimed(); }
};

// A tree node whose destructor retires its children: deleting one object retires others,
// from inside the domain's own deleter call.
template <class Face>
struct TreeNode {
  int id;
  std::vector<int>* deletions;
  std::vector<TreeNode*> children;
  ~TreeNode() {
    ++(*deletions)[static_cast<std::size_t>(id)];
    for (TreeNode* c : children) Face::retire(c);
  }
};

// Retires `roots` chains of `depth` nodes each (node k's child is node k + roots), all roots
// at once, and collects until every node is deleted. Returns the deletion count per node.
template <class Face>
std::vector<int> retire_forest(int roots, int depth) {
  const int n = roots * depth;
  std::vector<int> deletions(static_cast<std::size_t>(n), 0);
  std::vector<TreeNode<Face>*> nodes(static_cast<std::size_t>(n));
  for (int k = n - 1; k >= 0; --k) {
    auto* node = new TreeNode<Face>{k, &deletions, {}};
    if (k + roots < n) node->children.push_back(nodes[static_cast<std::size_t>(k + roots)]);
    nodes[static_cast<std::size_t>(k)] = node;
  }
  for (int k = 0; k < roots; ++k) Face::retire(nodes[static_cast<std::size_t>(k)]);
  for (int round = 0; round < 4 * depth + 16; ++round) {
    if (std::all_of(deletions.begin(), deletions.end(), [](int d) { return d != 0; })) break;
    Face::collect();
  }
  return deletions;
}

template <class Face>
void check_deleter_that_retires() {
  for (int i = 0; i < 3; ++i) Face::collect();  // earlier cases' leftovers
  const std::size_t before = Face::unreclaimed();
  // 200 roots: more than one collection's worth (epochs collect every 64 retires, hazard
  // pointers scan at 64 + 2 x slots), so nested retires reach the threshold mid-collection.
  const auto deletions = retire_forest<Face>(200, 5);
  Findings f;
  for (std::size_t k = 0; k < deletions.size(); ++k)
    if (deletions[k] != 1) f.fail("node ", k, " deleted ", deletions[k], " times");
  INFO(Face::name << ": 1,000 nodes in 200 chains, each deleted by its parent's destructor");
  CP_REQUIRE_CLEAN(f, 0);
  CHECK(Face::unreclaimed() == before);
}

}  // namespace

TEST_CASE("hazard pointers: a deleter that retires: every node deleted exactly once",
          "[interleaving]") {
  check_deleter_that_retires<HazardFace>();
}

TEST_CASE("epochs: a deleter that retires: every node deleted exactly once", "[interleaving]") {
  check_deleter_that_retires<EpochFace>();
}

namespace {

// An object whose deleter calls back into the stack whose pop retired it: it pops one value
// and pushes it back plus one new value. The stack must end with every value exactly once.
template <class Reclaim>
struct Bouncer {
  TreiberStack<int, Reclaim>* stack;
  int id;
  int* deleted;
  ~Bouncer() {
    ++*deleted;
    if (auto v = stack->try_pop()) stack->push(*v);
    stack->push(1'000'000 + id);
  }
};

template <class Reclaim, class Face>
void check_deleter_calls_back_into_the_stack() {
  TreiberStack<int, Reclaim> stack;
  constexpr int kObjects = 300;
  for (int i = 0; i < kObjects; ++i) stack.push(i);
  int deleted = 0;
  for (int i = 0; i < kObjects; ++i) {
    Face::retire(new Bouncer<Reclaim>{&stack, i, &deleted});
    // A pop retires its node and may run the deleters above; the value goes back.
    if (auto v = stack.try_pop()) stack.push(*v);
  }
  for (int round = 0; round < 16 && deleted < kObjects; ++round) Face::collect();
  std::vector<int> values;
  while (auto v = stack.try_pop()) values.push_back(*v);
  std::sort(values.begin(), values.end());
  INFO(Reclaim::name << ": " << deleted << " of " << kObjects << " deleters ran");
  REQUIRE(deleted == kObjects);
  REQUIRE(values.size() == 2 * static_cast<std::size_t>(kObjects));
  CHECK(std::adjacent_find(values.begin(), values.end()) == values.end());
}

}  // namespace

TEST_CASE("reclamation: a deleter that pops and pushes the stack whose pop retired it",
          "[interleaving]") {
  check_deleter_calls_back_into_the_stack<HazardPointers, HazardFace>();
  check_deleter_calls_back_into_the_stack<Epochs, EpochFace>();
}

// The declared outcome of a throwing deleter: none. A domain takes only noexcept deleters
// (as P2530's hazard_pointer requires), so a destructor that throws ends the process at the
// throw (a noexcept boundary) instead of leaving a scan half done.
namespace {
template <class Domain, class Deleter>
concept RetireAccepts = requires(Domain& d, void* p, Deleter del) { d.retire(p, del); };
}  // namespace

TEST_CASE("reclamation: the domains accept only deleters that cannot throw", "[trait]") {
  using MayThrow = void (*)(void*);
  using NoThrow = void (*)(void*) noexcept;
  STATIC_REQUIRE(RetireAccepts<HazardDomain, NoThrow>);
  STATIC_REQUIRE(RetireAccepts<EpochDomain, NoThrow>);
  STATIC_REQUIRE(!RetireAccepts<HazardDomain, MayThrow>);
  STATIC_REQUIRE(!RetireAccepts<EpochDomain, MayThrow>);
}

// ---- ThreadSlots: more objects per thread than its cache holds ---------------------------

namespace {

// Each of `threads` threads calls mine() on `objects` ThreadSlots in rotation, `rounds` times.
// A thread's slot in an object must be the same on every call, exclusive slots must differ
// between threads, and each object must have made at most one claim per thread.
Findings rotate_thread_slots(unsigned threads, unsigned objects, int rounds) {
  constexpr unsigned kSlots = 16;
  std::vector<std::unique_ptr<ThreadSlots<kSlots>>> slots;
  for (unsigned o = 0; o < objects; ++o) slots.push_back(std::make_unique<ThreadSlots<kSlots>>());
  // seen[t][o]: thread t's slot in object o (first call); changed[t]: calls that disagreed.
  std::vector<std::vector<ThreadSlot>> seen(threads, std::vector<ThreadSlot>(objects));
  std::vector<int> changed(threads, 0);
  run_threads(threads, [&](unsigned t) {
    for (unsigned o = 0; o < objects; ++o) seen[t][o] = slots[o]->mine();
    for (int r = 0; r < rounds; ++r)
      for (unsigned o = 0; o < objects; ++o) {
        const ThreadSlot s = slots[o]->mine();
        if (s.index != seen[t][o].index || s.exclusive != seen[t][o].exclusive) ++changed[t];
      }
  });
  Findings f;
  for (unsigned t = 0; t < threads; ++t)
    if (changed[t] != 0) f.fail("thread ", t, ": its slot changed in ", changed[t], " calls");
  for (unsigned o = 0; o < objects; ++o) {
    if (slots[o]->claimed() > threads)
      f.fail("object ", o, ": ", slots[o]->claimed(), " claims by ", threads, " threads");
    std::set<unsigned> exclusive;
    for (unsigned t = 0; t < threads; ++t) {
      if (threads <= kSlots && !seen[t][o].exclusive)
        f.fail("object ", o, ": thread ", t, " shares a row with ", threads, " threads");
      if (seen[t][o].exclusive && !exclusive.insert(seen[t][o].index).second)
        f.fail("object ", o, ": two threads own index ", seen[t][o].index);
    }
  }
  return f;
}

}  // namespace

TEST_CASE("thread slots: one thread uses more objects than the cache holds in rotation",
          "[interleaving]") {
  const auto f = rotate_thread_slots(1, 9, 100);
  CP_REQUIRE_CLEAN(f, 0);
}

TEST_CASE("thread slots: four threads use more objects than the cache holds in rotation",
          "[interleaving]") {
  const auto f = rotate_thread_slots(4, 9, 100);
  CP_REQUIRE_CLEAN(f, 0);
}

TEST_CASE("thread slots: a new object at a dead one's address starts with no claims",
          "[interleaving]") {
  alignas(ThreadSlots<4>) unsigned char storage[sizeof(ThreadSlots<4>)];
  auto* a = new (storage) ThreadSlots<4>();
  const ThreadSlot first = a->mine();
  a->~ThreadSlots<4>();
  auto* b = new (storage) ThreadSlots<4>();  // same address
  CHECK(b->claimed() == 0);
  const ThreadSlot again = b->mine();
  CHECK(b->claimed() == 1);
  CHECK(again.index == first.index);  // index 0: a fresh claim, not a stale cache entry
  CHECK(again.exclusive);
  b->~ThreadSlots<4>();
}

// The sharded counter over ThreadSlots, four threads each adding to nine counters in
// rotation: totals exact, and every thread stays on a row of its own.
TEST_CASE("sharded counter: threads that add to more counters than the slot cache holds",
          "[interleaving]") {
  constexpr unsigned kThreads = 4, kCounters = 9;
  const int adds = scaled(4'000);
  const auto s = seed();
  std::vector<std::unique_ptr<LockFreeShardedCounter>> counters;
  for (unsigned c = 0; c < kCounters; ++c)
    counters.push_back(std::make_unique<LockFreeShardedCounter>(CounterConfig{.keys = 8}));
  std::vector<std::vector<std::int64_t>> sent(kThreads, std::vector<std::int64_t>(kCounters * 8));
  run_threads(kThreads, [&](unsigned t) {
    Xoshiro256 rng(derive_seed(s, t));
    for (int i = 0; i < adds; ++i)
      for (unsigned c = 0; c < kCounters; ++c) {
        const auto key = static_cast<std::uint32_t>(rng.below(8));
        const auto delta = static_cast<std::int64_t>(rng.below(5)) + 1;
        (void)counters[c]->add(key, delta);
        sent[t][c * 8 + key] += delta;
      }
  });
  Findings f;
  for (unsigned c = 0; c < kCounters; ++c) {
    std::int64_t want_total = 0;
    for (std::uint32_t k = 0; k < 8; ++k) {
      std::int64_t want = 0;
      for (unsigned t = 0; t < kThreads; ++t) want += sent[t][c * 8 + k];
      want_total += want;
      if (counters[c]->get(k).value != want)
        f.fail("counter ", c, " key ", k, ": ", counters[c]->get(k).value, ", want ", want);
    }
    if (counters[c]->total() != want_total)
      f.fail("counter ", c, " total ", counters[c]->total(), ", want ", want_total);
  }
  CP_REQUIRE_CLEAN(f, s);
}

// ---- Hazard slots and epoch records: many stacks per thread -----------------------------

namespace {

// Each thread pushes its ids onto `stacks` stacks in rotation and pops from the next one, so
// every thread holds guards of one domain for many objects. Every id exactly once per stack.
template <class Reclaim>
Findings many_stacks_per_thread(std::uint64_t s, unsigned threads, unsigned stacks, int pushes) {
  std::vector<std::unique_ptr<TreiberStack<std::uint64_t, Reclaim>>> all;
  for (unsigned k = 0; k < stacks; ++k)
    all.push_back(std::make_unique<TreiberStack<std::uint64_t, Reclaim>>());
  std::vector<std::vector<std::vector<std::uint64_t>>> popped(
      threads + 1, std::vector<std::vector<std::uint64_t>>(stacks));
  run_threads(threads, [&](unsigned t) {
    Xoshiro256 rng(derive_seed(s, t));
    for (int i = 0; i < pushes; ++i)
      for (unsigned k = 0; k < stacks; ++k) {
        all[k]->push((std::uint64_t{t} << 32) | static_cast<std::uint64_t>(i));
        const unsigned from = static_cast<unsigned>(rng.below(stacks));
        if (auto v = all[from]->try_pop()) popped[t][from].push_back(*v);
      }
  });
  Findings f;
  for (unsigned k = 0; k < stacks; ++k) {
    while (auto v = all[k]->try_pop()) popped[threads][k].push_back(*v);
    std::vector<std::uint64_t> got;
    for (const auto& per_thread : popped) got.insert(got.end(), per_thread[k].begin(), per_thread[k].end());
    std::sort(got.begin(), got.end());
    const std::size_t want = std::size_t{threads} * static_cast<std::size_t>(pushes);
    if (got.size() != want) f.fail("stack ", k, ": popped ", got.size(), ", pushed ", want);
    if (std::adjacent_find(got.begin(), got.end()) != got.end())
      f.fail("stack ", k, ": an item popped twice");
  }
  return f;
}

}  // namespace

TEST_CASE("treiber stacks: each thread uses nine stacks in rotation and every item comes out once",
          "[interleaving]") {
  const auto s = seed();
  for (unsigned threads : {1u, 4u}) {
    INFO("threads " << threads);
    CP_REQUIRE_CLEAN(many_stacks_per_thread<HazardPointers>(s, threads, 9, scaled(1'000)), s);
    CP_REQUIRE_CLEAN(many_stacks_per_thread<Epochs>(s, threads, 9, scaled(1'000)), s);
    CP_REQUIRE_CLEAN(many_stacks_per_thread<TaggedRecycle>(s, threads, 9, scaled(1'000)), s);
  }
}

// A thread may hold kSlotsPerThread hazard pointers at once, over any number of objects; one
// more is refused with std::length_error (the declared outcome), and every slot returns.
TEST_CASE("hazard pointers: one more than the thread's slots is refused and all come back",
          "[interleaving]") {
  std::vector<std::atomic<int*>> sources(HazardDomain::kSlotsPerThread + 1);
  std::vector<int> values(sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) sources[i].store(&values[i]);
  for (int round = 0; round < 3; ++round) {
    std::vector<HazardDomain::HazardPointer> held;
    for (unsigned i = 0; i < HazardDomain::kSlotsPerThread; ++i) {
      held.push_back(HazardDomain::global().make_hazard_pointer());
      CHECK(held.back().protect(sources[i]) == &values[i]);
    }
    CHECK_THROWS_AS(HazardDomain::global().make_hazard_pointer(), std::length_error);
  }  // all released: the next round gets kSlotsPerThread again
}

// ---- Flat combining: re-entrant calls and throwing operations ---------------------------

namespace {
struct Tally {
  std::int64_t sum = 0;
  std::uint64_t applied = 0;
};
struct Boom : std::runtime_error {
  explicit Boom(int id) : std::runtime_error("boom"), id(id) {}
  int id;
};
}  // namespace

// A combined operation that calls apply() on its own combiner would wait for itself. The
// declared outcome: that inner apply throws std::logic_error at once (inside the operation),
// and the outer apply rethrows it to its caller if the operation lets it through.
TEST_CASE("flat combining: an operation that calls back into its own combiner is refused",
          "[interleaving]") {
  FlatCombiner<Tally> fc(16);
  bool refused = false;
  fc.apply([&](Tally& t) {
    ++t.applied;
    try {
      fc.apply([](Tally& inner) { ++inner.applied; });
    } catch (const std::logic_error&) {
      refused = true;
    }
  });
  CHECK(refused);
  CHECK_THROWS_AS(fc.apply([&](Tally&) { fc.apply([](Tally&) {}); }), std::logic_error);
  // The combiner still serves calls, and only the outer operations ran.
  CHECK(fc.apply([](Tally& t) { return t.applied; }) == 1);
}

// Seeded throws from combined operations on four threads: a throwing call gets exactly its
// own exception back, every other call its own result, and the core holds exactly the
// effects of the calls that did not throw (a throwing operation throws before any effect).
TEST_CASE("flat combining: seeded throws from combined operations leave the counts balanced",
          "[interleaving]") {
  const auto s = seed();
  constexpr unsigned kThreads = 4;
  const int calls = scaled(2'000);
  FlatCombiner<Tally> fc(16);
  std::vector<std::int64_t> want_sum(kThreads, 0);
  std::vector<int> thrown(kThreads, 0), returned(kThreads, 0), wrong(kThreads, 0);
  run_threads(kThreads, [&](unsigned t) {
    Xoshiro256 rng(derive_seed(s, t));
    for (int i = 0; i < calls; ++i) {
      const int id = static_cast<int>(t) * 1'000'000 + i;
      const bool throws = rng.percent(20);
      const auto delta = static_cast<std::int64_t>(rng.below(100)) + 1;
      try {
        const int got = fc.apply([&](Tally& c) {
          if (throws) throw Boom(id);
          c.sum += delta;
          ++c.applied;
          return id;
        });
        ++returned[t];
        if (throws || got != id) ++wrong[t];
        want_sum[t] += delta;
      } catch (const Boom& b) {
        ++thrown[t];
        if (!throws || b.id != id) ++wrong[t];
      }
    }
  });
  Findings f;
  std::int64_t want = 0;
  std::uint64_t ok = 0;
  for (unsigned t = 0; t < kThreads; ++t) {
    if (wrong[t] != 0) f.fail("thread ", t, ": ", wrong[t], " calls got another call's outcome");
    if (thrown[t] + returned[t] != calls) f.fail("thread ", t, ": outcomes do not add up");
    want += want_sum[t];
    ok += static_cast<std::uint64_t>(returned[t]);
  }
  const Tally end = fc.apply([](Tally& c) { return c; });
  if (end.sum != want) f.fail("core sum ", end.sum, ", want ", want);
  if (end.applied != ok) f.fail("core applied ", end.applied, ", want ", ok);
  if (fc.combined() != std::uint64_t{kThreads} * static_cast<std::uint64_t>(calls) + 1)
    f.fail("combined ", fc.combined(), " requests");
  CP_REQUIRE_CLEAN(f, s);
}
