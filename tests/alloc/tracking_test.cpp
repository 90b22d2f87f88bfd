// Tests of memkit::TrackingResource, TaggedResource and TrackingAllocator<T>: exact counts in
// total and per tag, requests passed to the upstream unchanged, every bad request and bad free
// with its exact error, the thread-safe and verifying modes; and heap_stats() in a program that
// does not link memkit::track_global (this one: it links the test support's counting new).
#include "memkit/alloc/tracking.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <memory_resource>
#include <new>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "memkit/alloc/heap_stats.h"
#include "memkit/alloc/stats.h"
#include "memkit/base/error.h"
#include "memkit/base/type_name.h"
#include "support/throws.h"

// Types named in tags live in a named namespace, so their names are the same on every compiler.
namespace tracking_test {

struct Node {
  std::int64_t value;
  Node* next;
};
static_assert(sizeof(Node) == 16);

struct alignas(64) Wide {
  unsigned char bytes[64];
};

}  // namespace tracking_test

namespace {

using memkit::AllocCounts;
using memkit::AllocError;
using memkit::InvalidFree;
using memkit::TrackingAllocator;
using memkit::TrackingOptions;
using memkit::TrackingResource;
using memkit::testing::what_of;
using ::testing::HasSubstr;
using tracking_test::Node;
using tracking_test::Wide;

TrackingOptions fast_options() {
  TrackingOptions options;
  options.thread_safe = false;
  options.verify_frees = false;
  return options;
}

TrackingOptions verifying_options() {
  TrackingOptions options = fast_options();
  options.verify_frees = true;
  return options;
}

TrackingOptions thread_safe_options() {
  TrackingOptions options = fast_options();
  options.thread_safe = true;
  return options;
}

AllocCounts counts_of(std::uint64_t allocations, std::uint64_t frees, std::uint64_t live_bytes,
                      std::uint64_t live_blocks, std::uint64_t peak_bytes,
                      std::uint64_t total_bytes) {
  AllocCounts counts;
  counts.allocations = allocations;
  counts.frees = frees;
  counts.live_bytes = live_bytes;
  counts.live_blocks = live_blocks;
  counts.peak_bytes = peak_bytes;
  counts.total_bytes = total_bytes;
  return counts;
}

// Hides a value from the compiler, which would otherwise reject absurd sizes or frees of stack
// memory at compile time.
std::size_t opaque(std::size_t value) {
  asm volatile("" : "+r"(value));
  return value;
}
void* opaque(void* p) {
  asm volatile("" : "+r"(p));
  return p;
}

std::string address_text(const void* p) {
  std::ostringstream out;
  out << p;
  return out.str();
}

// An upstream that records every call and can be told to refuse frees or fail allocations.
class RecordingResource : public std::pmr::memory_resource {
 public:
  struct Call {
    bool allocate;
    void* p;
    std::size_t bytes;
    std::size_t alignment;
    friend bool operator==(const Call&, const Call&) = default;
  };

  std::vector<Call> calls;
  bool refuse_frees = false;
  bool fail_allocations = false;

 protected:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    if (fail_allocations) throw std::bad_alloc();
    void* p = std::pmr::new_delete_resource()->allocate(bytes, alignment);
    calls.push_back({true, p, bytes, alignment});
    return p;
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    if (refuse_frees) throw InvalidFree("RecordingResource", "deallocate", p, "refused");
    calls.push_back({false, p, bytes, alignment});
    std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }
};

// A broken upstream: hands out the same buffer every time.
class SameBufferResource : public std::pmr::memory_resource {
 protected:
  void* do_allocate(std::size_t, std::size_t) override { return buffer_; }
  void do_deallocate(void*, std::size_t, std::size_t) override {}
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    return this == &other;
  }

 private:
  alignas(64) unsigned char buffer_[256] = {};
};

const memkit::TagStats* find_tag(const memkit::MemoryStats& stats, std::string_view tag) {
  for (const memkit::TagStats& row : stats.by_tag) {
    if (row.tag == tag) return &row;
  }
  return nullptr;
}

// ---- TrackingResource: counting ----------------------------------------------------------------

TEST(TrackingResourceTest, DefaultTrackerCountsUnderItsOwnName) {
  TrackingResource tracker;
  EXPECT_EQ(tracker.upstream_resource(), std::pmr::new_delete_resource());
  EXPECT_EQ(tracker.name(), "memkit::TrackingResource");

  void* a = tracker.allocate(32, 8);
  void* b = tracker.allocate(100, 16);
  tracker.deallocate(a, 32, 8);

  const memkit::MemoryStats stats = tracker.stats();
  EXPECT_EQ(stats.source, "memkit::TrackingResource");
  EXPECT_EQ(stats.counts, counts_of(2, 1, 100, 1, 132, 132));
  EXPECT_FALSE(stats.footprint.has_value());
  ASSERT_EQ(stats.by_tag.size(), 1u);
  EXPECT_EQ(stats.by_tag[0].tag, "memkit::TrackingResource");
  EXPECT_EQ(stats.by_tag[0].counts, stats.counts);
  EXPECT_EQ(tracker.memory_stats(), stats);
  EXPECT_EQ(tracker.counts(), stats.counts);

  tracker.deallocate(b, 100, 16);
  EXPECT_EQ(tracker.counts(), counts_of(2, 2, 0, 0, 132, 132));
}

TEST(TrackingResourceTest, PassesEveryRequestToTheUpstreamUnchanged) {
  for (const TrackingOptions& options : {fast_options(), verifying_options()}) {
    RecordingResource upstream;
    TrackingResource tracker(&upstream, "parser", options);
    void* a = tracker.allocate(24, 8);
    void* b = tracker.allocate(7, 64);
    tracker.deallocate(b, 7, 64);
    tracker.deallocate(a, 24, 8);
    const std::vector<RecordingResource::Call> expected{
        {true, a, 24, 8}, {true, b, 7, 64}, {false, b, 7, 64}, {false, a, 24, 8}};
    EXPECT_EQ(upstream.calls, expected);
    EXPECT_EQ(tracker.stats().source, "parser");
    EXPECT_EQ(tracker.counts(), counts_of(2, 2, 0, 0, 31, 31));
  }
}

TEST(TrackingResourceTest, CountsWhatAPmrContainerAllocates) {
  RecordingResource upstream;
  TrackingResource tracker(&upstream, "ints", fast_options());
  {
    std::pmr::vector<int> values(&tracker);
    for (int i = 0; i < 100; ++i) values.push_back(i);

    std::uint64_t allocated = 0;
    std::uint64_t freed = 0;
    std::uint64_t allocations = 0;
    for (const RecordingResource::Call& call : upstream.calls) {
      (call.allocate ? allocated : freed) += call.bytes;
      allocations += call.allocate ? 1 : 0;
    }
    const AllocCounts counts = tracker.counts();
    EXPECT_EQ(counts.allocations, allocations);
    EXPECT_EQ(counts.frees, allocations - 1);  // every buffer but the current one
    EXPECT_EQ(counts.live_blocks, 1u);
    EXPECT_EQ(counts.live_bytes, values.capacity() * sizeof(int));
    EXPECT_EQ(counts.live_bytes, allocated - freed);
    EXPECT_EQ(counts.total_bytes, allocated);
  }
  EXPECT_EQ(tracker.counts().live_bytes, 0u);
  EXPECT_EQ(tracker.counts().live_blocks, 0u);
}

TEST(TrackingResourceTest, PeakIsTheHighestLiveBytesEver) {
  TrackingResource tracker(std::pmr::new_delete_resource(), "peak", fast_options());
  void* a = tracker.allocate(100, 8);
  void* b = tracker.allocate(200, 8);
  tracker.deallocate(a, 100, 8);
  void* c = tracker.allocate(50, 8);
  EXPECT_EQ(tracker.counts(), counts_of(3, 1, 250, 2, 300, 350));
  tracker.deallocate(b, 200, 8);
  tracker.deallocate(c, 50, 8);
  EXPECT_EQ(tracker.counts(), counts_of(3, 3, 0, 0, 300, 350));
}

TEST(TrackingResourceTest, ZeroSizeRequestIsABlockOfZeroBytes) {
  for (const TrackingOptions& options : {fast_options(), verifying_options()}) {
    RecordingResource upstream;
    TrackingResource tracker(&upstream, "empty", options);
    void* p = tracker.allocate(0, 8);
    EXPECT_NE(p, nullptr);
    EXPECT_EQ(tracker.counts(), counts_of(1, 0, 0, 1, 0, 0));
    tracker.deallocate(p, 0, 8);
    EXPECT_EQ(tracker.counts(), counts_of(1, 1, 0, 0, 0, 0));
    ASSERT_EQ(upstream.calls.size(), 2u);
    EXPECT_EQ(upstream.calls[0].bytes, 0u);
  }
}

TEST(TrackingResourceTest, CountsAndStatsAreEqualToTheSumOfTheTags) {
  TrackingResource tracker(std::pmr::new_delete_resource(), "sum", fast_options());
  memkit::TaggedResource lexer = tracker.tagged("lexer");
  void* a = tracker.allocate(10, 8);
  void* b = lexer.allocate(30, 8);
  const memkit::MemoryStats stats = tracker.stats();
  ASSERT_EQ(stats.by_tag.size(), 2u);
  EXPECT_EQ(stats.by_tag[0].tag, "lexer");  // largest live bytes first
  EXPECT_EQ(stats.by_tag[0].counts, counts_of(1, 0, 30, 1, 30, 30));
  EXPECT_EQ(stats.by_tag[1].tag, "sum");
  EXPECT_EQ(stats.by_tag[1].counts, counts_of(1, 0, 10, 1, 10, 10));
  EXPECT_EQ(stats.counts, counts_of(2, 0, 40, 2, 40, 40));
  EXPECT_THAT(memkit::to_text(stats), HasSubstr("sum: live 40 B in 2 blocks, peak 40 B"));
  EXPECT_THAT(memkit::to_json(stats), HasSubstr("{\"tag\":\"lexer\",\"allocations\":1,"));
  lexer.deallocate(b, 30, 8);
  tracker.deallocate(a, 10, 8);
}

TEST(TrackingResourceTest, ListsOnlyTagsThatAllocated) {
  TrackingResource tracker(std::pmr::new_delete_resource(), "quiet", fast_options());
  const memkit::TaggedResource unused = tracker.tagged("unused");
  EXPECT_EQ(unused.tag(), "unused");
  EXPECT_TRUE(tracker.stats().by_tag.empty());
}

TEST(TrackingResourceTest, DefaultOptionsFollowMemkitDebug) {
  const TrackingOptions options;
  EXPECT_FALSE(options.thread_safe);
  EXPECT_EQ(options.verify_frees, MEMKIT_DEBUG != 0);
  const TrackingResource tracker;
  EXPECT_EQ(tracker.options().verify_frees, MEMKIT_DEBUG != 0);
}

// ---- TaggedResource
// ------------------------------------------------------------------------------

TEST(TaggedResourceTest, CountsUnderItsTagThroughTheSameUpstream) {
  RecordingResource upstream;
  TrackingResource tracker(&upstream, "parser", fast_options());
  memkit::TaggedResource lexer = tracker.tagged("lexer");
  EXPECT_EQ(&lexer.tracker(), &tracker);
  EXPECT_EQ(lexer.tag(), "lexer");
  {
    std::pmr::string text(&lexer);
    text.assign(100, 'x');  // beyond the small-string buffer
    const memkit::MemoryStats stats = tracker.stats();
    const memkit::TagStats* row = find_tag(stats, "lexer");
    ASSERT_NE(row, nullptr);
    EXPECT_EQ(row->counts.live_blocks, 1u);
    EXPECT_GT(row->counts.live_bytes, 100u);
    EXPECT_EQ(find_tag(stats, "parser"), nullptr);
    EXPECT_EQ(upstream.calls.size(), 1u);
  }
  EXPECT_EQ(find_tag(tracker.stats(), "lexer")->counts.live_blocks, 0u);
}

TEST(TaggedResourceTest, ViewsAreEqualWhenTrackerAndTagAre) {
  TrackingResource tracker(std::pmr::new_delete_resource(), "a", fast_options());
  TrackingResource other(std::pmr::new_delete_resource(), "b", fast_options());
  const memkit::TaggedResource x1 = tracker.tagged("x");
  const memkit::TaggedResource x2 = tracker.tagged("x");
  const memkit::TaggedResource y = tracker.tagged("y");
  const memkit::TaggedResource other_x = other.tagged("x");
  EXPECT_TRUE(x1.is_equal(x2));
  EXPECT_FALSE(x1.is_equal(y));
  EXPECT_FALSE(x1.is_equal(other_x));
  EXPECT_FALSE(x1.is_equal(tracker));
  EXPECT_FALSE(tracker.is_equal(x1));
  EXPECT_TRUE(tracker.is_equal(tracker));
  EXPECT_FALSE(tracker.is_equal(other));
}

TEST(TaggedResourceTest, TheSameTagInTwoTrackersCountsSeparately) {
  TrackingResource first(std::pmr::new_delete_resource(), "first", fast_options());
  TrackingResource second(std::pmr::new_delete_resource(), "second", fast_options());
  memkit::TaggedResource a = first.tagged("shared");
  memkit::TaggedResource b = second.tagged("shared");
  void* p = a.allocate(8, 8);
  void* q = b.allocate(16, 8);
  void* r = b.allocate(16, 8);
  EXPECT_EQ(find_tag(first.stats(), "shared")->counts, counts_of(1, 0, 8, 1, 8, 8));
  EXPECT_EQ(find_tag(second.stats(), "shared")->counts, counts_of(2, 0, 32, 2, 32, 32));
  a.deallocate(p, 8, 8);
  b.deallocate(q, 16, 8);
  b.deallocate(r, 16, 8);
}

// ---- TrackingResource: bad input ---------------------------------------------------------------

TEST(TrackingResourceErrorsTest, NullUpstreamThrowsNullPointer) {
  EXPECT_EQ(what_of<memkit::NullPointer>([] { TrackingResource tracker(nullptr, "x"); }),
            "memkit::TrackingResource: TrackingResource(upstream, name) was given a null pointer");
}

TEST(TrackingResourceErrorsTest, AlignmentThatIsNotAPowerOfTwoThrowsAllocError) {
  for (const TrackingOptions& options :
       {fast_options(), verifying_options(), thread_safe_options()}) {
    RecordingResource upstream;
    TrackingResource tracker(&upstream, "parser", options);
    for (const std::size_t alignment : {std::size_t{0}, std::size_t{3}, std::size_t{24}}) {
      try {
        (void)tracker.allocate(64, alignment);
        ADD_FAILURE() << "allocate(64, " << alignment << ") did not throw";
      } catch (const AllocError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "memkit::TrackingResource \"parser\": allocate(size 64, align " +
                      std::to_string(alignment) + ") failed: alignment is not a power of two");
        EXPECT_EQ(e.size(), 64u);
        EXPECT_EQ(e.alignment(), alignment);
      }
    }
    EXPECT_TRUE(upstream.calls.empty());
    EXPECT_EQ(tracker.counts(), AllocCounts{});
  }
}

TEST(TrackingResourceErrorsTest, SizeAbovePtrdiffMaxThrowsAllocError) {
  for (const TrackingOptions& options : {fast_options(), verifying_options()}) {
    RecordingResource upstream;
    TrackingResource tracker(&upstream, TrackingResource::kDefaultName, options);
    EXPECT_EQ(what_of<AllocError>([&] { (void)tracker.allocate(opaque(SIZE_MAX), 8); }),
              "memkit::TrackingResource: allocate(size 18446744073709551615, align 8) failed: "
              "size exceeds PTRDIFF_MAX");
    EXPECT_EQ(
        what_of<AllocError>([&] { (void)tracker.allocate(opaque(std::size_t{PTRDIFF_MAX} + 1)); }),
        "memkit::TrackingResource: allocate(size 9223372036854775808, align 16) failed: "
        "size exceeds PTRDIFF_MAX");
    EXPECT_TRUE(upstream.calls.empty());
    EXPECT_EQ(tracker.counts(), AllocCounts{});
  }
}

TEST(TrackingResourceErrorsTest, UpstreamBadAllocPassesThroughWithNothingCounted) {
  for (const TrackingOptions& options : {fast_options(), verifying_options()}) {
    RecordingResource upstream;
    upstream.fail_allocations = true;
    TrackingResource tracker(&upstream, "failing", options);
    EXPECT_THROW((void)tracker.allocate(64, 8), std::bad_alloc);
    EXPECT_EQ(tracker.counts(), AllocCounts{});
  }
}

// memory_resource::deallocate declares its pointer nonnull, so a null reaches a tracker only
// through TrackingAllocator<T>::deallocate.
TEST(TrackingResourceErrorsTest, DeallocateOfNullThrowsInvalidFree) {
  for (const TrackingOptions& options : {fast_options(), verifying_options()}) {
    TrackingResource tracker(std::pmr::new_delete_resource(), "t", options);
    TrackingAllocator<Node> nodes(tracker);
    Node* p = nodes.allocate(1);
    EXPECT_EQ(what_of<InvalidFree>([&] { nodes.deallocate(nullptr, 1); }),
              "memkit::TrackingResource \"t\": deallocate(" + address_text(nullptr) +
                  ") failed: null pointer");
    EXPECT_EQ(tracker.counts().live_blocks, 1u);
    nodes.deallocate(p, 1);
  }
}

TEST(TrackingResourceErrorsTest, DeallocateWithABadAlignmentThrowsInvalidFree) {
  for (const TrackingOptions& options : {fast_options(), verifying_options()}) {
    TrackingResource tracker(std::pmr::new_delete_resource(), "t", options);
    void* p = tracker.allocate(8, 8);
    try {
      tracker.deallocate(p, 8, 3);
      ADD_FAILURE() << "deallocate(p, 8, 3) did not throw";
    } catch (const InvalidFree& e) {
      EXPECT_EQ(e.address(), p);
      EXPECT_EQ(std::string(e.what()), "memkit::TrackingResource \"t\": deallocate(" +
                                           address_text(p) +
                                           ") failed: alignment 3 is not a power of two");
    }
    EXPECT_EQ(tracker.counts().live_blocks, 1u);
    tracker.deallocate(p, 8, 8);
  }
}

TEST(TrackingResourceErrorsTest, FastModeRejectsFreesOfMoreThanIsLive) {
  RecordingResource upstream;
  TrackingResource tracker(&upstream, "t", fast_options());
  void* p = tracker.allocate(32, 8);
  EXPECT_EQ(what_of<InvalidFree>([&] { tracker.deallocate(p, 64, 8); }),
            "memkit::TrackingResource \"t\": deallocate(" + address_text(p) +
                ") failed: frees 64 bytes under the tag \"t\", which has 32 bytes live in 1 block "
                "(a pointer this tracker did not hand out, a double free, or a wrong size)");
  EXPECT_EQ(tracker.counts(), counts_of(1, 0, 32, 1, 32, 32));
  EXPECT_EQ(upstream.calls.size(), 1u);  // the bad free never reached the upstream

  tracker.deallocate(p, 32, 8);
  // A double free, now that nothing is live.
  EXPECT_THAT(what_of<InvalidFree>([&] { tracker.deallocate(p, 32, 8); }),
              HasSubstr("frees 32 bytes under the tag \"t\", which has 0 bytes live in 0 blocks"));
  EXPECT_EQ(upstream.calls.size(), 2u);
}

TEST(TrackingResourceErrorsTest, VerifyingModeRejectsAPointerItNeverHandedOut) {
  RecordingResource upstream;
  TrackingResource tracker(&upstream, "v", verifying_options());
  void* mine = tracker.allocate(32, 8);
  alignas(8) unsigned char buffer[32];
  void* foreign = opaque(buffer);  // or g++ -O3 warns about the delete it cannot see is unreachable
  try {
    tracker.deallocate(foreign, 32, 8);
    ADD_FAILURE() << "the foreign pointer was accepted";
  } catch (const InvalidFree& e) {
    EXPECT_EQ(e.address(), foreign);
    EXPECT_EQ(std::string(e.what()),
              "memkit::TrackingResource \"v\": deallocate(" + address_text(foreign) +
                  ") failed: not a live block of this tracker (never allocated by it, or "
                  "already freed)");
  }
  EXPECT_EQ(upstream.calls.size(), 1u);
  tracker.deallocate(mine, 32, 8);
}

TEST(TrackingResourceErrorsTest, VerifyingModeRejectsADoubleFree) {
  TrackingResource tracker(std::pmr::new_delete_resource(), "v", verifying_options());
  void* keep = tracker.allocate(64, 8);  // so that "more than is live" cannot be the reason
  void* p = tracker.allocate(16, 8);
  tracker.deallocate(p, 16, 8);
  EXPECT_THAT(what_of<InvalidFree>([&] { tracker.deallocate(p, 16, 8); }),
              HasSubstr("failed: not a live block of this tracker (never allocated by it, or "
                        "already freed)"));
  EXPECT_EQ(tracker.counts(), counts_of(2, 1, 64, 1, 80, 80));
  tracker.deallocate(keep, 64, 8);
}

TEST(TrackingResourceErrorsTest, VerifyingModeRejectsAWrongSizeAlignmentOrTag) {
  TrackingResource tracker(std::pmr::new_delete_resource(), "v", verifying_options());
  memkit::TaggedResource a = tracker.tagged("a");
  memkit::TaggedResource b = tracker.tagged("b");
  void* p = a.allocate(32, 16);
  const std::string prefix = "memkit::TrackingResource \"v\": deallocate(" + address_text(p) + ")";
  EXPECT_EQ(what_of<InvalidFree>([&] { a.deallocate(p, 16, 16); }),
            prefix + " failed: size 16 does not match the 32 bytes it was allocated with");
  EXPECT_EQ(what_of<InvalidFree>([&] { a.deallocate(p, 32, 8); }),
            prefix + " failed: alignment 8 does not match the alignment 16 it was allocated with");
  EXPECT_EQ(what_of<InvalidFree>([&] { b.deallocate(p, 32, 16); }),
            prefix + " failed: freed under the tag \"b\" but allocated under the tag \"a\"");
  EXPECT_EQ(tracker.counts(), counts_of(1, 0, 32, 1, 32, 32));
  a.deallocate(p, 32, 16);  // the block is still live, and this free is right
  EXPECT_EQ(tracker.counts(), counts_of(1, 1, 0, 0, 32, 32));
}

TEST(TrackingResourceErrorsTest, VerifyingModeRejectsAnUpstreamThatHandsOutALiveAddress) {
  SameBufferResource upstream;
  TrackingResource tracker(&upstream, "v", verifying_options());
  void* p = tracker.allocate(16, 8);
  EXPECT_EQ(what_of<AllocError>([&] { (void)tracker.allocate(16, 8); }),
            "memkit::TrackingResource \"v\": allocate(size 16, align 8) failed: the upstream "
            "resource returned an address that is still live");
  EXPECT_EQ(tracker.counts(), counts_of(1, 0, 16, 1, 16, 16));
  tracker.deallocate(p, 16, 8);
}

TEST(TrackingResourceErrorsTest, AFreeTheUpstreamRefusesLeavesTheBlockCounted) {
  for (const TrackingOptions& options :
       {fast_options(), verifying_options(), thread_safe_options()}) {
    RecordingResource upstream;
    TrackingResource tracker(&upstream, "t", options);
    void* p = tracker.allocate(48, 8);
    upstream.refuse_frees = true;
    EXPECT_THAT(what_of<InvalidFree>([&] { tracker.deallocate(p, 48, 8); }),
                HasSubstr("RecordingResource: deallocate"));
    EXPECT_EQ(tracker.counts(), counts_of(1, 0, 48, 1, 48, 48));
    upstream.refuse_frees = false;
    tracker.deallocate(p, 48, 8);
    EXPECT_EQ(tracker.counts(), counts_of(1, 1, 0, 0, 48, 48));
  }
}

// ---- thread-safe mode --------------------------------------------------------------------------

TEST(TrackingResourceThreadsTest, ThreadSafeModeCountsExactlyAcrossThreads) {
  for (const bool verify : {false, true}) {
    TrackingOptions options = thread_safe_options();
    options.verify_frees = verify;
    TrackingResource tracker(std::pmr::new_delete_resource(), "shared", options);
    constexpr int kThreads = 4;
    constexpr int kRounds = 500;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&tracker, t] {
        memkit::TaggedResource mine = tracker.tagged("thread " + std::to_string(t));
        TrackingAllocator<Node> nodes(tracker);
        for (int i = 0; i < kRounds; ++i) {
          void* a = tracker.allocate(8, 8);
          void* b = mine.allocate(24, 8);
          Node* n = nodes.allocate(2);
          nodes.deallocate(n, 2);
          mine.deallocate(b, 24, 8);
          tracker.deallocate(a, 8, 8);
        }
      });
    }
    for (std::thread& thread : threads) thread.join();

    const memkit::MemoryStats stats = tracker.stats();
    constexpr std::uint64_t kPerThread = 3 * kRounds;
    EXPECT_EQ(stats.counts.allocations, kThreads * kPerThread);
    EXPECT_EQ(stats.counts.frees, kThreads * kPerThread);
    EXPECT_EQ(stats.counts.live_bytes, 0u);
    EXPECT_EQ(stats.counts.total_bytes, std::uint64_t{kThreads} * kRounds * (8 + 24 + 32));
    EXPECT_EQ(stats.by_tag.size(), 2u + kThreads);
    EXPECT_EQ(find_tag(stats, "thread 2")->counts.total_bytes, std::uint64_t{kRounds} * 24);
    EXPECT_EQ(find_tag(stats, memkit::type_name<Node>())->counts.allocations,
              std::uint64_t{kThreads} * kRounds);
  }
}

// ---- TrackingAllocator<T>
// ------------------------------------------------------------------------

TEST(TrackingAllocatorTest, CountsUnderTheTypeName) {
  RecordingResource upstream;
  TrackingResource tracker(&upstream, "nodes", fast_options());
  {
    std::vector<Node, TrackingAllocator<Node>> nodes(tracker);
    nodes.reserve(4);
    EXPECT_EQ(nodes.get_allocator().tag(), "tracking_test::Node");
    const memkit::MemoryStats stats = tracker.stats();
    ASSERT_EQ(stats.by_tag.size(), 1u);
    EXPECT_EQ(stats.by_tag[0].tag, "tracking_test::Node");
    EXPECT_EQ(stats.by_tag[0].counts, counts_of(1, 0, 64, 1, 64, 64));
    const std::vector<RecordingResource::Call> expected{{true, nodes.data(), 64, alignof(Node)}};
    EXPECT_EQ(upstream.calls, expected);
  }
  EXPECT_EQ(tracker.counts(), counts_of(1, 1, 0, 0, 64, 64));
}

TEST(TrackingAllocatorTest, ARebindCountsUnderTheReboundType) {
  TrackingResource tracker(std::pmr::new_delete_resource(), "rebind", fast_options());
  const TrackingAllocator<int> ints(tracker);
  using NodeAllocator = std::allocator_traits<TrackingAllocator<int>>::rebind_alloc<Node>;
  NodeAllocator nodes(ints);
  EXPECT_EQ(ints.tag(), "int");
  EXPECT_EQ(nodes.tag(), "tracking_test::Node");
  EXPECT_TRUE(nodes == ints);
  Node* p = nodes.allocate(3);
  const memkit::MemoryStats stats = tracker.stats();
  ASSERT_EQ(stats.by_tag.size(), 1u);
  EXPECT_EQ(stats.by_tag[0].tag, "tracking_test::Node");
  EXPECT_EQ(stats.by_tag[0].counts.live_bytes, 48u);
  nodes.deallocate(p, 3);
}

TEST(TrackingAllocatorTest, ANodeContainerIsCountedUnderItsNodeType) {
  TrackingResource tracker(std::pmr::new_delete_resource(), "list", fast_options());
  std::list<int, TrackingAllocator<int>> values(tracker);
  values.push_back(1);
  values.push_back(2);
  values.push_back(3);
  const memkit::MemoryStats stats = tracker.stats();
  ASSERT_EQ(stats.by_tag.size(), 1u);
  EXPECT_NE(stats.by_tag[0].tag, "int");  // what a list allocates is nodes, not ints
  EXPECT_THAT(stats.by_tag[0].tag, HasSubstr("<int>"));
  EXPECT_EQ(stats.by_tag[0].counts.live_blocks, 3u);
}

TEST(TrackingAllocatorTest, AllocatorsOfOneTrackerCompareEqual) {
  TrackingResource first(std::pmr::new_delete_resource(), "first", fast_options());
  TrackingResource second(std::pmr::new_delete_resource(), "second", fast_options());
  const TrackingAllocator<int> a(first);
  const TrackingAllocator<int> b(first);
  const TrackingAllocator<Node> c(first);
  const TrackingAllocator<int> d(second);
  EXPECT_TRUE(a == b);
  EXPECT_TRUE(a == c);
  EXPECT_TRUE(a != d);
  EXPECT_EQ(&a.tracker(), &first);
}

TEST(TrackingAllocatorTest, OneTypeInTwoTrackersCountsSeparately) {
  TrackingResource first(std::pmr::new_delete_resource(), "first", fast_options());
  TrackingResource second(std::pmr::new_delete_resource(), "second", fast_options());
  std::vector<Node, TrackingAllocator<Node>> a(first);
  std::vector<Node, TrackingAllocator<Node>> b(second);
  a.reserve(1);
  b.reserve(2);
  EXPECT_EQ(first.stats().by_tag.at(0).counts.live_bytes, 16u);
  EXPECT_EQ(second.stats().by_tag.at(0).counts.live_bytes, 32u);
}

TEST(TrackingAllocatorTest, AnOverAlignedTypeIsAllocatedWithItsAlignment) {
  RecordingResource upstream;
  TrackingResource tracker(&upstream, "wide", fast_options());
  TrackingAllocator<Wide> wide(tracker);
  Wide* p = wide.allocate(2);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 64, 0u);
  ASSERT_EQ(upstream.calls.size(), 1u);
  EXPECT_EQ(upstream.calls[0].bytes, 128u);
  EXPECT_EQ(upstream.calls[0].alignment, 64u);
  wide.deallocate(p, 2);
}

TEST(TrackingAllocatorTest, TooManyObjectsThrowAllocError) {
  RecordingResource upstream;
  TrackingResource tracker(&upstream, "many", fast_options());
  TrackingAllocator<std::uint32_t> ints(tracker);
  // The byte count overflows std::size_t: the message says SIZE_MAX and explains.
  EXPECT_EQ(what_of<AllocError>([&] { (void)ints.allocate(SIZE_MAX / 2); }),
            "memkit::TrackingAllocator<unsigned int>: allocate(size 18446744073709551615, align "
            "4) failed: 9223372036854775807 objects of 4 bytes exceed PTRDIFF_MAX bytes");
  // It fits std::size_t but is still above PTRDIFF_MAX.
  EXPECT_EQ(what_of<AllocError>([&] { (void)ints.allocate(PTRDIFF_MAX / 4 + 1); }),
            "memkit::TrackingAllocator<unsigned int>: allocate(size 9223372036854775808, align "
            "4) failed: 2305843009213693952 objects of 4 bytes exceed PTRDIFF_MAX bytes");
  TrackingAllocator<char> chars(tracker);
  EXPECT_THAT(what_of<AllocError>([&] { (void)chars.allocate(SIZE_MAX); }),
              HasSubstr("18446744073709551615 objects of 1 byte exceed PTRDIFF_MAX bytes"));
  EXPECT_TRUE(upstream.calls.empty());
  EXPECT_EQ(tracker.counts(), AllocCounts{});
}

TEST(TrackingAllocatorTest, AWrongCountInDeallocateIsAnInvalidFree) {
  TrackingResource tracker(std::pmr::new_delete_resource(), "n", fast_options());
  TrackingAllocator<Node> nodes(tracker);
  Node* p = nodes.allocate(1);
  EXPECT_THAT(what_of<InvalidFree>([&] { nodes.deallocate(p, 2); }),
              HasSubstr("frees 32 bytes under the tag \"tracking_test::Node\", which has 16 bytes "
                        "live in 1 block"));
  nodes.deallocate(p, 1);
}

// ---- heap_stats() without memkit::track_global -------------------------------------------------

TEST(HeapStatsWithoutHookTest, TrackingIsOffAndEveryCountIsZero) {
  EXPECT_FALSE(memkit::heap_tracking_enabled());
  auto box = std::make_unique<int>(7);  // an allocation the hook would have counted
  const memkit::MemoryStats stats = memkit::heap_stats();
  EXPECT_EQ(stats.source, "heap (operator new)");
  EXPECT_EQ(stats.counts, AllocCounts{});
  EXPECT_TRUE(stats.by_tag.empty());
  EXPECT_EQ(memkit::heap_counts(), AllocCounts{});
  EXPECT_EQ(memkit::heap_counts(memkit::HeapTagId::untagged()), AllocCounts{});
}

TEST(HeapStatsWithoutHookTest, HeapTagsStillNestAndRestore) {
  EXPECT_EQ(memkit::HeapTag::current(), memkit::HeapTagId::untagged());
  const memkit::HeapTagId parser = memkit::heap_tag("parser");
  EXPECT_EQ(memkit::heap_tag("parser"), parser);
  EXPECT_NE(parser, memkit::HeapTagId::untagged());
  EXPECT_EQ(memkit::heap_tag_name(parser), "parser");
  EXPECT_EQ(memkit::heap_tag_name(memkit::HeapTagId::untagged()), "(untagged)");
  EXPECT_EQ(memkit::heap_tag("(untagged)"), memkit::HeapTagId::untagged());
  {
    memkit::HeapTag outer(parser);
    EXPECT_EQ(memkit::HeapTag::current(), parser);
    {
      memkit::HeapTag inner("lexer");
      EXPECT_EQ(memkit::heap_tag_name(memkit::HeapTag::current()), "lexer");
    }
    EXPECT_EQ(memkit::HeapTag::current(), parser);
  }
  EXPECT_EQ(memkit::HeapTag::current(), memkit::HeapTagId::untagged());
}

TEST(HeapStatsWithoutHookTest, TagsBeyondTheTableShareTheLastSlot) {
  std::set<std::uint32_t> indexes;
  for (int i = 0; i < 200; ++i) {
    indexes.insert(memkit::heap_tag("overflow " + std::to_string(i)).index());
  }
  const memkit::HeapTagId other = memkit::heap_tag("overflow 199");
  EXPECT_EQ(memkit::heap_tag_name(other), "(other tags)");
  EXPECT_EQ(other, memkit::heap_tag("(other tags)"));
  EXPECT_EQ(*indexes.rbegin(), other.index());
  EXPECT_EQ(other.index(), 127u);
  EXPECT_EQ(memkit::heap_tag("overflow 0"), memkit::heap_tag("overflow 0"));  // still stable
}

}  // namespace
