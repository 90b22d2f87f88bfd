// Tests of memkit::track_global, the counting global operator new/delete: every form counted
// exactly, array cookies, scoped heap tags, threads that exit (and new/delete after their
// counters are gone), the peak's documented precision, every bad request with its exact error,
// every bad delete stopped with its message, and the exit summary (MEMKIT_HEAP_STATS), checked by
// running this program again as a child and reading its stderr.
//
// This program links memkit::track_global and not the test support library (whose counting
// operator new would clash); heap_counts() is the counter here. gtest runs the tests on one
// thread, so a delta around a few statements is exact.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "memkit/alloc/heap_stats.h"
#include "memkit/alloc/stats.h"
#include "memkit/base/error.h"
#include "memkit/base/sanitizers.h"

#if defined(__SANITIZE_THREAD__)
#define MEMKIT_TEST_TSAN 1
#else
#define MEMKIT_TEST_TSAN 0
#endif

// The out-of-memory test asks malloc for a petabyte: the sanitizers' allocators must answer with
// a null, as glibc's does, instead of stopping the program.
#if MEMKIT_ASAN
extern "C" const char* __asan_default_options() { return "allocator_may_return_null=1"; }
#endif
#if MEMKIT_TEST_TSAN
extern "C" const char* __tsan_default_options() { return "allocator_may_return_null=1"; }
#endif

extern char** environ;

namespace track_global_test {

struct alignas(64) Wide {
  unsigned char bytes[64];
};

struct WithDestructor {
  ~WithDestructor() { value = -1; }
  int value = 0;
};

}  // namespace track_global_test

namespace {

using memkit::AllocCounts;
using memkit::AllocError;
using ::testing::HasSubstr;
using ::testing::Not;

// The compiler may drop a new/delete pair whose pointer never escapes; this makes it escape.
void escape(const void* p) { asm volatile("" : : "g"(p) : "memory"); }

// Hides a constant, which the compiler would otherwise reject as an absurd size.
std::size_t opaque(std::size_t value) {
  asm volatile("" : "+r"(value));
  return value;
}

// Hides where a pointer comes from, which the compiler would otherwise reject at compile time.
void* opaque(void* p) {
  asm volatile("" : "+r"(p));
  return p;
}

// What was counted since construction (heap_counts() does not allocate).
class HeapDelta {
 public:
  explicit HeapDelta(memkit::HeapTagId tag) : tag_(tag), tagged_(true), start_(read()) {}
  HeapDelta() : start_(read()) {}

  AllocCounts now() const {
    const AllocCounts current = read();
    AllocCounts delta;
    delta.allocations = current.allocations - start_.allocations;
    delta.frees = current.frees - start_.frees;
    delta.live_bytes = current.live_bytes - start_.live_bytes;
    delta.live_blocks = current.live_blocks - start_.live_blocks;
    delta.total_bytes = current.total_bytes - start_.total_bytes;
    return delta;  // peak_bytes: not a delta; read heap_counts() for it
  }

 private:
  AllocCounts read() const { return tagged_ ? memkit::heap_counts(tag_) : memkit::heap_counts(); }

  memkit::HeapTagId tag_ = memkit::HeapTagId::untagged();
  bool tagged_ = false;
  AllocCounts start_;
};

AllocCounts delta_of(std::uint64_t allocations, std::uint64_t frees, std::uint64_t live_bytes,
                     std::uint64_t live_blocks, std::uint64_t total_bytes) {
  AllocCounts counts;
  counts.allocations = allocations;
  counts.frees = frees;
  counts.live_bytes = live_bytes;
  counts.live_blocks = live_blocks;
  counts.total_bytes = total_bytes;
  return counts;
}

bool aligned_to(const void* p, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

// ---- counting
// --------------------------------------------------------------------------------------

TEST(HeapHookTest, TrackingIsOn) {
  EXPECT_TRUE(memkit::heap_tracking_enabled());
  const AllocCounts counts = memkit::heap_counts();
  EXPECT_GT(counts.allocations, 0u);  // gtest itself has allocated by now
  EXPECT_GE(counts.peak_bytes, counts.live_bytes);
  EXPECT_EQ(memkit::heap_stats().source, "heap (operator new)");
}

TEST(HeapHookTest, ReadingTheCountsAllocatesNothing) {
  const AllocCounts first = memkit::heap_counts();
  const AllocCounts second = memkit::heap_counts();
  const AllocCounts third = memkit::heap_counts(memkit::HeapTagId::untagged());
  const AllocCounts fourth = memkit::heap_counts();
  EXPECT_EQ(first.allocations, second.allocations);
  EXPECT_EQ(second.allocations, fourth.allocations);
  EXPECT_EQ(third.allocations, memkit::heap_counts(memkit::HeapTagId::untagged()).allocations);
}

TEST(HeapHookTest, HeapStatsTakesItsCountsBeforeItAllocates) {
  const AllocCounts before = memkit::heap_counts();
  const memkit::MemoryStats stats = memkit::heap_stats();
  EXPECT_EQ(stats.counts.allocations, before.allocations);
  EXPECT_EQ(stats.counts.live_bytes, before.live_bytes);
  EXPECT_GT(memkit::heap_counts().allocations, before.allocations);  // the result's strings
  std::uint64_t tag_allocations = 0;
  for (const memkit::TagStats& row : stats.by_tag) tag_allocations += row.counts.allocations;
  EXPECT_EQ(tag_allocations, stats.counts.allocations);
}

struct Form {
  const char* name;
  void* (*allocate)(std::size_t);
  void (*free)(void*, std::size_t);
  std::size_t alignment;
};

constexpr std::align_val_t k64{64};

// Every operator new, each paired with every operator delete that may free what it returns.
const std::array<Form, 20> kForms{{
    {"new / delete", [](std::size_t n) { return operator new(n); },
     [](void* p, std::size_t) { operator delete(p); }, 16},
    {"new / sized delete", [](std::size_t n) { return operator new(n); },
     [](void* p, std::size_t n) { operator delete(p, n); }, 16},
    {"new[] / delete[]", [](std::size_t n) { return operator new[](n); },
     [](void* p, std::size_t) { operator delete[](p); }, 16},
    {"new[] / sized delete[]", [](std::size_t n) { return operator new[](n); },
     [](void* p, std::size_t n) { operator delete[](p, n); }, 16},
    {"aligned new / aligned delete", [](std::size_t n) { return operator new(n, k64); },
     [](void* p, std::size_t) { operator delete(p, k64); }, 64},
    {"aligned new / sized aligned delete", [](std::size_t n) { return operator new(n, k64); },
     [](void* p, std::size_t n) { operator delete(p, n, k64); }, 64},
    {"aligned new[] / aligned delete[]", [](std::size_t n) { return operator new[](n, k64); },
     [](void* p, std::size_t) { operator delete[](p, k64); }, 64},
    {"aligned new[] / sized aligned delete[]", [](std::size_t n) { return operator new[](n, k64); },
     [](void* p, std::size_t n) { operator delete[](p, n, k64); }, 64},
    {"nothrow new / nothrow delete", [](std::size_t n) { return operator new(n, std::nothrow); },
     [](void* p, std::size_t) { operator delete(p, std::nothrow); }, 16},
    {"nothrow new / delete", [](std::size_t n) { return operator new(n, std::nothrow); },
     [](void* p, std::size_t) { operator delete(p); }, 16},
    {"nothrow new[] / nothrow delete[]",
     [](std::size_t n) { return operator new[](n, std::nothrow); },
     [](void* p, std::size_t) { operator delete[](p, std::nothrow); }, 16},
    {"nothrow new[] / sized delete[]",
     [](std::size_t n) { return operator new[](n, std::nothrow); },
     [](void* p, std::size_t n) { operator delete[](p, n); }, 16},
    {"aligned nothrow new / aligned nothrow delete",
     [](std::size_t n) { return operator new(n, k64, std::nothrow); },
     [](void* p, std::size_t) { operator delete(p, k64, std::nothrow); }, 64},
    {"aligned nothrow new / aligned delete",
     [](std::size_t n) { return operator new(n, k64, std::nothrow); },
     [](void* p, std::size_t) { operator delete(p, k64); }, 64},
    {"aligned nothrow new[] / aligned nothrow delete[]",
     [](std::size_t n) { return operator new[](n, k64, std::nothrow); },
     [](void* p, std::size_t) { operator delete[](p, k64, std::nothrow); }, 64},
    {"aligned nothrow new[] / sized aligned delete[]",
     [](std::size_t n) { return operator new[](n, k64, std::nothrow); },
     [](void* p, std::size_t n) { operator delete[](p, n, k64); }, 64},
    {"aligned(8) new / aligned(8) delete",
     [](std::size_t n) { return operator new (n, std::align_val_t{8}); },
     [](void* p, std::size_t) { operator delete (p, std::align_val_t{8}); }, 16},
    {"aligned(4096) new / sized aligned(4096) delete",
     [](std::size_t n) { return operator new (n, std::align_val_t{4096}); },
     [](void* p, std::size_t n) { operator delete (p, n, std::align_val_t{4096}); }, 4096},
    {"aligned new / plain delete", [](std::size_t n) { return operator new(n, k64); },
     [](void* p, std::size_t) { operator delete(p); }, 64},
    {"new / nothrow delete", [](std::size_t n) { return operator new(n); },
     [](void* p, std::size_t) { operator delete(p, std::nothrow); }, 16},
}};

TEST(HeapHookTest, EveryFormOfNewAndDeleteIsCountedExactly) {
  for (const Form& form : kForms) {
    SCOPED_TRACE(form.name);
    for (const std::size_t size : {std::size_t{1}, std::size_t{40}, std::size_t{1000}}) {
      const HeapDelta delta;
      void* p = form.allocate(size);
      escape(p);
      const AllocCounts after_new = delta.now();
      const bool aligned = aligned_to(p, form.alignment);
      form.free(p, size);
      const AllocCounts after_delete = delta.now();
      EXPECT_EQ(after_new, delta_of(1, 0, size, 1, size)) << "size " << size;
      EXPECT_EQ(after_delete, delta_of(1, 1, 0, 0, size)) << "size " << size;
      EXPECT_TRUE(aligned) << "size " << size;
    }
  }
}

TEST(HeapHookTest, NewExpressionsAreCounted) {
  const HeapDelta delta;
  int* number = new int(5);
  escape(number);
  auto* wide = new track_global_test::Wide();  // over-aligned: the aligned form
  escape(wide);
  const AllocCounts live = delta.now();
  EXPECT_TRUE(aligned_to(wide, 64));
  delete wide;
  delete number;
  EXPECT_EQ(live, delta_of(2, 0, sizeof(int) + 64, 2, sizeof(int) + 64));
  EXPECT_EQ(delta.now(), delta_of(2, 2, 0, 0, sizeof(int) + 64));
}

TEST(HeapHookTest, AnArrayOfATypeWithADestructorCountsItsCookie) {
  using track_global_test::WithDestructor;
  const HeapDelta delta;
  auto* objects = new WithDestructor[3];
  escape(objects);
  const AllocCounts with_cookie = delta.now();
  delete[] objects;  // sized delete[]: the size includes the cookie, and must match
  auto* ints = new int[3];
  escape(ints);
  const AllocCounts plain = delta.now();
  delete[] ints;
  // The Itanium C++ ABI stores the element count in a size_t just before the elements.
  EXPECT_EQ(with_cookie.live_bytes, 3 * sizeof(WithDestructor) + sizeof(std::size_t));
  EXPECT_EQ(plain.live_bytes, 3 * sizeof(int));
  EXPECT_EQ(
      delta.now(),
      delta_of(2, 2, 0, 0, 3 * sizeof(WithDestructor) + sizeof(std::size_t) + 3 * sizeof(int)));
}

TEST(HeapHookTest, AZeroSizeRequestIsAUniqueBlockOfZeroBytes) {
  const HeapDelta delta;
  void* a = operator new(0);
  void* b = operator new[](0);
  void* c = operator new(0, k64);
  EXPECT_NE(a, nullptr);
  EXPECT_NE(a, b);
  EXPECT_TRUE(aligned_to(c, 64));
  EXPECT_EQ(delta.now(), delta_of(3, 0, 0, 3, 0));
  operator delete (a, std::size_t{0});
  operator delete[](b);
  operator delete(c, k64);
  EXPECT_EQ(delta.now(), delta_of(3, 3, 0, 0, 0));
}

// ---- bad requests
// -----------------------------------------------------------------------------------

std::string what_of_new(void* (*allocate)()) {
  try {
    escape(allocate());
  } catch (const AllocError& e) {
    return e.what();
  }
  return "(no AllocError)";
}

TEST(HeapHookErrorsTest, AnAlignmentThatIsNotAPowerOfTwoThrowsAllocError) {
  const HeapDelta delta;
  try {
    escape(operator new (32, std::align_val_t{24}));
    ADD_FAILURE() << "no exception";
  } catch (const AllocError& e) {
    EXPECT_STREQ(e.what(),
                 "memkit::track_global: operator new(size 32, align 24) failed: alignment is not "
                 "a power of two");
    EXPECT_EQ(e.size(), 32u);
    EXPECT_EQ(e.alignment(), 24u);
  }
  EXPECT_EQ(what_of_new([] { return operator new[](8, std::align_val_t{0}); }),
            "memkit::track_global: operator new(size 8, align 0) failed: alignment is not a "
            "power of two");
  EXPECT_EQ(what_of_new([] { return operator new (8, std::align_val_t{3}); }),
            "memkit::track_global: operator new(size 8, align 3) failed: alignment is not a "
            "power of two");
  // Nothing was counted for the refused requests (only the messages' strings, now freed).
  EXPECT_EQ(delta.now().live_blocks, 0u);

  const HeapDelta nothrow_delta;
  void* a = operator new (32, std::align_val_t{24}, std::nothrow);
  void* b = operator new[](32, std::align_val_t{48}, std::nothrow);
  const AllocCounts counted = nothrow_delta.now();
  EXPECT_EQ(a, nullptr);
  EXPECT_EQ(b, nullptr);
  EXPECT_EQ(counted, AllocCounts{});
}

TEST(HeapHookErrorsTest, ASizeNoBlockCanHaveThrowsAllocError) {
  const HeapDelta delta;
  EXPECT_EQ(what_of_new([] { return operator new(opaque(SIZE_MAX)); }),
            "memkit::track_global: operator new(size 18446744073709551615, align 16) failed: size "
            "exceeds PTRDIFF_MAX with the block's header");
  EXPECT_EQ(what_of_new([] { return operator new[](opaque(PTRDIFF_MAX)); }),
            "memkit::track_global: operator new(size 9223372036854775807, align 16) failed: size "
            "exceeds PTRDIFF_MAX with the block's header");
  EXPECT_EQ(what_of_new([] { return operator new(opaque(PTRDIFF_MAX - 32), k64); }),
            "memkit::track_global: operator new(size 9223372036854775775, align 64) failed: size "
            "exceeds PTRDIFF_MAX with the block's header");
  EXPECT_EQ(delta.now().live_blocks, 0u);

  const HeapDelta nothrow_delta;
  void* a = operator new(opaque(SIZE_MAX), std::nothrow);
  void* b = operator new[](opaque(SIZE_MAX), k64, std::nothrow);
  const AllocCounts counted = nothrow_delta.now();
  EXPECT_EQ(a, nullptr);
  EXPECT_EQ(b, nullptr);
  EXPECT_EQ(counted, AllocCounts{});
}

int g_handler_calls = 0;

TEST(HeapHookErrorsTest, OutOfMemoryCallsTheNewHandlerThenThrowsAllocError) {
  constexpr std::size_t kPetabyte = std::size_t{1} << 50;  // more than any address space here
  const HeapDelta delta;
  g_handler_calls = 0;
  // A handler that cannot free anything: the second time, it gives up by uninstalling itself.
  std::set_new_handler([] {
    if (++g_handler_calls == 2) std::set_new_handler(nullptr);
  });
  EXPECT_EQ(what_of_new([] { return operator new(opaque(kPetabyte)); }),
            "memkit::track_global: operator new(size 1125899906842624, align 16) failed: out of "
            "memory");
  EXPECT_EQ(g_handler_calls, 2);

  EXPECT_EQ(delta.now().live_blocks, 0u);

  g_handler_calls = 0;
  std::set_new_handler([] {
    ++g_handler_calls;
    throw std::bad_alloc();  // the other way a handler may give up
  });
  const HeapDelta nothrow_delta;
  void* p = operator new(opaque(kPetabyte), k64, std::nothrow);
  const AllocCounts counted = nothrow_delta.now();
  std::set_new_handler(nullptr);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(g_handler_calls, 1);
  EXPECT_EQ(counted, AllocCounts{});
}

// ---- bad deletes: the program stops with a message ---------------------------------------------

class HeapHookDeathTest : public ::testing::Test {
 protected:
  void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(HeapHookDeathTest, ASizedDeleteWithTheWrongSizeStopsTheProgram) {
  EXPECT_DEATH(
      {
        void* p = operator new(32);
        operator delete (p, std::size_t{16});
      },
      "memkit: fatal: memkit::track_global: operator delete\\(0x[0-9a-f]+, size 16\\) failed: "
      "the block was allocated with size 32");
}

TEST_F(HeapHookDeathTest, AnAlignedDeleteWithTheWrongAlignmentStopsTheProgram) {
  EXPECT_DEATH(
      {
        void* p = operator new(32, k64);
        operator delete (p, std::align_val_t{128});
      },
      "operator delete\\(0x[0-9a-f]+, align 128\\) failed: the block was allocated with "
      "alignment 64");
  EXPECT_DEATH(
      {
        void* p = operator new(32);
        operator delete (p, std::size_t{32}, k64);
      },
      "operator delete\\(0x[0-9a-f]+, size 32, align 64\\) failed: the block was allocated "
      "with the default alignment \\(16 or less\\)");
}

TEST_F(HeapHookDeathTest, DeletingWhatOperatorNewDidNotReturnStopsTheProgram) {
  EXPECT_DEATH(
      {
        alignas(16) static unsigned char buffer[64] = {};
        operator delete(opaque(buffer + 32));
      },
      "memkit: fatal: memkit::track_global: operator delete\\(0x[0-9a-f]+\\) failed: not a live "
      "block from operator new \\(freed twice, never allocated by it, or its header was "
      "overwritten\\)");
}

TEST_F(HeapHookDeathTest, ADoubleDeleteStopsTheProgram) {
  // A sanitizer sees the read of the freed header first, and reports the double delete itself.
  EXPECT_DEATH(
      {
        void* p = operator new(48, k64);  // a header that free() leaves untouched
        void* again = opaque(p);
        operator delete(p, k64);
        operator delete(again, k64);
      },
      MEMKIT_ASAN || MEMKIT_TEST_TSAN
          ? "Sanitizer: heap-use-after-free"
          : "operator delete\\(0x[0-9a-f]+, align 64\\) failed: not a live block from "
            "operator new");
}

// ---- tags ---------------------------------------------------------------------------------------

TEST(HeapTagTest, AllocationsCountUnderTheInnermostTagAndAreFreedUnderTheirOwn) {
  const memkit::HeapTagId outer = memkit::heap_tag("hook outer");
  const memkit::HeapTagId inner = memkit::heap_tag("hook inner");
  const HeapDelta outer_delta(outer);
  const HeapDelta inner_delta(inner);
  void* a = nullptr;
  void* b = nullptr;
  void* c = nullptr;
  {
    memkit::HeapTag outer_scope(outer);
    a = operator new(100);
    {
      memkit::HeapTag inner_scope(inner);
      b = operator new(200);
    }
    c = operator new(300);
  }
  EXPECT_EQ(memkit::HeapTag::current(), memkit::HeapTagId::untagged());
  const HeapDelta untagged(memkit::HeapTagId::untagged());
  {
    memkit::HeapTag elsewhere(inner);
    operator delete(a);  // counted under "hook outer", where it was allocated
  }
  operator delete(b);
  operator delete(c);
  EXPECT_EQ(outer_delta.now(), delta_of(2, 2, 0, 0, 400));
  EXPECT_EQ(inner_delta.now(), delta_of(1, 1, 0, 0, 200));
  EXPECT_EQ(untagged.now(), AllocCounts{});
}

TEST(HeapTagTest, HeapStatsListsEachTagThatAllocated) {
  void* kept = nullptr;
  {
    memkit::HeapTag tag("hook listed");
    kept = operator new(5000);
  }
  const memkit::MemoryStats stats = memkit::heap_stats();
  const memkit::TagStats* listed = nullptr;
  bool untagged = false;
  for (const memkit::TagStats& row : stats.by_tag) {
    if (row.tag == "hook listed") listed = &row;
    untagged = untagged || row.tag == "(untagged)";
  }
  ASSERT_NE(listed, nullptr);
  EXPECT_TRUE(untagged);
  EXPECT_EQ(listed->counts.live_bytes, 5000u);
  EXPECT_EQ(listed->counts.peak_bytes, 5000u);
  EXPECT_THAT(memkit::to_text(stats), HasSubstr("hook listed"));
  operator delete(kept);
}

// ---- threads ------------------------------------------------------------------------------------

TEST(HeapThreadsTest, ExitedThreadsKeepTheirCountsExactly) {
  const memkit::HeapTagId workers = memkit::heap_tag("hook workers");
  const HeapDelta delta(workers);
  constexpr int kThreads = 4;
  constexpr int kRounds = 1000;
  std::vector<std::vector<void*>> kept(kThreads);
  for (auto& blocks : kept) blocks.reserve(kRounds / 100);
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([workers, &blocks = kept[static_cast<std::size_t>(t)]] {
        memkit::HeapTag tag(workers);
        for (int i = 0; i < kRounds; ++i) {
          void* p = operator new(24);
          escape(p);
          if (i % 100 == 0) {
            blocks.push_back(p);  // freed later by the main thread
          } else {
            operator delete (p, std::size_t{24});
          }
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
  }
  constexpr std::uint64_t kAll = std::uint64_t{kThreads} * kRounds;
  constexpr std::uint64_t kKept = kAll / 100;
  EXPECT_EQ(delta.now(), delta_of(kAll, kAll - kKept, kKept * 24, kKept, kAll * 24));
  for (const auto& blocks : kept) {
    for (void* p : blocks) operator delete(p);  // another thread's blocks, freed here
  }
  EXPECT_EQ(delta.now(), delta_of(kAll, kAll, 0, 0, kAll * 24));
}

// Constructed before its thread's first operator new, so its destructor runs after the hook's
// thread-exit fold: the new and delete in it find the thread's counters gone.
struct LateAllocator {
  static inline memkit::HeapTagId tag = memkit::HeapTagId::untagged();
  bool touched = false;
  ~LateAllocator() {
    if (!touched) return;
    memkit::HeapTag scope(tag);
    void* p = operator new(77);
    escape(p);
    operator delete(p);
  }
};
thread_local LateAllocator t_late;

TEST(HeapThreadsTest, NewAndDeleteAfterAThreadsCountersAreGoneStillCount) {
  LateAllocator::tag = memkit::heap_tag("hook late");
  const HeapDelta late(LateAllocator::tag);
  const HeapDelta early(memkit::heap_tag("hook early"));
  const memkit::HeapTagId early_tag = memkit::heap_tag("hook early");
  std::thread thread([early_tag] {
    t_late.touched = true;  // registers its destructor first: it runs last
    memkit::HeapTag scope(early_tag);
    void* p = operator new(11);  // the thread's first: registers the hook's counters
    escape(p);
    operator delete(p);
  });
  thread.join();
  EXPECT_EQ(early.now(), delta_of(1, 1, 0, 0, 11));
  EXPECT_EQ(late.now(), delta_of(1, 1, 0, 0, 77));
}

// ---- the peak -----------------------------------------------------------------------------------

TEST(HeapPeakTest, ThePeakIsWithinTheFlushThresholdOfTheTruePeak) {
  const memkit::HeapTagId tag = memkit::heap_tag("hook peak");
  constexpr std::uint64_t kBlock = 100 * 1024;
  std::array<void*, 3> blocks{};
  {
    memkit::HeapTag scope(tag);
    for (void*& block : blocks) block = operator new(kBlock);
    operator delete(blocks[0]);
    operator delete(blocks[1]);
    blocks[0] = operator new(kBlock / 2);
  }
  const AllocCounts during = memkit::heap_counts(tag);
  operator delete(blocks[0]);
  operator delete(blocks[2]);
  const AllocCounts after = memkit::heap_counts(tag);
  // The true peak of this tag is 3 blocks; one thread allocated, so the slack is one threshold.
  EXPECT_GE(during.peak_bytes, 3 * kBlock - memkit::kHeapPeakFlushBytes);
  EXPECT_LE(during.peak_bytes, 3 * kBlock + memkit::kHeapPeakFlushBytes);
  EXPECT_EQ(during.live_bytes, kBlock + kBlock / 2);
  EXPECT_EQ(after.peak_bytes, during.peak_bytes);  // a peak never goes down
  EXPECT_EQ(after.live_bytes, 0u);
  const AllocCounts all = memkit::heap_counts();
  EXPECT_GE(all.peak_bytes, 3 * kBlock - memkit::kHeapPeakFlushBytes);
  EXPECT_GE(all.peak_bytes, all.live_bytes);
}

// ---- the exit summary ---------------------------------------------------------------------------

// In the child (MEMKIT_TRACK_GLOBAL_TEST_CHILD set), this program only allocates one tagged block
// and exits, from a static initializer, before gtest starts. The block stays reachable.
void* volatile g_child_block = nullptr;  // volatile: the store must stay, to keep it reachable

bool run_as_exit_summary_child() {
  if (std::getenv("MEMKIT_TRACK_GLOBAL_TEST_CHILD") == nullptr) return false;
  {
    memkit::HeapTag tag("exit summary");
    g_child_block = operator new(4242);
  }
  std::exit(0);
}
[[maybe_unused]] const bool g_is_child = run_as_exit_summary_child();

struct ChildResult {
  int exit_code = -1;
  std::string err;
};

// Runs this program again as the child above, with MEMKIT_HEAP_STATS=`setting`; its stderr.
ChildResult run_child(const char* setting) {
  std::vector<std::string> variables;
  for (char** env = environ; *env != nullptr; ++env) {
    if (std::strncmp(*env, "MEMKIT_HEAP_STATS=", 18) != 0) variables.emplace_back(*env);
  }
  variables.emplace_back("MEMKIT_TRACK_GLOBAL_TEST_CHILD=1");
  variables.emplace_back(std::string("MEMKIT_HEAP_STATS=").append(setting));
  std::vector<char*> envp;
  for (std::string& variable : variables) envp.push_back(variable.data());
  envp.push_back(nullptr);

  int pipe_ends[2];
  EXPECT_EQ(::pipe(pipe_ends), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addclose(&actions, pipe_ends[0]);
  posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  char program[] = "/proc/self/exe";
  char* argv[] = {program, nullptr};
  pid_t child = -1;
  const int spawned = ::posix_spawn(&child, program, &actions, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_ends[1]);
  ChildResult result;
  if (spawned != 0) {
    ::close(pipe_ends[0]);
    ADD_FAILURE() << "posix_spawn failed: " << std::strerror(spawned);
    return result;
  }
  char buffer[4096];
  for (ssize_t n; (n = ::read(pipe_ends[0], buffer, sizeof buffer)) > 0;) {
    result.err.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_ends[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

TEST(HeapExitSummaryTest, JsonPrintsHeapStatsAsOneObject) {
  const ChildResult child = run_child("json");
  EXPECT_EQ(child.exit_code, 0) << child.err;
  EXPECT_THAT(child.err, HasSubstr("{\"source\":\"heap (operator new)\",\"allocations\":"));
  EXPECT_THAT(child.err,
              HasSubstr("{\"tag\":\"exit summary\",\"allocations\":1,\"frees\":0,\"live_bytes\":"
                        "4242,\"live_blocks\":1,\"peak_bytes\":4242,\"total_bytes\":4242}"));
  EXPECT_THAT(child.err, HasSubstr("]}\n"));
}

TEST(HeapExitSummaryTest, TextOrOnePrintsTheTextForm) {
  for (const char* setting : {"text", "1"}) {
    const ChildResult child = run_child(setting);
    EXPECT_EQ(child.exit_code, 0) << child.err;
    EXPECT_THAT(child.err, ::testing::ContainsRegex("heap \\(operator new\\): live [0-9.]+ "
                                                    "[KMG]?i?B in [0-9]+ blocks, peak"));
    EXPECT_THAT(child.err, ::testing::ContainsRegex("  exit summary +4\\.1 KiB +1 +4\\.1 KiB"));
  }
}

TEST(HeapExitSummaryTest, ZeroOrNothingPrintsNoSummary) {
  for (const char* setting : {"0", ""}) {
    const ChildResult child = run_child(setting);
    EXPECT_EQ(child.exit_code, 0) << child.err;
    EXPECT_THAT(child.err, Not(HasSubstr("heap (operator new)")));
  }
}

TEST(HeapExitSummaryTest, AnUnknownSettingIsReportedInsteadOfASummary) {
  const ChildResult child = run_child("yaml");
  EXPECT_EQ(child.exit_code, 0) << child.err;
  EXPECT_THAT(child.err, HasSubstr("memkit: MEMKIT_HEAP_STATS=yaml is not text, json, 1 or 0: no "
                                   "heap summary printed\n"));
  EXPECT_THAT(child.err, Not(HasSubstr("heap (operator new)")));
}

}  // namespace
