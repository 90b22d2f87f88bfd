// memkit/alloc/arena.h — Arena: bump allocation in growing chunks, freed all at once.
//
// An arena hands out memory by moving a cursor forward through a chunk, and takes all of it back
// at once with reset(). Allocation is a few instructions and freeing one object costs nothing,
// which is what a parser, a compiler pass or one request of a server wants: build a graph of
// objects that all die together. The price is that nothing is given back one object at a time.
//
// One example grows through this comment. An arena of nodes, and a node made in place:
//
//   memkit::Arena arena;                             // chunks from operator new, 4 KiB first
//   Node* root = arena.make<Node>("root");           // Node("root") built in the arena
//   void* raw = arena.allocate(64, 32);              // 64 bytes aligned to 32
//
// Chunks come from an upstream std::pmr::memory_resource and double from first_chunk_size up to
// max_chunk_size. A request too big for that rhythm (more than a quarter of the next chunk; in an
// arena without a chunk yet, more than the first one) gets a dedicated chunk of its own and does
// not inflate the growth sequence. The first chunk can be the caller's own buffer, which the
// arena never frees:
//
//   std::array<std::byte, 8192> stack_buffer;
//   memkit::Arena scratch(stack_buffer);             // no upstream call until 8 KiB are used
//
// Destructors run. make<T> registers ~T for a T that is not trivially destructible (16 bytes
// next to the object); reset(), rewind() and ~Arena run them newest first. A trivially
// destructible T costs nothing extra. A constructor that throws leaves no registration behind.
//
//   arena.reset();         // ~Node for every node, newest first; the first chunk is kept and the
//                          // others go back upstream (or all are kept: keep_chunks_on_reset)
//
// Checkpoints undo part of the arena. mark() notes the position; rewind(mark) runs the
// destructors of what was made after it and gives its memory back; ArenaScope does it at the end
// of a block:
//
//   for (const Request& request : requests) {
//     memkit::ArenaScope scope(arena);               // everything made in this iteration ...
//     handle(request, arena);
//   }                                                // ... is released here
//
// A checkpoint that cannot be returned to — from another arena, taken before a reset(), or
// already released by an earlier rewind() to an older checkpoint — throws InvalidCheckpoint.
//
// Misuse is defined behaviour. allocate() throws memkit::AllocError (a std::bad_alloc) naming the
// size and alignment when the alignment is not a power of two or exceeds a page (4096), when the
// size cannot be represented with its padding, when the arena would grow past max_capacity_bytes,
// when a fixed arena (growable = false) is full, or when upstream refuses a chunk; try_allocate()
// returns nullptr in each of those cases. A zero-byte request returns a non-null, suitably
// aligned pointer that consumes nothing and must not be dereferenced (two may be equal).
//
// Under AddressSanitizer every byte not handed out — chunk tails, padding, whatever reset() or
// rewind() took back — is poisoned, so reading an object after its arena was reset stops the
// program with "use-after-poison".
//
// An Arena is not thread-safe: use one per thread (a shared one would need a lock or an atomic
// cursor, an order of magnitude slower than the bump itself). It can neither be copied nor moved,
// because its objects, checkpoints and adapters (memkit/alloc/arena_allocator.h) point to it.
#ifndef MEMKIT_ALLOC_ARENA_H_
#define MEMKIT_ALLOC_ARENA_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory_resource>
#include <new>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "memkit/alloc/stats.h"
#include "memkit/base/config.h"
#include "memkit/base/sanitizers.h"
#include "memkit/base/type_name.h"
#include "memkit/export.h"
#include "memkit/own/detail/construct.h"

namespace memkit {

struct ArenaOptions {
  // Bytes of the first chunk taken from upstream, chunk header included. At least 256.
  std::size_t first_chunk_size = 4096;
  // Chunks double up to this size (a cap keeps one growth step from asking for gigabytes).
  // Raised to first_chunk_size if smaller.
  std::size_t max_chunk_size = std::size_t{1} << 20;
  // The most bytes the arena may hold: every chunk counts, the current one and the caller's
  // buffer included. The last chunk shrinks to fit the limit exactly before a request fails.
  std::size_t max_capacity_bytes = std::numeric_limits<std::size_t>::max();
  // reset() and rewind() keep the chunks they empty instead of returning them upstream, so the
  // next cycle does not pay first-touch page faults again. Dedicated chunks are always returned.
  bool keep_chunks_on_reset = false;
  // false: never ask upstream for memory; the arena lives in the caller's buffer alone.
  bool growable = true;
  // Where chunks come from. Must not be null when growable.
  std::pmr::memory_resource* upstream = std::pmr::new_delete_resource();
  // Names the arena in error messages and in memory_stats().source. Not copied (an arena makes
  // no heap allocation of its own): the text must outlive the arena, as a string literal does.
  std::string_view name = "memkit::Arena";
};

// What an arena holds now. used + wasted + what is left in the chunks = capacity.
struct ArenaStats {
  std::size_t used_bytes = 0;      // handed out since the last reset(), alignment padding included
  std::size_t capacity_bytes = 0;  // every chunk held, the caller's buffer included
  std::size_t chunks = 0;          // how many chunks (dedicated ones and the caller's buffer too)
  std::size_t wasted_bytes = 0;    // chunk headers, skipped chunk tails, dedicated chunks' padding
  std::size_t allocations = 0;     // blocks handed out since the last reset(), minus rewound ones
  std::size_t destructors = 0;     // destructors that reset() would run now

  friend bool operator==(const ArenaStats&, const ArenaStats&) = default;
};

class Arena;

namespace detail {

// The header of a chunk, at its start (the caller's buffer keeps its header inside the Arena).
// `stop` is where the cursor left a chunk the arena moved past; [stop, end) was skipped.
struct ArenaChunk {
  ArenaChunk* next;
  std::byte* begin;
  std::byte* end;
  std::byte* stop;
  std::size_t bytes;      // as obtained from upstream, header included
  std::size_t alignment;  // as asked of upstream
};

// A destructor waiting for reset(): make<T> puts one in front of each T that needs it.
struct DestructorRecord {
  DestructorRecord* next;  // the older one
  void (*destroy)(DestructorRecord*) noexcept;
};

template <class T>
struct DestructibleBlock {
  DestructorRecord record;
  alignas(T) std::byte storage[sizeof(T)];

  static void destroy(DestructorRecord* record) noexcept {
    // `record` is the first member of a standard-layout DestructibleBlock: same address.
    auto* block = reinterpret_cast<DestructibleBlock*>(record);
    std::launder(reinterpret_cast<T*>(block->storage))->~T();
  }
};

// The rewinds an arena remembers, to refuse a checkpoint that one of them went behind.
//
// Heights count live allocations; times count allocations ever made (neither changes without an
// allocation, so a checkpoint is (time, height)). A checkpoint is still valid when no rewind since
// it was taken went to a lower height. Only the rewinds not made irrelevant by a later, lower one
// are kept: at most one per level of nesting, oldest and lowest first. Beyond kCapacity levels
// the two oldest merge into one that claims the lower height at the later time: an old
// checkpoint may then be refused that was still valid, but an invalid one is never accepted.
class RewindHistory {
 public:
  static constexpr std::size_t kCapacity = 16;

  // went_below(time, height) — did a rewind at or after `time` go below `height`?
  bool went_below(std::uint64_t time, std::uint64_t height) const noexcept;
  void record(std::uint64_t time, std::uint64_t height) noexcept;
  void clear() noexcept { size_ = 0; }

 private:
  struct Entry {
    std::uint64_t time;
    std::uint64_t height;
  };
  Entry entries_[kCapacity] = {};
  std::size_t size_ = 0;
};

struct ArenaLiveness;
class ArenaRef;

inline constexpr std::string_view kArenaMakeOpen = "make<";

}  // namespace detail

class MEMKIT_EXPORT Arena {
 public:
  static constexpr std::size_t kDefaultAlignment = alignof(std::max_align_t);
  // Alignments up to a page are served; a larger one is refused (mmap it instead).
  static constexpr std::size_t kMaxAlignment = 4096;
  // The largest size a request may have: beyond it size + padding + a chunk header could wrap.
  static constexpr std::size_t kMaxRequest =
      static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) - 2 * kMaxAlignment;

  // Arena::Checkpoint — a position to rewind() to, from mark(). A plain value: copy it freely.
  class Checkpoint {
   private:
    friend class Arena;
    Checkpoint() = default;

    const Arena* arena_ = nullptr;
    std::uint64_t generation_ = 0;  // reset() count when taken
    std::uint64_t time_ = 0;        // allocations ever made when taken
    std::size_t height_ = 0;        // live allocations when taken
    detail::ArenaChunk* chunk_ = nullptr;
    std::byte* cursor_ = nullptr;
    detail::DestructorRecord* destructors_ = nullptr;
    detail::ArenaChunk* dedicated_ = nullptr;
  };

  Arena() : Arena(ArenaOptions{}) {}
  explicit Arena(const ArenaOptions& options);
  // Arena(buffer, options) — the caller's buffer is the first chunk (an empty one is ignored).
  // The arena never frees it; it must outlive the arena.
  explicit Arena(std::span<std::byte> first_chunk, const ArenaOptions& options = {});

  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // ~Arena() — runs the registered destructors newest first and returns every chunk upstream.
  ~Arena();

  // allocate(size, alignment) — `size` uninitialized bytes aligned to `alignment`. Throws
  // AllocError (see the top of this file). The fast path: one compare, a bump and a count.
  [[nodiscard]] void* allocate(std::size_t size, std::size_t alignment = kDefaultAlignment) {
    std::byte* const cursor = cursor_;
    const std::uintptr_t at = align_up(cursor, alignment);
    if (MEMKIT_LIKELY(fits(at, size, alignment))) return bump(cursor, at, size);
    return allocate_slow(size, alignment, "allocate");
  }

  // try_allocate(size, alignment) — allocate(), with nullptr wherever allocate() would throw.
  [[nodiscard]] void* try_allocate(std::size_t size,
                                   std::size_t alignment = kDefaultAlignment) noexcept {
    std::byte* const cursor = cursor_;
    const std::uintptr_t at = align_up(cursor, alignment);
    if (MEMKIT_LIKELY(fits(at, size, alignment))) return bump(cursor, at, size);
    return try_allocate_slow(size, alignment);
  }

  // make<T>(args...) — T(args...) (or T{args...} for an aggregate) built in the arena. Its
  // destructor runs at reset(), at a rewind() past it, or with the arena — never earlier.
  template <class T, class... Args>
  T* make(Args&&... args) {
    static_assert(!std::is_reference_v<T> && !std::is_array_v<T>,
                  "Arena::make<T> makes one object: T must not be a reference or an array");
    static_assert(alignof(T) <= kMaxAlignment,
                  "Arena::make<T>: T is aligned to more than a page (4096 bytes)");
    static_assert(std::is_nothrow_destructible_v<T>,
                  "Arena::make<T>: ~T() may throw, but reset() runs destructors in bulk and "
                  "cannot stop halfway");
    constexpr std::string_view operation =
        detail::JoinedName<detail::kArenaMakeOpen, detail::TypeName<T>::value,
                           detail::kCloseAngle>::value;
    if constexpr (std::is_trivially_destructible_v<T>) {
      void* storage = allocate_as(sizeof(T), alignof(T), operation);
      return detail::construct_in<T>(storage, std::forward<Args>(args)...);
    } else {
      using Block = detail::DestructibleBlock<T>;
      auto* block = static_cast<Block*>(allocate_as(sizeof(Block), alignof(Block), operation));
      T* object = detail::construct_in<T>(block->storage, std::forward<Args>(args)...);
      // Linked only once T exists: a constructor that throws leaves nothing to destroy.
      block->record.next = destructors_;
      block->record.destroy = &Block::destroy;
      destructors_ = &block->record;
      ++destructor_count_;
      return object;
    }
  }

  // reset() — runs every registered destructor (newest first), returns every chunk but the first
  // upstream (all are kept with keep_chunks_on_reset; dedicated chunks always go), and starts
  // again at the beginning of the first chunk. Every checkpoint taken before becomes invalid.
  void reset() noexcept;

  // mark() — the current position, for rewind().
  [[nodiscard]] Checkpoint mark() const noexcept {
    Checkpoint checkpoint;
    checkpoint.arena_ = this;
    checkpoint.generation_ = generation_;
    checkpoint.time_ = released_blocks_ + allocations_;
    checkpoint.height_ = allocations_;
    checkpoint.chunk_ = current_;
    checkpoint.cursor_ = cursor_;
    checkpoint.destructors_ = destructors_;
    checkpoint.dedicated_ = dedicated_;
    return checkpoint;
  }

  // rewind(checkpoint) — back to where mark() was: the destructors of objects made since run
  // (newest first) and their memory is released; chunks added since go back upstream unless
  // keep_chunks_on_reset. Rewinding to the same checkpoint again is allowed, and so is rewinding
  // to an older one; checkpoints taken after the one rewound to become invalid. Throws
  // InvalidCheckpoint for a checkpoint of another arena, one taken before the last reset(), and
  // one that an earlier rewind() already went behind.
  void rewind(const Checkpoint& checkpoint);

  // stats() — what the arena holds now (see ArenaStats). Constant time.
  [[nodiscard]] ArenaStats stats() const noexcept;

  // memory_stats() — the same in the vocabulary every memkit allocator shares: counts.allocations
  // and frees are blocks ever handed out and ever released by reset()/rewind(); live_bytes and
  // live_blocks are used_bytes and allocations; peak_bytes and total_bytes span resets.
  [[nodiscard]] MemoryStats memory_stats() const;

  // used_bytes() — stats().used_bytes, without the rest.
  [[nodiscard]] std::size_t used_bytes() const noexcept {
    return retired_used_ + dedicated_used_ +
           (current_ != nullptr ? static_cast<std::size_t>(cursor_ - current_->begin) : 0);
  }

  [[nodiscard]] std::string_view name() const noexcept { return name_; }

 private:
  friend class detail::ArenaRef;
  struct Refusal;

  // The fast path, in three pieces. The cursor moves up to the alignment and then by the size;
  // fits() is then one compare, plus one for the alignment when it is not a constant:
  //   * the alignment must be a power of two no larger than a page (alignment 0 wraps to a huge
  //     alignment - 1); for a constant alignment this folds away;
  //   * a size so large that at + size wraps around is made all ones, so it fails the compare
  //     and reaches the slow path, which names the error;
  //   * the compare is strict, so that an arena without a chunk (null cursor and end) never
  //     passes, not even for zero bytes; an exact fit takes the slow path, which serves it.
  // Rounding the cursor up (rather than adding a padding computed from it) keeps the chain from
  // one allocation to the next at three instructions.
  static constexpr bool is_plain_alignment(std::size_t alignment) noexcept {
    return ((alignment & (alignment - 1)) | ((alignment - 1) / kMaxAlignment)) == 0;
  }
  static std::uintptr_t align_up(const std::byte* cursor, std::size_t alignment) noexcept {
    return (reinterpret_cast<std::uintptr_t>(cursor) + alignment - 1) & ~(alignment - 1);
  }
  bool fits(std::uintptr_t at, std::size_t size, std::size_t alignment) const noexcept {
    const std::uintptr_t next = at + size;
    const std::uintptr_t wrapped = std::uintptr_t{0} - static_cast<std::uintptr_t>(next < at);
    return is_plain_alignment(alignment) &&
           (next | wrapped) < reinterpret_cast<std::uintptr_t>(end_);
  }
  std::byte* bump(std::byte* cursor, std::uintptr_t at, std::size_t size) noexcept {
    std::byte* const result = cursor + (at - reinterpret_cast<std::uintptr_t>(cursor));
    cursor_ = result + size;
    ++allocations_;
    unpoison_memory(result, size);
    return result;
  }
  void* allocate_as(std::size_t size, std::size_t alignment, std::string_view operation) {
    std::byte* const cursor = cursor_;
    const std::uintptr_t at = align_up(cursor, alignment);
    if (MEMKIT_LIKELY(fits(at, size, alignment))) return bump(cursor, at, size);
    return allocate_slow(size, alignment, operation);
  }

  MEMKIT_COLD void* allocate_slow(std::size_t size, std::size_t alignment,
                                  std::string_view operation);
  MEMKIT_COLD void* try_allocate_slow(std::size_t size, std::size_t alignment) noexcept;
  void* refill(std::size_t size, std::size_t alignment, Refusal& refusal);
  void* allocate_dedicated(std::size_t size, std::size_t alignment, Refusal& refusal);
  detail::ArenaChunk* acquire_chunk(std::size_t wanted, std::size_t needed, Refusal& refusal);
  void advance_to(detail::ArenaChunk* chunk) noexcept;
  std::size_t next_chunk_size() const noexcept;
  std::size_t budget() const noexcept;
  void run_destructors(detail::DestructorRecord* stop) noexcept;
  void release_dedicated(detail::ArenaChunk* stop) noexcept;
  void release_chunks_after(detail::ArenaChunk* chunk) noexcept;
  void free_chunk(detail::ArenaChunk* chunk) noexcept;
  detail::ArenaLiveness* liveness();

  // The fast path's state, first.
  std::byte* cursor_ = nullptr;
  std::byte* end_ = nullptr;
  std::size_t allocations_ = 0;  // live blocks: the arena's height

  detail::ArenaChunk* current_ = nullptr;    // the chunk cursor_ is in
  detail::ArenaChunk* first_ = nullptr;      // kept by reset()
  detail::ArenaChunk* dedicated_ = nullptr;  // newest first
  detail::DestructorRecord* destructors_ = nullptr;
  std::size_t destructor_count_ = 0;

  // The books, kept current so stats() is constant time.
  std::size_t capacity_bytes_ = 0;
  std::size_t chunk_count_ = 0;
  std::size_t header_bytes_ = 0;     // headers of upstream chunks
  std::size_t retired_used_ = 0;     // [begin, stop) of the chunks before current_
  std::size_t retired_tail_ = 0;     // [stop, end) of the chunks before current_
  std::size_t dedicated_used_ = 0;   // bytes handed out from dedicated chunks
  std::size_t dedicated_slack_ = 0;  // their headers and alignment padding
  std::uint64_t released_blocks_ = 0;
  std::uint64_t released_bytes_ = 0;
  std::uint64_t peak_bytes_ = 0;  // used_bytes() just before each release; max'd with now
  std::uint64_t generation_ = 0;  // reset() count
  detail::RewindHistory history_;

  detail::ArenaChunk buffer_chunk_ = {};       // the caller's buffer, when there is one
  detail::ArenaLiveness* liveness_ = nullptr;  // made when the first adapter asks for it

  std::pmr::memory_resource* upstream_;
  std::size_t first_chunk_size_;
  std::size_t max_chunk_size_;
  std::size_t max_capacity_bytes_;
  bool keep_chunks_on_reset_;
  bool growable_;
  std::string_view name_;
};

// ArenaScope — rewinds its arena to where it was when the scope began, when the scope ends.
// If that rewind is impossible (the arena was reset inside the scope), the destructor cannot
// throw: it aborts with the InvalidCheckpoint message. Neither copyable nor movable.
class MEMKIT_EXPORT ArenaScope {
 public:
  explicit ArenaScope(Arena& arena) noexcept : arena_(arena), checkpoint_(arena.mark()) {}
  ArenaScope(const ArenaScope&) = delete;
  ArenaScope& operator=(const ArenaScope&) = delete;
  ~ArenaScope() { end_of_scope(arena_, checkpoint_); }

  // rewind() — releases what was made in the scope so far; the scope stays open.
  void rewind() { arena_.rewind(checkpoint_); }
  [[nodiscard]] const Arena::Checkpoint& checkpoint() const noexcept { return checkpoint_; }

 private:
  static void end_of_scope(Arena& arena, const Arena::Checkpoint& checkpoint) noexcept;

  Arena& arena_;
  Arena::Checkpoint checkpoint_;
};

}  // namespace memkit

#endif  // MEMKIT_ALLOC_ARENA_H_
