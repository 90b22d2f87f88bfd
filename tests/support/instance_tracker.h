// support/instance_tracker.h — a value type that counts its own lives (after Abseil's
// test_instance_tracker.h), for tests that assert exactly how often an owner constructs, copies,
// moves and destroys what it owns.
//
//   memkit::testing::InstanceTracker tracker;   // counts from zero
//   {
//     auto box = Box<Tracked>::make(7);
//     EXPECT_EQ(tracker.live(), 1);
//   }
//   EXPECT_EQ(tracker.destroyed(), 1);
//   EXPECT_EQ(tracker.copied(), 0);
//
// The counters are global relaxed atomics, so Tracked values may live and die on any thread.
// An InstanceTracker resets them when it is made and, when it goes away, fails the current test
// if a Tracked made during its life is still alive (a leak, or a double destruction).
#ifndef MEMKIT_TESTS_SUPPORT_INSTANCE_TRACKER_H_
#define MEMKIT_TESTS_SUPPORT_INSTANCE_TRACKER_H_

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>

#include "support/counting_new.h"

namespace memkit::testing {

// A snapshot of Tracked's counters. `live` is constructed - destroyed since the last reset, where
// `constructed` counts every constructor, copies and moves included.
struct TrackedCounts {
  std::int64_t constructed = 0;
  std::int64_t copied = 0;  // copy constructions and copy assignments
  std::int64_t moved = 0;   // move constructions and move assignments
  std::int64_t destroyed = 0;
  std::int64_t live = 0;
};

// Tracked — an int that counts. A moved-from Tracked holds kMovedFrom; a destroyed one holds
// kDestroyed (a check for use after destruction that needs no sanitizer).
class Tracked {
 public:
  static constexpr int kMovedFrom = -1;
  static constexpr int kDestroyed = -2;

  Tracked() noexcept : Tracked(0) {}
  explicit Tracked(int value) noexcept : value_(value) { born(); }
  Tracked(const Tracked& other) noexcept : value_(other.value_) {
    born();
    add(copied_);
  }
  Tracked(Tracked&& other) noexcept : value_(other.value_) {
    other.value_ = kMovedFrom;
    born();
    add(moved_);
  }
  Tracked& operator=(const Tracked& other) noexcept {
    value_ = other.value_;
    add(copied_);
    return *this;
  }
  Tracked& operator=(Tracked&& other) noexcept {
    value_ = other.value_;
    if (this != &other) other.value_ = kMovedFrom;
    add(moved_);
    return *this;
  }
  ~Tracked() {
    value_ = kDestroyed;
    add(destroyed_);
  }

  int value() const noexcept { return value_; }
  void set_value(int value) noexcept { value_ = value; }

  friend bool operator==(const Tracked& a, const Tracked& b) noexcept {
    return a.value_ == b.value_;
  }

  static TrackedCounts counts() noexcept {
    TrackedCounts c;
    c.constructed = constructed_.load(std::memory_order_relaxed);
    c.copied = copied_.load(std::memory_order_relaxed);
    c.moved = moved_.load(std::memory_order_relaxed);
    c.destroyed = destroyed_.load(std::memory_order_relaxed);
    c.live = c.constructed - c.destroyed;
    return c;
  }

  // reset() — every counter back to zero. Call it only while no Tracked is alive.
  static void reset() noexcept {
    constructed_.store(0, std::memory_order_relaxed);
    copied_.store(0, std::memory_order_relaxed);
    moved_.store(0, std::memory_order_relaxed);
    destroyed_.store(0, std::memory_order_relaxed);
  }

 private:
  // Counts a construction. The address escapes, so that a heap block holding a Tracked is never
  // optimized away: the tests that count Tracked values count their allocations too.
  void born() noexcept {
    add(constructed_);
    escape(this);
  }

  static void add(std::atomic<std::int64_t>& counter) noexcept {
    counter.fetch_add(1, std::memory_order_relaxed);
  }

  static inline std::atomic<std::int64_t> constructed_{0};
  static inline std::atomic<std::int64_t> copied_{0};
  static inline std::atomic<std::int64_t> moved_{0};
  static inline std::atomic<std::int64_t> destroyed_{0};

  int value_;
};

// InstanceTracker — resets Tracked's counters for one test and checks, at its end, that every
// Tracked made meanwhile was destroyed exactly once.
class InstanceTracker {
 public:
  InstanceTracker() noexcept { Tracked::reset(); }
  InstanceTracker(const InstanceTracker&) = delete;
  InstanceTracker& operator=(const InstanceTracker&) = delete;
  ~InstanceTracker() {
    EXPECT_EQ(live(), 0) << "Tracked instances leaked (> 0) or destroyed twice (< 0)";
  }

  std::int64_t constructed() const noexcept { return Tracked::counts().constructed; }
  std::int64_t copied() const noexcept { return Tracked::counts().copied; }
  std::int64_t moved() const noexcept { return Tracked::counts().moved; }
  std::int64_t destroyed() const noexcept { return Tracked::counts().destroyed; }
  std::int64_t live() const noexcept { return Tracked::counts().live; }

  void reset() noexcept { Tracked::reset(); }
};

}  // namespace memkit::testing

#endif  // MEMKIT_TESTS_SUPPORT_INSTANCE_TRACKER_H_
