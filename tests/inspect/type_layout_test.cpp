// analyze(): holes, trailing padding and the suggested order, on layouts built by hand.
#include "memkit/inspect/type_layout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace memkit::inspect {
namespace {

LayoutMember plain(const char* name, std::uint64_t offset, std::uint64_t size) {
  LayoutMember member;
  member.name = name;
  member.type_name = std::string("t").append(std::to_string(size));
  member.offset = offset;
  member.size = size;
  member.data_size = size;
  member.alignment = size;
  return member;
}

TypeLayout record(const char* name, std::uint64_t size, std::uint64_t alignment,
                  std::vector<LayoutMember> members) {
  TypeLayout layout;
  layout.name = name;
  layout.kind = "struct";
  layout.size = size;
  layout.alignment = alignment;
  layout.members = std::move(members);
  return layout;
}

TEST(TypeLayoutAnalysis, FindsTheHoleAndPaddingAndTheEightByteOrder) {
  const TypeLayout layout =
      record("Unpadded", 12, 4, {plain("a", 0, 1), plain("b", 4, 4), plain("c", 8, 2)});
  const LayoutAnalysis analysis = analyze(layout);
  ASSERT_EQ(analysis.holes.size(), 1U);
  EXPECT_EQ(analysis.holes[0].offset, 1U);
  EXPECT_EQ(analysis.holes[0].size, 3U);
  EXPECT_EQ(analysis.trailing_padding, 2U);
  EXPECT_EQ(analysis.member_bytes, 7U);
  EXPECT_EQ(analysis.wasted_bytes, 5U);
  EXPECT_EQ(analysis.suggested_size, 8U);
  EXPECT_EQ(analysis.suggested_order, (std::vector<std::size_t>{1, 2, 0}));
  EXPECT_EQ(format_layout(layout, analysis),
            "struct Unpadded\n"
            "  size 12, alignment 4, 3 members\n"
            "  offset  size  member\n"
            "       0     1  t1 a\n"
            "       1     3  (hole: 3 bytes)\n"
            "       4     4  t4 b\n"
            "       8     2  t2 c\n"
            "      10     2  (trailing padding: 2 bytes)\n"
            "  members 7 bytes, holes 3 bytes in 1, trailing padding 2 bytes: 5 bytes wasted "
            "(42%)\n"
            "  suggested order: b, c, a -> size 8 (saves 4 bytes)\n");
}

TEST(TypeLayoutAnalysis, AnOptimalLayoutKeepsItsOrder) {
  const TypeLayout layout =
      record("Packed", 8, 4, {plain("b", 0, 4), plain("c", 4, 2), plain("a", 6, 1)});
  const LayoutAnalysis analysis = analyze(layout);
  EXPECT_TRUE(analysis.holes.empty());
  EXPECT_EQ(analysis.trailing_padding, 1U);
  EXPECT_EQ(analysis.suggested_size, 8U);
  EXPECT_EQ(analysis.suggested_order, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_THAT(format_layout(layout, analysis), ::testing::EndsWith("no member order is smaller\n"));
}

TEST(TypeLayoutAnalysis, BasesStayFirstAndTheirTailPaddingIsReused) {
  LayoutMember base = plain("", 0, 16);
  base.is_base = true;
  base.type_name = "Base";
  base.alignment = 8;
  base.data_size = 9;  // vptr + char; 7 bytes of tail padding
  const TypeLayout layout = record(
      "Derived", 32, 8, {base, plain("flag", 9, 1), plain("weight", 16, 8), plain("count", 24, 4)});
  const LayoutAnalysis analysis = analyze(layout);
  ASSERT_EQ(analysis.holes.size(), 1U);
  EXPECT_EQ(analysis.holes[0].offset, 10U);
  EXPECT_EQ(analysis.holes[0].size, 6U);
  EXPECT_EQ(analysis.suggested_size, 24U);
  EXPECT_EQ(analysis.suggested_order.front(), 0U);  // the base
}

TEST(TypeLayoutAnalysis, BitFieldsSharingBytesAreOneBlock) {
  LayoutMember ready = plain("ready", 0, 4);
  ready.is_bit_field = true;
  ready.bit_offset = 0;
  ready.bit_size = 1;
  LayoutMember mode = plain("mode", 0, 4);
  mode.is_bit_field = true;
  mode.bit_offset = 1;
  mode.bit_size = 3;
  const TypeLayout layout = record("Flags", 8, 4, {ready, mode, plain("level", 4, 4)});
  const LayoutAnalysis analysis = analyze(layout);
  ASSERT_EQ(analysis.holes.size(), 1U);  // bytes 1-3: the bit-fields use one byte
  EXPECT_EQ(analysis.holes[0].offset, 1U);
  EXPECT_EQ(analysis.member_bytes, 5U);
  EXPECT_EQ(analysis.suggested_size, 8U);
}

TEST(TypeLayoutAnalysis, AUnionHasOnlyTrailingPadding) {
  TypeLayout layout = record("Value", 16, 8, {plain("i", 0, 4), plain("d", 0, 8)});
  LayoutMember bytes = plain("bytes", 0, 12);
  bytes.alignment = 1;
  layout.members.push_back(bytes);
  layout.kind = "union";
  const LayoutAnalysis analysis = analyze(layout);
  EXPECT_TRUE(analysis.holes.empty());
  EXPECT_EQ(analysis.trailing_padding, 4U);
  EXPECT_EQ(analysis.member_bytes, 12U);
  EXPECT_EQ(analysis.suggested_size, 16U);
}

}  // namespace
}  // namespace memkit::inspect
