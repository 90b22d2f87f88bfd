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

// A collection started by the pacing sweeps lazily: the garbage is found dead in the pause, and
// destroyed page by page as the allocator reaches the pages (or all at once by stats(),
// collect() or the next collection).
TEST(SweeperTest, PacedCollectionsSweepLazilyPageByPage) {
  gc::Heap heap;
  heap.set_stress(gc::Stress::off());
  gc::GrowingPolicy policy;
  policy.min_bytes = 1 << 20;  // about 21,800 Nodes (48-byte slots) between collections
  policy.retain_factor = 0;
  heap.set_growing_policy(policy);
  int destroyed = 0;
  int made = 0;
  while (heap.collections() == 0) {
    (void)gc::make<Node>(heap, made, &destroyed);
    ++made;
  }
  EXPECT_EQ(heap.stats().last_reason, gc::CollectionReason::kAllocation);
  // stats() finished the sweep: every node but the one the collecting make() returned is gone.
  EXPECT_EQ(destroyed, made - 1);
  EXPECT_EQ(heap.stats().objects.counts.frees, static_cast<std::uint64_t>(made - 1));

  // The second paced collection, without stats() in between.
  const int before = destroyed;
  const int first_round = made;
  while (heap.collections() == 1) {
    (void)gc::make<Node>(heap, made, &destroyed);
    ++made;
  }
  // Garbage: this round's nodes but the last, and the last of the first round.
  const int garbage = made - first_round;
  const int right_after = destroyed - before;
  EXPECT_LT(right_after, garbage / 2) << "most of the garbage waits for the allocator";
  // Allocating reaches the unswept pages: their destructors run, their slots are reused.
  for (int i = 0; i < garbage / 2; ++i) (void)gc::make<Node>(heap, i, nullptr);
  EXPECT_EQ(heap.collections(), 2U);
  EXPECT_GT(destroyed - before, right_after);
  EXPECT_LT(destroyed - before, garbage);
  (void)heap.stats();
  EXPECT_EQ(destroyed - before, garbage);
  heap.collect();
  EXPECT_EQ(destroyed, made);
}

TEST(SweeperTest, ExplicitCollectSweepsWhatALazySweepLeft) {
  gc::Heap heap;
  heap.set_stress(gc::Stress::off());
  gc::GrowingPolicy policy;
  policy.min_bytes = 1 << 20;
  heap.set_growing_policy(policy);
  int destroyed = 0;
  int made = 0;
  gc::Local<Node> last;
  while (heap.collections() == 0) {
    last = gc::make<Node>(heap, made, &destroyed);
    ++made;
  }
  EXPECT_LT(destroyed, made - 1);
  heap.collect();
  EXPECT_EQ(destroyed, made - 1);
  EXPECT_EQ(last->value, made - 1);
}

// The sweeper destroys adjacent dead objects of one type as a run: runs of mixed types, broken
// by live and free slots, must each get their own destructor and count.
struct Label : gc::GarbageCollected<Label> {
  Label(std::string text, int* counter) : value(std::move(text)), destroyed(counter) {}
  ~Label() { ++*destroyed; }
  std::string value;
  int* destroyed;
};
static_assert(sizeof(gc::detail::Allocated<Label>) <= kNodeSlot &&
              sizeof(gc::detail::Allocated<Label>) > kNodeSlot - 16);  // Node's size class

TEST(SweeperTest, RunsOfDeadObjectsOfMixedTypesAreEachDestroyedAndCounted) {
  gc::Heap heap;
  quiet(heap);
  int nodes_destroyed = 0;
  int labels_destroyed = 0;
  std::vector<gc::Local<Node>> kept_nodes;
  std::vector<gc::Local<Label>> kept_labels;
  int nodes = 0;
  int labels = 0;
  for (int i = 0; i < 3000; ++i) {
    // Runs of 1 to 4 objects of one type; every seventh object is kept.
    const bool label = (i / (1 + i % 4)) % 2 == 1;
    if (label) {
      gc::Local<Label> object = gc::make<Label>(
          heap, std::string(40, static_cast<char>('a' + i % 26)), &labels_destroyed);
      ++labels;
      if (i % 7 == 0) kept_labels.push_back(std::move(object));
    } else {
      gc::Local<Node> object = gc::make<Node>(heap, i, &nodes_destroyed);
      ++nodes;
      if (i % 7 == 0) kept_nodes.push_back(std::move(object));
    }
  }
  heap.collect();
  const int dead_nodes = nodes - static_cast<int>(kept_nodes.size());
  const int dead_labels = labels - static_cast<int>(kept_labels.size());
  EXPECT_EQ(nodes_destroyed, dead_nodes);
  EXPECT_EQ(labels_destroyed, dead_labels);
  const gc::GcStats stats = heap.stats();
  std::uint64_t node_frees = 0;
  std::uint64_t label_frees = 0;
  for (const memkit::TagStats& row : stats.objects.by_tag) {
    if (row.tag == "gc_test::Node") node_frees = row.counts.frees;
    if (row.tag.ends_with("::Label")) label_frees = row.counts.frees;
  }
  EXPECT_EQ(node_frees, static_cast<std::uint64_t>(dead_nodes));
  EXPECT_EQ(label_frees, static_cast<std::uint64_t>(dead_labels));
  for (const gc::Local<Label>& object : kept_labels) EXPECT_EQ(object->value.size(), 40U);
  // The freed slots are reused by the next allocations, and their destructors have run once.
  for (int i = 0; i < 3000; ++i) (void)gc::make<Node>(heap, i, nullptr);
  heap.collect();
  EXPECT_EQ(nodes_destroyed, dead_nodes);
  EXPECT_EQ(labels_destroyed, dead_labels);
}

struct AllocatesInDestructor : gc::GarbageCollected<AllocatesInDestructor> {
  explicit AllocatesInDestructor(gc::Heap& owner) : heap(owner) {}
  ~AllocatesInDestructor() { (void)gc::make<Node>(heap); }
  gc::Heap& heap;
};

TEST(SweeperDeathTest, MakeFromADestructorRunByTheLazySweepAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        gc::Heap heap;
        heap.set_stress(gc::Stress::off());
        gc::GrowingPolicy policy;
        policy.min_bytes = 1 << 20;
        heap.set_growing_policy(policy);
        (void)gc::make<AllocatesInDestructor>(heap, heap);
        for (int i = 0; i < 100000; ++i) (void)gc::make<AllocatesInDestructor>(heap, heap);
      },
      "memkit: fatal: memkit::gc::Heap: make\\(\\) during a collection \\(from trace\\(\\), a "
      "weak callback, a pre-finalizer or a destructor\\)");
}

}  // namespace
}  // namespace gc_test
