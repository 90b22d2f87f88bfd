// Tests of memkit::gc::Heap: make, collect, cycles, large objects, pages given back, constructors
// that throw or collect, teardown, and the fatal misuse paths.
#include "memkit/gc/heap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "gc_test_types.h"
#include "memkit/base/error.h"
#include "support/throws.h"

namespace gc_test {

// GarbageCollected is not the first polymorphic base: the object does not start at its address.
// (Outside the anonymous namespace: its name appears in a message.)
struct Interface {
  virtual ~Interface() = default;
  virtual int answer() const = 0;
};
struct Misordered : Interface, gc::GarbageCollected<Misordered> {
  int answer() const override { return 42; }
};

namespace {

TEST(HeapTest, MakeConstructsAndLocalKeepsAlive) {
  gc::Heap heap;
  int destroyed = 0;
  {
    gc::Local<Node> node = gc::make<Node>(heap, 7, &destroyed);
    EXPECT_EQ(node->value, 7);
    heap.collect();
    EXPECT_EQ(destroyed, 0);
    EXPECT_EQ(node->value, 7);
  }
  heap.collect();
  EXPECT_EQ(destroyed, 1);
}

TEST(HeapTest, UnreachableObjectsAreCollected) {
  gc::Heap heap;
  int destroyed = 0;
  for (int i = 0; i < 100; ++i) (void)gc::make<Node>(heap, i, &destroyed);
  heap.collect();
  EXPECT_EQ(destroyed, 100);
}

TEST(HeapTest, MembersKeepTargetsAlive) {
  gc::Heap heap;
  int destroyed = 0;
  gc::Local<Node> root = gc::make<Node>(heap, 0, &destroyed);
  root->left = gc::make<Node>(heap, 1, &destroyed);
  root->left->right = gc::make<Node>(heap, 2, &destroyed);
  heap.collect();
  EXPECT_EQ(destroyed, 0);
  EXPECT_EQ(root->left->right->value, 2);
  root->left = nullptr;
  heap.collect();
  EXPECT_EQ(destroyed, 2);
}

TEST(HeapTest, CyclesAreCollected) {
  gc::Heap heap;
  int destroyed = 0;
  {
    gc::Local<Node> a = gc::make<Node>(heap, 1, &destroyed);
    gc::Local<Node> b = gc::make<Node>(heap, 2, &destroyed);
    a->left = b;
    b->left = a;
    a->right = a;  // a self-loop too
    heap.collect();
    EXPECT_EQ(destroyed, 0);
  }
  heap.collect();
  EXPECT_EQ(destroyed, 2);
}

TEST(HeapTest, ConstructorArgumentsThatAreLocalsSurviveCollectionsDuringConstruction) {
  gc::Heap heap;
  heap.set_stress(gc::Stress::every_allocation());  // every make() below collects
  int destroyed = 0;
  gc::Local<Node> tree = gc::make<Node>(heap, 0, &destroyed, gc::make<Node>(heap, 1, &destroyed),
                                        gc::make<Node>(heap, 2, &destroyed));
  EXPECT_EQ(tree->left->value, 1);
  EXPECT_EQ(tree->right->value, 2);
  EXPECT_EQ(destroyed, 0);
}

// A constructor that allocates: the Members it fills before a collection keep their targets,
// although the object is not finished (its slot is scanned conservatively while constructing).
struct Parent : gc::GarbageCollected<Parent> {
  explicit Parent(gc::Heap& heap, int* destroyed)
      : first(gc::make<Node>(heap, 1, destroyed)), second(gc::make<Node>(heap, 2, destroyed)) {
    heap.collect();
  }
  void trace(gc::Visitor& visitor) const {
    visitor.trace(first);
    visitor.trace(second);
  }
  gc::Member<Node> first;
  gc::Member<Node> second;
};

TEST(HeapTest, ObjectUnderConstructionKeepsItsMembersAcrossNestedCollections) {
  gc::Heap heap;
  int destroyed = 0;
  gc::Local<Parent> parent = gc::make<Parent>(heap, heap, &destroyed);
  EXPECT_EQ(destroyed, 0);
  EXPECT_EQ(parent->first->value, 1);
  EXPECT_EQ(parent->second->value, 2);
  heap.collect();
  EXPECT_EQ(destroyed, 0);
}

struct ConstructionFailed : std::runtime_error {
  ConstructionFailed() : std::runtime_error("construction failed") {}
};

struct Throws : gc::GarbageCollected<Throws> {
  explicit Throws(int* destroyed) : member(destroyed) { throw ConstructionFailed(); }
  struct Counted {
    explicit Counted(int* count) : counter(count) {}
    ~Counted() { ++*counter; }
    int* counter;
  } member;
};

TEST(HeapTest, ThrowingConstructorGivesTheSlotBack) {
  gc::Heap heap;
  quiet(heap);
  int destroyed = 0;
  EXPECT_THROW((void)gc::make<Throws>(heap, &destroyed), ConstructionFailed);
  EXPECT_EQ(destroyed, 1);  // the finished member was destroyed by the language, once
  // The slot is reused by the next object of that size class, and nothing leaks.
  gc::Local<Node> node = gc::make<Node>(heap, 5);
  heap.collect();
  EXPECT_EQ(node->value, 5);
  EXPECT_EQ(heap.stats().objects.counts.live_blocks, 1U);
}

TEST(HeapTest, TypeWhoseGarbageCollectedBaseIsNotFirstIsRejected) {
  gc::Heap heap;
  const std::string message =
      memkit::testing::what_of<memkit::GcUsageError>([&] { (void)gc::make<Misordered>(heap); });
  EXPECT_EQ(message,
            "memkit::gc::Heap: make<gc_test::Misordered>() failed: gc_test::Misordered does not "
            "start with its memkit::gc::GarbageCollected base: it must be the first polymorphic "
            "base class");
  heap.collect();
  EXPECT_EQ(heap.stats().objects.counts.live_blocks, 0U);
}

TEST(HeapTest, LargeObjectsGetTheirOwnMappingAndAreFreed) {
  gc::Heap heap;
  quiet(heap);
  int destroyed = 0;
  {
    gc::Local<Blob<100000>> big = gc::make<Blob<100000>>(heap, &destroyed);
    big->bytes[99999] = 1;
    EXPECT_EQ(heap.stats().large_objects, 1U);
    heap.collect();
    EXPECT_EQ(destroyed, 0);
    EXPECT_EQ(big->bytes[99999], 1);
  }
  heap.collect();
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(heap.stats().large_objects, 0U);
}

TEST(HeapTest, ObjectsOfEverySizeClassWork) {
  gc::Heap heap;
  quiet(heap);
  int destroyed = 0;
  gc::Local<Blob<1>> a = gc::make<Blob<1>>(heap, &destroyed);
  gc::Local<Blob<100>> b = gc::make<Blob<100>>(heap, &destroyed);
  gc::Local<Blob<1000>> c = gc::make<Blob<1000>>(heap, &destroyed);
  gc::Local<Blob<8000>> d = gc::make<Blob<8000>>(heap, &destroyed);
  (void)gc::make<Blob<3000>>(heap, &destroyed);
  heap.collect();
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(heap.stats().objects.counts.live_blocks, 4U);
}

TEST(HeapTest, EmptyPagesAreGivenBack) {
  gc::Heap heap;
  gc::GrowingPolicy policy;
  policy.min_bytes = 1;      // no room to keep spare pages for
  policy.retain_factor = 0;  // nor for the recent live set
  heap.set_stress(gc::Stress::off());
  const std::size_t count = 20000;  // 32-byte slots: about five 128 KiB pages
  {
    gc::Root<Node> keep;
    for (std::size_t i = 0; i < count; ++i) {
      gc::Local<Node> node = gc::make<Node>(heap, static_cast<int>(i));
      node->left = keep;
      keep = node;
    }
    heap.set_growing_policy(policy);
    heap.collect();
    EXPECT_GE(heap.stats().pages, 5U);
  }
  heap.collect();
  EXPECT_EQ(heap.stats().pages, 0U);
  EXPECT_EQ(heap.stats().heap_bytes, 0U);
}

TEST(HeapTest, PagesOfAShrunkLiveSetAreKeptForAFewCollectionsThenGivenBack) {
  gc::Heap heap;
  gc::GrowingPolicy policy;
  policy.min_bytes = 1;
  heap.set_growing_policy(policy);
  heap.set_stress(gc::Stress::off());
  {
    gc::Root<Node> keep;
    for (std::size_t i = 0; i < 20000; ++i) {  // about 960 KB of 48-byte slots
      gc::Local<Node> node = gc::make<Node>(heap, static_cast<int>(i));
      node->left = keep;
      keep = node;
    }
    heap.collect();
  }
  const std::size_t held = heap.stats().pages;
  EXPECT_GE(held, 7U);
  heap.collect();  // nothing lives, but the pages of the recent live set stay for reuse
  EXPECT_EQ(heap.stats().pages, held);
  EXPECT_GT(heap.stats().next_collection_at, 900'000U);
  // The recent live size halves at each collection: the pages go back within about
  // log2(960 KB) collections.
  for (int i = 0; i < 40; ++i) heap.collect();
  EXPECT_EQ(heap.stats().pages, 0U);
  EXPECT_EQ(heap.stats().heap_bytes, 0U);
}

TEST(HeapTest, FreedSlotsAreReused) {
  gc::Heap heap;
  quiet(heap);
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 10000; ++i) (void)gc::make<Node>(heap, i);
    heap.collect();
  }
  EXPECT_LE(heap.stats().pages, 4U);  // 10000 × 32 bytes fit in three pages
}

TEST(HeapTest, DestroyingTheHeapRunsRemainingDestructors) {
  int destroyed = 0;
  {
    gc::Heap heap;
    gc::Root<Node> kept = gc::make<Node>(heap, 1, &destroyed);
    (void)gc::make<Node>(heap, 2, &destroyed);
    kept.reset();
  }
  EXPECT_EQ(destroyed, 2);
}

struct AllocatesInDestructor : gc::GarbageCollected<AllocatesInDestructor> {
  explicit AllocatesInDestructor(gc::Heap& owner) : heap(owner) {}
  ~AllocatesInDestructor() { (void)gc::make<Node>(heap); }
  gc::Heap& heap;
};

TEST(HeapDeathTest, MakeDuringACollectionAborts) {
  EXPECT_DEATH(
      {
        gc::Heap heap;
        (void)gc::make<AllocatesInDestructor>(heap, heap);
        heap.collect();
      },
      "memkit: fatal: memkit::gc::Heap: make\\(\\) during a collection \\(from trace\\(\\), a "
      "weak callback, a pre-finalizer or a destructor\\)");
}

struct CollectsInDestructor : gc::GarbageCollected<CollectsInDestructor> {
  explicit CollectsInDestructor(gc::Heap& owner) : heap(owner) {}
  ~CollectsInDestructor() { heap.collect(); }
  gc::Heap& heap;
};

TEST(HeapDeathTest, CollectDuringACollectionAborts) {
  EXPECT_DEATH(
      {
        gc::Heap heap;
        (void)gc::make<CollectsInDestructor>(heap, heap);
        heap.collect();
      },
      "memkit: fatal: memkit::gc::Heap: collect\\(\\) during a collection");
}

TEST(HeapDeathTest, DestroyingTheHeapUnderLiveHandlesAborts) {
  EXPECT_DEATH(
      {
        auto* heap = new gc::Heap;
        gc::Root<Node> root = gc::make<Node>(*heap);
        gc::Local<Node> local = gc::make<Node>(*heap);
        delete heap;
      },
      "memkit: fatal: memkit::gc::Heap destroyed while 2 handles still refer to it \\(1 Locals, "
      "1 Roots, 0 WeakRoots\\): the heap must outlive its handles");
}

}  // namespace
}  // namespace gc_test
