// Tests of memkit::Arc<T> and ArcWeak<T>: Rc's semantics with atomic counts, then the same
// contracts under real concurrency. The threaded tests run under ThreadSanitizer in CI (./run
// tsan), so every access in them must be race-free by TSan's rules, and they stay small enough
// to finish in well under two seconds there.
#include "memkit/own/arc.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <cstdint>
#include <latch>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "memkit/base/error.h"
#include "memkit/own/drop.h"
#include "memkit/own/mutex.h"
#include "memkit/own/thread.h"
#include "support/counting_new.h"
#include "support/instance_tracker.h"
#include "support/throws.h"

namespace {

using memkit::Arc;
using memkit::ArcWeak;
using memkit::Mutex;
using memkit::testing::AllocationDelta;
using memkit::testing::escape;
using memkit::testing::InstanceTracker;
using memkit::testing::ThrowsUseAfterMove;
using memkit::testing::Tracked;
using memkit::testing::what_of;

template <class T>
constexpr std::int64_t kBlockSize =
    sizeof(memkit::detail::CountedBox<T, memkit::detail::AtomicCounts>);

// ---- single-threaded semantics --------------------------------------------------------------

TEST(ArcTest, MakeIsOneAllocationHoldingCountsAndValue) {
  InstanceTracker tracker;
  AllocationDelta delta;
  {
    auto arc = memkit::make_arc<Tracked>(5);
    EXPECT_EQ(delta.allocations(), 1);
    EXPECT_EQ(delta.live_blocks(), 1);
    EXPECT_EQ(delta.live_bytes(), kBlockSize<Tracked>);
    EXPECT_EQ(arc->value(), 5);
    EXPECT_EQ(tracker.constructed(), 1);
  }
  EXPECT_EQ(tracker.destroyed(), 1);
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(ArcTest, CountsFollowCopiesMovesAndWeaks) {
  AllocationDelta delta;
  auto a = Arc<int>::make(1);
  escape(a.get());
  {
    Arc<int> b = a;
    Arc<int> c = std::move(b);
    EXPECT_EQ(a.strong_count(), 2u);
    EXPECT_TRUE(Arc<int>::ptr_eq(a, c));
    ArcWeak<int> w = a.downgrade();
    ArcWeak<int> w2 = w;
    EXPECT_EQ(a.weak_count(), 2u);
    EXPECT_EQ(w.strong_count(), 2u);
    EXPECT_EQ(w.weak_count(), 2u);
    std::optional<Arc<int>> up = w.upgrade();
    ASSERT_TRUE(up.has_value());
    EXPECT_EQ(a.strong_count(), 3u);
    EXPECT_EQ(**up, 1);
  }
  EXPECT_EQ(a.strong_count(), 1u);
  EXPECT_EQ(a.weak_count(), 0u);
  EXPECT_EQ(delta.allocations(), 1);
}

TEST(ArcTest, ValueDiesWithTheLastArcMemoryWithTheLastWeak) {
  InstanceTracker tracker;
  AllocationDelta delta;
  auto a = Arc<Tracked>::make(1);
  ArcWeak<Tracked> w = a.downgrade();
  memkit::drop(std::move(a));
  EXPECT_EQ(tracker.destroyed(), 1);
  EXPECT_EQ(delta.live_blocks(), 1);
  EXPECT_FALSE(w.upgrade().has_value());
  EXPECT_TRUE(w.expired());
  EXPECT_EQ(w.weak_count(), 0u);
  memkit::drop(std::move(w));
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(ArcTest, DefaultArcWeakAllocatesNothingAndNeverUpgrades) {
  AllocationDelta delta;
  ArcWeak<int> w;
  EXPECT_FALSE(w.upgrade().has_value());
  EXPECT_EQ(w.strong_count(), 0u);
  EXPECT_EQ(delta.allocations(), 0);
}

TEST(ArcTest, GetMutOnlyWhenNoOtherHandleExists) {
  auto a = Arc<int>::make(1);
  ASSERT_NE(a.get_mut(), nullptr);
  *a.get_mut() = 2;
  EXPECT_EQ(*a, 2);
  {
    Arc<int> b = a;
    EXPECT_EQ(a.get_mut(), nullptr);
  }
  {
    ArcWeak<int> w = a.downgrade();
    EXPECT_EQ(a.get_mut(), nullptr);
    EXPECT_EQ(a.weak_count(), 1u);  // get_mut put the weak count back
  }
  EXPECT_NE(a.get_mut(), nullptr);
  EXPECT_EQ(a.weak_count(), 0u);
}

TEST(ArcTest, MakeMutCopiesWhenSharedAndNotWhenUnique) {
  InstanceTracker tracker;
  auto a = Arc<Tracked>::make(1);
  EXPECT_EQ(&a.make_mut(), a.get());
  EXPECT_EQ(tracker.copied(), 0);

  Arc<Tracked> b = a;
  a.make_mut().set_value(2);
  EXPECT_EQ(tracker.copied(), 1);
  EXPECT_EQ(a->value(), 2);
  EXPECT_EQ(b->value(), 1);
  EXPECT_EQ(a.strong_count(), 1u);
  EXPECT_EQ(b.strong_count(), 1u);
}

TEST(ArcTest, MakeMutWithOnlyWeaksCopiesAndDisassociatesThem) {
  InstanceTracker tracker;
  auto a = Arc<Tracked>::make(1);
  ArcWeak<Tracked> w = a.downgrade();
  a.make_mut().set_value(2);
  EXPECT_EQ(tracker.copied(), 1);     // Arc copies (it cannot know no other thread reads it)
  EXPECT_EQ(tracker.destroyed(), 1);  // the original: no strong handle was left to it
  EXPECT_FALSE(w.upgrade().has_value());
  EXPECT_EQ(a->value(), 2);
  EXPECT_EQ(a.weak_count(), 0u);
}

TEST(ArcTest, TryUnwrapSucceedsOnlyForTheOnlyHandle) {
  InstanceTracker tracker;
  auto a = Arc<Tracked>::make(3);
  Arc<Tracked> b = a;
  EXPECT_FALSE(Arc<Tracked>::try_unwrap(std::move(a)).has_value());
  ASSERT_TRUE(a.valid());  // left intact on failure
  EXPECT_EQ(a.strong_count(), 2u);

  memkit::drop(std::move(b));
  ArcWeak<Tracked> w = a.downgrade();
  std::optional<Tracked> value = Arc<Tracked>::try_unwrap(std::move(a));
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(value->value(), 3);
  EXPECT_FALSE(a.valid());
  EXPECT_FALSE(w.upgrade().has_value());
  EXPECT_EQ(tracker.live(), 1);
}

TEST(ArcTest, MovedFromArcThrowsUseAfterMove) {
  auto a = Arc<int>::make(1);
  auto keep = std::move(a);
  const std::string type = "memkit::Arc<int>";
  EXPECT_THAT([&] { (void)*a; }, ThrowsUseAfterMove(type, "operator*"));
  EXPECT_THAT([&] { Arc<int> copy = a; }, ThrowsUseAfterMove(type, "clone"));
  EXPECT_THAT([&] { (void)a.downgrade(); }, ThrowsUseAfterMove(type, "downgrade()"));
  EXPECT_THAT([&] { (void)a.get_mut(); }, ThrowsUseAfterMove(type, "get_mut()"));
  EXPECT_THAT([&] { (void)a.strong_count(); }, ThrowsUseAfterMove(type, "strong_count()"));
  EXPECT_EQ(what_of<memkit::UseAfterMove>([&] { (void)a.get(); }),
            "use after move: get() on an empty memkit::Arc<int> (its value was moved out, leaked "
            "or released with into_raw)");
  EXPECT_EQ(keep.strong_count(), 1u);
}

TEST(ArcTest, WeakAndStrongNames) {
  EXPECT_EQ(Arc<int>::name(), "memkit::Arc<int>");
  EXPECT_EQ(ArcWeak<int>::name(), "memkit::ArcWeak<int>");
}

// ---- concurrency ----------------------------------------------------------------------------

TEST(ArcThreadTest, ConcurrentCopiesAndDestructionsKeepTheCountExact) {
  constexpr int kThreads = 4;
  constexpr int kIterations = 100'000;
  auto shared = Arc<int>::make(3);
  std::atomic<std::int64_t> sum{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.push_back(memkit::spawn(
          [&sum](Arc<int> mine) {
            std::int64_t local = 0;
            for (int i = 0; i < kIterations; ++i) {
              Arc<int> copy = mine;
              local += *copy;
            }
            sum.fetch_add(local, std::memory_order_relaxed);
          },
          shared));
    }
  }  // joined
  EXPECT_EQ(shared.strong_count(), 1u);
  EXPECT_EQ(shared.weak_count(), 0u);
  EXPECT_EQ(sum.load(), std::int64_t{kThreads} * kIterations * 3);
}

TEST(ArcThreadTest, ValueIsDestroyedExactlyOnceByWhicheverThreadDropsLast) {
  constexpr int kRounds = 40;
  constexpr int kThreads = 4;
  InstanceTracker tracker;
  AllocationDelta delta;
  std::atomic<int> bad_reads{0};
  for (int round = 0; round < kRounds; ++round) {
    auto shared = Arc<Tracked>::make(round);
    std::latch start(kThreads);
    {
      std::vector<std::jthread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.push_back(memkit::spawn(
            [&start, &bad_reads, round](Arc<Tracked> mine) {
              start.arrive_and_wait();
              for (int i = 0; i < 50; ++i) {
                Arc<Tracked> copy = mine;
                if (copy->value() != round) bad_reads.fetch_add(1);
              }
              // `mine` dies as this thread ends: any of the threads may be the last owner, and
              // its destruction must see every other thread's reads finished (TSan checks).
            },
            shared));
      }
      memkit::drop(std::move(shared));
    }  // joined
    EXPECT_EQ(tracker.destroyed(), round + 1) << "round " << round;
  }
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_EQ(tracker.constructed(), kRounds);
  EXPECT_EQ(tracker.live(), 0);
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(ArcThreadTest, UpgradeRacingWithTheLastDropGetsALiveValueOrNothing) {
  constexpr int kRounds = 1000;
  InstanceTracker tracker;
  AllocationDelta delta;
  {
    std::vector<Arc<Tracked>> strongs;
    std::vector<ArcWeak<Tracked>> weaks;
    for (int i = 0; i < kRounds; ++i) {
      strongs.push_back(Arc<Tracked>::make(i));
      weaks.push_back(strongs.back().downgrade());
    }
    std::barrier sync(2);
    int upgraded = 0;  // written by the upgrader only, read after the join
    int expired = 0;
    int bad_values = 0;
    {
      std::jthread dropper([&] {
        for (int i = 0; i < kRounds; ++i) {
          sync.arrive_and_wait();
          memkit::drop(std::move(strongs[static_cast<std::size_t>(i)]));
        }
      });
      std::jthread upgrader([&] {
        for (int i = 0; i < kRounds; ++i) {
          sync.arrive_and_wait();
          if (std::optional<Arc<Tracked>> up = weaks[static_cast<std::size_t>(i)].upgrade()) {
            if ((*up)->value() != i) ++bad_values;  // alive and intact, never half-destroyed
            ++upgraded;
          } else {
            ++expired;
          }
        }
      });
    }  // joined
    EXPECT_EQ(bad_values, 0);
    EXPECT_EQ(upgraded + expired, kRounds);
    EXPECT_EQ(tracker.destroyed(), kRounds);  // every value, exactly once, by either thread
    for (const ArcWeak<Tracked>& w : weaks) EXPECT_TRUE(w.expired());
  }
  EXPECT_EQ(tracker.live(), 0);
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(ArcThreadTest, GetMutIsNullWhileOtherThreadsHoldWeaks) {
  constexpr int kThreads = 2;
  auto a = Arc<int>::make(1);
  std::latch holding(kThreads);
  std::latch checked(1);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.push_back(memkit::spawn(
          [&holding, &checked](ArcWeak<int> weak) {
            holding.count_down();
            checked.wait();
            EXPECT_EQ(weak.strong_count(), 1u);
          },
          a.downgrade()));
    }
    holding.wait();
    EXPECT_EQ(a.weak_count(), 2u);
    EXPECT_EQ(a.get_mut(), nullptr);
    checked.count_down();
  }  // joined; the threads' Weaks are gone with them
  EXPECT_EQ(a.weak_count(), 0u);
  ASSERT_NE(a.get_mut(), nullptr);
  *a.get_mut() = 2;
  EXPECT_EQ(*a, 2);
}

TEST(ArcThreadTest, GetMutRacingWithDowngradeNeverSeesAUniqueValue) {
  constexpr int kIterations = 5'000;
  auto a = Arc<int>::make(0);
  std::latch finished(1);
  std::latch release(1);
  int wrongly_unique = 0;
  {
    std::jthread other = memkit::spawn(
        [&finished, &release](Arc<int> mine) {
          for (int i = 0; i < kIterations; ++i) {
            ArcWeak<int> weak = mine.downgrade();
            if (!weak.upgrade().has_value()) ADD_FAILURE() << "upgrade failed while owned";
          }
          finished.count_down();
          release.wait();
        },
        a);
    // While `other` holds its Arc, get_mut() must refuse, however its check interleaves with
    // the other thread's downgrade() (which waits while get_mut holds the weak count).
    while (!finished.try_wait()) {
      if (a.get_mut() != nullptr) ++wrongly_unique;
    }
    EXPECT_EQ(a.get_mut(), nullptr);
    release.count_down();
  }  // joined
  EXPECT_EQ(wrongly_unique, 0);
  EXPECT_EQ(a.strong_count(), 1u);
  EXPECT_EQ(a.weak_count(), 0u);
  EXPECT_NE(a.get_mut(), nullptr);
}

TEST(ArcThreadTest, ArcOfMutexCountsEveryIncrement) {
  constexpr int kThreads = 4;
  constexpr int kIncrements = 10'000;
  auto hits = Arc<Mutex<int>>::make(0);
  {
    std::vector<std::jthread> workers;
    for (int t = 0; t < kThreads; ++t) {
      workers.push_back(memkit::spawn(
          [](Arc<Mutex<int>> counter) {
            for (int i = 0; i < kIncrements; ++i) *counter->lock() += 1;
          },
          hits));
    }
  }  // joined
  EXPECT_EQ(*hits->lock(), kThreads * kIncrements);
  EXPECT_EQ(hits.strong_count(), 1u);
}

}  // namespace
