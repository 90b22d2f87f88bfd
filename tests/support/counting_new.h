// support/counting_new.h — a global operator new/delete that counts, for exact ownership tests.
//
// Linking tests/support/counting_new.cpp replaces every form of the global operator new and
// delete (plain, array, nothrow, sized, aligned, and their combinations) with malloc-based
// versions that count live blocks, live bytes and total allocations. A test asserts how much an
// operation allocates, and that everything it allocated was freed:
//
//   memkit::testing::AllocationDelta delta;
//   auto rc = Rc<int>::make(7);
//   escape(rc.get());                    // or the compiler may elide the allocation
//   EXPECT_EQ(delta.allocations(), 1);   // the counts and the value share one block
//   EXPECT_EQ(delta.live_blocks(), 1);
//
// Counters are relaxed atomics: exact in a single-threaded test, and race-free (though only a
// snapshot) while other threads allocate. Each block carries a small header with its size, so
// live bytes are exact even for unsized delete.
#ifndef MEMKIT_TESTS_SUPPORT_COUNTING_NEW_H_
#define MEMKIT_TESTS_SUPPORT_COUNTING_NEW_H_

#include <cstddef>
#include <cstdint>

namespace memkit::testing {

struct AllocationCounts {
  std::int64_t live_blocks = 0;        // blocks allocated and not yet freed
  std::int64_t live_bytes = 0;         // bytes requested by those blocks
  std::int64_t total_allocations = 0;  // every successful operator new so far
};

// current_allocations() — a snapshot of the counters.
AllocationCounts current_allocations() noexcept;

// escape(p) — makes the compiler assume that unknown code reads and keeps p. Compilers may
// optimize a new/delete pair away when the pointer never escapes (clang does at -O1), and then
// there is no allocation to count; a test that counts one passes the pointer here first.
inline void escape(const void* p) noexcept { asm volatile("" : : "g"(p) : "memory"); }

// AllocationDelta — what was allocated since this object was made.
class AllocationDelta {
 public:
  AllocationDelta() noexcept : start_(current_allocations()) {}

  // Blocks (bytes) allocated since construction and still live; negative if more were freed.
  std::int64_t live_blocks() const noexcept {
    return current_allocations().live_blocks - start_.live_blocks;
  }
  std::int64_t live_bytes() const noexcept {
    return current_allocations().live_bytes - start_.live_bytes;
  }
  // Calls to operator new since construction.
  std::int64_t allocations() const noexcept {
    return current_allocations().total_allocations - start_.total_allocations;
  }

 private:
  AllocationCounts start_;
};

}  // namespace memkit::testing

#endif  // MEMKIT_TESTS_SUPPORT_COUNTING_NEW_H_
