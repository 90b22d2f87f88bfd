// memkit/inspect/classify.h — which part of this process's memory an address is in.
//
// "Is it on the stack or on the heap?" is the first question about any pointer, and the answer
// is in the process's own map. classify() reads /proc/self/maps (maps, not smaps: no page-table
// walk, ≈20 µs for a small program) and says which region holds the address and what kind it is:
//
//   int local = 0;
//   static int counter;                         // zero-initialised global
//   classify(&local)->kind;                     // RegionKind::kMainStack (kThreadStack in a
//   thread) classify(new int(1))->kind;                 // kHeap — or kAnonymous: large blocks,
//   thread
//                                               // arenas and sanitizers' heaps are mmap'd
//   classify(&counter)->kind;                   // kBss
//   classify("a literal")->kind;                // kReadOnlyData
//   classify(reinterpret_cast<const void*>(&std::puts))->module_name;   // "libc.so.6"
//
// The kind is refined below page granularity with the loader's program headers
// (dl_iterate_phdr): a zero-initialised global that shares its page with initialised data is
// still bss. An address in no mapping (null, freed-and-unmapped memory) gives std::nullopt.
#ifndef MEMKIT_INSPECT_CLASSIFY_H_
#define MEMKIT_INSPECT_CLASSIFY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "memkit/export.h"
#include "memkit/inspect/region.h"

namespace memkit::inspect {

struct AddressInfo {
  std::uint64_t address = 0;
  // The kind of the byte at `address`: region.kind, except that the bss part of a data page is
  // kBss.
  RegionKind kind = RegionKind::kAnonymous;
  Region region;            // the whole mapping (no smaps counters: classify reads maps)
  std::string module_path;  // the executable or library it belongs to, or empty
  std::string module_name;  // the file name alone: "libc.so.6"
};

// Reads this process's map and classifies `address`. Throws ProcReadError if /proc/self/maps
// cannot be read (no procfs mounted).
MEMKIT_EXPORT std::optional<AddressInfo> classify(const void* address);

}  // namespace memkit::inspect

#endif  // MEMKIT_INSPECT_CLASSIFY_H_
