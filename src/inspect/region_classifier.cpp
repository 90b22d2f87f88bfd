// How a region's kind is decided, from what maps shows and nothing else:
//
//   * pseudo-names first: [heap], [stack], [vdso], [vvar] (and [vvar_vclock]), [vsyscall],
//     [anon:NAME] (anonymous), [anon_shmem:NAME] (shared memory);
//   * a module is a file with at least one executable mapping — the executable and each shared
//     library. Its r-x mappings are text, r-- read-only data (ELF headers, .rodata, .eh_frame,
//     and the RELRO part of the data segment once the loader protected it), rw- data, --- the
//     gaps the loader reserves between segments;
//   * bss is the anonymous rw- mapping that starts exactly where a module's data mapping ends:
//     the loader (or the kernel, for the executable) maps the zero-filled part of the data
//     segment that does not fit in the file's last page there;
//   * a thread stack is the anonymous rw- mapping a thread's stack pointer is in, and its guard
//     the --- mapping right below it. A thread whose stack pointer is unknown (it was running)
//     is still found by glibc's layout: one mmap for guard + stack, the guard (at most 1 MiB)
//     made PROT_NONE at the bottom. malloc's arenas have the opposite shape (rw- below ---);
//   * shared memory: a shared (s) mapping that is anonymous, of /dev/zero, in /dev/shm, a SysV
//     segment (/SYSV...) or a memfd; any other file is a file mapping; other private anonymous
//     memory is anonymous, or reserved when it has no permissions at all.
#include "region_classifier.h"

#include <algorithm>
#include <string>
#include <unordered_map>

namespace memkit::inspect::detail {
namespace {

constexpr std::uint64_t kMaxGuardBytes = std::uint64_t{1} << 20;

bool starts_with(std::string_view text, std::string_view prefix) noexcept {
  return text.substr(0, prefix.size()) == prefix;
}

bool no_access(const Region& region) noexcept {
  return !region.permissions.read && !region.permissions.write && !region.permissions.execute;
}

bool is_file_path(const Region& region) noexcept {
  return !region.path.empty() && region.path[0] == '/';
}

std::string_view file_name(std::string_view path) noexcept {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_shared_memory_file(std::string_view path) noexcept {
  return starts_with(path, "/dev/shm/") || starts_with(path, "/SYSV") ||
         starts_with(path, "/memfd:") || path == "/dev/zero";
}

RegionKind kind_without_module(const Region& region) noexcept {
  const std::string_view path = region.path;
  if (!path.empty() && path[0] == '[') {
    if (path == "[heap]") return RegionKind::kHeap;
    if (path == "[stack]") return RegionKind::kMainStack;
    if (path == "[vdso]") return RegionKind::kVdso;
    if (starts_with(path, "[vvar")) return RegionKind::kVvar;
    if (path == "[vsyscall]") return RegionKind::kVsyscall;
    if (starts_with(path, "[anon_shmem:")) return RegionKind::kSharedMemory;
    // [anon:NAME] and anything newer: anonymous memory with a name.
  } else if (is_file_path(region)) {
    if (region.permissions.shared && is_shared_memory_file(path)) {
      return RegionKind::kSharedMemory;
    }
    return RegionKind::kFileMapping;
  }
  if (region.permissions.shared) return RegionKind::kSharedMemory;
  if (no_access(region)) return RegionKind::kReserved;
  return RegionKind::kAnonymous;
}

RegionKind kind_in_module(const Region& region) noexcept {
  if (region.permissions.execute) return RegionKind::kText;
  if (region.permissions.write) return RegionKind::kData;
  if (region.permissions.read) return RegionKind::kReadOnlyData;
  return RegionKind::kReserved;
}

// A private anonymous rw- mapping without a pseudo-name (or [anon:NAME]).
bool is_plain_anonymous_rw(const Region& region) noexcept {
  return region.kind == RegionKind::kAnonymous && region.permissions.read &&
         region.permissions.write && !region.permissions.shared;
}

void mark_thread_stack(std::vector<Region>& regions, std::size_t index, int thread_id) {
  Region& stack = regions[index];
  stack.kind = RegionKind::kThreadStack;
  stack.thread_id = thread_id;
  if (index == 0) return;
  Region& below = regions[index - 1];
  if (below.end == stack.start && below.anonymous() && no_access(below) &&
      (below.kind == RegionKind::kReserved || below.kind == RegionKind::kStackGuard)) {
    below.kind = RegionKind::kStackGuard;
    below.thread_id = thread_id;
  }
}

std::size_t region_containing(const std::vector<Region>& regions, std::uint64_t address) {
  auto it = std::upper_bound(regions.begin(), regions.end(), address,
                             [](std::uint64_t a, const Region& r) { return a < r.start; });
  if (it == regions.begin()) return regions.size();
  --it;
  return it->contains(address) ? static_cast<std::size_t>(it - regions.begin()) : regions.size();
}

}  // namespace

std::vector<Module> classify_regions(std::vector<Region>& regions,
                                     const std::vector<ThreadStackPointer>& threads,
                                     std::string_view executable) {
  // Modules: files with an executable mapping, numbered in address order of first appearance.
  std::unordered_map<std::string, int> module_of_path;
  for (const Region& region : regions) {
    if (region.permissions.execute && is_file_path(region)) {
      module_of_path.emplace(region.path, -1);
    }
  }
  std::vector<Module> modules;
  for (std::size_t i = 0; i < regions.size(); ++i) {
    Region& region = regions[i];
    auto it = region.path.empty() ? module_of_path.end() : module_of_path.find(region.path);
    if (it == module_of_path.end()) {
      region.kind = kind_without_module(region);
      region.module = -1;
      continue;
    }
    if (it->second < 0) {
      it->second = static_cast<int>(modules.size());
      Module module;
      module.path = region.path;
      module.name = std::string(file_name(region.path));
      module.main_executable = !executable.empty() && region.path == executable;
      modules.push_back(std::move(module));
    }
    region.kind = kind_in_module(region);
    region.module = it->second;
  }

  // Bss: anonymous rw- right after a module's data.
  for (std::size_t i = 1; i < regions.size(); ++i) {
    Region& region = regions[i];
    const Region& before = regions[i - 1];
    if (is_plain_anonymous_rw(region) && region.path.empty() && before.end == region.start &&
        before.module >= 0 && before.kind == RegionKind::kData) {
      region.kind = RegionKind::kBss;
      region.module = before.module;
    }
  }

  // Thread stacks: by stack pointer first, then by glibc's guard-below-stack shape.
  for (const ThreadStackPointer& thread : threads) {
    const std::size_t index = region_containing(regions, thread.stack_pointer);
    if (index == regions.size()) continue;
    const Region& region = regions[index];
    if (region.kind == RegionKind::kMainStack) continue;
    if (is_plain_anonymous_rw(region) || region.kind == RegionKind::kThreadStack) {
      mark_thread_stack(regions, index, thread.thread_id);
    }
  }
  for (std::size_t i = 1; i < regions.size(); ++i) {
    const Region& below = regions[i - 1];
    if (is_plain_anonymous_rw(regions[i]) && below.kind == RegionKind::kReserved &&
        below.path.empty() && below.end == regions[i].start &&
        below.size_bytes() <= kMaxGuardBytes) {
      mark_thread_stack(regions, i, 0);
    }
  }

  for (std::size_t i = 0; i < regions.size(); ++i) {
    const Region& region = regions[i];
    if (region.module < 0) continue;
    Module& module = modules[static_cast<std::size_t>(region.module)];
    module.regions.push_back(i);
    module.totals.add(region.smaps);
    module.kib_by_kind[static_cast<std::size_t>(region.kind)] += region.size_kib();
  }
  return modules;
}

}  // namespace memkit::inspect::detail
