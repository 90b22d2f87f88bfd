// Tests of memkit::RefCell<T>, Ref<T> and RefMut<T>: Rust's borrow rule checked at run time, the
// messages that explain a conflict (down to the line of the conflicting borrow in debug builds),
// and Result<T, E>, which the try_ forms return.
#include "memkit/own/refcell.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "memkit/base/config.h"
#include "memkit/base/error.h"
#include "memkit/base/result.h"
#include "memkit/own/drop.h"
#include "memkit/own/rc.h"
#include "support/instance_tracker.h"
#include "support/throws.h"

namespace refcell_test {

struct Player {
  int score = 0;
  std::string name;
};

}  // namespace refcell_test

namespace {

using memkit::BorrowError;
using memkit::BorrowMutError;
using memkit::Ref;
using memkit::RefCell;
using memkit::RefMut;
using memkit::Result;
using memkit::testing::InstanceTracker;
using memkit::testing::ThrowsUseAfterMove;
using memkit::testing::Tracked;
using memkit::testing::what_of;
using refcell_test::Player;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// "refcell_test.cpp:<line> in TestBody()": how a message names a place in a TEST body.
std::string site(int line) { return "refcell_test.cpp:" + std::to_string(line) + " in TestBody()"; }

// ---- the rule: many readers or one writer ---------------------------------------------------

TEST(RefCellTest, BorrowReadsAndBorrowMutWrites) {
  RefCell<int> cell(1);
  EXPECT_EQ(*cell.borrow(), 1);
  *cell.borrow_mut() = 2;
  EXPECT_EQ(*cell.borrow(), 2);
  EXPECT_FALSE(cell.is_borrowed());
  EXPECT_FALSE(cell.is_borrowed_mut());
}

TEST(RefCellTest, ManySharedBorrowsAtOnce) {
  RefCell<std::string> cell(std::string("abc"));
  Ref<std::string> a = cell.borrow();
  Ref<std::string> b = cell.borrow();
  Ref<std::string> c = cell.borrow();
  EXPECT_EQ(&*a, &*b);
  EXPECT_EQ(c->size(), 3u);
  EXPECT_EQ(a.get(), "abc");
  EXPECT_TRUE(cell.is_borrowed());
  EXPECT_FALSE(cell.is_borrowed_mut());
}

TEST(RefCellTest, BorrowMutWorksThroughAConstCell) {
  const RefCell<int> cell(1);
  *cell.borrow_mut() += 41;
  EXPECT_EQ(*cell.borrow(), 42);
}

TEST(RefCellTest, BorrowMutWhileBorrowedThrowsBorrowMutError) {
  RefCell<int> cell(1);
  const int borrow_line = __LINE__ + 1;
  Ref<int> reader = cell.borrow();
  const int request_line = __LINE__ + 2;
  try {
    RefMut<int> writer = cell.borrow_mut();
    FAIL() << "borrow_mut() succeeded while the cell was borrowed";
  } catch (const BorrowMutError& e) {
    EXPECT_EQ(e.outstanding_borrows(), 1);
    const std::string message = e.what();
    EXPECT_THAT(message, StartsWith("memkit::RefCell<int>: borrow_mut() at " + site(request_line) +
                                    " failed: already borrowed (1 shared borrow outstanding)"));
#if MEMKIT_DEBUG
    EXPECT_THAT(message, EndsWith("\n  the conflicting borrow was taken at " + site(borrow_line)));
#else
    (void)borrow_line;
    EXPECT_THAT(message, HasSubstr("(build with MEMKIT_DEBUG=1 to see where the conflicting "
                                   "borrow was taken)"));
#endif
  }
  EXPECT_EQ(*reader, 1);  // the refused request changed nothing
  EXPECT_TRUE(cell.is_borrowed());
}

TEST(RefCellTest, BorrowWhileMutablyBorrowedThrowsBorrowError) {
  RefCell<int> cell(1);
  const int borrow_line = __LINE__ + 1;
  RefMut<int> writer = cell.borrow_mut();
  const int request_line = __LINE__ + 2;
  try {
    Ref<int> reader = cell.borrow();
    FAIL() << "borrow() succeeded while the cell was mutably borrowed";
  } catch (const BorrowError& e) {
    EXPECT_EQ(e.outstanding_borrows(), -1);
    const std::string message = e.what();
    EXPECT_THAT(message,
                StartsWith("memkit::RefCell<int>: borrow() at " + site(request_line) +
                           " failed: already mutably borrowed (1 mutable borrow outstanding)"));
#if MEMKIT_DEBUG
    EXPECT_THAT(message,
                EndsWith("\n  the conflicting mutable borrow was taken at " + site(borrow_line)));
#else
    (void)borrow_line;
    EXPECT_THAT(message, HasSubstr("(build with MEMKIT_DEBUG=1"));
#endif
  }
  *writer = 2;
  EXPECT_TRUE(cell.is_borrowed_mut());
}

TEST(RefCellTest, BorrowMutWhileMutablyBorrowedThrowsBorrowMutError) {
  RefCell<int> cell(1);
  RefMut<int> writer = cell.borrow_mut();
  const std::string message = what_of<BorrowMutError>([&] { (void)cell.borrow_mut(); });
  EXPECT_THAT(message, HasSubstr("memkit::RefCell<int>: borrow_mut() at "));
  EXPECT_THAT(message,
              HasSubstr("failed: already mutably borrowed (1 mutable borrow outstanding)"));
}

TEST(RefCellTest, MessageCountsTheOutstandingSharedBorrows) {
  RefCell<int> cell(1);
  const int first_line = __LINE__ + 1;
  Ref<int> first = cell.borrow();
  Ref<int> second = cell.borrow();
  try {
    (void)cell.borrow_mut();
    FAIL() << "borrow_mut() succeeded while the cell was borrowed twice";
  } catch (const BorrowMutError& e) {
    EXPECT_EQ(e.outstanding_borrows(), 2);
    EXPECT_THAT(e.what(), HasSubstr("failed: already borrowed (2 shared borrows outstanding)"));
#if MEMKIT_DEBUG
    // The earliest outstanding borrow is the one reported.
    EXPECT_THAT(e.what(), EndsWith("the conflicting borrow was taken at " + site(first_line)));
#else
    (void)first_line;
#endif
  }
}

TEST(RefCellTest, MessageNamesTheValueType) {
  RefCell<Player> cell(Player{1, "ann"});
  Ref<Player> reader = cell.borrow();
  EXPECT_THAT(what_of<BorrowMutError>([&] { (void)cell.borrow_mut(); }),
              StartsWith("memkit::RefCell<refcell_test::Player>: borrow_mut() at "));
  EXPECT_EQ(RefCell<Player>::name(), "memkit::RefCell<refcell_test::Player>");
}

TEST(RefCellTest, BorrowConflictsAreErrorsAndLogicErrors) {
  RefCell<int> cell(1);
  RefMut<int> writer = cell.borrow_mut();
  EXPECT_THROW((void)cell.borrow(), memkit::BorrowConflict);
  EXPECT_THROW((void)cell.borrow(), memkit::Error);
  EXPECT_THROW((void)cell.borrow_mut(), std::logic_error);
}

// ---- try_ forms -----------------------------------------------------------------------------

TEST(RefCellTest, TryBorrowReturnsAResult) {
  RefCell<int> cell(5);
  {
    Result<Ref<int>, BorrowError> reader = cell.try_borrow();
    ASSERT_TRUE(reader.ok());
    EXPECT_TRUE(static_cast<bool>(reader));
    EXPECT_EQ(**reader, 5);
    EXPECT_EQ(*reader.value(), 5);
    EXPECT_TRUE(cell.is_borrowed());

    Result<RefMut<int>, BorrowMutError> writer = cell.try_borrow_mut();
    ASSERT_FALSE(writer.ok());
    EXPECT_FALSE(static_cast<bool>(writer));
    EXPECT_EQ(writer.error().outstanding_borrows(), 1);
    EXPECT_THAT(writer.error().what(),
                HasSubstr("memkit::RefCell<int>: try_borrow_mut() at refcell_test.cpp:"));
    EXPECT_THAT(writer.error().what(), HasSubstr("(1 shared borrow outstanding)"));
    EXPECT_THROW((void)writer.value(), BorrowMutError);  // the error, thrown
  }
  Result<RefMut<int>, BorrowMutError> writer = cell.try_borrow_mut();
  ASSERT_TRUE(writer.ok());
  **writer = 6;
  Result<Ref<int>, BorrowError> reader = cell.try_borrow();
  ASSERT_FALSE(reader.ok());
  EXPECT_THAT(reader.error().what(), HasSubstr(": try_borrow() at "));
  EXPECT_THAT(reader.error().what(), HasSubstr("(1 mutable borrow outstanding)"));
}

// ---- guards ---------------------------------------------------------------------------------

TEST(RefCellTest, GuardsReleaseTheirBorrowAtScopeEnd) {
  RefCell<int> cell(1);
  {
    Ref<int> reader = cell.borrow();
    EXPECT_TRUE(cell.is_borrowed());
  }
  EXPECT_FALSE(cell.is_borrowed());
  {
    RefMut<int> writer = cell.borrow_mut();
    EXPECT_TRUE(cell.is_borrowed_mut());
  }
  EXPECT_FALSE(cell.is_borrowed_mut());
  EXPECT_NO_THROW((void)cell.borrow_mut());
}

TEST(RefCellTest, DropEndsABorrowEarly) {
  RefCell<int> cell(1);
  RefMut<int> writer = cell.borrow_mut();
  *writer = 2;
  memkit::drop(std::move(writer));
  EXPECT_FALSE(cell.is_borrowed_mut());
  EXPECT_EQ(*cell.borrow(), 2);

  Ref<int> reader = cell.borrow();
  memkit::drop(std::move(reader));
  EXPECT_FALSE(cell.is_borrowed());
  EXPECT_NO_THROW(*cell.borrow_mut() = 3);
}

TEST(RefCellTest, CopyingARefAddsAReader) {
  RefCell<int> cell(1);
  Ref<int> first = cell.borrow();
  {
    Ref<int> second = first;
    EXPECT_EQ(*second, 1);
    EXPECT_THAT(what_of<BorrowMutError>([&] { (void)cell.borrow_mut(); }),
                HasSubstr("(2 shared borrows outstanding)"));
  }
  EXPECT_THAT(what_of<BorrowMutError>([&] { (void)cell.borrow_mut(); }),
              HasSubstr("(1 shared borrow outstanding)"));
  memkit::drop(std::move(first));
  EXPECT_FALSE(cell.is_borrowed());
}

TEST(RefCellTest, MovingAGuardMovesTheBorrow) {
  RefCell<int> cell(1);
  Ref<int> reader = cell.borrow();
  Ref<int> moved = std::move(reader);
  EXPECT_THAT(what_of<BorrowMutError>([&] { (void)cell.borrow_mut(); }),
              HasSubstr("(1 shared borrow outstanding)"));
  memkit::drop(std::move(moved));
  EXPECT_FALSE(cell.is_borrowed());

  RefMut<int> writer = cell.borrow_mut();
  RefMut<int> moved_writer = std::move(writer);
  *moved_writer = 5;
  EXPECT_TRUE(cell.is_borrowed_mut());
  memkit::drop(std::move(moved_writer));
  EXPECT_FALSE(cell.is_borrowed_mut());
  EXPECT_EQ(*cell.borrow(), 5);
}

TEST(RefCellTest, MovedFromGuardsThrowUseAfterMove) {
  RefCell<int> cell(1);
  {
    Ref<int> reader = cell.borrow();
    Ref<int> keep = std::move(reader);
    const std::string type = "memkit::Ref<int>";
    EXPECT_THAT([&] { (void)*reader; }, ThrowsUseAfterMove(type, "operator*"));
    EXPECT_THAT([&] { (void)reader.operator->(); }, ThrowsUseAfterMove(type, "operator->"));
    EXPECT_THAT([&] { (void)reader.get(); }, ThrowsUseAfterMove(type, "get()"));
    EXPECT_THAT([&] { Ref<int> copy = reader; }, ThrowsUseAfterMove(type, "copy"));
    auto identity = [](const int& v) -> const int& { return v; };
    EXPECT_THAT([&] { (void)Ref<int>::map(std::move(reader), identity); },
                ThrowsUseAfterMove(type, "map()"));
  }
  {
    RefMut<int> writer = cell.borrow_mut();
    RefMut<int> keep = std::move(writer);
    const std::string type = "memkit::RefMut<int>";
    EXPECT_THAT([&] { (void)*writer; }, ThrowsUseAfterMove(type, "operator*"));
    EXPECT_THAT([&] { (void)writer.operator->(); }, ThrowsUseAfterMove(type, "operator->"));
    EXPECT_THAT([&] { (void)writer.get(); }, ThrowsUseAfterMove(type, "get()"));
    auto identity = [](int& v) -> int& { return v; };
    EXPECT_THAT([&] { (void)RefMut<int>::map(std::move(writer), identity); },
                ThrowsUseAfterMove(type, "map()"));
    EXPECT_TRUE(cell.is_borrowed_mut());  // `keep` still holds the borrow
  }
  EXPECT_FALSE(cell.is_borrowed_mut());
}

TEST(RefCellTest, RefMapNarrowsAndKeepsTheBorrow) {
  RefCell<Player> cell(Player{7, "bob"});
  {
    auto name_of = [](const Player& p) -> const std::string& { return p.name; };
    Ref<std::string> name = Ref<Player>::map(cell.borrow(), name_of);
    EXPECT_EQ(*name, "bob");
    EXPECT_TRUE(cell.is_borrowed());
    EXPECT_THAT(what_of<BorrowMutError>([&] { (void)cell.borrow_mut(); }),
                HasSubstr("(1 shared borrow outstanding)"));
    Ref<std::string> copy = name;
    EXPECT_THAT(what_of<BorrowMutError>([&] { (void)cell.borrow_mut(); }),
                HasSubstr("(2 shared borrows outstanding)"));
  }
  EXPECT_FALSE(cell.is_borrowed());
}

TEST(RefCellTest, RefMutMapNarrowsAndKeepsTheBorrow) {
  RefCell<Player> cell(Player{7, "bob"});
  {
    auto score_of = [](Player& p) -> int& { return p.score; };
    RefMut<int> score = RefMut<Player>::map(cell.borrow_mut(), score_of);
    *score += 1;
    EXPECT_TRUE(cell.is_borrowed_mut());
    EXPECT_THAT(what_of<BorrowError>([&] { (void)cell.borrow(); }),
                HasSubstr("(1 mutable borrow outstanding)"));
  }
  EXPECT_FALSE(cell.is_borrowed_mut());
  EXPECT_EQ(cell.borrow()->score, 8);
}

// ---- whole-value operations -----------------------------------------------------------------

TEST(RefCellTest, ReplaceReturnsTheOldValue) {
  RefCell<std::string> cell(std::string("old"));
  EXPECT_EQ(cell.replace("new"), "old");
  EXPECT_EQ(*cell.borrow(), "new");
  EXPECT_FALSE(cell.is_borrowed_mut());
}

TEST(RefCellTest, ReplaceWithAppliesTheFunction) {
  RefCell<int> cell(5);
  EXPECT_EQ(cell.replace_with([](int& v) { return v * 2; }), 5);
  EXPECT_EQ(*cell.borrow(), 10);
}

TEST(RefCellTest, ReplaceWithCatchesAFunctionThatReadsTheCell) {
  RefCell<int> cell(5);
  auto read_the_cell = [&](int& v) { return v + *cell.borrow(); };
  const int replace_line = __LINE__ + 1;
  auto replace = [&] { (void)cell.replace_with(read_the_cell); };
  const std::string message = what_of<BorrowError>(replace);
  EXPECT_THAT(message, HasSubstr("(1 mutable borrow outstanding)"));
#if MEMKIT_DEBUG
  EXPECT_THAT(message, HasSubstr("the conflicting mutable borrow was taken at refcell_test.cpp:" +
                                 std::to_string(replace_line) + " in "));
#else
  (void)replace_line;
#endif
  EXPECT_FALSE(cell.is_borrowed_mut());  // released during unwinding
  EXPECT_EQ(*cell.borrow(), 5);
}

TEST(RefCellTest, TakeLeavesTheDefault) {
  RefCell<std::vector<int>> cell(std::vector<int>{1, 2, 3});
  std::vector<int> taken = cell.take();
  EXPECT_EQ(taken, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(cell.borrow()->empty());
}

TEST(RefCellTest, SwapExchangesTheValues) {
  RefCell<int> a(1);
  RefCell<int> b(2);
  a.swap(b);
  EXPECT_EQ(*a.borrow(), 2);
  EXPECT_EQ(*b.borrow(), 1);
  a.swap(a);  // a no-op, not a conflict with itself
  EXPECT_EQ(*a.borrow(), 2);
}

TEST(RefCellTest, WholeValueOperationsOnABorrowedCellThrowBorrowMutError) {
  RefCell<int> cell(1);
  RefCell<int> other(2);
  Ref<int> reader = cell.borrow();
  EXPECT_THAT(what_of<BorrowMutError>([&] { (void)cell.replace(5); }),
              HasSubstr("memkit::RefCell<int>: replace() at "));
  EXPECT_THAT(what_of<BorrowMutError>([&] { (void)cell.replace_with([](int& v) { return v; }); }),
              HasSubstr("memkit::RefCell<int>: replace_with() at "));
  EXPECT_THAT(what_of<BorrowMutError>([&] { (void)cell.take(); }),
              HasSubstr("memkit::RefCell<int>: take() at "));
  EXPECT_THAT(what_of<BorrowMutError>([&] { cell.swap(other); }),
              HasSubstr("memkit::RefCell<int>: swap() at "));
  // A swap refused because of the *other* cell leaves this one unborrowed.
  EXPECT_THAT(what_of<BorrowMutError>([&] { other.swap(cell); }),
              HasSubstr("memkit::RefCell<int>: swap() at "));
  EXPECT_FALSE(other.is_borrowed_mut());
  EXPECT_EQ(*reader, 1);
  EXPECT_EQ(*other.borrow(), 2);
}

TEST(RefCellTest, IntoInnerMovesTheValueOut) {
  InstanceTracker tracker;
  RefCell<Tracked> cell(std::in_place, 4);
  Tracked value = std::move(cell).into_inner();
  EXPECT_EQ(value.value(), 4);
  EXPECT_EQ(tracker.copied(), 0);
  EXPECT_EQ(tracker.moved(), 1);
}

TEST(RefCellTest, IntoInnerOfABorrowedCellThrows) {
  RefCell<int> cell(1);
  Ref<int> reader = cell.borrow();
  EXPECT_THAT(what_of<BorrowMutError>([&] { (void)std::move(cell).into_inner(); }),
              HasSubstr("memkit::RefCell<int>: into_inner() at "));
}

// ---- copying and moving the cell itself -----------------------------------------------------

TEST(RefCellTest, CopyAndMoveOfAnUnborrowedCell) {
  RefCell<std::string> cell(std::string("v"));
  RefCell<std::string> copy = cell;
  RefCell<std::string> moved = std::move(cell);
  EXPECT_EQ(*copy.borrow(), "v");
  EXPECT_EQ(*moved.borrow(), "v");
  copy = moved;
  moved = std::move(copy);
  EXPECT_EQ(*moved.borrow(), "v");
}

TEST(RefCellTest, MoveOnlyValuesLiveInAVector) {
  // RefCell's copy constructor exists only for copyable T, so a vector moves these.
  static_assert(!std::is_copy_constructible_v<RefCell<std::unique_ptr<int>>>);
  std::vector<RefCell<std::unique_ptr<int>>> cells;
  cells.emplace_back(std::make_unique<int>(1));
  cells.emplace_back(std::make_unique<int>(2));
  EXPECT_EQ(**cells[0].borrow(), 1);
  EXPECT_EQ(**cells[1].borrow(), 2);
}

TEST(RefCellTest, CopyOrMoveOfABorrowedCellThrows) {
  RefCell<int> cell(1);
  {
    RefMut<int> writer = cell.borrow_mut();
    EXPECT_THROW(RefCell<int> copy(cell), BorrowError);  // copying reads the value
  }
  {
    Ref<int> reader = cell.borrow();
    EXPECT_NO_THROW(RefCell<int> copy(cell));                           // reading while read: fine
    EXPECT_THROW(RefCell<int> moved(std::move(cell)), BorrowMutError);  // moving takes it
    RefCell<int> target(2);
    EXPECT_THROW(cell = target, BorrowMutError);
    EXPECT_THROW(target = std::move(cell), BorrowMutError);
    EXPECT_EQ(*target.borrow(), 2);
  }
  EXPECT_EQ(*cell.borrow(), 1);  // every move was refused
}

TEST(RefCellTest, SharedThroughRcAndChangedByAnyOwner) {
  auto value = memkit::Rc<RefCell<int>>::make(5);
  memkit::Rc<RefCell<int>> other_owner = value;
  *other_owner->borrow_mut() += 10;
  EXPECT_EQ(*value->borrow(), 15);
}

// ---- Result<T, E> ---------------------------------------------------------------------------

TEST(ResultTest, HoldsAValue) {
  Result<std::string, std::runtime_error> result = std::string("yes");
  EXPECT_TRUE(result.ok());
  EXPECT_TRUE(static_cast<bool>(result));
  EXPECT_EQ(result.value(), "yes");
  EXPECT_EQ(*result, "yes");
  EXPECT_EQ(result->size(), 3u);
  const auto& as_const = result;
  EXPECT_EQ(as_const.value(), "yes");
  std::string taken = std::move(result).value();
  EXPECT_EQ(taken, "yes");
  EXPECT_THROW((void)result.error(), std::bad_variant_access);
}

TEST(ResultTest, HoldsAnErrorAndValueThrowsIt) {
  Result<int, std::runtime_error> result = std::runtime_error("no value");
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(static_cast<bool>(result));
  EXPECT_STREQ(result.error().what(), "no value");
  EXPECT_EQ(what_of<std::runtime_error>([&] { (void)result.value(); }), "no value");
  EXPECT_EQ(what_of<std::runtime_error>([&] { (void)*result; }), "no value");
  EXPECT_EQ(what_of<std::runtime_error>([&] { (void)std::move(result).value(); }), "no value");
  const auto& as_const = result;
  EXPECT_THROW((void)as_const.value(), std::runtime_error);
}

}  // namespace
