// roots.h — the leak search's root set, as close to valgrind's as a process can see its own memory.
//
// valgrind scans every readable and writable client mapping (file-backed, anonymous, shared)
// except its client heap and device files, only the live part of each stack (below SP is
// no-access), and every thread's registers. Under a preloaded runtime glibc's own malloc memory
// (the brk heap, arenas and mmapped chunks) exists and must never be a root, and anonymous memory
// the program never asked for is not the program's; so the root set is:
//   * rw file-backed mappings of every object (clipped to the file's size), minus device files
//     (but /dev/zero) and the runtime's own object, and the anonymous mapping that directly
//     follows one (the rest of its .bss);
//   * each thread's stack from its saved SP to the end of the mapping holding SP (for a thread
//     glibc created, that covers its TCB and static TLS);
//   * the mapping holding each thread's thread pointer when it is not that thread's stack (the
//     main thread's static TLS);
//   * anonymous mappings the program created with mmap/mremap (interposed here);
// minus the runtime's internal ranges and any mapping that holds a live block.
#pragma once

#include <cstddef>
#include <cstdint>

#include "leak_search.h"
#include "threads.h"

namespace memkit::check_rt {

// The thread running the search: where its live stack starts and what its registers held.
struct CallerThread {
  uintptr_t scan_from = 0;  // the live stack's lowest address (see startup_exit.cpp)
  uintptr_t thread_pointer = 0;
  const uintptr_t* registers = nullptr;
  std::size_t register_count = 0;
};

struct RootSet {
  AddressRange* ranges = nullptr;
  std::size_t range_count = 0;
  uintptr_t* registers = nullptr;
  std::size_t register_count = 0;
  MappingInfo* mappings = nullptr;  // every mapping, for the multipleinheritance heuristic
  std::size_t mapping_count = 0;
};

// Sizes the root set's tables before the world is stopped (a stopped thread may hold the
// internal memory lock; then collect_roots maps nothing new unless the process changed a lot).
bool prepare_roots(std::size_t thread_count);

// Builds the root set into internal memory (valid until the next call). blocks are sorted. The
// world is stopped. Returns false when memory or /proc/self/maps could not be had.
bool collect_roots(const Block* blocks, std::size_t block_count, const WorldSnapshot& world,
                   const CallerThread& caller, RootSet* roots);

// fork safety for the table of the program's anonymous mappings.
void user_mappings_lock();
void user_mappings_unlock();

}  // namespace memkit::check_rt
