// Tests of the threading model: one heap per thread; another thread's use is a WrongThread error
// in debug builds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "gc_test_types.h"
#include "memkit/base/error.h"

namespace gc_test {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(HeapThreadTest, EachThreadCollectsItsOwnHeap) {
  std::vector<int> destroyed(2, 0);
  std::vector<std::size_t> survivors(2, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      gc::Heap heap;
      gc::Local<Node> keep = gc::make<Node>(heap, t, &destroyed[t]);
      for (int i = 0; i < 10000; ++i) {
        gc::Local<Node> node = gc::make<Node>(heap, i, &destroyed[t]);
        if (i % 100 == 0) {
          node->left = keep;
          keep = node;
        }
      }
      heap.collect();
      survivors[t] = heap.stats().objects.counts.live_blocks;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < 2; ++t) {
    EXPECT_EQ(survivors[t], 101U);
    EXPECT_EQ(destroyed[t], 10001);  // the rest at teardown
  }
}

#if MEMKIT_DEBUG
TEST(HeapThreadTest, UsingAHeapFromAnotherThreadThrowsWrongThread) {
  gc::Heap heap;
  gc::Local<Node> node = gc::make<Node>(heap);
  std::vector<std::string> messages;
  std::thread other([&] {
    auto record = [&](auto&& action) {
      try {
        action();
        messages.push_back("no exception");
      } catch (const memkit::WrongThread& error) {
        messages.push_back(error.what());
      }
    };
    record([&] { (void)gc::make<Node>(heap); });
    record([&] { heap.collect(); });
    record([&] { (void)heap.stats(); });
    record([&] { heap.adjust_external_bytes(1); });
    record([&] { gc::Root<Node> root = node.get(); });
    record([&] { gc::Local<Node> local(node.get()); });
  });
  other.join();
  ASSERT_EQ(messages.size(), 6U);
  EXPECT_THAT(messages[0], StartsWith("memkit::gc::Heap: make() on thread "));
  EXPECT_THAT(messages[0], HasSubstr(", but it belongs to thread "));
  EXPECT_THAT(messages[1], StartsWith("memkit::gc::Heap: collect() on thread "));
  EXPECT_THAT(messages[2], StartsWith("memkit::gc::Heap: stats() on thread "));
  EXPECT_THAT(messages[3], StartsWith("memkit::gc::Heap: adjust_external_bytes() on thread "));
  EXPECT_THAT(messages[4], StartsWith("memkit::gc::Root<gc_test::Node>: Root() on thread "));
  EXPECT_THAT(messages[5], StartsWith("memkit::gc::Local<gc_test::Node>: Local() on thread "));
  EXPECT_EQ(heap.owner(), std::this_thread::get_id());
}
#endif

}  // namespace
}  // namespace gc_test
