// Tests of weak references held by GC objects: WeakMember and weak callbacks.
#include <gtest/gtest.h>

#include <vector>

#include "gc_test_types.h"

namespace gc_test {
namespace {

struct Observer : gc::GarbageCollected<Observer> {
  void trace(gc::Visitor& visitor) const {
    visitor.trace(watched, "watched");
    visitor.trace(owned, "owned");
  }
  gc::WeakMember<Node> watched;
  gc::Member<Node> owned;
};

TEST(WeakMemberTest, ClearedWhenTheTargetDies) {
  gc::Heap heap;
  int destroyed = 0;
  gc::Local<Observer> observer = gc::make<Observer>(heap);
  observer->watched = gc::make<Node>(heap, 1, &destroyed);
  heap.collect();
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(observer->watched.get(), nullptr);
}

TEST(WeakMemberTest, KeptWhileTheTargetLivesThroughAnotherPath) {
  gc::Heap heap;
  int destroyed = 0;
  gc::Local<Observer> observer = gc::make<Observer>(heap);
  observer->owned = gc::make<Node>(heap, 1, &destroyed);
  observer->watched = observer->owned;
  heap.collect();
  EXPECT_EQ(destroyed, 0);
  EXPECT_EQ(observer->watched->value, 1);
  observer->owned = nullptr;
  heap.collect();
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(observer->watched.get(), nullptr);
}

TEST(WeakMemberTest, WeakCycleIsCollected) {
  gc::Heap heap;
  int destroyed = 0;
  {
    gc::Local<Observer> a = gc::make<Observer>(heap);
    gc::Local<Node> node = gc::make<Node>(heap, 1, &destroyed);
    a->watched = node;
  }
  heap.collect();
  EXPECT_EQ(destroyed, 1);
}

// Keeps raw, untraced pointers and forgets the dead ones in a weak callback (a cache).
struct Registry : gc::GarbageCollected<Registry> {
  void trace(gc::Visitor& visitor) const {
    visitor.register_weak_callback<&Registry::forget_dead>(this);
  }
  void forget_dead(const gc::LivenessBroker& broker) {
    ++callbacks;
    std::erase_if(entries, [&](Node* node) { return !broker.is_alive(node); });
  }
  std::vector<Node*> entries;
  int callbacks = 0;
};

TEST(WeakCallbackTest, RunsAfterMarkingWithALivenessBroker) {
  gc::Heap heap;
  quiet(heap);
  int destroyed = 0;
  gc::Local<Registry> registry = gc::make<Registry>(heap);
  gc::Local<Node> kept = gc::make<Node>(heap, 1, &destroyed);
  registry->entries.push_back(kept.get());
  registry->entries.push_back(gc::make<Node>(heap, 2, &destroyed).get());
  heap.collect();
  EXPECT_EQ(registry->callbacks, 1);
  EXPECT_EQ(destroyed, 1);
  ASSERT_EQ(registry->entries.size(), 1U);
  EXPECT_EQ(registry->entries[0]->value, 1);
}

TEST(WeakCallbackTest, DeadObjectsCallbacksDoNotRun) {
  gc::Heap heap;
  quiet(heap);
  int calls = 0;
  struct Counting : gc::GarbageCollected<Counting> {
    explicit Counting(int* counter) : calls(counter) {}
    void trace(gc::Visitor& visitor) const {
      visitor.register_weak_callback(
          [](const gc::LivenessBroker&, const void* data) {
            ++*static_cast<const Counting*>(data)->calls;
          },
          this);
    }
    int* calls;
  };
  gc::Local<Counting> alive = gc::make<Counting>(heap, &calls);
  (void)gc::make<Counting>(heap, &calls);
  heap.collect();
  EXPECT_EQ(calls, 1);
}

TEST(LivenessBrokerTest, NullIsNotAlive) {
  gc::Heap heap;
  quiet(heap);
  bool null_alive = true;
  struct Asks : gc::GarbageCollected<Asks> {
    explicit Asks(bool* out) : result(out) {}
    void trace(gc::Visitor& visitor) const { visitor.register_weak_callback<&Asks::ask>(this); }
    void ask(const gc::LivenessBroker& broker) {
      *result = broker.is_alive(static_cast<const Node*>(nullptr));
    }
    bool* result;
  };
  gc::Local<Asks> asks = gc::make<Asks>(heap, &null_alive);
  heap.collect();
  EXPECT_FALSE(null_alive);
}

}  // namespace
}  // namespace gc_test
