// memkit/alloc/pool.h — Pool<T>: many objects of one type, each in a fixed-size slot.
//
// A program that makes and drops millions of nodes, particles or requests of one type pays a
// general-purpose malloc for work it does not need: size classes, headers, thread handling. A
// Pool<T> hands out slots of exactly one size. A free slot stores the address of the next free
// slot in its own first word (an intrusive free list), so allocate() pops and free() pushes: a
// few instructions each, O(1): 2–3 ns for a pair on the machine where glibc's malloc+free takes
// ≈10 ns and mimalloc's ≈8.6 ns (docs/alloc/pool.md has the measurements).
//
//   struct Particle { float x, y, dx, dy; int ttl; };
//   memkit::Pool<Particle> pool;
//   Particle* spark = pool.make(Particle{0, 0, 1, 2, 60});   // allocate + construct
//   pool.destroy(spark);                                      // ~Particle() + free
//   Particle* next = pool.make(Particle{5, 5, 0, 1, 30});     // the same slot comes back
//
// Memory comes from an upstream std::pmr::memory_resource in chunks: 64 slots first, each chunk
// twice the last, up to 4096 slots (PoolOptions). A fresh chunk is not walked to build a free
// list; its slots are carved off one by one when the free list is empty, so the free list only
// ever holds slots that were used and given back. Chunks go back upstream when the pool dies,
// never before: a pool's footprint is its high-water mark.
//
// allocate() and free() are the raw forms (an uninitialized slot; no destructor). make() and
// destroy() construct and destroy too, and make() gives the slot back if the constructor throws:
//
//   Particle* raw = pool.allocate();          // throws memkit::AllocError if upstream fails
//   Particle* maybe = pool.try_allocate();    // nullptr instead
//   pool.free(raw);
//
// Misuse. A checked pool (PoolOptions::checked, on by default in debug builds) keeps a bit per
// slot and an address-sorted index of its chunks, and answers a bad free() or destroy() with
// memkit::InvalidFree before anything changes:
//
//   pool.free(spark); pool.free(spark);
//   // memkit::Pool<Particle>: free(0x5581a2c0) failed: double free (the slot is already free)
//   pool.free(&some_stack_particle);
//   // memkit::Pool<Particle>: free(0x7ffc...) failed: the pointer is not a slot of this pool
//
// An unchecked pool trusts its caller: free() is a push and nothing else. Under AddressSanitizer
// every free slot and every slot not yet handed out is poisoned, so a read through a freed
// pointer stops the program with "use-after-poison", checked or not.
//
// When the pool is destroyed, ~T() runs for every object still live (in address order, as
// boost::object_pool does), then the chunks go back upstream. "Live" means allocated and not
// freed: a slot taken with allocate() must hold a constructed T by then, or be freed. Those
// destructors may destroy() other objects of the pool (a tree node its children): each object
// dies once, whichever ~Pool reaches first. An unchecked pool finds its live slots by walking
// the free list once, at destruction, so its allocate and free never pay for that. Using a
// pointer into a destroyed pool is a use after free (ASan reports it: the chunks are gone).
//
// A Pool is for one thread at a time, like a std::vector. SharedPool<T> (shared_pool.h) is the
// thread-safe variant, with a small cache of free slots per thread.
#ifndef MEMKIT_ALLOC_POOL_H_
#define MEMKIT_ALLOC_POOL_H_

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "memkit/alloc/stats.h"
#include "memkit/base/config.h"
#include "memkit/base/sanitizers.h"
#include "memkit/base/type_name.h"
#include "memkit/export.h"

namespace memkit {

// PoolOptions — how a Pool<T> (or SharedPool<T>) grows, checks and names itself. A pool checks
// its options when it is made and throws memkit::AllocError (with the slot's size and alignment
// in the message) for a zero slots_per_chunk, a max_slots_per_chunk below it, a chunk size that
// overflows std::size_t, or a null upstream.
struct PoolOptions {
  // Slots in the first chunk. Each further chunk holds twice as many, up to max_slots_per_chunk.
  std::size_t slots_per_chunk = 64;
  std::size_t max_slots_per_chunk = 4096;
  // Detect double free and frees of pointers that are not slots of this pool (InvalidFree). Costs
  // a binary search over the chunks and a bit flip per allocate and free. On by default in debug
  // builds, off in release builds; set it to choose.
  bool checked = MEMKIT_DEBUG != 0;
  // Replaces "memkit::Pool<T>" (or "memkit::SharedPool<T>") in messages and in
  // memory_stats().source. Empty: the name of the type.
  std::string name;
  // Where chunks and the chunk index come from.
  std::pmr::memory_resource* upstream = std::pmr::new_delete_resource();
};

namespace detail {

// Which public operation a free came from; it names the operation in an InvalidFree message.
enum class PoolOperation : unsigned char { kFree, kDestroy };

// One chunk from upstream: [live bitmap, 1 bit per slot][padding to the slot alignment][slots].
struct PoolChunk {
  std::byte* block;  // what upstream returned; the bitmap starts here
  std::byte* slots;  // the first slot
  std::byte* end;    // one past the last slot
  std::size_t bytes;
};

// PoolCore — the type-independent part of Pool<T> and SharedPool<T>: slots of one size and
// alignment, the free list, chunk growth, checks, poisoning and stats. Pool<T> adds the types.
//
// Invariants:
//   * a slot is free iff it is on free_list_, or at or past carve_ in the newest chunk;
//   * the free list is used before carving, so a new slot is carved only when every carved slot
//     is live: the number of slots ever carved is exactly the peak of live slots;
//   * when checking_, bit i of a chunk's bitmap is set iff slot i is live.
class MEMKIT_EXPORT PoolCore {
 public:
  struct SlotLayout {
    std::size_t object_size;  // sizeof(T)
    std::size_t slot_size;    // sizeof(T) rounded up to hold a pointer and to the alignment
    std::size_t alignment;    // of every slot: alignof(T), at least alignof(void*)
  };

  // `type_name` ("memkit::Pool<Node>") must be a string of static storage, as type_name<>() is.
  PoolCore(SlotLayout layout, std::string_view type_name, const PoolOptions& options);
  PoolCore(const PoolCore&) = delete;
  PoolCore& operator=(const PoolCore&) = delete;
  // The moved-from core is empty (no chunks, zero counts, named after its type) and can grow.
  PoolCore(PoolCore&& other) noexcept;
  PoolCore& operator=(PoolCore&& other) noexcept;
  // Gives every chunk back to upstream. Runs no destructor: Pool<T> does that first.
  ~PoolCore();

  // Fast path: pop the free list, else carve from the newest chunk; everything else (a new
  // chunk, a checked pool) is out of line.
  void* allocate() {
    if (MEMKIT_LIKELY(!checking_)) {
      if (MEMKIT_LIKELY(free_list_ != nullptr)) return pop();
      if (MEMKIT_LIKELY(carve_ != carve_end_)) return carve();
    }
    return allocate_slow();
  }

  void* try_allocate() noexcept {
    if (MEMKIT_LIKELY(!checking_)) {
      if (MEMKIT_LIKELY(free_list_ != nullptr)) return pop();
      if (MEMKIT_LIKELY(carve_ != carve_end_)) return carve();
    }
    return try_allocate_slow();
  }

  // Unchecked: a push. Checked: throws InvalidFree, changing nothing, unless `slot` is live.
  void free(void* slot, PoolOperation operation) {
    if (MEMKIT_UNLIKELY(checking_)) return free_checked(slot, operation);
    push(slot);
    ++frees_;
  }

  // Checked pools only, before ~T(): true if `slot` is live. Throws InvalidFree if it is not a
  // slot of this pool, or is free — except while destroy_live() runs, when a slot it already
  // destroyed answers false and the caller does nothing (each object dies once, in any order).
  bool claim(const void* slot, PoolOperation operation) const;

  // Calls destroy(slot) for every live slot, in address order, and frees it. Switches the pool to
  // checked mode first (building the bitmap from the free list if it was unchecked), so that a
  // destructor may destroy() other objects of this pool, whether or not they died already.
  void destroy_live(void (*destroy)(void* slot) noexcept) noexcept;

  bool checking() const noexcept { return checking_; }
  std::size_t live() const noexcept { return static_cast<std::size_t>(allocations_ - frees_); }
  std::size_t slot_size() const noexcept { return slot_size_; }
  std::string_view name() const noexcept {
    return custom_name_.empty() ? type_name_ : std::string_view(custom_name_);
  }
  MemoryStats memory_stats() const;

 private:
  struct FreeSlot {
    FreeSlot* next;
  };

  void* pop() noexcept {
    FreeSlot* slot = free_list_;
    unpoison_memory(slot, slot_size_);
    free_list_ = slot->next;
    ++allocations_;
    return slot;
  }

  void* carve() noexcept {
    std::byte* slot = carve_;
    carve_ += slot_size_;
    unpoison_memory(slot, slot_size_);
    ++allocations_;
    return slot;
  }

  // Writes the link while the slot is addressable, then poisons the whole slot.
  void push(void* slot) noexcept {
    unpoison_memory(slot, sizeof(FreeSlot));
    free_list_ = ::new (slot) FreeSlot{free_list_};
    poison_memory(slot, slot_size_);
  }

  void* allocate_slow();
  void* try_allocate_slow() noexcept;
  void* allocate_checked();
  void free_checked(void* slot, PoolOperation operation);
  void grow();
  void release_chunks() noexcept;
  void reset_to_empty() noexcept;
  void build_live_bitmaps() noexcept;

  struct SlotRef {
    PoolChunk* chunk;
    std::size_t index;
  };
  PoolChunk* find_chunk(const void* address) const noexcept;
  std::byte* carved_end(const PoolChunk& chunk) const noexcept;
  SlotRef locate(const void* slot, PoolOperation operation) const;
  static bool is_live(SlotRef ref) noexcept;
  static void set_live(SlotRef ref, bool live) noexcept;
  std::uint64_t carved_slots() const noexcept;

  // Hot: every allocate and free reads or writes these.
  FreeSlot* free_list_ = nullptr;
  std::byte* carve_ = nullptr;  // the next slot to carve from the newest chunk
  std::byte* carve_end_ = nullptr;
  std::uint64_t allocations_ = 0;
  std::uint64_t frees_ = 0;
  std::size_t slot_size_;
  bool checking_;
  bool dying_ = false;  // destroy_live() is running

  // Cold: growth, checks, stats.
  std::size_t object_size_;
  std::size_t alignment_;
  std::size_t next_chunk_slots_;
  std::size_t max_chunk_slots_;
  std::pmr::memory_resource* upstream_;
  PoolChunk* chunks_ = nullptr;  // sorted by address, from upstream
  std::size_t chunk_count_ = 0;
  std::size_t chunk_capacity_ = 0;
  std::byte* newest_slots_ = nullptr;       // the first slot of the newest chunk
  std::uint64_t* newest_bits_ = nullptr;    // and its bitmap
  std::uint64_t carved_before_newest_ = 0;  // slots of every chunk but the newest
  std::uint64_t capacity_bytes_ = 0;        // bytes of all chunks
  std::uint64_t wasted_bytes_ = 0;          // bitmaps, padding and slot rounding
  std::string_view type_name_;              // static storage: "memkit::Pool<T>"
  std::string custom_name_;  // PoolOptions::name; a moved-from pool falls back to the type's
};

// The slot geometry of a T: room for T and for the free-list link, at T's alignment.
template <class T>
struct PoolSlot {
  static constexpr std::size_t alignment = alignof(T) > alignof(void*) ? alignof(T)
                                                                       : alignof(void*);
  static constexpr std::size_t size =
      ((sizeof(T) > sizeof(void*) ? sizeof(T) : sizeof(void*)) + alignment - 1) / alignment *
      alignment;
  static constexpr PoolCore::SlotLayout layout{sizeof(T), size, alignment};
};

// The largest alignment a pool slot may ask for: a chunk is aligned to it, so more would make
// every chunk waste up to that much.
inline constexpr std::size_t kMaxPoolAlignment = 4096;

}  // namespace detail

namespace detail {

// The typed face of both pools: slots of T over an untyped core (PoolCore, SharedPoolCore), so
// Pool<T> and SharedPool<T> differ only in what their cores do.
template <class T, class Core>
class TypedPool {
  static_assert(std::is_object_v<T> && !std::is_array_v<T>,
                "a memkit pool holds objects: T must be an object type and not an array (wrap an "
                "array in a struct)");
  static_assert(!std::is_const_v<T> && !std::is_volatile_v<T>,
                "a memkit pool hands out writable slots: T must not be const or volatile");
  static_assert(sizeof(T) > 0, "a memkit pool needs the size of T: T must be complete");
  static_assert(!std::is_abstract_v<T>, "a memkit pool makes objects of T: T must not be abstract");
  static_assert(alignof(T) <= kMaxPoolAlignment,
                "a memkit pool supports alignments up to 4096 bytes (one page)");

 public:
  using value_type = T;
  // Bytes per slot: sizeof(T) rounded up to hold a pointer and to slot_alignment.
  static constexpr std::size_t slot_size = PoolSlot<T>::size;
  static constexpr std::size_t slot_alignment = PoolSlot<T>::alignment;

  // allocate() — an uninitialized slot for one T. Throws AllocError when upstream cannot
  // provide a chunk.
  [[nodiscard]] T* allocate() { return static_cast<T*>(core_.allocate()); }

  // try_allocate() — as allocate(), but nullptr when no chunk can be had.
  [[nodiscard]] T* try_allocate() noexcept { return static_cast<T*>(core_.try_allocate()); }

  // free(slot) — gives a slot back without running ~T(). `slot` must come from this pool and be
  // live; a checked pool throws InvalidFree otherwise (and changes nothing).
  void free(T* slot) { core_.free(slot, PoolOperation::kFree); }

  // make(args...) — allocate() + T(args...). If the constructor throws, the slot is given back
  // and the exception propagates.
  template <class... Args>
  [[nodiscard]] T* make(Args&&... args) {
    void* slot = core_.allocate();
    if constexpr (std::is_nothrow_constructible_v<T, Args...>) {
      return ::new (slot) T(std::forward<Args>(args)...);
    } else {
      try {
        return ::new (slot) T(std::forward<Args>(args)...);
      } catch (...) {
        core_.free(slot, PoolOperation::kFree);
        throw;
      }
    }
  }

  // destroy(object) — ~T() + free(). A checked pool checks the pointer before ~T() runs. While
  // the pool's destructor runs, destroying an object it already destroyed does nothing.
  void destroy(T* object) {
    if (core_.checking() && !core_.claim(object, PoolOperation::kDestroy)) return;
    object->~T();
    core_.free(object, PoolOperation::kDestroy);
  }

  // name() — "memkit::Pool<T>" (or "memkit::SharedPool<T>"), or PoolOptions::name.
  std::string_view name() const noexcept { return core_.name(); }

  // memory_stats() — counts in slots of slot_size bytes (so live_bytes = live() * slot_size);
  // peak_bytes is exact (the pool carves a new slot only when every carved slot is live); the
  // footprint is the chunks: their bytes, how many, and the bytes spent on bitmaps, alignment
  // padding and rounding sizeof(T) up to slot_size.
  MemoryStats memory_stats() const { return core_.memory_stats(); }

 protected:
  TypedPool(std::string_view type_name, const PoolOptions& options)
      : core_(PoolSlot<T>::layout, type_name, options) {}

  static void destroy_slot(void* slot) noexcept { static_cast<T*>(slot)->~T(); }

  Core core_;
};

}  // namespace detail

template <class T>
class Pool : public detail::TypedPool<T, detail::PoolCore> {
  using Base = detail::TypedPool<T, detail::PoolCore>;

 public:
  Pool() : Pool(PoolOptions{}) {}
  explicit Pool(const PoolOptions& options) : Base(type_name<Pool>(), options) {}

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  // Moving takes the chunks, the objects in them and the counts; the moved-from pool is empty.
  Pool(Pool&&) noexcept = default;
  Pool& operator=(Pool&& other) noexcept {
    if (this != &other) {
      destroy_live_objects();
      this->core_ = std::move(other.core_);
    }
    return *this;
  }

  // ~Pool() — ~T() for every live slot, in address order; then every chunk goes upstream.
  ~Pool() { destroy_live_objects(); }

  // live() — slots allocated and not yet freed.
  std::size_t live() const noexcept { return this->core_.live(); }
  // checked() — whether this pool detects bad frees (PoolOptions::checked).
  bool checked() const noexcept { return this->core_.checking(); }

 private:
  void destroy_live_objects() noexcept {
    if constexpr (!std::is_trivially_destructible_v<T>) {
      if (this->core_.live() != 0) this->core_.destroy_live(&Base::destroy_slot);
    }
  }
};

}  // namespace memkit

#endif  // MEMKIT_ALLOC_POOL_H_
