// stack_walk.h — frame-pointer stack capture with validation, and the hash the depot keys on.
//
// The walk trusts a saved frame pointer only if it is 8-aligned, strictly above the current one
// and below the thread's stack top: code built without frame pointers then ends the stack early
// (after the caller of malloc, at worst) instead of reading garbage. Cost: one load pair per frame,
// ~1 ns, against ~2 µs for a DWARF unwind (research §7.3).
#pragma once

#include <cstdint>

namespace memkit::check_rt {

constexpr uint32_t kMaxStackDepth = 64;

struct CapturedStack {
  uintptr_t frames[kMaxStackDepth];
  uint32_t depth = 0;
};

// The stack hash, built a frame at a time: the multiplies are independent of each other, so the
// serial chain is a rotate and an xor per frame, and a walk costs little more than its loads.
inline uint64_t hash_step(uint64_t hash, uintptr_t frame) {
  return ((hash << 17) | (hash >> 47)) ^ (frame * 0x9E3779B97F4A7C15ull);
}
// The walk's own result is the raw hash with the depth folded in (two cheap steps): enough to key
// the per-thread cache, which a hit makes the whole cost. The depot, reached on a miss, wants its
// bits spread: hash_finish.
inline uint64_t hash_raw(uint64_t hash, uint32_t depth) { return hash_step(hash, depth); }
inline uint64_t hash_finish(uint64_t raw) {
  uint64_t hash = raw;
  hash ^= hash >> 33;
  hash *= 0xFF51AFD7ED558CCDull;
  hash ^= hash >> 33;
  hash *= 0xC4CEB9FE1A85EC53ull;
  return hash ^ (hash >> 33);
}

// Walks from `frame` (the frame of a function called directly by the interposed one): frames[0] is
// that function's return address, a pc inside the interposed function; then the interposed
// function's own return address and on up the chain. `stack_top` is the highest address a frame
// may occupy; 1 means unknown, and then only the two frames read from the tracker's own frames are
// taken. Returns the depth (1 ≤ depth ≤ max_depth) and sets *hash to hash_frames of the result
// (raw: see hash_raw).
inline uint32_t walk_frame_pointers(const uintptr_t* frame, uintptr_t stack_top, uintptr_t* frames,
                                    uint32_t max_depth, uint64_t* hash) {
  uint64_t h = hash_step(0, frames[0] = frame[1]);
  uint32_t depth = 1;
  // The interposed function is built with frame pointers, so its frame is always sound.
  frame = reinterpret_cast<const uintptr_t*>(frame[0]);
  while (depth < max_depth) {
    const uintptr_t return_address = frame[1];
    if (return_address < 4096) {
      break;
    }
    frames[depth++] = return_address;
    h = hash_step(h, return_address);
    const uintptr_t next = frame[0];
    const auto here = reinterpret_cast<uintptr_t>(frame);
    if (next <= here || (next & 7) != 0 || next + 2 * sizeof(uintptr_t) > stack_top) {
      break;
    }
    frame = reinterpret_cast<const uintptr_t*>(next);
  }
  *hash = hash_raw(h, depth);
  return depth;
}

inline uint64_t hash_frames(const uintptr_t* frames, uint32_t depth) {
  uint64_t h = 0;
  for (uint32_t i = 0; i < depth; ++i) {
    h = hash_step(h, frames[i]);
  }
  return hash_raw(h, depth);
}

}  // namespace memkit::check_rt
