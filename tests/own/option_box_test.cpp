// OptionBox<T>: an optional Box in one pointer (Rust's Option<Box<T>>).
#include "memkit/own/option_box.h"

#include <gtest/gtest.h>

#include <utility>

#include "memkit/base/error.h"
#include "memkit/own/box.h"
#include "support/instance_tracker.h"
#include "support/throws.h"

namespace {

using memkit::Box;
using memkit::OptionBox;
using memkit::testing::InstanceTracker;
using memkit::testing::Tracked;
using memkit::testing::what_of;

struct Node {
  long value;
  OptionBox<Node> next;
};

TEST(OptionBoxTest, IsOnePointerWideLikeRustsOptionBox) {
  static_assert(sizeof(OptionBox<Node>) == sizeof(Node*));
  static_assert(sizeof(Node) == sizeof(long) + sizeof(Node*));
}

TEST(OptionBoxTest, StartsEmptyAndGetIsNull) {
  OptionBox<int> empty;
  EXPECT_FALSE(empty.has_value());
  EXPECT_FALSE(static_cast<bool>(empty));
  EXPECT_EQ(empty.get(), nullptr);
  OptionBox<int> also_empty = nullptr;
  EXPECT_FALSE(also_empty.has_value());
}

TEST(OptionBoxTest, TakesABoxWholeAndOwnsItsValue) {
  InstanceTracker tracker;
  {
    Box<Tracked> box = Box<Tracked>::make(7);
    Tracked* address = box.get();
    OptionBox<Tracked> option = std::move(box);
    EXPECT_FALSE(box.valid());
    ASSERT_TRUE(option.has_value());
    EXPECT_EQ(option.get(), address);
    EXPECT_EQ(option->value(), 7);
    EXPECT_EQ((*option).value(), 7);
    EXPECT_EQ(tracker.live(), 1);
  }
  EXPECT_EQ(tracker.live(), 0);
}

TEST(OptionBoxTest, DerefOfAnEmptyOneThrowsEmptyOptionNamingTheType) {
  OptionBox<int> empty;
  EXPECT_EQ(what_of<memkit::EmptyOption>([&] { (void)*empty; }),
            "operator* on an empty memkit::OptionBox<int> (it holds no value: test it, or use "
            "get(), which returns null)");
  EXPECT_EQ(what_of<memkit::EmptyOption>([&] { (void)empty.operator->(); }),
            "operator-> on an empty memkit::OptionBox<int> (it holds no value: test it, or use "
            "get(), which returns null)");
  EXPECT_EQ(what_of<memkit::EmptyOption>([&] { (void)std::move(empty).unwrap(); }),
            "unwrap() on an empty memkit::OptionBox<int> (it holds no value: test it, or use "
            "get(), which returns null)");
}

TEST(OptionBoxTest, AMovedFromBoxIsAUseAfterMoveNotAnEmptyOption) {
  Box<int> box = Box<int>::make(1);
  Box<int> thief = std::move(box);
  EXPECT_EQ(what_of<memkit::UseAfterMove>([&] { OptionBox<int> option = std::move(box); }),
            "use after move: conversion to OptionBox on an empty memkit::Box<int> (its value was "
            "moved out, leaked or released with into_raw)");
  OptionBox<int> option;
  EXPECT_THROW(option = std::move(box), memkit::UseAfterMove);
  EXPECT_FALSE(option.has_value());
}

TEST(OptionBoxTest, TakeMovesTheValueOutAndLeavesItEmpty) {
  InstanceTracker tracker;
  OptionBox<Tracked> option = Box<Tracked>::make(3);
  OptionBox<Tracked> taken = option.take();
  EXPECT_FALSE(option.has_value());
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->value(), 3);
  Box<Tracked> box = std::move(taken).unwrap();
  EXPECT_FALSE(taken.has_value());
  EXPECT_EQ(box->value(), 3);
  EXPECT_EQ(tracker.live(), 1);
}

TEST(OptionBoxTest, AssignmentDestroysTheOldValueAfterTakingTheNew) {
  InstanceTracker tracker;
  OptionBox<Tracked> option = Box<Tracked>::make(1);
  option = Box<Tracked>::make(2);
  EXPECT_EQ(option->value(), 2);
  EXPECT_EQ(tracker.live(), 1);
  option = nullptr;
  EXPECT_FALSE(option.has_value());
  EXPECT_EQ(tracker.live(), 0);
  option = Box<Tracked>::make(4);
  option.reset();
  EXPECT_EQ(tracker.live(), 0);
}

TEST(OptionBoxTest, WalksAndUnlinksAListOwnedFromTheHead) {
  OptionBox<Node> head;
  for (long i = 1; i <= 100; ++i) head = Box<Node>::make(i, std::move(head));
  long sum = 0;
  for (const Node* node = head.get(); node != nullptr; node = node->next.get()) sum += node->value;
  EXPECT_EQ(sum, 5050);
  // `head = std::move(head->next)`: the new value is taken before the old node (its owner) dies.
  long length = 0;
  while (head) {
    head = std::move(head->next);
    ++length;
  }
  EXPECT_EQ(length, 100);
}

}  // namespace
