// Stack limits and bounds of the main thread and of a thread with a chosen stack size.
#include "memkit/inspect/stack.h"

#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/resource.h>

#include <cstdint>

namespace memkit::inspect {
namespace {

TEST(MainThreadStack, LimitIsRlimitStackAndUseIsBelowTheTop) {
  const MainStackInfo info = main_thread_stack();
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_STACK, &limit), 0);
  if (limit.rlim_cur == RLIM_INFINITY) {
    EXPECT_FALSE(info.limit_bytes.has_value());
  } else {
    ASSERT_TRUE(info.limit_bytes.has_value());
    EXPECT_EQ(*info.limit_bytes, limit.rlim_cur);
  }
  EXPECT_TRUE(info.called_on_main_thread);
  int local = 0;
  const auto here = reinterpret_cast<std::uint64_t>(&local);
  EXPECT_LT(here, info.top);
  EXPECT_GE(here, info.top - info.mapped_bytes);
  EXPECT_GT(info.used_bytes, 0U);
  EXPECT_LE(info.used_bytes, info.mapped_bytes);
}

void* report_on_thread(void* out) {
  auto* result = static_cast<std::pair<MainStackInfo, StackBounds>*>(out);
  result->first = main_thread_stack();
  result->second = current_thread_stack();
  int local = 0;
  EXPECT_TRUE(result->second.contains(reinterpret_cast<std::uint64_t>(&local)));
  return nullptr;
}

TEST(ThreadStack, BoundsAndGuardOfAThreadWithAChosenSize) {
  constexpr std::size_t kSize = 512 * 1024;
  pthread_attr_t attr;
  ASSERT_EQ(::pthread_attr_init(&attr), 0);
  ASSERT_EQ(::pthread_attr_setstacksize(&attr, kSize), 0);
  std::pair<MainStackInfo, StackBounds> result;
  pthread_t thread;
  ASSERT_EQ(::pthread_create(&thread, &attr, report_on_thread, &result), 0);
  ::pthread_join(thread, nullptr);
  ::pthread_attr_destroy(&attr);

  EXPECT_FALSE(result.first.called_on_main_thread);
  EXPECT_EQ(result.first.used_bytes, 0U);
  EXPECT_EQ(result.second.size(), kSize);
  EXPECT_GT(result.second.guard_size, 0U);
}

TEST(ThreadStack, TheMainThreadsBoundsContainItsLocals) {
  const StackBounds bounds = current_thread_stack();
  int local = 0;
  EXPECT_TRUE(bounds.contains(reinterpret_cast<std::uint64_t>(&local)));
}

}  // namespace
}  // namespace memkit::inspect
