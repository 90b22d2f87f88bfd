// memkit/gc/stats.h — GcStats: what heap.stats() reports, as text and as JSON.
//
// The collector's own numbers (collections, pauses, the last reason, pages, the pacing
// threshold, external memory) plus a MemoryStats — memkit's shared vocabulary, the same one the
// allocators report in — whose by_tag rows are the object types:
//
//   tag            live_blocks / live_bytes   objects alive now, and their slot bytes
//                  frees / total - live       objects collected so far, and their bytes
//                  allocations / total_bytes  objects ever made (live + collected)
//                  peak_bytes                 the most live bytes seen (at a collection's end or
//                                             at stats())
//
//   std::cout << heap.stats();            // to_text
//   save("gc.json", to_json(heap.stats()));
//
// Times are nanoseconds of steady_clock wall time; bytes are bytes.
#ifndef MEMKIT_GC_STATS_H_
#define MEMKIT_GC_STATS_H_

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "memkit/alloc/stats.h"
#include "memkit/export.h"

namespace memkit::gc {

enum class CollectionReason {
  kNone,        // no collection yet
  kExplicit,    // heap.collect()
  kAllocation,  // the pacing threshold was reached
  kStress,      // stress mode
};

// "none", "explicit", "allocation", "stress".
MEMKIT_EXPORT std::string_view to_string(CollectionReason reason);

struct GcStats {
  std::uint64_t collections = 0;
  std::uint64_t total_pause_ns = 0;
  std::uint64_t max_pause_ns = 0;
  std::uint64_t last_pause_ns = 0;
  CollectionReason last_reason = CollectionReason::kNone;

  std::uint64_t pages = 0;          // normal pages held (in use or kept for reuse)
  std::uint64_t large_objects = 0;  // objects over 8 KiB, each in a mapping of its own
  std::uint64_t heap_bytes = 0;     // bytes held from the OS: pages and large mappings

  std::uint64_t live_bytes_after_last_collection = 0;  // object bytes + external bytes
  std::uint64_t allocated_since_last_collection = 0;   // object bytes
  std::uint64_t external_bytes = 0;                    // heap.adjust_external_bytes() total
  std::uint64_t object_external_bytes = 0;  // external_size() of live objects (at the last
                                            // collection, plus new objects since)
  std::uint64_t next_collection_at = 0;     // the pacing threshold, in accounted bytes

  std::string stress = "off";  // Stress::to_string()
  MemoryStats objects;         // per type; source "memkit::gc::Heap"

  friend bool operator==(const GcStats&, const GcStats&) = default;
};

// A few lines: collections and pauses, memory, then the per-type table; ends with a newline.
MEMKIT_EXPORT std::string to_text(const GcStats& stats);
// {"collections":N,"total_pause_ns":N,...,"last_reason":"explicit",...,"objects":{MemoryStats}}
MEMKIT_EXPORT std::string to_json(const GcStats& stats);
MEMKIT_EXPORT std::ostream& operator<<(std::ostream& out, const GcStats& stats);

}  // namespace memkit::gc

#endif  // MEMKIT_GC_STATS_H_
