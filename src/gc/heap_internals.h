// The heap's state that the inline fast paths do not need: pages, large objects, pacing,
// statistics and settings. Shared by heap.cpp, the marker, the sweeper and the verifier.
#ifndef MEMKIT_SRC_GC_HEAP_INTERNALS_H_
#define MEMKIT_SRC_GC_HEAP_INTERNALS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "memkit/gc/growing_policy.h"
#include "memkit/gc/heap.h"
#include "memkit/gc/page.h"
#include "memkit/gc/stats.h"
#include "memkit/gc/stress.h"

namespace memkit::gc::detail {

// Pages and large objects come from the OS (mmap) and go back to it (munmap); see page.cpp.
NormalPage* map_page(Heap* heap, Handles* handles, std::size_t size_class);
void init_page(NormalPage* page, std::size_t size_class);
void unmap_page(NormalPage* page) noexcept;
LargeObject* map_large_object(Heap* heap, Handles* handles, std::size_t object_size);
void unmap_large_object(LargeObject* large) noexcept;
inline GcObject* large_object_start(LargeObject* large) noexcept {
  return reinterpret_cast<GcObject*>(reinterpret_cast<char*>(large) + kLargeObjectOffset);
}

struct TypeTotals {
  std::uint64_t frees = 0;
  std::uint64_t freed_bytes = 0;
  std::uint64_t peak_bytes = 0;
};

struct HeapInternals {
  explicit HeapInternals(Heap& owner) : heap(owner) {}

  Heap& heap;

  // ---- memory ----
  std::vector<NormalPage*> pages;               // in use by a size class
  std::unordered_set<std::uintptr_t> page_set;  // the same, for the conservative lookup
  std::vector<NormalPage*> spare_pages;         // empty, kept for reuse
  std::vector<LargeObject*> large_objects;
  std::map<std::uintptr_t, LargeObject*> large_by_address;
  std::uintptr_t lowest_address = UINTPTR_MAX;  // a quick filter for the conservative scan
  std::uintptr_t highest_address = 0;
  std::vector<GcObject*> pre_finalizable;
  // Pages the lazy sweep has not reached yet, per size class (sweeper.h).
  std::array<std::vector<NormalPage*>, kSizeClassCount> unswept;
  std::size_t unswept_pages = 0;

  // ---- settings ----
  GrowingPolicy policy;
  Stress stress = Stress::off();
  std::uint64_t stress_allocations = 0;
  std::uint64_t stress_random_state = 0;
  bool verify = false;
  bool conservative = false;
  bool collecting = false;

  // ---- pacing, all in bytes ----
  std::uint64_t live_object_bytes = 0;     // object slots alive after the last collection
  std::uint64_t live_page_bytes = 0;       // of which in normal pages (not large objects)
  std::uint64_t live_object_external = 0;  // their external_size() sum
  std::uint64_t external_at_collection = 0;
  std::uint64_t external_bytes = 0;         // adjust_external_bytes() total
  std::uint64_t accounted_since = 0;        // settled charges since the last collection
  std::uint64_t external_since = 0;         // of which external (adjustments, new objects)
  std::uint64_t object_external_since = 0;  // of which external_size() of new objects
  std::uint64_t threshold = 0;
  // The larger of the last collection's live total and half the previous basis (bytes): a
  // live set that shrank keeps its pages for a few collections (GrowingPolicy::retain_factor).
  std::uint64_t retain_basis = 0;
  std::int64_t window = 0;  // budget_ when the current window opened

  // ---- statistics ----
  std::uint64_t collections = 0;
  std::uint64_t total_pause_ns = 0;
  std::uint64_t max_pause_ns = 0;
  std::uint64_t last_pause_ns = 0;
  CollectionReason last_reason = CollectionReason::kNone;
  std::unordered_map<const TypeInfo*, TypeTotals> types;
  std::uint64_t peak_live_bytes = 0;  // object bytes, at collections' ends and stats() calls

  std::uintptr_t stack_base = 0;  // found on first use of the conservative scan

  std::uint64_t live_total_after_collection() const noexcept {
    return live_object_bytes + live_object_external + external_at_collection;
  }
  // Moves what the fast path charged since the window opened into accounted_since.
  void settle() noexcept;
  // budget_ := what may be allocated before the slow path must look again.
  void open_window() noexcept;
  std::uint64_t allocated_since() const noexcept;

  NormalPage* take_page(std::size_t size_class);
  // Runs f() — which runs destructors — with make() and collect() refused, as in a collection.
  template <class F>
  void run_destructors(F&& f) {
    const bool was_collecting = collecting;
    const std::int64_t budget = heap.budget_;
    collecting = true;
    heap.budget_ = std::numeric_limits<std::int64_t>::min() / 2;
    f();
    heap.budget_ = budget;
    collecting = was_collecting;
  }
  // Sweeps what the lazy sweep has left (destructors run now).
  void finish_sweep();
  void note_mapping(std::uintptr_t begin, std::size_t size) noexcept;
  // Writes each size class's bump pointer back to its page, so [payload, top) is exact.
  void sync_tops() noexcept;
  // The object containing `address` (interior pointers count), or null.
  GcObject* find_object(std::uintptr_t address) const noexcept;
  // Page bytes held (in use and spare) minus the live slots in them: what allocation can reuse.
  std::uint64_t free_held_bytes() const noexcept;
  // Keeps as many spare pages as the allocation until the next collection may need.
  void trim_spare_pages() noexcept;

  // f(GcObject*, std::size_t size) for every constructed object (objects still under
  // construction are skipped: their vtable is not T's yet).
  template <class F>
  void for_each_object(F&& f) {
    std::vector<std::uintptr_t> constructing;
    for (std::uintptr_t entry : heap.handles_.locals.slots()) {
      if ((entry & kFreeTag) != 0) constructing.push_back(entry & ~kFreeTag);
    }
    auto visit = [&](GcObject* object, std::size_t size) {
      const auto address = reinterpret_cast<std::uintptr_t>(object);
      for (std::uintptr_t slot : constructing) {
        if (slot == address) return;
      }
      f(object, size);
    };
    for (NormalPage* page : pages) {
      for (char* slot = page->payload; slot < page->top; slot += page->slot_size) {
        if (holds_object(slot)) visit(reinterpret_cast<GcObject*>(slot), page->slot_size);
      }
    }
    for (LargeObject* large : large_objects) {
      GcObject* object = large_object_start(large);
      if (holds_object(object)) visit(object, large->object_size);
    }
  }
};

}  // namespace memkit::gc::detail

#endif  // MEMKIT_SRC_GC_HEAP_INTERNALS_H_
