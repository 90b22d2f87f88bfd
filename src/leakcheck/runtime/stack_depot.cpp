// The stack depot: a chained hash table of immutable nodes (lock-free to read) plus an id → node
// directory. Memory: one node per distinct stack (24 bytes + 8 per frame) and 8 bytes per id;
// the bucket array is 2 MiB of address space, touched only where stacks land.
#include "stack_depot.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "internal_memory.h"
#include "tracker_spinlock.h"
#include "tracker_state.h"
#include "tracker_thread.h"

extern "C" void* __libc_stack_end;  // glibc: the initial stack pointer of the main thread

namespace memkit::check_rt {
namespace {

struct StackNode {
  StackNode* next;
  uint64_t hash;
  uint32_t id;
  uint32_t depth;
  // The depth frames follow the node in the same allocation.
  uintptr_t* frames() { return reinterpret_cast<uintptr_t*>(this + 1); }
  const uintptr_t* frames() const { return reinterpret_cast<const uintptr_t*>(this + 1); }
};

constexpr uint32_t kBucketBits = 18;
constexpr uint32_t kDirectoryChunkBits = 12;
constexpr uint32_t kDirectoryChunk = 1u << kDirectoryChunkBits;
constexpr uint32_t kDirectoryChunks = (kMaxStackId + kDirectoryChunk) / kDirectoryChunk;

std::atomic<StackNode*>* g_buckets = nullptr;
std::atomic<StackNode**> g_directory[kDirectoryChunks];
std::atomic<uint32_t> g_stack_count{0};
SpinLock g_insert_lock;
BumpArena g_nodes;

bool same_stack(const StackNode* node, const uintptr_t* frames, uint32_t depth, uint64_t hash) {
  return node->hash == hash && node->depth == depth &&
         std::memcmp(node->frames(), frames, depth * sizeof(uintptr_t)) == 0;
}

StackNode* find(StackNode* node, const uintptr_t* frames, uint32_t depth, uint64_t hash) {
  for (; node != nullptr; node = node->next) {
    if (same_stack(node, frames, depth, hash)) {
      return node;
    }
  }
  return nullptr;
}

// Publishes `node` under the next id. Called with g_insert_lock held.
bool assign_id(StackNode* node) {
  const uint32_t id = g_stack_count.load(std::memory_order_relaxed) + 1;
  if (id > kMaxStackId) {
    return false;
  }
  const uint32_t chunk = (id - 1) >> kDirectoryChunkBits;
  StackNode** entries = g_directory[chunk].load(std::memory_order_relaxed);
  if (entries == nullptr) {
    entries = static_cast<StackNode**>(internal_map(kDirectoryChunk * sizeof(StackNode*)));
    if (entries == nullptr) {
      return false;
    }
    g_directory[chunk].store(entries, std::memory_order_release);
  }
  node->id = id;
  entries[(id - 1) & (kDirectoryChunk - 1)] = node;
  g_stack_count.store(id, std::memory_order_release);
  return true;
}

// The bounds of the calling thread's stack, looked up once per thread. pthread_getattr_np
// allocates, which is fine: the caller runs with the re-entry flag set.
void look_up_thread_stack(TrackerThread& thread) {
  ErrnoKeeper keep_errno;
  thread.stack_top = 1;
  if (getpid() == gettid()) {
    // The main stack grows down from __libc_stack_end; everything between a frame on it and the
    // top is mapped. Its lowest possible address is top - RLIMIT_STACK (capped: "unlimited").
    const auto top = reinterpret_cast<uintptr_t>(__libc_stack_end);
    rlimit limit{};
    uintptr_t size = uintptr_t{1} << 30;
    if (getrlimit(RLIMIT_STACK, &limit) == 0 && limit.rlim_cur < size) {
      size = limit.rlim_cur;
    }
    thread.stack_bottom = top > size ? top - size : 0;
    thread.stack_top = top;
    return;
  }
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) == 0) {
    void* low = nullptr;
    std::size_t size = 0;
    if (pthread_attr_getstack(&attributes, &low, &size) == 0) {
      thread.stack_bottom = reinterpret_cast<uintptr_t>(low);
      thread.stack_top = reinterpret_cast<uintptr_t>(low) + size;
    }
    pthread_attr_destroy(&attributes);
  }
}

// The highest address a frame may occupy, or 1 when the walk must not leave the tracker's own
// frames: the thread's stack is unknown, or this frame is not on it (a signal's alternate stack,
// a coroutine's stack), where a saved frame pointer could lead into unmapped memory.
uintptr_t walk_limit(const uintptr_t* frame) {
  TrackerThread& thread = tracker_thread();
  if (thread.stack_top == 0) [[unlikely]] {
    look_up_thread_stack(thread);
  }
  const auto here = reinterpret_cast<uintptr_t>(frame);
  return here >= thread.stack_bottom && here < thread.stack_top ? thread.stack_top : 1;
}

}  // namespace

bool stack_depot_initialize() {
  if (g_buckets == nullptr) {
    g_buckets = static_cast<std::atomic<StackNode*>*>(
        internal_map((std::size_t{1} << kBucketBits) * sizeof(std::atomic<StackNode*>)));
  }
  return g_buckets != nullptr;
}

uint32_t stack_depot_intern(const uintptr_t* frames, uint32_t depth, uint64_t hash) {
  if (g_buckets == nullptr) [[unlikely]] {
    return 0;
  }
  std::atomic<StackNode*>& bucket = g_buckets[hash >> (64 - kBucketBits)];
  if (const StackNode* hit = find(bucket.load(std::memory_order_acquire), frames, depth, hash)) {
    return hit->id;
  }
  SpinLockHolder hold(g_insert_lock);
  StackNode* head = bucket.load(std::memory_order_acquire);
  if (const StackNode* hit = find(head, frames, depth, hash)) {
    return hit->id;  // another thread inserted it meanwhile
  }
  auto* node = static_cast<StackNode*>(
      g_nodes.allocate(sizeof(StackNode) + depth * sizeof(uintptr_t), alignof(StackNode)));
  if (node == nullptr) {
    return 0;
  }
  node->next = head;
  node->hash = hash;
  node->depth = depth;
  std::memcpy(node->frames(), frames, depth * sizeof(uintptr_t));
  if (!assign_id(node)) {
    return 0;  // the node's memory is simply not reused: the depot is full for good
  }
  bucket.store(node, std::memory_order_release);
  return node->id;
}

__attribute__((noinline)) uint32_t capture_stack_id(uintptr_t frame0, bool keep_own_pc) {
  CapturedStack stack;
  uint64_t hash;
  const uint32_t limit = tracker_options().num_callers;
  const auto* frame = static_cast<const uintptr_t*>(__builtin_frame_address(0));
  const uintptr_t top = walk_limit(frame);
  if (frame0 == 0) [[likely]] {
    stack.depth = walk_frame_pointers(frame, top, stack.frames, limit, &hash);
  } else {
    // frames[0] replaced by frame0; with keep_own_pc the pc inside the interposed function moves
    // to frames[1], a return address from a call, as the symbolizer (reading ra - 1) takes it.
    const uint32_t skip = keep_own_pc ? 1 : 0;
    stack.depth = walk_frame_pointers(frame, top, stack.frames + skip,
                                      limit < kMaxStackDepth ? limit : kMaxStackDepth - 1, &hash) +
                  skip;
    if (stack.depth > limit) {
      stack.depth = limit;
    }
    stack.frames[0] = frame0;
    hash = hash_frames(stack.frames, stack.depth);
  }
  StackCacheEntry& cached = tracker_thread().stack_cache[(hash ^ (hash >> 29)) % kStackCacheSize];
  if (cached.hash == hash && cached.id != 0) [[likely]] {
    return cached.id;
  }
  const uint32_t id = stack_depot_intern(stack.frames, stack.depth, hash_finish(hash));
  cached = StackCacheEntry{hash, id};
  return id;
}

void lock_stack_depot() { g_insert_lock.lock(); }
void unlock_stack_depot() { g_insert_lock.unlock(); }

Stack stack(uint32_t id) {
  if (id == 0 || id > g_stack_count.load(std::memory_order_acquire)) {
    return Stack{};
  }
  const StackNode* const* entries =
      g_directory[(id - 1) >> kDirectoryChunkBits].load(std::memory_order_acquire);
  const StackNode* node = entries[(id - 1) & (kDirectoryChunk - 1)];
  return Stack{node->frames(), node->depth};
}

uint32_t stack_count() { return g_stack_count.load(std::memory_order_acquire); }

}  // namespace memkit::check_rt
