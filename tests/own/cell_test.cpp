// Tests of memkit::Cell<T>: copy-in, copy-out interior mutability, with no overhead in size.
#include "memkit/own/cell.h"

#include <gtest/gtest.h>

#include <type_traits>

#include "memkit/own/rc.h"

namespace cell_test {

struct Point {
  int x = 0;
  int y = 0;
};

}  // namespace cell_test

namespace {

using cell_test::Point;
using memkit::Cell;

static_assert(sizeof(Cell<int>) == sizeof(int));
static_assert(sizeof(Cell<Point>) == sizeof(Point));
static_assert(alignof(Cell<double>) == alignof(double));
static_assert(std::is_trivially_copyable_v<Point>);

TEST(CellTest, GetAndSet) {
  Cell<int> cell(1);
  EXPECT_EQ(cell.get(), 1);
  cell.set(2);
  EXPECT_EQ(cell.get(), 2);
}

TEST(CellTest, DefaultConstructedHoldsTheDefault) {
  Cell<int> number;
  Cell<Point> point;
  EXPECT_EQ(number.get(), 0);
  EXPECT_EQ(point.get().x, 0);
  EXPECT_EQ(point.get().y, 0);
}

TEST(CellTest, ReplaceReturnsTheOldValue) {
  Cell<int> cell(5);
  EXPECT_EQ(cell.replace(6), 5);
  EXPECT_EQ(cell.get(), 6);
}

TEST(CellTest, TakeLeavesTheDefault) {
  Cell<int> cell(5);
  EXPECT_EQ(cell.take(), 5);
  EXPECT_EQ(cell.get(), 0);
}

TEST(CellTest, UpdateStoresAndReturnsTheNewValue) {
  Cell<int> cell(5);
  EXPECT_EQ(cell.update([](int n) { return n * 2; }), 10);
  EXPECT_EQ(cell.get(), 10);
}

TEST(CellTest, SwapExchangesTheValues) {
  Cell<int> a(1);
  Cell<int> b(2);
  a.swap(b);
  EXPECT_EQ(a.get(), 2);
  EXPECT_EQ(b.get(), 1);
  a.swap(a);
  EXPECT_EQ(a.get(), 2);
}

TEST(CellTest, EveryOperationWorksThroughAConstCell) {
  const Cell<int> cell(1);
  cell.set(2);
  EXPECT_EQ(cell.get(), 2);
  EXPECT_EQ(cell.replace(3), 2);
  EXPECT_EQ(cell.update([](int n) { return n + 1; }), 4);
  EXPECT_EQ(cell.take(), 4);
  const Cell<int> other(9);
  cell.swap(other);
  EXPECT_EQ(cell.get(), 9);
  EXPECT_EQ(other.get(), 0);
}

TEST(CellTest, CopiesAreIndependent) {
  Cell<Point> a(Point{1, 2});
  Cell<Point> b = a;
  b.set(Point{3, 4});
  EXPECT_EQ(a.get().x, 1);
  EXPECT_EQ(b.get().x, 3);
  a = b;
  EXPECT_EQ(a.get().y, 4);
}

TEST(CellTest, ChangesASharedValue) {
  struct Counter {
    Cell<int> hits;
  };
  auto counter = memkit::Rc<Counter>::make();
  memkit::Rc<Counter> other_owner = counter;
  counter->hits.set(counter->hits.get() + 1);
  other_owner->hits.update([](int n) { return n * 10; });
  EXPECT_EQ(counter->hits.get(), 10);
}

}  // namespace
