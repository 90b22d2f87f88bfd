// bench/support/peer_allocators.cpp — dlopen-loaded peer allocators (see peer_allocators.h).
#include "peer_allocators.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace memkit::bench {
namespace {

constexpr std::string_view kTunable = "glibc.rtld.optional_static_tls=65536";

// mimalloc and jemalloc take the same two entry points through small adapters, so one
// PeerAllocator shape fits both.
using MiMalloc = void* (*)(std::size_t);
using MiFree = void (*)(void*);
using JeMallocx = void* (*)(std::size_t, int);
using JeSdallocx = void (*)(void*, std::size_t, int);

MiMalloc mi_malloc_fn = nullptr;
MiFree mi_free_fn = nullptr;
JeMallocx je_mallocx_fn = nullptr;
JeSdallocx je_sdallocx_fn = nullptr;

void* open_library(const char* soname, PeerAllocator& peer) {
  void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    peer.error = why != nullptr ? why : "dlopen failed";
  }
  return handle;
}

template <class Fn>
Fn symbol(void* handle, const char* name, PeerAllocator& peer) {
  void* address = dlsym(handle, name);
  if (address == nullptr) peer.error = std::string("no symbol ") + name;
  return reinterpret_cast<Fn>(address);  // NOLINT: dlsym's void* to a function pointer
}

PeerAllocator load_mimalloc() {
  PeerAllocator peer;
  peer.name = "mimalloc";
  void* handle = open_library("libmimalloc.so.2", peer);
  if (handle == nullptr) return peer;
  mi_malloc_fn = symbol<MiMalloc>(handle, "mi_malloc", peer);
  mi_free_fn = symbol<MiFree>(handle, "mi_free", peer);
  if (mi_malloc_fn != nullptr && mi_free_fn != nullptr) {
    peer.allocate = [](std::size_t size) { return mi_malloc_fn(size); };
    peer.deallocate = [](void* pointer, std::size_t) { mi_free_fn(pointer); };
  }
  return peer;
}

PeerAllocator load_jemalloc() {
  PeerAllocator peer;
  peer.name = "jemalloc";
  void* handle = open_library("libjemalloc.so.2", peer);
  if (handle == nullptr) return peer;
  je_mallocx_fn = symbol<JeMallocx>(handle, "mallocx", peer);
  je_sdallocx_fn = symbol<JeSdallocx>(handle, "sdallocx", peer);
  if (je_mallocx_fn != nullptr && je_sdallocx_fn != nullptr) {
    peer.allocate = [](std::size_t size) { return je_mallocx_fn(size, 0); };
    peer.deallocate = [](void* pointer, std::size_t size) { je_sdallocx_fn(pointer, size, 0); };
  }
  return peer;
}

// argv of this process, from /proc/self/cmdline (a static initializer has no argv).
std::vector<std::string> own_arguments() {
  std::vector<std::string> arguments;
  const int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return arguments;
  std::string all;
  char buffer[4096];
  for (ssize_t n; (n = read(fd, buffer, sizeof buffer)) > 0;) all.append(buffer, n);
  close(fd);
  for (std::size_t start = 0; start < all.size();) {
    const std::size_t end = all.find('\0', start);
    arguments.push_back(all.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return arguments;
}

}  // namespace

const PeerAllocator& mimalloc() {
  static const PeerAllocator peer = load_mimalloc();
  return peer;
}

const PeerAllocator& jemalloc() {
  static const PeerAllocator peer = load_jemalloc();
  return peer;
}

void ensure_static_tls_for_dlopen() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "optional_static_tls") != nullptr) return;
  std::string value(kTunable);
  if (tunables != nullptr && *tunables != '\0') value.append(":").append(tunables);
  if (setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  std::vector<std::string> arguments = own_arguments();
  if (arguments.empty()) return;
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  execv("/proc/self/exe", argv.data());
  // execv failed: carry on; jemalloc will report why it could not be loaded.
}

}  // namespace memkit::bench
