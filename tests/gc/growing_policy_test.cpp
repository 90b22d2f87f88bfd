// Tests of pacing: the threshold rule and automatic collection by allocation.
#include "memkit/gc/growing_policy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "gc_test_types.h"
#include "support/throws.h"

namespace gc_test {
namespace {

TEST(GrowingPolicyTest, ThresholdIsTheGrowthFactorTimesLiveBytesWithAMinimum) {
  gc::GrowingPolicy policy;
  EXPECT_EQ(policy.growth_factor, 4.0 / 3.0);
  EXPECT_EQ(policy.retain_factor, 3.0);
  EXPECT_EQ(policy.min_bytes, 4U << 20);
  EXPECT_EQ(policy.threshold(0), 4U << 20);
  EXPECT_EQ(policy.threshold(1U << 20), 4U << 20);
  EXPECT_EQ(policy.threshold(12U << 20), 16U << 20);
  policy.growth_factor = 2.0;
  policy.min_bytes = 0;
  EXPECT_EQ(policy.threshold(1000), 2000U);
}

TEST(GrowingPolicyTest, FreeBytesInHeldPagesAreUsedUpToTheRetainFactor) {
  gc::GrowingPolicy policy;
  policy.min_bytes = 0;
  policy.growth_factor = 1.5;
  policy.retain_factor = 3.0;
  // Little free memory held: the growth factor decides.
  EXPECT_EQ(policy.threshold(1000, 100), 1500U);
  // The held pages are filled before the next collection...
  EXPECT_EQ(policy.threshold(1000, 1500), 2500U);
  // ...up to retain_factor × the live bytes...
  EXPECT_EQ(policy.threshold(1000, 5000), 3000U);
  // ...or × the recent live bytes, if they were larger.
  EXPECT_EQ(policy.threshold(1000, 5000, 2000), 6000U);
  EXPECT_EQ(policy.threshold(1000, 50000, 2000), 6000U);
  policy.retain_factor = 1.5;
  EXPECT_EQ(policy.threshold(1000, 5000, 2000), 3000U);
  EXPECT_EQ(policy.threshold(1000, 5000), 1500U);
  policy.retain_factor = 0;  // off: only the growth factor
  EXPECT_EQ(policy.threshold(1000, 5000, 2000), 1500U);
}

TEST(GrowingPolicyTest, InvalidGrowthFactorsAreRejected) {
  gc::Heap heap;
  for (const double factor : {0.5, -1.0, 1001.0, std::numeric_limits<double>::quiet_NaN()}) {
    gc::GrowingPolicy policy;
    policy.growth_factor = factor;
    const std::string message =
        memkit::testing::what_of<memkit::GcUsageError>([&] { heap.set_growing_policy(policy); });
    EXPECT_NE(message.find("memkit::gc::Heap: set_growing_policy(growth_factor "),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(") failed: the growth factor must be a number from 1 to 1000 (the heap "
                           "may grow to that many times its live bytes)"),
              std::string::npos)
        << message;
  }
  EXPECT_EQ(heap.growing_policy(), gc::GrowingPolicy());
}

TEST(GrowingPolicyTest, InvalidRetainFactorsAreRejected) {
  gc::Heap heap;
  for (const double factor : {1.2, 0.5, 1001.0, std::numeric_limits<double>::quiet_NaN()}) {
    gc::GrowingPolicy policy;
    policy.growth_factor = 1.5;
    policy.retain_factor = factor;
    const std::string message =
        memkit::testing::what_of<memkit::GcUsageError>([&] { heap.set_growing_policy(policy); });
    EXPECT_NE(message.find("memkit::gc::Heap: set_growing_policy(retain_factor "),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(") failed: the retain factor must be 0 (keep no pages beyond the "
                           "growth factor) or a number from the growth factor to 1000 (the heap "
                           "may keep pages for that many times its recent live bytes)"),
              std::string::npos)
        << message;
  }
  EXPECT_EQ(heap.growing_policy(), gc::GrowingPolicy());
}

TEST(GrowingPolicyTest, AllocationPastTheThresholdCollects) {
  gc::Heap heap;
  heap.set_stress(gc::Stress::off());
  gc::GrowingPolicy policy;
  policy.min_bytes = 64 * 1024;
  heap.set_growing_policy(policy);
  EXPECT_EQ(heap.stats().next_collection_at, 64U * 1024);
  const std::size_t fits = 64 * 1024 / kNodeSlot;  // 1365 × 48 bytes <= 64 KiB
  for (std::size_t i = 0; i < fits; ++i) (void)gc::make<Node>(heap);
  EXPECT_EQ(heap.collections(), 0U);
  (void)gc::make<Node>(heap);
  EXPECT_EQ(heap.collections(), 1U);
  EXPECT_EQ(heap.stats().last_reason, gc::CollectionReason::kAllocation);
  // A million garbage nodes in a 64 KiB budget: many collections, and the heap stays small.
  const std::size_t count = scaled(1'000'000, 100'000);
  for (std::size_t i = 0; i < count; ++i) (void)gc::make<Node>(heap);
  EXPECT_GE(heap.collections(), count * kNodeSlot / (64 * 1024));
  EXPECT_LE(heap.stats().heap_bytes, 4U * 128 * 1024);
}

TEST(GrowingPolicyTest, LiveDataRaisesTheThreshold) {
  gc::Heap heap;
  heap.set_stress(gc::Stress::off());
  gc::GrowingPolicy policy;
  policy.min_bytes = 0;
  policy.growth_factor = 2.0;
  policy.retain_factor = 0;  // not the free bytes of the page the 1000 nodes started
  heap.set_growing_policy(policy);
  std::vector<gc::Local<Node>> live;
  for (int i = 0; i < 1000; ++i) live.push_back(gc::make<Node>(heap));
  heap.collect();
  EXPECT_EQ(heap.stats().live_bytes_after_last_collection, 1000U * kNodeSlot);
  EXPECT_EQ(heap.stats().next_collection_at, 2000U * kNodeSlot);
}

}  // namespace
}  // namespace gc_test
