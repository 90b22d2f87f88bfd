// block_table.h — the live blocks (address → size, allocation stack, kind), the heap totals, and
// the history of recently freed blocks that double frees are explained with.
//
// 64 shards, each a linear-probing table under its own spinlock, chosen by a hash of the address;
// a block's alloc and its free meet in the same shard, so each costs one uncontended lock, and the
// totals are per-shard counters updated under that lock (no atomic read-modify-write).
//
// Memory per live block: a 16-byte slot (address|kind; size | stack id << 40) in a table kept
// between 3/8 and 3/4 full: 21–43 bytes, 32 on average. Plus the freed history, 256 records of 24
// bytes per shard (384 KiB in all; small enough to stay in L2, since every free writes one), and
// the stack depot.
#pragma once

#include <cstdint>

#include "runtime.h"

namespace memkit::check_rt {

// A block as it was when freed (or released by realloc).
struct FreedBlock {
  Block block;
  uint32_t free_stack_id = 0;
};

// Adds a block and counts one allocation of `size` bytes. False when its shard could not grow
// (out of memory): the block is then not tracked and not counted. (Scalars, not a Block: passed
// in registers, where a struct in memory costs a store-forwarding stall on every allocation.)
bool insert_block(uintptr_t address, std::size_t size, uint32_t stack_id, AllocKind kind);

enum class Release : uint8_t { released, not_live, busy };
// Removes the live block at `address` into *block, counts a free and remembers it in the freed
// history with free_stack_id. With try_only (untracked paths, signal handlers), gives up with
// `busy` instead of waiting for the shard's lock.
Release release_block(uintptr_t address, uint32_t free_stack_id, Block* block, bool try_only);

// Undoes release_block for a realloc that failed: the block is live again and its free uncounted.
void restore_block(const Block& block);

// Counts what valgrind counts for an operation on an address that is not a live block: a free
// for free/delete, and also an allocation of `realloc_bytes` for realloc.
void count_invalid_release(uintptr_t address, bool is_realloc, std::size_t realloc_bytes);

// The slow lookups of the error path. find_containing_block: the live block whose bytes contain
// `address` (an interior pointer passed to free). find_freed_block: the most recently freed block
// among the remembered ones that starts at `address` (or, with containing, contains it).
bool find_containing_block(uintptr_t address, Block* block);
bool find_freed_block(uintptr_t address, bool containing, FreedBlock* freed);

void lock_block_table();
void unlock_block_table();

}  // namespace memkit::check_rt
