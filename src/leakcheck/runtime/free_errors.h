// free_errors.h — what the tracker does with frees that are wrong: mismatched families, addresses
// that are not live blocks (never allocated, interior, already freed), and the optional quarantine
// that keeps freed memory from being reused while its history record can still explain a double
// free.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime.h"
#include "tracker_libc.h"
#include "tracker_state.h"

namespace memkit::check_rt {

// Whether `operation` is the right way to release a block of `kind` (realloc and free for malloc
// blocks, delete for new, delete[] for new[]).
constexpr bool release_matches(AllocKind kind, FreeKind operation) {
  switch (kind) {
    case AllocKind::malloc:
      return operation == FreeKind::free || operation == FreeKind::realloc;
    case AllocKind::new_object:
      return operation == FreeKind::delete_object;
    case AllocKind::new_array:
      return operation == FreeKind::delete_array;
  }
  return false;
}

// Records a mismatched release of `block` (which the caller still releases, as valgrind does).
void report_mismatched_free(FreeKind operation, uint32_t stack_id, const Block& block);

// Records a release of an address that is not a live block, with what is known about it (a
// freed block it was, or a live block it points into), and counts it as valgrind does (a free;
// for realloc also an allocation of realloc_bytes). The caller passes nothing to glibc.
void report_invalid_free(FreeKind operation, uintptr_t address, uint32_t stack_id,
                         std::size_t realloc_bytes);

// Parks a released block in the quarantine (FIFO) and hands back to glibc the oldest parked
// blocks beyond MEMKIT_FREELIST_VOL bytes.
void quarantine(void* address, std::size_t size);

// Hands a released block's memory back to glibc, or to the quarantine when there is one.
inline void release_memory(void* address, std::size_t size) {
  if (tracker_options().freelist_vol == 0) [[likely]] {
    __libc_free(address);
  } else {
    quarantine(address, size);
  }
}

void lock_free_errors();
void unlock_free_errors();

}  // namespace memkit::check_rt
