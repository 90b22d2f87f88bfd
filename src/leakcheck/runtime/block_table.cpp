// The live-block table. See block_table.h for the layout and its memory cost.
#include "block_table.h"

#include <atomic>

#include "internal_memory.h"
#include "tracker_spinlock.h"

namespace memkit::check_rt {
namespace {

constexpr uint32_t kShardBits = 6;
constexpr uint32_t kShardCount = 1u << kShardBits;
constexpr uint32_t kInitialSlotBits = 9;  // 512 slots: one 8 KiB table per shard to start with
constexpr uint32_t kHistoryLength = 256;  // freed blocks remembered per shard

// Slot encoding. Addresses from glibc are 16-byte aligned, so the key's low bits carry the kind.
// The value packs the size (below 1 TiB; larger sizes live in g_huge_sizes) and the stack id.
constexpr uint64_t kKindMask = 0x3;
constexpr uint64_t kAddressMask = ~uint64_t{0xF};
constexpr uint32_t kSizeBits = 40;
constexpr uint64_t kSizeMask = (uint64_t{1} << kSizeBits) - 1;
constexpr uint64_t kHugeSize = kSizeMask;  // "look the size up in g_huge_sizes"

struct Slot {
  uint64_t key;  // address | kind; 0: empty
  uint64_t value;
};

struct FreedRecord {
  uint64_t key;  // address | kind; 0: unused
  uint64_t size;
  uint32_t alloc_stack_id;
  uint32_t free_stack_id;
};

// Counters are written only under the shard's lock; atomics (relaxed, no read-modify-write) so
// that heap_totals may read them from any thread.
struct Counter {
  std::atomic<uint64_t> value{0};
  void add(uint64_t n) {
    value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void subtract(uint64_t n) {
    value.store(value.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  uint64_t get() const { return value.load(std::memory_order_relaxed); }
};

struct alignas(64) Shard {
  SpinLock lock;
  uint32_t slot_bits = 0;  // 0: no table yet
  Slot* slots = nullptr;
  Counter live;  // blocks in the table
  Counter allocs, frees, bytes_allocated, in_use_bytes;
  FreedRecord* history = nullptr;
  uint32_t history_next = 0;
};

Shard g_shards[kShardCount];

// Blocks of 1 TiB or more: possible with overcommit, never seen in practice; a small list.
struct HugeSize {
  uintptr_t address;
  uint64_t size;
};
constexpr uint32_t kMaxHugeSizes = 64;
SpinLock g_huge_lock;
HugeSize g_huge_sizes[kMaxHugeSizes];

// Where a block lives in the table keeps the heap's locality: blocks glibc hands out one after
// another sit side by side in one page, and their slots do too. A random hash scattered a big
// heap's blocks over tens of megabytes of table, so that every insert missed the cache and the
// TLB (140 ns per allocation with a million live blocks). The "hash" is the address in 16-byte
// granules; the shard is picked by the page number (a page's blocks share a shard, threads
// working in different arenas mostly do not); within a shard the slot is the
// granule with the shard bits taken out, each table-sized window of the address space shifted by
// a multiplicative hash of its number, so that blocks a multiple of the table's span apart (big,
// page-aligned blocks) do not pile onto one run of slots.
constexpr uint32_t kGranulesPerPageBits = 8;  // 4096 / 16
uint64_t hash_address(uintptr_t address) { return address >> 4; }
Shard& shard_of(uint64_t granule) {
  // glibc's arenas for other threads are 64 MiB-aligned heaps (2^14 pages): fold that bit range
  // in, or two threads allocating at the same offset of their arenas would share every shard.
  const uint64_t page = granule >> kGranulesPerPageBits;
  return g_shards[(page ^ (page >> 14)) & (kShardCount - 1)];
}
uint64_t home_slot(uint64_t granule, uint32_t slot_bits) {
  const uint64_t low = granule & ((uint64_t{1} << kGranulesPerPageBits) - 1);
  const uint64_t compact =
      ((granule >> (kGranulesPerPageBits + kShardBits)) << kGranulesPerPageBits) | low;
  const uint64_t window = compact >> slot_bits;
  return (compact + window * 0x9E3779B97F4A7C15ull) & ((uint64_t{1} << slot_bits) - 1);
}

uint64_t encode_size(uintptr_t address, uint64_t size) {
  if (size < kHugeSize) [[likely]] {
    return size;
  }
  SpinLockHolder hold(g_huge_lock);
  for (HugeSize& entry : g_huge_sizes) {
    if (entry.address == 0 || entry.address == address) {
      entry = HugeSize{address, size};
      break;
    }
  }
  return kHugeSize;  // with the list full, the size reads as kHugeSize: under by the excess
}

uint64_t decode_size(uintptr_t address, uint64_t field, bool forget) {
  if (field != kHugeSize) [[likely]] {
    return field;
  }
  SpinLockHolder hold(g_huge_lock);
  for (HugeSize& entry : g_huge_sizes) {
    if (entry.address == address) {
      const uint64_t size = entry.size;
      if (forget) {
        entry = HugeSize{0, 0};
      }
      return size;
    }
  }
  return kHugeSize;
}

__attribute__((always_inline)) inline Block decode(const Slot& slot, bool forget_huge) {
  Block block;
  block.address = slot.key & kAddressMask;
  block.kind = static_cast<AllocKind>(slot.key & kKindMask);
  block.stack_id = static_cast<uint32_t>(slot.value >> kSizeBits);
  block.size = decode_size(block.address, slot.value & kSizeMask, forget_huge);
  return block;
}

// Returns the slot holding `address`, or the empty slot where it would go.
Slot* probe(Shard& shard, uintptr_t address, uint64_t hash) {
  const uint64_t mask = (uint64_t{1} << shard.slot_bits) - 1;
  for (uint64_t i = home_slot(hash, shard.slot_bits);; i = (i + 1) & mask) {
    Slot& slot = shard.slots[i];
    if (slot.key == 0 || (slot.key & kAddressMask) == address) {
      return &slot;
    }
  }
}

bool grow(Shard& shard) {
  const uint32_t bits = shard.slot_bits == 0 ? kInitialSlotBits : shard.slot_bits + 1;
  auto* slots = static_cast<Slot*>(internal_map(sizeof(Slot) << bits));
  if (slots == nullptr) {
    return false;
  }
  Slot* old_slots = shard.slots;
  const uint32_t old_bits = shard.slot_bits;
  shard.slots = slots;
  shard.slot_bits = bits;
  if (old_slots != nullptr) {
    for (uint64_t i = 0; i < (uint64_t{1} << old_bits); ++i) {
      if (old_slots[i].key != 0) {
        const uintptr_t address = old_slots[i].key & kAddressMask;
        *probe(shard, address, hash_address(address)) = old_slots[i];
      }
    }
    internal_unmap(old_slots, sizeof(Slot) << old_bits);
  }
  return true;
}

// Backward-shift deletion: later slots of the probe run move up, so the table never needs
// tombstones and lookups stay short however many blocks come and go.
void erase(Shard& shard, Slot* slot) {
  const uint64_t mask = (uint64_t{1} << shard.slot_bits) - 1;
  uint64_t hole = static_cast<uint64_t>(slot - shard.slots);
  for (uint64_t i = (hole + 1) & mask;; i = (i + 1) & mask) {
    Slot& next = shard.slots[i];
    if (next.key == 0) {
      break;
    }
    const uint64_t home = home_slot(hash_address(next.key & kAddressMask), shard.slot_bits);
    if (((i - home) & mask) >= ((i - hole) & mask)) {
      shard.slots[hole] = next;
      hole = i;
    }
  }
  shard.slots[hole] = Slot{0, 0};
}

__attribute__((always_inline)) inline void remember_freed(Shard& shard, const Block& block,
                                                          uint32_t free_stack_id) {
  if (shard.history == nullptr) [[unlikely]] {
    shard.history = static_cast<FreedRecord*>(internal_map(sizeof(FreedRecord) * kHistoryLength));
    if (shard.history == nullptr) {
      return;
    }
  }
  FreedRecord& record = shard.history[shard.history_next];
  record.key = block.address | static_cast<uint64_t>(block.kind);
  record.size = block.size;
  record.alloc_stack_id = block.stack_id;
  record.free_stack_id = free_stack_id;
  shard.history_next = (shard.history_next + 1) % kHistoryLength;
}

// Newest first, so that a double free names the latest free of that address.
bool search_history(const Shard& shard, uintptr_t address, bool containing, FreedBlock* freed) {
  if (shard.history == nullptr) {
    return false;
  }
  for (uint32_t n = 1; n <= kHistoryLength; ++n) {
    const FreedRecord& record =
        shard.history[(shard.history_next + kHistoryLength - n) % kHistoryLength];
    if (record.key == 0) {
      continue;
    }
    const uintptr_t begin = record.key & kAddressMask;
    const bool hit =
        containing ? address >= begin && address - begin < record.size : begin == address;
    if (hit) {
      freed->block = Block{begin, record.size, record.alloc_stack_id,
                           static_cast<AllocKind>(record.key & kKindMask)};
      freed->free_stack_id = record.free_stack_id;
      return true;
    }
  }
  return false;
}

}  // namespace

bool insert_block(uintptr_t address, std::size_t size, uint32_t stack_id, AllocKind kind) {
  const uint64_t hash = hash_address(address);
  Shard& shard = shard_of(hash);
  const uint64_t value = (uint64_t{stack_id} << kSizeBits) | encode_size(address, size);
  const uint64_t key = address | static_cast<uint64_t>(kind);
  SpinLockHolder hold(shard.lock);
  const uint64_t live = shard.live.get();
  if ((live + 1) * 4 > (uint64_t{3} << shard.slot_bits)) [[unlikely]] {
    if (!grow(shard)) {
      return false;
    }
  }
  Slot* slot = probe(shard, address, hash);
  if (slot->key != 0) [[unlikely]] {
    // Still listed: glibc freed it behind the tracker's back (an untracked free that found the
    // shard busy). The old block is gone; it is neither counted as freed nor in use any more.
    shard.in_use_bytes.subtract(decode(*slot, false).size);
  } else {
    shard.live.add(1);
  }
  slot->key = key;
  slot->value = value;
  shard.allocs.add(1);
  shard.bytes_allocated.add(size);
  shard.in_use_bytes.add(size);
  return true;
}

Release release_block(uintptr_t address, uint32_t free_stack_id, Block* block, bool try_only) {
  const uint64_t hash = hash_address(address);
  Shard& shard = shard_of(hash);
  if (try_only) {
    if (!shard.lock.try_lock()) {
      return Release::busy;
    }
  } else {
    shard.lock.lock();
  }
  Release result = Release::not_live;
  if (shard.slot_bits != 0 && (address & ~kAddressMask) == 0) [[likely]] {
    Slot* slot = probe(shard, address, hash);
    if (slot->key != 0) [[likely]] {
      const Block found = decode(*slot, true);
      erase(shard, slot);
      shard.live.subtract(1);
      shard.in_use_bytes.subtract(found.size);
      shard.frees.add(1);
      remember_freed(shard, found, free_stack_id);
      block->address = found.address;
      block->size = found.size;
      block->stack_id = found.stack_id;
      block->kind = found.kind;
      result = Release::released;
    }
  }
  shard.lock.unlock();
  return result;
}

void restore_block(const Block& block) {
  if (insert_block(block.address, block.size, block.stack_id, block.kind)) {
    Shard& shard = shard_of(hash_address(block.address));
    SpinLockHolder hold(shard.lock);
    shard.allocs.subtract(1);
    shard.bytes_allocated.subtract(block.size);
    shard.frees.subtract(1);
  }
}

void count_invalid_release(uintptr_t address, bool is_realloc, std::size_t realloc_bytes) {
  Shard& shard = shard_of(hash_address(address));
  SpinLockHolder hold(shard.lock);
  shard.frees.add(1);
  if (is_realloc) {
    shard.allocs.add(1);
    shard.bytes_allocated.add(realloc_bytes);
  }
}

bool find_containing_block(uintptr_t address, Block* block) {
  for (Shard& shard : g_shards) {
    SpinLockHolder hold(shard.lock);
    for (uint64_t i = 0; shard.slot_bits != 0 && i < (uint64_t{1} << shard.slot_bits); ++i) {
      const Slot& slot = shard.slots[i];
      if (slot.key == 0) {
        continue;
      }
      const Block candidate = decode(slot, false);
      // A zero-sized block contains nothing; valgrind says the same.
      if (address >= candidate.address && address - candidate.address < candidate.size) {
        *block = candidate;
        return true;
      }
    }
  }
  return false;
}

bool find_freed_block(uintptr_t address, bool containing, FreedBlock* freed) {
  if (!containing) {
    Shard& home = shard_of(hash_address(address));
    SpinLockHolder hold(home.lock);
    return search_history(home, address, false, freed);
  }
  for (Shard& shard : g_shards) {
    SpinLockHolder hold(shard.lock);
    if (search_history(shard, address, true, freed)) {
      return true;
    }
  }
  return false;
}

void lock_block_table() {
  for (Shard& shard : g_shards) {
    shard.lock.lock();
  }
  g_huge_lock.lock();
}

void unlock_block_table() {
  g_huge_lock.unlock();
  for (uint32_t i = kShardCount; i-- > 0;) {
    g_shards[i].lock.unlock();
  }
}

void for_each_live_block(void (*fn)(const Block& block, void* ctx), void* ctx) {
  // Runs with the table locked (lock_tracker), huge-size lock included: decode without locking.
  for (const Shard& shard : g_shards) {
    for (uint64_t i = 0; shard.slot_bits != 0 && i < (uint64_t{1} << shard.slot_bits); ++i) {
      const Slot& slot = shard.slots[i];
      if (slot.key == 0) {
        continue;
      }
      Block block;
      block.address = slot.key & kAddressMask;
      block.kind = static_cast<AllocKind>(slot.key & kKindMask);
      block.stack_id = static_cast<uint32_t>(slot.value >> kSizeBits);
      block.size = slot.value & kSizeMask;
      if (block.size == kHugeSize) {
        for (const HugeSize& entry : g_huge_sizes) {
          if (entry.address == block.address) {
            block.size = entry.size;
          }
        }
      }
      fn(block, ctx);
    }
  }
}

std::size_t live_block_count() {
  uint64_t count = 0;
  for (const Shard& shard : g_shards) {
    count += shard.live.get();
  }
  return count;
}

HeapTotals heap_totals() {
  HeapTotals totals;
  for (const Shard& shard : g_shards) {
    totals.allocs += shard.allocs.get();
    totals.frees += shard.frees.get();
    totals.bytes_allocated += shard.bytes_allocated.get();
    totals.in_use_bytes += shard.in_use_bytes.get();
    totals.in_use_blocks += shard.live.get();
  }
  return totals;
}

}  // namespace memkit::check_rt
