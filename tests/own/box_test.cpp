// Tests of memkit::Box<T> and Box<T[]>: sole ownership, exact lifetimes and allocations, and the
// UseAfterMove contract of an empty Box. Also the test helpers themselves (counting operator new,
// instance tracker) and type_name(), which names the types in every message.
#include "memkit/own/box.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "memkit/base/error.h"
#include "memkit/base/type_name.h"
#include "memkit/own/drop.h"
#include "support/counting_new.h"
#include "support/instance_tracker.h"
#include "support/throws.h"

// Types named in messages live in a named namespace, so their names are the same on every
// compiler ("box_test::Shape"; an anonymous namespace is spelled differently by g++ and clang).
namespace box_test {

struct Point {
  int x;
  int y;
};

class Shape {
 public:
  virtual ~Shape() = default;
  virtual int sides() const = 0;
};

class Triangle : public Shape {
 public:
  explicit Triangle(int id) : tracked_(id) {}
  int sides() const override { return 3; }
  int id() const { return tracked_.value(); }

 private:
  memkit::testing::Tracked tracked_;
};

struct alignas(64) CacheLine {
  unsigned char bytes[64];
};

struct ConstructionFailed {};

struct ThrowsOnConstruct {
  explicit ThrowsOnConstruct(int value) : tracked(value) { throw ConstructionFailed{}; }
  memkit::testing::Tracked tracked;
};

// A cons list: Box gives the recursive type a finite size.
struct List {
  int head;
  std::optional<memkit::Box<List>> tail;
};

int sum(const List& list) { return list.head + (list.tail ? sum(**list.tail) : 0); }

// The pimpl idiom: in a real program this class is in a header that never sees Impl.
class Widget {
 public:
  explicit Widget(int value);
  Widget(Widget&&) noexcept;
  Widget& operator=(Widget&&) noexcept;
  ~Widget();  // defined below, where Impl is complete

  int value() const;

 private:
  struct Impl;
  memkit::Box<Impl> impl_;
};

// ... and this is the .cpp file.
struct Widget::Impl {
  memkit::testing::Tracked tracked;
};

Widget::Widget(int value) : impl_(memkit::Box<Impl>::make(Impl{memkit::testing::Tracked(value)})) {}
Widget::Widget(Widget&&) noexcept = default;
Widget& Widget::operator=(Widget&&) noexcept = default;
Widget::~Widget() = default;
int Widget::value() const { return impl_->tracked.value(); }

}  // namespace box_test

namespace {

using box_test::CacheLine;
using box_test::ConstructionFailed;
using box_test::List;
using box_test::Point;
using box_test::Shape;
using box_test::ThrowsOnConstruct;
using box_test::Triangle;
using box_test::Widget;
using memkit::Box;
using memkit::testing::AllocationDelta;
using memkit::testing::escape;
using memkit::testing::InstanceTracker;
using memkit::testing::ThrowsUseAfterMove;
using memkit::testing::Tracked;
using memkit::testing::what_of;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// ---- Box<T> ---------------------------------------------------------------------------------

TEST(BoxTest, MakeConstructsTheValueOnTheHeap) {
  auto box = Box<Point>::make(Point{3, 4});
  EXPECT_TRUE(box.valid());
  EXPECT_EQ(box->x, 3);
  EXPECT_EQ((*box).y, 4);
  EXPECT_EQ(box.get()->x, 3);
  box->x = 30;  // a Box owns its value: it is mutable through a non-const path
  EXPECT_EQ(box.get()->x, 30);
}

TEST(BoxTest, MakeBoxForwardsConstructorArguments) {
  auto box = memkit::make_box<std::string>(3, 'x');
  EXPECT_EQ(*box, "xxx");
}

TEST(BoxTest, MakeBuildsAnAggregateFromItsFields) {
  struct Coords {
    int x, y;
  };
  auto p = memkit::Box<Coords>::make(1, 2);
  EXPECT_EQ(p->x, 1);
  EXPECT_EQ(p->y, 2);
}

TEST(BoxTest, OneAllocationOfExactlyTheValuesSize) {
  AllocationDelta delta;
  {
    auto box = Box<Point>::make(Point{1, 2});
    escape(box.get());
    EXPECT_EQ(delta.allocations(), 1);
    EXPECT_EQ(delta.live_blocks(), 1);
    EXPECT_EQ(delta.live_bytes(), static_cast<std::int64_t>(sizeof(Point)));
  }
  EXPECT_EQ(delta.live_blocks(), 0);
  EXPECT_EQ(delta.live_bytes(), 0);
}

TEST(BoxTest, OverAlignedValueIsAligned) {
  AllocationDelta delta;
  auto box = Box<CacheLine>::make();
  escape(box.get());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(box.get()) % 64, 0u);
  EXPECT_EQ(delta.allocations(), 1);
  EXPECT_EQ(delta.live_bytes(), 64);
}

TEST(BoxTest, DestructorDestroysTheValueExactlyOnce) {
  InstanceTracker tracker;
  {
    auto box = Box<Tracked>::make(7);
    EXPECT_EQ(tracker.constructed(), 1);
    EXPECT_EQ(tracker.live(), 1);
    EXPECT_EQ(box->value(), 7);
  }
  EXPECT_EQ(tracker.destroyed(), 1);
  EXPECT_EQ(tracker.copied(), 0);
  EXPECT_EQ(tracker.moved(), 0);
}

TEST(BoxTest, MoveTransfersOwnershipWithoutTouchingTheValue) {
  InstanceTracker tracker;
  AllocationDelta delta;
  auto first = Box<Tracked>::make(5);
  Tracked* address = first.get();
  Box<Tracked> second = std::move(first);
  EXPECT_FALSE(first.valid());  // moved from: empty
  EXPECT_TRUE(second.valid());
  EXPECT_EQ(second.get(), address);
  EXPECT_EQ(second->value(), 5);
  EXPECT_EQ(tracker.moved(), 0);
  EXPECT_EQ(tracker.constructed(), 1);
  EXPECT_EQ(delta.allocations(), 1);
}

TEST(BoxTest, MoveAssignmentDestroysTheOldValue) {
  InstanceTracker tracker;
  auto target = Box<Tracked>::make(1);
  auto source = Box<Tracked>::make(2);
  target = std::move(source);
  EXPECT_EQ(tracker.destroyed(), 1);  // the 1
  EXPECT_EQ(target->value(), 2);
  EXPECT_FALSE(source.valid());
}

// A node that owns the next one; the last node's list is empty.
struct ChainNode {
  int value;
  std::vector<Box<ChainNode>> next;
};

TEST(BoxTest, MoveAssignmentFromAValueTheOldValueOwns) {
  AllocationDelta delta;
  auto head = Box<ChainNode>::make(0);
  for (int i = 1; i < 3; ++i) {
    auto node = Box<ChainNode>::make(i);
    node->next.push_back(std::move(head));
    head = std::move(node);
  }
  EXPECT_EQ(head->value, 2);
  // Walking down by assignment: the new value lives inside the old one, which must not be
  // destroyed before the new value has been taken out of it.
  head = std::move(head->next.front());
  EXPECT_EQ(head->value, 1);
  head = std::move(head->next.front());
  EXPECT_EQ(head->value, 0);
  EXPECT_TRUE(head->next.empty());
  memkit::drop(std::move(head));
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(BoxTest, SelfMoveAssignmentKeepsTheValue) {
  InstanceTracker tracker;
  auto box = Box<Tracked>::make(4);
  Box<Tracked>& alias = box;
  box = std::move(alias);
  EXPECT_TRUE(box.valid());
  EXPECT_EQ(box->value(), 4);
  EXPECT_EQ(tracker.destroyed(), 0);
}

TEST(BoxTest, EmptyBoxIsNotValidAndEveryOperationThrowsUseAfterMove) {
  auto box = Box<int>::make(1);
  auto other = std::move(box);
  ASSERT_FALSE(box.valid());

  const std::string type = "memkit::Box<int>";
  EXPECT_THAT([&] { (void)*box; }, ThrowsUseAfterMove(type, "operator*"));
  EXPECT_THAT([&] { (void)box.operator->(); }, ThrowsUseAfterMove(type, "operator->"));
  EXPECT_THAT([&] { (void)box.get(); }, ThrowsUseAfterMove(type, "get()"));
  EXPECT_THAT([&] { (void)box.clone(); }, ThrowsUseAfterMove(type, "clone()"));
  EXPECT_THAT([&] { (void)std::move(box).leak(); }, ThrowsUseAfterMove(type, "leak()"));
  EXPECT_THAT([&] { (void)std::move(box).into_raw(); }, ThrowsUseAfterMove(type, "into_raw()"));
  EXPECT_EQ(*other, 1);
}

TEST(BoxTest, GetUncheckedReadsTheValueAndStillChecksInDebugBuilds) {
  auto box = Box<int>::make(7);
  EXPECT_EQ(box.get_unchecked(), 7);
  box.get_unchecked() = 8;
  EXPECT_EQ(*box, 8);
  if constexpr (MEMKIT_DEBUG) {
    auto other = std::move(box);
    EXPECT_THAT([&] { (void)box.get_unchecked(); },
                ThrowsUseAfterMove("memkit::Box<int>", "get_unchecked()"));
  }
}

TEST(BoxTest, UseAfterMoveMessageIsExact) {
  auto box = Box<int>::make(1);
  auto other = std::move(box);
  EXPECT_EQ(what_of<memkit::UseAfterMove>([&] { (void)*box; }),
            "use after move: operator* on an empty memkit::Box<int> (its value was moved out, "
            "leaked or released with into_raw)");
}

TEST(BoxTest, UseAfterMoveNamesTheValueType) {
  auto box = Box<Point>::make(Point{1, 2});
  auto other = std::move(box);
  EXPECT_THAT([&] { (void)box->x; },
              ThrowsUseAfterMove("memkit::Box<box_test::Point>", "operator->"));
}

TEST(BoxTest, EmptyBoxCanBeGivenANewValue) {
  auto box = Box<int>::make(1);
  auto other = std::move(box);
  box = Box<int>::make(2);  // reassignment revives it
  EXPECT_TRUE(box.valid());
  EXPECT_EQ(*box, 2);
}

TEST(BoxTest, LeakGivesUpOwnership) {
  InstanceTracker tracker;
  AllocationDelta delta;
  auto box = Box<Tracked>::make(9);
  Tracked& forever = std::move(box).leak();
  EXPECT_FALSE(box.valid());
  EXPECT_EQ(forever.value(), 9);
  EXPECT_EQ(tracker.destroyed(), 0);
  EXPECT_EQ(delta.live_blocks(), 1);

  // Take it back so that nothing really leaks (and LeakSanitizer stays quiet).
  memkit::drop(Box<Tracked>::from_raw(&forever));
  EXPECT_EQ(tracker.destroyed(), 1);
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(BoxTest, IntoRawAndFromRawRoundTrip) {
  InstanceTracker tracker;
  AllocationDelta delta;
  auto box = Box<Tracked>::make(11);
  Tracked* const address = box.get();

  Tracked* raw = std::move(box).into_raw();
  EXPECT_EQ(raw, address);
  EXPECT_FALSE(box.valid());
  EXPECT_EQ(tracker.live(), 1);

  auto back = Box<Tracked>::from_raw(raw);
  EXPECT_EQ(back.get(), address);
  EXPECT_EQ(back->value(), 11);
  EXPECT_EQ(delta.allocations(), 1);
  EXPECT_EQ(tracker.constructed(), 1);
}

TEST(BoxTest, FromRawNullThrowsNullPointer) {
  EXPECT_EQ(what_of<memkit::NullPointer>([] { (void)Box<int>::from_raw(nullptr); }),
            "memkit::Box<int>: from_raw() was given a null pointer");
}

TEST(BoxTest, CloneCopiesTheValueIntoANewBox) {
  InstanceTracker tracker;
  AllocationDelta delta;
  auto original = Box<Tracked>::make(3);
  auto copy = original.clone();
  EXPECT_EQ(tracker.copied(), 1);
  EXPECT_EQ(delta.allocations(), 2);
  EXPECT_NE(copy.get(), original.get());
  EXPECT_EQ(copy->value(), 3);

  copy->set_value(4);  // independent values
  EXPECT_EQ(original->value(), 3);
  EXPECT_EQ(copy->value(), 4);
}

TEST(BoxTest, BoxOfDerivedConvertsToBoxOfBaseAndDestroysTheDerived) {
  InstanceTracker tracker;
  AllocationDelta delta;
  {
    auto triangle = Box<Triangle>::make(21);
    Triangle* address = triangle.get();
    Box<Shape> shape = std::move(triangle);
    EXPECT_FALSE(triangle.valid());
    EXPECT_EQ(shape.get(), address);
    EXPECT_EQ(shape->sides(), 3);
    EXPECT_EQ(tracker.live(), 1);
  }
  EXPECT_EQ(tracker.destroyed(), 1);  // ~Triangle ran, through ~Shape
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(BoxTest, ConvertingAnEmptyBoxGivesAnEmptyBox) {
  auto triangle = Box<Triangle>::make(1);
  auto keep = std::move(triangle);
  Box<Shape> shape = std::move(triangle);
  EXPECT_FALSE(shape.valid());
  EXPECT_THAT([&] { (void)shape->sides(); },
              ThrowsUseAfterMove("memkit::Box<box_test::Shape>", "operator->"));
}

TEST(BoxTest, WorksForAnIncompleteTypeThroughPimpl) {
  InstanceTracker tracker;
  AllocationDelta delta;
  {
    Widget widget(8);
    EXPECT_EQ(widget.value(), 8);
    Widget moved = std::move(widget);
    EXPECT_EQ(moved.value(), 8);
    EXPECT_EQ(tracker.live(), 1);
    EXPECT_EQ(delta.live_blocks(), 1);
  }
  EXPECT_EQ(tracker.live(), 0);
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(BoxTest, GivesARecursiveTypeAFiniteSize) {
  AllocationDelta delta;
  {
    auto list = Box<List>::make(List{1, Box<List>::make(List{2, Box<List>::make(List{3, {}})})});
    escape(list.get());
    EXPECT_EQ(sum(*list), 6);
    EXPECT_EQ(delta.live_blocks(), 3);
  }
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(BoxTest, DropDestroysTheValueImmediately) {
  InstanceTracker tracker;
  AllocationDelta delta;
  auto box = Box<Tracked>::make(6);
  memkit::drop(std::move(box));
  EXPECT_EQ(tracker.destroyed(), 1);
  EXPECT_EQ(delta.live_blocks(), 0);
  EXPECT_FALSE(box.valid());
  EXPECT_THAT([&] { (void)*box; },
              ThrowsUseAfterMove("memkit::Box<memkit::testing::Tracked>", "operator*"));
}

TEST(BoxTest, ExceptionFromTheConstructorLeaksNothing) {
  InstanceTracker tracker;
  AllocationDelta delta;
  EXPECT_THROW((void)Box<ThrowsOnConstruct>::make(1), ConstructionFailed);
  EXPECT_EQ(delta.allocations(), 1);
  EXPECT_EQ(delta.live_blocks(), 0);
  EXPECT_EQ(tracker.constructed(), 1);  // the member, destroyed during unwinding
  EXPECT_EQ(tracker.destroyed(), 1);
}

// ---- Box<T[]> -------------------------------------------------------------------------------

TEST(BoxArrayTest, MakeValueInitializesEveryElement) {
  auto numbers = Box<int[]>::make(4);
  ASSERT_EQ(numbers.size(), 4u);
  for (int n : numbers) EXPECT_EQ(n, 0);
  numbers[0] = 1;
  numbers[3] = 4;
  EXPECT_EQ(std::accumulate(numbers.begin(), numbers.end(), 0), 5);
  EXPECT_EQ(numbers.end() - numbers.begin(), 4);
}

TEST(BoxArrayTest, SpanViewsTheElements) {
  auto numbers = Box<int[]>::make(3);
  std::span<int> elements = numbers.span();
  EXPECT_EQ(elements.size(), 3u);
  EXPECT_EQ(elements.data(), numbers.begin());
  elements[1] = 42;
  EXPECT_EQ(numbers[1], 42);
}

TEST(BoxArrayTest, OutOfBoundsIndexThrowsWithIndexAndSize) {
  auto numbers = Box<int[]>::make(4);
  EXPECT_THAT([&] { (void)numbers[4]; }, ::testing::Throws<memkit::OutOfBounds>(::testing::AllOf(
                                             ::testing::Property(&memkit::OutOfBounds::index, 4u),
                                             ::testing::Property(&memkit::OutOfBounds::size, 4u))));
  const std::string message = what_of<memkit::OutOfBounds>([&] { (void)numbers[100]; });
  EXPECT_THAT(message, StartsWith(std::string(memkit::type_name<Box<int[]>>()) + ": "));
  EXPECT_THAT(message, StartsWith("memkit::Box<int"));
  EXPECT_THAT(message, HasSubstr(": operator[] index 100 is out of bounds for size 4"));
}

TEST(BoxArrayTest, OneAllocationAndEveryElementDestroyedOnce) {
  InstanceTracker tracker;
  AllocationDelta delta;
  {
    auto values = Box<Tracked[]>::make(5);
    EXPECT_EQ(delta.allocations(), 1);
    EXPECT_EQ(tracker.constructed(), 5);
    EXPECT_EQ(values[4].value(), 0);
  }
  EXPECT_EQ(tracker.destroyed(), 5);
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(BoxArrayTest, MoveLeavesAnEmptyArrayThatThrows) {
  auto numbers = Box<int[]>::make(2);
  auto other = std::move(numbers);
  EXPECT_FALSE(numbers.valid());
  EXPECT_EQ(other.size(), 2u);

  const std::string type(memkit::type_name<Box<int[]>>());
  EXPECT_THAT([&] { (void)numbers[0]; }, ThrowsUseAfterMove(type, "operator[]"));
  EXPECT_THAT([&] { (void)numbers.size(); }, ThrowsUseAfterMove(type, "size()"));
  EXPECT_THAT([&] { (void)numbers.span(); }, ThrowsUseAfterMove(type, "span()"));
  EXPECT_THAT([&] { (void)numbers.begin(); }, ThrowsUseAfterMove(type, "begin()"));
  EXPECT_THAT([&] { (void)numbers.end(); }, ThrowsUseAfterMove(type, "end()"));
  EXPECT_THAT([&] { (void)std::move(numbers).into_raw(); }, ThrowsUseAfterMove(type, "into_raw()"));
}

TEST(BoxArrayTest, MoveAssignmentFreesTheOldArray) {
  InstanceTracker tracker;
  AllocationDelta delta;
  auto target = Box<Tracked[]>::make(2);
  auto source = Box<Tracked[]>::make(3);
  target = std::move(source);
  EXPECT_EQ(tracker.destroyed(), 2);
  EXPECT_EQ(target.size(), 3u);
  EXPECT_EQ(delta.live_blocks(), 1);
}

TEST(BoxArrayTest, IntoRawAndFromRawRoundTrip) {
  AllocationDelta delta;
  auto numbers = Box<int[]>::make(3);
  escape(numbers.begin());
  numbers[2] = 7;
  int* const address = numbers.begin();

  std::span<int> raw = std::move(numbers).into_raw();
  EXPECT_FALSE(numbers.valid());
  EXPECT_EQ(raw.data(), address);
  EXPECT_EQ(raw.size(), 3u);
  EXPECT_EQ(delta.live_blocks(), 1);

  auto back = Box<int[]>::from_raw(raw);
  EXPECT_EQ(back.size(), 3u);
  EXPECT_EQ(back[2], 7);
  EXPECT_EQ(delta.allocations(), 1);
}

TEST(BoxArrayTest, FromRawOfANullSpanThrowsNullPointer) {
  const std::string message =
      what_of<memkit::NullPointer>([] { (void)Box<int[]>::from_raw(std::span<int>{}); });
  EXPECT_THAT(message, StartsWith("memkit::Box<int"));
  EXPECT_THAT(message, HasSubstr(": from_raw() was given a null pointer"));
}

// ---- type_name ------------------------------------------------------------------------------

TEST(TypeNameTest, NamesTypesAsWrittenInSource) {
  static_assert(memkit::type_name<int>() == "int");
  EXPECT_EQ(memkit::type_name<int>(), "int");
  EXPECT_EQ(memkit::type_name<Point>(), "box_test::Point");
  EXPECT_EQ(memkit::type_name<std::vector<int>>(), "std::vector<int>");
  EXPECT_EQ(memkit::type_name<Box<Point>>(), "memkit::Box<box_test::Point>");
}

// ---- the test helpers themselves ------------------------------------------------------------

TEST(CountingNewTest, CountsEveryFormOfNewAndDelete) {
  AllocationDelta delta;
  int* one = new int(1);
  int* many = new int[3]{};
  auto* aligned = new CacheLine;
  int* nothrow = new (std::nothrow) int(2);
  for (const void* p : {static_cast<const void*>(one), static_cast<const void*>(many),
                        static_cast<const void*>(aligned), static_cast<const void*>(nothrow)}) {
    escape(p);  // or the compiler may elide the new/delete pairs
  }
  EXPECT_EQ(delta.allocations(), 4);
  EXPECT_EQ(delta.live_blocks(), 4);
  EXPECT_EQ(delta.live_bytes(), static_cast<std::int64_t>(sizeof(int) + 3 * sizeof(int) +
                                                          sizeof(CacheLine) + sizeof(int)));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(aligned) % alignof(CacheLine), 0u);
  delete one;
  delete[] many;
  delete aligned;
#if __cpp_sized_deallocation
  ::operator delete(nothrow, sizeof(int));  // sized delete, as the compiler would emit it
#else
  ::operator delete(nothrow);  // clang without -fsized-deallocation
#endif
  EXPECT_EQ(delta.live_blocks(), 0);
  EXPECT_EQ(delta.live_bytes(), 0);
  EXPECT_EQ(delta.allocations(), 4);
}

TEST(CountingNewTest, ExplicitAlignedFormsRoundTrip) {
  AllocationDelta delta;
  void* p = ::operator new (100, std::align_val_t{256});
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 256, 0u);
  void* q = ::operator new[](1, std::align_val_t{32}, std::nothrow);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(q) % 32, 0u);
  EXPECT_EQ(delta.live_bytes(), 101);
#if __cpp_sized_deallocation
  ::operator delete (p, 100, std::align_val_t{256});
#else
  ::operator delete (p, std::align_val_t{256});
#endif
  ::operator delete[](q, std::align_val_t{32});
  EXPECT_EQ(delta.live_blocks(), 0);
  EXPECT_EQ(delta.live_bytes(), 0);
}

TEST(CountingNewTest, ZeroSizedAllocationsAreDistinct) {
  AllocationDelta delta;
  void* a = ::operator new(0);
  void* b = ::operator new(0);
  EXPECT_NE(a, nullptr);
  EXPECT_NE(a, b);
  EXPECT_EQ(delta.live_blocks(), 2);
  ::operator delete(a);
  ::operator delete(b);
  EXPECT_EQ(delta.live_blocks(), 0);
}

TEST(InstanceTrackerTest, CountsEveryKindOfLife) {
  InstanceTracker tracker;
  {
    Tracked a(1);
    Tracked b = a;             // copy
    Tracked c = std::move(a);  // move
    EXPECT_EQ(a.value(), Tracked::kMovedFrom);
    b = c;             // copy assignment
    c = std::move(b);  // move assignment
    EXPECT_EQ(tracker.constructed(), 3);
    EXPECT_EQ(tracker.copied(), 2);
    EXPECT_EQ(tracker.moved(), 2);
    EXPECT_EQ(tracker.live(), 3);
    EXPECT_EQ(c.value(), 1);
  }
  EXPECT_EQ(tracker.destroyed(), 3);
  EXPECT_EQ(tracker.live(), 0);
}

}  // namespace
