// The foreign-block set: open addressing over a fixed static array, slots claimed and released
// with compare-and-swap; a released slot becomes a tombstone that a later insertion may reuse.
#include "tracker_foreign_blocks.h"

#include <atomic>

namespace memkit::check_rt {
namespace {

constexpr uint32_t kSlots = 4096;
constexpr uint32_t kMaxProbes = 64;
constexpr uintptr_t kEmpty = 0;
constexpr uintptr_t kTombstone = 1;

std::atomic<uintptr_t> g_slots[kSlots];

uint32_t home(uintptr_t address) {
  return static_cast<uint32_t>(((address >> 4) * 0x9E3779B97F4A7C15ull) >> 52);  // 12 bits
}

}  // namespace

void remember_foreign_block(uintptr_t address) {
  if (address <= kTombstone) {
    return;
  }
  for (uint32_t n = 0, i = home(address); n < kMaxProbes; ++n, i = (i + 1) % kSlots) {
    uintptr_t seen = g_slots[i].load(std::memory_order_relaxed);
    if ((seen == kEmpty || seen == kTombstone) &&
        g_slots[i].compare_exchange_strong(seen, address, std::memory_order_release)) {
      return;
    }
  }
}

bool take_foreign_block(uintptr_t address) {
  if (address <= kTombstone) {
    return false;
  }
  for (uint32_t n = 0, i = home(address); n < kMaxProbes; ++n, i = (i + 1) % kSlots) {
    uintptr_t seen = g_slots[i].load(std::memory_order_acquire);
    if (seen == kEmpty) {
      return false;
    }
    if (seen == address && g_slots[i].compare_exchange_strong(seen, kTombstone)) {
      return true;
    }
  }
  return false;
}

}  // namespace memkit::check_rt
