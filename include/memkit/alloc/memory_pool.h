// memkit/alloc/memory_pool.h — MemoryPool: the seed's fixed-capacity pool, on an Arena.
//
// A MemoryPool owns one buffer of `capacity` bytes, obtained once when it is made, and hands out
// pieces of it until it is full; then allocate() returns nullptr, and reset() makes the whole
// capacity available again. It never asks for more memory: a program that must not allocate
// after start-up (a real-time loop, a per-frame scratch buffer) gets a hard ceiling and a cheap
// "no" instead of a malloc.
//
//   memkit::MemoryPool frame(64 * 1024);
//   while (running) {
//     auto* vertices = static_cast<Vertex*>(frame.allocate(n * sizeof(Vertex), alignof(Vertex)));
//     if (vertices == nullptr) { drop_frame(); }    // full: nothing was allocated
//     ...
//     frame.reset();                                // everything back, in constant time
//   }
//
// It is a thin, documented use of memkit::Arena: an arena whose first chunk is the pool's buffer
// and which may not grow (ArenaOptions::growable = false). allocate() is the arena's
// try_allocate() — the same inline bump — plus the conversion of its refusals: "full" (and a
// size larger than the capacity) is nullptr, while an alignment that is not a power of two or
// exceeds a page is a bug in the caller and throws memkit::AllocError,
//   "memkit::MemoryPool: allocate(size 8, align 3) failed: alignment is not a power of two".
// A zero-byte request returns a non-null pointer that must not be dereferenced (nullptr only
// from a pool of capacity 0). Objects are not destroyed by reset(): use arena().make<T>() for
// objects with destructors. Freed memory is poisoned for AddressSanitizer as in any Arena.
//
// arena() gives the underlying Arena, for make<T>, checkpoints and the adapters of
// memkit/alloc/arena_allocator.h (a std::pmr container inside a fixed buffer; when the pool is
// full, its allocation throws AllocError). A MemoryPool is not thread-safe and not movable.
#ifndef MEMKIT_ALLOC_MEMORY_POOL_H_
#define MEMKIT_ALLOC_MEMORY_POOL_H_

#include <cstddef>
#include <memory>

#include "memkit/alloc/arena.h"
#include "memkit/alloc/stats.h"
#include "memkit/base/config.h"
#include "memkit/export.h"

namespace memkit {

class MEMKIT_EXPORT MemoryPool {
 public:
  // MemoryPool(capacity_bytes) — one buffer of exactly that many usable bytes. Throws AllocError
  // when the buffer cannot be obtained (or its size exceeds Arena::kMaxRequest).
  explicit MemoryPool(std::size_t capacity_bytes);

  MemoryPool(const MemoryPool&) = delete;
  MemoryPool& operator=(const MemoryPool&) = delete;
  ~MemoryPool();

  // allocate(size, alignment) — `size` bytes, or nullptr when they do not fit in what is left.
  [[nodiscard]] void* allocate(std::size_t size, std::size_t alignment = Arena::kDefaultAlignment) {
    void* p = arena_.try_allocate(size, alignment);
    if (MEMKIT_UNLIKELY(p == nullptr)) check_alignment(size, alignment);
    return p;
  }

  // reset() — all capacity available again; whatever was handed out must not be used.
  void reset() noexcept { arena_.reset(); }

  [[nodiscard]] std::size_t used() const noexcept { return arena_.used_bytes(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  [[nodiscard]] std::size_t available() const noexcept { return capacity_ - used(); }

  // memory_stats() — the arena's, with source "memkit::MemoryPool".
  [[nodiscard]] MemoryStats memory_stats() const { return arena_.memory_stats(); }

  [[nodiscard]] Arena& arena() noexcept { return arena_; }

 private:
  // Throws AllocError when `alignment` is what made try_allocate() refuse; returns otherwise.
  MEMKIT_COLD void check_alignment(std::size_t size, std::size_t alignment) const;

  std::size_t capacity_;
  std::unique_ptr<std::byte[]> buffer_;  // before arena_: it must outlive it
  Arena arena_;
};

}  // namespace memkit

#endif  // MEMKIT_ALLOC_MEMORY_POOL_H_
