// bench/support/peer_allocators.h — mimalloc and jemalloc as peers, without replacing malloc.
//
// Linking -lmimalloc or -ljemalloc would replace malloc for the whole benchmark program, and the
// glibc malloc peer measured in the same run would silently become the other allocator. So the
// peers are loaded with dlopen(RTLD_LOCAL) and called through their own entry points
// (mi_malloc/mi_free, mallocx/sdallocx); malloc stays glibc's.
//
// Debian's libjemalloc uses initial-exec TLS, which dlopen can only place in the surplus static
// TLS block; glibc's default surplus is too small ("cannot allocate memory in static TLS block").
// ensure_static_tls_for_dlopen() therefore re-executes the program once with
// GLIBC_TUNABLES=glibc.rtld.optional_static_tls=65536 when that tunable is not set yet.
#ifndef MEMKIT_BENCH_SUPPORT_PEER_ALLOCATORS_H_
#define MEMKIT_BENCH_SUPPORT_PEER_ALLOCATORS_H_

#include <cstddef>
#include <string>

namespace memkit::bench {

struct PeerAllocator {
  std::string name;   // "mimalloc 2.0", "jemalloc 5"
  std::string error;  // why it could not be loaded; empty when loaded
  void* (*allocate)(std::size_t size) = nullptr;
  void (*deallocate)(void* pointer, std::size_t size) = nullptr;

  bool loaded() const { return allocate != nullptr && deallocate != nullptr; }
};

// Loaded once, on first use.
const PeerAllocator& mimalloc();
const PeerAllocator& jemalloc();

// Call first thing (from a static initializer of the benchmark program that needs jemalloc).
void ensure_static_tls_for_dlopen();

}  // namespace memkit::bench

#endif  // MEMKIT_BENCH_SUPPORT_PEER_ALLOCATORS_H_
