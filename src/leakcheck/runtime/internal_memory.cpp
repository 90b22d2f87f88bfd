// Internal memory: every table of the runtime lives in pages mapped here with raw system calls —
// not through malloc (it would count itself) and not through the mmap symbol (the reporter
// interposes it to learn the program's own root regions). Each range is remembered so that the
// leak search can skip it.
#include "internal_memory.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "tracker_spinlock.h"
#include "tracker_thread.h"

namespace memkit::check_rt {
namespace {

constexpr std::size_t kPageSize = 4096;
// A table that doubles as it grows keeps only its newest generation mapped, so even a huge
// program holds a few hundred ranges; the rest of the slots are headroom.
constexpr std::size_t kMaxRanges = 4096;

struct Range {
  uintptr_t begin;
  uintptr_t end;
};

SpinLock g_registry_lock;
Range g_ranges[kMaxRanges];
std::size_t g_range_count = 0;

std::size_t round_to_pages(std::size_t bytes) { return (bytes + kPageSize - 1) & ~(kPageSize - 1); }

void remember(uintptr_t begin, uintptr_t end) {
  SpinLockHolder hold(g_registry_lock);
  if (g_range_count < kMaxRanges) {
    g_ranges[g_range_count++] = Range{begin, end};
  }
}

void forget(uintptr_t begin) {
  SpinLockHolder hold(g_registry_lock);
  for (std::size_t i = 0; i < g_range_count; ++i) {
    if (g_ranges[i].begin == begin) {
      g_ranges[i] = g_ranges[--g_range_count];
      return;
    }
  }
}

}  // namespace

ErrnoKeeper::ErrnoKeeper() : saved_(errno) {}
ErrnoKeeper::~ErrnoKeeper() { errno = saved_; }

void* internal_map(std::size_t bytes) {
  ErrnoKeeper keep_errno;
  const std::size_t length = round_to_pages(bytes);
  const long mapped = syscall(SYS_mmap, nullptr, length, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mapped == -1) {
    return nullptr;
  }
  const auto begin = static_cast<uintptr_t>(mapped);
  remember(begin, begin + length);
  return reinterpret_cast<void*>(begin);
}

void internal_unmap(void* address, std::size_t bytes) {
  if (address == nullptr) {
    return;
  }
  ErrnoKeeper keep_errno;
  forget(reinterpret_cast<uintptr_t>(address));
  syscall(SYS_munmap, address, round_to_pages(bytes));
}

void for_each_internal_range(void (*fn)(uintptr_t begin, uintptr_t end, void* ctx), void* ctx) {
  // Copied out first: fn may itself map (the reporter's work lists), which takes the lock.
  Range copy[64];
  for (std::size_t done = 0;;) {
    std::size_t n = 0;
    {
      SpinLockHolder hold(g_registry_lock);
      for (; n < 64 && done + n < g_range_count; ++n) {
        copy[n] = g_ranges[done + n];
      }
    }
    if (n == 0) {
      return;
    }
    for (std::size_t i = 0; i < n; ++i) {
      fn(copy[i].begin, copy[i].end, ctx);
    }
    done += n;
  }
}

void lock_internal_memory() { g_registry_lock.lock(); }
void unlock_internal_memory() { g_registry_lock.unlock(); }

void* BumpArena::allocate(std::size_t bytes, std::size_t alignment) {
  uintptr_t at = (cursor_ + alignment - 1) & ~(alignment - 1);
  if (cursor_ == 0 || at + bytes > end_) {
    constexpr std::size_t kChunk = 1 << 20;
    const std::size_t length = bytes + alignment > kChunk ? bytes + alignment : kChunk;
    void* chunk = internal_map(length);
    if (chunk == nullptr) {
      return nullptr;
    }
    cursor_ = reinterpret_cast<uintptr_t>(chunk);
    end_ = cursor_ + round_to_pages(length);
    at = (cursor_ + alignment - 1) & ~(alignment - 1);
  }
  cursor_ = at + bytes;
  return reinterpret_cast<void*>(at);
}

}  // namespace memkit::check_rt
