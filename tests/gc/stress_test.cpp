// Tests of stress mode: the settings, their spelling, MEMKIT_GC_STRESS, and how often it collects.
#include "memkit/gc/stress.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "gc_test_types.h"
#include "support/throws.h"

namespace gc_test {
namespace {

// Sets MEMKIT_GC_STRESS for one scope.
class ScopedStressVariable {
 public:
  explicit ScopedStressVariable(const char* value) {
    const char* saved = std::getenv("MEMKIT_GC_STRESS");
    had_ = saved != nullptr;
    if (had_) saved_ = saved;
    if (value == nullptr) {
      ::unsetenv("MEMKIT_GC_STRESS");
    } else {
      ::setenv("MEMKIT_GC_STRESS", value, 1);
    }
  }
  ~ScopedStressVariable() {
    if (had_) {
      ::setenv("MEMKIT_GC_STRESS", saved_.c_str(), 1);
    } else {
      ::unsetenv("MEMKIT_GC_STRESS");
    }
  }

 private:
  bool had_ = false;
  std::string saved_;
};

TEST(StressTest, ParseEverySpelling) {
  EXPECT_EQ(gc::Stress::parse(""), gc::Stress::off());
  EXPECT_EQ(gc::Stress::parse("0"), gc::Stress::off());
  EXPECT_EQ(gc::Stress::parse("off"), gc::Stress::off());
  EXPECT_EQ(gc::Stress::parse("1"), gc::Stress::every_allocation());
  EXPECT_EQ(gc::Stress::parse("every"), gc::Stress::every(1));
  EXPECT_EQ(gc::Stress::parse("every:25"), gc::Stress::every(25));
  EXPECT_EQ(gc::Stress::parse("random:0.25:7"), gc::Stress::random(0.25, 7));
  EXPECT_EQ(gc::Stress::parse("random:1:0").probability(), 1.0);
}

TEST(StressTest, ToStringRoundTrips) {
  EXPECT_EQ(gc::Stress::off().to_string(), "off");
  EXPECT_EQ(gc::Stress::every(3).to_string(), "every:3");
  EXPECT_EQ(gc::Stress::random(0.25, 7).to_string(), "random:0.25:7");
  for (const gc::Stress& stress : {gc::Stress::off(), gc::Stress::every(1), gc::Stress::every(99),
                                   gc::Stress::random(0.5, 123456789)}) {
    EXPECT_EQ(gc::Stress::parse(stress.to_string()), stress);
  }
}

TEST(StressTest, MalformedSpellingsThrowWithTheReason) {
  const std::string expected = " (expected 0, off, 1, every, every:N or random:P:SEED)";
  const std::pair<const char*, const char*> cases[] = {
      {"sometimes", "unknown mode"},           {"every:", "N is not a whole number"},
      {"every:x", "N is not a whole number"},  {"every:0", "N must be at least 1"},
      {"every:-3", "N is not a whole number"}, {"random:0.5", "the SEED is missing"},
      {"random:half:1", "P is not a number"},  {"random:0:1", "P must be in (0, 1]"},
      {"random:1.5:1", "P must be in (0, 1]"}, {"random:0.5:seed", "SEED is not a whole number"},
  };
  for (const auto& [text, reason] : cases) {
    EXPECT_EQ(
        memkit::testing::what_of<memkit::GcUsageError>([&] { (void)gc::Stress::parse(text); }),
        std::string("memkit::gc::Stress: parse(\"") + text + "\") failed: " + reason + expected);
  }
  EXPECT_EQ(memkit::testing::what_of<memkit::GcUsageError>([] { (void)gc::Stress::every(0); }),
            "memkit::gc::Stress: every(0) failed: N must be at least 1");
  EXPECT_EQ(
      memkit::testing::what_of<memkit::GcUsageError>([] { (void)gc::Stress::random(0.0, 1); }),
      "memkit::gc::Stress: random(0.000000, 1) failed: the probability must be in (0, 1]");
}

TEST(StressTest, EveryNCollectsAtEveryNthAllocation) {
  gc::Heap heap;
  quiet(heap);
  heap.set_stress(gc::Stress::every(10));
  EXPECT_EQ(heap.stress(), gc::Stress::every(10));
  for (int i = 0; i < 95; ++i) (void)gc::make<Node>(heap);
  EXPECT_EQ(heap.collections(), 9U);
  EXPECT_EQ(heap.stats().last_reason, gc::CollectionReason::kStress);
  EXPECT_EQ(heap.stats().stress, "every:10");
}

TEST(StressTest, EveryAllocationCollectsEachTime) {
  gc::Heap heap;
  quiet(heap);
  heap.set_stress(gc::Stress::every_allocation());
  int destroyed = 0;
  gc::Local<Node> keep = gc::make<Node>(heap, 0, &destroyed);
  for (int i = 0; i < 20; ++i) (void)gc::make<Node>(heap, i, &destroyed);
  EXPECT_EQ(heap.collections(), 21U);
  EXPECT_EQ(destroyed, 19);  // each garbage node is collected by the next make()
}

TEST(StressTest, RandomIsReproducibleForASeed) {
  // The allocations (by index) at which a collection happened.
  auto collection_points = [](std::uint64_t seed) {
    gc::Heap heap;
    quiet(heap);
    heap.set_stress(gc::Stress::random(0.1, seed));
    std::vector<int> points;
    for (int i = 0; i < 1000; ++i) {
      const std::uint64_t before = heap.collections();
      (void)gc::make<Node>(heap);
      if (heap.collections() != before) points.push_back(i);
    }
    return points;
  };
  const std::vector<int> first = collection_points(42);
  EXPECT_EQ(collection_points(42), first);
  EXPECT_GT(first.size(), 50U);  // about 100 expected
  EXPECT_LT(first.size(), 200U);
  EXPECT_NE(collection_points(43), first);
}

TEST(StressTest, HeapsReadTheEnvironment) {
  {
    ScopedStressVariable variable("every:5");
    EXPECT_EQ(gc::Stress::from_environment(), gc::Stress::every(5));
    gc::Heap heap;
    EXPECT_EQ(heap.stress(), gc::Stress::every(5));
    EXPECT_TRUE(heap.poisons_dead_members());
  }
  {
    ScopedStressVariable variable(nullptr);
    EXPECT_EQ(gc::Heap().stress(), gc::Stress::off());
  }
  {
    ScopedStressVariable variable("every:0");
    EXPECT_EQ(memkit::testing::what_of<memkit::GcUsageError>([] { gc::Heap heap; }),
              "memkit::gc::Stress: parse(\"every:0\") failed: N must be at least 1 (expected 0, "
              "off, 1, every, every:N or random:P:SEED)");
  }
}

}  // namespace
}  // namespace gc_test
