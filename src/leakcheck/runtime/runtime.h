// runtime.h — what the two halves of memkit's preloaded leak-check runtime share.
//
// libmemkit_check.so is preloaded into a program by `memkit check -- PROGRAM`. Its allocation side
// (the *tracker*: interposed malloc/new, the live-block table, the stack depot, the free errors)
// runs on every allocation and must be fast; its exit side (the *reporter*: thread registry,
// stop-the-world, roots, valgrind's leak search, the raw report) runs once, when the process ends
// or when the in-process API asks. This header is the whole contract between them.
//
// Rules for everything in src/leakcheck/runtime/ (the runtime is loaded into arbitrary programs):
//   * never allocate through the malloc it tracks: memory comes from internal_map();
//   * no libstdc++ at link time (the .so is linked as C): no exceptions, no RTTI, no std::string,
//     containers, iostreams or function-local statics with dynamic initialisation; header-only
//     pieces that need no library (std::atomic, <cstdint>, <new>'s placement new) are fine;
//   * every thread-local is initial-exec (-ftls-model=initial-exec is set for the target);
//   * errno is preserved across every interposed function.
#pragma once

#include <cstddef>
#include <cstdint>

namespace memkit::check_rt {

// ---- start-up ----------------------------------------------------------------------------------

// Sets up the tracker (options, tables, the real allocator's entry points). Idempotent and cheap
// after the first call; the first interposed allocation calls it too, since a program can
// allocate before the runtime's constructor runs.
void tracker_initialize();

// ---- options (MEMKIT_* environment variables, read once by tracker_initialize) ------------------

enum class LeakCheckMode : uint8_t { no, summary, full };
enum class LeakResolution : uint8_t { low, med, high };  // 2, 4 or all frames must match

// Bits for the heuristics (valgrind's --leak-check-heuristics).
enum HeuristicBit : uint32_t {
  kHeuristicStdString = 1u << 0,
  kHeuristicLength64 = 1u << 1,
  kHeuristicNewArray = 1u << 2,
  kHeuristicMultipleInheritance = 1u << 3,
  kHeuristicsAll = 0xFu,
};

struct Options {
  LeakCheckMode leak_check = LeakCheckMode::full;         // MEMKIT_LEAK_CHECK
  LeakResolution leak_resolution = LeakResolution::high;  // MEMKIT_LEAK_RESOLUTION
  uint32_t heuristics = kHeuristicsAll;                   // MEMKIT_LEAK_CHECK_HEURISTICS
  uint32_t num_callers = 12;                              // MEMKIT_NUM_CALLERS (1..64)
  uint64_t freelist_vol = 0;  // MEMKIT_FREELIST_VOL: bytes of freed blocks held back
  // MEMKIT_KEEP_STACKTRACES: `alloc` (default) records the allocation stack of every block;
  // `alloc-and-free` also the stack of every free, which a later double free of the block then
  // shows as "free'd at". A bad free always gets its own stack, captured when it is caught.
  bool keep_free_stacks = false;
  bool trace_children = false;  // MEMKIT_TRACE_CHILDREN
  bool run_freeres = true;      // MEMKIT_RUN_FREERES
  int notify_fd = -1;           // MEMKIT_CHECK_NOTIFY_FD
  char report_dir[512] = {};    // MEMKIT_CHECK_DIR ("" = none)
};
const Options& options();

// ---- internal memory (never from the tracked malloc, never a root) ------------------------------

// Zeroed, page-granular memory from mmap. Every range is remembered so that the leak search never
// treats the runtime's own tables as roots. Returns nullptr when the kernel refuses.
void* internal_map(std::size_t bytes);
void internal_unmap(void* address, std::size_t bytes);
// Calls fn(begin, end, ctx) for every internal range currently mapped.
void for_each_internal_range(void (*fn)(uintptr_t begin, uintptr_t end, void* ctx), void* ctx);

// While an object of this type lives on a thread, that thread's allocations and frees go straight
// to glibc, untracked (the reporter uses it around dlsym, pthread_getattr_np, and its whole exit
// path; the tracker uses it for its own re-entry).
class ScopedUntracked {
 public:
  ScopedUntracked();
  ~ScopedUntracked();
  ScopedUntracked(const ScopedUntracked&) = delete;
  ScopedUntracked& operator=(const ScopedUntracked&) = delete;

 private:
  bool was_untracked_;
};

// ---- the allocation families --------------------------------------------------------------------

// malloc covers calloc, realloc, reallocarray, memalign, posix_memalign, aligned_alloc, valloc,
// pvalloc; new_object every scalar operator new; new_array every operator new[].
enum class AllocKind : uint8_t { malloc, new_object, new_array };
// How a block was released (or tried to be): free, every scalar delete, every delete[], realloc.
enum class FreeKind : uint8_t { free, delete_object, delete_array, realloc };

// ---- live blocks
// ----------------------------------------------------------------------------------

struct Block {
  uintptr_t address = 0;  // what the program got (the aligned address for aligned allocations)
  std::size_t size = 0;   // what the program asked for (0 for malloc(0))
  uint32_t stack_id = 0;  // allocation stack in the depot (0: none recorded)
  AllocKind kind = AllocKind::malloc;
};

// Blocks every thread's allocation path (every table lock, in a fixed order) / releases it. Used
// for fork (pthread_atfork) and by the reporter around a leak search: lock, stop the world, scan,
// resume, unlock. The calling thread must be inside a ScopedUntracked while it holds the lock.
void lock_tracker();
void unlock_tracker();

// Calls fn for every live block, in no particular order. Only while the tracker is locked.
void for_each_live_block(void (*fn)(const Block& block, void* ctx), void* ctx);
std::size_t live_block_count();

// ---- stacks
// ----------------------------------------------------------------------------------------

// frames[0] is a program counter inside the interposed function (so it symbolizes as `malloc`,
// `operator new(unsigned long)`, ...); frames[1..] are return addresses, innermost first.
struct Stack {
  const uintptr_t* frames = nullptr;
  uint32_t depth = 0;
};
// Stack ids are 1..stack_count(), in the order the stacks were first seen; 0 means "none".
Stack stack(uint32_t id);
uint32_t stack_count();

// ---- heap totals (valgrind's HEAP SUMMARY)
// ---------------------------------------------------------

struct HeapTotals {
  uint64_t allocs = 0;           // every successful allocation, realloc's new block included
  uint64_t frees = 0;            // every release of a tracked block, realloc's old block included
  uint64_t bytes_allocated = 0;  // sum of the sizes asked for
  uint64_t in_use_bytes = 0;
  uint64_t in_use_blocks = 0;
};
HeapTotals heap_totals();

// ---- errors seen while the program ran
// -----------------------------------------------------------

enum class FreeErrorKind : uint8_t {
  invalid_free,     // the address is not a live block: never allocated, inside one, or freed before
  mismatched_free,  // a live block released by the wrong family (new[] then delete, malloc then
                    // delete, ...)
};

struct FreeError {
  FreeErrorKind kind = FreeErrorKind::invalid_free;
  FreeKind operation = FreeKind::free;
  uintptr_t address = 0;  // the address passed to free/delete/realloc
  uint32_t stack_id = 0;  // where it was passed
  // The block the address belongs to, when known: a live block (mismatch, or an interior pointer
  // passed to free) or a recently freed one (double free; then freed_stack_id says where).
  bool has_block = false;
  bool block_was_freed = false;
  Block block;
  uint32_t freed_stack_id = 0;
};

// Errors in the order they happened (the first kMaxRecordedErrors; free_errors_dropped() counts the
// rest).
constexpr std::size_t kMaxRecordedErrors = 10000;
void for_each_free_error(void (*fn)(const FreeError& error, void* ctx), void* ctx);
uint64_t free_errors_dropped();

}  // namespace memkit::check_rt
