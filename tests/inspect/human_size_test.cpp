#include "memkit/inspect/human_size.h"

#include <gtest/gtest.h>

namespace memkit::inspect {
namespace {

TEST(HumanSize, BytesKibibytesAndLargerUnits) {
  EXPECT_EQ(human_size(0), "0 B");
  EXPECT_EQ(human_size(1023), "1023 B");
  EXPECT_EQ(human_size(1024), "1 KiB");
  EXPECT_EQ(human_size(1536), "1.5 KiB");
  EXPECT_EQ(human_size(1023 * 1024), "1023 KiB");
  EXPECT_EQ(human_size(std::uint64_t{1} << 20), "1.0 MiB");
  EXPECT_EQ(human_size(std::uint64_t{1363} << 10), "1.3 MiB");
  EXPECT_EQ(human_size(std::uint64_t{8} << 30), "8.0 GiB");
  EXPECT_EQ(human_kib(2924), "2.9 MiB");
}

}  // namespace
}  // namespace memkit::inspect
