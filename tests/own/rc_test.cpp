// Tests of memkit::Rc<T> and Weak<T>: exact counts, exact lifetimes of the value and of its one
// allocation, clone-on-write, cycles, and (in debug builds) the single-thread checks.
#include "memkit/own/rc.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "memkit/base/config.h"
#include "memkit/base/error.h"
#include "memkit/own/drop.h"
#include "memkit/own/refcell.h"
#include "support/counting_new.h"
#include "support/instance_tracker.h"
#include "support/throws.h"

namespace rc_test {

struct ConstructionFailed {};

struct ThrowsOnConstruct {
  explicit ThrowsOnConstruct(int value) : tracked(value) { throw ConstructionFailed{}; }
  memkit::testing::Tracked tracked;
};

// A tree: parents own their children, children point back with a Weak.
struct TreeNode {
  explicit TreeNode(int v) : tracked(v) {}
  memkit::testing::Tracked tracked;
  memkit::RefCell<memkit::Weak<TreeNode>> parent;
  memkit::RefCell<std::vector<memkit::Rc<TreeNode>>> children;
};

// A ring: every node owns the next one, so the nodes own each other.
struct RingNode {
  explicit RingNode(int v) : tracked(v) {}
  memkit::testing::Tracked tracked;
  memkit::RefCell<std::optional<memkit::Rc<RingNode>>> next;
};

}  // namespace rc_test

namespace {

using memkit::Rc;
using memkit::Weak;
using memkit::testing::AllocationDelta;
using memkit::testing::escape;
using memkit::testing::InstanceTracker;
using memkit::testing::ThrowsUseAfterMove;
using memkit::testing::Tracked;
using memkit::testing::what_of;
using rc_test::ConstructionFailed;
using rc_test::RingNode;
using rc_test::ThrowsOnConstruct;
using rc_test::TreeNode;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// The one block Rc<T>::make allocates: the counts and the value together.
template <class T>
constexpr std::int64_t kBlockSize =
    sizeof(memkit::detail::CountedBox<T, memkit::detail::LocalCounts>);

TEST(RcTest, MakeIsOneAllocationHoldingCountsAndValue) {
  InstanceTracker tracker;
  AllocationDelta delta;
  {
    auto rc = Rc<Tracked>::make(42);
    EXPECT_EQ(delta.allocations(), 1);
    EXPECT_EQ(delta.live_blocks(), 1);
    EXPECT_EQ(delta.live_bytes(), kBlockSize<Tracked>);
    EXPECT_EQ(rc->value(), 42);
    EXPECT_EQ((*rc).value(), 42);
    EXPECT_EQ(rc.get()->value(), 42);
    EXPECT_EQ(tracker.constructed(), 1);
    EXPECT_EQ(tracker.moved(), 0);
  }
  EXPECT_EQ(delta.live_blocks(), 0);
  EXPECT_EQ(tracker.destroyed(), 1);
}

TEST(RcTest, MakeRcForwardsConstructorArguments) {
  auto rc = memkit::make_rc<std::string>(2, 'z');
  EXPECT_EQ(*rc, "zz");
  EXPECT_EQ(rc->size(), 2u);
}

TEST(RcTest, StrongCountFollowsCopiesMovesAndScopes) {
  AllocationDelta delta;
  auto a = Rc<int>::make(5);
  escape(a.get());
  EXPECT_EQ(a.strong_count(), 1u);
  EXPECT_EQ(a.weak_count(), 0u);
  {
    Rc<int> b = a;
    EXPECT_EQ(a.strong_count(), 2u);
    Rc<int> c = b.clone();
    EXPECT_EQ(a.strong_count(), 3u);
    EXPECT_EQ(c.strong_count(), 3u);
    Rc<int> d = std::move(c);  // a move makes no new owner
    EXPECT_EQ(a.strong_count(), 3u);
    EXPECT_FALSE(c.valid());
    {
      Rc<int> e = Rc<int>::make(6);
      escape(e.get());
      e = d;  // copy assignment: e lets go of its 6, shares the 5
      EXPECT_EQ(a.strong_count(), 4u);
      EXPECT_EQ(*e, 5);
    }
    EXPECT_EQ(a.strong_count(), 3u);
  }
  EXPECT_EQ(a.strong_count(), 1u);
  EXPECT_EQ(a.weak_count(), 0u);
  EXPECT_EQ(delta.allocations(), 2);  // the 5 and the 6; copies allocate nothing
  EXPECT_EQ(delta.live_blocks(), 1);
}

TEST(RcTest, SelfAssignmentKeepsTheCount) {
  auto a = Rc<int>::make(1);
  Rc<int>& alias = a;
  a = alias;
  EXPECT_EQ(a.strong_count(), 1u);
  a = std::move(alias);
  EXPECT_TRUE(a.valid());
  EXPECT_EQ(a.strong_count(), 1u);
  EXPECT_EQ(*a, 1);
}

TEST(RcTest, CopiesShareOneValue) {
  auto a = Rc<int>::make(7);
  Rc<int> b = a;
  EXPECT_EQ(a.get(), b.get());
  EXPECT_TRUE(Rc<int>::ptr_eq(a, b));
  EXPECT_TRUE(a.ptr_eq(b));

  auto equal_but_separate = Rc<int>::make(7);
  EXPECT_FALSE(Rc<int>::ptr_eq(a, equal_but_separate));
  EXPECT_EQ(*a, *equal_but_separate);
}

TEST(RcTest, DowngradeAndUpgrade) {
  auto a = Rc<int>::make(3);
  Weak<int> w = a.downgrade();
  EXPECT_EQ(a.strong_count(), 1u);
  EXPECT_EQ(a.weak_count(), 1u);
  EXPECT_EQ(w.strong_count(), 1u);
  EXPECT_EQ(w.weak_count(), 1u);
  EXPECT_FALSE(w.expired());

  Weak<int> w2 = w;
  EXPECT_EQ(a.weak_count(), 2u);
  EXPECT_TRUE(Weak<int>::ptr_eq(w, w2));

  std::optional<Rc<int>> up = w.upgrade();
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(**up, 3);
  EXPECT_TRUE(Rc<int>::ptr_eq(*up, a));
  EXPECT_EQ(a.strong_count(), 2u);
  EXPECT_EQ(w.strong_count(), 2u);
}

TEST(RcTest, UpgradeAfterTheValueDiedGivesNullopt) {
  Weak<int> w;
  {
    auto a = Rc<int>::make(3);
    w = a.downgrade();
    EXPECT_TRUE(w.upgrade().has_value());
  }
  EXPECT_FALSE(w.upgrade().has_value());
  EXPECT_TRUE(w.expired());
  EXPECT_EQ(w.strong_count(), 0u);
  EXPECT_EQ(w.weak_count(), 0u);
}

TEST(RcTest, ValueDiesWithTheLastRcMemoryWithTheLastWeak) {
  InstanceTracker tracker;
  AllocationDelta delta;
  auto a = Rc<Tracked>::make(1);
  Rc<Tracked> b = a;
  Weak<Tracked> w1 = a.downgrade();
  Weak<Tracked> w2 = w1;

  memkit::drop(std::move(a));
  EXPECT_EQ(tracker.destroyed(), 0);  // b still owns it
  memkit::drop(std::move(b));
  EXPECT_EQ(tracker.destroyed(), 1);  // the value is gone ...
  EXPECT_EQ(delta.live_blocks(), 1);  // ... its block is not: the Weaks still point to it
  memkit::drop(std::move(w1));
  EXPECT_EQ(delta.live_blocks(), 1);
  memkit::drop(std::move(w2));
  EXPECT_EQ(delta.live_blocks(), 0);
  EXPECT_EQ(tracker.destroyed(), 1);
}

TEST(RcTest, DefaultWeakAllocatesNothingAndNeverUpgrades) {
  AllocationDelta delta;
  Weak<int> w;
  Weak<int> copy = w;
  EXPECT_EQ(delta.allocations(), 0);
  EXPECT_FALSE(w.upgrade().has_value());
  EXPECT_TRUE(w.expired());
  EXPECT_EQ(w.strong_count(), 0u);
  EXPECT_EQ(w.weak_count(), 0u);
  EXPECT_TRUE(Weak<int>::ptr_eq(w, copy));  // two empty Weaks are equal
  auto a = Rc<int>::make(1);
  EXPECT_FALSE(w.ptr_eq(a.downgrade()));
}

TEST(RcTest, GetMutOnlyWhenNoOtherHandleExists) {
  auto a = Rc<int>::make(1);
  int* unique = a.get_mut();
  ASSERT_NE(unique, nullptr);
  *unique = 2;
  EXPECT_EQ(*a, 2);

  {
    Rc<int> b = a;
    EXPECT_EQ(a.get_mut(), nullptr);
    EXPECT_EQ(b.get_mut(), nullptr);
  }
  EXPECT_EQ(a.get_mut(), unique);
  {
    Weak<int> w = a.downgrade();
    EXPECT_EQ(a.get_mut(), nullptr);  // a Weak could upgrade and read it
  }
  EXPECT_EQ(a.get_mut(), unique);
}

TEST(RcTest, MakeMutCopiesASharedValue) {
  InstanceTracker tracker;
  AllocationDelta delta;
  auto a = Rc<Tracked>::make(1);
  Rc<Tracked> b = a;
  Tracked& mine = a.make_mut();
  EXPECT_EQ(tracker.copied(), 1);
  EXPECT_EQ(delta.allocations(), 2);
  mine.set_value(2);
  EXPECT_EQ(a->value(), 2);
  EXPECT_EQ(b->value(), 1);  // b still sees the original
  EXPECT_FALSE(Rc<Tracked>::ptr_eq(a, b));
  EXPECT_EQ(a.strong_count(), 1u);
  EXPECT_EQ(b.strong_count(), 1u);
}

TEST(RcTest, MakeMutOnAUniqueValueDoesNotCopy) {
  InstanceTracker tracker;
  AllocationDelta delta;
  auto a = Rc<Tracked>::make(1);
  const Tracked* before = a.get();
  Tracked& mine = a.make_mut();
  EXPECT_EQ(&mine, before);
  EXPECT_EQ(tracker.copied(), 0);
  EXPECT_EQ(tracker.moved(), 0);
  EXPECT_EQ(delta.allocations(), 1);
}

TEST(RcTest, MakeMutWithOnlyWeaksMovesTheValueAndDisassociatesThem) {
  InstanceTracker tracker;
  AllocationDelta delta;
  auto a = Rc<Tracked>::make(1);
  Weak<Tracked> w = a.downgrade();

  Tracked& mine = a.make_mut();
  EXPECT_EQ(tracker.copied(), 0);  // no other Rc: the value is moved, not copied
  EXPECT_EQ(tracker.moved(), 1);
  EXPECT_EQ(tracker.destroyed(), 1);  // the moved-from original
  EXPECT_EQ(mine.value(), 1);
  EXPECT_EQ(&mine, a.get());
  EXPECT_EQ(a.weak_count(), 0u);
  EXPECT_FALSE(w.upgrade().has_value());
  EXPECT_TRUE(w.expired());
  EXPECT_EQ(delta.live_blocks(), 2);  // the old block lives as long as w
  memkit::drop(std::move(w));
  EXPECT_EQ(delta.live_blocks(), 1);
}

TEST(RcTest, TryUnwrapMovesTheValueOutOfTheOnlyHandle) {
  InstanceTracker tracker;
  AllocationDelta delta;
  auto a = Rc<Tracked>::make(7);
  std::optional<Tracked> value = Rc<Tracked>::try_unwrap(std::move(a));
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->value(), 7);
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(tracker.live(), 1);  // only the unwrapped value
  EXPECT_EQ(tracker.copied(), 0);
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(RcTest, TryUnwrapWithAWeakExpiresTheWeak) {
  InstanceTracker tracker;
  AllocationDelta delta;
  auto a = Rc<Tracked>::make(8);
  Weak<Tracked> w = a.downgrade();
  std::optional<Tracked> value = Rc<Tracked>::try_unwrap(std::move(a));
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->value(), 8);
  EXPECT_FALSE(w.upgrade().has_value());
  EXPECT_EQ(w.weak_count(), 0u);
  EXPECT_EQ(tracker.live(), 1);
  EXPECT_EQ(delta.live_blocks(), 1);  // the value left; w still keeps the block
  memkit::drop(std::move(w));
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(RcTest, TryUnwrapFailsAndLeavesTheHandleWhenShared) {
  InstanceTracker tracker;
  auto a = Rc<Tracked>::make(7);
  Rc<Tracked> b = a;
  std::optional<Tracked> value = Rc<Tracked>::try_unwrap(std::move(a));
  EXPECT_FALSE(value.has_value());
  ASSERT_TRUE(a.valid());  // a failed try_unwrap gives the handle back
  EXPECT_EQ(a->value(), 7);
  EXPECT_EQ(a.strong_count(), 2u);
  EXPECT_TRUE(Rc<Tracked>::ptr_eq(a, b));
  EXPECT_EQ(tracker.moved(), 0);
}

// A value whose move constructor throws: try_unwrap must still free everything.
struct ThrowsOnMove {
  explicit ThrowsOnMove(int v) : value(v) {}
  ThrowsOnMove(ThrowsOnMove&&) { throw std::runtime_error("move failed"); }
  int value;
};

TEST(RcTest, TryUnwrapWhoseMoveThrowsLeaksNothing) {
  AllocationDelta delta;
  auto a = Rc<ThrowsOnMove>::make(3);
  escape(a.get());
  EXPECT_THROW((void)Rc<ThrowsOnMove>::try_unwrap(std::move(a)), std::runtime_error);
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(RcTest, MakeBuildsAnAggregateFromItsFields) {
  struct Coords {
    int x, y;
  };
  auto p = Rc<Coords>::make(1, 2);
  EXPECT_EQ(p->x, 1);
  EXPECT_EQ(p->y, 2);
}

TEST(RcTest, EveryOperationOnAMovedFromRcThrowsUseAfterMove) {
  auto a = Rc<int>::make(1);
  auto keep = std::move(a);
  ASSERT_FALSE(a.valid());

  const std::string type = "memkit::Rc<int>";
  EXPECT_THAT([&] { (void)*a; }, ThrowsUseAfterMove(type, "operator*"));
  EXPECT_THAT([&] { (void)a.operator->(); }, ThrowsUseAfterMove(type, "operator->"));
  EXPECT_THAT([&] { (void)a.get(); }, ThrowsUseAfterMove(type, "get()"));
  EXPECT_THAT([&] { Rc<int> copy = a; }, ThrowsUseAfterMove(type, "clone"));
  EXPECT_THAT([&] { (void)a.clone(); }, ThrowsUseAfterMove(type, "clone"));
  EXPECT_THAT([&] { (void)a.strong_count(); }, ThrowsUseAfterMove(type, "strong_count()"));
  EXPECT_THAT([&] { (void)a.weak_count(); }, ThrowsUseAfterMove(type, "weak_count()"));
  EXPECT_THAT([&] { (void)a.downgrade(); }, ThrowsUseAfterMove(type, "downgrade()"));
  EXPECT_THAT([&] { (void)a.get_mut(); }, ThrowsUseAfterMove(type, "get_mut()"));
  EXPECT_THAT([&] { (void)a.make_mut(); }, ThrowsUseAfterMove(type, "make_mut()"));
  EXPECT_THAT([&] { (void)Rc<int>::ptr_eq(a, keep); }, ThrowsUseAfterMove(type, "ptr_eq()"));
  EXPECT_THAT([&] { (void)Rc<int>::try_unwrap(std::move(a)); },
              ThrowsUseAfterMove(type, "try_unwrap()"));
  EXPECT_EQ(keep.strong_count(), 1u);  // none of the failed operations touched the count
}

TEST(RcTest, UseAfterMoveMessageIsExact) {
  auto a = Rc<int>::make(1);
  auto keep = std::move(a);
  EXPECT_EQ(what_of<memkit::UseAfterMove>([&] { (void)*a; }),
            "use after move: operator* on an empty memkit::Rc<int> (its value was moved out, "
            "leaked or released with into_raw)");
}

TEST(RcTest, MovedFromRcCanBeGivenANewValue) {
  auto a = Rc<int>::make(1);
  auto keep = std::move(a);
  a = Rc<int>::make(2);
  EXPECT_EQ(*a, 2);
  EXPECT_EQ(a.strong_count(), 1u);
}

TEST(RcTest, TreeWithWeakParentLinksFreesEverything) {
  InstanceTracker tracker;
  AllocationDelta delta;
  {
    auto branch = Rc<TreeNode>::make(0);
    for (int i = 1; i <= 3; ++i) {
      auto leaf = Rc<TreeNode>::make(i);
      *leaf->parent.borrow_mut() = branch.downgrade();
      branch->children.borrow_mut()->push_back(leaf);
    }
    EXPECT_EQ(branch.strong_count(), 1u);
    EXPECT_EQ(branch.weak_count(), 3u);

    const Rc<TreeNode>& leaf = branch->children.borrow()->at(1);
    EXPECT_EQ(leaf.strong_count(), 1u);
    std::optional<Rc<TreeNode>> parent = leaf->parent.borrow()->upgrade();
    ASSERT_TRUE(parent.has_value());
    EXPECT_TRUE(Rc<TreeNode>::ptr_eq(*parent, branch));
    EXPECT_EQ((*parent)->tracked.value(), 0);
    EXPECT_EQ(tracker.live(), 4);
  }
  EXPECT_EQ(tracker.live(), 0);
  EXPECT_EQ(tracker.destroyed(), 4);
  EXPECT_EQ(delta.live_blocks(), 0);  // 4 nodes and the vector's buffer, all freed
}

TEST(RcTest, StrongCycleLeaksExactlyItsNodesUntilBroken) {
  constexpr int kNodes = 3;
  InstanceTracker tracker;
  AllocationDelta delta;
  Weak<RingNode> entry;  // does not keep the ring alive; lets the test break it afterwards
  {
    auto first = Rc<RingNode>::make(0);
    Rc<RingNode> last = first;
    for (int i = 1; i < kNodes; ++i) {
      auto node = Rc<RingNode>::make(i);
      *last->next.borrow_mut() = node;
      last = node;
    }
    *last->next.borrow_mut() = first;  // close the ring
    entry = first.downgrade();
    EXPECT_EQ(first.strong_count(), 2u);  // `first` and the last node
  }
  // Every handle the test had is gone, but the nodes own each other.
  EXPECT_EQ(tracker.live(), kNodes);
  EXPECT_EQ(delta.live_blocks(), kNodes);
  EXPECT_FALSE(entry.expired());

  // Break the cycle by hand so that nothing stays leaked.
  {
    std::optional<Rc<RingNode>> first = entry.upgrade();
    ASSERT_TRUE(first.has_value());
    (void)(*first)->next.take();  // frees nodes 1 .. kNodes-1, which free their link to node 0
    EXPECT_EQ(tracker.live(), 1);
    EXPECT_EQ((*first).strong_count(), 1u);
  }
  EXPECT_EQ(tracker.live(), 0);
  EXPECT_TRUE(entry.expired());
  memkit::drop(std::move(entry));
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(RcTest, ExceptionFromTheConstructorLeaksNothing) {
  InstanceTracker tracker;
  AllocationDelta delta;
  EXPECT_THROW((void)Rc<ThrowsOnConstruct>::make(1), ConstructionFailed);
  EXPECT_EQ(delta.allocations(), 1);
  EXPECT_EQ(delta.live_blocks(), 0);
  EXPECT_EQ(tracker.constructed(), 1);
  EXPECT_EQ(tracker.destroyed(), 1);
}

// ---- debug builds: an Rc belongs to the thread that made it ---------------------------------

#if MEMKIT_DEBUG

// Runs f on a new thread and returns the what() of the WrongThread it throws ("" if none).
template <class F>
std::string wrong_thread_message(F f) {
  std::string message;
  std::thread([&] { message = what_of<memkit::WrongThread>(f); }).join();
  return message;
}

TEST(RcThreadTest, EveryUseFromAnotherThreadThrowsWrongThread) {
  auto rc = Rc<int>::make(1);
  Weak<int> weak = rc.downgrade();
  EXPECT_THAT(wrong_thread_message([&] { Rc<int> copy = rc; }),
              MatchesRegex("memkit::Rc<int>: clone on thread [0-9]+, but it belongs to "
                           "thread [0-9]+ \\(it is not thread-safe; share an Arc across "
                           "threads instead\\)"));
  EXPECT_THAT(wrong_thread_message([&] { (void)*rc; }),
              HasSubstr("memkit::Rc<int>: operator* on thread "));
  EXPECT_THAT(wrong_thread_message([&] { (void)rc.strong_count(); }),
              HasSubstr("memkit::Rc<int>: strong_count() on thread "));
  EXPECT_THAT(wrong_thread_message([&] { (void)rc.downgrade(); }),
              HasSubstr("memkit::Rc<int>: downgrade() on thread "));
  EXPECT_THAT(wrong_thread_message([&] { (void)weak.upgrade(); }),
              HasSubstr("memkit::Weak<int>: upgrade() on thread "));
  EXPECT_THAT(wrong_thread_message([&] { Weak<int> copy = weak; }),
              HasSubstr("memkit::Weak<int>: clone on thread "));

  // The refused operations changed nothing.
  EXPECT_EQ(rc.strong_count(), 1u);
  EXPECT_EQ(rc.weak_count(), 1u);
}

TEST(RcThreadDeathTest, DestroyingAnRcOnAnotherThreadAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto rc = Rc<int>::make(1);
        std::thread([handle = std::move(rc)]() mutable { memkit::drop(std::move(handle)); }).join();
      },
      "memkit: fatal: memkit::Rc<int>: drop on thread [0-9]+, but it belongs to thread [0-9]+");
}

TEST(RcThreadDeathTest, DestroyingAWeakOnAnotherThreadAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto rc = Rc<int>::make(1);
  EXPECT_DEATH(
      {
        std::thread([handle = rc.downgrade()]() mutable {
          memkit::drop(std::move(handle));
        }).join();
      },
      "memkit: fatal: memkit::Weak<int>: drop on thread");
}

#endif  // MEMKIT_DEBUG

}  // namespace
