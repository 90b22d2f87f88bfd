// The stack-overflow reporter, proven on child processes that recurse without end.
#include "memkit/inspect/overflow_reporter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <string>

#include "memkit/inspect/human_size.h"
#include "subprocess.h"

namespace memkit::inspect {
namespace {

using memkit::testing::Finished;
using memkit::testing::run_and_capture;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

const std::string kChild = OVERFLOW_CHILD_PATH;

std::string limit_text() {
  rlimit limit{};
  ::getrlimit(RLIMIT_STACK, &limit);
  return limit.rlim_cur == RLIM_INFINITY ? "unlimited" : human_size(limit.rlim_cur);
}

TEST(StackOverflowReporter, ReportsTheMainThreadAndExitsWithItsCode) {
  const Finished child = run_and_capture({kChild, "main"});
  ASSERT_TRUE(child.exited) << "killed by signal " << child.signal << "\n" << child.err;
  EXPECT_EQ(child.exit_code, kStackOverflowExitCode);
  EXPECT_THAT(child.err, MatchesRegex("memkit: stack overflow in thread [0-9]+ \\(stack size "
                                      "[0-9.]+ [KMG]iB, limit " +
                                      limit_text() + "\\), the main thread\n"));
}

TEST(StackOverflowReporter, ReportsAStdThreadWithItsStackSize) {
  const Finished child = run_and_capture({kChild, "thread"});
  ASSERT_TRUE(child.exited) << "killed by signal " << child.signal << "\n" << child.err;
  EXPECT_EQ(child.exit_code, kStackOverflowExitCode);
  EXPECT_THAT(child.err, MatchesRegex("memkit: stack overflow in thread [0-9]+ \\(stack size "
                                      "[0-9.]+ [KMG]iB, limit " +
                                      limit_text() + "\\)\n"));
}

TEST(StackOverflowReporter, ReportsTheExactSizeOfASmallThreadStack) {
  const Finished child = run_and_capture({kChild, "small-thread"});
  ASSERT_TRUE(child.exited) << "killed by signal " << child.signal << "\n" << child.err;
  EXPECT_EQ(child.exit_code, kStackOverflowExitCode);
  EXPECT_THAT(child.err, HasSubstr("(stack size 256 KiB, limit " + limit_text() + ")\n"));
}

TEST(StackOverflowReporter, AnUnwatchedThreadStillDiesBySigsegv) {
  const Finished child = run_and_capture({kChild, "unwatched"});
  EXPECT_THAT(child.err, Not(HasSubstr("memkit: stack overflow")));
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_FALSE(child.exited);
  EXPECT_EQ(child.signal, SIGSEGV);
#else
  // Chained to ASan's handler, which has an alternate stack of its own on every thread.
  EXPECT_THAT(child.err, HasSubstr("AddressSanitizer: stack-overflow"));
#endif
}

TEST(StackOverflowReporter, AWildPointerIsNotAnOverflowAndCrashesAsUsual) {
  const Finished child = run_and_capture({kChild, "null"});
  EXPECT_THAT(child.err, Not(HasSubstr("memkit: stack overflow")));
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_FALSE(child.exited);
  EXPECT_EQ(child.signal, SIGSEGV);
#else
  // Chained to ASan's handler, which reports the SEGV itself.
  EXPECT_THAT(child.err, HasSubstr("AddressSanitizer: SEGV"));
#endif
}

TEST(StackOverflowReporter, WithoutTheReporterItIsABareSegfault) {
  const Finished child = run_and_capture({kChild, "none"});
  EXPECT_THAT(child.err, Not(HasSubstr("memkit: stack overflow")));
#if !defined(__SANITIZE_ADDRESS__)
  EXPECT_FALSE(child.exited);
  EXPECT_EQ(child.signal, SIGSEGV);
#endif
}

}  // namespace
}  // namespace memkit::inspect
