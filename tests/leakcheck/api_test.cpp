// memkit/leakcheck.h in a process without the leak-check runtime: it says so, precisely.
#include <gtest/gtest.h>

#include "memkit/base/error.h"
#include "memkit/leakcheck.h"

namespace {

using memkit::leakcheck::LeakKind;

TEST(LeakCheckApi, RuntimeIsNotLoadedInAPlainTestProgram) {
  EXPECT_FALSE(memkit::leakcheck::runtime_loaded());
}

TEST(LeakCheckApi, CheckWithoutTheRuntimeThrowsAndSaysHowToGetIt) {
  try {
    (void)memkit::leakcheck::check();
    FAIL() << "check() returned without the runtime";
  } catch (const memkit::LeakCheckUnavailable& error) {
    EXPECT_STREQ(error.what(),
                 "memkit::leakcheck::check(): memkit's leak-check runtime is not loaded in this "
                 "process; run the program under `memkit check -- PROGRAM` (or preload "
                 "libmemkit_check.so)");
  }
}

TEST(LeakCheckApi, KindsAreNamedAsValgrindNamesThem) {
  EXPECT_EQ(memkit::leakcheck::to_string(LeakKind::definitely_lost), "definitely lost");
  EXPECT_EQ(memkit::leakcheck::to_string(LeakKind::indirectly_lost), "indirectly lost");
  EXPECT_EQ(memkit::leakcheck::to_string(LeakKind::possibly_lost), "possibly lost");
  EXPECT_EQ(memkit::leakcheck::to_string(LeakKind::still_reachable), "still reachable");
}

TEST(LeakCheckApi, LeakedSumsTheThreeLostKindsButNotReachable) {
  memkit::leakcheck::LeakReport report;
  report.by_kind[0] = {100, 1};
  report.by_kind[1] = {64, 2};
  report.by_kind[2] = {8, 1};
  report.by_kind[3] = {1000, 10};
  EXPECT_EQ(report.leaked(), (memkit::leakcheck::Amount{172, 4}));
  EXPECT_EQ(report.of(LeakKind::still_reachable), (memkit::leakcheck::Amount{1000, 10}));
}

}  // namespace
