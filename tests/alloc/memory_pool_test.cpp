// Tests of memkit::MemoryPool, the seed's fixed-capacity pool: one buffer obtained once, nullptr
// when full, reset() to start over, and the errors of a bad alignment.
#include "memkit/alloc/memory_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory_resource>
#include <string>
#include <vector>

#include "memkit/alloc/arena_allocator.h"
#include "memkit/base/error.h"
#include "memkit/base/sanitizers.h"
#include "support/counting_new.h"
#include "support/instance_tracker.h"
#include "support/throws.h"

namespace {

using memkit::AllocError;
using memkit::MemoryPool;
using memkit::testing::AllocationDelta;
using memkit::testing::what_of;

std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

TEST(MemoryPoolTest, HandsOutItsCapacityThenReturnsNull) {
  MemoryPool pool(1024);
  EXPECT_EQ(pool.capacity(), 1024U);
  EXPECT_EQ(pool.used(), 0U);
  std::vector<void*> blocks;
  while (void* p = pool.allocate(64)) blocks.push_back(p);
  EXPECT_EQ(blocks.size(), 16U);  // every byte usable: the arena's header is not in the buffer
  EXPECT_EQ(pool.used(), 1024U);
  EXPECT_EQ(pool.available(), 0U);
  for (std::size_t i = 1; i < blocks.size(); ++i) {
    EXPECT_EQ(address(blocks[i]), address(blocks[i - 1]) + 64);
  }
  EXPECT_EQ(pool.allocate(1), nullptr);  // full stays full
}

TEST(MemoryPoolTest, AllocatesOnceAndNeverAgain) {
  AllocationDelta delta;
  {
    MemoryPool pool(4096);
    EXPECT_EQ(delta.allocations(), 1);
    EXPECT_EQ(delta.live_bytes(), 4096);
    for (int i = 0; i < 1000; ++i) (void)pool.allocate(100);  // mostly refused
    pool.reset();
    (void)pool.allocate(100);
    EXPECT_EQ(delta.allocations(), 1);
  }
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(MemoryPoolTest, ResetMakesEverythingAvailableAgain) {
  MemoryPool pool(256);
  void* first = pool.allocate(200);
  EXPECT_EQ(pool.allocate(100), nullptr);
  pool.reset();
  EXPECT_EQ(pool.used(), 0U);
  EXPECT_EQ(pool.allocate(200), first);
  EXPECT_NE(pool.allocate(56, 1), nullptr);  // the last bytes, exactly
  EXPECT_EQ(pool.available(), 0U);
}

TEST(MemoryPoolTest, ARequestLargerThanTheCapacityIsNull) {
  MemoryPool pool(256);
  EXPECT_EQ(pool.allocate(257), nullptr);
  EXPECT_EQ(pool.allocate(100'000), nullptr);
  EXPECT_EQ(pool.allocate(std::numeric_limits<std::size_t>::max()), nullptr);
  EXPECT_EQ(pool.used(), 0U);
  EXPECT_NE(pool.allocate(256), nullptr);
}

TEST(MemoryPoolTest, AlignmentIsHonouredAndPaddingCounts) {
  MemoryPool pool(1024);
  (void)pool.allocate(1, 1);
  void* p = pool.allocate(8, 256);
  EXPECT_EQ(address(p) % 256, 0U);
  EXPECT_GE(pool.used(), 9U);
}

TEST(MemoryPoolTest, ABadAlignmentThrows) {
  MemoryPool pool(1024);
  EXPECT_EQ(
      what_of<AllocError>([&] { (void)pool.allocate(8, 3); }),
      "memkit::MemoryPool: allocate(size 8, align 3) failed: alignment is not a power of two");
  EXPECT_EQ(
      what_of<AllocError>([&] { (void)pool.allocate(8, 0); }),
      "memkit::MemoryPool: allocate(size 8, align 0) failed: alignment is not a power of two");
  EXPECT_EQ(what_of<AllocError>([&] { (void)pool.allocate(8, 8192); }),
            "memkit::MemoryPool: allocate(size 8, align 8192) failed: alignment exceeds the page "
            "size (4096)");
  EXPECT_EQ(pool.used(), 0U);
}

TEST(MemoryPoolTest, ZeroBytesAreANonNullPointerAndCostNothing) {
  MemoryPool pool(64);
  EXPECT_NE(pool.allocate(0), nullptr);
  EXPECT_EQ(pool.used(), 0U);
  (void)pool.allocate(64);
  EXPECT_NE(pool.allocate(0, 1), nullptr);  // even when full: it takes no bytes
  MemoryPool empty(0);
  EXPECT_EQ(empty.allocate(0), nullptr);  // a pool of nothing has no address to give
  EXPECT_EQ(empty.allocate(1), nullptr);
}

TEST(MemoryPoolTest, ACapacityThatOverflowsThrows) {
  const std::size_t too_big = memkit::Arena::kMaxRequest + 1;
  EXPECT_EQ(what_of<AllocError>([&] { MemoryPool pool(too_big); }),
            std::string("memkit::MemoryPool: MemoryPool(size ")
                .append(std::to_string(too_big))
                .append(", align 16) failed: size overflows"));
}

TEST(MemoryPoolTest, ReportsTheSharedStats) {
  MemoryPool pool(1024);
  (void)pool.allocate(100);
  (void)pool.allocate(100);
  pool.reset();
  (void)pool.allocate(10);
  const memkit::MemoryStats stats = pool.memory_stats();
  EXPECT_EQ(stats.source, "memkit::MemoryPool");
  EXPECT_EQ(stats.counts.allocations, 3U);
  EXPECT_EQ(stats.counts.frees, 2U);
  EXPECT_EQ(stats.counts.live_bytes, 10U);
  EXPECT_EQ(stats.counts.peak_bytes, 212U);
  ASSERT_TRUE(stats.footprint.has_value());
  EXPECT_EQ(stats.footprint->capacity_bytes, 1024U);
  EXPECT_EQ(stats.footprint->chunks, 1U);
  EXPECT_EQ(stats.footprint->wasted_bytes, 0U);
}

TEST(MemoryPoolTest, ItsArenaMakesObjectsAndHostsContainers) {
  memkit::testing::InstanceTracker tracker;
  MemoryPool pool(512);
  pool.arena().make<memkit::testing::Tracked>(5);
  EXPECT_EQ(tracker.live(), 1);
  {
    memkit::ArenaResource resource(pool.arena());
    std::pmr::vector<std::uint64_t> numbers(&resource);
    numbers.reserve(16);
    EXPECT_EQ(what_of<AllocError>([&] { numbers.reserve(100); }),
              "memkit::MemoryPool: allocate(size 800, align 8) failed: fixed capacity of 512 "
              "bytes exhausted (360 left)");
  }
  pool.reset();
  EXPECT_EQ(tracker.live(), 0);
}

TEST(MemoryPoolTest, MemoryHandedBackByResetIsPoisoned) {
#if MEMKIT_ASAN
  MemoryPool pool(256);
  auto* p = static_cast<std::byte*>(pool.allocate(32));
  EXPECT_FALSE(memkit::is_poisoned(p));
  EXPECT_TRUE(memkit::is_poisoned(p + 32));
  pool.reset();
  EXPECT_TRUE(memkit::is_poisoned(p));
#else
  GTEST_SKIP() << "is_poisoned() is always false without AddressSanitizer";
#endif
}

}  // namespace
