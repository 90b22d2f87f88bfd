// startup_exit.cpp — where the runtime starts and where the program ends.
//
// Start: the ELF constructor sets up the tracker and the thread registry, and takes the runtime
// out of LD_PRELOAD unless MEMKIT_TRACE_CHILDREN=yes (valgrind's default: exec'd programs run
// without it). __libc_start_main is interposed to wrap main, so that a return from main is told
// from a call to exit() (research §1.8): after `return`, main's frame is dead and not scanned;
// after exit(), the caller's frames are live and are.
//
// End: the check runs as late as possible, in this object's ELF destructor. On glibc 2.36,
// exit() runs the atexit handlers and C++ static destructors, then _dl_fini runs the ELF
// destructors (the program's first, then the preloaded runtime's, then the libraries it was
// loaded before), then flushes stdio (_IO_cleanup) and calls _exit. So the destructor calls
// __gnu_cxx::__freeres and __libc_freeres (which flush stdio themselves) like valgrind, searches,
// writes the report and ends the process with the status a wrapper saw, never going back into
// libc's exit path with its buffers released. _exit/_Exit are interposed too (a forked child
// often ends that way; valgrind reports there as well), without freeres: _exit must not flush.
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "exit_report.h"
#include "leak_check_run.h"
#include "proc_maps.h"
#include "report_writer.h"
#include "runtime.h"
#include "threads.h"

extern char** environ;

namespace memkit::check_rt {
namespace {

using MainFunction = int (*)(int, char**, char**);
using StartMain = int (*)(MainFunction, int, char**, void (*)(), void (*)(), void (*)(), void*);
using ExitFunction = void (*)(int);

constexpr std::size_t kCalleeSaved = 6;  // rbx, rbp, r12..r15

std::atomic<bool> g_reported{false};
bool g_end_known = false;
EndInfo g_end;
uintptr_t g_scan_from = 0;
uintptr_t g_end_registers[kCalleeSaved] = {};
std::size_t g_end_register_count = 0;
pid_t g_pid = 0;
MainFunction g_main = nullptr;
ExitFunction g_real_exit = nullptr;

[[noreturn]] void exit_group(int status) {
  for (;;) syscall(SYS_exit_group, status);
}

#define MEMKIT_CAPTURE_CALLEE_SAVED(array)                            \
  asm volatile(                                                       \
      "mov %%rbx, 0(%0)\n\tmov %%rbp, 8(%0)\n\tmov %%r12, 16(%0)\n\t" \
      "mov %%r13, 24(%0)\n\tmov %%r14, 32(%0)\n\tmov %%r15, 40(%0)"   \
      :                                                               \
      : "r"(array)                                                    \
      : "memory")

void remember_end(EndHow how, int status, uintptr_t scan_from, const uintptr_t* registers,
                  std::size_t register_count) {
  if (g_end_known) return;  // the first end wins (exit() called again from an atexit handler)
  g_end = EndInfo{how, status};
  g_scan_from = scan_from;
  for (std::size_t i = 0; i < register_count; ++i) g_end_registers[i] = registers[i];
  g_end_register_count = register_count;
  g_end_known = true;
}

void run_freeres() {
  using Freeres = void (*)();
  Freeres cxx_freeres = nullptr;
  Freeres libc_freeres = nullptr;
  {
    ScopedUntracked untracked;  // dlsym may allocate
    cxx_freeres = reinterpret_cast<Freeres>(dlsym(RTLD_DEFAULT, "_ZN9__gnu_cxx9__freeresEv"));
    libc_freeres = reinterpret_cast<Freeres>(dlsym(RTLD_DEFAULT, "__libc_freeres"));
  }
  // Tracked: these frees count, as valgrind counts them (libstdc++'s emergency pool, stdio).
  if (cxx_freeres != nullptr) cxx_freeres();
  if (libc_freeres != nullptr) libc_freeres();
}

// Returns the status the process must end with (the program's, or MEMKIT_ERROR_EXITCODE's).
int report_once(const EndInfo& end, uintptr_t scan_from, const uintptr_t* registers,
                std::size_t register_count) {
  if (g_reported.exchange(true)) return end.status;
  ScopedUntracked untracked;
  LeakCheckResult result;
  CallerThread caller;
  caller.scan_from = scan_from;
  caller.registers = registers;
  caller.register_count = register_count;
  run_leak_check(caller, options().leak_check != LeakCheckMode::no, &result);
  int status = end.status;
  if (options().report_dir[0] != '\0') {
    char path[4096];
    if (write_raw_report(options().report_dir, end, result, path, sizeof path)) {
      notify_report(options().notify_fd, path);
    }
  } else {
    const int override_status = render_standalone(end, result);
    if (override_status >= 0) status = override_status;
  }
  release_leak_check(&result);
  return status;
}

void remove_self_from_ld_preload() {
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    if (!starts_with(*entry, "LD_PRELOAD=")) continue;
    char* value = *entry + 11;
    char* out = value;
    for (char* token = value; *token != '\0';) {
      char* end = token;
      while (*end != '\0' && *end != ':' && *end != ' ') ++end;
      const char separator = *end;
      bool ours = false;
      for (char* at = token; at + 15 <= end && !ours; ++at)
        ours = starts_with(at, "libmemkit_check");
      if (!ours && end > token) {
        if (out != value) *out++ = ':';
        for (char* at = token; at < end; ++at) *out++ = *at;
      }
      token = separator == '\0' ? end : end + 1;
    }
    *out = '\0';
    if (out == value) {  // nothing left: drop the variable
      char** rest = entry;
      for (; rest[1] != nullptr; ++rest) rest[0] = rest[1];
      rest[0] = nullptr;
    }
    return;
  }
}

void after_fork_in_child() {
  g_pid = getpid();
  threads_after_fork_in_child();
}

int main_trampoline(int argc, char** argv, char** envp) {
  const int status = g_main(argc, argv, envp);
  // main's frame lies below this one and is dead now: scan from this frame's caller up.
  const auto above =
      reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) + 2 * sizeof(uintptr_t);
  remember_end(EndHow::return_from_main, status, above, nullptr, 0);
  return status;
}

__attribute__((constructor(101))) void runtime_start() {
  tracker_initialize();
  g_pid = getpid();
  threads_initialize();
  pthread_atfork(nullptr, nullptr, after_fork_in_child);
  {
    ScopedUntracked untracked;
    g_real_exit = reinterpret_cast<ExitFunction>(dlsym(RTLD_NEXT, "exit"));
  }
  if (!options().trace_children) {
    remove_self_from_ld_preload();
    if (options().notify_fd >= 0) {
      const int flags = fcntl(options().notify_fd, F_GETFD);
      if (flags >= 0) fcntl(options().notify_fd, F_SETFD, flags | FD_CLOEXEC);
    }
  }
}

__attribute__((destructor(101))) void runtime_end() {
  if (getpid() != g_pid || g_reported.load()) return;
  if (!g_end_known) {
    // Neither wrapper saw the end: scan from here, keep freeres out, and return normally.
    const EndInfo end{EndHow::destructor, -1};
    report_once(end, reinterpret_cast<uintptr_t>(__builtin_frame_address(0)), nullptr, 0);
    return;
  }
  if (options().run_freeres) run_freeres();
  const int status = report_once(g_end, g_scan_from, g_end_registers, g_end_register_count);
  exit_group(status);
}

}  // namespace
}  // namespace memkit::check_rt

namespace mk = memkit::check_rt;

extern "C" {

__attribute__((visibility("default"))) int __libc_start_main(mk::MainFunction main, int argc,
                                                             char** argv, void (*init)(),
                                                             void (*fini)(), void (*rtld_fini)(),
                                                             void* stack_end) {
  mk::tracker_initialize();
  mk::StartMain real = nullptr;
  {
    mk::ScopedUntracked untracked;
    real = reinterpret_cast<mk::StartMain>(dlsym(RTLD_NEXT, "__libc_start_main"));
  }
  mk::g_main = main;
  return real(mk::main_trampoline, argc, argv, init, fini, rtld_fini, stack_end);
}

__attribute__((visibility("default"), noreturn)) void exit(int status) {
  uintptr_t registers[mk::kCalleeSaved];
  MEMKIT_CAPTURE_CALLEE_SAVED(registers);
  // The caller's frames are live: scan from its stack pointer (just above our return address).
  const auto caller_sp =
      reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) + 2 * sizeof(uintptr_t);
  mk::remember_end(mk::EndHow::exit, status, caller_sp, registers, mk::kCalleeSaved);
  if (mk::g_real_exit == nullptr) mk::exit_group(status);
  mk::g_real_exit(status);
  __builtin_unreachable();
}

static void underscore_exit(int status, uintptr_t caller_sp, const uintptr_t* registers) {
  // A vfork child shares the parent's memory (and no atfork handler told us its pid): leave.
  if (getpid() == mk::g_pid && !mk::g_reported.load()) {
    status = mk::report_once(mk::EndInfo{mk::EndHow::underscore_exit, status}, caller_sp, registers,
                             mk::kCalleeSaved);
  }
  mk::exit_group(status);
}

__attribute__((visibility("default"), noreturn)) void _exit(int status) {
  uintptr_t registers[mk::kCalleeSaved];
  MEMKIT_CAPTURE_CALLEE_SAVED(registers);
  underscore_exit(status, reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) + 16, registers);
  __builtin_unreachable();
}

__attribute__((visibility("default"), noreturn)) void _Exit(int status) {
  uintptr_t registers[mk::kCalleeSaved];
  MEMKIT_CAPTURE_CALLEE_SAVED(registers);
  underscore_exit(status, reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) + 16, registers);
  __builtin_unreachable();
}

}  // extern "C"
