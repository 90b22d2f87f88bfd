// Tests of the page layout: size classes, the slot-index division, mark bits and the free list.
#include "memkit/gc/page.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "gc_test_types.h"
#include "memkit/gc/free_list.h"

namespace gc_test {
namespace {

namespace detail = memkit::gc::detail;

TEST(PageTest, SizeClassesGrowAndCoverEverySmallSize) {
  EXPECT_EQ(detail::kSizeClasses[0], 16U);
  EXPECT_EQ(detail::kSizeClasses[7], 128U);
  EXPECT_EQ(detail::kSizeClasses[8], 160U);
  for (std::size_t i = 1; i < detail::kSizeClassCount; ++i) {
    EXPECT_GT(detail::kSizeClasses[i], detail::kSizeClasses[i - 1]);
    EXPECT_EQ(detail::kSizeClasses[i] % detail::kGranule, 0U);
  }
  for (std::size_t size = 1; size <= detail::kMaxSmallSize; ++size) {
    const std::size_t index = detail::size_class_index(size);
    ASSERT_GE(detail::kSizeClasses[index], size);
    if (index > 0) {
      ASSERT_LT(detail::kSizeClasses[index - 1], size);
    }
  }
  // Waste stays under 25 % above 128 bytes.
  for (std::size_t size = 129; size <= detail::kMaxSmallSize; ++size) {
    ASSERT_LT(detail::kSizeClasses[detail::size_class_index(size)], size * 5 / 4 + 16);
  }
}

TEST(PageTest, SlotIndexIsExactForEverySlotOfEveryClass) {
  alignas(64) static unsigned char fake[detail::kPageSize];
  auto* page = reinterpret_cast<detail::NormalPage*>(fake);
  for (std::size_t size_class = 0; size_class < detail::kSizeClassCount; ++size_class) {
    const std::uint32_t slot = detail::kSizeClasses[size_class];
    page->slot_size = slot;
    page->payload = reinterpret_cast<char*>(fake) + detail::kPayloadOffset;
    page->divide_magic = static_cast<std::uint32_t>((std::uint64_t{1} << 32) / slot + 1);
    const std::size_t count = (detail::kPageSize - detail::kPayloadOffset) / slot;
    for (std::size_t i = 0; i < count; ++i) {
      // The slot's first byte and its last byte (an interior pointer) map to slot i.
      ASSERT_EQ(detail::slot_index(page, page->payload + i * slot), i) << "class " << slot;
      ASSERT_EQ(detail::slot_index(page, page->payload + i * slot + slot - 1), i);
    }
  }
}

TEST(PageTest, ObjectsLiveInAlignedPagesThatKnowTheirHeap) {
  gc::Heap heap;
  gc::Local<Node> node = gc::make<Node>(heap);
  detail::PageHeader* page = detail::page_of(node.get());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(page) % detail::kPageSize, 0U);
  EXPECT_EQ(page->heap, &heap);
  EXPECT_EQ(page->kind, detail::PageKind::kNormal);
  EXPECT_EQ(detail::allocated_size(detail::to_object(node.get())), kNodeSlot);
  gc::Local<Blob<20000>> big = gc::make<Blob<20000>>(heap);
  EXPECT_EQ(detail::page_of(big.get())->kind, detail::PageKind::kLarge);
  EXPECT_GE(detail::allocated_size(detail::to_object(big.get())), 20000U);
}

TEST(PageTest, MarkBitsAreSetOnce) {
  gc::Heap heap;
  gc::Local<Node> node = gc::make<Node>(heap);
  detail::GcObject* object = detail::to_object(node.get());
  EXPECT_FALSE(detail::is_marked(object));
  EXPECT_TRUE(detail::set_mark(object));
  EXPECT_TRUE(detail::is_marked(object));
  EXPECT_FALSE(detail::set_mark(object));
  heap.collect();  // clears every mark
  EXPECT_FALSE(detail::is_marked(object));
}

TEST(FreeListTest, PopsInReverseOrderOfPushesAndTagsFreeSlots) {
  alignas(16) std::uintptr_t slots[3][2] = {};
  detail::FreeList list;
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.pop(), nullptr);
  for (auto& slot : slots) list.push(slot);
  for (auto& slot : slots) {
    EXPECT_FALSE(detail::holds_object(slot));  // tagged: free
    EXPECT_EQ(slot[0] & detail::kFreeTag, detail::kFreeTag);
  }
  EXPECT_EQ(list.pop(), slots[2]);
  EXPECT_EQ(list.pop(), slots[1]);
  EXPECT_EQ(list.pop(), slots[0]);
  EXPECT_EQ(list.pop(), nullptr);
}

}  // namespace
}  // namespace gc_test
