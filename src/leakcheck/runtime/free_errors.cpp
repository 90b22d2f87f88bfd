// Free errors and the quarantine. Both are off the fast path: errors are rare, and the quarantine
// exists only when MEMKIT_FREELIST_VOL asks for it.
//
// Why the default MEMKIT_FREELIST_VOL is 0 (valgrind's is 20 MB): a quarantine costs a global lock
// per free and, worse, denies glibc its hot, just-freed chunks, so every allocation touches cold
// memory. Measured on bench/leakcheck/alloc_loop.c (10 M pairs, frame pointers): 3.6x native
// without a quarantine, 13x with 20 MB. Without it, a double free is still caught with both
// stacks whenever the address has not been handed out again — the usual case of freeing twice in
// a row; what is missed is a stale pointer freed after its address was reused, which then
// releases the new owner's block. Users hunting that set the volume.
#include "free_errors.h"

#include <atomic>

#include "block_table.h"
#include "internal_memory.h"
#include "tracker_libc.h"
#include "tracker_spinlock.h"
#include "tracker_state.h"

namespace memkit::check_rt {
namespace {

SpinLock g_errors_lock;
FreeError* g_errors = nullptr;              // kMaxRecordedErrors entries, mapped at the first error
std::atomic<std::size_t> g_error_count{0};  // entries below it are complete and never change
std::atomic<uint64_t> g_errors_dropped{0};

void record(const FreeError& error) {
  SpinLockHolder hold(g_errors_lock);
  if (g_errors == nullptr) {
    g_errors = static_cast<FreeError*>(internal_map(sizeof(FreeError) * kMaxRecordedErrors));
  }
  const std::size_t count = g_error_count.load(std::memory_order_relaxed);
  if (g_errors == nullptr || count == kMaxRecordedErrors) {
    g_errors_dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  g_errors[count] = error;
  g_error_count.store(count + 1, std::memory_order_release);
}

// The quarantine: a ring of parked blocks, oldest first, grown by doubling.
struct Parked {
  void* address;
  std::size_t size;
};
SpinLock g_quarantine_lock;
Parked* g_parked = nullptr;
std::size_t g_parked_capacity = 0;  // a power of two
std::size_t g_parked_head = 0;      // index of the oldest
std::size_t g_parked_count = 0;
uint64_t g_parked_bytes = 0;

bool make_room_to_park() {
  if (g_parked_count < g_parked_capacity) {
    return true;
  }
  const std::size_t capacity = g_parked_capacity == 0 ? 4096 : g_parked_capacity * 2;
  auto* parked = static_cast<Parked*>(internal_map(capacity * sizeof(Parked)));
  if (parked == nullptr) {
    return false;
  }
  for (std::size_t i = 0; i < g_parked_count; ++i) {
    parked[i] = g_parked[(g_parked_head + i) & (g_parked_capacity - 1)];
  }
  internal_unmap(g_parked, g_parked_capacity * sizeof(Parked));
  g_parked = parked;
  g_parked_capacity = capacity;
  g_parked_head = 0;
  return true;
}

}  // namespace

void report_mismatched_free(FreeKind operation, uint32_t stack_id, const Block& block) {
  FreeError error;
  error.kind = FreeErrorKind::mismatched_free;
  error.operation = operation;
  error.address = block.address;
  error.stack_id = stack_id;
  error.has_block = true;
  error.block = block;
  record(error);
}

void report_invalid_free(FreeKind operation, uintptr_t address, uint32_t stack_id,
                         std::size_t realloc_bytes) {
  count_invalid_release(address, operation == FreeKind::realloc, realloc_bytes);
  FreeError error;
  error.kind = FreeErrorKind::invalid_free;
  error.operation = operation;
  error.address = address;
  error.stack_id = stack_id;
  // The most telling description first: freed at exactly this address (a double free), then
  // inside a live block (an interior pointer), then inside a freed one.
  FreedBlock freed;
  if (find_freed_block(address, false, &freed) ||
      (!find_containing_block(address, &error.block) && find_freed_block(address, true, &freed))) {
    error.has_block = true;
    error.block_was_freed = true;
    error.block = freed.block;
    error.freed_stack_id = freed.free_stack_id;
  } else if (error.block.address != 0) {
    error.has_block = true;
  }
  record(error);
}

void quarantine(void* address, std::size_t size) {
  const uint64_t volume = tracker_options().freelist_vol;
  void* to_free[16];
  std::size_t count = 0;
  {
    SpinLockHolder hold(g_quarantine_lock);
    if (!make_room_to_park()) {
      to_free[count++] = address;  // no memory for the ring: no quarantine for this block
    } else {
      // Charged with glibc's chunk overhead too, so that parked malloc(0)s are not free of charge.
      const std::size_t charge = size + 16;
      g_parked[(g_parked_head + g_parked_count++) & (g_parked_capacity - 1)] =
          Parked{address, charge};
      g_parked_bytes += charge;
    }
    // At most 16 per call (glibc is called outside the lock); the rest leave on later frees.
    while (g_parked_bytes > volume && g_parked_count > 0 && count < 16) {
      const Parked oldest = g_parked[g_parked_head];
      g_parked_head = (g_parked_head + 1) & (g_parked_capacity - 1);
      --g_parked_count;
      g_parked_bytes -= oldest.size;
      to_free[count++] = oldest.address;
    }
  }
  for (std::size_t i = 0; i < count; ++i) {
    __libc_free(to_free[i]);
  }
}

void for_each_free_error(void (*fn)(const FreeError& error, void* ctx), void* ctx) {
  // No lock: the reporter may call this while it holds the tracker locked.
  const std::size_t count = g_error_count.load(std::memory_order_acquire);
  for (std::size_t i = 0; i < count; ++i) {
    fn(g_errors[i], ctx);
  }
}

uint64_t free_errors_dropped() { return g_errors_dropped.load(std::memory_order_relaxed); }

void lock_free_errors() {
  g_errors_lock.lock();
  g_quarantine_lock.lock();
}

void unlock_free_errors() {
  g_quarantine_lock.unlock();
  g_errors_lock.unlock();
}

}  // namespace memkit::check_rt
