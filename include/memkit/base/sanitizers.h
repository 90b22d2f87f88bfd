// memkit/base/sanitizers.h — telling AddressSanitizer which bytes an allocator has handed out.
//
// An arena or pool gets its memory in big chunks, so to ASan every byte of a chunk looks
// allocated, and a read through a pointer into a freed pool slot or a reset arena would go
// unnoticed. memkit's allocators poison memory that is not handed out and unpoison it when they
// hand it out (ASan's manual poisoning API), so such a read stops the program with ASan's
// "use-after-poison" report. Without ASan these functions compile to nothing.
#ifndef MEMKIT_BASE_SANITIZERS_H_
#define MEMKIT_BASE_SANITIZERS_H_

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define MEMKIT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MEMKIT_ASAN 1
#endif
#endif
#ifndef MEMKIT_ASAN
#define MEMKIT_ASAN 0
#endif

#if MEMKIT_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace memkit {

// Marks [address, address + size) as not to be touched; ASan reports any access.
inline void poison_memory(const void* address, std::size_t size) noexcept {
#if MEMKIT_ASAN
  ASAN_POISON_MEMORY_REGION(address, size);
#else
  (void)address;
  (void)size;
#endif
}

// Marks [address, address + size) as usable again.
inline void unpoison_memory(const void* address, std::size_t size) noexcept {
#if MEMKIT_ASAN
  ASAN_UNPOISON_MEMORY_REGION(address, size);
#else
  (void)address;
  (void)size;
#endif
}

// True when ASan reports an access to `address` (always false without ASan).
inline bool is_poisoned(const void* address) noexcept {
#if MEMKIT_ASAN
  return __asan_address_is_poisoned(address) != 0;
#else
  (void)address;
  return false;
#endif
}

}  // namespace memkit

#endif  // MEMKIT_BASE_SANITIZERS_H_
