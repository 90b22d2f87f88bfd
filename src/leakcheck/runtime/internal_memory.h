// internal_memory.h — the tracker's side of runtime.h's internal memory (internal_map and
// friends are declared there), plus a bump arena for small objects that live until exit.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime.h"

namespace memkit::check_rt {

// Takes the registry lock (lock_tracker's last step; fork needs it held so that the child does
// not inherit it mid-update).
void lock_internal_memory();
void unlock_internal_memory();

// Never-freed bump allocation for append-only tables (stack depot nodes). Not thread-safe: the
// caller serialises. Returns nullptr when the kernel refuses memory.
class BumpArena {
 public:
  void* allocate(std::size_t bytes, std::size_t alignment);

 private:
  uintptr_t cursor_ = 0;
  uintptr_t end_ = 0;
};

}  // namespace memkit::check_rt
