// tasks.hpp: C++20 coroutines on one thread, the smallest runtime lesson 04c needs.
//
//   Task<T>     - a coroutine that produces a T (or throws). Lazy: it starts when awaited.
//                 `co_await task` runs it now, on this thread, and resumes the awaiter when it
//                 ends, with its value or its exception.
//   Executor    - a run queue: schedule(h) appends a suspended coroutine, run_ready() resumes
//                 them in order until none is left. yield() goes to the back of the queue.
//   TaskGroup   - starts tasks that run on their own ("start it and go on"), owns their
//                 frames until they end, and join() waits for all of them. The first
//                 exception of a child is rethrown by join(). Its destructor destroys the
//                 frames of children that never finished (shutdown).
//   Inbox<T>    - an event source: the thread's loop deliver()s values, one task awaits
//                 next(). Values are taken in delivery order.
//   Replies<K, V> - an event source: tasks await the reply for a key, the loop deliver()s
//                 (key, value) and every task waiting on that key resumes, in the order they
//                 began to wait.
//
// Everything here belongs to one thread: no locks, no atomics. Another thread talks to it only
// through the thread's own inputs (lesson 04's rings), which its loop reads and delivers.
// A suspended task waits in an Inbox, a Replies or an AsyncMutex, or sits in the run queue.
// If its frame is destroyed meanwhile (shutdown), its awaiter's destructor takes it off that
// wait and out of the run queue, so nothing is left pointing at a freed frame.
#pragma once

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <exception>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cp::lessons::tasks {

// ---- Task<T> -------------------------------------------------------------------------------

namespace detail {

struct PromiseBase {
  std::coroutine_handle<> continuation = std::noop_coroutine();  // who awaits us
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }  // lazy
  struct Final {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> done) noexcept {
      return done.promise().continuation;  // symmetric transfer: resume the awaiter now
    }
    void await_resume() noexcept {}
  };
  Final final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <class T>
struct Promise : PromiseBase {
  std::optional<T> value;
  void return_value(T v) { value.emplace(std::move(v)); }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct Promise<void> : PromiseBase {
  void return_void() noexcept {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

template <class T = void>
class [[nodiscard]] Task {
 public:
  struct promise_type : detail::Promise<T> {
    Task get_return_object() { return Task(Handle::from_promise(*this)); }
  };
  using Handle = std::coroutine_handle<promise_type>;

  Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task& operator=(Task&&) = delete;
  ~Task() {
    if (h_) h_.destroy();  // a task never started, finished, or abandoned: its frame goes
  }

  // [quote: task-await]
  // co_await std::move(task): start it now; resume here when it ends, with its result.
  auto operator co_await() && noexcept {
    struct Awaiter {
      Handle h;
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
        h.promise().continuation = awaiting;
        return h;  // run the task now, on this thread (no trip through the run queue)
      }
      T await_resume() { return h.promise().take(); }  // its value, or its exception
    };
    return Awaiter{h_};
  }
  // [end quote]

 private:
  explicit Task(Handle h) : h_(h) {}
  Handle h_;
};

// ---- Executor ------------------------------------------------------------------------------

// [quote: executor]
class Executor {
 public:
  // schedule: `h` will be resumed by run_ready(), after everything scheduled before it.
  void schedule(std::coroutine_handle<> h) { ready_.push_back(h); }

  // run_ready: resumes scheduled coroutines in order until none is left (including those
  // they schedule). Returns how many it resumed. Then every task is waiting for an event.
  std::size_t run_ready() {
    std::size_t resumed = 0;
    while (!ready_.empty()) {
      const std::coroutine_handle<> h = ready_.front();
      ready_.pop_front();
      h.resume();
      ++resumed;
    }
    return resumed;
  }
  // [end quote]

  bool has_ready() const { return !ready_.empty(); }

  // co_await executor.yield(): let every task already scheduled run first.
  auto yield() {
    struct Awaiter {
      Executor& ex;
      std::coroutine_handle<> me;
      explicit Awaiter(Executor& e) : ex(e) {}
      Awaiter(const Awaiter&) = delete;
      ~Awaiter() {
        if (me) ex.forget(me);  // destroyed while in the queue
      }
      bool await_ready() noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) { ex.schedule(me = h); }
      void await_resume() noexcept { me = {}; }
    };
    return Awaiter(*this);
  }

  // forget: takes `h` out of the run queue (its frame is being destroyed).
  void forget(std::coroutine_handle<> h) {
    ready_.erase(std::remove(ready_.begin(), ready_.end(), h), ready_.end());
  }

 private:
  std::deque<std::coroutine_handle<>> ready_;
};

// ---- TaskGroup -----------------------------------------------------------------------------

class TaskGroup {
 public:
  explicit TaskGroup(Executor& ex) : ex_(ex) {}
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup() {
    for (const auto h : children_) {  // shutdown: frames of unfinished children
      ex_.forget(h);                  // (one never started is still in the run queue)
      h.destroy();
    }
  }

  // spawn: the task starts on the run queue, after what is already there, and the caller
  // goes on. The group owns it until it ends.
  void spawn(Task<void> task) {
    Child child = run_child(std::move(task));
    const auto h = std::exchange(child.h, {});
    h.promise().group = this;
    h.promise().self = children_.insert(children_.end(), h);
    ex_.schedule(h);
  }

  std::size_t pending() const { return children_.size(); }

  // co_await group.join(): resumes once no child is pending; rethrows the first exception
  // a child threw (one joiner at a time).
  auto join() {
    struct Awaiter {
      TaskGroup& g;
      std::coroutine_handle<> me;
      explicit Awaiter(TaskGroup& group) : g(group) {}
      Awaiter(const Awaiter&) = delete;
      ~Awaiter() {
        if (!me) return;
        if (g.joiner_ == me) g.joiner_ = {};  // destroyed while waiting
        else g.ex_.forget(me);               // destroyed after being woken, before running
      }
      bool await_ready() noexcept { return g.children_.empty(); }
      void await_suspend(std::coroutine_handle<> h) noexcept { g.joiner_ = me = h; }
      void await_resume() {
        me = {};
        g.rethrow_first_error();
      }
    };
    return Awaiter(*this);
  }

  // For a caller that is not a coroutine: the first exception a child threw, once.
  void rethrow_first_error() {
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  struct ChildPromise;
  using ChildHandle = std::coroutine_handle<ChildPromise>;
  struct Child {
    using promise_type = ChildPromise;
    ChildHandle h;
    ~Child() {
      if (h) h.destroy();
    }
  };
  struct ChildPromise {
    TaskGroup* group = nullptr;
    std::list<ChildHandle>::iterator self;
    std::exception_ptr error;
    Child get_return_object() { return Child{ChildHandle::from_promise(*this)}; }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct Final {
      bool await_ready() noexcept { return false; }
      void await_suspend(ChildHandle h) noexcept { h.promise().group->child_done(h); }
      void await_resume() noexcept {}
    };
    Final final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };

  static Child run_child(Task<void> task) { co_await std::move(task); }

  // A child ended (suspended at its final point): keep its error, free its frame, and wake
  // the joiner if it was the last.
  void child_done(ChildHandle h) noexcept {
    if (h.promise().error && !error_) error_ = h.promise().error;
    children_.erase(h.promise().self);
    h.destroy();  // allowed: the coroutine is suspended (at its final suspend point)
    if (children_.empty() && joiner_) ex_.schedule(std::exchange(joiner_, {}));
  }

  Executor& ex_;
  std::list<ChildHandle> children_;
  std::coroutine_handle<> joiner_;
  std::exception_ptr error_;
};

// ---- Inbox<T> ------------------------------------------------------------------------------

template <class T>
class Inbox {
 public:
  explicit Inbox(Executor& ex) : ex_(ex) {}

  // deliver: by the thread's loop. Queues `v` and wakes the waiting task, if any.
  void deliver(T v) {
    items_.push_back(std::move(v));
    if (waiter_) ex_.schedule(std::exchange(waiter_, {}));
  }

  // co_await inbox.next(): the oldest value not taken yet; waits if there is none.
  auto next() {
    struct Awaiter {
      Inbox& in;
      std::coroutine_handle<> me;
      explicit Awaiter(Inbox& i) : in(i) {}
      Awaiter(const Awaiter&) = delete;
      ~Awaiter() {
        if (!me) return;
        if (in.waiter_ == me) in.waiter_ = {};  // destroyed while waiting
        else in.ex_.forget(me);                // destroyed after being woken, before running
      }
      bool await_ready() noexcept { return !in.items_.empty(); }
      void await_suspend(std::coroutine_handle<> h) noexcept { in.waiter_ = me = h; }
      T await_resume() {
        me = {};
        T v = std::move(in.items_.front());
        in.items_.pop_front();
        return v;
      }
    };
    return Awaiter(*this);
  }

  std::size_t size() const { return items_.size(); }

 private:
  Executor& ex_;
  std::deque<T> items_;
  std::coroutine_handle<> waiter_;  // one consumer task
};

// ---- Replies<K, V> -------------------------------------------------------------------------

template <class K, class V>
class Replies {
 public:
  explicit Replies(Executor& ex) : ex_(ex) {}

  // A wait for the reply to `key`. It is registered when wait() returns, not when awaited,
  // so a reply delivered in between is kept, never lost. Not movable: it stays where it is.
  class Wait {
   public:
    Wait(Replies& r, K key) : r_(r), key_(std::move(key)) { r_.waiting_[key_].push_back(this); }
    Wait(const Wait&) = delete;
    ~Wait() {
      if (!value_) r_.forget(key_, this);  // destroyed before its reply came
      else if (me_) r_.ex_.forget(me_);    // destroyed after being woken, before running
    }
    bool await_ready() const noexcept { return value_.has_value(); }
    void await_suspend(std::coroutine_handle<> h) noexcept { me_ = h; }
    V await_resume() {
      me_ = {};
      return std::move(*value_);
    }

   private:
    friend class Replies;
    Replies& r_;
    K key_;
    std::optional<V> value_;
    std::coroutine_handle<> me_;
  };

  Wait wait(K key) { return Wait(*this, std::move(key)); }
  bool waiting(const K& key) const { return waiting_.contains(key); }
  std::size_t keys_waiting() const { return waiting_.size(); }

  // deliver: by the thread's loop. Every task waiting on `key` gets `v`, in the order they
  // began to wait; they run on the run queue. A reply nobody waits for is dropped (false).
  bool deliver(const K& key, const V& v) {
    const auto it = waiting_.find(key);
    if (it == waiting_.end()) return false;
    const std::vector<Wait*> waits = std::move(it->second);
    waiting_.erase(it);
    for (Wait* w : waits) {
      w->value_ = v;
      if (w->me_) ex_.schedule(w->me_);  // a wait not awaited yet just keeps the value
    }
    return true;
  }

 private:
  void forget(const K& key, Wait* w) {
    const auto it = waiting_.find(key);
    if (it == waiting_.end()) return;
    auto& v = it->second;
    v.erase(std::remove(v.begin(), v.end(), w), v.end());
    if (v.empty()) waiting_.erase(it);
  }

  Executor& ex_;
  std::unordered_map<K, std::vector<Wait*>> waiting_;
};

}  // namespace cp::lessons::tasks
