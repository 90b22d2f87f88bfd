// memkit/inspect/overflow_reporter.h — a stack overflow that says so, instead of a bare segfault.
//
// Unbounded recursion ends with the stack running into its guard: the page (or, for the main
// thread, the gap below RLIMIT_STACK) that nothing may touch. The kernel sends SIGSEGV, and the
// program dies with "Segmentation fault" — the same words as for a null pointer. With the
// reporter installed it ends like this instead, with exit status 70:
//
//   memkit: stack overflow in thread 4243 (stack size 512 KiB, limit 8.0 MiB)
//
// "stack size" is what the thread had (for the main thread, how far its stack had grown when it
// overflowed); "limit" is RLIMIT_STACK, what `ulimit -s` says, which is the main thread's limit
// and the default size of new threads' stacks.
//
//   int main() {
//     memkit::inspect::install_stack_overflow_reporter();       // first thing in main
//     std::thread worker([] {
//       memkit::inspect::watch_this_thread_stack();             // first thing in each thread
//       ...
//     });
//   }
//
// How: the handler cannot run on the stack that overflowed, so each watched thread gets an
// alternate signal stack (sigaltstack, 64 KiB, mmap'd — never from malloc) and records its stack
// bounds while it still can. On SIGSEGV the handler checks whether the fault address lies in the
// thread's guard region (or the interrupted stack pointer is already below the stack); if so it
// writes the message with write(2) and calls _exit. Any other SIGSEGV is passed on: to the
// handler installed before, or (by default) the default action is restored and the faulting
// instruction runs again, so real crashes still crash the usual way. A thread that was not watched
// has no alternate stack, and its overflow stays a bare SIGSEGV.
//
// It is opt-in because a process has one SIGSEGV handler: sanitizers, JVMs and crash reporters
// want it too. Install it before any of those you want to keep, and they are chained.
#ifndef MEMKIT_INSPECT_OVERFLOW_REPORTER_H_
#define MEMKIT_INSPECT_OVERFLOW_REPORTER_H_

#include "memkit/export.h"

namespace memkit::inspect {

// EX_SOFTWARE from <sysexits.h>: "an internal software error".
inline constexpr int kStackOverflowExitCode = 70;

// Installs the SIGSEGV handler for the whole process and watches the calling thread (which
// should be the main thread). Calling it again changes the exit code and does nothing else.
// Throws InspectError if the handler or the alternate stack cannot be set up.
MEMKIT_EXPORT void install_stack_overflow_reporter(int exit_code = kStackOverflowExitCode);

// Watches the calling thread: gives it an alternate signal stack (freed when the thread ends)
// and records its stack bounds. Idempotent. Throws InspectError on failure.
MEMKIT_EXPORT void watch_this_thread_stack();

}  // namespace memkit::inspect

#endif  // MEMKIT_INSPECT_OVERFLOW_REPORTER_H_
