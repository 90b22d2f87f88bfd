// memkit/inspect/region.h — one mapping of a process's address space, and what kind it is.
//
// A process's memory is a list of mappings (the kernel calls them VMAs): address ranges with one
// set of permissions, each backed by a file or by nothing ("anonymous"). /proc/PID/maps lists
// them one per line; /proc/PID/smaps adds, for each, how much of it is resident (Rss), its
// proportional share of pages shared with other processes (Pss), how much is swapped out, and a
// dozen more counters. A Region is one such mapping with every field the kernel printed:
//
//   55d591919000-55d59191b000 r--p 00000000 fe:00 248056      /usr/bin/sleep
//   Size:                  8 kB
//   Rss:                   8 kB
//   Pss:                   8 kB
//   ...
//   VmFlags: rd mr mw me
//
// and its kind, the answer to "what is this memory for?":
//
//   text            a module's machine code (r-x, backed by the executable or a library)
//   read-only data  a module's constants, string literals, and RELRO data once relocated (r--)
//   data            a module's initialised writable globals (rw-, backed by the file)
//   bss             a module's zero-initialised globals (rw-, anonymous, right after its data)
//   heap            the brk heap malloc grows for small blocks ([heap])
//   main stack      the main thread's stack ([stack]), which grows down on demand
//   thread stack    a thread's stack (found from the thread's stack pointer, or by its guard)
//   stack guard     the inaccessible page(s) below a thread stack: touching one is an overflow
//   anonymous       other private memory: large malloc blocks, arenas, allocators' chunks
//   file mapping    a file mapped into memory that is not an executable or library
//   shared memory   memory shared with other processes (MAP_SHARED anonymous, /dev/shm, SysV)
//   reserved        inaccessible (---) address space: gaps between a library's segments, reserves
//   vdso, vvar, vsyscall  the kernel's pages for system calls without a system call
//
// ProcessMap (memkit/inspect/process_map.h) reads and classifies a whole process;
// classify(const void*) (memkit/inspect/classify.h) answers for one address of this process.
#ifndef MEMKIT_INSPECT_REGION_H_
#define MEMKIT_INSPECT_REGION_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "memkit/export.h"

namespace memkit::inspect {

enum class RegionKind : std::uint8_t {
  kText,
  kReadOnlyData,
  kData,
  kBss,
  kHeap,
  kMainStack,
  kThreadStack,
  kStackGuard,
  kAnonymous,
  kFileMapping,
  kSharedMemory,
  kReserved,
  kVdso,
  kVvar,
  kVsyscall,
};
inline constexpr std::size_t kRegionKindCount = 15;

// "text", "read-only data", "data", "bss", "heap", "main stack", "thread stack", "stack guard",
// "anonymous", "file mapping", "shared memory", "reserved", "vdso", "vvar", "vsyscall".
MEMKIT_EXPORT std::string_view kind_name(RegionKind kind) noexcept;
// The same as one word for JSON and --sort keys: "text", "rodata", "data", "bss", "heap",
// "main_stack", "thread_stack", "stack_guard", "anonymous", "file", "shm", "reserved", "vdso",
// "vvar", "vsyscall".
MEMKIT_EXPORT std::string_view kind_key(RegionKind kind) noexcept;

// The counters of one smaps entry, in the order the kernel prints them. Every one but
// THPeligible and ProtectionKey is in KiB.
enum class SmapsField : std::uint8_t {
  kSize,
  kKernelPageSize,
  kMmuPageSize,
  kRss,
  kPss,
  kPssDirty,
  kPssAnon,
  kPssFile,
  kPssShmem,
  kSharedClean,
  kSharedDirty,
  kPrivateClean,
  kPrivateDirty,
  kReferenced,
  kAnonymous,
  kKsm,
  kLazyFree,
  kAnonHugePages,
  kShmemPmdMapped,
  kFilePmdMapped,
  kSharedHugetlb,
  kPrivateHugetlb,
  kSwap,
  kSwapPss,
  kLocked,
  kThpEligible,
  kProtectionKey,
};
inline constexpr std::size_t kSmapsFieldCount = 27;

// The kernel's spelling: "Size", "KernelPageSize", "Pss_Dirty", "THPeligible", ...
MEMKIT_EXPORT std::string_view smaps_field_name(SmapsField field) noexcept;
// False for the two counters that are not sizes (THPeligible, ProtectionKey).
MEMKIT_EXPORT bool smaps_field_is_kib(SmapsField field) noexcept;

// The smaps counters of one region (or a sum of regions). A counter the kernel did not print is
// absent: has() is false and get() is 0 — maps-only input has none at all.
class MEMKIT_EXPORT SmapsValues {
 public:
  bool has(SmapsField field) const noexcept { return (present_ >> index(field)) & 1U; }
  std::uint64_t get(SmapsField field) const noexcept { return values_[index(field)]; }
  void set(SmapsField field, std::uint64_t value) noexcept {
    values_[index(field)] = value;
    present_ |= std::uint32_t{1} << index(field);
  }
  bool empty() const noexcept { return present_ == 0; }
  // Adds every KiB counter of `other` (sizes add up; THPeligible and ProtectionKey do not).
  void add(const SmapsValues& other) noexcept;

 private:
  static constexpr std::size_t index(SmapsField field) noexcept {
    return static_cast<std::size_t>(field);
  }
  std::array<std::uint64_t, kSmapsFieldCount> values_{};
  std::uint32_t present_ = 0;
};

struct Permissions {
  bool read = false;
  bool write = false;
  bool execute = false;
  bool shared = false;  // 's' (MAP_SHARED) or 'p' (private, copy-on-write)

  // "r-xp", as maps prints it.
  std::string to_string() const {
    return {read ? 'r' : '-', write ? 'w' : '-', execute ? 'x' : '-', shared ? 's' : 'p'};
  }
  friend bool operator==(const Permissions&, const Permissions&) = default;
};

// One line of smaps memkit does not know (a newer kernel's counter), kept verbatim.
struct ExtraField {
  std::string name;
  std::string value;
};

struct Region {
  std::uint64_t start = 0;  // first address
  std::uint64_t end = 0;    // one past the last address
  Permissions permissions;
  std::uint64_t offset = 0;  // where in the file the mapping starts
  std::uint32_t device_major = 0;
  std::uint32_t device_minor = 0;
  std::uint64_t inode = 0;  // 0 for anonymous memory
  // The backing file or pseudo-name ("[heap]", "[stack]", "[anon:name]"); empty for anonymous
  // memory. A " (deleted)" suffix is removed and recorded in `deleted`.
  std::string path;
  bool deleted = false;
  SmapsValues smaps;
  std::string vm_flags;  // "rd wr mr mw me ac sd" (smaps only)
  std::vector<ExtraField> extra_fields;

  RegionKind kind = RegionKind::kAnonymous;
  // Index into ProcessMap::modules() for text, read-only data, data, bss (and reserved gaps
  // inside a module); -1 otherwise.
  int module = -1;
  // For a thread stack and its guard: the thread's id; 0 when the stack was recognised by its
  // guard page alone (the thread was running, or its stack pointer could not be read). -1 else.
  int thread_id = -1;

  std::uint64_t size_bytes() const noexcept { return end - start; }
  // smaps' Size when present, else computed from the addresses.
  std::uint64_t size_kib() const noexcept {
    return smaps.has(SmapsField::kSize) ? smaps.get(SmapsField::kSize) : size_bytes() / 1024;
  }
  std::uint64_t rss_kib() const noexcept { return smaps.get(SmapsField::kRss); }
  std::uint64_t pss_kib() const noexcept { return smaps.get(SmapsField::kPss); }
  std::uint64_t swap_kib() const noexcept { return smaps.get(SmapsField::kSwap); }
  bool contains(std::uint64_t address) const noexcept { return address >= start && address < end; }
  bool anonymous() const noexcept { return inode == 0 && (path.empty() || path[0] == '['); }
};

}  // namespace memkit::inspect

#endif  // MEMKIT_INSPECT_REGION_H_
