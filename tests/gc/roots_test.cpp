// Tests of the references from outside the heap: Local (scoped handles), Root, WeakRoot, and the
// opt-in conservative scan of the stack and registers.
#include "memkit/gc/roots.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "gc_test_types.h"
#include "support/throws.h"

namespace gc_test {
namespace {

TEST(LocalTest, CopiesAndMovesKeepTheObjectAliveUntilTheLastGoes) {
  gc::Heap heap;
  int destroyed = 0;
  gc::Local<Node> first = gc::make<Node>(heap, 1, &destroyed);
  gc::Local<Node> copy = first;
  gc::Local<Node> moved = std::move(first);
  EXPECT_EQ(first.get(), nullptr);
  EXPECT_EQ(copy.get(), moved.get());
  moved = nullptr;
  heap.collect();
  EXPECT_EQ(destroyed, 0);
  copy = nullptr;
  heap.collect();
  EXPECT_EQ(destroyed, 1);
}

TEST(LocalTest, LocalsMayBeDroppedInAnyOrder) {
  gc::Heap heap;
  int destroyed = 0;
  auto a = std::make_unique<gc::Local<Node>>(gc::make<Node>(heap, 1, &destroyed));
  auto b = std::make_unique<gc::Local<Node>>(gc::make<Node>(heap, 2, &destroyed));
  auto c = std::make_unique<gc::Local<Node>>(gc::make<Node>(heap, 3, &destroyed));
  a.reset();  // not the top of the handle stack: leaves a hole
  heap.collect();
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ((*b)->value, 2);
  c.reset();
  b.reset();
  heap.collect();
  EXPECT_EQ(destroyed, 3);
}

TEST(LocalTest, ManyLocalsInAVectorAreAllRoots) {
  gc::Heap heap;
  int destroyed = 0;
  std::vector<gc::Local<Node>> locals;
  for (int i = 0; i < 1000; ++i) locals.push_back(gc::make<Node>(heap, i, &destroyed));
  heap.collect();
  EXPECT_EQ(destroyed, 0);
  locals.erase(locals.begin(), locals.begin() + 500);  // moves the rest down
  heap.collect();
  EXPECT_EQ(destroyed, 500);
  EXPECT_EQ(locals.front()->value, 500);
}

TEST(LocalTest, NullLocalThrowsOnDereference) {
  gc::Local<Node> empty;
  EXPECT_EQ(empty.get(), nullptr);
  EXPECT_EQ(memkit::testing::what_of<memkit::NullPointer>([&] { (void)empty->value; }),
            "memkit::gc::Local<gc_test::Node>: operator-> was given a null pointer");
}

TEST(RootTest, AnObjectHeldOnlyByARootSurvivesUntilTheRootGoes) {
  gc::Heap heap;
  int destroyed = 0;
  auto root = std::make_unique<gc::Root<Node>>(gc::make<Node>(heap, 1, &destroyed));
  heap.collect();
  EXPECT_EQ(destroyed, 0);
  EXPECT_EQ((*root)->value, 1);
  root.reset();  // the root's destruction lets it go
  heap.collect();
  EXPECT_EQ(destroyed, 1);
}

TEST(RootTest, CopyMoveAssignAndReset) {
  gc::Heap heap;
  int destroyed = 0;
  gc::Root<Node> a = gc::make<Node>(heap, 1, &destroyed);
  gc::Root<Node> b = a;             // copy: a second root slot
  gc::Root<Node> c = std::move(a);  // move: the slot moves
  EXPECT_EQ(a.get(), nullptr);
  b = gc::make<Node>(heap, 2, &destroyed);  // the first node is still held by c
  heap.collect();
  EXPECT_EQ(destroyed, 0);
  c.reset();
  heap.collect();
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(b->value, 2);
  std::vector<gc::Root<Node>> roots(100, b);
  b.reset();
  heap.collect();
  EXPECT_EQ(destroyed, 1);
  roots.clear();
  heap.collect();
  EXPECT_EQ(destroyed, 2);
}

TEST(RootTest, RootInAnOrdinaryObjectKeepsTheGraphAlive) {
  struct Cache {
    gc::Root<Node> head;
  };
  gc::Heap heap;
  int destroyed = 0;
  Cache cache;
  cache.head = gc::make<Node>(heap, 0, &destroyed);
  cache.head->left = gc::make<Node>(heap, 1, &destroyed);
  heap.collect();
  EXPECT_EQ(destroyed, 0);
  cache.head = nullptr;
  heap.collect();
  EXPECT_EQ(destroyed, 2);
}

TEST(RootTest, NullRootThrowsOnDereference) {
  gc::Root<Node> empty;
  EXPECT_EQ(memkit::testing::what_of<memkit::NullPointer>([&] { (void)*empty; }),
            "memkit::gc::Root<gc_test::Node>: operator* was given a null pointer");
}

TEST(WeakRootTest, ClearedWhenTheTargetDiesAndKeptWhileItLives) {
  gc::Heap heap;
  int destroyed = 0;
  gc::Local<Node> strong = gc::make<Node>(heap, 1, &destroyed);
  gc::WeakRoot<Node> weak = strong;
  gc::WeakRoot<Node> copy = weak;
  heap.collect();
  EXPECT_EQ(weak.get(), strong.get());
  strong = nullptr;
  heap.collect();
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(weak.get(), nullptr);
  EXPECT_EQ(copy.get(), nullptr);
}

TEST(WeakRootTest, DoesNotKeepItsTargetAlive) {
  gc::Heap heap;
  int destroyed = 0;
  gc::WeakRoot<Node> weak = gc::make<Node>(heap, 1, &destroyed);
  heap.collect();
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(weak.get(), nullptr);
}

// The raw pointer must really be in memory when collect() scans: volatile.
TEST(ConservativeScanTest, RawPointerInALocalSurvivesOnlyWithTheScanOn) {
  for (const bool scan : {false, true}) {
    gc::Heap heap;
    quiet(heap);
    heap.set_conservative_stack_scan(scan);
    EXPECT_EQ(heap.conservative_stack_scan(), scan);
    int destroyed = 0;
    Node* volatile raw = gc::make<Node>(heap, 42, &destroyed).get();
    heap.collect();
    EXPECT_EQ(destroyed, scan ? 0 : 1) << (scan ? "scan on" : "scan off");
    if (scan) {
      EXPECT_EQ(raw->value, 42);
      raw = nullptr;
    }
  }
}

TEST(ConservativeScanTest, InteriorPointersCountAndTheirTargetsAreTracedPrecisely) {
  gc::Heap heap;
  quiet(heap);
  heap.set_conservative_stack_scan(true);
  int destroyed = 0;
  Node* node = gc::make<Node>(heap, 1, &destroyed).get();
  node->left = gc::make<Node>(heap, 2, &destroyed);
  int* volatile interior = &node->value;  // points inside the object, not at its start
  node = nullptr;
  heap.collect();
  EXPECT_EQ(destroyed, 0);
  EXPECT_EQ(*interior, 1);
  interior = nullptr;
}

TEST(ConservativeScanTest, WithHandlesTheObjectSurvivesEitherWay) {
  for (const bool scan : {false, true}) {
    gc::Heap heap;
    quiet(heap);
    heap.set_conservative_stack_scan(scan);
    int destroyed = 0;
    gc::Local<Node> node = gc::make<Node>(heap, 7, &destroyed);
    heap.collect();
    EXPECT_EQ(destroyed, 0);
    EXPECT_EQ(node->value, 7);
  }
}

}  // namespace
}  // namespace gc_test
