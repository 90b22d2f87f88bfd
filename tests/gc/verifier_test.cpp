// Tests of the heap verifier: deliberately broken object graphs are reported with the holder's
// type and the field, before anything is freed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "gc_test_types.h"
#include "support/throws.h"

namespace gc_test {

// trace() forgets a Member: the bug the verifier exists for.
struct Forgetful : gc::GarbageCollected<Forgetful> {
  void trace(gc::Visitor& visitor) const { visitor.trace(kept, "kept"); }
  gc::Member<Node> kept;       // offset 8
  gc::Member<Node> forgotten;  // offset 16: never traced
};

// A pre-finalizer that stores a dead object into a live one: resurrection.
struct Resurrector : gc::GarbageCollected<Resurrector> {
  void pre_finalize() {
    if (survivor != nullptr) survivor->left = dead_friend.get();
  }
  void trace(gc::Visitor& visitor) const { visitor.trace(dead_friend, "dead_friend"); }
  gc::Member<Node> dead_friend;
  Node* survivor = nullptr;
};

// Traces its Member only when told to.
struct Flaky : gc::GarbageCollected<Flaky> {
  void trace(gc::Visitor& visitor) const {
    if (trace_member) visitor.trace(member, "member");
  }
  bool trace_member = false;
  gc::Member<Node> member;
};

namespace {

TEST(VerifierTest, SoundHeapPasses) {
  gc::Heap heap;
  heap.set_verify(true);
  EXPECT_TRUE(heap.verify());
  gc::Local<Node> root = gc::make<Node>(heap);
  root->left = gc::make<Node>(heap);
  root->right = root->left;
  EXPECT_NO_THROW(heap.collect());
}

TEST(VerifierTest, UntracedMemberIsReportedWithHolderAndOffsetAndNothingIsFreed) {
  gc::Heap heap;
  quiet(heap);
  heap.set_verify(true);
  int destroyed = 0;
  gc::Local<Forgetful> holder = gc::make<Forgetful>(heap);
  holder->kept = gc::make<Node>(heap, 1, &destroyed);
  holder->forgotten = gc::make<Node>(heap, 2, &destroyed);
  const std::string message =
      memkit::testing::what_of<memkit::GcVerificationError>([&] { heap.collect(); });
  EXPECT_EQ(message,
            "memkit::gc::Heap: heap verification failed after marking (1 problem):\n"
            "  gc_test::Forgetful at offset 16 (not visited by trace()) -> a dead gc_test::Node: "
            "a Member missing from trace()?\n");
  EXPECT_EQ(destroyed, 0);
  EXPECT_EQ(holder->forgotten->value, 2);  // still there: the verifier runs before the sweep
  holder->forgotten = nullptr;
  heap.collect();
  EXPECT_EQ(destroyed, 1);
}

TEST(VerifierTest, ProblemsAreCounted) {
  gc::Heap heap;
  quiet(heap);
  heap.set_verify(true);
  std::vector<gc::Local<Forgetful>> holders;
  for (int i = 0; i < 25; ++i) {
    holders.push_back(gc::make<Forgetful>(heap));
    holders.back()->forgotten = gc::make<Node>(heap);
  }
  try {
    heap.collect();
    FAIL() << "expected GcVerificationError";
  } catch (const memkit::GcVerificationError& error) {
    EXPECT_EQ(error.problems(), 25U);
    EXPECT_THAT(error.what(), ::testing::HasSubstr("(25 problems)"));
    EXPECT_THAT(error.what(), ::testing::HasSubstr("  ... and 5 more\n"));
  }
  for (auto& holder : holders) holder->forgotten = nullptr;
}

TEST(VerifierTest, TracedMemberToADeadObjectIsReportedByFieldName) {
  gc::Heap heap;
  quiet(heap);
  heap.set_verify(true);
  gc::Local<Node> survivor = gc::make<Node>(heap, 1);
  {
    gc::Local<Resurrector> dying = gc::make<Resurrector>(heap);
    dying->dead_friend = gc::make<Node>(heap, 2);
    dying->survivor = survivor.get();
  }
  const std::string message =
      memkit::testing::what_of<memkit::GcVerificationError>([&] { heap.collect(); });
  EXPECT_EQ(message,
            "memkit::gc::Heap: heap verification failed after marking (1 problem):\n"
            "  gc_test::Node.left -> a dead gc_test::Node (traced, but not marked)\n");
  survivor->left = nullptr;
}

TEST(VerifierTest, VerifyFromTheEnvironment) {
  const char* saved = std::getenv("MEMKIT_GC_VERIFY");
  const std::string old = saved == nullptr ? "" : saved;
  ::setenv("MEMKIT_GC_VERIFY", "1", 1);
  EXPECT_TRUE(gc::Heap().verify());
  ::setenv("MEMKIT_GC_VERIFY", "0", 1);
  EXPECT_FALSE(gc::Heap().verify());
  ::setenv("MEMKIT_GC_VERIFY", "yes", 1);
  EXPECT_EQ(memkit::testing::what_of<memkit::GcUsageError>([] { gc::Heap heap; }),
            "memkit::gc::Heap: MEMKIT_GC_VERIFY=\"yes\" failed: expected 0, off, 1 or on");
  if (saved == nullptr) {
    ::unsetenv("MEMKIT_GC_VERIFY");
  } else {
    ::setenv("MEMKIT_GC_VERIFY", old.c_str(), 1);
  }
}

#if MEMKIT_DEBUG
TEST(VerifierDeathTest, MarkingAMemberToAFreedSlotAbortsInDebugBuilds) {
  EXPECT_DEATH(
      {
        gc::Heap heap;
        quiet(heap);
        heap.set_verify(false);  // the verifier would report it first (MEMKIT_GC_VERIFY)
        gc::Local<Flaky> flaky = gc::make<Flaky>(heap);
        flaky->member = gc::make<Node>(heap);
        heap.collect();  // not traced: the Node is freed, the Member dangles
        flaky->trace_member = true;
        heap.collect();
      },
      "memkit: fatal: memkit::gc::Heap: marking found a Member \\(field \"member\"\\) of a "
      "gc_test::Flaky that points to memory where no object lives \\(freed by an earlier "
      "collection\\?\\)");
}
#endif

}  // namespace
}  // namespace gc_test
