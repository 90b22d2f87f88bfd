// Tests of external memory: external_size() hooks and adjust_external_bytes(), in the stats and
// in the pacing.
#include <gtest/gtest.h>

#include <vector>

#include "gc_test_types.h"
#include "support/throws.h"

namespace gc_test {
namespace {

// Owns native memory and says how much (like Ruby's dsize).
struct Buffer : gc::GarbageCollected<Buffer> {
  explicit Buffer(std::size_t bytes) : data(bytes) {}
  std::size_t external_size() const { return data.size(); }
  std::vector<unsigned char> data;
};

TEST(ExternalMemoryTest, ExternalSizeCountsInStatsAfterCollection) {
  gc::Heap heap;
  quiet(heap);
  gc::Local<Buffer> kept = gc::make<Buffer>(heap, 1000);
  (void)gc::make<Buffer>(heap, 500);
  EXPECT_EQ(heap.stats().object_external_bytes, 1500U);  // new objects, counted at make
  heap.collect();
  EXPECT_EQ(heap.stats().object_external_bytes, 1000U);  // the live one, counted at marking
  EXPECT_EQ(heap.stats().live_bytes_after_last_collection,
            1000U + memkit::gc::detail::kSizeClasses[memkit::gc::detail::size_class_index(
                        sizeof(memkit::gc::detail::Allocated<Buffer>))]);
}

TEST(ExternalMemoryTest, ExternalSizeTriggersCollections) {
  gc::Heap heap;
  heap.set_stress(gc::Stress::off());
  gc::GrowingPolicy policy;
  policy.min_bytes = 1 << 20;
  heap.set_growing_policy(policy);
  // 64 tiny objects each owning 64 KiB: 4 MiB external, a few KiB of heap.
  for (int i = 0; i < 64; ++i) (void)gc::make<Buffer>(heap, 64 * 1024);
  EXPECT_GE(heap.collections(), 3U);
}

TEST(ExternalMemoryTest, AdjustedBytesCountAndTriggerAtTheNextAllocation) {
  gc::Heap heap;
  heap.set_stress(gc::Stress::off());
  gc::GrowingPolicy policy;
  policy.min_bytes = 1 << 20;
  heap.set_growing_policy(policy);
  heap.adjust_external_bytes(2 << 20);
  EXPECT_EQ(heap.stats().external_bytes, 2U << 20);
  EXPECT_EQ(heap.collections(), 0U);  // adjusting never collects by itself
  (void)gc::make<Node>(heap);
  EXPECT_EQ(heap.collections(), 1U);
  EXPECT_EQ(heap.stats().live_bytes_after_last_collection, 2U << 20);
  heap.adjust_external_bytes(-(1 << 20));
  EXPECT_EQ(heap.stats().external_bytes, 1U << 20);
}

TEST(ExternalMemoryTest, AdjustingBelowZeroThrows) {
  gc::Heap heap;
  heap.adjust_external_bytes(100);
  EXPECT_EQ(
      memkit::testing::what_of<memkit::GcUsageError>([&] { heap.adjust_external_bytes(-101); }),
      "memkit::gc::Heap: adjust_external_bytes(-101) failed: the external bytes would go "
      "below zero (they are 100)");
  EXPECT_EQ(heap.stats().external_bytes, 100U);
  heap.adjust_external_bytes(-100);
  EXPECT_EQ(heap.stats().external_bytes, 0U);
}

}  // namespace
}  // namespace gc_test
