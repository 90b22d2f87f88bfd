// Tests of EphemeronMap: weak keys, values alive only while their keys are.
#include <gtest/gtest.h>

#include "gc_test_types.h"
#include "memkit/gc/ephemeron_map.h"

namespace gc_test {
namespace {

using Map = gc::EphemeronMap<Node, Node>;

TEST(EphemeronMapTest, ValueLivesWhileItsKeyLives) {
  gc::Heap heap;
  int keys = 0;
  int values = 0;
  gc::Local<Map> map = gc::make<Map>(heap);
  gc::Local<Node> key = gc::make<Node>(heap, 1, &keys);
  map->set(key, gc::make<Node>(heap, 10, &values));
  heap.collect();
  EXPECT_EQ(values, 0);
  ASSERT_NE(map->get(key), nullptr);
  EXPECT_EQ(map->get(key)->value, 10);
  EXPECT_EQ(map->size(), 1U);
  key = nullptr;
  heap.collect();
  EXPECT_EQ(keys, 1);
  EXPECT_EQ(values, 1);
  EXPECT_EQ(map->size(), 0U);
}

TEST(EphemeronMapTest, AValueThatPointsBackToItsKeyDoesNotKeepItAlive) {
  gc::Heap heap;
  int destroyed = 0;
  gc::Local<Map> map = gc::make<Map>(heap);
  {
    gc::Local<Node> key = gc::make<Node>(heap, 1, &destroyed);
    gc::Local<Node> value = gc::make<Node>(heap, 2, &destroyed);
    value->left = key;  // the cycle a weak-key/strong-value map would leak
    map->set(key, value);
  }
  heap.collect();
  EXPECT_EQ(destroyed, 2);
  EXPECT_TRUE(map->empty());
}

TEST(EphemeronMapTest, ChainsOfEphemeronsReachAFixedPoint) {
  gc::Heap heap;
  int destroyed = 0;
  gc::Local<Map> map = gc::make<Map>(heap);
  gc::Local<Node> first = gc::make<Node>(heap, 1, &destroyed);
  {
    // first -> second -> third -> fourth, each link an entry: only reachable via the chain.
    gc::Local<Node> second = gc::make<Node>(heap, 2, &destroyed);
    gc::Local<Node> third = gc::make<Node>(heap, 3, &destroyed);
    gc::Local<Node> fourth = gc::make<Node>(heap, 4, &destroyed);
    map->set(third, fourth);  // inserted out of order, so one pass is not enough
    map->set(second, third);
    map->set(first, second);
  }
  heap.collect();
  EXPECT_EQ(destroyed, 0);
  EXPECT_EQ(map->size(), 3U);
  Node* second = map->get(first);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(map->get(map->get(second))->value, 4);
  first = nullptr;
  heap.collect();
  EXPECT_EQ(destroyed, 4);
  EXPECT_TRUE(map->empty());
}

TEST(EphemeronMapTest, SetReplacesEraseRemovesNullKeyIsIgnored) {
  gc::Heap heap;
  int destroyed = 0;
  gc::Local<Map> map = gc::make<Map>(heap);
  gc::Local<Node> key = gc::make<Node>(heap, 1, &destroyed);
  map->set(key, gc::make<Node>(heap, 2, &destroyed));
  map->set(key, gc::make<Node>(heap, 3, &destroyed));
  map->set(nullptr, key);
  EXPECT_EQ(map->size(), 1U);
  heap.collect();
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(map->get(key)->value, 3);
  EXPECT_TRUE(map->contains(key));
  EXPECT_TRUE(map->erase(key));
  EXPECT_FALSE(map->erase(key));
  heap.collect();
  EXPECT_EQ(destroyed, 2);
  EXPECT_EQ(map->get(key), nullptr);
}

TEST(EphemeronMapTest, ADeadMapKeepsNothingAlive) {
  gc::Heap heap;
  int destroyed = 0;
  gc::Local<Node> key = gc::make<Node>(heap, 1, &destroyed);
  {
    gc::Local<Map> map = gc::make<Map>(heap);
    map->set(key, gc::make<Node>(heap, 2, &destroyed));
  }
  heap.collect();
  EXPECT_EQ(destroyed, 1);  // the value; the key is a Local
}

}  // namespace
}  // namespace gc_test
