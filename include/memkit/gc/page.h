// memkit/gc/page.h — where GC objects live: size-classed pages and large objects.
//
// The heap takes memory from the OS in 128 KiB pages aligned to their size, so the page an
// object lives in is its address with the low 17 bits cleared — no lookup table on the marking
// path. A normal page holds slots of one size class (16-byte steps up to 128 bytes, then four
// classes per power of two up to 8 KiB); its header holds the mark bitmap (one bit per slot).
// An object larger than 8 KiB gets a mapping of its own (a LargeObject header, then the object)
// that is given back to the OS when the object dies.
//
//   NormalPage (128 KiB, aligned)                    LargeObject (n × 128 KiB, aligned)
//   +--------+-------------+------+------+-- ... --+ +--------+------------------------- ...
//   | header | mark bitmap | slot | slot |         | | header | one object
//   +--------+-------------+------+------+-- ... --+ +--------+------------------------- ...
//
// A slot is free when its first word has the low bit set (free-list link | 1; a live object's
// first word is its vtable pointer, always even) and in construction when it is 0.
#ifndef MEMKIT_GC_PAGE_H_
#define MEMKIT_GC_PAGE_H_

#include <array>
#include <cstddef>
#include <cstdint>

#include "memkit/gc/garbage_collected.h"

namespace memkit::gc {

class Heap;

namespace detail {

struct Handles;

inline constexpr std::size_t kPageSize = std::size_t{1} << 17;  // 128 KiB
inline constexpr std::uintptr_t kPageMask = ~(std::uintptr_t{kPageSize} - 1);
inline constexpr std::size_t kGranule = 16;
inline constexpr std::size_t kMaxSmallSize = 8192;
inline constexpr std::size_t kMaxSlotsPerPage = kPageSize / kGranule;
inline constexpr std::size_t kSizeClassCount = 32;

// 16, 32, ..., 128, then 160, 192, 224, 256, 320, ..., 8192.
inline constexpr std::array<std::uint32_t, kSizeClassCount> kSizeClasses = [] {
  std::array<std::uint32_t, kSizeClassCount> sizes{};
  std::size_t i = 0;
  for (std::uint32_t size = 16; size <= 128; size += 16) sizes[i++] = size;
  for (std::uint32_t base = 128; i < kSizeClassCount; base *= 2) {
    for (std::uint32_t step = 1; step <= 4; ++step) sizes[i++] = base + step * base / 4;
  }
  return sizes;
}();
static_assert(kSizeClasses[kSizeClassCount - 1] == kMaxSmallSize);

// The smallest class that holds `size` bytes (size <= kMaxSmallSize).
constexpr std::size_t size_class_index(std::size_t size) {
  std::size_t index = 0;
  while (kSizeClasses[index] < size) ++index;
  return index;
}

enum class PageKind : std::uint32_t { kNormal, kLarge };

struct PageHeader {
  Heap* heap;
  Handles* handles;  // the heap's Locals and Roots, for handles made from an object pointer
  PageKind kind;
};

struct NormalPage : PageHeader {
  std::uint32_t size_class;
  std::uint32_t slot_size;
  std::uint32_t slot_count;
  std::uint32_t divide_magic;  // (offset * magic) >> 32 == offset / slot_size for offset < 2^19
  char* payload;
  char* top;        // slots below top have been handed out at least once
  char* sweep_top;  // top when the last collection ended: the lazy sweep's limit (sweeper.h)
  bool spare;       // empty and off the heap's page list, kept for reuse
  std::array<std::uint64_t, kMaxSlotsPerPage / 64> mark_bits;
};

inline constexpr std::size_t kPayloadOffset = (sizeof(NormalPage) + 63) / 64 * 64;

struct LargeObject : PageHeader {
  std::size_t object_size;
  std::size_t mapping_size;
  bool marked;
};

inline constexpr std::size_t kLargeObjectOffset = (sizeof(LargeObject) + 63) / 64 * 64;

inline PageHeader* page_of(const void* address) noexcept {
  return reinterpret_cast<PageHeader*>(reinterpret_cast<std::uintptr_t>(address) & kPageMask);
}

inline std::uint32_t slot_index(const NormalPage* page, const void* address) noexcept {
  const auto offset = static_cast<std::uint64_t>(static_cast<const char*>(address) - page->payload);
  return static_cast<std::uint32_t>((offset * page->divide_magic) >> 32);
}

// Sets the mark bit of `object`; true if it was not set before (the object just turned grey).
inline bool set_mark(const GcObject* object) noexcept {
  PageHeader* header = page_of(object);
  if (header->kind == PageKind::kLarge) {
    auto* large = static_cast<LargeObject*>(header);
    if (large->marked) return false;
    large->marked = true;
    return true;
  }
  auto* page = static_cast<NormalPage*>(header);
  const std::uint32_t index = slot_index(page, object);
  std::uint64_t& word = page->mark_bits[index / 64];
  const std::uint64_t bit = std::uint64_t{1} << (index % 64);
  if ((word & bit) != 0) return false;
  word |= bit;
  return true;
}

inline bool is_marked(const GcObject* object) noexcept {
  const PageHeader* header = page_of(object);
  if (header->kind == PageKind::kLarge) return static_cast<const LargeObject*>(header)->marked;
  const auto* page = static_cast<const NormalPage*>(header);
  const std::uint32_t index = slot_index(page, object);
  return (page->mark_bits[index / 64] >> (index % 64)) & 1U;
}

// The object's size in the heap: its slot, or its large allocation.
inline std::size_t allocated_size(const GcObject* object) noexcept {
  const PageHeader* header = page_of(object);
  if (header->kind == PageKind::kLarge) {
    return static_cast<const LargeObject*>(header)->object_size;
  }
  return static_cast<const NormalPage*>(header)->slot_size;
}

inline constexpr std::uintptr_t kFreeTag = 1;

// True when the slot's first word says it holds a constructed object.
inline bool holds_object(const void* slot) noexcept {
  const std::uintptr_t first = *static_cast<const std::uintptr_t*>(slot);
  return first != 0 && (first & kFreeTag) == 0;
}

// True when `object` is a constructed object in a slot in use (debug checks of Member targets;
// the top of a page the heap no longer uses is reset to its payload).
inline bool is_allocated_object(const GcObject* object) noexcept {
  const PageHeader* header = page_of(object);
  if (header->kind == PageKind::kNormal &&
      reinterpret_cast<const char*>(object) >= static_cast<const NormalPage*>(header)->top) {
    return false;
  }
  return holds_object(object);
}

}  // namespace detail
}  // namespace memkit::gc

#endif  // MEMKIT_GC_PAGE_H_
