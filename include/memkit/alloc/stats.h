// memkit/alloc/stats.h — the one vocabulary every memkit allocator reports in.
//
// An arena, a pool, a tracking resource, the global operator-new hook (and later the GC heap and
// the leak checker) all answer "how much memory, in how many blocks, at most how much" with the
// same plain structs, printed the same way as text and as JSON:
//
//   AllocCounts   allocations and frees ever made; live bytes and blocks now; the peak of live
//                 bytes; the bytes ever handed out.
//   Footprint     for allocators that take memory from an upstream in chunks: the bytes held,
//                 the number of chunks, and the bytes lost to padding and unused chunk tails.
//   MemoryStats   a named snapshot: the counts, an optional footprint, and counts per tag (a type
//                 name or a name the caller chose), largest live bytes first.
//
//   memkit::MemoryStats stats = arena.memory_stats();
//   std::cout << stats;                 // to_text(stats)
//   write_file("stats.json", to_json(stats));
//
// AllocCounts::record_allocation/record_free are plain, non-atomic updates: an allocator that is
// used from one thread at a time counts for a few instructions. Thread-safe counting is the
// tracker's business (memkit/alloc/tracking.h), which keeps counters per thread.
#ifndef MEMKIT_ALLOC_STATS_H_
#define MEMKIT_ALLOC_STATS_H_

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "memkit/export.h"

namespace memkit {

struct AllocCounts {
  std::uint64_t allocations = 0;  // blocks handed out, ever
  std::uint64_t frees = 0;        // blocks given back, ever
  std::uint64_t live_bytes = 0;   // bytes handed out and not given back
  std::uint64_t live_blocks = 0;  // blocks handed out and not given back
  std::uint64_t peak_bytes = 0;   // the highest live_bytes has been
  std::uint64_t total_bytes = 0;  // bytes handed out, ever

  void record_allocation(std::uint64_t bytes) noexcept {
    ++allocations;
    ++live_blocks;
    live_bytes += bytes;
    total_bytes += bytes;
    if (live_bytes > peak_bytes) peak_bytes = live_bytes;
  }
  void record_free(std::uint64_t bytes) noexcept {
    ++frees;
    --live_blocks;
    live_bytes -= bytes;
  }

  friend bool operator==(const AllocCounts&, const AllocCounts&) = default;
};

struct Footprint {
  std::uint64_t capacity_bytes = 0;  // bytes obtained from upstream and still held
  std::uint64_t chunks = 0;          // how many pieces they came in
  std::uint64_t wasted_bytes = 0;    // alignment padding and chunk tails that were skipped

  friend bool operator==(const Footprint&, const Footprint&) = default;
};

struct TagStats {
  std::string tag;
  AllocCounts counts;

  friend bool operator==(const TagStats&, const TagStats&) = default;
};

struct MemoryStats {
  std::string source;                  // "memkit::Arena", "memkit::Pool<Node>", ...
  AllocCounts counts;                  // everything, all tags together
  std::optional<Footprint> footprint;  // only for allocators that hold chunks
  std::vector<TagStats> by_tag;        // largest live_bytes first, then by tag

  friend bool operator==(const MemoryStats&, const MemoryStats&) = default;
};

// "0 B", "512 B", "1.5 KiB", "12.0 MiB": binary units, one decimal above bytes.
MEMKIT_EXPORT std::string format_bytes(std::uint64_t bytes);

// Sorts by_tag the documented way (largest live_bytes first, then by tag name).
MEMKIT_EXPORT void sort_tags(std::vector<TagStats>& tags);

// A few human-readable lines, the first naming the source; ends with a newline.
MEMKIT_EXPORT std::string to_text(const MemoryStats& stats);

// One JSON object:
//   {"source":"...","allocations":N,"frees":N,"live_bytes":N,"live_blocks":N,"peak_bytes":N,
//    "total_bytes":N,"footprint":{"capacity_bytes":N,"chunks":N,"wasted_bytes":N} or null,
//    "by_tag":[{"tag":"...","allocations":N,...},...]}
MEMKIT_EXPORT std::string to_json(const MemoryStats& stats);

// Appends `text` to `out` as a JSON string literal (quotes included, control characters escaped).
MEMKIT_EXPORT void append_json_string(std::string& out, std::string_view text);

MEMKIT_EXPORT std::ostream& operator<<(std::ostream& out, const MemoryStats& stats);

}  // namespace memkit

#endif  // MEMKIT_ALLOC_STATS_H_
