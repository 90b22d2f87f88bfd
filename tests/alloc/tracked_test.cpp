// Tests of memkit::Tracked<T>: Box's ownership (exact lifetimes, one allocation, UseAfterMove on
// an empty one) plus per-type live counts and bytes, and tracked_stats() across types and threads.
// Each test uses its own types: the counts are process-wide.
#include "memkit/alloc/tracked.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "memkit/alloc/stats.h"
#include "memkit/base/type_name.h"
#include "support/counting_new.h"
#include "support/instance_tracker.h"
#include "support/throws.h"

namespace tracked_test {

struct Point {
  std::int64_t x;
  std::int64_t y;
};

struct Particle {
  double position[3];
};

struct Mesh {
  float vertices[64];
};

struct Moved {
  int value;
};

struct Cloned {
  std::string name;
};

struct Shared {
  std::int64_t payload[4];
};

struct Peaked {
  int value;
};

struct Unmade {
  int value;
};

struct ConstructionFailed {};

struct Failing {
  explicit Failing(int) { throw ConstructionFailed{}; }
  int value = 0;
};

struct Counted {
  explicit Counted(int id) : tracked(id) {}
  memkit::testing::Tracked tracked;
};

}  // namespace tracked_test

namespace {

using memkit::Tracked;
using memkit::testing::AllocationDelta;
using memkit::testing::ThrowsUseAfterMove;
using ::testing::HasSubstr;
using tracked_test::Point;

const memkit::TagStats* find_type(const memkit::MemoryStats& stats, std::string_view type) {
  for (const memkit::TagStats& row : stats.by_tag) {
    if (row.tag == type) return &row;
  }
  return nullptr;
}

TEST(TrackedTest, MakeCountsOneLiveObjectOfItsType) {
  EXPECT_EQ(Tracked<Point>::live_count(), 0u);
  {
    auto point = Tracked<Point>::make(3, 4);
    EXPECT_EQ(point->x, 3);
    EXPECT_EQ((*point).y, 4);
    EXPECT_EQ(point.get(), &*point);
    EXPECT_TRUE(point.valid());
    EXPECT_EQ(Tracked<Point>::live_count(), 1u);
    EXPECT_EQ(Tracked<Point>::live_bytes(), sizeof(Point));
    auto other = Tracked<Point>::make(5, 6);
    EXPECT_EQ(Tracked<Point>::live_count(), 2u);
    EXPECT_EQ(Tracked<Point>::live_bytes(), 2 * sizeof(Point));
  }
  EXPECT_EQ(Tracked<Point>::live_count(), 0u);
  EXPECT_EQ(Tracked<Point>::live_bytes(), 0u);
  memkit::AllocCounts expected;
  expected.allocations = 2;
  expected.frees = 2;
  expected.peak_bytes = 2 * sizeof(Point);
  expected.total_bytes = 2 * sizeof(Point);
  EXPECT_EQ(Tracked<Point>::counts(), expected);
}

TEST(TrackedTest, OwnsItsValueWithOneAllocationLikeABox) {
  memkit::testing::InstanceTracker instances;
  AllocationDelta delta;
  {
    auto counted = Tracked<tracked_test::Counted>::make(7);
    memkit::testing::escape(counted.get());
    EXPECT_EQ(delta.allocations(), 1);
    EXPECT_EQ(delta.live_bytes(), static_cast<std::int64_t>(sizeof(tracked_test::Counted)));
    EXPECT_EQ(counted->tracked.value(), 7);
    EXPECT_EQ(instances.live(), 1);
  }
  EXPECT_EQ(instances.destroyed(), 1);
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(TrackedTest, MovingTransfersOwnershipWithoutCounting) {
  using tracked_test::Moved;
  auto first = Tracked<Moved>::make(1);
  Tracked<Moved> second = std::move(first);
  EXPECT_EQ(Tracked<Moved>::live_count(), 1u);
  EXPECT_FALSE(first.valid());  // NOLINT(bugprone-use-after-move): the point of the test
  EXPECT_EQ(second->value, 1);

  auto third = Tracked<Moved>::make(3);
  EXPECT_EQ(Tracked<Moved>::live_count(), 2u);
  second = std::move(third);  // the old value of `second` is destroyed
  EXPECT_EQ(Tracked<Moved>::live_count(), 1u);
  EXPECT_EQ(second->value, 3);
  EXPECT_EQ(Tracked<Moved>::counts().allocations, 2u);
  EXPECT_EQ(Tracked<Moved>::counts().frees, 1u);
}

TEST(TrackedTest, AnEmptyTrackedThrowsUseAfterMove) {
  using tracked_test::Moved;
  auto value = Tracked<Moved>::make(1);
  Tracked<Moved> taken = std::move(value);
  const std::string type = "memkit::Tracked<tracked_test::Moved>";
  // NOLINTBEGIN(bugprone-use-after-move): the point of the test
  EXPECT_THAT([&] { (void)*value; }, ThrowsUseAfterMove(type, "operator*"));
  EXPECT_THAT([&] { (void)value->value; }, ThrowsUseAfterMove(type, "operator->"));
  EXPECT_THAT([&] { (void)value.get(); }, ThrowsUseAfterMove(type, "get()"));
  // NOLINTEND(bugprone-use-after-move)
  EXPECT_EQ(Tracked<Moved>::live_count(), 1u);
}

TEST(TrackedTest, CloneMakesAnotherCountedCopy) {
  using tracked_test::Cloned;
  auto original = Tracked<Cloned>::make(std::string(40, 'n'));
  auto copy = original.clone();
  EXPECT_EQ(copy->name, original->name);
  EXPECT_NE(copy.get(), original.get());
  EXPECT_EQ(Tracked<Cloned>::live_count(), 2u);
  Tracked<Cloned> empty = std::move(original);
  EXPECT_THAT([&] { (void)original.clone(); },  // NOLINT(bugprone-use-after-move)
              ThrowsUseAfterMove("memkit::Tracked<tracked_test::Cloned>", "clone()"));
}

TEST(TrackedTest, AThrowingConstructorLeavesNothingCountedOrAllocated) {
  using tracked_test::Failing;
  AllocationDelta delta;
  EXPECT_THROW((void)Tracked<Failing>::make(1), tracked_test::ConstructionFailed);
  EXPECT_EQ(delta.live_blocks(), 0);
  EXPECT_EQ(Tracked<Failing>::live_count(), 0u);
  EXPECT_EQ(Tracked<Failing>::counts().allocations, 0u);
  EXPECT_EQ(find_type(memkit::tracked_stats(), "tracked_test::Failing"), nullptr);
}

TEST(TrackedTest, PeakIsTheMostAliveAtOnce) {
  using tracked_test::Peaked;
  {
    std::vector<Tracked<Peaked>> values;
    for (int i = 0; i < 5; ++i) values.push_back(Tracked<Peaked>::make(i));
  }
  auto one = Tracked<Peaked>::make(9);
  const memkit::AllocCounts counts = Tracked<Peaked>::counts();
  EXPECT_EQ(counts.allocations, 6u);
  EXPECT_EQ(counts.live_blocks, 1u);
  EXPECT_EQ(counts.peak_bytes, 5 * sizeof(Peaked));
  EXPECT_EQ(counts.total_bytes, 6 * sizeof(Peaked));
}

TEST(TrackedStatsTest, ListsEveryTypeEverMadeWithExactCounts) {
  using tracked_test::Mesh;
  using tracked_test::Particle;
  const memkit::MemoryStats before = memkit::tracked_stats();
  {
    std::vector<Tracked<Particle>> particles;
    for (int i = 0; i < 3; ++i) particles.push_back(Tracked<Particle>::make());
    auto mesh = Tracked<Mesh>::make();

    const memkit::MemoryStats stats = memkit::tracked_stats();
    EXPECT_EQ(stats.source, "memkit::Tracked");
    const memkit::TagStats* particle_row = find_type(stats, "tracked_test::Particle");
    const memkit::TagStats* mesh_row = find_type(stats, "tracked_test::Mesh");
    ASSERT_NE(particle_row, nullptr);
    ASSERT_NE(mesh_row, nullptr);
    EXPECT_EQ(particle_row->counts.live_blocks, 3u);
    EXPECT_EQ(particle_row->counts.live_bytes, 3 * sizeof(Particle));
    EXPECT_EQ(mesh_row->counts.live_bytes, sizeof(Mesh));
    EXPECT_EQ(stats.counts.live_bytes,
              before.counts.live_bytes + 3 * sizeof(Particle) + sizeof(Mesh));
    EXPECT_EQ(stats.counts.allocations, before.counts.allocations + 4);
    EXPECT_GE(stats.counts.peak_bytes, stats.counts.live_bytes);
    // Sorted: the mesh (256 bytes) before the particles (72 bytes).
    EXPECT_LT(mesh_row, particle_row);
    EXPECT_THAT(memkit::to_text(stats), HasSubstr("tracked_test::Mesh"));
  }
  const memkit::MemoryStats after = memkit::tracked_stats();
  EXPECT_EQ(after.counts.live_bytes, before.counts.live_bytes);
  EXPECT_EQ(find_type(after, "tracked_test::Mesh")->counts.frees, 1u);
}

TEST(TrackedStatsTest, ATypeNeverMadeIsNotListed) {
  EXPECT_EQ(Tracked<tracked_test::Unmade>::live_count(), 0u);  // registers the type
  EXPECT_EQ(find_type(memkit::tracked_stats(), "tracked_test::Unmade"), nullptr);
}

TEST(TrackedThreadsTest, CountsAreExactAcrossThreads) {
  using tracked_test::Shared;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 1000;
  std::vector<std::thread> threads;
  std::vector<std::vector<Tracked<Shared>>> kept(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&kept, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto value = Tracked<Shared>::make();
        if (i % 10 == 0) kept[static_cast<std::size_t>(t)].push_back(std::move(value));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  const memkit::AllocCounts counts = Tracked<Shared>::counts();
  EXPECT_EQ(counts.allocations, std::uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(counts.live_blocks, std::uint64_t{kThreads} * kPerThread / 10);
  EXPECT_EQ(Tracked<Shared>::live_bytes(), counts.live_blocks * sizeof(Shared));
  EXPECT_GE(counts.peak_bytes, counts.live_bytes);
  kept.clear();
  EXPECT_EQ(Tracked<Shared>::live_count(), 0u);
}

}  // namespace
