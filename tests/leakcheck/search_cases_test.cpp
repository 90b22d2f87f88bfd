// Tests of valgrind's leak search (src/leakcheck/runtime/leak_search.cpp) on synthetic heaps:
// every case of memcheck's nine-case table, cliques, interior pointers, each heuristic matching
// and not matching, zero-size blocks, registers, an empty heap, and refused input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "leak_search.h"

namespace memkit::check_rt {
namespace {

using R = Reachedness;

// A fake heap: blocks carved from one zeroed buffer with gaps between them, plus one root range
// (an array of words) that the test fills.
class Heap {
 public:
  Heap() : memory_(16384, 0), roots_(64, 0) {}

  uintptr_t add(std::size_t size) {
    uintptr_t address = base() + cursor_;
    cursor_ += ((size == 0 ? 1 : size) + 15) / 16 * 16 + 16;
    blocks_.push_back(
        Block{address, size, static_cast<uint32_t>(blocks_.size() + 1), AllocKind::malloc});
    return address;
  }
  void set(uintptr_t address, std::size_t word, uintptr_t value) {
    reinterpret_cast<uintptr_t*>(address)[word] = value;
  }
  void root(std::size_t slot, uintptr_t value) { roots_.at(slot) = value; }
  void reg(uintptr_t value) { registers_.push_back(value); }

  void run(uint32_t heuristics = kHeuristicsAll, const std::vector<MappingInfo>& maps = {}) {
    SearchInput input;
    input.blocks = blocks_.data();
    input.block_count = blocks_.size();
    AddressRange range{reinterpret_cast<uintptr_t>(roots_.data()),
                       reinterpret_cast<uintptr_t>(roots_.data() + roots_.size())};
    input.roots = &range;
    input.root_count = 1;
    input.registers = registers_.data();
    input.register_count = registers_.size();
    input.mappings = maps.data();
    input.mapping_count = maps.size();
    input.heuristics = heuristics;
    verdicts_.assign(blocks_.size(), BlockVerdict{});
    std::vector<unsigned char> scratch(leak_search_scratch_bytes(blocks_.size()));
    ASSERT_TRUE(leak_search(input, verdicts_.data(), scratch.data(), scratch.size(), &stats_));
  }

  const BlockVerdict& verdict(uintptr_t address) const {
    for (std::size_t i = 0; i < blocks_.size(); ++i) {
      if (blocks_[i].address == address) return verdicts_[i];
    }
    ADD_FAILURE() << "no block at " << address;
    return verdicts_.at(0);
  }
  R state(uintptr_t address) const { return verdict(address).state; }
  const SearchStats& stats() const { return stats_; }

 private:
  uintptr_t base() const { return reinterpret_cast<uintptr_t>(memory_.data()); }

  std::vector<uintptr_t> memory_;
  std::vector<uintptr_t> roots_;
  std::vector<uintptr_t> registers_;
  std::vector<Block> blocks_;
  std::vector<BlockVerdict> verdicts_;
  SearchStats stats_;
  std::size_t cursor_ = 64;
};

// ---- memcheck's nine cases (mc-manual.xml); without heuristics "-?->" never looks like a start
// ----

TEST(LeakSearchNineCases, Case1RootStartPointerIsReachable) {
  Heap heap;
  uintptr_t b = heap.add(32);
  heap.root(0, b);
  heap.run();
  EXPECT_EQ(heap.state(b), R::reachable);
}

TEST(LeakSearchNineCases, Case2ChainOfStartPointersIsReachable) {
  Heap heap;
  uintptr_t a = heap.add(32);
  uintptr_t b = heap.add(32);
  heap.set(a, 0, b);
  heap.root(0, a);
  heap.run();
  EXPECT_EQ(heap.state(a), R::reachable);
  EXPECT_EQ(heap.state(b), R::reachable);
}

TEST(LeakSearchNineCases, Case3NoPointerIsDefinitelyLost) {
  Heap heap;
  uintptr_t b = heap.add(100);
  heap.run();
  EXPECT_EQ(heap.state(b), R::unreached);
  EXPECT_EQ(heap.verdict(b).indirect_bytes, 0u);
}

TEST(LeakSearchNineCases, Case4HeldOnlyByALostBlockIsIndirect) {
  Heap heap;
  uintptr_t a = heap.add(32);
  uintptr_t b = heap.add(24);
  heap.set(a, 1, b);
  heap.run();
  EXPECT_EQ(heap.state(a), R::unreached);
  EXPECT_EQ(heap.verdict(a).indirect_bytes, 24u);
  EXPECT_EQ(heap.state(b), R::indirect_leak);
}

TEST(LeakSearchNineCases, Case5InteriorPointerFromRootIsPossible) {
  Heap heap;
  uintptr_t b = heap.add(64);
  heap.root(3, b + 8);
  heap.run(0);
  EXPECT_EQ(heap.state(b), R::possible);
}

TEST(LeakSearchNineCases, Case6InteriorPointerFromReachableIsPossible) {
  Heap heap;
  uintptr_t a = heap.add(32);
  uintptr_t b = heap.add(64);
  heap.set(a, 0, b + 40);
  heap.root(0, a);
  heap.run(0);
  EXPECT_EQ(heap.state(a), R::reachable);
  EXPECT_EQ(heap.state(b), R::possible);
}

TEST(LeakSearchNineCases, Case7StartPointerFromPossibleIsPossible) {
  Heap heap;
  uintptr_t a = heap.add(32);
  uintptr_t b = heap.add(32);
  heap.set(a, 2, b);
  heap.root(0, a + 16);
  heap.run(0);
  EXPECT_EQ(heap.state(a), R::possible);
  EXPECT_EQ(heap.state(b), R::possible);
}

TEST(LeakSearchNineCases, Case8InteriorChainIsPossible) {
  Heap heap;
  uintptr_t a = heap.add(32);
  uintptr_t b = heap.add(32);
  heap.set(a, 0, b + 1);
  heap.root(0, a + 31);
  heap.run(0);
  EXPECT_EQ(heap.state(a), R::possible);
  EXPECT_EQ(heap.state(b), R::possible);
}

TEST(LeakSearchNineCases, Case9InteriorPointerFromLostBlockIsIndirect) {
  Heap heap;
  uintptr_t a = heap.add(32);
  uintptr_t b = heap.add(40);
  heap.set(a, 0, b + 12);
  heap.run(0);
  EXPECT_EQ(heap.state(a), R::unreached);
  EXPECT_EQ(heap.verdict(a).indirect_bytes, 40u);
  EXPECT_EQ(heap.state(b), R::indirect_leak);
}

// ---- pass 1 details
// -------------------------------------------------------------------------------

TEST(LeakSearchPass1, PossibleBlockIsUpgradedAndItsChildrenWithIt) {
  Heap heap;
  uintptr_t a = heap.add(32);
  uintptr_t b = heap.add(32);
  heap.set(a, 0, b);
  heap.root(0, a + 8);  // first an interior pointer: a, then b, possible
  heap.root(1, a);      // then a start-pointer: both reachable after a re-scan
  heap.run(0);
  EXPECT_EQ(heap.state(a), R::reachable);
  EXPECT_EQ(heap.state(b), R::reachable);
}

TEST(LeakSearchPass1, PointerOneByteBeyondTheEndIsNotInterior) {
  Heap heap;
  uintptr_t a = heap.add(20);
  heap.root(0, a + 20);
  heap.run(0);
  EXPECT_EQ(heap.state(a), R::unreached);
}

TEST(LeakSearchPass1, OnlyAlignedWordsOfABlockAreScanned) {
  Heap heap;
  uintptr_t a = heap.add(20);  // words at +0 and +8; +16 holds 4 bytes only, never read as a word
  uintptr_t b = heap.add(16);
  uintptr_t c = heap.add(16);
  heap.set(a, 1, b);
  heap.set(a, 2, c);
  heap.root(0, a);
  heap.run(0);
  EXPECT_EQ(heap.state(b), R::reachable);
  EXPECT_EQ(heap.state(c), R::unreached);
}

TEST(LeakSearchPass1, RegistersAreDefiniteRoots) {
  Heap heap;
  uintptr_t a = heap.add(16);
  uintptr_t b = heap.add(16);
  uintptr_t c = heap.add(16);
  heap.reg(a);
  heap.reg(b + 4);
  heap.reg(0);
  heap.reg(~uintptr_t{0});
  heap.run(0);
  EXPECT_EQ(heap.state(a), R::reachable);
  EXPECT_EQ(heap.state(b), R::possible);
  EXPECT_EQ(heap.state(c), R::unreached);
}

TEST(LeakSearchPass1, RootBytesScannedAreCounted) {
  Heap heap;
  heap.add(16);
  heap.run();
  EXPECT_EQ(heap.stats().scanned_root_bytes, 64u * sizeof(uintptr_t));
  EXPECT_TRUE(heap.stats().used_page_index);
}

TEST(LeakSearchPass1, ZeroSizeBlockIsFoundByItsAddress) {
  Heap heap;
  uintptr_t zero = heap.add(0);
  uintptr_t lost = heap.add(0);
  heap.root(0, zero);
  heap.root(1, lost + 1);  // past the one byte a zero-size block covers
  heap.run();
  EXPECT_EQ(heap.state(zero), R::reachable);
  EXPECT_EQ(heap.state(lost), R::unreached);
}

TEST(LeakSearchPass1, ZeroSizeBlockHeldByALostBlockIsIndirect) {
  Heap heap;
  uintptr_t a = heap.add(8);
  uintptr_t zero = heap.add(0);
  heap.set(a, 0, zero);
  heap.run();
  EXPECT_EQ(heap.state(a), R::unreached);
  EXPECT_EQ(heap.verdict(a).indirect_bytes, 0u);
  EXPECT_EQ(heap.state(zero), R::indirect_leak);
}

// ---- pass 2: cliques
// -------------------------------------------------------------------------------

TEST(LeakSearchCliques, LowestAddressOfACycleLeads) {
  Heap heap;
  uintptr_t a = heap.add(16);
  uintptr_t b = heap.add(16);
  heap.set(a, 0, b);
  heap.set(b, 0, a);
  heap.run();
  EXPECT_EQ(heap.state(a), R::unreached);
  EXPECT_EQ(heap.verdict(a).indirect_bytes, 16u);
  EXPECT_EQ(heap.state(b), R::indirect_leak);
}

TEST(LeakSearchCliques, LaterLeaderAbsorbsAnEarlierOneWithItsIndirectBytes) {
  Heap heap;
  uintptr_t low = heap.add(16);
  uintptr_t mid = heap.add(24);
  uintptr_t high = heap.add(32);
  heap.set(low, 0, mid);
  heap.set(high, 0, low);
  heap.run();
  EXPECT_EQ(heap.state(high), R::unreached);
  EXPECT_EQ(heap.verdict(high).indirect_bytes, 16u + 24u);
  EXPECT_EQ(heap.state(low), R::indirect_leak);
  EXPECT_EQ(heap.verdict(low).indirect_bytes, 0u);
  EXPECT_EQ(heap.state(mid), R::indirect_leak);
}

TEST(LeakSearchCliques, ListOfThreeIsOneDefiniteAndTwoIndirect) {
  Heap heap;  // indirect.c: the head is the newest (highest) node
  uintptr_t n1 = heap.add(32);
  uintptr_t n2 = heap.add(32);
  uintptr_t n3 = heap.add(32);
  heap.set(n3, 0, n2);
  heap.set(n2, 0, n1);
  heap.run();
  EXPECT_EQ(heap.state(n3), R::unreached);
  EXPECT_EQ(heap.verdict(n3).indirect_bytes, 64u);
  EXPECT_EQ(heap.state(n2), R::indirect_leak);
  EXPECT_EQ(heap.state(n1), R::indirect_leak);
}

TEST(LeakSearchCliques, LostBlockPointingAtReachableOrPossibleLeavesThem) {
  Heap heap;
  uintptr_t lost = heap.add(16);
  uintptr_t kept = heap.add(16);
  uintptr_t maybe = heap.add(16);
  heap.set(lost, 0, kept);
  heap.set(lost, 1, maybe);
  heap.root(0, kept);
  heap.root(1, maybe + 8);
  heap.run(0);
  EXPECT_EQ(heap.state(lost), R::unreached);
  EXPECT_EQ(heap.verdict(lost).indirect_bytes, 0u);
  EXPECT_EQ(heap.state(kept), R::reachable);
  EXPECT_EQ(heap.state(maybe), R::possible);
}

TEST(LeakSearchCliques, SelfPointerDoesNotCountAsIndirect) {
  Heap heap;
  uintptr_t a = heap.add(16);
  heap.set(a, 0, a);
  heap.set(a, 1, a + 8);
  heap.run();
  EXPECT_EQ(heap.state(a), R::unreached);
  EXPECT_EQ(heap.verdict(a).indirect_bytes, 0u);
}

// ---- heuristics
// ------------------------------------------------------------------------------------

TEST(LeakSearchHeuristics, StdStringMatches) {
  Heap heap;
  uintptr_t s = heap.add(24 + 10 + 1);
  heap.set(s, 0, 5);   // length
  heap.set(s, 1, 10);  // capacity
  heap.root(0, s + 24);
  heap.run(kHeuristicStdString);
  EXPECT_EQ(heap.state(s), R::reachable);
  EXPECT_EQ(heap.verdict(s).heuristic, Heuristic::stdstring);
}

TEST(LeakSearchHeuristics, StdStringRefusesLengthAboveCapacityOrWrongSize) {
  Heap heap;
  uintptr_t too_long = heap.add(35);
  heap.set(too_long, 0, 11);
  heap.set(too_long, 1, 10);
  uintptr_t wrong_size = heap.add(40);
  heap.set(wrong_size, 0, 5);
  heap.set(wrong_size, 1, 10);
  heap.root(0, too_long + 24);
  heap.root(1, wrong_size + 24);
  heap.run(kHeuristicStdString);
  EXPECT_EQ(heap.state(too_long), R::possible);
  EXPECT_EQ(heap.state(wrong_size), R::possible);
  EXPECT_EQ(heap.verdict(too_long).heuristic, Heuristic::none);
}

TEST(LeakSearchHeuristics, Length64MatchesBeforeNewArray) {
  Heap heap;  // heur.cpp's glen64: p[0] = 40 in a 48-byte block, pointer p + 1
  uintptr_t b = heap.add(48);
  heap.set(b, 0, 40);
  heap.root(0, b + 8);
  heap.run();
  EXPECT_EQ(heap.state(b), R::reachable);
  EXPECT_EQ(heap.verdict(b).heuristic, Heuristic::length64);
}

TEST(LeakSearchHeuristics, Length64RefusesAWrongLength) {
  Heap heap;
  uintptr_t b = heap.add(48);
  heap.set(b, 0, 39);
  heap.root(0, b + 8);
  heap.run(kHeuristicLength64);
  EXPECT_EQ(heap.state(b), R::possible);
}

TEST(LeakSearchHeuristics, NewArrayMatchesACookieDividingTheRest) {
  Heap heap;  // heur.cpp's garr: new D[10] of 4-byte D, 8 + 40 bytes
  uintptr_t b = heap.add(48);
  heap.set(b, 0, 10);
  heap.root(0, b + 8);
  heap.run();
  EXPECT_EQ(heap.state(b), R::reachable);
  EXPECT_EQ(heap.verdict(b).heuristic, Heuristic::newarray);
}

TEST(LeakSearchHeuristics, NewArrayRefusesZeroOrANonDivisor) {
  Heap heap;
  uintptr_t zero = heap.add(48);
  uintptr_t three = heap.add(48);
  heap.set(three, 0, 3);
  heap.root(0, zero + 8);
  heap.root(1, three + 8);
  heap.run(kHeuristicNewArray);
  EXPECT_EQ(heap.state(zero), R::possible);
  EXPECT_EQ(heap.state(three), R::possible);
}

TEST(LeakSearchHeuristics, DisabledHeuristicDoesNotApply) {
  Heap heap;
  uintptr_t b = heap.add(48);
  heap.set(b, 0, 10);
  heap.root(0, b + 8);
  heap.run(kHeuristicsAll & ~kHeuristicNewArray);
  EXPECT_EQ(heap.state(b), R::possible);
  EXPECT_EQ(heap.verdict(b).heuristic, Heuristic::none);
}

// Two fake vtables in a "file-backed readable" range whose entries point into a "file-backed
// executable" range.
struct FakeImage {
  alignas(16) uintptr_t rodata[64] = {};
  alignas(16) unsigned char text[256] = {};
  std::vector<MappingInfo> maps(bool text_executable = true, bool rodata_file = true) const {
    MappingInfo r{reinterpret_cast<uintptr_t>(rodata), reinterpret_cast<uintptr_t>(rodata + 64),
                  true, false, rodata_file};
    MappingInfo t{reinterpret_cast<uintptr_t>(text), reinterpret_cast<uintptr_t>(text + 256), true,
                  text_executable, true};
    std::vector<MappingInfo> all{r, t};
    std::sort(all.begin(), all.end(),
              [](const MappingInfo& x, const MappingInfo& y) { return x.begin < y.begin; });
    return all;
  }
  FakeImage() {
    auto code = reinterpret_cast<uintptr_t>(text);
    rodata[0] = code + 16;  // vtable 1: two functions
    rodata[1] = code + 32;
    rodata[32] = 0;  // vtable 2, out of vtable 1's 21-word window: a null slot, then two functions
    rodata[33] = code + 48;
    rodata[34] = code + 64;
  }
  uintptr_t vtable1() const { return reinterpret_cast<uintptr_t>(&rodata[0]); }
  uintptr_t vtable2() const { return reinterpret_cast<uintptr_t>(&rodata[32]); }
};

TEST(LeakSearchHeuristics, MultipleInheritanceMatchesTwoVtablePointers) {
  FakeImage image;
  Heap heap;
  uintptr_t c = heap.add(40);  // heur.cpp's C: A's vptr at +0, B's at +16
  heap.set(c, 0, image.vtable1());
  heap.set(c, 2, image.vtable2());
  heap.root(0, c + 16);
  heap.run(kHeuristicsAll, image.maps());
  EXPECT_EQ(heap.state(c), R::reachable);
  EXPECT_EQ(heap.verdict(c).heuristic, Heuristic::multiple_inheritance);
}

TEST(LeakSearchHeuristics, MultipleInheritanceRefusesNonCodeOrAnonymousTables) {
  FakeImage image;
  Heap heap;
  uintptr_t c = heap.add(40);
  heap.set(c, 0, image.vtable1());
  heap.set(c, 2, image.vtable2());
  heap.root(0, c + 16);
  heap.run(kHeuristicMultipleInheritance, image.maps(/*text_executable=*/false));
  EXPECT_EQ(heap.state(c), R::possible);
  heap.run(kHeuristicMultipleInheritance, image.maps(true, /*rodata_file=*/false));
  EXPECT_EQ(heap.state(c), R::possible);
  heap.run(kHeuristicMultipleInheritance, {});
  EXPECT_EQ(heap.state(c), R::possible);
}

TEST(LeakSearchHeuristics, MultipleInheritanceNeedsTwoFunctionPointers) {
  FakeImage image;
  image.rodata[1] = 0;  // vtable 1 now has one function among 21 words
  Heap heap;
  uintptr_t c = heap.add(40);
  heap.set(c, 0, image.vtable1());
  heap.set(c, 2, image.vtable2());
  heap.root(0, c + 16);
  heap.run(kHeuristicMultipleInheritance, image.maps());
  EXPECT_EQ(heap.state(c), R::possible);
}

TEST(LeakSearchHeuristics, LaterStartPointerClearsTheHeuristic) {
  Heap heap;
  uintptr_t b = heap.add(48);
  heap.set(b, 0, 10);
  heap.root(0, b + 8);
  heap.root(1, b);
  heap.run();
  EXPECT_EQ(heap.state(b), R::reachable);
  EXPECT_EQ(heap.verdict(b).heuristic, Heuristic::none);
}

TEST(LeakSearchHeuristics, MatchFromAPossibleBlockStaysPossibleAndKeepsTheHeuristic) {
  Heap heap;  // as in valgrind: the heuristic is recorded even though the block stays Possible
  uintptr_t a = heap.add(32);
  uintptr_t b = heap.add(48);
  heap.set(b, 0, 10);
  heap.set(a, 0, b + 8);
  heap.root(0, a + 8);
  heap.run();
  EXPECT_EQ(heap.state(a), R::possible);
  EXPECT_EQ(heap.state(b), R::possible);
  EXPECT_EQ(heap.verdict(b).heuristic, Heuristic::newarray);
}

TEST(LeakSearchHeuristics, NamesAreValgrinds) {
  EXPECT_STREQ(heuristic_name(Heuristic::stdstring), "stdstring");
  EXPECT_STREQ(heuristic_name(Heuristic::length64), "length64");
  EXPECT_STREQ(heuristic_name(Heuristic::newarray), "newarray");
  EXPECT_STREQ(heuristic_name(Heuristic::multiple_inheritance), "multipleinheritance");
}

// ---- input handling
// ---------------------------------------------------------------------------------

TEST(LeakSearchInput, EmptyHeapSucceeds) {
  SearchInput input;
  SearchStats stats;
  EXPECT_TRUE(leak_search(input, nullptr, nullptr, 0, &stats));
  EXPECT_EQ(stats.scanned_root_bytes, 0u);
}

TEST(LeakSearchInput, UnsortedOrOverlappingBlocksAreRefused) {
  std::vector<Block> blocks{{0x2000, 16, 1, AllocKind::malloc}, {0x1000, 16, 2, AllocKind::malloc}};
  std::vector<BlockVerdict> verdicts(2);
  std::vector<unsigned char> scratch(leak_search_scratch_bytes(2));
  SearchInput input;
  input.blocks = blocks.data();
  input.block_count = 2;
  EXPECT_FALSE(leak_search(input, verdicts.data(), scratch.data(), scratch.size(), nullptr));
  blocks = {{0x1000, 0x20, 1, AllocKind::malloc}, {0x1010, 16, 2, AllocKind::malloc}};
  input.blocks = blocks.data();
  EXPECT_FALSE(leak_search(input, verdicts.data(), scratch.data(), scratch.size(), nullptr));
}

TEST(LeakSearchInput, TooLittleScratchIsRefused) {
  std::vector<Block> blocks{{0x1000, 16, 1, AllocKind::malloc}};
  std::vector<BlockVerdict> verdicts(1);
  std::vector<unsigned char> scratch(leak_search_scratch_bytes(1) - 1);
  SearchInput input;
  input.blocks = blocks.data();
  input.block_count = 1;
  EXPECT_FALSE(leak_search(input, verdicts.data(), scratch.data(), scratch.size(), nullptr));
}

TEST(LeakSearchInput, WithoutRoomForThePageIndexTheSearchStillWorks) {
  // One 17 MiB block covers more pages than a one-block index holds: plain binary search then.
  std::vector<uintptr_t> big((17u << 20) / sizeof(uintptr_t), 0);
  std::vector<uintptr_t> small(4, 0);
  std::vector<Block> blocks{
      {reinterpret_cast<uintptr_t>(big.data()), big.size() * 8, 1, AllocKind::malloc},
      {reinterpret_cast<uintptr_t>(small.data()), 32, 2, AllocKind::malloc}};
  std::sort(blocks.begin(), blocks.end(),
            [](const Block& x, const Block& y) { return x.address < y.address; });
  big[100] = reinterpret_cast<uintptr_t>(small.data()) + 8;
  std::vector<BlockVerdict> verdicts(2);
  std::vector<unsigned char> scratch(leak_search_scratch_bytes(2));
  SearchInput input;
  input.blocks = blocks.data();
  input.block_count = 2;
  input.heuristics = 0;
  SearchStats stats;
  ASSERT_TRUE(leak_search(input, verdicts.data(), scratch.data(), scratch.size(), &stats));
  EXPECT_FALSE(stats.used_page_index);
  std::size_t big_index = blocks[0].size == 32 ? 1 : 0;
  EXPECT_EQ(verdicts[big_index].state, R::unreached);
  EXPECT_EQ(verdicts[big_index].indirect_bytes, 32u);
  EXPECT_EQ(verdicts[1 - big_index].state, R::indirect_leak);
}

// ---- sorting and lookup
// ------------------------------------------------------------------------------

TEST(LeakSearchSort, RadixSortMatchesStdSort) {
  std::mt19937_64 random(42);
  std::vector<Block> blocks;
  for (uint32_t i = 0; i < 5000; ++i) {
    uintptr_t address =
        (i % 3 == 0 ? 0x7f0000000000ull : 0x550000000000ull) + (random() % (1ull << 36)) * 16;
    blocks.push_back(Block{address, 16, i, AllocKind::malloc});
  }
  std::vector<Block> expected = blocks;
  std::sort(expected.begin(), expected.end(),
            [](const Block& x, const Block& y) { return x.address < y.address; });
  std::vector<Block> temp(blocks.size());
  sort_blocks_by_address(blocks.data(), temp.data(), blocks.size());
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    ASSERT_EQ(blocks[i].address, expected[i].address) << i;
  }
}

TEST(LeakSearchSort, FindBlockHonoursZeroSizeAndEnds) {
  std::vector<Block> blocks{{0x1000, 16, 1, AllocKind::malloc}, {0x1020, 0, 2, AllocKind::malloc}};
  EXPECT_EQ(find_block(blocks.data(), 2, 0xfff), -1);
  EXPECT_EQ(find_block(blocks.data(), 2, 0x1000), 0);
  EXPECT_EQ(find_block(blocks.data(), 2, 0x100f), 0);
  EXPECT_EQ(find_block(blocks.data(), 2, 0x1010), -1);
  EXPECT_EQ(find_block(blocks.data(), 2, 0x1020), 1);
  EXPECT_EQ(find_block(blocks.data(), 2, 0x1021), -1);
}

}  // namespace
}  // namespace memkit::check_rt
