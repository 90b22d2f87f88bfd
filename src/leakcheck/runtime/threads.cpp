// threads.cpp — the thread registry (pthread_create interposer) and the signal-based
// stop-the-world; see threads.h.
#include "threads.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>

#include "runtime.h"

namespace memkit::check_rt {
namespace {

// A real-time signal near the top of the range: programs that use real-time signals usually count
// up from SIGRTMIN.
int stop_signal() { return SIGRTMAX - 3; }

constexpr std::size_t kRegistrySlots = 4096;
constexpr std::size_t kMaxSnapshotThreads = 8192;

struct RegistrySlot {
  std::atomic<pid_t> tid{0};
  uintptr_t stack_low = 0;
  uintptr_t stack_high = 0;
};

RegistrySlot g_registry[kRegistrySlots];
pthread_key_t g_exit_key;
bool g_exit_key_ready = false;

// ---- stop-the-world state
// ---------------------------------------------------------------------------

std::atomic<int> g_stop_in_progress{0};
std::atomic<int> g_resume_generation{0};  // the futex stopped threads wait on
std::atomic<int> g_acks{0};               // the futex the coordinator waits on
WorldSnapshot g_snapshot;
ThreadState* g_snapshot_memory = nullptr;
struct sigaction g_previous_action;
bool g_handler_installed = false;

long futex(std::atomic<int>* word, int op, int value, const timespec* timeout) {
  return syscall(SYS_futex, reinterpret_cast<int*>(word), op, value, timeout, nullptr, 0);
}

void stop_handler(int, siginfo_t*, void* context) {
  const int saved_errno = errno;
  const int generation = g_resume_generation.load(std::memory_order_acquire);
  if (g_stop_in_progress.load(std::memory_order_acquire) == 0) {  // a late signal: nothing to do
    errno = saved_errno;
    return;
  }
  const pid_t tid = current_tid();
  for (std::size_t i = 0; i < g_snapshot.count; ++i) {
    ThreadState& state = g_snapshot.threads[i];
    if (state.tid != tid) continue;
    const auto* uc = static_cast<const ucontext_t*>(context);
    const greg_t* gregs = uc->uc_mcontext.gregs;
    static constexpr int kRegs[kGeneralRegisterCount] = {
        REG_RAX, REG_RBX, REG_RCX, REG_RDX, REG_RSI, REG_RDI, REG_RBP, REG_RSP,
        REG_R8,  REG_R9,  REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15};
    for (std::size_t r = 0; r < kGeneralRegisterCount; ++r) {
      state.registers[r] = static_cast<uintptr_t>(gregs[kRegs[r]]);
    }
    state.stack_pointer = static_cast<uintptr_t>(gregs[REG_RSP]);
    state.thread_pointer = current_thread_pointer();
    __atomic_store_n(&state.stopped, true, __ATOMIC_RELEASE);
    break;
  }
  g_acks.fetch_add(1, std::memory_order_acq_rel);
  futex(&g_acks, FUTEX_WAKE_PRIVATE, 1, nullptr);
  while (g_resume_generation.load(std::memory_order_acquire) == generation) {
    futex(&g_resume_generation, FUTEX_WAIT_PRIVATE, generation, nullptr);
  }
  errno = saved_errno;
}

bool install_handler() {
  if (g_handler_installed) return true;
  struct sigaction action = {};
  action.sa_sigaction = stop_handler;
  action.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
  sigfillset(&action.sa_mask);
  if (sigaction(stop_signal(), &action, &g_previous_action) != 0) return false;
  g_handler_installed = true;
  return true;
}

// Calls fn(tid) for every thread in /proc/self/task.
template <typename Fn>
void for_each_task(Fn fn) {
  const int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  alignas(8) char buffer[4096];
  for (;;) {
    const long n = syscall(SYS_getdents64, fd, buffer, sizeof buffer);
    if (n <= 0) break;
    for (long offset = 0; offset < n;) {
      const auto* entry = reinterpret_cast<const struct dirent64*>(buffer + offset);
      offset += entry->d_reclen;
      pid_t tid = 0;
      const char* name = entry->d_name;
      if (*name < '0' || *name > '9') continue;
      for (; *name >= '0' && *name <= '9'; ++name) tid = tid * 10 + (*name - '0');
      fn(tid);
    }
  }
  close(fd);
}

// ---- the registry -------------------------------------------------------------------------------

void register_current_thread() {
  const pid_t tid = current_tid();
  pthread_attr_t attr;
  void* stack = nullptr;
  std::size_t size = 0;
  {
    ScopedUntracked untracked;  // pthread_getattr_np may allocate
    if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
    pthread_attr_getstack(&attr, &stack, &size);
    pthread_attr_destroy(&attr);
  }
  for (RegistrySlot& slot : g_registry) {
    pid_t expected = 0;
    if (slot.tid.compare_exchange_strong(expected, tid, std::memory_order_acq_rel)) {
      slot.stack_low = reinterpret_cast<uintptr_t>(stack);
      slot.stack_high = slot.stack_low + size;
      if (g_exit_key_ready) pthread_setspecific(g_exit_key, &slot);
      return;
    }
  }
}

void unregister_thread(void* slot) {
  static_cast<RegistrySlot*>(slot)->tid.store(0, std::memory_order_release);
}

struct StartRecord {
  void* (*start)(void*);
  void* argument;
};

void* thread_trampoline(void* raw) {
  const StartRecord record = *static_cast<StartRecord*>(raw);
  internal_unmap(raw, sizeof(StartRecord));
  register_current_thread();
  return record.start(record.argument);
}

using PthreadCreate = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
PthreadCreate real_pthread_create() {
  static PthreadCreate real = nullptr;
  if (real == nullptr) {
    ScopedUntracked untracked;  // dlsym may allocate
    real = reinterpret_cast<PthreadCreate>(dlsym(RTLD_NEXT, "pthread_create"));
  }
  return real;
}

}  // namespace

pid_t current_tid() { return static_cast<pid_t>(syscall(SYS_gettid)); }

uintptr_t current_thread_pointer() {
  uintptr_t pointer;
  asm volatile("mov %%fs:0, %0" : "=r"(pointer));
  return pointer;
}

void threads_initialize() {
  if (!g_exit_key_ready && pthread_key_create(&g_exit_key, unregister_thread) == 0) {
    g_exit_key_ready = true;
  }
  register_current_thread();
}

void threads_after_fork_in_child() {
  const pid_t self = current_tid();
  for (RegistrySlot& slot : g_registry) {
    if (slot.tid.load(std::memory_order_relaxed) != self)
      slot.tid.store(0, std::memory_order_relaxed);
  }
  g_stop_in_progress.store(0, std::memory_order_relaxed);
}

bool registered_stack(pid_t tid, uintptr_t* low, uintptr_t* high) {
  for (const RegistrySlot& slot : g_registry) {
    if (slot.tid.load(std::memory_order_acquire) == tid) {
      *low = slot.stack_low;
      *high = slot.stack_high;
      return true;
    }
  }
  return false;
}

bool stop_the_world(WorldSnapshot* snapshot) {
  if (g_snapshot_memory == nullptr) {
    g_snapshot_memory =
        static_cast<ThreadState*>(internal_map(kMaxSnapshotThreads * sizeof(ThreadState)));
    if (g_snapshot_memory == nullptr) return false;
  }
  g_snapshot = WorldSnapshot{g_snapshot_memory, 0, 0};
  if (!install_handler()) {
    *snapshot = g_snapshot;
    return true;  // nothing stopped; the caller scans what it can
  }
  const pid_t self = current_tid();
  const pid_t pid = getpid();
  g_acks.store(0, std::memory_order_release);
  g_stop_in_progress.store(1, std::memory_order_release);

  // Threads can be created while we stop others: list again until a round finds no new one.
  int signalled = 0;
  for (int round = 0; round < 16; ++round) {
    bool found_new = false;
    for_each_task([&](pid_t tid) {
      if (tid == self || g_snapshot.count == kMaxSnapshotThreads) return;
      for (std::size_t i = 0; i < g_snapshot.count; ++i) {
        if (g_snapshot.threads[i].tid == tid) return;
      }
      ThreadState& state = g_snapshot.threads[g_snapshot.count];
      state = ThreadState{};
      state.tid = tid;
      // Published before the signal: the handler looks itself up by tid.
      __atomic_store_n(&g_snapshot.count, g_snapshot.count + 1, __ATOMIC_RELEASE);
      found_new = true;
      if (syscall(SYS_tgkill, pid, tid, stop_signal()) == 0)
        ++signalled;
      else
        state.tid = -1;  // gone meanwhile
    });
    // Wait for the answers: up to 2 s a round without progress.
    int last = -1;
    for (int waited = 0; g_acks.load(std::memory_order_acquire) < signalled && waited < 20;) {
      const int acks = g_acks.load(std::memory_order_acquire);
      timespec timeout{0, 100 * 1000 * 1000};
      futex(&g_acks, FUTEX_WAIT_PRIVATE, acks, &timeout);
      if (g_acks.load(std::memory_order_acquire) == last) ++waited;
      last = g_acks.load(std::memory_order_acquire);
    }
    if (!found_new) break;
  }
  for (std::size_t i = 0; i < g_snapshot.count; ++i) {
    const ThreadState& state = g_snapshot.threads[i];
    if (state.tid > 0 && !__atomic_load_n(&state.stopped, __ATOMIC_ACQUIRE))
      ++g_snapshot.not_stopped;
  }
  *snapshot = g_snapshot;
  return true;
}

void resume_the_world() {
  g_stop_in_progress.store(0, std::memory_order_release);
  g_resume_generation.fetch_add(1, std::memory_order_acq_rel);
  futex(&g_resume_generation, FUTEX_WAKE_PRIVATE, 1 << 30, nullptr);
  // A thread that never answered may still have the signal pending: keep the handler (it returns
  // at once when no stop is in progress) rather than let the default action kill the process.
  if (g_snapshot.not_stopped == 0 && g_handler_installed) {
    sigaction(stop_signal(), &g_previous_action, nullptr);
    g_handler_installed = false;
  }
}

}  // namespace memkit::check_rt

using memkit::check_rt::real_pthread_create;

extern "C" __attribute__((visibility("default"))) int pthread_create(pthread_t* thread,
                                                                     const pthread_attr_t* attr,
                                                                     void* (*start)(void*),
                                                                     void* argument) {
  using memkit::check_rt::StartRecord;
  memkit::check_rt::PthreadCreate real = real_pthread_create();
  if (real == nullptr) return EAGAIN;
  auto* record = static_cast<StartRecord*>(memkit::check_rt::internal_map(sizeof(StartRecord)));
  if (record == nullptr) return real(thread, attr, start, argument);
  record->start = start;
  record->argument = argument;
  const int result = real(thread, attr, memkit::check_rt::thread_trampoline, record);
  if (result != 0) memkit::check_rt::internal_unmap(record, sizeof(StartRecord));
  return result;
}
