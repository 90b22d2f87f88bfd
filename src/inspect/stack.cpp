// Stack bounds from the map, getrlimit and pthread_getattr_np.
#include "memkit/inspect/stack.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "memkit/base/error.h"
#include "memkit/inspect/process_map.h"

namespace memkit::inspect {

MainStackInfo main_thread_stack() {
  const ProcessMap map = ProcessMap::parse(read_proc_file("/proc/self/maps"), "/proc/self/maps");
  MainStackInfo info;
  bool found = false;
  for (const Region& region : map.regions()) {
    if (region.kind == RegionKind::kMainStack) {
      info.top = region.end;
      info.mapped_bytes = region.size_bytes();
      found = true;
      break;
    }
  }
  if (!found) throw InspectError("memkit::inspect: /proc/self/maps has no [stack] region");

  rlimit limit{};
  if (::getrlimit(RLIMIT_STACK, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    info.limit_bytes = static_cast<std::uint64_t>(limit.rlim_cur);
  }
  info.called_on_main_thread = ::syscall(SYS_gettid) == ::getpid();
  if (info.called_on_main_thread) {
    volatile char here = 0;
    info.used_bytes = info.top - reinterpret_cast<std::uint64_t>(&here);
  }
  return info;
}

StackBounds current_thread_stack() {
  pthread_attr_t attr;
  if (const int error = ::pthread_getattr_np(::pthread_self(), &attr); error != 0) {
    throw InspectError(std::string("memkit::inspect: pthread_getattr_np failed: ") +
                       std::strerror(error));
  }
  void* address = nullptr;
  std::size_t size = 0;
  std::size_t guard = 0;
  ::pthread_attr_getstack(&attr, &address, &size);
  ::pthread_attr_getguardsize(&attr, &guard);
  ::pthread_attr_destroy(&attr);
  StackBounds bounds;
  bounds.low = reinterpret_cast<std::uint64_t>(address);
  bounds.high = bounds.low + size;
  bounds.guard_size = guard;
  return bounds;
}

}  // namespace memkit::inspect
