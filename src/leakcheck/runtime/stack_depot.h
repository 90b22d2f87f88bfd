// stack_depot.h — every distinct allocation/free stack stored once, named by a small id.
//
// Lookups are lock-free (immutable nodes on atomic chains); inserting a new stack takes one lock,
// which only first sightings pay. Ids are 1.. in first-seen order, at most kMaxStackId (the block
// table packs an id into 24 bits); past that, new stacks get id 0 ("none recorded").
#pragma once

#include <cstdint>

#include "runtime.h"
#include "stack_walk.h"

namespace memkit::check_rt {

constexpr uint32_t kMaxStackId = (1u << 24) - 1;

// Maps the depot's lookup table; called by tracker_initialize. False when out of memory.
bool stack_depot_initialize();

// The id of this stack (inserting it on first sight); 0 when the depot is full or unmapped.
uint32_t stack_depot_intern(const uintptr_t* frames, uint32_t depth, uint64_t hash);

// Captures the calling thread's stack as seen from the interposed function that calls this (it
// must be called directly from that function) and interns it. frame0, when non-zero, replaces
// frames[0] (valgrind names aligned_alloc's and valloc's blocks "memalign"); keep_own_pc then
// keeps the pc inside the interposed function as frames[1] (posix_memalign's stacks read
// "memalign, posix_memalign, caller" in valgrind).
uint32_t capture_stack_id(uintptr_t frame0 = 0, bool keep_own_pc = false);

void lock_stack_depot();
void unlock_stack_depot();

}  // namespace memkit::check_rt
