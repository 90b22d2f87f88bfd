#include "memkit/alloc/stats.h"

#include <gtest/gtest.h>

#include <sstream>

namespace {

using memkit::AllocCounts;
using memkit::Footprint;
using memkit::MemoryStats;
using memkit::TagStats;

TEST(AllocCountsTest, RecordsAllocationsFreesAndThePeak) {
  AllocCounts counts;
  counts.record_allocation(100);
  counts.record_allocation(50);
  counts.record_free(100);
  counts.record_allocation(20);
  EXPECT_EQ(counts.allocations, 3u);
  EXPECT_EQ(counts.frees, 1u);
  EXPECT_EQ(counts.live_bytes, 70u);
  EXPECT_EQ(counts.live_blocks, 2u);
  EXPECT_EQ(counts.peak_bytes, 150u);
  EXPECT_EQ(counts.total_bytes, 170u);
}

TEST(FormatBytesTest, UsesBinaryUnitsWithOneDecimal) {
  EXPECT_EQ(memkit::format_bytes(0), "0 B");
  EXPECT_EQ(memkit::format_bytes(1023), "1023 B");
  EXPECT_EQ(memkit::format_bytes(1024), "1.0 KiB");
  EXPECT_EQ(memkit::format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(memkit::format_bytes(12u * 1024 * 1024), "12.0 MiB");
  EXPECT_EQ(memkit::format_bytes(~std::uint64_t{0}), "16.0 EiB");
}

TEST(SortTagsTest, LargestLiveBytesFirstThenByName) {
  std::vector<TagStats> tags;
  for (const auto& [name, live] : {std::pair{"b", 10}, std::pair{"a", 10}, std::pair{"c", 99}}) {
    TagStats tag;
    tag.tag = std::string_view(name);
    tag.counts.live_bytes = live;
    tags.push_back(tag);
  }
  memkit::sort_tags(tags);
  ASSERT_EQ(tags.size(), 3u);
  EXPECT_EQ(tags[0].tag, "c");
  EXPECT_EQ(tags[1].tag, "a");
  EXPECT_EQ(tags[2].tag, "b");
}

MemoryStats sample() {
  MemoryStats stats;
  stats.source = "memkit::Arena";
  stats.counts.record_allocation(1536);
  stats.counts.record_allocation(512);
  stats.counts.record_free(512);
  stats.footprint = Footprint{.capacity_bytes = 4096, .chunks = 1, .wasted_bytes = 16};
  stats.by_tag.push_back({"Node \"x\"", stats.counts});
  return stats;
}

TEST(MemoryStatsTest, TextNamesTheSourceCountsFootprintAndTags) {
  const std::string text = memkit::to_text(sample());
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "memkit::Arena: live 1.5 KiB in 1 block, peak 2.0 KiB; 2 allocations, 1 free, "
            "2.0 KiB in total");
  EXPECT_NE(text.find("  holds 4.0 KiB in 1 chunk, 16 B wasted\n"), std::string::npos);
  EXPECT_NE(
      text.find("Node \"x\"     1.5 KiB         1     2.0 KiB         2         1     2.0 KiB"),
      std::string::npos)
      << text;
  std::ostringstream streamed;
  streamed << sample();
  EXPECT_EQ(streamed.str(), text);
}

TEST(MemoryStatsTest, JsonHasEveryFieldAndEscapesStrings) {
  EXPECT_EQ(memkit::to_json(sample()),
            R"({"source":"memkit::Arena","allocations":2,"frees":1,"live_bytes":1536,)"
            R"("live_blocks":1,"peak_bytes":2048,"total_bytes":2048,)"
            R"("footprint":{"capacity_bytes":4096,"chunks":1,"wasted_bytes":16},)"
            R"("by_tag":[{"tag":"Node \"x\"","allocations":2,"frees":1,"live_bytes":1536,)"
            R"("live_blocks":1,"peak_bytes":2048,"total_bytes":2048}]})");
}

TEST(MemoryStatsTest, JsonWithoutFootprintOrTags) {
  MemoryStats stats;
  stats.source = "tab\there\n\x01";
  EXPECT_EQ(memkit::to_json(stats),
            R"({"source":"tab\there\n\u0001","allocations":0,"frees":0,"live_bytes":0,)"
            R"("live_blocks":0,"peak_bytes":0,"total_bytes":0,"footprint":null,"by_tag":[]})");
}

}  // namespace
