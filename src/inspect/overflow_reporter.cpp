// The stack-overflow reporter: per-thread records and alternate stacks, and a SIGSEGV handler
// that only reads them, formats with its own integer code and writes with write(2).
#include "memkit/inspect/overflow_reporter.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "memkit/base/error.h"
#include "memkit/inspect/stack.h"

namespace memkit::inspect {
namespace {

constexpr std::size_t kAltStackSize = 64 * 1024;
// Below the main thread's lowest allowed address, the kernel keeps a gap of 256 pages
// (stack_guard_gap) free; a fault there is the stack trying to grow past its limit.
constexpr std::uint64_t kMainGuardGap = 256 * 4096;

// What the handler needs about the thread it runs on. Plain data in initial-exec TLS: reading
// it in a signal handler is a load, nothing more.
struct ThreadRecord {
  bool watched = false;
  bool main_thread = false;
  int thread_id = 0;
  std::uint64_t stack_high = 0;  // one past the top
  std::uint64_t stack_low = 0;   // the lowest usable address
  std::uint64_t guard_low = 0;   // [guard_low, stack_low) is the guard
  std::uint64_t stack_size = 0;  // threads: their size; main: filled in at the fault
};

thread_local ThreadRecord t_record;

// Frees the alternate stack when the thread ends (only this part has a destructor).
struct AltStack {
  void* memory = nullptr;
  ~AltStack() {
    if (memory == nullptr) return;
    stack_t disable{};
    disable.ss_flags = SS_DISABLE;
    ::sigaltstack(&disable, nullptr);
    ::munmap(memory, kAltStackSize);
  }
};
thread_local AltStack t_alt_stack;

std::atomic<int> g_exit_code{kStackOverflowExitCode};
std::atomic<std::uint64_t> g_limit{0};  // RLIMIT_STACK in bytes, 0 = unlimited
struct sigaction g_previous {};
std::atomic<bool> g_installed{false};

[[noreturn]] void fail(const char* what) {
  throw InspectError(std::string("memkit::inspect: the stack-overflow reporter could not ") + what +
                     ": " + std::strerror(errno));
}

// ---- async-signal-safe output ---------------------------------------------------------------

class SignalSafeText {
 public:
  void add(const char* text) {
    while (*text != '\0' && size_ < sizeof buffer_) buffer_[size_++] = *text++;
  }
  void add_number(std::uint64_t value) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (n > 0 && size_ < sizeof buffer_) buffer_[size_++] = digits[--n];
  }
  // The same shape as human_size(): "512 KiB", "8.0 MiB".
  void add_size(std::uint64_t bytes) {
    if (bytes < 1024) {
      add_number(bytes);
      add(" B");
      return;
    }
    if (bytes < (std::uint64_t{1} << 20) && bytes % 1024 == 0) {
      add_number(bytes / 1024);
      add(" KiB");
      return;
    }
    static const char* const kUnits[] = {" KiB", " MiB", " GiB", " TiB"};
    std::uint64_t unit_size = 1024;
    int unit = 0;
    while (unit < 3 && bytes >= unit_size * 1024) {
      unit_size *= 1024;
      ++unit;
    }
    const std::uint64_t tenths = (bytes * 10 + unit_size / 2) / unit_size;
    add_number(tenths / 10);
    add(".");
    add_number(tenths % 10);
    add(kUnits[unit]);
  }
  void write_to(int fd) const {
    std::size_t written = 0;
    while (written < size_) {
      const ssize_t n = ::write(fd, buffer_ + written, size_ - written);
      if (n <= 0) return;
      written += static_cast<std::size_t>(n);
    }
  }

 private:
  char buffer_[256];
  std::size_t size_ = 0;
};

bool is_overflow(const ThreadRecord& record, std::uint64_t fault, std::uint64_t stack_pointer) {
  if (!record.watched) return false;
  const bool fault_in_guard = fault >= record.guard_low && fault < record.stack_low;
  // A frame bigger than the guard jumps over it; the stack pointer is below the stack then.
  const bool pointer_below_stack =
      stack_pointer < record.stack_low && stack_pointer + kMainGuardGap >= record.guard_low;
  return fault_in_guard || pointer_below_stack;
}

void on_segv(int signal_number, siginfo_t* info, void* context) {
  const ThreadRecord& record = t_record;
  const auto fault = reinterpret_cast<std::uint64_t>(info->si_addr);
  std::uint64_t stack_pointer = UINT64_MAX;
#if defined(__x86_64__)
  stack_pointer =
      static_cast<std::uint64_t>(static_cast<ucontext_t*>(context)->uc_mcontext.gregs[REG_RSP]);
#elif defined(__aarch64__)
  stack_pointer = static_cast<ucontext_t*>(context)->uc_mcontext.sp;
#else
  (void)context;
#endif
  if (is_overflow(record, fault, stack_pointer)) {
    SignalSafeText text;
    text.add("memkit: stack overflow in thread ");
    text.add_number(static_cast<std::uint64_t>(record.thread_id));
    text.add(" (stack size ");
    const std::uint64_t size =
        record.main_thread
            ? record.stack_high - (fault < record.stack_low ? fault : record.stack_low)
            : record.stack_size;
    text.add_size(size);
    text.add(", limit ");
    const std::uint64_t limit = g_limit.load(std::memory_order_relaxed);
    if (limit == 0) {
      text.add("unlimited");
    } else {
      text.add_size(limit);
    }
    text.add(record.main_thread ? "), the main thread\n" : ")\n");
    text.write_to(STDERR_FILENO);
    ::_exit(g_exit_code.load(std::memory_order_relaxed));
  }
  // Not ours: hand it to the handler that was there before, or put the default action back
  // and let the instruction fault again (a core dump, as without the reporter).
  if ((g_previous.sa_flags & SA_SIGINFO) != 0 && g_previous.sa_sigaction != nullptr) {
    g_previous.sa_sigaction(signal_number, info, context);
    return;
  }
  if ((g_previous.sa_flags & SA_SIGINFO) == 0 && g_previous.sa_handler != SIG_DFL &&
      g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(signal_number);
    return;
  }
  ::sigaction(signal_number, &g_previous, nullptr);
}

}  // namespace

void watch_this_thread_stack() {
  if (t_record.watched) return;
  void* memory =
      ::mmap(nullptr, kAltStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) fail("map an alternate signal stack");
  stack_t alt{};
  alt.ss_sp = memory;
  alt.ss_size = kAltStackSize;
  if (::sigaltstack(&alt, nullptr) != 0) {
    ::munmap(memory, kAltStackSize);
    fail("install an alternate signal stack");
  }
  t_alt_stack.memory = memory;

  ThreadRecord record;
  record.thread_id = static_cast<int>(::syscall(SYS_gettid));
  record.main_thread = record.thread_id == ::getpid();
  if (record.main_thread) {
    const MainStackInfo main = main_thread_stack();
    record.stack_high = main.top;
    // The lowest address the stack may grow to; unlimited: as far as it has grown.
    record.stack_low =
        main.limit_bytes ? main.top - *main.limit_bytes : main.top - main.mapped_bytes;
    record.guard_low = record.stack_low - kMainGuardGap;
  } else {
    const StackBounds bounds = current_thread_stack();
    record.stack_high = bounds.high;
    record.stack_low = bounds.low;
    record.stack_size = bounds.size();
    record.guard_low = bounds.low - bounds.guard_size;
  }
  record.watched = true;
  t_record = record;
}

void install_stack_overflow_reporter(int exit_code) {
  g_exit_code.store(exit_code, std::memory_order_relaxed);
  rlimit limit{};
  if (::getrlimit(RLIMIT_STACK, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    g_limit.store(limit.rlim_cur, std::memory_order_relaxed);
  }
  watch_this_thread_stack();
  if (g_installed.exchange(true)) return;
  struct sigaction action {};
  action.sa_sigaction = on_segv;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  if (::sigaction(SIGSEGV, &action, &g_previous) != 0) {
    g_installed.store(false);
    fail("install its SIGSEGV handler");
  }
}

}  // namespace memkit::inspect
