// Tests of memkit::Mutex<T> and MutexGuard<T>: the data is reachable only through a guard, the
// guard is the lock, and (in debug builds) relocking from the holding thread throws Deadlock.
#include "memkit/own/mutex.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "memkit/base/config.h"
#include "memkit/base/error.h"
#include "memkit/own/drop.h"
#include "support/instance_tracker.h"
#include "support/throws.h"

namespace {

using memkit::Mutex;
using memkit::MutexGuard;
using memkit::testing::InstanceTracker;
using memkit::testing::ThrowsUseAfterMove;
using memkit::testing::Tracked;
using memkit::testing::what_of;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// Whether another thread can take the lock right now (try_lock from this thread would be a
// Deadlock error in debug builds, so ask a fresh thread).
template <class T>
bool free_for_another_thread(const Mutex<T>& mutex) {
  bool acquired = false;
  std::thread([&] { acquired = mutex.try_lock().has_value(); }).join();
  return acquired;
}

TEST(MutexTest, LockGivesTheData) {
  Mutex<std::vector<int>> queue;
  {
    MutexGuard<std::vector<int>> jobs = queue.lock();
    jobs->push_back(1);
    (*jobs).push_back(2);
  }
  EXPECT_EQ(queue.lock()->size(), 2u);
}

TEST(MutexTest, TheGuardHoldsTheLock) {
  Mutex<int> mutex(0);
  {
    auto guard = mutex.lock();
    EXPECT_FALSE(free_for_another_thread(mutex));
  }
  EXPECT_TRUE(free_for_another_thread(mutex));
}

TEST(MutexTest, TryLockIsNulloptWhileAnotherThreadHoldsTheLock) {
  Mutex<int> mutex(1);
  std::optional<MutexGuard<int>> guard = mutex.try_lock();
  ASSERT_TRUE(guard.has_value());
  **guard = 2;
  EXPECT_FALSE(free_for_another_thread(mutex));
  guard.reset();
  EXPECT_TRUE(free_for_another_thread(mutex));
  EXPECT_EQ(*mutex.lock(), 2);
}

TEST(MutexTest, WithLockReturnsWhatTheFunctionReturns) {
  Mutex<std::string> mutex(std::string("ab"));
  const std::size_t size = mutex.with_lock([](std::string& s) {
    s += "c";
    return s.size();
  });
  EXPECT_EQ(size, 3u);
  EXPECT_EQ(*mutex.lock(), "abc");
  EXPECT_TRUE(free_for_another_thread(mutex));  // released after the call
}

TEST(MutexTest, WorksThroughAConstMutex) {
  const Mutex<int> mutex(1);
  *mutex.lock() += 1;
  EXPECT_EQ(mutex.with_lock([](int& n) { return n; }), 2);
}

TEST(MutexTest, InPlaceConstruction) {
  Mutex<std::string> mutex(std::in_place, 3, 'x');
  EXPECT_EQ(*mutex.lock(), "xxx");
}

TEST(MutexTest, IntoInnerMovesTheDataOut) {
  InstanceTracker tracker;
  Mutex<Tracked> mutex(std::in_place, 5);
  Tracked value = std::move(mutex).into_inner();
  EXPECT_EQ(value.value(), 5);
  EXPECT_EQ(tracker.copied(), 0);
  EXPECT_EQ(tracker.moved(), 1);
}

TEST(MutexTest, MovingAGuardMovesTheLock) {
  Mutex<int> mutex(1);
  MutexGuard<int> first = mutex.lock();
  MutexGuard<int> second = std::move(first);
  EXPECT_FALSE(free_for_another_thread(mutex));  // still locked, by `second`
  *second = 2;
  memkit::drop(std::move(second));
  EXPECT_TRUE(free_for_another_thread(mutex));
  EXPECT_EQ(*mutex.lock(), 2);
}

TEST(MutexTest, MoveAssigningAGuardReleasesItsOldLock) {
  Mutex<int> a(1);
  Mutex<int> b(2);
  MutexGuard<int> guard = a.lock();
  guard = b.lock();
  EXPECT_TRUE(free_for_another_thread(a));
  EXPECT_FALSE(free_for_another_thread(b));
  EXPECT_EQ(*guard, 2);
}

TEST(MutexTest, MovedFromGuardThrowsUseAfterMove) {
  Mutex<int> mutex(1);
  MutexGuard<int> guard = mutex.lock();
  MutexGuard<int> keep = std::move(guard);
  const std::string type = "memkit::MutexGuard<int>";
  EXPECT_THAT([&] { (void)*guard; }, ThrowsUseAfterMove(type, "operator*"));
  EXPECT_THAT([&] { (void)guard.operator->(); }, ThrowsUseAfterMove(type, "operator->"));
  EXPECT_EQ(*keep, 1);
}

TEST(MutexTest, NameNamesTheData) { EXPECT_EQ(Mutex<int>::name(), "memkit::Mutex<int>"); }

#if MEMKIT_DEBUG

TEST(MutexDebugTest, RelockingFromTheHoldingThreadThrowsDeadlock) {
  Mutex<int> mutex(1);
  MutexGuard<int> guard = mutex.lock();
  EXPECT_THAT(what_of<memkit::Deadlock>([&] { (void)mutex.lock(); }),
              MatchesRegex("memkit::Mutex<int>: lock\\(\\) on thread [0-9]+, which already holds "
                           "the lock \\(it would wait for itself forever\\)"));
  EXPECT_THAT(what_of<memkit::Deadlock>([&] { (void)mutex.try_lock(); }),
              HasSubstr("memkit::Mutex<int>: try_lock() on thread "));
  EXPECT_THAT(what_of<memkit::Deadlock>([&] { mutex.with_lock([](int&) {}); }),
              HasSubstr("memkit::Mutex<int>: lock() on thread "));
  EXPECT_EQ(*guard, 1);  // the refused attempts left the lock held, and only once
  memkit::drop(std::move(guard));
  EXPECT_NO_THROW(*mutex.lock() = 2);  // released: locking again is fine
}

TEST(MutexDebugTest, AnotherThreadWaitsInsteadOfThrowing) {
  Mutex<int> mutex(0);
  MutexGuard<int> guard = mutex.lock();
  std::thread other([&] { *mutex.lock() += 1; });  // blocks until the guard goes
  *guard = 10;
  memkit::drop(std::move(guard));
  other.join();
  EXPECT_EQ(*mutex.lock(), 11);
}

#endif  // MEMKIT_DEBUG

}  // namespace
