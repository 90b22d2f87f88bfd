// memkit/inspect/process_map.h — a process's whole memory map, classified and grouped by module.
//
// A program's memory has a shape: its code and constants, its globals, the heap, a stack per
// thread, and whatever it mapped. ProcessMap reads that shape from /proc and names every part:
//
//   auto map = memkit::inspect::ProcessMap::read(pid);      // or read_self()
//   for (const Region& region : map.regions())
//     std::cout << kind_name(region.kind) << " " << region.size_kib() << " KiB\n";
//   map.totals().get(SmapsField::kRss);                     // what `pmap -X` totals, to the KiB
//
// Reading is one pass over /proc/PID/smaps, which holds the maps line of every region followed
// by its counters; every field is kept (memkit/inspect/region.h). A kernel without smaps falls
// back to maps, whose regions have addresses but no counters. The kernel walks the page tables of
// each region to produce smaps, ≈3 µs a region: 27–31 ms for a process with 10,000 mappings, to
// which memkit adds 5–10 ms, parsing each page as the kernel hands it over (docs/inspect.md has
// the figures; `pmap -X` takes 5–7× as long as ProcessMap::read).
//
// The map is grouped by module — the executable and each shared library, found as the files
// with an executable mapping — so a library's text, read-only data, data and bss read as one:
//
//   for (const Module& module : map.modules())
//     std::cout << module.name << ": text " << module.kib(RegionKind::kText) << " KiB\n";
//
// Thread stacks have no name in the map (the kernel dropped "[stack:TID]" as too costly). They
// are found from each thread's stack pointer in /proc/PID/task/TID/syscall (or, in this process,
// pthread_getattr_np), and by the shape glibc gives them: an inaccessible guard page right below
// a writable anonymous region.
//
// Errors are InspectError subclasses (memkit/base/error.h): ProcReadError when /proc cannot be
// read — the process has exited ("No such file or directory (the process has exited, or never
// existed)") or belongs to another user ("Permission denied (the process belongs to another
// user: ...)") — and MapParseError, naming the line, for text that is not maps or smaps.
#ifndef MEMKIT_INSPECT_PROCESS_MAP_H_
#define MEMKIT_INSPECT_PROCESS_MAP_H_

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "memkit/export.h"
#include "memkit/inspect/region.h"

namespace memkit::inspect {

// A thread's stack pointer, as /proc/PID/task/TID/syscall (or the thread itself) reported it.
struct ThreadStackPointer {
  int thread_id = 0;
  std::uint64_t stack_pointer = 0;
};

// The executable or one shared library: its mappings together.
struct Module {
  std::string path;  // as the map names it
  std::string name;  // the file name alone: "libc.so.6"
  bool main_executable = false;
  std::vector<std::size_t> regions;  // indexes into ProcessMap::regions(), ascending
  SmapsValues totals;                // the smaps counters of its regions, summed
  std::array<std::uint64_t, kRegionKindCount> kib_by_kind{};

  std::uint64_t kib(RegionKind kind) const noexcept {
    return kib_by_kind[static_cast<std::size_t>(kind)];
  }
  std::uint64_t size_kib() const noexcept;
};

struct ReadOptions {
  // Where procfs is mounted; tests point it at a directory of fixture files.
  std::string proc_root = "/proc";
  // Read /proc/PID/task/*/syscall to find thread stacks (one small read per thread).
  bool find_thread_stacks = true;
};

class MEMKIT_EXPORT ProcessMap {
 public:
  // Reads /proc/PID/smaps (or maps) once and classifies it. Throws ProcReadError when the process
  // has exited, cannot be read, or has no memory map (a zombie or a kernel thread), and
  // MapParseError when the kernel printed something memkit does not understand.
  static ProcessMap read(pid_t pid, const ReadOptions& options = {});
  // The calling process, with exact bounds for the calling thread's stack.
  static ProcessMap read_self();
  // The same from text in smaps or maps format (a saved copy, a fixture, a snapshot). `source`
  // names it in errors ("maps.txt:3: malformed line ..."); `threads` are stack pointers to
  // recognise thread stacks by; `executable` is the main program's path, if known.
  static ProcessMap parse(std::string_view text, std::string_view source,
                          const std::vector<ThreadStackPointer>& threads = {},
                          std::string_view executable = {});

  pid_t pid() const noexcept { return pid_; }
  // The main executable's path (from /proc/PID/exe), or empty if it could not be read.
  const std::string& executable() const noexcept { return executable_; }
  const std::vector<Region>& regions() const noexcept { return regions_; }
  const std::vector<Module>& modules() const noexcept { return modules_; }
  // Every KiB counter summed over all regions: the line `pmap -X` prints under its table.
  const SmapsValues& totals() const noexcept { return totals_; }
  // True when the counters came from smaps (false: maps only, addresses and kinds alone).
  bool has_smaps() const noexcept { return has_smaps_; }
  std::uint64_t size_kib() const noexcept;

  // The region containing `address`, or null (binary search).
  const Region* find(std::uint64_t address) const noexcept;

 private:
  friend class ProcessMapBuilder;

  pid_t pid_ = 0;
  std::string executable_;
  std::vector<Region> regions_;
  std::vector<Module> modules_;
  SmapsValues totals_;
  bool has_smaps_ = false;
};

// The stack pointers of a process's threads, from /proc/PID/task/TID/syscall. A thread that is
// running on a CPU right now ("running") or whose file cannot be read is left out.
MEMKIT_EXPORT std::vector<ThreadStackPointer> read_thread_stack_pointers(
    pid_t pid, const std::string& proc_root = "/proc");

// Reads a whole file with read(2) in large chunks (what /proc files need: their content is made
// as it is read). Throws ProcReadError naming the path and the errno.
MEMKIT_EXPORT std::string read_proc_file(const std::string& path);

}  // namespace memkit::inspect

#endif  // MEMKIT_INSPECT_PROCESS_MAP_H_
