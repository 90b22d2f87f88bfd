// tracker_thread.h — the tracker's per-thread state: the re-entry flag, the thread's stack bounds
// and its cache of recent stacks.
//
// Not a thread_local: a TLS block in the runtime would add a module to every thread's dynamic
// thread vector, which glibc callocs per thread, so every threaded program would show 16 bytes
// more per thread than under valgrind (whose preloaded code has no TLS). Instead each thread's
// state lives in a slot of a fixed table found by hashing the thread pointer (%fs:0, unique per
// live thread): one load, a multiply and a compare on the fast path. A thread's slot is released
// by a pthread key destructor when it exits; beyond kThreadSlots threads at once, the extra
// threads run untracked (their allocations go to glibc uncounted).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace memkit::check_rt {

// A direct-mapped cache of the stacks this thread captured lately: stack hash → depot id. A hit
// skips the depot (its shared buckets and the frame-by-frame comparison), trusting the 64-bit
// hash: two different stacks colliding on it is a 2^-64 event per pair.
struct StackCacheEntry {
  uint64_t hash;
  uint32_t id;
};
constexpr uint32_t kStackCacheSize = 64;

struct TrackerThread {
  // Set while the thread runs tracker code or sits in a ScopedUntracked: its allocations then go
  // straight to glibc. Also what makes a signal handler that allocates while this thread holds a
  // table lock fall through instead of spinning on the lock forever.
  bool untracked = false;
  // The thread's stack, for the frame-pointer walk. stack_top 0: not looked up yet; 1: unknown
  // (only the frames the tracker itself pushed are trusted).
  uintptr_t stack_top = 0;
  uintptr_t stack_bottom = 0;
  StackCacheEntry stack_cache[kStackCacheSize] = {};
};

struct ThreadSlot {
  std::atomic<uintptr_t> owner{0};  // the owning thread's thread pointer; 0: free
  TrackerThread state;
};
constexpr std::size_t kThreadSlotBits = 12;
constexpr std::size_t kThreadSlots = std::size_t{1} << kThreadSlotBits;
extern ThreadSlot g_thread_slots[kThreadSlots];

// The slow path: probes for the thread's slot or claims a free one (always untracked state when
// the table is full).
TrackerThread& claim_thread_slot(uintptr_t self);
// Lets exiting threads give their slots back (a pthread key destructor); once libc is up.
void install_thread_slot_release();

inline std::size_t home_thread_slot(uintptr_t self) {
  // Thread pointers of threads with equal stacks differ only in high bits: multiply to mix them
  // into the top bits, which index the table.
  return static_cast<std::size_t>((self * 0x9E3779B97F4A7C15ull) >> (64 - kThreadSlotBits));
}

__attribute__((always_inline)) inline TrackerThread& tracker_thread() {
  const auto self = reinterpret_cast<uintptr_t>(__builtin_thread_pointer());
  ThreadSlot& slot = g_thread_slots[home_thread_slot(self)];
  if (__builtin_expect(slot.owner.load(std::memory_order_relaxed) == self, 1)) return slot.state;
  return claim_thread_slot(self);
}

// Sets the calling thread's untracked flag for a scope and restores the previous value; the
// tracker's own counterpart of ScopedUntracked, inline so the fast paths pay one store each way.
class ReentryGuard {
 public:
  ReentryGuard() : thread_(tracker_thread()), was_untracked_(thread_.untracked) {
    thread_.untracked = true;
  }
  ~ReentryGuard() { thread_.untracked = was_untracked_; }
  ReentryGuard(const ReentryGuard&) = delete;
  ReentryGuard& operator=(const ReentryGuard&) = delete;

 private:
  TrackerThread& thread_;
  bool was_untracked_;
};

// Saves errno and puts it back: the slow paths make system calls, and every interposed function
// must leave errno as glibc would.
class ErrnoKeeper {
 public:
  ErrnoKeeper();
  ~ErrnoKeeper();
  ErrnoKeeper(const ErrnoKeeper&) = delete;
  ErrnoKeeper& operator=(const ErrnoKeeper&) = delete;

 private:
  int saved_;
};

}  // namespace memkit::check_rt
