// The 20 libstdc++ operator new/delete variants, interposed so that every C++ allocation carries
// its family (new or new[]) for valgrind's "Mismatched free() / delete / delete []" and its frame 0
// names the operator the program called.
//
// A failed operator new behaves as libstdc++'s: call the new-handler and retry, and with no handler
// throw std::bad_alloc (the nothrow forms return nullptr). The runtime has no libstdc++ of its own,
// so both come from the program's libstdc++, found with dlsym the first time an allocation fails.
#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <new>

#include "tracker_alloc.h"

using namespace memkit::check_rt;

namespace {

using NewHandlerGetter = void (*(*)())();
using Thrower = void (*)();

void* look_up(const char* name) {
  ScopedUntracked untracked;  // dlsym may allocate
  return dlsym(RTLD_DEFAULT, name);
}

[[noreturn]] void throw_bad_alloc() {
  if (auto thrower = reinterpret_cast<Thrower>(look_up("_ZSt17__throw_bad_allocv"))) {
    thrower();
  }
  static constexpr char kMessage[] =
      "memkit check: operator new failed and no std::bad_alloc can be thrown (no libstdc++)\n";
  write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  abort();
}

// libstdc++'s retry loop: false when there is no new-handler (the caller then fails).
bool call_new_handler() {
  auto getter = reinterpret_cast<NewHandlerGetter>(look_up("_ZSt15get_new_handlerv"));
  void (*handler)() = getter != nullptr ? getter() : nullptr;
  if (handler == nullptr) {
    return false;
  }
  handler();
  return true;
}

void* glibc_allocate(std::size_t size, std::size_t alignment) {
  return alignment == 0 ? __libc_malloc(size) : __libc_memalign(alignment, size);
}

// Allocates for operator new (throwing on failure) — the memory only; the caller tracks it.
MEMKIT_ALWAYS_INLINE void* new_memory(std::size_t size, std::size_t alignment) {
  void* address = glibc_allocate(size, alignment);
  while (address == nullptr) [[unlikely]] {
      if (!call_new_handler()) {
        throw_bad_alloc();
      }
      address = glibc_allocate(size, alignment);
    }
  return address;
}

MEMKIT_ALWAYS_INLINE void* new_memory_nothrow(std::size_t size, std::size_t alignment) {
  void* address = glibc_allocate(size, alignment);
  while (address == nullptr && call_new_handler()) [[unlikely]] {
      address = glibc_allocate(size, alignment);
    }
  return address;
}

MEMKIT_ALWAYS_INLINE void delete_memory(void* address, FreeKind operation) {
  if (address == nullptr) {
    return;
  }
  if (thread_is_untracked()) [[unlikely]] {
    untracked_release(address);
    return;
  }
  track_release(address, operation);
}

std::size_t alignment_of(std::align_val_t alignment) { return static_cast<std::size_t>(alignment); }

}  // namespace

#define MEMKIT_NEW_BODY(memory_call, kind)    \
  if (thread_is_untracked()) [[unlikely]] {   \
    return untracked_allocation(memory_call); \
  }                                           \
  return track_allocation(memory_call, size, kind)

MEMKIT_EXPORT void* operator new(std::size_t size) {
  MEMKIT_NEW_BODY(new_memory(size, 0), AllocKind::new_object);
}
MEMKIT_EXPORT void* operator new[](std::size_t size) {
  MEMKIT_NEW_BODY(new_memory(size, 0), AllocKind::new_array);
}
MEMKIT_EXPORT void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  MEMKIT_NEW_BODY(new_memory_nothrow(size, 0), AllocKind::new_object);
}
MEMKIT_EXPORT void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  MEMKIT_NEW_BODY(new_memory_nothrow(size, 0), AllocKind::new_array);
}
MEMKIT_EXPORT void* operator new(std::size_t size, std::align_val_t alignment) {
  MEMKIT_NEW_BODY(new_memory(size, alignment_of(alignment)), AllocKind::new_object);
}
MEMKIT_EXPORT void* operator new[](std::size_t size, std::align_val_t alignment) {
  MEMKIT_NEW_BODY(new_memory(size, alignment_of(alignment)), AllocKind::new_array);
}
MEMKIT_EXPORT void* operator new(std::size_t size, std::align_val_t alignment,
                                 const std::nothrow_t&) noexcept {
  MEMKIT_NEW_BODY(new_memory_nothrow(size, alignment_of(alignment)), AllocKind::new_object);
}
MEMKIT_EXPORT void* operator new[](std::size_t size, std::align_val_t alignment,
                                   const std::nothrow_t&) noexcept {
  MEMKIT_NEW_BODY(new_memory_nothrow(size, alignment_of(alignment)), AllocKind::new_array);
}

#undef MEMKIT_NEW_BODY

MEMKIT_EXPORT void operator delete(void* address) noexcept {
  delete_memory(address, FreeKind::delete_object);
}
MEMKIT_EXPORT void operator delete[](void* address) noexcept {
  delete_memory(address, FreeKind::delete_array);
}
MEMKIT_EXPORT void operator delete(void* address, const std::nothrow_t&) noexcept {
  delete_memory(address, FreeKind::delete_object);
}
MEMKIT_EXPORT void operator delete[](void* address, const std::nothrow_t&) noexcept {
  delete_memory(address, FreeKind::delete_array);
}
MEMKIT_EXPORT void operator delete(void* address, std::size_t) noexcept {
  delete_memory(address, FreeKind::delete_object);
}
MEMKIT_EXPORT void operator delete[](void* address, std::size_t) noexcept {
  delete_memory(address, FreeKind::delete_array);
}
MEMKIT_EXPORT void operator delete(void* address, std::align_val_t) noexcept {
  delete_memory(address, FreeKind::delete_object);
}
MEMKIT_EXPORT void operator delete[](void* address, std::align_val_t) noexcept {
  delete_memory(address, FreeKind::delete_array);
}
MEMKIT_EXPORT void operator delete(void* address, std::align_val_t,
                                   const std::nothrow_t&) noexcept {
  delete_memory(address, FreeKind::delete_object);
}
MEMKIT_EXPORT void operator delete[](void* address, std::align_val_t,
                                     const std::nothrow_t&) noexcept {
  delete_memory(address, FreeKind::delete_array);
}
MEMKIT_EXPORT void operator delete(void* address, std::size_t, std::align_val_t) noexcept {
  delete_memory(address, FreeKind::delete_object);
}
MEMKIT_EXPORT void operator delete[](void* address, std::size_t, std::align_val_t) noexcept {
  delete_memory(address, FreeKind::delete_array);
}
