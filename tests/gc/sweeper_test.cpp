// Tests of sweeping and finalization: destructors run exactly once, Members of dead objects are
// poisoned before destructors run, pre-finalizers see the whole dead graph, free slots are
// poisoned for ASan.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gc_test_types.h"
#include "memkit/base/sanitizers.h"

namespace gc_test {

// Touches its peer in its destructor: the bug poisoning exists to catch. (Named namespace: its
// name appears in the message.)
struct Toucher : gc::GarbageCollected<Toucher> {
  explicit Toucher(volatile int* out) : seen(out) {}
  ~Toucher() {
    if (peer.raw_object() != nullptr) *seen = peer->value;
  }
  void trace(gc::Visitor& visitor) const { visitor.trace(peer); }
  gc::Member<Node> peer;
  volatile int* seen;  // outside the object, so the read cannot be optimized away
};

namespace {

TEST(SweeperTest, EachDestructorRunsExactlyOnce) {
  gc::Heap heap;
  std::vector<int> destroyed(50, 0);
  {
    std::vector<gc::Local<Node>> keep;
    for (int i = 0; i < 50; ++i) keep.push_back(gc::make<Node>(heap, i, &destroyed[i]));
    keep.resize(25);
    heap.collect();
    heap.collect();
    for (int i = 0; i < 50; ++i) EXPECT_EQ(destroyed[i], i < 25 ? 0 : 1) << i;
  }
  heap.collect();
  heap.collect();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(destroyed[i], 1) << i;
}

TEST(SweeperTest, HeapPoisonsDeadMembersInDebugAndStress) {
  gc::Heap heap;
  heap.set_stress(gc::Stress::off());
  EXPECT_EQ(heap.poisons_dead_members(), MEMKIT_DEBUG != 0);
  heap.set_stress(gc::Stress::every(1000));
  EXPECT_TRUE(heap.poisons_dead_members());
}

TEST(SweeperDeathTest, DestructorThatFollowsAMemberFailsLoudly) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        gc::Heap heap;
        heap.set_stress(gc::Stress::every(1000000));  // poisoning on in every build
        volatile int seen = 0;
        gc::Local<Toucher> toucher = gc::make<Toucher>(heap, &seen);
        toucher->peer = gc::make<Node>(heap, 5);
        toucher = nullptr;
        heap.collect();
      },
      MEMKIT_DEBUG ? "memkit: fatal: memkit::gc::Member<gc_test::Node>: operator-> on a Member "
                     "poisoned by the collector: a destructor must not reach other GC objects"
                   : "");
}

// Reads its (dead) partner in a pre-finalizer: allowed, everything dead is still intact.
struct Registered : gc::GarbageCollected<Registered> {
  explicit Registered(std::vector<std::string>* log_to) : log(log_to) {}
  void pre_finalize() {
    log->push_back("pre_finalize " + std::to_string(id) + " sees partner " +
                   (partner ? std::to_string(partner->id) : std::string("none")));
  }
  ~Registered() { log->push_back("destroy " + std::to_string(id)); }
  void trace(gc::Visitor& visitor) const { visitor.trace(partner); }
  std::vector<std::string>* log;
  int id = 0;
  gc::Member<Registered> partner;
};

TEST(SweeperTest, PreFinalizersRunOnceBeforeAnyDestructorAndSeeTheDeadGraph) {
  gc::Heap heap;
  std::vector<std::string> log;
  {
    gc::Local<Registered> a = gc::make<Registered>(heap, &log);
    gc::Local<Registered> b = gc::make<Registered>(heap, &log);
    a->id = 1;
    b->id = 2;
    a->partner = b;
    b->partner = a;
    heap.collect();
    EXPECT_TRUE(log.empty());
  }
  heap.collect();
  heap.collect();
  ASSERT_EQ(log.size(), 4U);
  EXPECT_THAT(std::vector<std::string>(log.begin(), log.begin() + 2),
              ::testing::UnorderedElementsAre("pre_finalize 1 sees partner 2",
                                              "pre_finalize 2 sees partner 1"));
  EXPECT_THAT(std::vector<std::string>(log.begin() + 2, log.end()),
              ::testing::UnorderedElementsAre("destroy 1", "destroy 2"));
}

TEST(SweeperTest, PreFinalizersRunAtHeapTeardown) {
  std::vector<std::string> log;
  {
    gc::Heap heap;
    (void)gc::make<Registered>(heap, &log);
  }
  EXPECT_THAT(log, ::testing::ElementsAre("pre_finalize 0 sees partner none", "destroy 0"));
}

TEST(SweeperTest, FreedSlotsArePoisonedForAsan) {
  if (!MEMKIT_ASAN) GTEST_SKIP() << "ASan only";
  gc::Heap heap;
  quiet(heap);
  Node* raw = gc::make<Node>(heap, 1).get();
  gc::Local<Node> other = gc::make<Node>(heap, 2);
  heap.collect();
  EXPECT_TRUE(memkit::is_poisoned(&raw->value));
  EXPECT_FALSE(memkit::is_poisoned(&other->value));
}

}  // namespace
}  // namespace gc_test
