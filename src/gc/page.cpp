// Pages and large objects: aligned mappings from the OS, given back when they are empty.
#include "memkit/gc/page.h"

#include <sys/mman.h>

#include <cstdint>
#include <new>

#include "heap_internals.h"
#include "memkit/base/error.h"
#include "memkit/base/sanitizers.h"

namespace memkit::gc::detail {
namespace {

// `size` bytes (a multiple of kPageSize) aligned to kPageSize: map size + kPageSize, then give
// back the misaligned head and the tail.
void* map_aligned(std::size_t size, std::size_t object_size) {
  const std::size_t reserve = size + kPageSize;
  void* raw = ::mmap(nullptr, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    ::memkit::detail::throw_alloc_error("memkit::gc::Heap", "make", object_size, kGranule,
                                        "the operating system refused more memory (mmap)");
  }
  const auto begin = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t aligned = (begin + kPageSize - 1) & kPageMask;
  if (aligned > begin) ::munmap(raw, aligned - begin);
  const std::uintptr_t tail = aligned + size;
  const std::uintptr_t end = begin + reserve;
  if (end > tail) ::munmap(reinterpret_cast<void*>(tail), end - tail);
  return reinterpret_cast<void*>(aligned);
}

}  // namespace

void init_page(NormalPage* page, std::size_t size_class) {
  const std::uint32_t slot_size = kSizeClasses[size_class];
  page->size_class = static_cast<std::uint32_t>(size_class);
  page->slot_size = slot_size;
  page->slot_count = static_cast<std::uint32_t>((kPageSize - kPayloadOffset) / slot_size);
  page->divide_magic = static_cast<std::uint32_t>((std::uint64_t{1} << 32) / slot_size + 1);
  page->payload = reinterpret_cast<char*>(page) + kPayloadOffset;
  page->top = page->payload;
  page->sweep_top = page->payload;
  page->spare = false;
  page->mark_bits.fill(0);
  // Slots are unpoisoned one by one as they are handed out.
  poison_memory(page->payload, kPageSize - kPayloadOffset);
}

NormalPage* map_page(Heap* heap, Handles* handles, std::size_t size_class) {
  void* memory = map_aligned(kPageSize, kSizeClasses[size_class]);
  auto* page = ::new (memory) NormalPage;
  page->heap = heap;
  page->handles = handles;
  page->kind = PageKind::kNormal;
  init_page(page, size_class);
  return page;
}

void unmap_page(NormalPage* page) noexcept {
  unpoison_memory(page, kPageSize);
  ::munmap(page, kPageSize);
}

LargeObject* map_large_object(Heap* heap, Handles* handles, std::size_t object_size) {
  if (object_size > (std::size_t{1} << 46)) {
    ::memkit::detail::throw_alloc_error("memkit::gc::Heap", "make", object_size, kGranule,
                                        "the object is larger than the heap can map");
  }
  const std::size_t mapping = (kLargeObjectOffset + object_size + kPageSize - 1) & kPageMask;
  void* memory = map_aligned(mapping, object_size);
  auto* large = ::new (memory) LargeObject;
  large->heap = heap;
  large->handles = handles;
  large->kind = PageKind::kLarge;
  large->object_size = object_size;
  large->mapping_size = mapping;
  large->marked = false;
  return large;
}

void unmap_large_object(LargeObject* large) noexcept {
  unpoison_memory(large, large->mapping_size);
  ::munmap(large, large->mapping_size);
}

}  // namespace memkit::gc::detail
