// Replaces every form of the global operator new and delete with counting, malloc-based versions.
//
// Each block is laid out as [ padding | Header | user bytes ]: the Header, just before the
// address handed out, records the address malloc returned and the size requested, so every form
// of delete (sized or not, aligned or not) frees and un-counts the block the same way. Sized
// delete ignores the size it is given and trusts the header.
#include "support/counting_new.h"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace memkit::testing {
namespace {

struct Header {
  void* base;        // what malloc/aligned_alloc returned
  std::size_t size;  // what the caller asked for
};
static_assert(sizeof(Header) == 16, "the header must keep malloc's 16-byte alignment");

constexpr std::size_t kMinAlignment = __STDCPP_DEFAULT_NEW_ALIGNMENT__ < sizeof(Header)
                                          ? sizeof(Header)
                                          : __STDCPP_DEFAULT_NEW_ALIGNMENT__;

std::atomic<std::int64_t> g_live_blocks{0};
std::atomic<std::int64_t> g_live_bytes{0};
std::atomic<std::int64_t> g_total_allocations{0};

// One attempt; nullptr when the system is out of memory (or the size is absurd).
void* try_allocate(std::size_t size, std::size_t alignment) noexcept {
  if (alignment < kMinAlignment) alignment = kMinAlignment;
  // The header sits in the `alignment` bytes before the user block (alignment >= 16).
  const std::size_t offset = alignment;
  if (size > SIZE_MAX - offset - alignment) return nullptr;
  void* base = nullptr;
  if (alignment == kMinAlignment && alignment <= alignof(std::max_align_t)) {
    base = std::malloc(offset + size);
  } else {
    // aligned_alloc wants a size that is a multiple of the alignment.
    const std::size_t total = (offset + size + alignment - 1) / alignment * alignment;
    base = std::aligned_alloc(alignment, total);
  }
  if (base == nullptr) return nullptr;
  auto* user = static_cast<unsigned char*>(base) + offset;
  auto* header = reinterpret_cast<Header*>(user) - 1;
  header->base = base;
  header->size = size;
  g_live_blocks.fetch_add(1, std::memory_order_relaxed);
  g_live_bytes.fetch_add(static_cast<std::int64_t>(size), std::memory_order_relaxed);
  g_total_allocations.fetch_add(1, std::memory_order_relaxed);
  return user;
}

// The throwing forms: call the new-handler until it gives up, as the standard requires.
void* allocate(std::size_t size, std::size_t alignment) {
  for (;;) {
    if (void* p = try_allocate(size, alignment)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

void* allocate_nothrow(std::size_t size, std::size_t alignment) noexcept {
  try {
    return allocate(size, alignment);
  } catch (...) {
    return nullptr;
  }
}

void deallocate(void* p) noexcept {
  if (p == nullptr) return;
  const Header* header = static_cast<const Header*>(p) - 1;
  g_live_blocks.fetch_sub(1, std::memory_order_relaxed);
  g_live_bytes.fetch_sub(static_cast<std::int64_t>(header->size), std::memory_order_relaxed);
  std::free(header->base);
}

std::size_t to_size(std::align_val_t alignment) noexcept {
  return static_cast<std::size_t>(alignment);
}

}  // namespace

AllocationCounts current_allocations() noexcept {
  AllocationCounts counts;
  counts.live_blocks = g_live_blocks.load(std::memory_order_relaxed);
  counts.live_bytes = g_live_bytes.load(std::memory_order_relaxed);
  counts.total_allocations = g_total_allocations.load(std::memory_order_relaxed);
  return counts;
}

}  // namespace memkit::testing

using memkit::testing::allocate;
using memkit::testing::allocate_nothrow;
using memkit::testing::deallocate;
using memkit::testing::kMinAlignment;
using memkit::testing::to_size;

// ---- new ----------------------------------------------------------------------------------------
void* operator new(std::size_t size) { return allocate(size, kMinAlignment); }
void* operator new[](std::size_t size) { return allocate(size, kMinAlignment); }
void* operator new(std::size_t size, std::align_val_t alignment) {
  return allocate(size, to_size(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return allocate(size, to_size(alignment));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return allocate_nothrow(size, kMinAlignment);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return allocate_nothrow(size, kMinAlignment);
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return allocate_nothrow(size, to_size(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return allocate_nothrow(size, to_size(alignment));
}

// ---- delete -------------------------------------------------------------------------------------
void operator delete(void* p) noexcept { deallocate(p); }
void operator delete[](void* p) noexcept { deallocate(p); }
void operator delete(void* p, std::size_t) noexcept { deallocate(p); }
void operator delete[](void* p, std::size_t) noexcept { deallocate(p); }
void operator delete(void* p, std::align_val_t) noexcept { deallocate(p); }
void operator delete[](void* p, std::align_val_t) noexcept { deallocate(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { deallocate(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { deallocate(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { deallocate(p); }
