// Tests of memkit::spawn and memkit::is_send: which values may cross to another thread.
// (That spawn refuses an Rc at compile time is tests/compile_fail/rc_into_thread.cpp.)
#include "memkit/own/thread.h"

#include <gtest/gtest.h>

#include <optional>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "memkit/own/arc.h"
#include "memkit/own/box.h"
#include "memkit/own/cell.h"
#include "memkit/own/mutex.h"
#include "memkit/own/rc.h"
#include "memkit/own/refcell.h"

namespace thread_test {

struct Plain {
  int value;
};

// A type of the program's own that must stay on its thread.
struct SingleThreaded {
  int value;
};

}  // namespace thread_test

template <>
inline constexpr bool memkit::is_send<thread_test::SingleThreaded> = false;

namespace {

using memkit::Arc;
using memkit::ArcWeak;
using memkit::Cell;
using memkit::is_send;
using memkit::Mutex;
using memkit::Rc;
using memkit::RefCell;
using memkit::Weak;
using thread_test::Plain;
using thread_test::SingleThreaded;

// Plain values and Arc are Send.
static_assert(is_send<int>);
static_assert(is_send<Plain>);
static_assert(is_send<Arc<int>>);
static_assert(is_send<ArcWeak<int>>);
static_assert(is_send<Arc<Mutex<int>>>);
static_assert(is_send<RefCell<int>>);
static_assert(is_send<Cell<int>>);
// Rc and Weak are not, and neither is anything that holds one.
static_assert(!is_send<Rc<int>>);
static_assert(!is_send<Weak<int>>);
static_assert(!is_send<Arc<Rc<int>>>);
static_assert(!is_send<ArcWeak<Rc<int>>>);
static_assert(!is_send<RefCell<Rc<int>>>);
static_assert(!is_send<std::optional<Rc<int>>>);
static_assert(!is_send<std::vector<Weak<int>>>);
static_assert(!is_send<std::pair<int, Rc<int>>>);
static_assert(is_send<std::pair<int, Arc<int>>>);
static_assert(!is_send<std::tuple<int, Arc<int>, Weak<int>>>);
static_assert(is_send<std::tuple<int, Arc<int>>>);
// Sharing through Arc needs Sync: a RefCell or Cell counts without atomics, a Mutex locks.
static_assert(!is_send<Arc<RefCell<int>>>);
static_assert(!is_send<Arc<Cell<int>>>);
static_assert(!is_send<ArcWeak<RefCell<int>>>);
static_assert(is_send<Arc<Mutex<RefCell<int>>>>);
static_assert(!is_send<Mutex<Rc<int>>>);
static_assert(!is_send<memkit::Box<Rc<int>>>);
static_assert(is_send<memkit::Box<int>>);
// A program's own declaration counts too.
static_assert(!is_send<SingleThreaded>);
static_assert(!is_send<std::vector<SingleThreaded>>);
static_assert(!is_send<Arc<SingleThreaded>>);

TEST(SpawnTest, RunsTheFunctionWithAnArcArgumentOnAnotherThread) {
  auto shared = Arc<Mutex<int>>::make(0);
  std::thread::id worker_id;
  std::jthread worker = memkit::spawn(
      [&worker_id](Arc<Mutex<int>> counter) {
        worker_id = std::this_thread::get_id();
        *counter->lock() += 1;
      },
      shared);
  worker.join();
  EXPECT_EQ(*shared->lock(), 1);
  EXPECT_NE(worker_id, std::this_thread::get_id());
  EXPECT_NE(worker_id, std::thread::id());
  EXPECT_EQ(shared.strong_count(), 1u);  // the thread's copy died with the thread
}

TEST(SpawnTest, TheReturnedThreadJoinsWhenItGoesOutOfScope) {
  auto shared = Arc<Mutex<int>>::make(0);
  {
    auto worker =
        memkit::spawn([](Arc<Mutex<int>> counter, int by) { *counter->lock() += by; }, shared, 5);
  }
  EXPECT_EQ(*shared->lock(), 5);
}

}  // namespace
