// Tests of memkit::Pool<T> and memkit::SharedPool<T>: slot geometry, O(1) reuse, growth in
// chunks from an upstream resource, exact stats, every error with its exact message (bad
// options, an upstream that fails, double and foreign frees in a checked pool), destruction of
// live objects, AddressSanitizer poisoning, and SharedPool's thread caches across threads.
#include "memkit/alloc/pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <future>
#include <limits>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "memkit/alloc/shared_pool.h"
#include "memkit/alloc/stats.h"
#include "memkit/base/error.h"
#include "memkit/base/sanitizers.h"
#include "support/instance_tracker.h"
#include "support/throws.h"

// Types named in messages live in a named namespace, so their names are the same on every
// compiler ("pool_test::Node").
namespace pool_test {

struct Node {
  int value;
  Node* next;
};

struct Odd {  // 12 bytes at alignment 4: a 16-byte slot wastes 4
  int a;
  int b;
  int c;
};

struct alignas(64) Wide {
  unsigned char bytes[64];
};

struct alignas(4096) Paged {
  unsigned char first;
};

struct ConstructionFailed {};

struct ThrowsOnConstruct {
  explicit ThrowsOnConstruct(int value) : tracked(value) { throw ConstructionFailed{}; }
  memkit::testing::Tracked tracked;
};

// A node of a tree whose destructor destroys its children through the pool that made them.
struct TreeNode {
  TreeNode(memkit::Pool<TreeNode>* owner, int id) : pool(owner), tracked(id) {}
  ~TreeNode() {
    for (TreeNode* child : children) pool->destroy(child);
  }
  memkit::Pool<TreeNode>* pool;
  std::vector<TreeNode*> children;
  memkit::testing::Tracked tracked;
};

struct SharedTreeNode {
  SharedTreeNode(memkit::SharedPool<SharedTreeNode>* owner, int id) : pool(owner), tracked(id) {}
  ~SharedTreeNode() {
    for (SharedTreeNode* child : children) pool->destroy(child);
  }
  memkit::SharedPool<SharedTreeNode>* pool;
  std::vector<SharedTreeNode*> children;
  memkit::testing::Tracked tracked;
};

struct Named {
  std::string text;
};

// A memory resource that records what it is asked for and can be told to fail.
class RecordingResource : public std::pmr::memory_resource {
 public:
  struct Call {
    std::size_t bytes;
    std::size_t alignment;
  };

  // allocate() throws std::bad_alloc once `limit` allocations have succeeded.
  void fail_after(std::size_t limit) { limit_ = limit; }

  std::vector<Call> allocations;
  std::vector<Call> deallocations;
  std::int64_t live_bytes = 0;

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    if (allocations.size() >= limit_) throw std::bad_alloc();
    void* p = std::pmr::new_delete_resource()->allocate(bytes, alignment);
    allocations.push_back({bytes, alignment});
    live_bytes += static_cast<std::int64_t>(bytes);
    return p;
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    deallocations.push_back({bytes, alignment});
    live_bytes -= static_cast<std::int64_t>(bytes);
    std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

  std::size_t limit_ = std::numeric_limits<std::size_t>::max();
};

}  // namespace pool_test

namespace {

using memkit::AllocError;
using memkit::InvalidFree;
using memkit::MemoryStats;
using memkit::Pool;
using memkit::PoolOptions;
using memkit::SharedPool;
using memkit::testing::InstanceTracker;
using memkit::testing::Tracked;
using memkit::testing::what_of;
using pool_test::Node;
using pool_test::RecordingResource;

// The address as the messages print it.
std::string address_text(const void* address) {
  std::ostringstream out;
  out << address;
  return out.str();
}

PoolOptions checked_options() {
  PoolOptions options;
  options.checked = true;
  return options;
}

PoolOptions unchecked_options() {
  PoolOptions options;
  options.checked = false;
  return options;
}

std::uintptr_t address_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

// ---- geometry and the basic contract
// -------------------------------------------------------------

TEST(PoolTest, SlotHoldsTheObjectAndALinkAtTheObjectsAlignment) {
  EXPECT_EQ(Pool<char>::slot_size, sizeof(void*));
  EXPECT_EQ(Pool<char>::slot_alignment, alignof(void*));
  EXPECT_EQ(Pool<Node>::slot_size, 16u);
  EXPECT_EQ(Pool<pool_test::Odd>::slot_size, 16u);
  EXPECT_EQ(Pool<pool_test::Wide>::slot_size, 64u);
  EXPECT_EQ(Pool<pool_test::Wide>::slot_alignment, 64u);
  EXPECT_EQ(Pool<pool_test::Paged>::slot_size, 4096u);
  EXPECT_EQ(Pool<pool_test::Paged>::slot_alignment, 4096u);
}

TEST(PoolTest, ChecksByDefaultExactlyInDebugBuilds) {
  Pool<Node> pool;
  EXPECT_EQ(pool.checked(), MEMKIT_DEBUG != 0);
  EXPECT_TRUE(Pool<Node>(checked_options()).checked());
  EXPECT_FALSE(Pool<Node>(unchecked_options()).checked());
}

TEST(PoolTest, NamesItselfAfterItsType) {
  Pool<Node> pool;
  EXPECT_EQ(pool.name(), "memkit::Pool<pool_test::Node>");
  EXPECT_EQ(pool.memory_stats().source, "memkit::Pool<pool_test::Node>");
  PoolOptions options;
  options.name = "particles";
  Pool<Node> named(options);
  EXPECT_EQ(named.name(), "particles");
  EXPECT_EQ(named.memory_stats().source, "particles");
}

void expect_distinct_aligned_writable(bool checked) {
  PoolOptions options;
  options.checked = checked;
  options.slots_per_chunk = 8;
  options.max_slots_per_chunk = 64;
  Pool<Node> pool(options);
  std::vector<Node*> nodes;
  for (int i = 0; i < 1000; ++i) {
    Node* node = pool.allocate();
    ASSERT_NE(node, nullptr);
    EXPECT_EQ(address_of(node) % alignof(Node), 0u);
    node->value = i;
    node->next = nullptr;
    nodes.push_back(node);
  }
  EXPECT_EQ(pool.live(), 1000u);
  std::set<Node*> distinct(nodes.begin(), nodes.end());
  EXPECT_EQ(distinct.size(), nodes.size());
  // No two slots overlap: sorted, each starts at least a slot after the previous one.
  for (auto it = std::next(distinct.begin()); it != distinct.end(); ++it) {
    EXPECT_GE(address_of(*it) - address_of(*std::prev(it)), Pool<Node>::slot_size);
  }
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(nodes[static_cast<std::size_t>(i)]->value, i);
  for (Node* node : nodes) pool.free(node);
  EXPECT_EQ(pool.live(), 0u);
}

TEST(PoolTest, HandsOutDistinctAlignedWritableSlots) { expect_distinct_aligned_writable(false); }

TEST(PoolTest, CheckedPoolHandsOutDistinctAlignedWritableSlots) {
  expect_distinct_aligned_writable(true);
}

TEST(PoolTest, OverAlignedTypesGetAlignedSlots) {
  Pool<pool_test::Wide> wide;
  Pool<pool_test::Paged> paged;
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(address_of(wide.allocate()) % 64, 0u);
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(address_of(paged.allocate()) % 4096, 0u);
  }
}

TEST(PoolTest, TheLastFreedSlotComesBackFirst) {
  for (bool checked : {false, true}) {
    PoolOptions options;
    options.checked = checked;
    Pool<Node> pool(options);
    Node* a = pool.allocate();
    Node* b = pool.allocate();
    pool.free(a);
    pool.free(b);
    EXPECT_EQ(pool.allocate(), b);
    EXPECT_EQ(pool.allocate(), a);
    EXPECT_EQ(pool.live(), 2u);
  }
}

TEST(PoolTest, TryAllocateHandsOutSlotsToo) {
  Pool<Node> pool;
  Node* a = pool.try_allocate();
  ASSERT_NE(a, nullptr);
  pool.free(a);
  EXPECT_EQ(pool.try_allocate(), a);
}

TEST(PoolTest, MakeConstructsAndDestroyDestructs) {
  InstanceTracker tracker;
  Pool<Tracked> pool;
  Tracked* first = pool.make(7);
  Tracked* second = pool.make(8);
  EXPECT_EQ(first->value(), 7);
  EXPECT_EQ(second->value(), 8);
  EXPECT_EQ(tracker.live(), 2);
  EXPECT_EQ(pool.live(), 2u);
  pool.destroy(first);
  EXPECT_EQ(tracker.destroyed(), 1);
  EXPECT_EQ(pool.live(), 1u);
  Tracked* third = pool.make(9);
  EXPECT_EQ(third, first);  // the freed slot is reused
  pool.destroy(second);
  pool.destroy(third);
  EXPECT_EQ(tracker.live(), 0);
  EXPECT_EQ(tracker.copied(), 0);
  EXPECT_EQ(tracker.moved(), 0);
}

TEST(PoolTest, MakeGivesTheSlotBackWhenTheConstructorThrows) {
  InstanceTracker tracker;
  for (bool checked : {false, true}) {
    PoolOptions options;
    options.checked = checked;
    Pool<pool_test::ThrowsOnConstruct> pool(options);
    EXPECT_THROW((void)pool.make(1), pool_test::ConstructionFailed);
    EXPECT_EQ(pool.live(), 0u);
    EXPECT_EQ(tracker.live(), 0);  // the member that was built was destroyed
    const MemoryStats stats = pool.memory_stats();
    EXPECT_EQ(stats.counts.allocations, 1u);
    EXPECT_EQ(stats.counts.frees, 1u);
  }
}

// ---- growth and stats
// ----------------------------------------------------------------------------

TEST(PoolTest, GrowsInChunksThatDoubleUpToTheCap) {
  RecordingResource upstream;
  PoolOptions options;
  options.slots_per_chunk = 4;
  options.max_slots_per_chunk = 16;
  options.upstream = &upstream;
  {
    Pool<Node> pool(options);
    EXPECT_TRUE(upstream.allocations.empty());  // nothing until the first allocate
    std::vector<Node*> nodes;
    for (int i = 0; i < 4 + 8 + 16 + 16 + 1; ++i) nodes.push_back(pool.allocate());

    // The chunk index (8 records of 32 bytes), then chunks of 4, 8, 16, 16 and 16 slots: an
    // 8-byte bitmap and 16-byte slots each.
    ASSERT_EQ(upstream.allocations.size(), 6u);
    EXPECT_EQ(upstream.allocations[0].bytes, 256u);
    EXPECT_EQ(upstream.allocations[1].bytes, 8u + 4 * 16);
    EXPECT_EQ(upstream.allocations[2].bytes, 8u + 8 * 16);
    EXPECT_EQ(upstream.allocations[3].bytes, 8u + 16 * 16);
    EXPECT_EQ(upstream.allocations[4].bytes, 8u + 16 * 16);
    EXPECT_EQ(upstream.allocations[5].bytes, 8u + 16 * 16);
    for (const auto& call : upstream.allocations) EXPECT_EQ(call.alignment, 8u);

    const MemoryStats stats = pool.memory_stats();
    ASSERT_TRUE(stats.footprint.has_value());
    EXPECT_EQ(stats.footprint->chunks, 5u);
    EXPECT_EQ(stats.footprint->capacity_bytes, 72u + 136 + 264 + 264 + 264);
    EXPECT_EQ(stats.footprint->wasted_bytes, 5u * 8);  // the bitmaps; Node fills its slot
  }
  // Every chunk and the index went back, with the sizes they came with.
  EXPECT_EQ(upstream.live_bytes, 0);
  EXPECT_EQ(upstream.deallocations.size(), 6u);
}

TEST(PoolTest, FreedSlotsAreReusedBeforeAnyNewChunk) {
  RecordingResource upstream;
  PoolOptions options;
  options.slots_per_chunk = 4;
  options.upstream = &upstream;
  Pool<Node> pool(options);
  std::vector<Node*> nodes;
  for (int i = 0; i < 4; ++i) nodes.push_back(pool.allocate());
  for (int round = 0; round < 100; ++round) {
    for (Node* node : nodes) pool.free(node);
    for (Node*& node : nodes) node = pool.allocate();
  }
  EXPECT_EQ(upstream.allocations.size(), 2u);  // the index and one chunk
  EXPECT_EQ(pool.memory_stats().footprint->chunks, 1u);
}

TEST(PoolTest, AChunkOverAlignedSlotsIsPaddedAndThePaddingCounted) {
  RecordingResource upstream;
  PoolOptions options;
  options.upstream = &upstream;
  Pool<pool_test::Wide> pool(options);
  (void)pool.allocate();
  ASSERT_EQ(upstream.allocations.size(), 2u);
  // An 8-byte bitmap padded to 64, then 64 slots of 64 bytes, at alignment 64.
  EXPECT_EQ(upstream.allocations[1].bytes, 64u + 64 * 64);
  EXPECT_EQ(upstream.allocations[1].alignment, 64u);
  EXPECT_EQ(pool.memory_stats().footprint->wasted_bytes, 64u);
}

TEST(PoolTest, StatsAreExactForAKnownSequence) {
  for (bool checked : {false, true}) {
    PoolOptions options;
    options.checked = checked;
    Pool<pool_test::Odd> pool(options);  // 16-byte slots for 12-byte objects
    pool_test::Odd* a = pool.make();
    pool_test::Odd* b = pool.make();
    pool_test::Odd* c = pool.make();
    pool.destroy(b);
    pool.destroy(a);
    pool_test::Odd* d = pool.make();  // reuses a's slot: the peak stays at 3 slots
    (void)c;
    (void)d;

    const MemoryStats stats = pool.memory_stats();
    EXPECT_EQ(stats.source, "memkit::Pool<pool_test::Odd>");
    EXPECT_EQ(stats.counts.allocations, 4u);
    EXPECT_EQ(stats.counts.frees, 2u);
    EXPECT_EQ(stats.counts.live_blocks, 2u);
    EXPECT_EQ(stats.counts.live_bytes, 32u);
    EXPECT_EQ(stats.counts.peak_bytes, 48u);
    EXPECT_EQ(stats.counts.total_bytes, 64u);
    ASSERT_TRUE(stats.footprint.has_value());
    EXPECT_EQ(stats.footprint->chunks, 1u);
    EXPECT_EQ(stats.footprint->capacity_bytes, 8u + 64 * 16);
    EXPECT_EQ(stats.footprint->wasted_bytes, 8u + 64 * 4);  // bitmap + 4 bytes a slot
    EXPECT_TRUE(stats.by_tag.empty());
    EXPECT_EQ(memkit::to_text(stats),
              "memkit::Pool<pool_test::Odd>: live 32 B in 2 blocks, peak 48 B; 4 allocations, "
              "2 frees, 64 B in total\n"
              "  holds 1.0 KiB in 1 chunk, 264 B wasted\n");
  }
}

TEST(PoolTest, PeakIsTheMostSlotsEverLiveAtOnce) {
  Pool<Node> pool;
  std::vector<Node*> nodes;
  for (int i = 0; i < 100; ++i) nodes.push_back(pool.allocate());
  for (Node* node : nodes) pool.free(node);
  for (int i = 0; i < 30; ++i) (void)pool.allocate();
  const MemoryStats stats = pool.memory_stats();
  EXPECT_EQ(stats.counts.peak_bytes, 100u * 16);
  EXPECT_EQ(stats.counts.live_bytes, 30u * 16);
}

// ---- bad options
// ----------------------------------------------------------------------------------

std::string configure_error(const PoolOptions& options) {
  try {
    Pool<Node> pool(options);
  } catch (const AllocError& e) {
    EXPECT_EQ(e.size(), 16u);
    EXPECT_EQ(e.alignment(), 8u);
    return e.what();
  }
  ADD_FAILURE() << "expected memkit::AllocError";
  return {};
}

TEST(PoolOptionsTest, ZeroSlotsPerChunkIsRefused) {
  PoolOptions options;
  options.slots_per_chunk = 0;
  EXPECT_EQ(configure_error(options),
            "memkit::Pool<pool_test::Node>: configure(size 16, align 8) failed: "
            "PoolOptions::slots_per_chunk is 0 (a chunk holds at least one slot)");
}

TEST(PoolOptionsTest, AMaximumBelowTheFirstChunkIsRefused) {
  PoolOptions options;
  options.slots_per_chunk = 64;
  options.max_slots_per_chunk = 32;
  EXPECT_EQ(configure_error(options),
            "memkit::Pool<pool_test::Node>: configure(size 16, align 8) failed: "
            "PoolOptions::max_slots_per_chunk (32) is less than slots_per_chunk (64)");
}

TEST(PoolOptionsTest, AChunkSizeThatOverflowsIsRefused) {
  PoolOptions options;
  options.max_slots_per_chunk = std::numeric_limits<std::size_t>::max() / 16 + 1;
  EXPECT_EQ(configure_error(options),
            "memkit::Pool<pool_test::Node>: configure(size 16, align 8) failed: a chunk of " +
                std::to_string(options.max_slots_per_chunk) +
                " slots of 16 bytes overflows std::size_t (PoolOptions::max_slots_per_chunk is "
                "too large)");
  // The largest count whose slots fit but whose bitmap pushes the chunk over.
  options.max_slots_per_chunk = std::numeric_limits<std::size_t>::max() / 16;
  EXPECT_THAT(configure_error(options), ::testing::HasSubstr("overflows std::size_t"));
}

TEST(PoolOptionsTest, ANullUpstreamIsRefused) {
  PoolOptions options;
  options.upstream = nullptr;
  EXPECT_EQ(configure_error(options),
            "memkit::Pool<pool_test::Node>: configure(size 16, align 8) failed: "
            "PoolOptions::upstream is null");
}

TEST(PoolOptionsTest, TheNameReplacesTheTypeInErrors) {
  PoolOptions options;
  options.name = "particles";
  options.slots_per_chunk = 0;
  EXPECT_THAT(configure_error(options), ::testing::StartsWith("particles: configure(size 16"));
}

TEST(PoolOptionsTest, ABadOptionIsAStdBadAlloc) {
  PoolOptions options;
  options.slots_per_chunk = 0;
  EXPECT_THROW(Pool<Node>{options}, std::bad_alloc);
}

// ---- an upstream that fails
// ------------------------------------------------------------------------

TEST(PoolTest, AnUpstreamFailureIsAnAllocErrorOrANull) {
  for (bool checked : {false, true}) {
    PoolOptions options;
    options.checked = checked;
    options.upstream = std::pmr::null_memory_resource();
    Pool<Node> pool(options);
    EXPECT_EQ(pool.try_allocate(), nullptr);
    const std::string expected =
        "memkit::Pool<pool_test::Node>: allocate(size 16, align 8) failed: the upstream memory "
        "resource could not provide 256 bytes for the chunk index (std::bad_alloc)";
    EXPECT_EQ(what_of<AllocError>([&] { (void)pool.allocate(); }), expected);
    EXPECT_EQ(what_of<AllocError>([&] { (void)pool.make(); }), expected);
    EXPECT_EQ(pool.live(), 0u);
    EXPECT_EQ(pool.memory_stats().counts.allocations, 0u);
  }
}

TEST(PoolTest, AFailedChunkLeavesThePoolUsable) {
  RecordingResource upstream;
  upstream.fail_after(2);  // the index and the first chunk
  PoolOptions options;
  options.slots_per_chunk = 2;
  options.upstream = &upstream;
  Pool<Node> pool(options);
  Node* a = pool.allocate();
  Node* b = pool.allocate();
  try {
    (void)pool.allocate();
    ADD_FAILURE() << "expected memkit::AllocError";
  } catch (const AllocError& e) {
    EXPECT_STREQ(e.what(),
                 "memkit::Pool<pool_test::Node>: allocate(size 16, align 8) failed: the upstream "
                 "memory resource could not provide 72 bytes for a chunk (std::bad_alloc)");
    EXPECT_EQ(e.size(), 16u);
    EXPECT_EQ(e.alignment(), 8u);
  }
  EXPECT_EQ(pool.try_allocate(), nullptr);
  EXPECT_EQ(pool.live(), 2u);
  pool.free(a);
  EXPECT_EQ(pool.allocate(), a);  // the free list still works
  upstream.fail_after(100);
  Node* c = pool.allocate();  // and so does growth, once upstream recovers
  EXPECT_NE(c, a);
  EXPECT_NE(c, b);
  EXPECT_EQ(pool.memory_stats().footprint->chunks, 2u);
}

// ---- checked frees
// ---------------------------------------------------------------------------------

TEST(PoolCheckedTest, DoubleFreeIsAnInvalidFreeAndChangesNothing) {
  Pool<Node> pool(checked_options());
  Node* a = pool.allocate();
  Node* b = pool.allocate();
  pool.free(a);
  try {
    pool.free(a);
    ADD_FAILURE() << "expected memkit::InvalidFree";
  } catch (const InvalidFree& e) {
    EXPECT_EQ(std::string(e.what()), "memkit::Pool<pool_test::Node>: free(" + address_text(a) +
                                         ") failed: double free (the slot is already free)");
    EXPECT_EQ(e.address(), a);
  }
  EXPECT_EQ(pool.live(), 1u);
  EXPECT_EQ(pool.memory_stats().counts.frees, 1u);
  // The free list holds `a` once: it comes back once, then a fresh slot.
  EXPECT_EQ(pool.allocate(), a);
  Node* c = pool.allocate();
  EXPECT_NE(c, a);
  EXPECT_NE(c, b);
}

TEST(PoolCheckedTest, AForeignPointerIsNotASlot) {
  Pool<Node> pool(checked_options());
  Pool<Node> other(checked_options());
  (void)pool.allocate();
  Node on_stack{};
  Node* elsewhere = other.allocate();
  for (Node* foreign : {&on_stack, elsewhere}) {
    EXPECT_EQ(what_of<InvalidFree>([&] { pool.free(foreign); }),
              "memkit::Pool<pool_test::Node>: free(" + address_text(foreign) +
                  ") failed: the pointer is not a slot of this pool");
  }
  EXPECT_EQ(pool.live(), 1u);
}

TEST(PoolCheckedTest, ANullPointerIsNotASlot) {
  Pool<Node> pool(checked_options());
  (void)pool.allocate();
  // Through a volatile, so that g++ does not warn about the null push it cannot know is never
  // reached (the pool is checked).
  Node* volatile null_node = nullptr;
  EXPECT_EQ(what_of<InvalidFree>([&] { pool.free(null_node); }),
            "memkit::Pool<pool_test::Node>: free(" + address_text(nullptr) +
                ") failed: the pointer is not a slot of this pool");
}

TEST(PoolCheckedTest, APointerIntoASlotIsNotASlot) {
  Pool<Node> pool(checked_options());
  Node* node = pool.allocate();
  auto* inside = reinterpret_cast<Node*>(&node->next);
  EXPECT_EQ(what_of<InvalidFree>([&] { pool.free(inside); }),
            "memkit::Pool<pool_test::Node>: free(" + address_text(inside) +
                ") failed: the pointer is not a slot of this pool (it points 8 bytes into a "
                "slot)");
}

TEST(PoolCheckedTest, ASlotNeverHandedOutIsNotASlot) {
  Pool<Node> pool(checked_options());
  Node* first = pool.allocate();
  Node* not_yet = first + 1;  // the next slot of the chunk, never carved
  EXPECT_EQ(what_of<InvalidFree>([&] { pool.free(not_yet); }),
            "memkit::Pool<pool_test::Node>: free(" + address_text(not_yet) +
                ") failed: the pointer is not a slot of this pool (it is in a part of a chunk "
                "that was never handed out)");
  // The chunk's bitmap, just before the first slot, is not a slot either.
  auto* bitmap = reinterpret_cast<Node*>(reinterpret_cast<std::byte*>(first) - 8);
  EXPECT_EQ(what_of<InvalidFree>([&] { pool.free(bitmap); }),
            "memkit::Pool<pool_test::Node>: free(" + address_text(bitmap) +
                ") failed: the pointer is not a slot of this pool");
}

TEST(PoolCheckedTest, DestroyChecksBeforeTheDestructorRuns) {
  InstanceTracker tracker;
  Pool<Tracked> pool(checked_options());
  Tracked* a = pool.make(1);
  pool.destroy(a);
  EXPECT_EQ(what_of<InvalidFree>([&] { pool.destroy(a); }),
            "memkit::Pool<memkit::testing::Tracked>: destroy(" + address_text(a) +
                ") failed: double free (the slot is already free)");
  Tracked outside(2);
  // Through a volatile, so that g++ does not warn about the 8-byte push into a 4-byte object
  // that it cannot know is never reached (the pool is checked).
  Tracked* volatile outside_address = &outside;
  EXPECT_EQ(what_of<InvalidFree>([&] { pool.destroy(outside_address); }),
            "memkit::Pool<memkit::testing::Tracked>: destroy(" + address_text(&outside) +
                ") failed: the pointer is not a slot of this pool");
  EXPECT_EQ(tracker.destroyed(), 1);  // neither refused destroy ran ~Tracked()
  EXPECT_EQ(outside.value(), 2);
}

TEST(PoolCheckedTest, TheNameReplacesTheTypeInInvalidFree) {
  PoolOptions options = checked_options();
  options.name = "particles";
  Pool<Node> pool(options);
  Node* a = pool.allocate();
  pool.free(a);
  EXPECT_EQ(
      what_of<InvalidFree>([&] { pool.free(a); }),
      "particles: free(" + address_text(a) + ") failed: double free (the slot is already free)");
}

TEST(PoolCheckedTest, ChecksAcrossManyChunksInAnyOrder) {
  PoolOptions options = checked_options();
  options.slots_per_chunk = 1;
  options.max_slots_per_chunk = 8;
  Pool<Node> pool(options);
  std::vector<Node*> nodes;
  for (int i = 0; i < 2000; ++i) nodes.push_back(pool.allocate());
  std::mt19937 random(12345);
  std::shuffle(nodes.begin(), nodes.end(), random);
  for (std::size_t i = 0; i < nodes.size(); i += 2) pool.free(nodes[i]);
  for (std::size_t i = 0; i < nodes.size(); i += 2) {
    EXPECT_THROW(pool.free(nodes[i]), InvalidFree);
  }
  for (std::size_t i = 1; i < nodes.size(); i += 2) pool.free(nodes[i]);
  EXPECT_EQ(pool.live(), 0u);
  // Every slot comes back exactly once before any new chunk is taken.
  const std::uint64_t chunks = pool.memory_stats().footprint->chunks;
  std::set<Node*> again;
  for (int i = 0; i < 2000; ++i) again.insert(pool.allocate());
  EXPECT_EQ(again, std::set<Node*>(nodes.begin(), nodes.end()));
  EXPECT_EQ(pool.memory_stats().footprint->chunks, chunks);
}

// ---- destruction
// ------------------------------------------------------------------------------------

TEST(PoolTest, DestructionDestroysEveryLiveObjectOnce) {
  for (bool checked : {false, true}) {
    InstanceTracker tracker;
    {
      PoolOptions options;
      options.checked = checked;
      options.slots_per_chunk = 4;
      Pool<Tracked> pool(options);
      std::vector<Tracked*> objects;
      for (int i = 0; i < 50; ++i) objects.push_back(pool.make(i));
      for (int i = 0; i < 50; i += 3) pool.destroy(objects[static_cast<std::size_t>(i)]);
      EXPECT_EQ(tracker.live(), 33);
      EXPECT_EQ(tracker.destroyed(), 17);
    }
    EXPECT_EQ(tracker.destroyed(), 50) << "checked = " << checked;
    EXPECT_EQ(tracker.live(), 0);
  }
}

TEST(PoolTest, DestructionFreesMemberMemoryOfLiveObjects) {
  RecordingResource upstream;
  {
    PoolOptions options;
    options.upstream = &upstream;
    options.checked = false;
    Pool<pool_test::Named> pool(options);
    pool_test::Named* a = pool.make();
    a->text.assign(1000, 'x');  // a heap block only ~Named() frees (ASan's leak check sees it)
    pool.destroy(pool.make());
  }
  EXPECT_EQ(upstream.live_bytes, 0);
}

TEST(PoolTest, DestructorsMayDestroyOtherObjectsOfThePool) {
  for (bool checked : {false, true}) {
    InstanceTracker tracker;
    {
      PoolOptions options;
      options.checked = checked;
      options.slots_per_chunk = 2;
      Pool<pool_test::TreeNode> pool(options);
      // Children are made after their parents, so they lie at higher addresses in the first
      // chunk and at unrelated ones later: destruction reaches parents and children in any
      // order, and each must die exactly once.
      pool_test::TreeNode* root = pool.make(&pool, 0);
      std::vector<pool_test::TreeNode*> all{root};
      for (int i = 1; i < 40; ++i) {
        pool_test::TreeNode* parent = all[static_cast<std::size_t>(i - 1) / 2];
        pool_test::TreeNode* child = pool.make(&pool, i);
        parent->children.push_back(child);
        all.push_back(child);
      }
      EXPECT_EQ(tracker.live(), 40);
    }
    EXPECT_EQ(tracker.destroyed(), 40) << "checked = " << checked;
  }
}

TEST(PoolTest, AnOwnerAtAHigherAddressMayDestroyWhatDiedBeforeIt) {
  for (bool checked : {false, true}) {
    InstanceTracker tracker;
    {
      PoolOptions options;
      options.checked = checked;
      Pool<pool_test::TreeNode> pool(options);
      // One chunk, carved upwards: the child's slot is below its parent's, so ~Pool, going in
      // address order, destroys the child first; the parent's destructor then destroys it again,
      // which does nothing.
      pool_test::TreeNode* child = pool.make(&pool, 1);
      pool_test::TreeNode* parent = pool.make(&pool, 0);
      ASSERT_LT(address_of(child), address_of(parent));
      parent->children.push_back(child);
    }
    EXPECT_EQ(tracker.destroyed(), 2) << "checked = " << checked;
    EXPECT_EQ(tracker.live(), 0);
  }
}

TEST(PoolTest, RawSlotsOfTrivialTypesNeedNoDestructor) {
  RecordingResource upstream;
  {
    PoolOptions options;
    options.upstream = &upstream;
    Pool<Node> pool(options);
    for (int i = 0; i < 500; ++i) (void)pool.allocate();
  }
  EXPECT_EQ(upstream.live_bytes, 0);
}

TEST(PoolTest, MovingTakesTheObjectsAlong) {
  InstanceTracker tracker;
  Pool<Tracked> source;
  Tracked* a = source.make(1);
  Pool<Tracked> target(std::move(source));
  EXPECT_EQ(target.live(), 1u);
  EXPECT_EQ(source.live(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(source.memory_stats().footprint->chunks, 0u);
  EXPECT_EQ(a->value(), 1);
  target.destroy(a);

  // The moved-from pool is empty but usable.
  EXPECT_EQ(source.name(), "memkit::Pool<memkit::testing::Tracked>");
  Tracked* b = source.make(2);
  EXPECT_EQ(source.live(), 1u);

  // Move assignment destroys what the target held.
  Pool<Tracked> other;
  (void)other.make(3);
  other = std::move(source);
  EXPECT_EQ(tracker.destroyed(), 2);  // a, and the 3
  EXPECT_EQ(other.live(), 1u);
  other.destroy(b);
  EXPECT_EQ(tracker.live(), 0);
}

// ---- misuse the pool cannot survive: it stops the program
// ------------------------------------------

TEST(PoolDeathTest, ACorruptedFreeListStopsACheckedPool) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Pool<Node> pool(checked_options());
        Node* a = pool.allocate();
        pool.free(a);
        // Overwrite the freed slot's link, as a write after free would (past ASan's poison).
        Node decoy{};
        Node* forged = &decoy;
        memkit::unpoison_memory(a, sizeof(void*));
        std::memcpy(static_cast<void*>(a), &forged, sizeof(forged));
        (void)pool.allocate();  // pops `a`; the next head is the forged link
        (void)pool.allocate();
      },
      "memkit: fatal: memkit::Pool<pool_test::Node>: allocate\\(\\) found a corrupted free "
      "list: 0x[0-9a-f]+ is not a free slot of this pool \\(was a freed slot written to\\?\\)");
}

TEST(PoolDeathTest, AnUncheckedDoubleFreeIsCaughtWhenThePoolDies) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Pool<pool_test::Named> pool(unchecked_options());
        pool_test::Named* a = pool.make();
        a->~Named();
        pool.free(a);
        pool.free(a);  // undetected here: an unchecked free is a push
      },
      "memkit: fatal: memkit::Pool<pool_test::Named>: destruction found a corrupted free list "
      "at 0x[0-9a-f]+ \\(a slot freed twice, or written to after free\\?\\)");
}

// ---- AddressSanitizer
// ---------------------------------------------------------------------------------

#if MEMKIT_ASAN
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
constexpr const char* kNoAsan =
    "needs AddressSanitizer (the asan preset): without it a freed slot is ordinary memory";

int read_value(const Node* node) { return *static_cast<const volatile int*>(&node->value); }

TEST(PoolAsanTest, FreeSlotsArePoisonedAndLiveOnesAreNot) {
  if (!kAsan) GTEST_SKIP() << kNoAsan;
  for (bool checked : {false, true}) {
    PoolOptions options;
    options.checked = checked;
    Pool<Node> pool(options);
    Node* a = pool.allocate();
    EXPECT_FALSE(memkit::is_poisoned(a));
    EXPECT_TRUE(memkit::is_poisoned(a + 1));  // not carved yet
    pool.free(a);
    EXPECT_TRUE(memkit::is_poisoned(a));
    EXPECT_TRUE(memkit::is_poisoned(&a->next));
    EXPECT_EQ(pool.allocate(), a);
    EXPECT_FALSE(memkit::is_poisoned(a));
    EXPECT_FALSE(memkit::is_poisoned(&a->next));
  }
}

TEST(PoolAsanDeathTest, AReadAfterFreeIsReported) {
  if (!kAsan) GTEST_SKIP() << kNoAsan;
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  for (bool checked : {false, true}) {
    EXPECT_DEATH(
        {
          PoolOptions options;
          options.checked = checked;
          Pool<Node> pool(options);
          Node* node = pool.make(Node{42, nullptr});
          pool.destroy(node);
          (void)read_value(node);
        },
        "use-after-poison");
  }
}

TEST(PoolAsanDeathTest, AReadOfASlotNeverHandedOutIsReported) {
  if (!kAsan) GTEST_SKIP() << kNoAsan;
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Pool<Node> pool;
        Node* node = pool.allocate();
        (void)read_value(node + 1);
      },
      "use-after-poison");
}

TEST(PoolAsanDeathTest, AReadAfterThePoolDiedIsReported) {
  if (!kAsan) GTEST_SKIP() << kNoAsan;
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Node* node = nullptr;
        {
          Pool<Node> pool;
          node = pool.make(Node{1, nullptr});
        }
        (void)read_value(node);
      },
      "heap-use-after-free");
}

// ---- SharedPool: one thread
// -----------------------------------------------------------------------------

TEST(SharedPoolTest, AThreadCachesABatchOfSlots) {
  SharedPool<Node> pool(unchecked_options());
  EXPECT_FALSE(pool.checked());
  EXPECT_EQ(pool.name(), "memkit::SharedPool<pool_test::Node>");
  Node* a = pool.make(Node{1, nullptr});
  EXPECT_EQ(a->value, 1);
  EXPECT_EQ(pool.live(), 1u);
  EXPECT_EQ(pool.cached_slots(), SharedPool<Node>::thread_cache_batch - 1);
  pool.destroy(a);
  EXPECT_EQ(pool.live(), 0u);
  EXPECT_EQ(pool.cached_slots(), SharedPool<Node>::thread_cache_batch);
  EXPECT_EQ(pool.allocate(), a);  // the cache is a stack too
  pool.free(a);
  pool.flush_thread_cache();
  EXPECT_EQ(pool.cached_slots(), 0u);

  const MemoryStats stats = pool.memory_stats();
  EXPECT_EQ(stats.source, "memkit::SharedPool<pool_test::Node>");
  EXPECT_EQ(stats.counts.allocations, 2u);
  EXPECT_EQ(stats.counts.frees, 2u);
  EXPECT_EQ(stats.counts.live_bytes, 0u);
  EXPECT_EQ(stats.counts.total_bytes, 32u);
  // An upper bound with caches: the batch handed to this thread's cache.
  EXPECT_EQ(stats.counts.peak_bytes, 16u * 16);
  EXPECT_EQ(stats.footprint->chunks, 1u);
  EXPECT_EQ(stats.footprint->capacity_bytes, 8u + 64 * 16);
}

TEST(SharedPoolTest, AFullCacheSendsABatchBack) {
  SharedPool<Node> pool(unchecked_options());
  std::vector<Node*> nodes;
  for (int i = 0; i < 100; ++i) nodes.push_back(pool.allocate());
  EXPECT_EQ(pool.live(), 100u);
  EXPECT_EQ(pool.cached_slots(), 7u * 16 - 100);  // seven batches of 16 were taken
  for (Node* node : nodes) pool.free(node);
  EXPECT_EQ(pool.live(), 0u);
  // The cache kept at most 32; the rest went back to the central pool in batches of 16.
  EXPECT_LE(pool.cached_slots(), SharedPool<Node>::thread_cache_slots);
  // Every slot is handed out at most once, and no new chunk is needed.
  const std::uint64_t chunks = pool.memory_stats().footprint->chunks;
  std::set<Node*> again;
  for (int i = 0; i < 100; ++i) again.insert(pool.allocate());
  EXPECT_EQ(again.size(), 100u);
  EXPECT_EQ(pool.memory_stats().footprint->chunks, chunks);
}

TEST(SharedPoolTest, TwoPoolsOnOneThreadKeepTheirSlotsApart) {
  SharedPool<Node> first(unchecked_options());
  SharedPool<Node> second(unchecked_options());
  std::set<Node*> from_first;
  std::set<Node*> from_second;
  for (int round = 0; round < 3; ++round) {
    std::vector<Node*> a;
    std::vector<Node*> b;
    for (int i = 0; i < 50; ++i) {  // alternating: the one-entry lookup misses every time
      a.push_back(first.allocate());
      b.push_back(second.allocate());
    }
    from_first.insert(a.begin(), a.end());
    from_second.insert(b.begin(), b.end());
    for (int i = 0; i < 50; ++i) {
      first.free(a[static_cast<std::size_t>(i)]);
      second.free(b[static_cast<std::size_t>(i)]);
    }
  }
  EXPECT_EQ(first.live(), 0u);
  EXPECT_EQ(second.live(), 0u);
  for (Node* node : from_first) EXPECT_EQ(from_second.count(node), 0u);
  EXPECT_EQ(first.memory_stats().footprint->chunks, 1u);  // 64 slots were enough each time
  EXPECT_EQ(second.memory_stats().footprint->chunks, 1u);
}

TEST(SharedPoolTest, CheckedPoolsKeepNoCacheAndCatchBadFrees) {
  SharedPool<Node> pool(checked_options());
  EXPECT_TRUE(pool.checked());
  Node* a = pool.allocate();
  EXPECT_EQ(pool.cached_slots(), 0u);
  pool.free(a);
  EXPECT_EQ(what_of<InvalidFree>([&] { pool.free(a); }),
            "memkit::SharedPool<pool_test::Node>: free(" + address_text(a) +
                ") failed: double free (the slot is already free)");
  Node on_stack{};
  EXPECT_EQ(what_of<InvalidFree>([&] { pool.destroy(&on_stack); }),
            "memkit::SharedPool<pool_test::Node>: destroy(" + address_text(&on_stack) +
                ") failed: the pointer is not a slot of this pool");
  const MemoryStats stats = pool.memory_stats();
  EXPECT_EQ(stats.counts.allocations, 1u);
  EXPECT_EQ(stats.counts.frees, 1u);
  EXPECT_EQ(stats.counts.peak_bytes, 16u);  // exact without caches
}

TEST(SharedPoolTest, AnUpstreamFailureIsAnAllocErrorOrANull) {
  for (bool checked : {false, true}) {
    PoolOptions options;
    options.checked = checked;
    options.upstream = std::pmr::null_memory_resource();
    SharedPool<Node> pool(options);
    EXPECT_EQ(pool.try_allocate(), nullptr);
    EXPECT_EQ(what_of<AllocError>([&] { (void)pool.make(); }),
              "memkit::SharedPool<pool_test::Node>: allocate(size 16, align 8) failed: the "
              "upstream memory resource could not provide 256 bytes for the chunk index "
              "(std::bad_alloc)");
    EXPECT_EQ(pool.live(), 0u);
  }
}

TEST(SharedPoolTest, BadOptionsAreRefused) {
  PoolOptions options;
  options.slots_per_chunk = 0;
  EXPECT_EQ(what_of<AllocError>([&] { SharedPool<Node> pool(options); }),
            "memkit::SharedPool<pool_test::Node>: configure(size 16, align 8) failed: "
            "PoolOptions::slots_per_chunk is 0 (a chunk holds at least one slot)");
}

TEST(SharedPoolTest, DestructionDestroysEachObjectOnceInAnyOrder) {
  for (bool checked : {false, true}) {
    InstanceTracker tracker;
    {
      PoolOptions options;
      options.checked = checked;
      SharedPool<pool_test::SharedTreeNode> pool(options);
      pool_test::SharedTreeNode* child = pool.make(&pool, 1);
      pool_test::SharedTreeNode* parent = pool.make(&pool, 0);
      ASSERT_LT(address_of(child), address_of(parent));  // so ~SharedPool reaches it first
      parent->children.push_back(child);
      for (int i = 2; i < 40; ++i) parent->children.push_back(pool.make(&pool, i));
      pool.destroy(pool.make(&pool, 99));  // a free slot in the cache is not destroyed
    }
    EXPECT_EQ(tracker.destroyed(), 41) << "checked = " << checked;
    EXPECT_EQ(tracker.live(), 0);
  }
}

TEST(SharedPoolTest, MakeGivesTheSlotBackWhenTheConstructorThrows) {
  InstanceTracker tracker;
  SharedPool<pool_test::ThrowsOnConstruct> pool(unchecked_options());
  EXPECT_THROW((void)pool.make(1), pool_test::ConstructionFailed);
  EXPECT_EQ(pool.live(), 0u);
}

TEST(SharedPoolAsanDeathTest, AReadAfterFreeIsReported) {
  if (!kAsan) GTEST_SKIP() << kNoAsan;
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  for (bool checked : {false, true}) {
    EXPECT_DEATH(
        {
          PoolOptions options;
          options.checked = checked;
          SharedPool<Node> pool(options);
          Node* node = pool.make(Node{42, nullptr});
          pool.destroy(node);
          (void)read_value(node);
        },
        "use-after-poison");
  }
}

// ---- SharedPool: many threads
// ------------------------------------------------------------------------------

void churn_on_threads(bool checked) {
  InstanceTracker tracker;
  PoolOptions options;
  options.checked = checked;
  SharedPool<Tracked> pool(options);
  constexpr int kThreads = 6;
  constexpr int kRounds = 200;
  constexpr int kBurst = 70;  // more than a cache holds: batches go back and forth
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&pool, t] {
      std::vector<Tracked*> mine;
      for (int round = 0; round < kRounds; ++round) {
        for (int i = 0; i < kBurst; ++i) mine.push_back(pool.make(t * 1000 + i));
        for (int i = 0; i < kBurst; ++i) {
          EXPECT_EQ(mine[static_cast<std::size_t>(i)]->value(), t * 1000 + i);
        }
        for (Tracked* object : mine) pool.destroy(object);
        mine.clear();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(pool.live(), 0u);
  EXPECT_EQ(pool.cached_slots(), 0u);  // each thread's cache went back when it ended
  const MemoryStats stats = pool.memory_stats();
  constexpr std::uint64_t kTotal = std::uint64_t{kThreads} * kRounds * kBurst;
  EXPECT_EQ(stats.counts.allocations, kTotal);
  EXPECT_EQ(stats.counts.frees, kTotal);
  EXPECT_EQ(tracker.constructed(), static_cast<std::int64_t>(kTotal));
  EXPECT_EQ(tracker.live(), 0);
}

TEST(SharedPoolThreadTest, ManyThreadsAllocateAndFree) { churn_on_threads(false); }

TEST(SharedPoolThreadTest, ManyThreadsAllocateAndFreeInACheckedPool) { churn_on_threads(true); }

// A queue guarded by a mutex: the slots it carries are allocated on one thread, freed on another.
class Handoff {
 public:
  void push(Tracked* object) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(object);
    }
    ready_.notify_one();
  }
  Tracked* pop() {  // null once closed and empty
    std::unique_lock<std::mutex> lock(mutex_);
    ready_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (queue_.empty()) return nullptr;
    Tracked* object = queue_.front();
    queue_.pop_front();
    return object;
  }
  void close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Tracked*> queue_;
  bool closed_ = false;
};

void hand_off_between_threads(bool checked) {
  InstanceTracker tracker;
  PoolOptions options;
  options.checked = checked;
  SharedPool<Tracked> pool(options);
  Handoff handoff;
  constexpr int kProducers = 3;
  constexpr int kConsumers = 3;
  constexpr int kEach = 3000;
  std::vector<std::thread> producers;
  std::vector<std::thread> consumers;
  std::atomic<int> consumed{0};
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&] {
      while (Tracked* object = handoff.pop()) {
        EXPECT_GE(object->value(), 0);
        pool.destroy(object);  // freed on a thread that did not allocate it
        consumed.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) handoff.push(pool.make(p * kEach + i));
    });
  }
  for (std::thread& thread : producers) thread.join();
  handoff.close();
  for (std::thread& thread : consumers) thread.join();
  EXPECT_EQ(consumed.load(), kProducers * kEach);
  EXPECT_EQ(pool.live(), 0u);
  EXPECT_EQ(pool.cached_slots(), 0u);
  EXPECT_EQ(tracker.live(), 0);
  EXPECT_EQ(tracker.destroyed(), kProducers * kEach);
}

TEST(SharedPoolThreadTest, SlotsFreedByAnotherThreadAreReused) { hand_off_between_threads(false); }

TEST(SharedPoolThreadTest, SlotsFreedByAnotherThreadInACheckedPool) {
  hand_off_between_threads(true);
}

TEST(SharedPoolThreadTest, DestructionDestroysObjectsMadeOnOtherThreads) {
  InstanceTracker tracker;
  {
    SharedPool<Tracked> pool(unchecked_options());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&pool, t] {
        for (int i = 0; i < 40; ++i) {
          Tracked* object = pool.make(t * 100 + i);
          if (i % 2 == 0) pool.destroy(object);  // the odd ones stay live
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(pool.live(), 80u);
    EXPECT_EQ(tracker.live(), 80);
  }
  EXPECT_EQ(tracker.live(), 0);
  EXPECT_EQ(tracker.destroyed(), 160);
}

TEST(SharedPoolThreadTest, APoolMayDieWhileAnotherThreadHoldsItsCache) {
  InstanceTracker tracker;
  auto doomed = std::make_unique<SharedPool<Tracked>>(unchecked_options());
  SharedPool<Tracked> survivor(unchecked_options());
  std::promise<void> used;
  std::promise<void> destroyed;
  std::thread worker([&, destroyed_future = destroyed.get_future()] {
    Tracked* kept = doomed->make(1);  // still live when the pool dies
    doomed->destroy(doomed->make(2));
    (void)kept;
    survivor.destroy(survivor.make(3));
    used.set_value();
    destroyed_future.wait();
    // The worker's cache of the dead pool is orphaned; it uses another pool and then exits,
    // dropping the orphan and returning its survivor cache.
    survivor.destroy(survivor.make(4));
  });
  used.get_future().wait();
  EXPECT_EQ(doomed->live(), 1u);
  EXPECT_EQ(doomed->cached_slots(), SharedPool<Tracked>::thread_cache_batch - 1);
  doomed.reset();
  // The 2 and the 3 were destroyed by the worker, the 1 by ~SharedPool; the free slots in the
  // worker's cache held no object and were not destroyed.
  EXPECT_EQ(tracker.destroyed(), 3);
  EXPECT_EQ(tracker.live(), 0);
  destroyed.set_value();
  worker.join();
  EXPECT_EQ(survivor.live(), 0u);
  EXPECT_EQ(survivor.cached_slots(), 0u);
  EXPECT_EQ(tracker.live(), 0);
}

// A thread_local made before the thread first uses the pool is destroyed after the thread's
// caches are gone; freeing from its destructor must still work (it takes the lock).
struct LateFree {
  SharedPool<Node>* pool = nullptr;
  Node* node = nullptr;
  ~LateFree() {
    if (pool != nullptr) pool->free(node);
  }
};

TEST(SharedPoolThreadTest, AThreadLocalDestructorMayFreeAfterTheCachesAreGone) {
  SharedPool<Node> pool(unchecked_options());
  std::thread worker([&pool] {
    thread_local LateFree late;
    late.pool = &pool;
    late.node = pool.allocate();
  });
  worker.join();
  EXPECT_EQ(pool.live(), 0u);
  EXPECT_EQ(pool.cached_slots(), 0u);
  EXPECT_EQ(pool.memory_stats().counts.frees, 1u);
}

}  // namespace
