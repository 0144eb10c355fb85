// hooks.hpp: test-only hook points inside the actor runtime's hand-offs (mailbox, ask reply,
// broadcast channel, the post of a message).
//
//   ActorHookPoint - where a call can be stopped: just after it handed something over and
//                    released its lock.
//   ActorHooks     - at(point, object) runs the calling thread's handler, if it set one
//                    (Scope). Tests use it to delay a sender inside its last call while the
//                    receiver goes on (and frees what it received), or to park a sender between
//                    two steps of a post, instead of hoping a stress test hits the window.
//
// Handlers are per thread, so a thread that set none runs straight through: the cost in
// production is one thread-local load per hook point, next to a mutex taken in the same call.
// A handler is not re-entered while it runs (it may call into the runtime itself).
#pragma once

#include <functional>
#include <string_view>

namespace cp::actor {

enum class ActorHookPoint {
  post_pushed,          // tell/ask: the mailbox took the message (lock released), not yet scheduled
  mailbox_closed,       // Mailbox::close: closed and the lock released (nothing follows)
  reply_stored,         // ReplyPromise::fulfil: the result is stored (lock released), the
                        // asker not yet woken
  broadcast_published,  // Broadcast: a value (or the close) is stored and the lock released
};

constexpr std::string_view to_string(ActorHookPoint p) {
  switch (p) {
    case ActorHookPoint::post_pushed: return "post: pushed, not yet scheduled";
    case ActorHookPoint::mailbox_closed: return "mailbox: closed, lock released";
    case ActorHookPoint::reply_stored: return "reply: stored, lock released";
    case ActorHookPoint::broadcast_published: return "broadcast: stored, lock released";
  }
  return "?";
}

struct ActorHooks {
  using Handler = std::function<void(ActorHookPoint, const void* object)>;

  // at: runs this thread's handler (if any); `object` is the mailbox, promise or channel.
  static void at(ActorHookPoint p, const void* object) {
    Handler* h = handler();
    if (h == nullptr) return;
    handler() = nullptr;  // not re-entered while it runs
    (*h)(p, object);
    handler() = h;
  }

  static Handler*& handler() {
    thread_local Handler* h = nullptr;
    return h;
  }

  // Scope: installs `h` for the calling thread until the Scope ends.
  class Scope {
   public:
    explicit Scope(Handler h) : handler_(std::move(h)), previous_(handler()) {
      handler() = &handler_;
    }
    ~Scope() { handler() = previous_; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Handler handler_;
    Handler* previous_;
  };
};

}  // namespace cp::actor
