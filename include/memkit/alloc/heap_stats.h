// memkit/alloc/heap_stats.h — what the whole program allocates with operator new, by scoped tag.
//
// Link one small library, memkit::track_global, and every global operator new and delete of the
// program — every form: plain, array, sized, aligned, nothrow — is counted: allocations, frees,
// live bytes and blocks, peak and total bytes. It is the C++ counterpart of a Rust
// `#[global_allocator]` wrapper that counts (dhat-rs's HeapStats):
//
//   target_link_libraries(app PRIVATE memkit::memkit memkit::track_global)
//
//   std::cout << memkit::heap_stats();   // heap (operator new): live 1.2 MiB in 3107 blocks, ...
//
//   $ MEMKIT_HEAP_STATS=text ./app      // the same summary on stderr when the program exits
//   $ MEMKIT_HEAP_STATS=json ./app      // ... or as one JSON object (1 means text, 0 nothing)
//
// A program that does not link the hook can still call heap_stats(): heap_tracking_enabled() is
// then false and every count is zero, so a library may report "tracking is off" instead of lying.
//
// A static library's object is linked only if it defines a symbol still undefined; when a shared
// library that also defines operator new comes first on the link line (a sanitizer's runtime,
// tcmalloc), the linker takes operator new from there and leaves the hook out. The hook's object
// defines memkit_track_global_anchor for that case, and the CMake target memkit::track_global
// links with -Wl,--undefined=memkit_track_global_anchor, which keeps the hook in. A build that
// does not use CMake passes that flag itself, or references the anchor, which also makes
// forgetting the library a link error instead of silent zeros:
//
//   [[gnu::used]] static const char* const keep_hook = &memkit_track_global_anchor;
//
// Tags: a HeapTag is a scope. Every allocation made on this thread while it is the innermost
// HeapTag counts under its name; a block is freed under the tag it was allocated with, wherever
// and whenever that happens (each block carries its tag).
//
//   {
//     memkit::HeapTag tag("parser");
//     ast = parse(text);                // counted under "parser"
//   }
//   heap_stats().by_tag                  // "parser", "(untagged)": one row each
//
// HeapTag(name) looks the name up under a lock; for a tag in a hot loop, look it up once:
//   static const memkit::HeapTagId kParser = memkit::heap_tag("parser");
//   memkit::HeapTag tag(kParser);        // two thread-local stores
//
// Precision. Allocations, frees, total bytes and live bytes and blocks are exact when read while
// no other thread allocates (and a consistent snapshot otherwise). The peak is the exception:
// each thread counts locally and adds its net change to a shared total only once that change
// reaches kHeapPeakFlushBytes (up or down), so the shared total — whose maximum is the peak — is
// off from the true live bytes by less than kHeapPeakFlushBytes per thread. The reported peak is
// therefore within kHeapPeakFlushBytes × (threads that allocated) of the true peak, and never
// below the live bytes at any read. Per tag, the same holds with the tag's own counts.
//
// Cost: a 16-byte header before each block (an over-aligned block takes `alignment` bytes for it)
// that holds the size and the tag, which is how unsized delete knows what it frees; and a few
// thread-local adds per call — no shared atomic, no lock on the hot path.
#ifndef MEMKIT_ALLOC_HEAP_STATS_H_
#define MEMKIT_ALLOC_HEAP_STATS_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "memkit/alloc/stats.h"
#include "memkit/export.h"

// Defined only by memkit::track_global (see above).
extern "C" MEMKIT_EXPORT const char memkit_track_global_anchor;

namespace memkit {

// The source of heap_stats(), and the first word of the exit summary.
inline constexpr std::string_view kHeapStatsSource = "heap (operator new)";

// How far a thread's unshared net allocation may drift before it is added to the shared live
// total that the peak is taken from (see "Precision" above).
inline constexpr std::uint64_t kHeapPeakFlushBytes = 64 * 1024;

// heap_tracking_enabled() — true iff memkit::track_global is linked into the program.
MEMKIT_EXPORT bool heap_tracking_enabled() noexcept;

// heap_stats() — source kHeapStatsSource, the totals, and one TagStats per tag that has
// allocated at least once ("(untagged)" for allocations outside any HeapTag), sorted with
// sort_tags. The counts are taken before heap_stats() allocates the result.
MEMKIT_EXPORT MemoryStats heap_stats();

// heap_counts() — the totals only, without allocating: for measuring a delta.
MEMKIT_EXPORT AllocCounts heap_counts() noexcept;

class HeapTagId;

// heap_tag(name) — the tag named `name`, registered on first use (a lock and a lookup). There
// are 128 tags (detail::kHeapTagSlots) in all, "(untagged)" included; names beyond that share the
// last one,
// "(other tags)".
MEMKIT_EXPORT HeapTagId heap_tag(std::string_view name);

// A heap tag, resolved: the cheap way to enter a HeapTag scope.
class HeapTagId {
 public:
  // The tag of allocations made outside any HeapTag, named "(untagged)".
  static constexpr HeapTagId untagged() noexcept { return HeapTagId(0); }
  constexpr std::uint32_t index() const noexcept { return index_; }
  friend bool operator==(HeapTagId, HeapTagId) = default;

 private:
  friend HeapTagId heap_tag(std::string_view name);
  friend class HeapTag;
  explicit constexpr HeapTagId(std::uint32_t index) noexcept : index_(index) {}
  std::uint32_t index_;
};

// heap_tag_name(tag) — the tag's name; valid until the program ends.
MEMKIT_EXPORT std::string_view heap_tag_name(HeapTagId tag);

// heap_counts(tag) — one tag's counts, without allocating.
MEMKIT_EXPORT AllocCounts heap_counts(HeapTagId tag) noexcept;

namespace detail {
// The current tag of this thread (an index of heap_tag()); read by the hook on every allocation.
extern MEMKIT_EXPORT constinit thread_local std::uint32_t current_heap_tag;
}  // namespace detail

// HeapTag — while it lives, this thread's allocations count under its tag; its destructor
// restores the tag that was current when it was made. Without the hook linked it changes only
// what HeapTag::current() says.
class HeapTag {
 public:
  explicit HeapTag(std::string_view name) : HeapTag(heap_tag(name)) {}
  explicit HeapTag(HeapTagId tag) noexcept : previous_(detail::current_heap_tag) {
    detail::current_heap_tag = tag.index();
  }
  HeapTag(const HeapTag&) = delete;
  HeapTag& operator=(const HeapTag&) = delete;
  ~HeapTag() { detail::current_heap_tag = previous_; }

  // current() — the tag this thread's allocations count under now.
  static HeapTagId current() noexcept { return HeapTagId(detail::current_heap_tag); }

 private:
  std::uint32_t previous_;
};

// ---- what memkit::track_global needs from the core library -------------------------------------
// The counters are stored in the core library so that heap_stats() works (and says "off")
// without the hook; the hook (src/alloc/track_global.cpp) keeps one HeapThreadCounters per
// thread and reports through these functions.
namespace detail {

inline constexpr std::uint32_t kHeapTagSlots = 128;
inline constexpr std::uint32_t kOtherHeapTags = kHeapTagSlots - 1;

// One tag's counts on one thread. Only the owning thread writes them, with a relaxed load and
// store (no read-modify-write: no lock prefix); readers load them under the thread list's mutex.
struct HeapTagCounters {
  std::atomic<std::uint64_t> allocations{0};
  std::atomic<std::uint64_t> frees{0};
  std::atomic<std::uint64_t> bytes_allocated{0};
  std::atomic<std::uint64_t> bytes_freed{0};
};

struct HeapThreadCounters {
  HeapThreadCounters* prev = nullptr;  // the list of live threads, under its mutex
  HeapThreadCounters* next = nullptr;
  std::array<HeapTagCounters, kHeapTagSlots> tags{};
  // Net bytes allocated by this thread and not yet added to the shared live totals (owner only).
  std::int64_t unflushed_bytes = 0;
  std::array<std::int64_t, kHeapTagSlots> unflushed_tag_bytes{};
};

// Called by the hook: at load, and when a thread first allocates.
MEMKIT_EXPORT void heap_hook_linked() noexcept;
MEMKIT_EXPORT void heap_register_thread(HeapThreadCounters& counters) noexcept;
// At thread exit: folds the thread's counts into the retired totals and unlinks it.
MEMKIT_EXPORT void heap_retire_thread(HeapThreadCounters& counters) noexcept;
// When |unflushed_bytes| or |unflushed_tag_bytes[tag]| reached kHeapPeakFlushBytes.
MEMKIT_EXPORT void heap_flush(HeapThreadCounters& counters, std::uint32_t tag) noexcept;
// For new/delete on a thread whose counters are gone (after its thread-local destructors ran):
// straight into the shared totals, exact, with shared atomics.
MEMKIT_EXPORT void heap_count_orphan_allocation(std::uint32_t tag, std::uint64_t bytes) noexcept;
MEMKIT_EXPORT void heap_count_orphan_free(std::uint32_t tag, std::uint64_t bytes) noexcept;

}  // namespace detail
}  // namespace memkit

#endif  // MEMKIT_ALLOC_HEAP_STATS_H_
