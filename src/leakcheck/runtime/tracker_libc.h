// tracker_libc.h — glibc's own allocator, reached through the entry points it exports for exactly
// this purpose (GLIBC_2.2.5, still exported by 2.36): no dlsym, so no recursion while
// bootstrapping.
#pragma once

#include <cstddef>

extern "C" {
void* __libc_malloc(std::size_t size);
void* __libc_calloc(std::size_t count, std::size_t size);
void* __libc_realloc(void* address, std::size_t size);
void __libc_free(void* address);
void* __libc_memalign(std::size_t alignment, std::size_t size);
}
