// tsan_edges.hpp: tells ThreadSanitizer about the happens-before edges that oneTBB creates.
//
//   hand_over(edge) - everything this thread did so far happens before a later take_over(edge)
//   take_over(edge) - this thread now sees everything done before the hand_over(edge)
//
// Why: Debian's libtbb is not built with ThreadSanitizer. When the caller hands a task to
// the scheduler and a worker runs it, the synchronization happens inside libtbb, where TSan
// cannot see it, so TSan would report our own data (the batch's commands, its replies) as
// raced. These two calls state the edge the scheduler guarantees. They compile to nothing
// outside TSan builds.
//
// Rule: one edge object per hand-over (a caller's stack variable, one slot per task group),
// never one shared by unrelated tasks: a shared edge would order those tasks for TSan and so
// hide a real race between them.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define CP_WS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CP_WS_TSAN 1
#endif
#endif

#ifdef CP_WS_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace cp::ws {

inline void hand_over([[maybe_unused]] const void* edge) {
#ifdef CP_WS_TSAN
  __tsan_release(const_cast<void*>(edge));
#endif
}

inline void take_over([[maybe_unused]] const void* edge) {
#ifdef CP_WS_TSAN
  __tsan_acquire(const_cast<void*>(edge));
#endif
}

}  // namespace cp::ws
