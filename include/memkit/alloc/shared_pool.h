// memkit/alloc/shared_pool.h — SharedPool<T>: a Pool<T> that many threads use at once.
//
// A Pool<T> is for one thread at a time. Putting a mutex around it would make every allocate and
// free a lock round trip: a checked SharedPool, which does that, costs 24–42 ns a pair on one
// thread against 6 ns with caches, and far more when threads contend. A SharedPool instead gives
// each thread that uses it a small cache of free slots (up to 32): allocate pops the cache and
// free pushes onto it, with no lock and no atomic read-modify-write. Only when a cache runs dry
// (or overflows) does the thread lock the central pool and move a batch of 16 slots, so one lock
// serves 16 operations. A batch keeps its order, so a thread allocates back in the reverse order
// it freed, as from a Pool. This is the design of tcmalloc's and mimalloc's thread-local free
// lists, for one size.
//
//   memkit::SharedPool<Request> requests;
//   std::thread worker([&] {
//     Request* r = requests.make(42);     // from this thread's cache
//     queue.push(r);                      // handed to another thread ...
//   });
//   Request* r = queue.pop();
//   requests.destroy(r);                  // ... which frees it into its own cache: that works
//
// A slot freed by a thread other than the one that allocated it simply joins the freeing
// thread's cache; slots flow back to the central pool in batches, so no thread's cache grows
// beyond 32.
//
// Thread exit: a thread's caches go back to their pools when the thread ends (a thread_local
// destructor), so a pool loses nothing to threads that come and go. flush_thread_cache()
// returns the calling thread's cache early, for a thread that will sit idle for long.
//
// Pool destruction while other threads still hold caches is allowed: ~SharedPool takes every
// cache's slots back (and runs ~T() for the objects still live, as ~Pool does), and marks the
// caches as orphaned, so a thread that exits later forgets them without touching the dead pool.
// Each pool has a 64-bit id that is never reused, and a thread finds its cache by that id, so a
// new pool at a dead pool's address is never mistaken for it. As with any object, the pool must
// not be destroyed while another thread is still calling it.
//
// Checks: a checked SharedPool (PoolOptions::checked; the default in debug builds) keeps no
// thread caches. Every operation locks the central pool, which then detects a double free or a
// foreign pointer exactly, across threads, as a checked Pool does. The stats of a checked pool
// are exact; with caches, counts are exact whenever no thread is inside the pool, and peak_bytes
// is the most slots ever handed out of the central pool — an upper bound on the peak of live
// objects, because cached slots count as out.
#ifndef MEMKIT_ALLOC_SHARED_POOL_H_
#define MEMKIT_ALLOC_SHARED_POOL_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <new>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "memkit/alloc/pool.h"
#include "memkit/alloc/stats.h"
#include "memkit/base/config.h"
#include "memkit/base/sanitizers.h"
#include "memkit/base/type_name.h"
#include "memkit/export.h"

namespace memkit {
namespace detail {

class SharedPoolCore;

// One thread's free slots for one SharedPool. Only the owning thread touches `size` and `slots`
// while the pool lives; `pool` is read and written under the registry mutex (src/alloc/pool.cpp);
// memory_stats() reads the counters from any thread.
struct ThreadCache {
  static constexpr std::uint32_t kCapacity = 32;
  static constexpr std::uint32_t kBatch = 16;  // slots moved per trip to the central pool

  // Counts one event. Only the owning thread writes, so a load and a store suffice (no lock
  // prefix); a reader on another thread sees a value that was true at some point.
  static void bump(std::atomic<std::uint64_t>& counter) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }

  std::uint64_t pool_id = 0;
  SharedPoolCore* pool = nullptr;  // null once the pool is destroyed
  std::uint32_t size = 0;
  std::atomic<std::uint64_t> allocations{0};
  std::atomic<std::uint64_t> frees{0};
  void* slots[kCapacity];
};

// The cache this thread used last, and for which pool: one compare finds it again. Defined in
// src/alloc/pool.cpp (one copy per program, also with a shared libmemkit); constinit and
// trivially destructible, so reading it is a plain TLS load, without an initialization guard.
struct LastThreadCache {
  std::uint64_t pool_id = 0;
  ThreadCache* cache = nullptr;
};
extern MEMKIT_EXPORT constinit thread_local LastThreadCache last_thread_cache;

// SharedPoolCore — the type-independent SharedPool: a PoolCore behind a mutex, plus the thread
// caches.
class MEMKIT_EXPORT SharedPoolCore {
 public:
  // The id of a pool that keeps no caches (checked, or being destroyed): no thread's
  // last_thread_cache ever holds it, so the fast path never matches.
  static constexpr std::uint64_t kUncached = std::numeric_limits<std::uint64_t>::max();

  SharedPoolCore(PoolCore::SlotLayout layout, std::string_view type_name,
                 const PoolOptions& options);
  SharedPoolCore(const SharedPoolCore&) = delete;
  SharedPoolCore& operator=(const SharedPoolCore&) = delete;
  ~SharedPoolCore();

  void* allocate() {
    ThreadCache* cache = thread_cache();
    if (MEMKIT_LIKELY(cache != nullptr)) {
      if (MEMKIT_UNLIKELY(cache->size == 0)) refill(*cache);
      return pop(*cache);
    }
    return allocate_locked();
  }

  void* try_allocate() noexcept {
    ThreadCache* cache = thread_cache();
    if (MEMKIT_LIKELY(cache != nullptr)) {
      if (MEMKIT_UNLIKELY(cache->size == 0) && !try_refill(*cache)) return nullptr;
      return pop(*cache);
    }
    return try_allocate_locked();
  }

  void free(void* slot, PoolOperation operation) {
    ThreadCache* cache = thread_cache();
    if (MEMKIT_LIKELY(cache != nullptr)) {
      if (MEMKIT_UNLIKELY(cache->size == ThreadCache::kCapacity)) flush_batch(*cache);
      poison_memory(slot, slot_size_);
      cache->slots[cache->size++] = slot;
      ThreadCache::bump(cache->frees);
      return;
    }
    free_locked(slot, operation);
  }

  // As PoolCore::claim(), under the lock.
  bool claim(const void* slot, PoolOperation operation);

  // Detaches every thread cache, taking its slots back; from here on every operation takes the
  // lock. Then runs destroy(slot) for every live slot (if destroy is not null).
  void shut_down(void (*destroy)(void* slot) noexcept) noexcept;

  void flush_thread_cache();
  bool caching() const noexcept { return caching_; }
  // Whether destroy() must claim() first: a checked pool, and any pool while it is destroyed.
  // Changes only in shut_down(), when no other thread may be inside the pool.
  bool checking() const noexcept { return core_.checking(); }
  std::string_view name() const noexcept { return core_.name(); }
  std::size_t live() const;
  std::size_t cached_slots() const;
  MemoryStats memory_stats() const;

  // Thread exit (src/alloc/pool.cpp): gives a cache's slots and counts back. Registry mutex held.
  void retire(ThreadCache& cache) noexcept;

 private:
  ThreadCache* thread_cache() noexcept {
    // Named directly, not bound to a reference: with a reference, g++ 12 -O1 -fsanitize=null
    // checked a stale copy of the thread pointer and reported a null that was not there.
    if (MEMKIT_LIKELY(last_thread_cache.pool_id == id_)) return last_thread_cache.cache;
    return thread_cache_slow();
  }

  // Finds or makes this thread's cache and remembers it in last_thread_cache; null when the
  // pool keeps no caches or the thread is exiting (then the caller takes the lock).
  ThreadCache* thread_cache_slow() noexcept;

  void* pop(ThreadCache& cache) noexcept {
    void* slot = cache.slots[--cache.size];
    unpoison_memory(slot, slot_size_);
    ThreadCache::bump(cache.allocations);
    return slot;
  }

  void take_batch(ThreadCache& cache, void* first) noexcept;  // mutex_ held; cache empty
  void refill(ThreadCache& cache);
  bool try_refill(ThreadCache& cache) noexcept;
  void flush_batch(ThreadCache& cache) noexcept;
  void give_back(ThreadCache& cache, std::uint32_t slots) noexcept;  // mutex_ held
  void* allocate_locked();
  void* try_allocate_locked() noexcept;
  void free_locked(void* slot, PoolOperation operation);
  void fold_counts(const ThreadCache& cache) noexcept;  // mutex_ held

  std::uint64_t id_;
  std::size_t slot_size_;
  bool caching_;
  mutable std::mutex mutex_;  // guards core_ and the central counts
  PoolCore core_;
  // User counts held by no attached cache: caches that went away, and calls that took the lock.
  std::uint64_t central_allocations_ = 0;
  std::uint64_t central_frees_ = 0;
  std::vector<ThreadCache*> caches_;  // guarded by the registry mutex
};

}  // namespace detail

template <class T>
class SharedPool : public detail::TypedPool<T, detail::SharedPoolCore> {
  using Base = detail::TypedPool<T, detail::SharedPoolCore>;

 public:
  // Free slots a thread keeps for this pool, and how many move per trip to the central pool.
  static constexpr std::size_t thread_cache_slots = detail::ThreadCache::kCapacity;
  static constexpr std::size_t thread_cache_batch = detail::ThreadCache::kBatch;

  SharedPool() : SharedPool(PoolOptions{}) {}
  explicit SharedPool(const PoolOptions& options) : Base(type_name<SharedPool>(), options) {}
  // Not movable: threads find their caches through the pool's address.
  SharedPool(const SharedPool&) = delete;
  SharedPool& operator=(const SharedPool&) = delete;

  // ~SharedPool() — takes back every thread's cache, runs ~T() for every live object (in address
  // order), then returns the chunks upstream. No other thread may be inside the pool meanwhile.
  ~SharedPool() {
    if constexpr (std::is_trivially_destructible_v<T>) {
      this->core_.shut_down(nullptr);
    } else {
      this->core_.shut_down(&Base::destroy_slot);
    }
  }

  // flush_thread_cache() — gives the calling thread's cached slots back to the central pool.
  void flush_thread_cache() { this->core_.flush_thread_cache(); }

  // live() — objects allocated and not freed, over all threads. Exact when no thread is inside
  // the pool; a recent value otherwise.
  std::size_t live() const { return this->core_.live(); }
  // cached_slots() — free slots sitting in thread caches (always 0 for a checked pool).
  std::size_t cached_slots() const { return this->core_.cached_slots(); }
  bool checked() const noexcept { return !this->core_.caching(); }
};

}  // namespace memkit

#endif  // MEMKIT_ALLOC_SHARED_POOL_H_
