// Tests of memkit::Arena, its checkpoints and ArenaScope, and its adapters ArenaResource and
// ArenaAllocator<T>: the bytes handed out, the chunks taken from and given back to upstream, the
// destructors run, the exact stats, every refusal with its message, and (under ASan) the poisoning
// of what the arena took back.
#include "memkit/alloc/arena.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <list>
#include <map>
#include <memory>
#include <memory_resource>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "memkit/alloc/arena_allocator.h"
#include "memkit/alloc/stats.h"
#include "memkit/base/error.h"
#include "memkit/base/sanitizers.h"
#include "support/counting_new.h"
#include "support/instance_tracker.h"
#include "support/throws.h"

// Types named in messages live in a named namespace, so their names are the same on every
// compiler.
namespace arena_test {

struct Plain {
  int a;
  int b;
  int c;
};

struct WithDestructor {
  memkit::testing::Tracked tracked;
};

struct alignas(64) CacheLine {
  unsigned char bytes[64];
};

struct ConstructionFailed {};

struct ThrowsOnConstruct {
  explicit ThrowsOnConstruct(int value) : tracked(value) { throw ConstructionFailed{}; }
  memkit::testing::Tracked tracked;
};

// Appends its id to a log when destroyed: the order destructors ran in.
struct Logged {
  Logged(std::vector<int>& log, int id) : log_(&log), id_(id) {}
  Logged(const Logged&) = delete;
  Logged& operator=(const Logged&) = delete;
  ~Logged() { log_->push_back(id_); }

 private:
  std::vector<int>* log_;
  int id_;
};

// A memory resource that records what it is asked for, forwards to new/delete, and can refuse.
class RecordingResource final : public std::pmr::memory_resource {
 public:
  std::vector<std::size_t> allocated;  // sizes, in order
  std::vector<std::size_t> freed;
  std::vector<std::size_t> alignments;
  int live = 0;
  bool refuse = false;           // throw std::bad_alloc
  bool throw_something = false;  // throw something else

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    if (refuse) throw std::bad_alloc();
    if (throw_something) throw std::runtime_error("upstream is broken");
    allocated.push_back(bytes);
    alignments.push_back(alignment);
    ++live;
    return std::pmr::new_delete_resource()->allocate(bytes, alignment);
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    freed.push_back(bytes);
    --live;
    std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }
};

}  // namespace arena_test

namespace {

using arena_test::CacheLine;
using arena_test::ConstructionFailed;
using arena_test::Logged;
using arena_test::Plain;
using arena_test::RecordingResource;
using arena_test::ThrowsOnConstruct;
using arena_test::WithDestructor;
using memkit::AllocError;
using memkit::Arena;
using memkit::ArenaAllocator;
using memkit::ArenaOptions;
using memkit::ArenaResource;
using memkit::ArenaScope;
using memkit::ArenaStats;
using memkit::InvalidCheckpoint;
using memkit::testing::AllocationDelta;
using memkit::testing::InstanceTracker;
using memkit::testing::what_of;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// The layout these tests count with: a 48-byte header at the start of each upstream chunk.
constexpr std::size_t kHeader = 48;
constexpr std::size_t kBig = std::numeric_limits<std::size_t>::max();

std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

// The parts joined (append, not operator+, which trips g++ 12's -Wrestrict at -O3).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view part : parts) out.append(part);
  return out;
}

ArenaOptions recording(RecordingResource& upstream) {
  ArenaOptions options;
  options.upstream = &upstream;
  return options;
}

ArenaStats make_stats(std::size_t used, std::size_t capacity, std::size_t chunks,
                      std::size_t wasted, std::size_t allocations, std::size_t destructors) {
  ArenaStats stats;
  stats.used_bytes = used;
  stats.capacity_bytes = capacity;
  stats.chunks = chunks;
  stats.wasted_bytes = wasted;
  stats.allocations = allocations;
  stats.destructors = destructors;
  return stats;
}

// ---- allocation --------------------------------------------------------------------------------

TEST(ArenaTest, AllocateReturnsAlignedDistinctWritableBytes) {
  Arena arena;
  auto* a = static_cast<unsigned char*>(arena.allocate(24));
  auto* b = static_cast<unsigned char*>(arena.allocate(24));
  std::memset(a, 0xAA, 24);
  std::memset(b, 0xBB, 24);
  EXPECT_EQ(address(a) % alignof(std::max_align_t), 0U);
  EXPECT_EQ(address(b) % alignof(std::max_align_t), 0U);
  EXPECT_GE(address(b), address(a) + 24);  // bumped forward, no overlap
  EXPECT_EQ(a[23], 0xAA);
  EXPECT_EQ(b[0], 0xBB);
}

TEST(ArenaTest, EveryPowerOfTwoAlignmentUpToAPage) {
  Arena arena;
  (void)arena.allocate(1, 1);  // leaves the cursor odd
  for (std::size_t alignment = 1; alignment <= Arena::kMaxAlignment; alignment *= 2) {
    void* p = arena.allocate(3, alignment);
    EXPECT_EQ(address(p) % alignment, 0U) << "alignment " << alignment;
  }
}

TEST(ArenaTest, ZeroBytesGiveANonNullAlignedPointerThatConsumesNothing) {
  Arena arena;
  void* first = arena.allocate(0);  // also the first allocation: it takes the first chunk
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(arena.stats().used_bytes, 0U);
  void* second = arena.allocate(0, 64);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(address(second) % 64, 0U);
  EXPECT_EQ(arena.stats().allocations, 2U);  // they count as blocks
  EXPECT_NE(arena.try_allocate(0), nullptr);
}

TEST(ArenaTest, MakesNoAllocationUntilTheFirstRequest) {
  AllocationDelta delta;
  {
    Arena arena;
    EXPECT_EQ(delta.allocations(), 0);
    EXPECT_EQ(arena.stats(), make_stats(0, 0, 0, 0, 0, 0));
    (void)arena.allocate(8);
    EXPECT_EQ(delta.allocations(), 1);  // the first chunk
    EXPECT_EQ(delta.live_bytes(), 4096);
  }
  EXPECT_EQ(delta.live_blocks(), 0);  // and ~Arena gave it back
}

TEST(ArenaTest, ChunksDoubleUpToTheMaximum) {
  RecordingResource upstream;
  ArenaOptions options = recording(upstream);
  options.first_chunk_size = 1024;
  options.max_chunk_size = 8192;
  {
    Arena arena(options);
    for (int i = 0; i < 200; ++i) (void)arena.allocate(200);  // 40,000 bytes, never a quarter-chunk
    EXPECT_THAT(upstream.allocated, ElementsAre(1024, 2048, 4096, 8192, 8192, 8192, 8192, 8192));
    EXPECT_THAT(upstream.alignments, ::testing::Each(alignof(std::max_align_t)));
  }
  EXPECT_EQ(upstream.live, 0);
}

TEST(ArenaTest, AnOversizedRequestGetsItsOwnChunkAndLeavesTheGrowthAlone) {
  // bumpalo #152: "allocate 10 B, 1 MB, 10 B" must not make the next chunk 2 MB.
  RecordingResource upstream;
  Arena arena(recording(upstream));
  void* small = arena.allocate(10);
  void* big = arena.allocate(1 << 20);
  void* small_again = arena.allocate(10);
  EXPECT_THAT(upstream.allocated, ElementsAre(4096, kHeader + (1 << 20)));
  // The current chunk was not abandoned: the next small request follows the first.
  EXPECT_EQ(address(small_again), address(small) + 16);
  std::memset(big, 1, 1 << 20);
  // A dedicated chunk counts in the stats, with its header as waste.
  EXPECT_EQ(arena.stats(),
            make_stats(26 + (1 << 20), 4096 + kHeader + (1 << 20), 2, 2 * kHeader, 3, 0));
  // Only normal chunks grow the sequence: filling the first asks for 8 KiB next.
  for (int i = 0; i < 10; ++i) (void)arena.allocate(500);
  EXPECT_EQ(upstream.allocated.back(), 8192U);
}

TEST(ArenaTest, AQuarterOfTheNextChunkIsTheDedicatedThreshold) {
  // 4000 bytes fill most of the 4 KiB first chunk (the first chunk takes any request it can
  // hold); the next chunk would be 8 KiB, a quarter of it 2048 bytes with the header.
  RecordingResource upstream;
  Arena arena(recording(upstream));
  (void)arena.allocate(4000);
  (void)arena.allocate(2048 - kHeader);  // exactly a quarter: a new normal chunk
  EXPECT_THAT(upstream.allocated, ElementsAre(4096, 8192));

  RecordingResource upstream2;
  Arena arena2(recording(upstream2));
  (void)arena2.allocate(4000);
  (void)arena2.allocate(2048 - kHeader + 1);  // one byte more: dedicated
  EXPECT_THAT(upstream2.allocated, ElementsAre(4096, 2048 + 1));
  EXPECT_EQ(arena2.stats().chunks, 2U);
}

TEST(ArenaTest, OverAlignedDedicatedChunksAreAlignedUpstream) {
  RecordingResource upstream;
  Arena arena(recording(upstream));
  void* p = arena.allocate(100'000, 4096);
  EXPECT_EQ(address(p) % 4096, 0U);
  EXPECT_THAT(upstream.allocated, ElementsAre(4096 + 100'000));  // the header rounded to 4096
  EXPECT_THAT(upstream.alignments, ElementsAre(4096));
  EXPECT_EQ(arena.stats().wasted_bytes, 4096U);
}

TEST(ArenaTest, SmallChunkOptionsAreRaisedToTheMinimum) {
  RecordingResource upstream;
  ArenaOptions options = recording(upstream);
  options.first_chunk_size = 10;  // raised to 256
  options.max_chunk_size = 1;     // raised to the first chunk's size
  Arena arena(options);
  for (int i = 0; i < 20; ++i) (void)arena.allocate(16);  // 13 fit in the 208 bytes after a header
  EXPECT_THAT(upstream.allocated, ElementsAre(256, 256));
}

TEST(ArenaTest, TheCallersBufferIsTheFirstChunkAndIsNeverFreed) {
  RecordingResource upstream;
  alignas(16) std::array<std::byte, 1024> buffer{};
  {
    Arena arena(buffer, recording(upstream));
    EXPECT_EQ(arena.stats(), make_stats(0, 1024, 1, 0, 0, 0));  // no header: it is all ours
    void* p = arena.allocate(1000);
    EXPECT_EQ(p, buffer.data());
    EXPECT_THAT(upstream.allocated, IsEmpty());
    (void)arena.allocate(100);  // does not fit: the next chunk is max(2 * 1024, 4096)
    EXPECT_THAT(upstream.allocated, ElementsAre(4096));
    arena.reset();  // keeps the buffer, returns the upstream chunk
    EXPECT_THAT(upstream.freed, ElementsAre(4096));
    EXPECT_EQ(arena.allocate(8), buffer.data());
  }
  EXPECT_EQ(upstream.live, 0);
  EXPECT_THAT(upstream.freed, ElementsAre(4096));  // the buffer was not given upstream
}

TEST(ArenaTest, AnEmptyBufferIsTheSameAsNone) {
  RecordingResource upstream;
  Arena arena(std::span<std::byte>(), recording(upstream));
  EXPECT_EQ(arena.stats().chunks, 0U);
  EXPECT_NE(arena.allocate(0), nullptr);
  EXPECT_THAT(upstream.allocated, ElementsAre(4096));
}

TEST(ArenaTest, ANonGrowableArenaLivesInItsBuffer) {
  alignas(16) std::array<std::byte, 256> buffer{};
  ArenaOptions options;
  options.growable = false;
  options.upstream = nullptr;  // never used
  Arena arena(buffer, options);
  (void)arena.allocate(200);
  EXPECT_EQ(what_of<AllocError>([&] { (void)arena.allocate(64); }),
            "memkit::Arena: allocate(size 64, align 16) failed: fixed capacity of 256 bytes "
            "exhausted (56 left)");
  EXPECT_EQ(arena.try_allocate(64), nullptr);
  EXPECT_EQ(what_of<AllocError>([&] { (void)arena.allocate(10'000); }),
            "memkit::Arena: allocate(size 10000, align 16) failed: fixed capacity of 256 bytes "
            "exhausted (56 left)");
  EXPECT_NE(arena.allocate(56, 1), nullptr);  // an exact fit still works
  EXPECT_EQ(arena.stats().used_bytes, 256U);
}

// ---- bad requests ------------------------------------------------------------------------------

TEST(ArenaTest, AnAlignmentThatIsNotAPowerOfTwoIsRefused) {
  Arena arena;
  (void)arena.allocate(8);
  const ArenaStats before = arena.stats();
  for (std::size_t alignment : {std::size_t{0}, std::size_t{3}, std::size_t{48}, kBig}) {
    EXPECT_EQ(what_of<AllocError>([&] { (void)arena.allocate(64, alignment); }),
              cat({"memkit::Arena: allocate(size 64, align ", std::to_string(alignment),
                   ") failed: alignment is not a power of two"}));
    EXPECT_EQ(arena.try_allocate(64, alignment), nullptr);
  }
  EXPECT_EQ(arena.stats(), before);  // nothing changed
}

TEST(ArenaTest, AnAlignmentAboveAPageIsRefused) {
  Arena arena;
  try {
    (void)arena.allocate(64, 8192);
    ADD_FAILURE() << "no exception";
  } catch (const AllocError& e) {
    EXPECT_STREQ(e.what(),
                 "memkit::Arena: allocate(size 64, align 8192) failed: alignment exceeds the "
                 "page size (4096)");
    EXPECT_EQ(e.size(), 64U);
    EXPECT_EQ(e.alignment(), 8192U);
  }
  EXPECT_EQ(arena.try_allocate(64, 8192), nullptr);
}

TEST(ArenaTest, ASizeThatOverflowsIsRefused) {
  Arena arena;
  (void)arena.allocate(8);
  const ArenaStats before = arena.stats();
  const std::string largest = std::to_string(Arena::kMaxRequest);
  for (std::size_t size : {kBig, kBig - 15, Arena::kMaxRequest + 1}) {
    EXPECT_EQ(
        what_of<AllocError>([&] { (void)arena.allocate(size); }),
        cat({"memkit::Arena: allocate(size ", std::to_string(size),
             ", align 16) failed: size overflows (the largest request is ", largest, " bytes)"}));
    EXPECT_EQ(arena.try_allocate(size), nullptr);
    EXPECT_EQ(arena.try_allocate(size, 4096), nullptr);
  }
  EXPECT_EQ(arena.stats(), before);
}

TEST(ArenaTest, AnUpstreamThatRefusesIsReported) {
  RecordingResource upstream;
  upstream.refuse = true;
  Arena arena(recording(upstream));
  EXPECT_EQ(what_of<AllocError>([&] { (void)arena.allocate(16); }),
            "memkit::Arena: allocate(size 16, align 16) failed: upstream refused a chunk of 4096 "
            "bytes");
  EXPECT_EQ(arena.try_allocate(16), nullptr);
  EXPECT_EQ(what_of<AllocError>([&] { (void)arena.allocate(10'000); }),
            "memkit::Arena: allocate(size 10000, align 16) failed: upstream refused a chunk of "
            "10048 bytes");
  EXPECT_EQ(arena.stats(), make_stats(0, 0, 0, 0, 0, 0));
  upstream.refuse = false;
  EXPECT_NE(arena.allocate(16), nullptr);  // and the arena still works
}

TEST(ArenaTest, AnUpstreamsOtherExceptionsPassThroughAllocateButNotTryAllocate) {
  RecordingResource upstream;
  upstream.throw_something = true;
  Arena arena(recording(upstream));
  EXPECT_THROW((void)arena.allocate(16), std::runtime_error);
  EXPECT_EQ(arena.try_allocate(16), nullptr);
  EXPECT_EQ(arena.stats(), make_stats(0, 0, 0, 0, 0, 0));
}

TEST(ArenaTest, ANullUpstreamIsRefusedAtConstruction) {
  ArenaOptions options;
  options.upstream = nullptr;
  EXPECT_EQ(what_of<memkit::NullPointer>([&] { Arena arena(options); }),
            "memkit::Arena: ArenaOptions::upstream was given a null pointer");
}

TEST(ArenaTest, MessagesUseTheArenasName) {
  ArenaOptions options;
  options.name = "parser arena";
  Arena arena(options);
  EXPECT_EQ(arena.name(), "parser arena");
  EXPECT_EQ(what_of<AllocError>([&] { (void)arena.allocate(1, 3); }),
            "parser arena: allocate(size 1, align 3) failed: alignment is not a power of two");
  EXPECT_EQ(arena.memory_stats().source, "parser arena");
}

// ---- the capacity limit ------------------------------------------------------------------------

TEST(ArenaTest, TheLimitCountsTheCurrentChunkAndShrinksTheLastOne) {
  RecordingResource upstream;
  ArenaOptions options = recording(upstream);
  options.max_capacity_bytes = 10'000;
  Arena arena(options);
  for (int i = 0; i < 16; ++i) (void)arena.allocate(500);  // 8,000 bytes: 4096 + a shrunk chunk
  EXPECT_THAT(upstream.allocated, ElementsAre(4096, 10'000 - 4096));
  EXPECT_EQ(arena.stats().capacity_bytes, 10'000U);  // exactly the limit
  (void)arena.allocate(1000);                        // still fits
  EXPECT_EQ(what_of<AllocError>([&] { (void)arena.allocate(1000); }),
            "memkit::Arena: allocate(size 1000, align 16) failed: limit of 10000 bytes reached "
            "(10000 held, a chunk of 1048 more needed)");
  EXPECT_EQ(arena.try_allocate(1000), nullptr);
  EXPECT_EQ(what_of<AllocError>([&] { (void)arena.allocate(5000); }),
            "memkit::Arena: allocate(size 5000, align 16) failed: limit of 10000 bytes reached "
            "(10000 held, a chunk of 5048 more needed)");
  arena.reset();  // the first chunk stays, the rest is budget again
  EXPECT_EQ(arena.stats().capacity_bytes, 4096U);
  EXPECT_NE(arena.allocate(5000), nullptr);
}

TEST(ArenaTest, ALimitBelowTheFirstChunkShrinksTheFirstChunk) {
  RecordingResource upstream;
  ArenaOptions options = recording(upstream);
  options.max_capacity_bytes = 1000;
  Arena arena(options);
  (void)arena.allocate(100);
  EXPECT_THAT(upstream.allocated, ElementsAre(1000));
  EXPECT_EQ(arena.try_allocate(900), nullptr);  // 1000 - 48 - 100 = 852 left
  EXPECT_NE(arena.try_allocate(852, 1), nullptr);
}

// ---- make<T> and destructors -------------------------------------------------------------------

TEST(ArenaTest, MakeBuildsTheObjectInPlace) {
  Arena arena;
  auto* text = arena.make<std::string>(3, 'x');
  EXPECT_EQ(*text, "xxx");
  Plain* plain = arena.make<Plain>(1, 2, 3);  // an aggregate, with braces
  EXPECT_EQ(plain->a + plain->b + plain->c, 6);
  Plain* zeroed = arena.make<Plain>(7);  // the other fields are value-initialized
  EXPECT_EQ(zeroed->b, 0);
  CacheLine* line = arena.make<CacheLine>();
  EXPECT_EQ(address(line) % 64, 0U);
  arena.reset();
}

TEST(ArenaTest, TriviallyDestructibleObjectsCostNothingExtra) {
  Arena arena;
  arena.make<Plain>(1, 2, 3);
  arena.make<Plain>(4, 5, 6);
  EXPECT_EQ(arena.stats().used_bytes, 2 * sizeof(Plain));  // no record, no padding (align 4)
  EXPECT_EQ(arena.stats().destructors, 0U);
}

TEST(ArenaTest, ObjectsWithDestructorsAreRegisteredNextToThemselves) {
  InstanceTracker tracker;
  Arena arena;
  WithDestructor* object = arena.make<WithDestructor>(memkit::testing::Tracked(1));
  EXPECT_EQ(object->tracked.value(), 1);
  // A 16-byte record in front of the object, in the same block.
  EXPECT_EQ(arena.stats().used_bytes, 16 + 8U);
  EXPECT_EQ(arena.stats().destructors, 1U);
  EXPECT_EQ(arena.stats().allocations, 1U);
  arena.reset();
  EXPECT_EQ(tracker.live(), 0);
  EXPECT_EQ(arena.stats().destructors, 0U);
}

TEST(ArenaTest, ResetRunsDestructorsNewestFirst) {
  std::vector<int> log;
  Arena arena;
  for (int id = 1; id <= 4; ++id) arena.make<Logged>(log, id);
  EXPECT_THAT(log, IsEmpty());
  arena.reset();
  EXPECT_THAT(log, ElementsAre(4, 3, 2, 1));
  arena.reset();  // nothing left to run
  EXPECT_THAT(log, ElementsAre(4, 3, 2, 1));
}

TEST(ArenaTest, DestructionRunsDestructorsNewestFirst) {
  std::vector<int> log;
  {
    Arena arena;
    arena.make<Logged>(log, 1);
    (void)arena.allocate(100'000);  // a dedicated chunk in between
    arena.make<Logged>(log, 2);
  }
  EXPECT_THAT(log, ElementsAre(2, 1));
}

TEST(ArenaTest, AThrowingConstructorLeavesNoRecordAndLeaksNothing) {
  InstanceTracker tracker;
  AllocationDelta delta;
  {
    Arena arena;
    arena.make<WithDestructor>(memkit::testing::Tracked(1));
    EXPECT_THROW(arena.make<ThrowsOnConstruct>(2), ConstructionFailed);
    EXPECT_EQ(arena.stats().destructors, 1U);  // only the first
    EXPECT_EQ(tracker.live(), 1);
    arena.reset();
    // The temporary Tracked(1), the member of the failed object, and the first object.
    EXPECT_EQ(tracker.destroyed(), 3);
  }
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(ArenaTest, MakeReportsTheTypeWhenItCannotAllocate) {
  alignas(16) std::array<std::byte, 64> buffer{};
  ArenaOptions options;
  options.growable = false;
  Arena arena(buffer, options);
  (void)arena.allocate(60, 1);
  EXPECT_EQ(what_of<AllocError>([&] { arena.make<Plain>(1, 2, 3); }),
            "memkit::Arena: make<arena_test::Plain>(size 12, align 4) failed: fixed capacity "
            "of 64 bytes exhausted (4 left)");
}

TEST(ArenaTest, ADestructorThatMakesObjectsDuringResetIsRunToo) {
  struct Spawner {
    Arena* arena;
    std::vector<int>* log;
    ~Spawner() { arena->make<Logged>(*log, 99); }
  };
  std::vector<int> log;
  Arena arena;
  arena.make<Logged>(log, 1);
  arena.make<Spawner>(&arena, &log);
  arena.reset();
  EXPECT_THAT(log, ElementsAre(99, 1));
  EXPECT_EQ(arena.stats().destructors, 0U);
}

// ---- reset -------------------------------------------------------------------------------------

TEST(ArenaTest, ResetKeepsTheFirstChunkAndReturnsTheRest) {
  RecordingResource upstream;
  Arena arena(recording(upstream));
  void* first = arena.allocate(1000);
  for (int i = 0; i < 19; ++i) (void)arena.allocate(1000);  // 4 in the first chunk, 8 in the second
  (void)arena.allocate(100'000);                            // dedicated
  EXPECT_THAT(upstream.allocated, ElementsAre(4096, 8192, 16384, kHeader + 100'000));
  arena.reset();
  EXPECT_THAT(upstream.freed, ElementsAre(kHeader + 100'000, 8192, 16384));
  EXPECT_EQ(arena.stats(), make_stats(0, 4096, 1, kHeader, 0, 0));
  EXPECT_EQ(arena.allocate(1000), first);  // the same bytes again
  EXPECT_EQ(upstream.allocated.size(), 4U);
}

TEST(ArenaTest, KeepChunksOnResetKeepsEveryNormalChunk) {
  RecordingResource upstream;
  ArenaOptions options = recording(upstream);
  options.keep_chunks_on_reset = true;
  Arena arena(options);
  std::vector<void*> first_round;
  for (int i = 0; i < 20; ++i) first_round.push_back(arena.allocate(1000));
  (void)arena.allocate(100'000);  // dedicated: still returned
  EXPECT_THAT(upstream.allocated, ElementsAre(4096, 8192, 16384, kHeader + 100'000));
  arena.reset();
  EXPECT_THAT(upstream.freed, ElementsAre(kHeader + 100'000));
  EXPECT_EQ(arena.stats(), make_stats(0, 4096 + 8192 + 16384, 3, 3 * kHeader, 0, 0));
  // The second round walks the same chunks without asking upstream.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(arena.allocate(1000), first_round[i]) << i;
  EXPECT_EQ(upstream.allocated.size(), 4U);
}

TEST(ArenaTest, AKeptChunkTooSmallForARequestIsPassedOverForADedicatedOne) {
  RecordingResource upstream;
  ArenaOptions options = recording(upstream);
  options.keep_chunks_on_reset = true;
  options.max_capacity_bytes = 4096 + 1000;  // the second chunk is shrunk to 1000 bytes
  Arena arena(options);
  (void)arena.allocate(4000);
  (void)arena.allocate(500);
  EXPECT_THAT(upstream.allocated, ElementsAre(4096, 1000));
  arena.reset();
  (void)arena.allocate(4000);
  // 1000 bytes fit neither the rest of the first chunk nor the kept 1000-byte one (its header
  // takes 48): a dedicated chunk would be next, and the limit refuses it.
  EXPECT_EQ(arena.try_allocate(1000), nullptr);
  EXPECT_NE(arena.try_allocate(900), nullptr);  // fits the kept chunk
  EXPECT_EQ(upstream.allocated.size(), 2U);
}

// ---- stats -------------------------------------------------------------------------------------

TEST(ArenaStatsTest, ExactNumbersForAKnownSequence) {
  InstanceTracker tracker;
  Arena arena;
  (void)arena.allocate(10, 1);   // [0, 10)
  (void)arena.allocate(8, 8);    // 6 bytes of padding, [16, 24)
  (void)arena.allocate(32);      // 8 bytes of padding, [32, 64)
  arena.make<Plain>(1, 2, 3);    // [64, 76)
  arena.make<WithDestructor>();  // record + object: 4 bytes of padding, [80, 104)
  EXPECT_EQ(arena.stats(), make_stats(104, 4096, 1, kHeader, 5, 1));

  (void)arena.allocate(5000);  // dedicated: 48 + 5000 bytes
  EXPECT_EQ(arena.stats(), make_stats(5104, 4096 + 5048, 2, 2 * kHeader, 6, 1));

  (void)arena.allocate(2000);  // 8 bytes of padding, [112, 2112) of the first chunk
  (void)arena.allocate(2000);  // does not fit in the 4048 - 2112 left: a new 8 KiB chunk
  const std::size_t tail = 4096 - kHeader - 2112;
  EXPECT_EQ(arena.stats(),
            make_stats(2112 + 5000 + 2000, 4096 + 5048 + 8192, 3, 3 * kHeader + tail, 8, 1));

  const Arena::Checkpoint mark = arena.mark();
  (void)arena.allocate(100);
  EXPECT_EQ(arena.stats().used_bytes, 9212U);
  arena.rewind(mark);
  EXPECT_EQ(arena.stats(),
            make_stats(2112 + 5000 + 2000, 4096 + 5048 + 8192, 3, 3 * kHeader + tail, 8, 1));

  arena.reset();
  EXPECT_EQ(arena.stats(), make_stats(0, 4096, 1, kHeader, 0, 0));
}

TEST(ArenaStatsTest, MemoryStatsSpanResetsAndRewinds) {
  Arena arena;
  (void)arena.allocate(1000);  // [0, 1000)
  (void)arena.allocate(1000);  // [1008, 2008)
  const Arena::Checkpoint mark = arena.mark();
  (void)arena.allocate(500);  // [2016, 2516): the peak
  arena.rewind(mark);         // releases 1 block, 508 bytes with its padding
  (void)arena.allocate(16);   // [2016, 2032)
  arena.reset();              // releases 3 blocks, 2032 bytes
  (void)arena.allocate(64);

  const memkit::MemoryStats stats = arena.memory_stats();
  EXPECT_EQ(stats.source, "memkit::Arena");
  EXPECT_EQ(stats.counts.allocations, 5U);
  EXPECT_EQ(stats.counts.frees, 4U);
  EXPECT_EQ(stats.counts.live_blocks, 1U);
  EXPECT_EQ(stats.counts.live_bytes, 64U);
  EXPECT_EQ(stats.counts.peak_bytes, 2516U);
  EXPECT_EQ(stats.counts.total_bytes, 508U + 2032U + 64U);
  ASSERT_TRUE(stats.footprint.has_value());
  EXPECT_EQ(stats.footprint->capacity_bytes, 4096U);
  EXPECT_EQ(stats.footprint->chunks, 1U);
  EXPECT_EQ(stats.footprint->wasted_bytes, kHeader);
  EXPECT_THAT(stats.by_tag, IsEmpty());
  EXPECT_THAT(memkit::to_text(stats), ::testing::StartsWith("memkit::Arena"));
}

// ---- checkpoints -------------------------------------------------------------------------------

TEST(ArenaCheckpointTest, RewindReleasesWhatCameAfterTheMark) {
  std::vector<int> log;
  Arena arena;
  arena.make<Logged>(log, 1);
  const Arena::Checkpoint mark = arena.mark();
  void* after = arena.allocate(64);
  arena.make<Logged>(log, 2);
  arena.make<Logged>(log, 3);
  arena.rewind(mark);
  EXPECT_THAT(log, ElementsAre(3, 2));  // only those made after the mark, newest first
  EXPECT_EQ(arena.stats().allocations, 1U);
  EXPECT_EQ(arena.stats().destructors, 1U);
  EXPECT_EQ(arena.allocate(64), after);  // the same bytes are handed out again
  arena.reset();
  EXPECT_THAT(log, ElementsAre(3, 2, 1));
}

TEST(ArenaCheckpointTest, RewindingToTheSameCheckpointAgainIsAllowed) {
  Arena arena;
  const Arena::Checkpoint mark = arena.mark();
  for (int i = 0; i < 3; ++i) {
    (void)arena.allocate(100);
    arena.rewind(mark);
    EXPECT_EQ(arena.stats().allocations, 0U);
  }
  arena.rewind(mark);  // with nothing made since: nothing to do
  EXPECT_EQ(arena.stats().used_bytes, 0U);
}

TEST(ArenaCheckpointTest, NestedCheckpointsRewindInnerThenOuter) {
  Arena arena;
  (void)arena.allocate(16);
  const Arena::Checkpoint outer = arena.mark();
  (void)arena.allocate(16);
  const Arena::Checkpoint inner = arena.mark();
  (void)arena.allocate(16);
  arena.rewind(inner);
  EXPECT_EQ(arena.stats().allocations, 2U);
  arena.rewind(outer);
  EXPECT_EQ(arena.stats().allocations, 1U);
}

TEST(ArenaCheckpointTest, RewindAcrossChunksReturnsTheLaterChunks) {
  RecordingResource upstream;
  Arena arena(recording(upstream));
  (void)arena.allocate(1000);
  const Arena::Checkpoint mark = arena.mark();
  void* next = arena.allocate(1000);
  for (int i = 0; i < 20; ++i) (void)arena.allocate(1000);
  (void)arena.allocate(50'000);  // dedicated
  EXPECT_THAT(upstream.allocated, ElementsAre(4096, 8192, 16384, kHeader + 50'000));
  arena.rewind(mark);
  EXPECT_THAT(upstream.freed, ElementsAre(kHeader + 50'000, 8192, 16384));
  EXPECT_EQ(arena.stats(), make_stats(1000, 4096, 1, kHeader, 1, 0));
  EXPECT_EQ(arena.allocate(1000), next);
}

TEST(ArenaCheckpointTest, RewindKeepsTheLaterChunksWhenAsked) {
  RecordingResource upstream;
  ArenaOptions options = recording(upstream);
  options.keep_chunks_on_reset = true;
  Arena arena(options);
  (void)arena.allocate(1000);
  const Arena::Checkpoint mark = arena.mark();
  for (int i = 0; i < 10; ++i) (void)arena.allocate(1000);
  arena.rewind(mark);
  EXPECT_THAT(upstream.freed, IsEmpty());
  EXPECT_EQ(arena.stats(), make_stats(1000, 4096 + 8192, 2, 2 * kHeader, 1, 0));
  for (int i = 0; i < 10; ++i) (void)arena.allocate(1000);
  EXPECT_EQ(upstream.allocated.size(), 2U);  // reused, not asked for again
}

TEST(ArenaCheckpointTest, ACheckpointOfAnEmptyArenaReturnsToTheFirstChunk) {
  RecordingResource upstream;
  Arena arena(recording(upstream));
  const Arena::Checkpoint mark = arena.mark();  // no chunk yet
  void* first = arena.allocate(3000);
  (void)arena.allocate(2000);  // a second chunk
  arena.rewind(mark);
  EXPECT_THAT(upstream.freed, ElementsAre(8192));
  EXPECT_EQ(arena.stats(), make_stats(0, 4096, 1, kHeader, 0, 0));
  EXPECT_EQ(arena.allocate(3000), first);
}

TEST(ArenaCheckpointTest, ACheckpointOfAnotherArenaIsRefused) {
  Arena arena;
  Arena other;
  const Arena::Checkpoint mark = other.mark();
  EXPECT_EQ(what_of<InvalidCheckpoint>([&] { arena.rewind(mark); }),
            "memkit::Arena: rewind() to a checkpoint of another arena");
}

TEST(ArenaCheckpointTest, ACheckpointFromBeforeAResetIsRefused) {
  Arena arena;
  (void)arena.allocate(16);
  const Arena::Checkpoint old = arena.mark();
  arena.reset();
  (void)arena.allocate(16);
  (void)arena.allocate(16);
  EXPECT_EQ(what_of<InvalidCheckpoint>([&] { arena.rewind(old); }),
            "memkit::Arena: rewind() to a checkpoint taken before the last reset()");
  const Arena::Checkpoint fresh = arena.mark();
  (void)arena.allocate(16);
  arena.rewind(fresh);  // one taken after the reset is fine
  EXPECT_EQ(arena.stats().allocations, 2U);
}

TEST(ArenaCheckpointTest, ACheckpointAheadOfTheArenaIsRefused) {
  Arena arena;
  const Arena::Checkpoint outer = arena.mark();
  (void)arena.allocate(16);
  const Arena::Checkpoint inner = arena.mark();
  (void)arena.allocate(16);
  arena.rewind(outer);
  EXPECT_EQ(what_of<InvalidCheckpoint>([&] { arena.rewind(inner); }),
            "memkit::Arena: rewind() to a checkpoint that an earlier rewind() already released");
  EXPECT_EQ(arena.stats().allocations, 0U);
}

TEST(ArenaCheckpointTest, ACheckpointReleasedAndThenBuiltOverIsRefused) {
  // Behind the cursor again, but its bytes and destructor records now belong to other objects.
  std::vector<int> log;
  Arena arena;
  const Arena::Checkpoint outer = arena.mark();
  arena.make<Logged>(log, 1);
  const Arena::Checkpoint inner = arena.mark();
  arena.make<Logged>(log, 2);
  arena.rewind(outer);
  for (int id = 3; id <= 6; ++id) arena.make<Logged>(log, id);
  EXPECT_EQ(what_of<InvalidCheckpoint>([&] { arena.rewind(inner); }),
            "memkit::Arena: rewind() to a checkpoint that an earlier rewind() already released");
  EXPECT_THAT(log, ElementsAre(2, 1));
  arena.rewind(outer);  // the outer one is still good
  EXPECT_THAT(log, ElementsAre(2, 1, 6, 5, 4, 3));
}

TEST(ArenaCheckpointTest, SixteenLevelsOfRewindsAreRememberedExactly) {
  // A staircase: at each level a checkpoint, something above it, and a rewind to it. Every
  // checkpoint stays valid, and each rewind adds a level to the history.
  Arena arena;
  std::vector<Arena::Checkpoint> marks;
  for (int level = 0; level < 16; ++level) {
    (void)arena.allocate(16);
    marks.push_back(arena.mark());
    (void)arena.allocate(16);
    arena.rewind(marks.back());
  }
  for (int level = 15; level >= 0; --level) {
    (void)arena.allocate(16);
    arena.rewind(marks[static_cast<std::size_t>(level)]);
    EXPECT_EQ(arena.stats().allocations, static_cast<std::size_t>(level) + 1);
  }
}

TEST(ArenaCheckpointTest, BeyondSixteenLevelsAnOldCheckpointMayBeRefusedButNoInvalidOneIsTaken) {
  Arena arena;
  std::vector<Arena::Checkpoint> marks;
  std::vector<Arena::Checkpoint> released;  // taken above a level, then rewound past
  for (int level = 0; level < 20; ++level) {
    (void)arena.allocate(16);
    marks.push_back(arena.mark());
    (void)arena.allocate(16);
    released.push_back(arena.mark());
    (void)arena.allocate(16);
    arena.rewind(marks.back());
  }
  for (const Arena::Checkpoint& mark : released) {
    EXPECT_THROW(arena.rewind(mark), InvalidCheckpoint);
  }
  // The 16 remembered levels hold the newest checkpoints exactly...
  for (std::size_t level = 19; level >= 5; --level) {
    (void)arena.allocate(16);
    arena.rewind(marks[level]);
    EXPECT_EQ(arena.stats().allocations, level + 1);
  }
  // ... and the oldest levels were merged: levels 1 to 4 can no longer be told from released
  // ones, so they are refused. Level 0 is still known to be valid.
  EXPECT_THROW(arena.rewind(marks[4]), InvalidCheckpoint);
  EXPECT_THROW(arena.rewind(marks[1]), InvalidCheckpoint);
  arena.rewind(marks[0]);
  EXPECT_EQ(arena.stats().allocations, 1U);
}

TEST(ArenaCheckpointTest, ScopesRewindWhenTheyEnd) {
  std::vector<int> log;
  Arena arena;
  arena.make<Logged>(log, 1);
  {
    ArenaScope outer(arena);
    arena.make<Logged>(log, 2);
    {
      ArenaScope inner(arena);
      arena.make<Logged>(log, 3);
    }
    EXPECT_THAT(log, ElementsAre(3));
    arena.make<Logged>(log, 4);
  }
  EXPECT_THAT(log, ElementsAre(3, 4, 2));
  EXPECT_EQ(arena.stats().allocations, 1U);
}

TEST(ArenaCheckpointTest, AScopeCanRewindEachIterationOfALoop) {
  Arena arena;
  ArenaScope scope(arena);
  void* first = nullptr;
  for (int i = 0; i < 5; ++i) {
    void* p = arena.allocate(256);
    if (first == nullptr) first = p;
    EXPECT_EQ(p, first);
    scope.rewind();
  }
  EXPECT_EQ(&scope.checkpoint(), &scope.checkpoint());
}

TEST(ArenaCheckpointDeathTest, AScopeWhoseArenaWasResetAborts) {
  EXPECT_DEATH(
      {
        Arena arena;
        ArenaScope scope(arena);
        (void)arena.allocate(16);
        arena.reset();
      },
      "memkit: fatal: memkit::ArenaScope: memkit::Arena: rewind\\(\\) to a checkpoint taken "
      "before the last reset\\(\\)");
}

// ---- AddressSanitizer --------------------------------------------------------------------------

#if MEMKIT_ASAN
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif

TEST(ArenaAsanTest, OnlyTheBytesHandedOutAreAddressable) {
  if (!kAsan) GTEST_SKIP() << "is_poisoned() is always false without AddressSanitizer";
  Arena arena;
  auto* a = static_cast<std::byte*>(arena.allocate(32));
  EXPECT_FALSE(memkit::is_poisoned(a));
  EXPECT_FALSE(memkit::is_poisoned(a + 31));
  EXPECT_TRUE(memkit::is_poisoned(a + 32));  // the rest of the chunk
  auto* b = static_cast<std::byte*>(arena.allocate(8, 64));
  EXPECT_TRUE(memkit::is_poisoned(a + 40));  // the padding before b
  EXPECT_FALSE(memkit::is_poisoned(b));
  const Arena::Checkpoint mark = arena.mark();
  auto* c = static_cast<std::byte*>(arena.allocate(64));
  EXPECT_FALSE(memkit::is_poisoned(c));
  arena.rewind(mark);
  EXPECT_TRUE(memkit::is_poisoned(c));
  EXPECT_FALSE(memkit::is_poisoned(b));
  arena.reset();
  EXPECT_TRUE(memkit::is_poisoned(a));
  EXPECT_TRUE(memkit::is_poisoned(b));
}

TEST(ArenaAsanTest, KeptChunksAndTheCallersBufferArePoisonedUntilUsed) {
  if (!kAsan) GTEST_SKIP() << "is_poisoned() is always false without AddressSanitizer";
  alignas(16) std::array<std::byte, 256> buffer{};
  {
    ArenaOptions options;
    options.keep_chunks_on_reset = true;
    Arena arena(buffer, options);
    EXPECT_TRUE(memkit::is_poisoned(buffer.data()));
    auto* in_second = static_cast<std::byte*>(arena.allocate(500));
    EXPECT_FALSE(memkit::is_poisoned(in_second));
    arena.reset();
    EXPECT_TRUE(memkit::is_poisoned(in_second));  // kept, and poisoned
  }
  EXPECT_FALSE(memkit::is_poisoned(buffer.data()));  // the caller's again
}

TEST(ArenaAsanDeathTest, AReadAfterResetIsReported) {
  if (!kAsan) GTEST_SKIP() << "only AddressSanitizer reports a use after reset()";
  EXPECT_DEATH(
      {
        Arena arena;
        auto* value = static_cast<volatile int*>(arena.allocate(sizeof(int)));
        *value = 7;
        arena.reset();
        std::printf("%d\n", *value);
      },
      "use-after-poison");
}

TEST(ArenaAsanDeathTest, AReadOfAZeroByteAllocationIsReported) {
  if (!kAsan) GTEST_SKIP() << "only AddressSanitizer reports it";
  EXPECT_DEATH(
      {
        Arena arena;
        (void)arena.allocate(16);
        auto* nothing = static_cast<volatile char*>(arena.allocate(0));
        std::printf("%d\n", *nothing);
      },
      "use-after-poison");
}

// ---- ArenaResource -----------------------------------------------------------------------------

TEST(ArenaResourceTest, PmrContainersLiveInTheArena) {
  Arena arena;
  ArenaResource resource(arena);
  AllocationDelta delta;
  (void)arena.allocate(1);  // the first chunk, before counting the containers
  const std::int64_t after_first_chunk = delta.allocations();
  {
    std::pmr::vector<int> numbers(&resource);
    numbers.reserve(100);
    for (int i = 0; i < 100; ++i) numbers.push_back(i);
    std::pmr::string text(40, 'x', &resource);  // longer than the small-string buffer
    std::pmr::map<int, std::pmr::string> names(&resource);
    names.emplace(1, "one");
    EXPECT_EQ(numbers[99], 99);
    EXPECT_EQ(text.size(), 40U);
    EXPECT_EQ(names.at(1), "one");
  }
  EXPECT_EQ(delta.allocations(), after_first_chunk);  // nothing from operator new
  EXPECT_EQ(arena.stats().allocations, 4U);  // the byte, the vector, the string, the map node
  EXPECT_GE(arena.stats().used_bytes, 400U + 41U);  // deallocate() gave nothing back
}

TEST(ArenaResourceTest, IsEqualOnlyToItself) {
  Arena arena;
  ArenaResource first(arena);
  ArenaResource second(arena);
  EXPECT_TRUE(first.is_equal(first));
  EXPECT_FALSE(first.is_equal(second));
  EXPECT_EQ(&first.arena(), &arena);
}

TEST(ArenaResourceTest, PassesAlignmentAndErrorsThrough) {
  Arena arena;
  ArenaResource resource(arena);
  void* p = resource.allocate(100, 256);
  EXPECT_EQ(address(p) % 256, 0U);
  resource.deallocate(p, 100, 256);  // nothing
  EXPECT_EQ(what_of<AllocError>([&] { (void)resource.allocate(8, 24); }),
            "memkit::Arena: allocate(size 8, align 24) failed: alignment is not a power of two");
}

TEST(ArenaResourceTest, OutlivingTheArenaGivesUseAfterFree) {
  auto arena = std::make_unique<Arena>();
  ArenaResource resource(*arena);
  void* p = resource.allocate(16);
  EXPECT_TRUE(resource.arena_alive());
  arena.reset();
  EXPECT_FALSE(resource.arena_alive());
  EXPECT_EQ(what_of<memkit::UseAfterFree>([&] { (void)resource.allocate(16); }),
            "memkit::ArenaResource: allocate() on a memkit::Arena that was destroyed");
  EXPECT_EQ(what_of<memkit::UseAfterFree>([&] { (void)resource.arena(); }),
            "memkit::ArenaResource: arena() on a memkit::Arena that was destroyed");
  resource.deallocate(p, 16);  // defined: nothing
}

// ---- ArenaAllocator<T> -------------------------------------------------------------------------

TEST(ArenaAllocatorTest, StdVectorLivesInTheArena) {
  // A fixed buffer, so that any operator new below would be the vector's own.
  std::vector<std::byte> buffer(64 * 1024);
  ArenaOptions fixed;
  fixed.growable = false;
  Arena arena(buffer, fixed);
  AllocationDelta delta;
  ArenaAllocator<int> alloc(arena);  // makes the liveness block: one allocation
  std::vector<int, ArenaAllocator<int>> numbers(alloc);
  for (int i = 0; i < 1000; ++i) numbers.push_back(i);
  EXPECT_EQ(numbers[999], 999);
  EXPECT_EQ(delta.allocations(), 1);
  EXPECT_GE(arena.stats().used_bytes, 4000U);
  std::vector<int, ArenaAllocator<int>> from_arena(arena);  // converts from Arena&
  from_arena.assign(numbers.begin(), numbers.end());
  EXPECT_EQ(from_arena, numbers);
  EXPECT_EQ(delta.allocations(), 1);  // the second adapter shares the block
}

TEST(ArenaAllocatorTest, NodeContainersRebindToTheirNodes) {
  Arena arena;
  std::list<std::string, ArenaAllocator<std::string>> words(arena);
  words.emplace_back("alpha");
  words.emplace_back("beta");
  std::map<int, double, std::less<>, ArenaAllocator<std::pair<const int, double>>> table(arena);
  table.emplace(1, 1.5);
  table.emplace(2, 2.5);
  EXPECT_EQ(words.back(), "beta");
  EXPECT_EQ(table.at(2), 2.5);
  EXPECT_EQ(arena.stats().allocations, 4U);  // two list nodes, two map nodes
}

TEST(ArenaAllocatorTest, EqualWhenTheyUseTheSameArena) {
  Arena arena;
  Arena other;
  ArenaAllocator<int> a(arena);
  ArenaAllocator<double> b(arena);
  ArenaAllocator<int> c(other);
  ArenaAllocator<int> rebound(b);
  EXPECT_TRUE(a == b);
  EXPECT_TRUE(a == rebound);
  EXPECT_FALSE(a == c);
  EXPECT_TRUE(a != c);
  EXPECT_EQ(&rebound.arena(), &arena);
}

TEST(ArenaAllocatorTest, AnObjectWithAnArenaVectorIsDestroyedAtReset) {
  struct Node {
    memkit::testing::Tracked id;
    std::vector<Node*, ArenaAllocator<Node*>> edges;
  };
  using Edges = std::vector<Node*, ArenaAllocator<Node*>>;
  InstanceTracker tracker;
  AllocationDelta delta;
  {
    Arena arena;
    Node* a = arena.make<Node>(memkit::testing::Tracked(1), Edges(arena));
    Node* b = arena.make<Node>(memkit::testing::Tracked(2), Edges(arena));
    a->edges.push_back(b);
    b->edges.push_back(a);
    EXPECT_EQ(arena.stats().destructors, 2U);
    arena.reset();
    EXPECT_EQ(tracker.live(), 0);
  }
  EXPECT_EQ(delta.live_blocks(), 0);  // chunk and liveness block freed
}

TEST(ArenaAllocatorTest, OutlivingTheArenaGivesUseAfterFree) {
  AllocationDelta delta;
  {
    std::optional<ArenaAllocator<int>> alloc;
    {
      Arena arena;
      alloc.emplace(arena);
      int* p = alloc->allocate(4);
      alloc->deallocate(p, 4);
    }
    EXPECT_EQ(what_of<memkit::UseAfterFree>([&] { (void)alloc->allocate(1); }),
              "memkit::ArenaAllocator<int>: allocate() on a memkit::Arena that was destroyed");
    EXPECT_EQ(what_of<memkit::UseAfterFree>([&] { (void)alloc->arena(); }),
              "memkit::ArenaAllocator<int>: arena() on a memkit::Arena that was destroyed");
    alloc->deallocate(nullptr, 0);      // defined: nothing
    EXPECT_EQ(delta.live_blocks(), 1);  // the liveness block, held by the adapter alone
  }
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(ArenaAllocatorTest, AContainerDestroyedAfterItsArenaIsDefined) {
  std::optional<std::vector<int, ArenaAllocator<int>>> numbers;
  {
    Arena arena;
    numbers.emplace(ArenaAllocator<int>(arena));
    numbers->push_back(1);
  }
  // Its elements' bytes are gone; destroying ints reads nothing, and deallocate() is a no-op.
  numbers.reset();
}

TEST(ArenaAllocatorTest, TooManyElementsIsRefused) {
  Arena arena;
  ArenaAllocator<int> alloc(arena);
  const std::size_t too_many = alloc.max_size() + 1;
  EXPECT_EQ(what_of<AllocError>([&] { (void)alloc.allocate(too_many); }),
            cat({"memkit::ArenaAllocator<int>: allocate(size ", std::to_string(kBig),
                 ", align 4) failed: size overflows (", std::to_string(too_many),
                 " elements of 4 bytes)"}));
  EXPECT_EQ(alloc.max_size(), Arena::kMaxRequest / sizeof(int));
}

TEST(ArenaAllocatorTest, CopiesShareOneLivenessBlock) {
  AllocationDelta delta;
  {
    Arena arena;
    ArenaAllocator<int> a(arena);
    ArenaAllocator<int> b = a;
    ArenaAllocator<long> c(b);
    b = ArenaAllocator<int>(arena);
    b = b;  // self-assignment keeps the count
    EXPECT_EQ(delta.allocations(), 1);
    EXPECT_TRUE(a == c);
  }
  EXPECT_EQ(delta.live_blocks(), 0);
}

}  // namespace
