// tasks_test.cpp: lesson 04c. The single-threaded runtime (tasks.hpp): resumption order,
// exceptions, no lost wake-up, frames destroyed at shutdown; the async mutex (mutual
// exclusion across co_await, first come first served, hand-over on abandon); the std::mutex
// held across co_await, detected; and the coroutine Payment against lesson 04b's Payment.
//
// Part of lessons_services_test. Everything but the Payment cases runs on the test thread.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lessons/04-services-own-state/async_mutex.hpp"
#include "lessons/04-services-own-state/task_payment_service.hpp"
#include "lessons/04-services-own-state/tasks.hpp"

using namespace cp::lessons::tasks;
using namespace cp::lessons::services;
using namespace std::chrono_literals;

namespace {

Task<> steps(Executor& ex, std::vector<std::string>& log, std::string name, int n) {
  for (int i = 0; i < n; ++i) {
    log.push_back(name + std::to_string(i));
    co_await ex.yield();
  }
}

Task<int> answer(int x) { co_return x * 2; }
Task<int> fails() {
  throw std::runtime_error("boom");
  co_return 0;
}
Task<int> sum_of_answers() { co_return co_await answer(20) + co_await answer(1); }

// A guard in a task's frame: counts how many frames were destroyed.
struct FrameCounter {
  int& destroyed;
  ~FrameCounter() { ++destroyed; }
};

}  // namespace

TEST_CASE("l04c: the executor resumes tasks in the order they were scheduled", "[unit]") {
  Executor ex;
  std::vector<std::string> log;
  {
    TaskGroup g(ex);
    g.spawn(steps(ex, log, "a", 2));
    g.spawn(steps(ex, log, "b", 3));
    g.spawn(steps(ex, log, "c", 1));
    CHECK(log.empty());  // spawn starts nothing by itself: the run queue does
    ex.run_ready();
    CHECK(g.pending() == 0);
  }
  CHECK(log == std::vector<std::string>{"a0", "b0", "c0", "a1", "b1", "b2"});
  CHECK_FALSE(ex.has_ready());
}

TEST_CASE("l04c: co_await of a task gives its value, or rethrows its exception", "[unit]") {
  Executor ex;
  TaskGroup g(ex);
  int got = 0;
  std::string caught;
  g.spawn([](int& out) -> Task<> { out = co_await sum_of_answers(); }(got));
  g.spawn([](std::string& out) -> Task<> {
    try {
      (void)co_await fails();
    } catch (const std::runtime_error& e) {
      out = e.what();  // the exception crossed the co_await, to the awaiter
    }
  }(caught));
  ex.run_ready();
  CHECK(got == 42);
  CHECK(caught == "boom");
}

TEST_CASE("l04c: a child's exception is rethrown by join, after every child ended", "[unit]") {
  Executor ex;
  TaskGroup outer(ex);
  std::string caught;
  int ended = 0;
  outer.spawn([](Executor& e, std::string& out, int& n) -> Task<> {
    TaskGroup g(e);
    g.spawn([](Executor& e2, int& k) -> Task<> {
      co_await e2.yield();
      ++k;
    }(e, n));
    g.spawn([]() -> Task<> {
      (void)co_await fails();
    }());
    try {
      co_await g.join();
    } catch (const std::runtime_error& err) {
      out = err.what();
    }
  }(ex, caught, ended));
  ex.run_ready();
  CHECK(caught == "boom");
  CHECK(ended == 1);
  CHECK(outer.pending() == 0);
}

TEST_CASE("l04c: a value delivered before the task waits for it is kept (no lost wake-up)",
          "[unit]") {
  Executor ex;
  TaskGroup g(ex);
  Inbox<int> inbox(ex);
  Replies<int, std::string> replies(ex);
  std::vector<int> taken;
  std::vector<std::string> answers;
  inbox.deliver(1);  // before anyone waits
  g.spawn([](Inbox<int>& in, std::vector<int>& out) -> Task<> {
    for (int i = 0; i < 3; ++i) out.push_back(co_await in.next());
  }(inbox, taken));
  g.spawn([](Replies<int, std::string>& r, Executor& e, std::vector<std::string>& out) -> Task<> {
    auto w = r.wait(7);   // registered now...
    co_await e.yield();   // ...the reply comes while we do something else...
    out.push_back(co_await w);  // ...and is here when we await it
  }(replies, ex, answers));
  g.spawn([](Replies<int, std::string>& r, std::vector<std::string>& out) -> Task<> {
    out.push_back(co_await r.wait(7) + " again");  // a second waiter on the same key
  }(replies, answers));
  ex.run_ready();
  CHECK(taken == std::vector<int>{1});
  CHECK(replies.waiting(7));
  CHECK(replies.deliver(7, "seven"));
  inbox.deliver(2);
  inbox.deliver(3);
  ex.run_ready();
  CHECK(taken == std::vector<int>{1, 2, 3});
  CHECK(answers == std::vector<std::string>{"seven", "seven again"});  // in order of waiting
  CHECK_FALSE(replies.deliver(7, "late"));  // nobody waits any more: dropped, said so
  CHECK(g.pending() == 0);
}

TEST_CASE("l04c: shutdown destroys the frames of tasks that still wait, and their waits",
          "[unit]") {
  int destroyed = 0;
  Executor ex;
  Inbox<int> inbox(ex);
  Replies<int, int> replies(ex);
  AsyncMutex mu(ex);
  {
    TaskGroup g(ex);
    g.spawn([](Inbox<int>& in, int& d) -> Task<> {
      FrameCounter c{d};
      (void)co_await in.next();  // never delivered
    }(inbox, destroyed));
    g.spawn([](Replies<int, int>& r, int& d) -> Task<> {
      FrameCounter c{d};
      (void)co_await r.wait(5);  // never answered
    }(replies, destroyed));
    g.spawn([](AsyncMutex& m, Executor& e, Inbox<int>& in, int& d) -> Task<> {
      FrameCounter c{d};
      auto guard = co_await m.lock();
      co_await e.yield();
      (void)co_await in.next();  // a second reader: never reached before shutdown
    }(mu, ex, inbox, destroyed));
    g.spawn([](AsyncMutex& m, int& d) -> Task<> {
      FrameCounter c{d};
      auto guard = co_await m.lock();  // waits behind the holder above
    }(mu, destroyed));
    ex.run_ready();
    CHECK(g.pending() == 4);
    CHECK(replies.waiting(5));
    CHECK(mu.locked());
    CHECK(mu.waiting() == 1);
  }  // the group goes: four frames destroyed at their suspension points
  CHECK(destroyed == 4);
  CHECK_FALSE(replies.waiting(5));  // the abandoned waits are gone: nothing dangles
  CHECK_FALSE(mu.locked());         // the holder's guard unlocked; the waiter left the queue
  CHECK(mu.waiting() == 0);
  CHECK_FALSE(replies.deliver(5, 1));
  CHECK_FALSE(ex.has_ready());  // the waiter handed the mutex left the run queue too
  inbox.deliver(1);             // nobody waits: kept, nothing resumed
  CHECK_FALSE(ex.has_ready());
}

TEST_CASE("l04c: the async mutex keeps a read-await-write whole, without it updates are lost",
          "[interleaving]") {
  // Each task reads the balance, awaits (a yield: every other task runs), then writes back.
  const auto run = [](bool use_mutex) {
    Executor ex;
    AsyncMutex mu(ex);
    long balance = 0;
    {
      TaskGroup g(ex);
      for (int t = 0; t < 5; ++t)
        g.spawn([](Executor& e, AsyncMutex& m, long& b, bool lock) -> Task<> {
          for (int i = 0; i < 10; ++i) {
            std::optional<AsyncMutex::Guard> guard;
            if (lock) guard.emplace(co_await m.lock());
            const long read = b;
            co_await e.yield();  // a suspension point: the others run here
            b = read + 1;
          }
        }(ex, mu, balance, use_mutex));
      ex.run_ready();
      REQUIRE(g.pending() == 0);
    }
    return balance;
  };
  CHECK(run(true) == 50);
  CHECK(run(false) == 10);  // every task read the same value before any wrote: 40 lost
}

TEST_CASE("l04c: the async mutex is first come, first served, and hands over on abandon",
          "[unit]") {
  Executor ex;
  AsyncMutex mu(ex);
  Inbox<int> release(ex);
  std::vector<int> order;
  const auto user = [](AsyncMutex& m, std::vector<int>& out, int id) -> Task<> {
    auto guard = co_await m.lock();
    out.push_back(id);
  };
  TaskGroup g(ex);
  g.spawn([](AsyncMutex& m, Inbox<int>& in, std::vector<int>& out) -> Task<> {
    auto guard = co_await m.lock();
    out.push_back(0);
    (void)co_await in.next();  // holds the mutex until the test says so
  }(mu, release, order));
  for (int id = 1; id <= 3; ++id) g.spawn(user(mu, order, id));
  {
    TaskGroup doomed(ex);
    doomed.spawn(user(mu, order, 99));
    ex.run_ready();
    CHECK(mu.waiting() == 4);  // 1, 2, 3, then 99
  }  // 99's frame goes while it waits: it leaves the queue
  CHECK(mu.waiting() == 3);
  g.spawn(user(mu, order, 4));  // arrives last, waits last
  release.deliver(0);
  ex.run_ready();
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4});  // arrival order; nobody lost, nobody jumped
  CHECK_FALSE(mu.locked());
  CHECK(g.pending() == 0);

  // Handed the mutex but destroyed before it ran: the mutex passes on, not stuck forever.
  REQUIRE(mu.try_lock());  // held by the test itself
  {
    TaskGroup doomed(ex);
    doomed.spawn(user(mu, order, 98));
    ex.run_ready();
    CHECK(mu.waiting() == 1);
    mu.unlock();  // hands it to 98, which is scheduled but has not run
    CHECK(mu.locked());
    CHECK(ex.has_ready());
  }
  CHECK_FALSE(mu.locked());
  CHECK_FALSE(ex.has_ready());  // 98 left the run queue with its frame
  ex.run_ready();
  CHECK(order.size() == 5);
}

// The deadlock, forced and detected: a task holds a plain std::mutex across co_await; the
// next task on the same thread wants it. lock() there would block the only thread that could
// ever resume the holder. try_lock() answers instead. (try_lock by the thread that owns a
// std::mutex is undefined in the standard; glibc's mutex answers "busy", which is what this
// relies on. The holder's thread really is the same: that is the whole bug.)
TEST_CASE("l04c: a std::mutex held across co_await blocks the other tasks of its thread",
          "[interleaving]") {
  Executor ex;
  std::mutex plain;
  bool holder_done = false, other_got_it = false, other_tried = false;
  {
    TaskGroup g(ex);
    g.spawn([](Executor& e, std::mutex& m, bool& done) -> Task<> {
      std::lock_guard lock(m);
      co_await e.yield();  // suspended holding it: the thread runs the next task
      done = true;
    }(ex, plain, holder_done));
    g.spawn([](std::mutex& m, bool& tried, bool& got) -> Task<> {
      tried = true;
      got = m.try_lock();  // lock() would never return: the holder cannot run to unlock
      if (got) m.unlock();
      co_return;
    }(plain, other_tried, other_got_it));
    ex.run_ready();
  }
  CHECK(other_tried);
  CHECK_FALSE(other_got_it);  // detected: blocking here would have been the deadlock
  CHECK(holder_done);
  CHECK(plain.try_lock());  // and the holder did release it once it could run
  plain.unlock();
}

// ---- The coroutine Payment against lesson 04b's Payment -------------------------------------

namespace {

template <class T>
T next_of(Channel<T>& ring) {
  T out{};
  REQUIRE(ring.wait_for_data());
  REQUIRE(ring.consume_batch([&out](T& v, std::uint64_t) { out = v; }, 1) == 1);
  return out;
}

template <class T>
std::vector<T> rest_of(Channel<T>& ring) {
  std::vector<T> out;
  while (ring.wait_for_data())
    ring.consume_batch([&out](T& v, std::uint64_t) { out.push_back(v); }, 64);
  return out;
}

ChargeRequest charge_of(OrderId order, CustomerId customer, Cents amount = 100) {
  return {ChargeRequest::Kind::charge, order, customer, amount};
}

struct PaymentRun {
  std::vector<ChargeResult> results;
  std::uint64_t checks = 0;
  Cents charged = 0;
};

// The test plays Order: it sends `charges` then shutdown and reads every result. A real
// Fraud (checks of 0 us) answers. Rings hold them all, so nothing waits for space.
template <class Payment, class Mode>
PaymentRun drive(Mode mode, const std::vector<ChargeRequest>& charges,
                 std::vector<CustomerId> known) {
  OrderFlowChannels ch(4096);
  Payment payment(mode, 0us, std::move(known), ch.charges, ch.verdicts, ch.payment_inputs,
                  ch.charge_results, ch.checks);
  FraudService fraud(0us, ch.checks, ch.verdicts);
  PaymentRun out;
  {
    std::jthread p([&payment] { payment.run(); });
    std::jthread f([&fraud] { fraud.run(); });
    for (const ChargeRequest& c : charges) ch.charges.push(ChargeRequest(c));
    ch.charges.push({ChargeRequest::Kind::shutdown});
    ch.charges.close();
    out.results = rest_of(ch.charge_results);
  }
  out.checks = payment.checks_asked();
  out.charged = payment.total_charged();
  return out;
}

std::vector<std::pair<OrderId, bool>> sorted(const std::vector<ChargeResult>& rs) {
  std::vector<std::pair<OrderId, bool>> v;
  for (const auto& r : rs) v.emplace_back(r.order, r.approved);
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("l04c: task Payment gives 04b's replies for a seeded stream, in each version",
          "[unit]") {
  const std::uint64_t seed = 11;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  std::vector<ChargeRequest> charges;
  for (OrderId o = 0; o < 600; ++o)  // 40 known customers (0..39), new ones (100..159) at
    charges.push_back(charge_of(o, rng() % 4 == 0 ? 100 + static_cast<CustomerId>(rng() % 60)
                                                  : static_cast<CustomerId>(rng() % 40),
                                static_cast<Cents>(1 + rng() % 1000)));  // times
  std::vector<CustomerId> known;
  for (CustomerId c = 0; c < 40; ++c) known.push_back(c);

  const struct {
    FraudCheckMode thread_mode;
    TaskCheckMode task_mode;
  } pairs[] = {{FraudCheckMode::inline_in_payment, TaskCheckMode::blocks_thread},
               {FraudCheckMode::call_and_wait, TaskCheckMode::awaits_inline},
               {FraudCheckMode::send_and_continue, TaskCheckMode::starts_and_goes_on}};
  for (const auto& [tm, km] : pairs) {
    INFO(to_string(tm) << " against " << to_string(km));
    const PaymentRun a = drive<PaymentService<>>(tm, charges, known);
    const PaymentRun b = drive<TaskPaymentService>(km, charges, known);
    REQUIRE(a.results.size() == charges.size());
    REQUIRE(b.results.size() == charges.size());
    CHECK(sorted(a.results) == sorted(b.results));  // one reply per order, the same reply
    CHECK(a.checks == b.checks);                    // one check per new customer
    CHECK(a.charged == b.charged);
    if (km != TaskCheckMode::starts_and_goes_on) {  // waiting in line: arrival order exactly
      for (std::size_t i = 0; i < charges.size(); ++i) CHECK(b.results[i].order == i);
    }
  }
}

TEST_CASE("l04c: task Payment version 2 serves nobody while it awaits Fraud", "[unit]") {
  OrderFlowChannels ch(16);
  TaskPaymentService payment(TaskCheckMode::awaits_inline, 0us, {1}, ch.charges, ch.verdicts,
                             ch.payment_inputs, ch.charge_results, ch.checks);
  std::jthread thread([&payment] { payment.run(); });
  ch.charges.push(charge_of(0, 9));  // new: the serving task awaits the verdict
  ch.charges.push(charge_of(1, 1));  // known, but the only task that takes requests waits
  CHECK(next_of(ch.checks).customer == 9);  // we are Fraud
  CHECK_FALSE(ch.charge_results.has_data());
  ch.verdicts.push({9, true});
  CHECK(next_of(ch.charge_results).order == 0);
  CHECK(next_of(ch.charge_results).order == 1);
  ch.charges.push({ChargeRequest::Kind::shutdown});
  ch.charges.close();
  CHECK(rest_of(ch.checks).empty());
  ch.verdicts.close();
  CHECK(rest_of(ch.charge_results).empty());
  thread.join();
  CHECK(payment.checks_asked() == 1);
}

// As 04b's version 3 test: the test is Fraud and answers only after it has seen Payment serve
// the known customers while the check is pending.
TEST_CASE("l04c: task Payment version 3 keeps serving while a check is pending", "[unit]") {
  OrderFlowChannels ch(16);
  TaskPaymentService payment(TaskCheckMode::starts_and_goes_on, 0us, {1, 2}, ch.charges,
                             ch.verdicts, ch.payment_inputs, ch.charge_results, ch.checks);
  std::jthread thread([&payment] { payment.run(); });
  ch.charges.push(charge_of(0, 9));
  CHECK(next_of(ch.checks).customer == 9);
  ch.charges.push(charge_of(1, 1));
  ch.charges.push(charge_of(2, 9));  // joins the pending check
  ch.charges.push(charge_of(3, 2));
  CHECK(next_of(ch.charge_results).order == 1);
  CHECK(next_of(ch.charge_results).order == 3);
  ch.charges.push({ChargeRequest::Kind::shutdown});  // waits for the pending check
  CHECK_FALSE(ch.charge_results.has_data());
  ch.verdicts.push({9, false});  // declined this time
  const ChargeResult r0 = next_of(ch.charge_results), r2 = next_of(ch.charge_results);
  CHECK(r0.order == 0);  // the waiting requests, in arrival order
  CHECK(r2.order == 2);
  CHECK_FALSE(r0.approved);
  CHECK_FALSE(r2.approved);
  ch.charges.close();
  CHECK(rest_of(ch.checks).empty());  // one check only
  ch.verdicts.close();
  CHECK(rest_of(ch.charge_results).empty());
  thread.join();
  CHECK(payment.checks_asked() == 1);
  CHECK(payment.approved() == 2);
}

TEST_CASE("l04c: the flow with task Payment confirms every order once, tiny windows too",
          "[stress]") {
  Workload w = make_workload(300, 5, 15, 9);
  for (std::size_t i = 0; i + 1 < w.orders.size(); ++i)  // repeat orders of pending customers
    if (w.orders[i].new_customer && i % 2 == 0) w.orders[i + 1] = {w.orders[i].customer, false, 1};
  for (const std::size_t window : {1, 3, 16}) {
    for (const TaskCheckMode mode : {TaskCheckMode::blocks_thread, TaskCheckMode::awaits_inline,
                                     TaskCheckMode::starts_and_goes_on}) {
      INFO(to_string(mode) << ", window " << window);
      const FlowReport r = run_task_order_flow(w, mode, {FraudCheckMode{}, 50us, window, 0});
      CHECK(r.every_order_confirmed_once());
      CHECK(r.checks_asked == (mode == TaskCheckMode::blocks_thread ? 0 : 15));
    }
  }
}
