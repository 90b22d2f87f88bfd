// roots.cpp — the root set (see roots.h), and the mmap/mremap/munmap interposers that tell the
// program's anonymous mappings from glibc's (glibc's malloc and pthread use the internal __mmap,
// which these never see).
#include "roots.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "proc_maps.h"

namespace memkit::check_rt {
namespace {

constexpr uintptr_t kPage = 4096;

// ---- the program's anonymous mappings
// ------------------------------------------------------------

constexpr std::size_t kMaxUserMappings = 1u << 16;  // beyond that the oldest are forgotten

std::atomic<bool> g_user_lock{false};
AddressRange* g_user = nullptr;
std::size_t g_user_count = 0;

void lock_user() {
  while (g_user_lock.exchange(true, std::memory_order_acquire)) {
    while (g_user_lock.load(std::memory_order_relaxed)) __builtin_ia32_pause();
  }
}
void unlock_user() { g_user_lock.store(false, std::memory_order_release); }

// Removes [begin, end) from the table (trimming or splitting what overlaps it). Lock held.
void forget_user_range(uintptr_t begin, uintptr_t end) {
  for (std::size_t i = 0; i < g_user_count;) {
    AddressRange& range = g_user[i];
    if (range.end <= begin || range.begin >= end) {
      ++i;
      continue;
    }
    if (range.begin < begin && range.end > end) {  // split
      if (g_user_count < kMaxUserMappings) g_user[g_user_count++] = AddressRange{end, range.end};
      range.end = begin;
      ++i;
    } else if (range.begin < begin) {
      range.end = begin;
      ++i;
    } else if (range.end > end) {
      range.begin = end;
      ++i;
    } else {
      range = g_user[--g_user_count];
    }
  }
}

void remember_user_range(uintptr_t begin, std::size_t length) {
  const uintptr_t end = begin + ((length + kPage - 1) & ~(kPage - 1));
  lock_user();
  if (g_user == nullptr) {
    g_user = static_cast<AddressRange*>(internal_map(kMaxUserMappings * sizeof(AddressRange)));
  }
  if (g_user != nullptr) {
    forget_user_range(begin, end);
    if (g_user_count == kMaxUserMappings) g_user[0] = g_user[--g_user_count];
    g_user[g_user_count++] = AddressRange{begin, end};
  }
  unlock_user();
}

void forget_user_mapping(uintptr_t begin, std::size_t length) {
  lock_user();
  if (g_user != nullptr) forget_user_range(begin, begin + ((length + kPage - 1) & ~(kPage - 1)));
  unlock_user();
}

// ---- building the root set
// -----------------------------------------------------------------------

struct Builder {
  AddressRange* ranges = nullptr;
  std::size_t count = 0;
  std::size_t capacity = 0;
  const Block* blocks = nullptr;
  std::size_t block_count = 0;
  AddressRange* internal = nullptr;  // sorted
  std::size_t internal_count = 0;
  std::size_t internal_capacity = 0;

  bool holds_live_block(uintptr_t begin, uintptr_t end) const {
    std::size_t lo = 0;
    std::size_t hi = block_count;
    while (lo < hi) {  // the first block at or above begin
      const std::size_t mid = lo + (hi - lo) / 2;
      if (blocks[mid].address < begin) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo < block_count && blocks[lo].address < end;
  }

  void add_piece(uintptr_t begin, uintptr_t end) {
    if (begin < end && count < capacity) ranges[count++] = AddressRange{begin, end};
  }

  // Adds [begin, end) minus the runtime's internal ranges.
  void add(uintptr_t begin, uintptr_t end) {
    for (std::size_t i = 0; i < internal_count && begin < end; ++i) {
      const AddressRange& hole = internal[i];
      if (hole.end <= begin || hole.begin >= end) continue;
      add_piece(begin, hole.begin < begin ? begin : hole.begin);
      begin = hole.end;
    }
    add_piece(begin, end);
  }
};

void collect_internal(uintptr_t begin, uintptr_t end, void* context) {
  auto* builder = static_cast<Builder*>(context);
  if (builder->internal_count < builder->internal_capacity) {
    builder->internal[builder->internal_count++] = AddressRange{begin, end};
  }
}

void sort_ranges(AddressRange* ranges, std::size_t count) {  // few entries: insertion sort
  for (std::size_t i = 1; i < count; ++i) {
    const AddressRange value = ranges[i];
    std::size_t j = i;
    for (; j > 0 && ranges[j - 1].begin > value.begin; --j) ranges[j] = ranges[j - 1];
    ranges[j] = value;
  }
}

bool is_file_backed(const MapsEntry& entry) { return entry.inode != 0 && entry.path[0] == '/'; }

// The part of a file mapping backed by the file (reading past the end would raise SIGBUS), or an
// empty range for a device (valgrind skips them, but /dev/zero) or a file that cannot be stat'ed.
uintptr_t file_backed_end(const MapsEntry& entry) {
  struct stat status;
  if (stat(entry.path, &status) != 0 || status.st_ino != entry.inode) return entry.begin;
  if (S_ISCHR(status.st_mode) || S_ISBLK(status.st_mode)) {
    return same_string(entry.path, "/dev/zero") ? entry.end : entry.begin;
  }
  if (!S_ISREG(status.st_mode)) return entry.end;
  const uint64_t size = static_cast<uint64_t>(status.st_size);
  if (size <= entry.offset) return entry.begin;
  const uint64_t backed = (size - entry.offset + kPage - 1) & ~(kPage - 1);
  return backed < entry.end - entry.begin ? entry.begin + backed : entry.end;
}

const char* own_object_path(const MapsSnapshot& maps) {
  const MapsEntry* self = find_mapping(maps, reinterpret_cast<uintptr_t>(&own_object_path));
  return self != nullptr && is_file_backed(*self) ? self->path : nullptr;
}

// glibc's main_arena (a static in libc's data) holds the top chunk's address, which lies inside
// the last block carved before it, and the bins' chunk addresses: as roots they would make blocks
// "possibly lost" that valgrind (which replaces malloc) calls definitely lost. It is not exported,
// so it is recognised by its layout on x86-64 glibc 2.26+: bins start at +112, each empty bin's
// fd and bk point 16 bytes below themselves; the structure is 2200 bytes. The largest bins are
// empty in practice.
constexpr uintptr_t kArenaBins = 112;
constexpr uintptr_t kArenaBinCount = 127;
constexpr uintptr_t kArenaSize = 2200;

bool empty_bin_at(uintptr_t arena, uintptr_t bin) {
  const uintptr_t at = arena + kArenaBins + 16 * bin;
  const auto* words = reinterpret_cast<const uintptr_t*>(at);
  return words[0] == at - 16 && words[1] == at - 16;
}

uintptr_t find_main_arena(uintptr_t begin, uintptr_t end) {
  begin = (begin + 7) & ~uintptr_t{7};
  for (uintptr_t arena = begin; arena + kArenaSize <= end; arena += 8) {
    if (!empty_bin_at(arena, kArenaBinCount - 1)) continue;
    uintptr_t empty = 0;
    for (uintptr_t bin = 0; bin < kArenaBinCount; ++bin) empty += empty_bin_at(arena, bin);
    if (empty >= kArenaBinCount / 2) return arena;
  }
  return 0;
}

bool is_libc(const char* path) {
  for (const char* at = path; *at != '\0'; ++at) {
    if (at[0] == '/' && starts_with(at + 1, "libc.so")) return true;
  }
  return false;
}

struct ThreadView {
  uintptr_t stack_pointer;
  uintptr_t thread_pointer;
  pid_t tid;
};

MapsSnapshot g_maps;
AddressRange* g_ranges = nullptr;
std::size_t g_ranges_capacity = 0;
uintptr_t* g_registers = nullptr;
std::size_t g_registers_capacity = 0;
MappingInfo* g_infos = nullptr;
std::size_t g_infos_capacity = 0;
AddressRange* g_internal = nullptr;
std::size_t g_internal_capacity = 0;
ThreadView* g_views = nullptr;
std::size_t g_views_capacity = 0;

template <typename T>
bool ensure(T*& array, std::size_t& capacity, std::size_t needed) {
  if (needed <= capacity && array != nullptr) return true;
  if (array != nullptr) internal_unmap(array, capacity * sizeof(T));
  capacity = needed + 256;
  array = static_cast<T*>(internal_map(capacity * sizeof(T)));
  if (array == nullptr) capacity = 0;
  return array != nullptr;
}

}  // namespace

void user_mappings_lock() { lock_user(); }
void user_mappings_unlock() { unlock_user(); }

bool prepare_roots(std::size_t thread_count) {
  if (!read_maps(&g_maps)) return false;
  const std::size_t headroom = g_maps.count + 256;
  return ensure(g_ranges, g_ranges_capacity, 2 * headroom + 2 * thread_count + 2 * g_user_count) &&
         ensure(g_registers, g_registers_capacity, (thread_count + 64) * kGeneralRegisterCount) &&
         ensure(g_infos, g_infos_capacity, headroom) &&
         ensure(g_views, g_views_capacity, thread_count + 64) &&
         ensure(g_internal, g_internal_capacity, 4096);
}

bool collect_roots(const Block* blocks, std::size_t block_count, const WorldSnapshot& world,
                   const CallerThread& caller, RootSet* roots) {
  if (!read_maps(&g_maps)) return false;
  const std::size_t thread_count = world.count + 1;
  const std::size_t range_budget = 2 * g_maps.count + 2 * thread_count + 2 * g_user_count + 64;
  if (!ensure(g_ranges, g_ranges_capacity, range_budget) ||
      !ensure(g_registers, g_registers_capacity,
              thread_count * kGeneralRegisterCount + caller.register_count) ||
      !ensure(g_infos, g_infos_capacity, g_maps.count) ||
      !ensure(g_views, g_views_capacity, thread_count) ||
      !ensure(g_internal, g_internal_capacity, 4096)) {
    return false;
  }

  Builder builder;
  builder.internal = g_internal;
  builder.internal_capacity = g_internal_capacity;
  for_each_internal_range(collect_internal, &builder);
  for (std::size_t m = 0; m < g_maps.count && builder.internal_count < g_internal_capacity; ++m) {
    const MapsEntry& entry = g_maps.entries[m];
    const bool libc_data = is_file_backed(entry) && is_libc(entry.path);
    const bool libc_bss = m > 0 && entry.path[0] == '\0' &&
                          g_maps.entries[m - 1].end == entry.begin &&
                          is_libc(g_maps.entries[m - 1].path);
    if (!entry.readable || !entry.writable || !(libc_data || libc_bss)) continue;
    const uintptr_t end = libc_data ? file_backed_end(entry) : entry.end;
    const uintptr_t arena = find_main_arena(entry.begin, end);
    if (arena != 0) g_internal[builder.internal_count++] = AddressRange{arena, arena + kArenaSize};
  }
  sort_ranges(g_internal, builder.internal_count);
  builder.ranges = g_ranges;
  builder.capacity = g_ranges_capacity;
  builder.blocks = blocks;
  builder.block_count = block_count;

  // The threads: the caller, then every stopped one.
  std::size_t views = 0;
  std::size_t register_words = 0;
  g_views[views++] = ThreadView{caller.scan_from, caller.thread_pointer, current_tid()};
  for (std::size_t i = 0; i < caller.register_count; ++i)
    g_registers[register_words++] = caller.registers[i];
  for (std::size_t i = 0; i < world.count; ++i) {
    const ThreadState& thread = world.threads[i];
    if (thread.tid <= 0 || !thread.stopped) continue;
    g_views[views++] = ThreadView{thread.stack_pointer, thread.thread_pointer, thread.tid};
    for (uintptr_t word : thread.registers) g_registers[register_words++] = word;
  }

  // Stacks: from each saved SP to the end of its mapping.
  for (std::size_t t = 0; t < views; ++t) {
    const uintptr_t sp = g_views[t].stack_pointer;
    if (sp == 0) continue;
    const MapsEntry* stack = find_mapping(g_maps, sp);
    uintptr_t low = 0;
    uintptr_t high = 0;
    if (stack != nullptr && stack->readable && stack->writable) {
      builder.add(sp, stack->end);
    } else if (registered_stack(g_views[t].tid, &low, &high) && sp >= low && sp < high) {
      builder.add(sp, high);
    }
  }

  const char* own_path = own_object_path(g_maps);
  lock_user();
  for (std::size_t m = 0; m < g_maps.count; ++m) {
    const MapsEntry& entry = g_maps.entries[m];
    g_infos[m] = MappingInfo{entry.begin, entry.end, entry.readable, entry.executable,
                             is_file_backed(entry)};
    if (!entry.readable || !entry.writable) continue;
    if (builder.holds_live_block(entry.begin, entry.end)) continue;  // glibc's heap, never a root
    if (is_file_backed(entry)) {
      if (own_path != nullptr && same_string(entry.path, own_path)) continue;
      builder.add(entry.begin, file_backed_end(entry));
      continue;
    }
    if (entry.path[0] != '\0') continue;  // [stack] (from SP only), [heap], [vvar], ...
    // The rest of an object's .bss, mapped anonymously right after its file-backed data.
    if (m > 0 && g_maps.entries[m - 1].end == entry.begin &&
        is_file_backed(g_maps.entries[m - 1]) &&
        !(own_path != nullptr && same_string(g_maps.entries[m - 1].path, own_path))) {
      builder.add(entry.begin, entry.end);
      continue;
    }
    // A thread pointer's mapping that is not that thread's stack (the main thread's static TLS).
    bool holds_tls = false;
    bool holds_stack = false;
    for (std::size_t t = 0; t < views; ++t) {
      const bool tp_here =
          g_views[t].thread_pointer >= entry.begin && g_views[t].thread_pointer < entry.end;
      const bool sp_here =
          g_views[t].stack_pointer >= entry.begin && g_views[t].stack_pointer < entry.end;
      holds_stack = holds_stack || sp_here;
      holds_tls = holds_tls || (tp_here && !sp_here);
    }
    if (holds_stack) continue;  // scanned from SP above
    if (holds_tls) {
      builder.add(entry.begin, entry.end);
      continue;
    }
    // What the program mapped itself.
    for (std::size_t u = 0; u < g_user_count; ++u) {
      const AddressRange& user = g_user[u];
      const uintptr_t begin = user.begin > entry.begin ? user.begin : entry.begin;
      const uintptr_t end = user.end < entry.end ? user.end : entry.end;
      builder.add(begin, end);
    }
  }
  unlock_user();

  roots->ranges = g_ranges;
  roots->range_count = builder.count;
  roots->registers = g_registers;
  roots->register_count = register_words;
  roots->mappings = g_infos;
  roots->mapping_count = g_maps.count;
  return true;
}

}  // namespace memkit::check_rt

namespace mk = memkit::check_rt;

extern "C" {

__attribute__((visibility("default"))) void* mmap(void* address, size_t length, int protection,
                                                  int flags, int fd, off_t offset) {
  const long result = syscall(SYS_mmap, address, length, protection, flags, fd, offset);
  if (result == -1) return MAP_FAILED;
  if ((flags & MAP_ANONYMOUS) != 0) {
    const int saved_errno = errno;
    mk::remember_user_range(static_cast<uintptr_t>(result), length);
    errno = saved_errno;
  }
  return reinterpret_cast<void*>(result);
}

__attribute__((visibility("default"))) void* mmap64(void* address, size_t length, int protection,
                                                    int flags, int fd, off_t offset) {
  return mmap(address, length, protection, flags, fd, offset);
}

__attribute__((visibility("default"))) int munmap(void* address, size_t length) {
  const long result = syscall(SYS_munmap, address, length);
  if (result == 0) {
    const int saved_errno = errno;
    mk::forget_user_mapping(reinterpret_cast<uintptr_t>(address), length);
    errno = saved_errno;
  }
  return static_cast<int>(result);
}

__attribute__((visibility("default"))) void* mremap(void* old_address, size_t old_length,
                                                    size_t new_length, int flags, ...) {
  void* new_address = nullptr;
  if ((flags & MREMAP_FIXED) != 0) {
    va_list arguments;
    va_start(arguments, flags);
    new_address = va_arg(arguments, void*);
    va_end(arguments);
  }
  const long result = syscall(SYS_mremap, old_address, old_length, new_length, flags, new_address);
  if (result == -1) return MAP_FAILED;
  const int saved_errno = errno;
  bool was_user = false;
  mk::user_mappings_lock();
  for (std::size_t i = 0; i < mk::g_user_count && !was_user; ++i) {
    const auto begin = reinterpret_cast<uintptr_t>(old_address);
    was_user = mk::g_user[i].begin <= begin && begin < mk::g_user[i].end;
  }
  mk::user_mappings_unlock();
  if (was_user) {
    mk::forget_user_mapping(reinterpret_cast<uintptr_t>(old_address), old_length);
    mk::remember_user_range(static_cast<uintptr_t>(result), new_length);
  }
  errno = saved_errno;
  return reinterpret_cast<void*>(result);
}

}  // extern "C"
