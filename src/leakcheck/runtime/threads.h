// threads.h — the runtime's view of the program's threads: a registry kept by interposing
// pthread_create, and a signal-based stop-the-world for the leak search (research §7.2).
//
// Stopping: every thread but the caller gets a real-time signal (tgkill, threads listed from
// /proc/self/task, so threads created behind pthread_create's back are stopped too). Its handler
// saves the interrupted stack pointer, general-purpose registers and thread pointer into the
// snapshot, acknowledges, and waits on a futex until resume_the_world(). A thread that blocks the
// signal, or does not answer within a few seconds, is counted in not_stopped (valgrind has no such
// case; LSan reports it as "false leaks are possible"). No ptrace: it works under gdb, strace and
// in containers without CAP_SYS_PTRACE.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace memkit::check_rt {

// rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp, r8..r15: valgrind's VG_(apply_to_GP_regs) on amd64.
constexpr std::size_t kGeneralRegisterCount = 16;

struct ThreadState {
  pid_t tid = 0;
  bool stopped = false;  // answered the stop signal: the fields below are valid
  uintptr_t stack_pointer = 0;
  uintptr_t thread_pointer = 0;  // %fs base: the TCB, with static TLS just below it
  uintptr_t registers[kGeneralRegisterCount] = {};
};

struct WorldSnapshot {
  ThreadState* threads = nullptr;  // the other threads (not the caller)
  std::size_t count = 0;
  uint32_t not_stopped = 0;
};

// Registers the atfork handler and the per-thread exit hook. Called by the runtime's constructor.
void threads_initialize();

// In a forked child only the forking thread survives: forget the others.
void threads_after_fork_in_child();

// Stops every other thread. The caller holds the tracker lock and is inside a ScopedUntracked.
// The snapshot lives in internal memory until the next call. Returns false if that memory could
// not be had (then nothing was stopped).
bool stop_the_world(WorldSnapshot* snapshot);
void resume_the_world();

// The stack range the registry knows for tid (from pthread_getattr_np when the thread started).
bool registered_stack(pid_t tid, uintptr_t* low, uintptr_t* high);

uintptr_t current_thread_pointer();
pid_t current_tid();

}  // namespace memkit::check_rt
