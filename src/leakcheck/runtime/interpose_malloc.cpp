// The C allocation functions, interposed: each calls glibc's own entry point and records the
// result as valgrind counts it (research §1.6): every successful allocation is one alloc of the
// size asked for; realloc of a live block is a free and an alloc even when glibc resizes in place;
// realloc(p, 0) is a free only; a failed allocation counts nothing.
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "tracker_alloc.h"

using namespace memkit::check_rt;

namespace {

constexpr std::size_t kPageSize = 4096;  // x86-64's; glibc's valloc/pvalloc use GLRO(dl_pagesize)

// The shared body of realloc and reallocarray (inlined into each, so that frames[0] names it).
MEMKIT_ALWAYS_INLINE void* track_realloc(void* address, std::size_t size) {
  if (address == nullptr) {
    return track_allocation(__libc_malloc(size), size, AllocKind::malloc);
  }
  ensure_initialized();
  ReentryGuard untracked;
  // One stack serves both halves: the old block's free and the new block's allocation.
  const uint32_t stack_id = capture_stack_id();
  const auto where = reinterpret_cast<uintptr_t>(address);
  Block old_block;
  // Out of the table before glibc sees the pointer: once glibc has released the old memory,
  // another thread may be handed the same address and insert it.
  if (release_block(where, stack_id, &old_block, /*try_only=*/false) != Release::released) {
    if (take_foreign_block(where)) {
      void* moved = __libc_realloc(address, size);
      if (moved != nullptr) {
        insert_block(reinterpret_cast<uintptr_t>(moved), size, stack_id, AllocKind::malloc);
      }
      return moved;
    }
    // valgrind counts an alloc and a free even here, and returns NULL without touching memory.
    report_invalid_free(FreeKind::realloc, where, stack_id, size);
    return nullptr;
  }
  if (!release_matches(old_block.kind, FreeKind::realloc)) [[unlikely]] {
    report_mismatched_free(FreeKind::realloc, stack_id, old_block);
  }
  if (size == 0) {
    release_memory(address, old_block.size);  // glibc 2.36: realloc(p, 0) frees, returns NULL
    return nullptr;
  }
  void* moved;
  if (tracker_options().freelist_vol == 0) [[likely]] {
    moved = __libc_realloc(address, size);
  } else {
    // With a quarantine, the old block must be parked, not reused: move it as valgrind does.
    moved = __libc_malloc(size);
    if (moved != nullptr) {
      std::memcpy(moved, address, old_block.size < size ? old_block.size : size);
      release_memory(address, old_block.size);
    }
  }
  if (moved == nullptr) {
    restore_block(old_block);  // glibc kept the old block: live again, its free uncounted
    return nullptr;
  }
  const auto moved_to = reinterpret_cast<uintptr_t>(moved);
  if (!insert_block(moved_to, size, stack_id, AllocKind::malloc)) [[unlikely]] {
    remember_foreign_block(moved_to);
  }
  return moved;
}

bool multiply_overflows(std::size_t count, std::size_t size, std::size_t* product) {
  return __builtin_mul_overflow(count, size, product);
}

// Where valgrind's stacks put memalign for the aligned allocators it funnels through it.
uintptr_t memalign_pc() { return reinterpret_cast<uintptr_t>(&memalign); }

}  // namespace

extern "C" {

MEMKIT_EXPORT void* malloc(std::size_t size) {
  if (thread_is_untracked()) [[unlikely]] {
    return untracked_allocation(__libc_malloc(size));
  }
  return track_allocation(__libc_malloc(size), size, AllocKind::malloc);
}

MEMKIT_EXPORT void free(void* address) {
  if (address == nullptr) {
    return;
  }
  if (thread_is_untracked()) [[unlikely]] {
    untracked_release(address);
    return;
  }
  track_release(address, FreeKind::free);
}

MEMKIT_EXPORT void cfree(void* address) {
  if (address == nullptr) {
    return;
  }
  if (thread_is_untracked()) [[unlikely]] {
    untracked_release(address);
    return;
  }
  track_release(address, FreeKind::free);
}

MEMKIT_EXPORT void* calloc(std::size_t count, std::size_t size) {
  if (thread_is_untracked()) [[unlikely]] {
    return untracked_allocation(__libc_calloc(count, size));
  }
  // glibc refuses an overflowing product (ENOMEM, NULL): then nothing is counted.
  std::size_t bytes = 0;
  multiply_overflows(count, size, &bytes);
  return track_allocation(__libc_calloc(count, size), bytes, AllocKind::malloc);
}

MEMKIT_EXPORT void* realloc(void* address, std::size_t size) {
  if (thread_is_untracked()) [[unlikely]] {
    return untracked_reallocation(address, size);
  }
  return track_realloc(address, size);
}

MEMKIT_EXPORT void* reallocarray(void* address, std::size_t count, std::size_t size) {
  std::size_t bytes = 0;
  if (multiply_overflows(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  if (thread_is_untracked()) [[unlikely]] {
    return untracked_reallocation(address, bytes);
  }
  return track_realloc(address, bytes);
}

MEMKIT_EXPORT void* memalign(std::size_t alignment, std::size_t size) {
  if (thread_is_untracked()) [[unlikely]] {
    return untracked_allocation(__libc_memalign(alignment, size));
  }
  return track_allocation(__libc_memalign(alignment, size), size, AllocKind::malloc);
}

// glibc 2.36's aligned_alloc is memalign (any alignment; the power-of-two check came in 2.38).
MEMKIT_EXPORT void* aligned_alloc(std::size_t alignment, std::size_t size) {
  if (thread_is_untracked()) [[unlikely]] {
    return untracked_allocation(__libc_memalign(alignment, size));
  }
  return track_allocation(__libc_memalign(alignment, size), size, AllocKind::malloc, memalign_pc());
}

MEMKIT_EXPORT int posix_memalign(void** result, std::size_t alignment, std::size_t size) {
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0 || alignment == 0) {
    return EINVAL;
  }
  const int saved_errno = errno;  // posix_memalign reports through its result, not errno
  void* address = __libc_memalign(alignment, size);
  errno = saved_errno;
  if (address == nullptr) {
    return ENOMEM;
  }
  if (thread_is_untracked()) [[unlikely]] {
    *result = untracked_allocation(address);
    return 0;
  }
  *result = track_allocation(address, size, AllocKind::malloc, memalign_pc(),
                             /*keep_own_pc=*/true);
  return 0;
}

MEMKIT_EXPORT void* valloc(std::size_t size) {
  if (thread_is_untracked()) [[unlikely]] {
    return untracked_allocation(__libc_memalign(kPageSize, size));
  }
  return track_allocation(__libc_memalign(kPageSize, size), size, AllocKind::malloc, memalign_pc());
}

// The block is the size rounded up to whole pages, which is what glibc gives and the program may
// use. (valgrind refuses pvalloc outright: "Program aborting because of call to pvalloc".)
MEMKIT_EXPORT void* pvalloc(std::size_t size) {
  std::size_t rounded = 0;
  if (__builtin_add_overflow(size, kPageSize - 1, &rounded)) {
    errno = ENOMEM;
    return nullptr;
  }
  rounded &= ~(kPageSize - 1);
  if (rounded == 0) {
    rounded = kPageSize;
  }
  if (thread_is_untracked()) [[unlikely]] {
    return untracked_allocation(__libc_memalign(kPageSize, rounded));
  }
  return track_allocation(__libc_memalign(kPageSize, rounded), rounded, AllocKind::malloc,
                          memalign_pc());
}

// glibc's answer (the chunk's usable bytes), from glibc's own function found once.
MEMKIT_EXPORT std::size_t malloc_usable_size(void* address) {
  using UsableSize = std::size_t (*)(void*);
  static std::atomic<UsableSize> glibc_usable_size{nullptr};
  UsableSize real = glibc_usable_size.load(std::memory_order_acquire);
  if (real == nullptr) {
    ScopedUntracked untracked;  // dlsym may allocate
    real = reinterpret_cast<UsableSize>(dlsym(RTLD_NEXT, "malloc_usable_size"));
    if (real == nullptr) {
      return 0;
    }
    glibc_usable_size.store(real, std::memory_order_release);
  }
  return real(address);
}

}  // extern "C"
