// Tests of marking: the explicit work list (deep structures), wide fan-out, marking from every
// kind of root.
#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

#include "gc_test_types.h"

namespace gc_test {
namespace {

// A singly linked list node with a payload.
struct Link : gc::GarbageCollected<Link> {
  explicit Link(Link* rest) : next(rest) {}
  void trace(gc::Visitor& visitor) const { visitor.trace(next); }
  gc::Member<Link> next;
};

TEST(MarkerTest, TenMillionNodeListCollectsWithoutStackOverflow) {
  // A recursive marker would need ~10 million native frames here; the 8 MiB stack holds about
  // 100 thousand. Under ASan and stress the list is shorter (still far beyond recursion's reach).
  const std::size_t length = scaled(10'000'000, 1'000'000);
  gc::Heap heap;
  quiet(heap);
  {
    gc::Local<Link> head;
    for (std::size_t i = 0; i < length; ++i) head = gc::make<Link>(heap, head.get());
    heap.collect();
    EXPECT_EQ(heap.stats().objects.counts.live_blocks, length);
  }
  heap.collect();
  EXPECT_EQ(heap.stats().objects.counts.live_blocks, 0U);
  EXPECT_EQ(heap.stats().objects.counts.frees, length);
}

TEST(MarkerTest, DeepBinaryTreeBuiltBottomUpSurvives) {
  gc::Heap heap;
  int destroyed = 0;
  const int depth = static_cast<int>(scaled(16, 10));
  // Bottom-up: each make() gets its children as Locals, so every allocation may collect.
  auto build = [&](auto& self, int d) -> gc::Local<Node> {
    if (d == 0) return gc::make<Node>(heap, 0, &destroyed);
    gc::Local<Node> left = self(self, d - 1);
    gc::Local<Node> right = self(self, d - 1);
    return gc::make<Node>(heap, d, &destroyed, left.get(), right.get());
  };
  gc::Local<Node> tree = build(build, depth);
  heap.collect();
  EXPECT_EQ(destroyed, 0);
  std::size_t count = 0;
  std::vector<Node*> pending{tree.get()};
  while (!pending.empty()) {
    Node* node = pending.back();
    pending.pop_back();
    ++count;
    if (node->left) pending.push_back(node->left);
    if (node->right) pending.push_back(node->right);
  }
  EXPECT_EQ(count, (std::size_t{1} << (depth + 1)) - 1);
  tree = nullptr;
  heap.collect();
  EXPECT_EQ(static_cast<std::size_t>(destroyed), count);
}

// Any number of Members, in a container.
struct Fan : gc::GarbageCollected<Fan> {
  void trace(gc::Visitor& visitor) const {
    for (const gc::Member<Node>& child : children) visitor.trace(child);
  }
  std::vector<gc::Member<Node>> children;
};

TEST(MarkerTest, MembersInContainersAreTraced) {
  gc::Heap heap;
  int destroyed = 0;
  gc::Local<Fan> fan = gc::make<Fan>(heap);
  for (int i = 0; i < 1000; ++i) fan->children.emplace_back(gc::make<Node>(heap, i, &destroyed));
  heap.collect();
  EXPECT_EQ(destroyed, 0);
  fan->children.resize(10);
  heap.collect();
  EXPECT_EQ(destroyed, 990);
  EXPECT_EQ(fan->children[9]->value, 9);
}

TEST(MarkerTest, SharedTargetsAreMarkedOnce) {
  gc::Heap heap;
  int destroyed = 0;
  gc::Local<Node> shared = gc::make<Node>(heap, 1, &destroyed);
  gc::Local<Fan> fan = gc::make<Fan>(heap);
  for (int i = 0; i < 100; ++i) fan->children.emplace_back(shared.get());
  shared = nullptr;
  heap.collect();
  EXPECT_EQ(destroyed, 0);
  EXPECT_EQ(fan->children[50]->value, 1);
}

}  // namespace
}  // namespace gc_test
