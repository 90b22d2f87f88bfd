// overflow_child — recurses without end, for the stack-overflow reporter's tests.
//
//   overflow_child main          reporter installed; the main thread overflows
//   overflow_child thread        reporter installed; a watched std::thread overflows
//   overflow_child small-thread  the same in a thread with a 256 KiB stack
//   overflow_child unwatched     reporter installed; a thread that did not watch its stack
//   overflow_child null          reporter installed; a write to address 16 (not an overflow)
//   overflow_child none          no reporter; the main thread overflows
#include <pthread.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>

#include "memkit/inspect/overflow_reporter.h"

namespace {

volatile bool g_stop = false;
// Not null: UBSan would report a null store itself. Page 0 is never mapped.
int* volatile g_low_address = reinterpret_cast<int*>(std::uintptr_t{16});

// Each frame keeps a 1 KiB array alive across the call, so no compiler turns this into a loop.
int recurse(int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (g_stop) return frame[0];
  return recurse(depth + 1) + frame[0];
}

void* recurse_on_small_thread(void*) {
  memkit::inspect::watch_this_thread_stack();
  recurse(0);
  return nullptr;
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// ASan reports stack overflows itself, on its own SIGSEGV handler: let this program's win.
extern "C" const char* __asan_default_options() { return "allow_user_segv_handler=1"; }
#endif

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (std::strcmp(mode, "none") != 0) memkit::inspect::install_stack_overflow_reporter();
  if (std::strcmp(mode, "main") == 0 || std::strcmp(mode, "none") == 0) {
    return recurse(0);
  }
  if (std::strcmp(mode, "thread") == 0) {
    std::thread([] {
      memkit::inspect::watch_this_thread_stack();
      recurse(0);
    }).join();
    return 0;
  }
  if (std::strcmp(mode, "small-thread") == 0) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t thread;
    pthread_create(&thread, &attr, recurse_on_small_thread, nullptr);
    pthread_join(thread, nullptr);
    return 0;
  }
  if (std::strcmp(mode, "unwatched") == 0) {
    std::thread([] { recurse(0); }).join();
    return 0;
  }
  if (std::strcmp(mode, "null") == 0) {
    *g_low_address = 1;
    return 0;
  }
  std::fprintf(stderr, "usage: overflow_child main|thread|small-thread|unwatched|null|none\n");
  return 64;
}
