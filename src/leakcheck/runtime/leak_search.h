// leak_search.h — valgrind memcheck's leak search (mc_leakcheck.c) as a pure function.
//
// Input: the live blocks sorted by address, the root ranges, the register words of every thread,
// the heuristics to apply and (for the multipleinheritance heuristic) the process's mappings.
// Output: one verdict per block — reachable, possibly lost, indirectly lost or unreached
// (definitely lost) — the bytes each clique leader holds indirectly, and the heuristic that
// made a block reachable. The rules are valgrind's, to the letter:
//
//   pass 1  roots are scanned (every aligned word), then the registers, then the mark stack is
//           drained. A start-pointer from a definite node makes a block Reachable; an interior
//           pointer (unless a heuristic accepts it) or any pointer from a Possible block makes it
//           Possible, which a later definite start-pointer upgrades.
//   pass 2  the blocks still unreached are taken in ascending address order; each leads a clique
//           and absorbs (as IndirectLeak) every unreached block it reaches by any pointer, with
//           their sizes and any absorbed leader's indirect bytes.
//
// No malloc and no library calls: the caller hands in the output array and scratch memory, so
// the same code runs inside the preloaded runtime and in an ordinary unit test. The memory of
// roots, blocks and (for the multipleinheritance heuristic) file-backed readable mappings is read
// directly: the caller guarantees it is readable.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime.h"

namespace memkit::check_rt {

// valgrind's Reachedness, in its order (loss records of equal size sort by it).
enum class Reachedness : uint8_t { reachable = 0, possible = 1, indirect_leak = 2, unreached = 3 };

// valgrind's LeakCheckHeuristic; Heuristic h is enabled by HeuristicBit 1 << (h - 1).
enum class Heuristic : uint8_t { none, stdstring, length64, newarray, multiple_inheritance };
inline constexpr int kHeuristicCount = 5;  // none included
// valgrind's names ("none", "stdstring", "length64", "newarray", "multipleinheritance").
const char* heuristic_name(Heuristic heuristic);

struct AddressRange {
  uintptr_t begin = 0;
  uintptr_t end = 0;  // one past the last byte
};

// What the multipleinheritance heuristic needs to know about a mapping ("does this word point
// into a readable file-backed mapping / into file-backed code?").
struct MappingInfo {
  uintptr_t begin = 0;
  uintptr_t end = 0;
  bool readable = false;
  bool executable = false;
  bool file_backed = false;
};

struct BlockVerdict {
  uint64_t indirect_bytes = 0;  // for a clique leader (Unreached): the bytes it holds indirectly
  Reachedness state = Reachedness::unreached;
  Heuristic heuristic = Heuristic::none;  // as valgrind leaves it (see heuristic_totals)
  bool pending = false;                   // on the mark stack (internal)
};

struct SearchInput {
  const Block* blocks = nullptr;  // ascending by address, non-overlapping
  std::size_t block_count = 0;
  const AddressRange* roots = nullptr;
  std::size_t root_count = 0;
  const uintptr_t* registers = nullptr;
  std::size_t register_count = 0;
  const MappingInfo* mappings = nullptr;  // ascending by address; may be empty
  std::size_t mapping_count = 0;
  uint32_t heuristics = kHeuristicsAll;  // HeuristicBit mask
};

struct SearchStats {
  uint64_t scanned_root_bytes =
      0;  // bytes of roots read (valgrind's "Checked N bytes" counts roots)
  uint64_t scanned_block_bytes = 0;
  bool used_page_index = false;  // the lookup accelerator fitted in the scratch memory
};

// Scratch memory leak_search needs for block_count blocks (any alignment of 8 is fine).
std::size_t leak_search_scratch_bytes(std::size_t block_count);

// Runs the search. verdicts has block_count entries; scratch has leak_search_scratch_bytes().
// Returns false (and touches nothing) if the blocks are not sorted and disjoint or the scratch
// is too small.
bool leak_search(const SearchInput& input, BlockVerdict* verdicts, void* scratch,
                 std::size_t scratch_bytes, SearchStats* stats);

// Sorts blocks by address (LSD radix sort; temp has count entries). No allocation.
void sort_blocks_by_address(Block* blocks, Block* temp, std::size_t count);

// The index of the block containing address (a zero-size block covers one byte), or -1.
long find_block(const Block* blocks, std::size_t count, uintptr_t address);

}  // namespace memkit::check_rt
