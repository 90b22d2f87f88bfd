// tracker_alloc.h — the steps every interposed allocation and release function shares. They are
// always inlined into the interposed functions: capture_stack_id must be called from the
// interposed function's own frame, so that frames[0] is a pc inside it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "block_table.h"
#include "free_errors.h"
#include "runtime.h"
#include "stack_depot.h"
#include "tracker_foreign_blocks.h"
#include "tracker_libc.h"
#include "tracker_state.h"
#include "tracker_thread.h"

#define MEMKIT_EXPORT __attribute__((visibility("default")))
#define MEMKIT_ALWAYS_INLINE __attribute__((always_inline)) inline

namespace memkit::check_rt {

MEMKIT_ALWAYS_INLINE bool thread_is_untracked() { return tracker_thread().untracked; }

MEMKIT_ALWAYS_INLINE void ensure_initialized() {
  if (!g_tracker_ready.load(std::memory_order_relaxed)) [[unlikely]] {
    tracker_initialize();
  }
}

// An allocation made while the thread is untracked: glibc's, remembered only so that its free is
// not mistaken for an invalid one.
inline void* untracked_allocation(void* address) {
  if (address != nullptr) {
    remember_foreign_block(reinterpret_cast<uintptr_t>(address));
  }
  return address;
}

// A release while the thread is untracked: goes to glibc, never waits for a lock. A tracked block
// is still taken out of the table (and counted) if its shard is free — the reporter's exit path
// runs __libc_freeres this way.
inline void untracked_release(void* address) {
  const auto where = reinterpret_cast<uintptr_t>(address);
  if (!take_foreign_block(where)) {
    Block block;
    release_block(where, 0, &block, /*try_only=*/true);
  }
  __libc_free(address);
}

// realloc while the thread is untracked: whatever the old block was (foreign, tracked, unknown),
// it leaves the books and glibc's result becomes a foreign block.
inline void* untracked_reallocation(void* address, std::size_t size) {
  if (address == nullptr) {
    return untracked_allocation(__libc_realloc(address, size));
  }
  const auto where = reinterpret_cast<uintptr_t>(address);
  if (!take_foreign_block(where)) {
    Block block;
    release_block(where, 0, &block, /*try_only=*/true);
  }
  void* moved = __libc_realloc(address, size);
  if (moved == nullptr && size != 0) {
    remember_foreign_block(where);  // glibc kept the old block
    return nullptr;
  }
  return untracked_allocation(moved);
}

// Records a successful allocation (a failed one, nullptr, counts nothing).
MEMKIT_ALWAYS_INLINE void* track_allocation(void* address, std::size_t size, AllocKind kind,
                                            uintptr_t frame0 = 0, bool keep_own_pc = false) {
  if (address == nullptr) [[unlikely]] {
    return address;
  }
  ensure_initialized();
  ReentryGuard untracked;
  const uint32_t stack_id = capture_stack_id(frame0, keep_own_pc);
  const auto where = reinterpret_cast<uintptr_t>(address);
  if (!insert_block(where, size, stack_id, kind)) [[unlikely]] {
    remember_foreign_block(where);  // the table could not grow: glibc's block, untracked
  }
  return address;
}

// Releases a block through free/delete/delete[] (address is not null): counts it, checks the
// family, reports an address that is no live block (and then leaves glibc out of it). The free's
// own stack is walked only when it is kept (MEMKIT_KEEP_STACKTRACES=alloc-and-free) or an error
// needs it: the walk is a chain of dependent loads, the largest cost of a malloc/free pair.
MEMKIT_ALWAYS_INLINE void track_release(void* address, FreeKind operation) {
  ensure_initialized();
  ReentryGuard untracked;
  uint32_t stack_id = tracker_options().keep_free_stacks ? capture_stack_id() : 0;
  const auto where = reinterpret_cast<uintptr_t>(address);
  Block block;
  if (release_block(where, stack_id, &block, /*try_only=*/false) == Release::released) [[likely]] {
    if (!release_matches(block.kind, operation)) [[unlikely]] {
      if (stack_id == 0) stack_id = capture_stack_id();
      report_mismatched_free(operation, stack_id, block);
    }
    release_memory(address, block.size);
    return;
  }
  if (take_foreign_block(where)) {
    __libc_free(address);
    return;
  }
  if (stack_id == 0) stack_id = capture_stack_id();
  report_invalid_free(operation, where, stack_id, 0);
}

}  // namespace memkit::check_rt
