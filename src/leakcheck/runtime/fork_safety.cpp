// The pthread_atfork handlers. The forking thread is untracked from prepare until the handler on
// its side of the fork: prepare handlers registered before ours run after it and may allocate,
// and an allocation that waited for the locks this thread holds would never return.
#include "fork_safety.h"

#include <pthread.h>

#include "internal_memory.h"
#include "runtime.h"
#include "tracker_thread.h"

namespace memkit::check_rt {
namespace {

// Only the forking thread touches it between prepare and parent/child; glibc serialises fork's
// handlers, so concurrent forks cannot interleave here.
bool g_forking_thread_was_untracked = false;

void before_fork() {
  g_forking_thread_was_untracked = tracker_thread().untracked;
  tracker_thread().untracked = true;
  lock_tracker();
  lock_internal_memory();
}

void after_fork() {
  unlock_internal_memory();
  unlock_tracker();
  tracker_thread().untracked = g_forking_thread_was_untracked;
}

}  // namespace

void install_fork_handlers() { pthread_atfork(before_fork, after_fork, after_fork); }

}  // namespace memkit::check_rt
