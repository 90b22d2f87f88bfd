// memkit/inspect/stack.h — how big a thread's stack is, and how much of it is used.
//
// Every thread runs on a stack of fixed maximum size. The main thread's stack grows on demand
// up to the soft RLIMIT_STACK (what `ulimit -s` prints, 8 MiB by default); a thread's stack is
// allocated whole when the thread starts (glibc: RLIMIT_STACK again, unless the thread's
// attributes say otherwise) with a guard page below it. Recursing past the end is a stack
// overflow: a SIGSEGV (memkit/inspect/overflow_reporter.h turns it into a clear message).
//
//   MainStackInfo main = main_thread_stack();
//   main.limit_bytes;     // 8388608 (std::nullopt when `ulimit -s unlimited`)
//   main.mapped_bytes;    // 135168: the kernel grew [stack] to this so far
//   main.used_bytes;      // 4200: from the top down to here (on the main thread)
//
//   StackBounds here = current_thread_stack();   // [low, high), guard_size (pthread_getattr_np)
#ifndef MEMKIT_INSPECT_STACK_H_
#define MEMKIT_INSPECT_STACK_H_

#include <cstdint>
#include <optional>

#include "memkit/export.h"

namespace memkit::inspect {

struct StackBounds {
  std::uint64_t low = 0;         // the lowest usable address
  std::uint64_t high = 0;        // one past the highest
  std::uint64_t guard_size = 0;  // inaccessible bytes below `low` (0 for the main thread's)

  std::uint64_t size() const noexcept { return high - low; }
  bool contains(std::uint64_t address) const noexcept { return address >= low && address < high; }
};

struct MainStackInfo {
  std::uint64_t top = 0;  // the high end of the [stack] mapping
  // The soft RLIMIT_STACK in bytes; std::nullopt when it is unlimited.
  std::optional<std::uint64_t> limit_bytes;
  // The size of the [stack] mapping now: how deep the stack has ever grown (it never shrinks).
  std::uint64_t mapped_bytes = 0;
  // From `top` down to the caller's stack pointer (arguments and environment included) when
  // called on the main thread; 0 on another thread.
  std::uint64_t used_bytes = 0;
  bool called_on_main_thread = false;
};

// Reads /proc/self/maps and getrlimit(RLIMIT_STACK). Throws ProcReadError if the map cannot be
// read, InspectError if it has no [stack] region.
MEMKIT_EXPORT MainStackInfo main_thread_stack();

// The calling thread's stack, from pthread_getattr_np. For the main thread, glibc reports the
// region it may grow into (up to RLIMIT_STACK). Throws InspectError if pthread_getattr_np fails.
MEMKIT_EXPORT StackBounds current_thread_stack();

}  // namespace memkit::inspect

#endif  // MEMKIT_INSPECT_STACK_H_
