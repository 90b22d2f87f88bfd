// classify(): this process's maps, plus the loader's program headers for the bss boundary.
#include "memkit/inspect/classify.h"

#include <elf.h>
#include <link.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "memkit/inspect/process_map.h"

namespace memkit::inspect {
namespace {

// Where dl_iterate_phdr found the address: inside a loaded object's writable PT_LOAD segment,
// and whether in its zero-filled (bss) part.
struct SegmentMatch {
  std::uint64_t address = 0;
  bool found = false;
  bool in_bss = false;
};

int find_segment(dl_phdr_info* info, std::size_t, void* data) {
  auto* match = static_cast<SegmentMatch*>(data);
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& header = info->dlpi_phdr[i];
    if (header.p_type != PT_LOAD || (header.p_flags & PF_W) == 0) continue;
    const std::uint64_t begin = info->dlpi_addr + header.p_vaddr;
    const std::uint64_t file_end = begin + header.p_filesz;
    const std::uint64_t memory_end = begin + header.p_memsz;
    if (match->address >= begin && match->address < memory_end) {
      match->found = true;
      match->in_bss = match->address >= file_end;
      return 1;
    }
  }
  return 0;
}

}  // namespace

std::optional<AddressInfo> classify(const void* address) {
  const ProcessMap map =
      ProcessMap::parse(read_proc_file("/proc/self/maps"), "/proc/self/maps", [] {
        auto threads = read_thread_stack_pointers(::getpid());
        int here = 0;
        threads.push_back(
            {static_cast<int>(::syscall(SYS_gettid)), reinterpret_cast<std::uint64_t>(&here)});
        return threads;
      }());
  const auto where = reinterpret_cast<std::uint64_t>(address);
  const Region* region = map.find(where);
  if (region == nullptr) return std::nullopt;

  AddressInfo info;
  info.address = where;
  info.region = *region;
  info.kind = region->kind;
  if (region->module >= 0) {
    const Module& module = map.modules()[static_cast<std::size_t>(region->module)];
    info.module_path = module.path;
    info.module_name = module.name;
  }
  if (info.kind == RegionKind::kData || info.kind == RegionKind::kAnonymous) {
    SegmentMatch match;
    match.address = where;
    ::dl_iterate_phdr(find_segment, &match);
    if (match.found && match.in_bss) info.kind = RegionKind::kBss;
    if (match.found && info.module_path.empty() && region->module < 0) {
      // Anonymous bss the adjacency rule missed: name the module from the region before it.
      const auto index = static_cast<std::size_t>(region - map.regions().data());
      if (index > 0 && map.regions()[index - 1].module >= 0) {
        const Module& module =
            map.modules()[static_cast<std::size_t>(map.regions()[index - 1].module)];
        info.module_path = module.path;
        info.module_name = module.name;
      }
    }
  }
  return info;
}

}  // namespace memkit::inspect
