// memkit/alloc/arena_allocator.h — standard containers whose memory lives in an Arena.
//
// Two adapters put an arena behind the interfaces the standard library allocates through:
//
//   ArenaResource      a std::pmr::memory_resource, for std::pmr containers;
//   ArenaAllocator<T>  an allocator in the sense of the standard's Allocator requirements, for
//                      std::vector<T, ArenaAllocator<T>>, std::map, std::list and the rest.
//
// The example of memkit/alloc/arena.h, continued: a node's edges live in the arena with it.
//
//   memkit::Arena arena;
//   memkit::ArenaResource resource(arena);
//   std::pmr::vector<Node*> edges(&resource);             // grows inside the arena
//   std::vector<int, memkit::ArenaAllocator<int>> ids(arena);
//   struct Node { std::pmr::string name; std::vector<Node*, ArenaAllocator<Node*>> out; };
//   Node* n = arena.make<Node>(...);                      // ~Node runs at reset()
//
// Both are monotonic, as the arena is: deallocate() does nothing and the memory comes back with
// the arena's reset() or rewind(). A vector that grows by doubling leaves its old buffers behind
// until then (reserve() first when the size is known). ArenaResource compares equal only to
// itself (as the std::pmr resources do); two ArenaAllocators are equal when they use one arena.
//
// An adapter may outlive its arena (a container destroyed after it, a resource kept in a struct).
// Using it then is defined: allocate() throws memkit::UseAfterFree,
//   "memkit::ArenaAllocator<int>: allocate() on a memkit::Arena that was destroyed",
// and deallocate() still does nothing. To know, the arena and its adapters share a small
// heap-allocated liveness block, made when the first adapter is, with a plain (non-atomic) count
// of its holders: copying an adapter is an increment, its allocate() one more compare. The
// Arena's own allocate() does not look at it. Like the arena, the adapters are not thread-safe.
#ifndef MEMKIT_ALLOC_ARENA_ALLOCATOR_H_
#define MEMKIT_ALLOC_ARENA_ALLOCATOR_H_

#include <cstddef>
#include <memory_resource>
#include <string_view>

#include "memkit/alloc/arena.h"
#include "memkit/base/config.h"
#include "memkit/base/error.h"
#include "memkit/base/type_name.h"
#include "memkit/export.h"

namespace memkit {
namespace detail {

// Shared by an Arena and every adapter made from it; freed by whichever lets go last.
struct ArenaLiveness {
  bool alive = true;
  std::size_t holders = 1;  // the arena itself, while it lives
};

// ArenaRef — a counted reference to an arena that knows whether the arena still exists.
class MEMKIT_EXPORT ArenaRef {
 public:
  explicit ArenaRef(Arena& arena);
  ArenaRef(const ArenaRef& other) noexcept : arena_(other.arena_), liveness_(other.liveness_) {
    ++liveness_->holders;
  }
  ArenaRef& operator=(const ArenaRef& other) noexcept {
    ++other.liveness_->holders;  // first, for self-assignment
    release();
    arena_ = other.arena_;
    liveness_ = other.liveness_;
    return *this;
  }
  ~ArenaRef() { release(); }

  // get(type, operation) — the arena; throws UseAfterFree naming `type` and `operation` when it
  // was destroyed.
  Arena& get(std::string_view type, std::string_view operation) const {
    if (MEMKIT_UNLIKELY(!liveness_->alive)) {
      throw_use_after_free(type, operation, "a memkit::Arena that was destroyed");
    }
    return *arena_;
  }
  bool alive() const noexcept { return liveness_->alive; }
  // Same arena: the liveness block is unique to one arena's life, unlike its address.
  bool same_arena(const ArenaRef& other) const noexcept { return liveness_ == other.liveness_; }

  // free_liveness(block) — deletes it; for whichever holder lets go last. Out of line: with the
  // delete inlined, g++ 12 warns (-Wuse-after-free) about a copy incrementing a count that it
  // cannot prove is still held.
  static void free_liveness(ArenaLiveness* liveness) noexcept;

 private:
  void release() noexcept {
    if (--liveness_->holders == 0) free_liveness(liveness_);
  }

  Arena* arena_;
  ArenaLiveness* liveness_;
};

// Throws AllocError for allocate(n) with n * element_size past Arena::kMaxRequest.
[[noreturn]] MEMKIT_COLD MEMKIT_EXPORT void throw_too_many_elements(std::string_view allocator,
                                                                    std::size_t count,
                                                                    std::size_t element_size,
                                                                    std::size_t alignment);

}  // namespace detail

// ArenaResource — a std::pmr::memory_resource that allocates in an Arena. Not copyable: a
// memory resource is an identity, and std::pmr containers keep its address.
class MEMKIT_EXPORT ArenaResource final : public std::pmr::memory_resource {
 public:
  explicit ArenaResource(Arena& arena) : arena_(arena) {}
  ArenaResource(const ArenaResource&) = delete;
  ArenaResource& operator=(const ArenaResource&) = delete;
  ~ArenaResource() override;

  // arena() — the arena; throws UseAfterFree once it was destroyed.
  [[nodiscard]] Arena& arena() const { return arena_.get(kName, "arena()"); }
  // arena_alive() — false once the arena was destroyed.
  [[nodiscard]] bool arena_alive() const noexcept { return arena_.alive(); }

 private:
  static constexpr std::string_view kName = "memkit::ArenaResource";

  void* do_allocate(std::size_t bytes, std::size_t alignment) override;
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override;

  detail::ArenaRef arena_;
};

// ArenaAllocator<T> — an STL allocator over an Arena. Converts implicitly from Arena& (as
// std::pmr::polymorphic_allocator does from a resource pointer), so a container takes the arena:
// `std::vector<int, ArenaAllocator<int>> v(arena);`.
template <class T>
class ArenaAllocator {
  static_assert(alignof(T) <= Arena::kMaxAlignment,
                "ArenaAllocator<T>: T is aligned to more than a page (4096 bytes)");

 public:
  using value_type = T;

  ArenaAllocator(Arena& arena) : arena_(arena) {}  // NOLINT(google-explicit-constructor)
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept  // NOLINT: rebinding
      : arena_(other.arena_) {}

  // allocate(n) — room for n Ts. Throws UseAfterFree when the arena was destroyed, AllocError
  // when n * sizeof(T) overflows, and whatever Arena::allocate() throws.
  [[nodiscard]] T* allocate(std::size_t n) {
    Arena& arena = arena_.get(name(), "allocate()");
    if (MEMKIT_UNLIKELY(n > max_size())) {
      detail::throw_too_many_elements(name(), n, sizeof(T), alignof(T));
    }
    return static_cast<T*>(arena.allocate(n * sizeof(T), alignof(T)));
  }

  // deallocate() — nothing: the memory comes back with the arena's reset() or rewind().
  void deallocate(T*, std::size_t) noexcept {}

  [[nodiscard]] std::size_t max_size() const noexcept { return Arena::kMaxRequest / sizeof(T); }

  // arena() — the arena; throws UseAfterFree once it was destroyed.
  [[nodiscard]] Arena& arena() const { return arena_.get(name(), "arena()"); }

  template <class U>
  bool operator==(const ArenaAllocator<U>& other) const noexcept {
    return arena_.same_arena(other.arena_);
  }

 private:
  template <class U>
  friend class ArenaAllocator;

  static constexpr std::string_view name() { return type_name<ArenaAllocator>(); }

  detail::ArenaRef arena_;
};

}  // namespace memkit

#endif  // MEMKIT_ALLOC_ARENA_ALLOCATOR_H_
