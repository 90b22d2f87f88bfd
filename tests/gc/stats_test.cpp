// Tests of heap.stats(): collections, pauses, per-type live and collected objects, text and JSON.
#include "memkit/gc/stats.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "gc_test_types.h"

namespace gc_test {
namespace {

using ::testing::HasSubstr;

const memkit::TagStats* find_tag(const memkit::MemoryStats& stats, std::string_view tag) {
  for (const memkit::TagStats& row : stats.by_tag) {
    if (row.tag == tag) return &row;
  }
  return nullptr;
}

TEST(GcStatsTest, FreshHeap) {
  gc::Heap heap;
  quiet(heap);
  const gc::GcStats stats = heap.stats();
  EXPECT_EQ(stats.collections, 0U);
  EXPECT_EQ(stats.last_reason, gc::CollectionReason::kNone);
  EXPECT_EQ(stats.pages, 0U);
  EXPECT_EQ(stats.objects.source, "memkit::gc::Heap");
  EXPECT_TRUE(stats.objects.by_tag.empty());
  EXPECT_EQ(stats.stress, "off");
}

TEST(GcStatsTest, PerTypeLiveAndCollectedObjects) {
  gc::Heap heap;
  quiet(heap);
  std::vector<gc::Local<Node>> nodes;
  for (int i = 0; i < 10; ++i) nodes.push_back(gc::make<Node>(heap, i));
  for (int i = 0; i < 3; ++i) (void)gc::make<Blob<100>>(heap);  // 128-byte slots
  nodes.resize(4);
  heap.collect();
  const gc::GcStats stats = heap.stats();
  EXPECT_EQ(stats.collections, 1U);
  EXPECT_EQ(stats.last_reason, gc::CollectionReason::kExplicit);
  EXPECT_GT(stats.total_pause_ns, 0U);
  EXPECT_EQ(stats.max_pause_ns, stats.total_pause_ns);
  EXPECT_EQ(stats.last_pause_ns, stats.total_pause_ns);
  EXPECT_EQ(stats.pages, 2U);  // one per size class used
  EXPECT_EQ(stats.heap_bytes, 2U * 128 * 1024);

  const memkit::TagStats* node = find_tag(stats.objects, "gc_test::Node");
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->counts.live_blocks, 4U);
  EXPECT_EQ(node->counts.live_bytes, 4U * kNodeSlot);
  EXPECT_EQ(node->counts.frees, 6U);
  EXPECT_EQ(node->counts.allocations, 10U);
  EXPECT_EQ(node->counts.total_bytes, 10U * kNodeSlot);
  const memkit::TagStats* blob = find_tag(stats.objects, "gc_test::Blob<100>");
  ASSERT_NE(blob, nullptr);
  EXPECT_EQ(blob->counts.live_blocks, 0U);
  EXPECT_EQ(blob->counts.frees, 3U);
  EXPECT_EQ(blob->counts.total_bytes, 3U * 128);
  EXPECT_EQ(stats.objects.counts.live_blocks, 4U);
  EXPECT_EQ(stats.objects.counts.allocations, 13U);
  EXPECT_EQ(stats.objects.counts.frees, 9U);
  EXPECT_EQ(stats.objects.by_tag.front().tag, "gc_test::Node");  // most live bytes first
}

TEST(GcStatsTest, MaxPauseIsTheLargest) {
  gc::Heap heap;
  quiet(heap);
  heap.collect();
  std::vector<gc::Local<Node>> nodes;
  for (int i = 0; i < 20000; ++i) nodes.push_back(gc::make<Node>(heap, i));
  heap.collect();
  heap.collect();
  const gc::GcStats stats = heap.stats();
  EXPECT_EQ(stats.collections, 3U);
  EXPECT_GE(stats.max_pause_ns, stats.last_pause_ns);
  EXPECT_LE(stats.max_pause_ns, stats.total_pause_ns);
}

TEST(GcStatsTest, TextForm) {
  gc::Heap heap;
  quiet(heap);
  gc::Local<Node> node = gc::make<Node>(heap);
  heap.collect();
  std::ostringstream out;
  out << heap.stats();
  const std::string text = out.str();
  EXPECT_THAT(text, ::testing::StartsWith("memkit::gc::Heap: 1 collection (last: explicit), "
                                          "pauses: total "));
  EXPECT_THAT(text, HasSubstr("\n  memory: 128.0 KiB in 1 page and 0 large objects; live after "
                              "the last collection 48 B, allocated since 0 B, next collection at "
                              "1.0 TiB\n  external: 0 B adjusted, 0 B reported by objects; "
                              "stress off\n"));
  EXPECT_THAT(text, HasSubstr("memkit::gc::Heap: live 48 B in 1 block"));
  EXPECT_THAT(text, HasSubstr("  gc_test::Node"));
}

TEST(GcStatsTest, JsonForm) {
  gc::Heap heap;
  quiet(heap);
  gc::Local<Node> node = gc::make<Node>(heap);
  heap.collect();
  gc::GcStats stats = heap.stats();
  stats.total_pause_ns = stats.max_pause_ns = stats.last_pause_ns = 7;  // deterministic
  EXPECT_EQ(to_json(stats),
            "{\"collections\":1,\"total_pause_ns\":7,\"max_pause_ns\":7,\"last_pause_ns\":7,"
            "\"last_reason\":\"explicit\",\"pages\":1,\"large_objects\":0,\"heap_bytes\":131072,"
            "\"live_bytes_after_last_collection\":48,\"allocated_since_last_collection\":0,"
            "\"external_bytes\":0,\"object_external_bytes\":0,"
            "\"next_collection_at\":1099511627776,\"stress\":\"off\",\"objects\":{\"source\":"
            "\"memkit::gc::Heap\",\"allocations\":1,\"frees\":0,\"live_bytes\":48,"
            "\"live_blocks\":1,\"peak_bytes\":48,\"total_bytes\":48,\"footprint\":{"
            "\"capacity_bytes\":131072,\"chunks\":1,\"wasted_bytes\":0},\"by_tag\":[{\"tag\":"
            "\"gc_test::Node\",\"allocations\":1,\"frees\":0,\"live_bytes\":48,\"live_blocks\":1,"
            "\"peak_bytes\":48,\"total_bytes\":48}]}}");
}

TEST(GcStatsTest, ReasonNames) {
  EXPECT_EQ(gc::to_string(gc::CollectionReason::kNone), "none");
  EXPECT_EQ(gc::to_string(gc::CollectionReason::kExplicit), "explicit");
  EXPECT_EQ(gc::to_string(gc::CollectionReason::kAllocation), "allocation");
  EXPECT_EQ(gc::to_string(gc::CollectionReason::kStress), "stress");
}

TEST(GcStatsTest, AllocatedSinceLastCollection) {
  gc::Heap heap;
  quiet(heap);
  for (int i = 0; i < 10; ++i) (void)gc::make<Node>(heap);
  EXPECT_EQ(heap.stats().allocated_since_last_collection, 10U * kNodeSlot);
  heap.collect();
  EXPECT_EQ(heap.stats().allocated_since_last_collection, 0U);
}

}  // namespace
}  // namespace gc_test
