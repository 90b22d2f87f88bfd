// leak_search.cpp — valgrind's two-pass leak search; see leak_search.h for the rules.
//
// The structure follows mc_leakcheck.c function for function
// (lc_push_without_clique_if_a_chunk_ptr, lc_push_with_clique_if_a_chunk_ptr,
// heuristic_reachedness, lc_scan_memory, lc_process_markstack, MC_(detect_memory_leaks)) so that a
// reader can check one against the other. What differs is speed: a word is first compared with the
// heap's [lowest, highest) range, then looked up in a page index (page → the blocks overlapping it)
// instead of a binary search over every block, and the blocks are radix-sorted.
#include "leak_search.h"

namespace memkit::check_rt {
namespace {

constexpr uintptr_t kWord = sizeof(uintptr_t);
constexpr uintptr_t kPageSize = 4096;
constexpr unsigned kPageShift = 12;

uintptr_t load_word(uintptr_t address) {
  uintptr_t word;
  __builtin_memcpy(&word, reinterpret_cast<const void*>(address), sizeof word);
  return word;
}

// A zero-size block covers one byte, so that a pointer to it still counts (find_chunk_for).
uintptr_t covered_end(const Block& block) {
  return block.address + (block.size == 0 ? 1 : block.size);
}

uint32_t heuristic_bit(Heuristic heuristic) { return 1u << (static_cast<unsigned>(heuristic) - 1); }

// ---- the page index: page number → [first, last) blocks overlapping the page ----------------

struct PageSlot {
  uint64_t page_plus_one;  // 0: empty
  uint32_t first;
  uint32_t last;
};

std::size_t page_index_capacity_entries(std::size_t block_count) { return block_count / 4 + 4096; }

std::size_t page_index_slots(std::size_t block_count) {
  std::size_t slots = 1;
  while (slots < 2 * page_index_capacity_entries(block_count)) slots <<= 1;
  return slots;
}

std::size_t stack_bytes(std::size_t block_count) {
  return (block_count * sizeof(uint32_t) + 15) & ~std::size_t{15};
}

class PageIndex {
 public:
  void init(PageSlot* slots, std::size_t slot_count, std::size_t max_entries) {
    slots_ = slots;
    mask_ = slot_count - 1;
    max_entries_ = max_entries;
    for (std::size_t i = 0; i < slot_count; ++i) slots_[i] = PageSlot{0, 0, 0};
  }

  // Blocks must come in ascending order. False when the index would exceed its capacity.
  bool add(const Block& block, uint32_t index) {
    uintptr_t first_page = block.address >> kPageShift;
    uintptr_t last_page = (covered_end(block) - 1) >> kPageShift;
    for (uintptr_t page = first_page; page <= last_page; ++page) {
      PageSlot& slot = find_slot(page);
      if (slot.page_plus_one == 0) {
        if (++entries_ > max_entries_) return false;
        slot = PageSlot{page + 1, index, index + 1};
      } else {
        slot.last = index + 1;
      }
    }
    return true;
  }

  // The candidate blocks for address: [*first, *last). False when no block overlaps its page.
  bool candidates(uintptr_t address, uint32_t* first, uint32_t* last) const {
    const PageSlot& slot = find_slot(address >> kPageShift);
    if (slot.page_plus_one == 0) return false;
    *first = slot.first;
    *last = slot.last;
    return true;
  }

 private:
  PageSlot& find_slot(uintptr_t page) const {
    std::size_t i = static_cast<std::size_t>((page * 0x9E3779B97F4A7C15ull) >> 20) & mask_;
    while (slots_[i].page_plus_one != 0 && slots_[i].page_plus_one != page + 1) i = (i + 1) & mask_;
    return slots_[i];
  }

  PageSlot* slots_ = nullptr;
  std::size_t mask_ = 0;
  std::size_t entries_ = 0;
  std::size_t max_entries_ = 0;
};

// The last block in [lo, hi) starting at or below address, if it covers address.
long find_in(const Block* blocks, std::size_t lo, std::size_t hi, uintptr_t address) {
  while (lo < hi) {  // first block starting above address
    std::size_t mid = lo + (hi - lo) / 2;
    if (blocks[mid].address <= address) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return -1;
  const Block& candidate = blocks[lo - 1];
  return address < covered_end(candidate) ? static_cast<long>(lo - 1) : -1;
}

// ---- the search ---------------------------------------------------------------------------------

class Search {
 public:
  Search(const SearchInput& input, BlockVerdict* verdicts, uint32_t* stack)
      : in_(input), verdicts_(verdicts), stack_(stack) {
    lowest_ = input.blocks[0].address;
    span_ = covered_end(input.blocks[input.block_count - 1]) - lowest_;
  }

  void use_page_index(const PageIndex* index) { index_ = index; }

  // lc_scan_memory: every aligned word of [begin, end).
  uint64_t scan(uintptr_t begin, uintptr_t end, bool prior_definite, long clique) {
    uintptr_t word_address = (begin + kWord - 1) & ~(kWord - 1);
    uintptr_t last = end & ~(kWord - 1);
    if (word_address >= last) return 0;
    for (uintptr_t at = word_address; at < last; at += kWord) {
      uintptr_t word = load_word(at);
      if (word - lowest_ >= span_) continue;  // the fast path: not into the heap's range
      long block = lookup(word);
      if (block < 0) continue;
      if (clique < 0) {
        reach(word, static_cast<std::size_t>(block), prior_definite);
      } else {
        absorb(static_cast<std::size_t>(block), static_cast<std::size_t>(clique));
      }
    }
    return last - word_address;
  }

  // lc_push_if_a_chunk_ptr_register
  void reach_from_register(uintptr_t word) {
    if (word - lowest_ >= span_) return;
    long block = lookup(word);
    if (block >= 0) reach(word, static_cast<std::size_t>(block), /*prior_definite=*/true);
  }

  // lc_process_markstack
  uint64_t drain(long clique) {
    uint64_t scanned = 0;
    while (top_ > 0) {
      std::size_t index = stack_[--top_];
      BlockVerdict& verdict = verdicts_[index];
      verdict.pending = false;
      bool prior_definite = verdict.state != Reachedness::possible;
      const Block& block = in_.blocks[index];
      scanned += scan(block.address, block.address + block.size, prior_definite, clique);
    }
    return scanned;
  }

  void lead_clique(std::size_t index) {
    push(index);
    drain(static_cast<long>(index));
  }

 private:
  long lookup(uintptr_t word) const {
    if (index_ == nullptr) return find_in(in_.blocks, 0, in_.block_count, word);
    uint32_t first = 0;
    uint32_t last = 0;
    if (!index_->candidates(word, &first, &last)) return -1;
    return find_in(in_.blocks, first, last, word);
  }

  void push(std::size_t index) {
    BlockVerdict& verdict = verdicts_[index];
    if (verdict.pending) return;
    verdict.pending = true;
    stack_[top_++] = static_cast<uint32_t>(index);
  }

  // lc_push_without_clique_if_a_chunk_ptr
  void reach(uintptr_t pointer, std::size_t index, bool prior_definite) {
    BlockVerdict& verdict = verdicts_[index];
    const Block& block = in_.blocks[index];
    if (verdict.state == Reachedness::reachable) {
      // Reached by a start-pointer after a heuristic: it no longer owes anything to it.
      if (verdict.heuristic != Heuristic::none && pointer == block.address) {
        verdict.heuristic = Heuristic::none;
      }
      return;
    }
    bool as_start_pointer;
    if (pointer == block.address) {
      as_start_pointer = true;
    } else if (in_.heuristics != 0) {
      verdict.heuristic = heuristic_reachedness(pointer, block);
      as_start_pointer = verdict.heuristic != Heuristic::none;
    } else {
      as_start_pointer = false;
    }
    if (as_start_pointer && prior_definite) {
      verdict.state = Reachedness::reachable;
      push(index);
    } else if (verdict.state == Reachedness::unreached) {
      verdict.state = Reachedness::possible;
      push(index);
    }
  }

  // lc_push_with_clique_if_a_chunk_ptr: start- and interior pointers alike.
  void absorb(std::size_t index, std::size_t clique) {
    BlockVerdict& verdict = verdicts_[index];
    if (verdict.state != Reachedness::unreached || index == clique) return;
    push(index);
    verdicts_[clique].indirect_bytes += in_.blocks[index].size + verdict.indirect_bytes;
    verdict.indirect_bytes = 0;
    verdict.state = Reachedness::indirect_leak;
  }

  bool enabled(Heuristic heuristic) const {
    return (in_.heuristics & heuristic_bit(heuristic)) != 0;
  }

  // MC_(is_valid_aligned_word) for a word inside a block: aligned and wholly inside it.
  static bool word_in_block(uintptr_t address, const Block& block) {
    return (address & (kWord - 1)) == 0 && address >= block.address &&
           address + kWord <= block.address + block.size;
  }

  // heuristic_reachedness, in valgrind's order.
  Heuristic heuristic_reachedness(uintptr_t pointer, const Block& block) const {
    const uintptr_t data = block.address;
    const std::size_t size = block.size;
    if (enabled(Heuristic::stdstring) && pointer == data + 3 * kWord &&
        word_in_block(data + kWord, block)) {
      // The pre-C++11 libstdc++ string: length, capacity, refcount, then the characters.
      uintptr_t capacity = load_word(data + kWord);
      if (3 * kWord + capacity + 1 == size && word_in_block(data, block) &&
          load_word(data) <= capacity) {
        return Heuristic::stdstring;
      }
    }
    if (enabled(Heuristic::length64) && pointer == data + 8 && word_in_block(data, block)) {
      uint64_t length = load_word(data);  // sqlite3MemMalloc: the size of what follows
      if (length > 0 && size - 8 == length) return Heuristic::length64;
    }
    if (enabled(Heuristic::newarray) && pointer == data + kWord && word_in_block(data, block)) {
      uintptr_t elements = load_word(data);  // new T[n]'s cookie for a T with a destructor
      if (elements > 0 && (size - kWord) % elements == 0) return Heuristic::newarray;
    }
    if (enabled(Heuristic::multiple_inheritance) && word_in_block(pointer, block)) {
      // A pointer to a secondary base: both it and the block's start hold vtable pointers.
      uintptr_t inner = load_word(pointer);
      if ((inner & (kWord - 1)) == 0 && inner >= kPageSize && word_in_block(data, block)) {
        uintptr_t first = load_word(data);
        if ((first & (kWord - 1)) == 0 && first >= kPageSize && looks_like_vtable(inner) &&
            looks_like_vtable(first)) {
          return Heuristic::multiple_inheritance;
        }
      }
    }
    return Heuristic::none;
  }

  const MappingInfo* mapping_of(uintptr_t address) const {
    std::size_t lo = 0;
    std::size_t hi = in_.mapping_count;
    while (lo < hi) {
      std::size_t mid = lo + (hi - lo) / 2;
      if (in_.mappings[mid].end <= address) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo == in_.mapping_count || address < in_.mappings[lo].begin) return nullptr;
    return &in_.mappings[lo];
  }

  // aligned_ptr_above_page0_is_vtable_addr: in a readable file-backed mapping, and among its
  // first 21 words at least 2 non-null ones before any that does not point into file-backed code.
  bool looks_like_vtable(uintptr_t address) const {
    const MappingInfo* mapping = mapping_of(address);
    if (mapping == nullptr || !mapping->file_backed || !mapping->readable) return false;
    constexpr uintptr_t kMaxCheckedWords = 20;
    uintptr_t scan_max = address + kMaxCheckedWords * kWord;
    if (scan_max > mapping->end - 1 - kWord) scan_max = mapping->end - 1 - kWord;
    int function_pointers = 0;
    for (uintptr_t at = address; at <= scan_max; at += kWord) {
      uintptr_t candidate = load_word(at);
      if (candidate == 0) continue;
      const MappingInfo* target = mapping_of(candidate);
      if (target == nullptr || !target->file_backed || !target->executable) return false;
      if (++function_pointers == 2) return true;
    }
    return false;
  }

  const SearchInput& in_;
  BlockVerdict* verdicts_;
  uint32_t* stack_;
  std::size_t top_ = 0;
  const PageIndex* index_ = nullptr;
  uintptr_t lowest_ = 0;
  uintptr_t span_ = 0;
};

bool sorted_and_disjoint(const Block* blocks, std::size_t count) {
  for (std::size_t i = 1; i < count; ++i) {
    if (blocks[i].address <= blocks[i - 1].address) return false;
    if (blocks[i - 1].address + blocks[i - 1].size > blocks[i].address) return false;
  }
  return true;
}

}  // namespace

const char* heuristic_name(Heuristic heuristic) {
  switch (heuristic) {
    case Heuristic::none:
      return "none";
    case Heuristic::stdstring:
      return "stdstring";
    case Heuristic::length64:
      return "length64";
    case Heuristic::newarray:
      return "newarray";
    case Heuristic::multiple_inheritance:
      return "multipleinheritance";
  }
  return "none";
}

std::size_t leak_search_scratch_bytes(std::size_t block_count) {
  if (block_count == 0) return 0;
  return stack_bytes(block_count) + page_index_slots(block_count) * sizeof(PageSlot);
}

bool leak_search(const SearchInput& input, BlockVerdict* verdicts, void* scratch,
                 std::size_t scratch_bytes, SearchStats* stats) {
  SearchStats local_stats;
  if (stats == nullptr) stats = &local_stats;
  *stats = SearchStats{};
  const std::size_t n = input.block_count;
  if (n > UINT32_MAX - 1 || !sorted_and_disjoint(input.blocks, n)) return false;
  if (scratch_bytes < leak_search_scratch_bytes(n) || (n > 0 && scratch == nullptr)) return false;
  for (std::size_t i = 0; i < n; ++i) verdicts[i] = BlockVerdict{};
  if (n == 0) return true;

  auto* bytes = static_cast<unsigned char*>(scratch);
  auto* stack = reinterpret_cast<uint32_t*>(bytes);
  auto* slots = reinterpret_cast<PageSlot*>(bytes + stack_bytes(n));
  PageIndex index;
  index.init(slots, page_index_slots(n), page_index_capacity_entries(n));
  bool indexed = true;
  for (std::size_t i = 0; i < n && indexed; ++i)
    indexed = index.add(input.blocks[i], static_cast<uint32_t>(i));

  Search search(input, verdicts, stack);
  if (indexed) search.use_page_index(&index);
  stats->used_page_index = indexed;

  // Pass 1: roots, then registers, then everything they reach.
  for (std::size_t i = 0; i < input.root_count; ++i) {
    stats->scanned_root_bytes +=
        search.scan(input.roots[i].begin, input.roots[i].end, /*prior_definite=*/true, -1);
  }
  for (std::size_t i = 0; i < input.register_count; ++i)
    search.reach_from_register(input.registers[i]);
  stats->scanned_block_bytes += search.drain(-1);

  // Pass 2: cliques of the unreached, lowest address first.
  for (std::size_t i = 0; i < n; ++i) {
    if (verdicts[i].state == Reachedness::unreached) search.lead_clique(i);
  }
  return true;
}

void sort_blocks_by_address(Block* blocks, Block* temp, std::size_t count) {
  if (count < 2) return;
  uintptr_t lowest = blocks[0].address;
  uintptr_t highest = blocks[0].address;
  for (std::size_t i = 1; i < count; ++i) {
    if (blocks[i].address < lowest) lowest = blocks[i].address;
    if (blocks[i].address > highest) highest = blocks[i].address;
  }
  // Only the bits in which addresses differ need sorting; heaps are dense, so usually 3 passes.
  const uintptr_t range = highest - lowest;
  constexpr unsigned kDigitBits = 11;
  constexpr std::size_t kBuckets = std::size_t{1} << kDigitBits;
  Block* from = blocks;
  Block* to = temp;
  for (unsigned shift = 0; shift < 64 && (range >> shift) != 0; shift += kDigitBits) {
    uint32_t counts[kBuckets] = {};
    for (std::size_t i = 0; i < count; ++i) {
      ++counts[((from[i].address - lowest) >> shift) & (kBuckets - 1)];
    }
    uint32_t offset = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      uint32_t c = counts[b];
      counts[b] = offset;
      offset += c;
    }
    for (std::size_t i = 0; i < count; ++i) {
      to[counts[((from[i].address - lowest) >> shift) & (kBuckets - 1)]++] = from[i];
    }
    Block* swap = from;
    from = to;
    to = swap;
  }
  if (from != blocks) {
    for (std::size_t i = 0; i < count; ++i) blocks[i] = from[i];
  }
}

long find_block(const Block* blocks, std::size_t count, uintptr_t address) {
  return find_in(blocks, 0, count, address);
}

}  // namespace memkit::check_rt
