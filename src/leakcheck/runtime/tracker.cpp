// The tracker's start-up and options, ScopedUntracked, and the lock that covers all its tables.
//
// Start-up has two halves. The tables need nothing from libc and are ready at the first
// allocation, which may come from the dynamic loader before any constructor has run. The options
// (getenv) and the fork handlers need an initialised libc; until `environ` is set they keep their
// defaults, and every allocation retries (a load and a branch) — in practice only the loader's
// first few.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "block_table.h"
#include "fork_safety.h"
#include "free_errors.h"
#include "internal_memory.h"
#include "runtime.h"
#include "stack_depot.h"
#include "tracker_spinlock.h"
#include "tracker_state.h"
#include "tracker_thread.h"

namespace memkit::check_rt {

ThreadSlot g_thread_slots[kThreadSlots];
std::atomic<bool> g_tracker_ready{false};
Options g_tracker_options;

namespace {

SpinLock g_initialize_lock;
bool g_tables_ready = false;
bool g_libc_ready = false;

// ---- options --------------------------------------------------------------------------------

// A message assembled without malloc or stdio: the runtime must not disturb the program's streams.
class Line {
 public:
  Line& operator<<(const char* text) {
    while (*text != '\0' && length_ < sizeof(buffer_) - 1) {
      buffer_[length_++] = *text++;
    }
    return *this;
  }
  Line& operator<<(uint64_t number) {
    char digits[24];
    int count = 0;
    do {
      digits[count++] = static_cast<char>('0' + number % 10);
      number /= 10;
    } while (number != 0);
    while (count > 0 && length_ < sizeof(buffer_) - 1) {
      buffer_[length_++] = digits[--count];
    }
    return *this;
  }
  void write_to_stderr() {
    buffer_[length_++] = '\n';
    for (std::size_t done = 0; done < length_;) {
      const ssize_t n = write(STDERR_FILENO, buffer_ + done, length_ - done);
      if (n <= 0) {
        return;
      }
      done += static_cast<std::size_t>(n);
    }
  }

 private:
  char buffer_[768];
  std::size_t length_ = 0;
};

// "memkit check: NAME=VALUE is not EXPECTED; using FALLBACK"
void complain(const char* name, const char* value, const char* expected, const char* fallback) {
  Line line;
  line << "memkit check: " << name << "=" << value << " is not " << expected << "; using "
       << fallback;
  line.write_to_stderr();
}

bool parse_number(const char* text, uint64_t* number) {
  if (*text == '\0') {
    return false;
  }
  uint64_t value = 0;
  for (; *text != '\0'; ++text) {
    if (*text < '0' || *text > '9' || value > (UINT64_MAX - 9) / 10) {
      return false;
    }
    value = value * 10 + static_cast<uint64_t>(*text - '0');
  }
  *number = value;
  return true;
}

// Looks `value` up among `names`; returns its index or -1.
int choice(const char* value, const char* const* names, int count) {
  for (int i = 0; i < count; ++i) {
    if (std::strcmp(value, names[i]) == 0) {
      return i;
    }
  }
  return -1;
}

void parse_yes_no(const char* name, bool* flag) {
  const char* value = getenv(name);
  if (value == nullptr) {
    return;
  }
  static constexpr const char* kNames[] = {"no", "yes"};
  const int index = choice(value, kNames, 2);
  if (index < 0) {
    complain(name, value, "yes or no", *flag ? "yes" : "no");
    return;
  }
  *flag = index == 1;
}

void parse_leak_check(Options& options) {
  const char* value = getenv("MEMKIT_LEAK_CHECK");
  if (value == nullptr) {
    return;
  }
  // "yes" is valgrind's old spelling of full.
  static constexpr const char* kNames[] = {"no", "summary", "full", "yes"};
  const int index = choice(value, kNames, 4);
  if (index < 0) {
    complain("MEMKIT_LEAK_CHECK", value, "no, summary or full", "full");
    return;
  }
  options.leak_check = index == 3 ? LeakCheckMode::full : static_cast<LeakCheckMode>(index);
}

void parse_leak_resolution(Options& options) {
  const char* value = getenv("MEMKIT_LEAK_RESOLUTION");
  if (value == nullptr) {
    return;
  }
  static constexpr const char* kNames[] = {"low", "med", "high"};
  const int index = choice(value, kNames, 3);
  if (index < 0) {
    complain("MEMKIT_LEAK_RESOLUTION", value, "low, med or high", "high");
    return;
  }
  options.leak_resolution = static_cast<LeakResolution>(index);
}

// valgrind's syntax: all, none, or a comma-separated list of heuristic names.
void parse_heuristics(Options& options) {
  const char* value = getenv("MEMKIT_LEAK_CHECK_HEURISTICS");
  if (value == nullptr) {
    return;
  }
  if (std::strcmp(value, "all") == 0) {
    options.heuristics = kHeuristicsAll;
    return;
  }
  if (std::strcmp(value, "none") == 0) {
    options.heuristics = 0;
    return;
  }
  static constexpr const char* kNames[] = {"stdstring", "length64", "newarray",
                                           "multipleinheritance"};
  uint32_t bits = 0;
  for (const char* item = value;;) {
    const char* comma = std::strchr(item, ',');
    const std::size_t length =
        comma != nullptr ? static_cast<std::size_t>(comma - item) : std::strlen(item);
    int found = -1;
    for (int i = 0; i < 4; ++i) {
      if (std::strlen(kNames[i]) == length && std::strncmp(item, kNames[i], length) == 0) {
        found = i;
      }
    }
    if (found < 0) {
      complain("MEMKIT_LEAK_CHECK_HEURISTICS", value,
               "all, none or a comma-separated list of stdstring, length64, newarray and "
               "multipleinheritance",
               "all");
      return;
    }
    bits |= 1u << found;
    if (comma == nullptr) {
      break;
    }
    item = comma + 1;
  }
  options.heuristics = bits;
}

void parse_num_callers(Options& options) {
  const char* value = getenv("MEMKIT_NUM_CALLERS");
  if (value == nullptr) {
    return;
  }
  uint64_t number = 0;
  if (!parse_number(value, &number) || number < 1 || number > kMaxStackDepth) {
    complain("MEMKIT_NUM_CALLERS", value, "a number from 1 to 64", "12");
    return;
  }
  options.num_callers = static_cast<uint32_t>(number);
}

void parse_freelist_vol(Options& options) {
  const char* value = getenv("MEMKIT_FREELIST_VOL");
  if (value == nullptr) {
    return;
  }
  uint64_t number = 0;
  if (!parse_number(value, &number)) {
    complain("MEMKIT_FREELIST_VOL", value, "a number of bytes", "0");
    return;
  }
  options.freelist_vol = number;
}

void parse_keep_stacktraces(Options& options) {
  const char* value = getenv("MEMKIT_KEEP_STACKTRACES");
  if (value == nullptr) {
    return;
  }
  if (strcmp(value, "alloc") == 0) {
    options.keep_free_stacks = false;
  } else if (strcmp(value, "alloc-and-free") == 0) {
    options.keep_free_stacks = true;
  } else {
    complain("MEMKIT_KEEP_STACKTRACES", value, "alloc or alloc-and-free", "alloc");
  }
}

void parse_notify_fd(Options& options) {
  const char* value = getenv("MEMKIT_CHECK_NOTIFY_FD");
  if (value == nullptr) {
    return;
  }
  uint64_t number = 0;
  if (!parse_number(value, &number) || number > INT32_MAX) {
    complain("MEMKIT_CHECK_NOTIFY_FD", value, "a file descriptor number", "none");
    return;
  }
  options.notify_fd = static_cast<int>(number);
}

void parse_check_dir(Options& options) {
  const char* value = getenv("MEMKIT_CHECK_DIR");
  if (value == nullptr) {
    return;
  }
  if (std::strlen(value) >= sizeof(options.report_dir)) {
    Line line;
    line << "memkit check: MEMKIT_CHECK_DIR is longer than "
         << uint64_t{sizeof(options.report_dir) - 1} << " bytes; using none";
    line.write_to_stderr();
    return;
  }
  std::strcpy(options.report_dir, value);
}

void read_options(Options& options) {
  parse_leak_check(options);
  parse_leak_resolution(options);
  parse_heuristics(options);
  parse_num_callers(options);
  parse_yes_no("MEMKIT_TRACE_CHILDREN", &options.trace_children);
  parse_freelist_vol(options);
  parse_keep_stacktraces(options);
  parse_yes_no("MEMKIT_RUN_FREERES", &options.run_freeres);
  parse_check_dir(options);
  parse_notify_fd(options);
}

}  // namespace

const Options& options() { return g_tracker_options; }

void tracker_initialize() {
  if (g_tracker_ready.load(std::memory_order_acquire)) {
    return;
  }
  ReentryGuard untracked;  // pthread_atfork may allocate
  ErrnoKeeper keep_errno;
  SpinLockHolder hold(g_initialize_lock);
  if (!g_tables_ready) {
    g_tables_ready = stack_depot_initialize();
  }
  if (!g_libc_ready && environ != nullptr) {
    read_options(g_tracker_options);
    install_fork_handlers();
    install_thread_slot_release();
    g_libc_ready = true;
  }
  if (g_tables_ready && g_libc_ready) {
    g_tracker_ready.store(true, std::memory_order_release);
  }
}

ScopedUntracked::ScopedUntracked() : was_untracked_(tracker_thread().untracked) {
  tracker_thread().untracked = true;
}

ScopedUntracked::~ScopedUntracked() { tracker_thread().untracked = was_untracked_; }

// ---- per-thread slots (tracker_thread.h) ----------------------------------------------------

namespace {

// For threads beyond the table: its flag starts set and every writer either sets it or restores
// the value it read, so it stays set: such threads are always untracked.
TrackerThread g_overflow_thread{
    .untracked = true, .stack_top = 1, .stack_bottom = 0, .stack_cache = {}};

pthread_key_t g_slot_key;
std::atomic<bool> g_slot_key_ready{false};

void release_thread_slot(void* slot) {
  static_cast<ThreadSlot*>(slot)->owner.store(0, std::memory_order_release);
}

}  // namespace

TrackerThread& claim_thread_slot(uintptr_t self) {
  const std::size_t home = home_thread_slot(self);
  for (std::size_t probe = 0; probe < kThreadSlots; ++probe) {
    ThreadSlot& slot = g_thread_slots[(home + probe) % kThreadSlots];
    uintptr_t owner = slot.owner.load(std::memory_order_acquire);
    if (owner == self) return slot.state;
    if (owner != 0) continue;
    if (!slot.owner.compare_exchange_strong(owner, self, std::memory_order_acq_rel)) continue;
    slot.state = TrackerThread{};
    if (g_slot_key_ready.load(std::memory_order_acquire)) {
      // Keys below PTHREAD_KEY_2NDLEVEL_SIZE live inside the thread descriptor: no allocation.
      pthread_setspecific(g_slot_key, &slot);
    }
    return slot.state;
  }
  return g_overflow_thread;
}

void install_thread_slot_release() {
  if (pthread_key_create(&g_slot_key, release_thread_slot) == 0) {
    g_slot_key_ready.store(true, std::memory_order_release);
    // The thread that initialised the tracker may have claimed its slot before the key existed.
    const auto self = reinterpret_cast<uintptr_t>(__builtin_thread_pointer());
    for (std::size_t i = 0; i < kThreadSlots; ++i) {
      if (g_thread_slots[i].owner.load(std::memory_order_relaxed) == self) {
        pthread_setspecific(g_slot_key, &g_thread_slots[i]);
      }
    }
  }
}

// One fixed order, everywhere: a path that holds one of these locks only ever takes later ones
// (the depot and the shards map memory under their locks; a shard reads huge sizes under its).
// The internal-memory registry is not among them: the reporter maps memory while it holds the
// tracker, and every tracker path that maps does so under one of these locks, so no thread it
// stops can be holding the registry's. fork takes the registry too (fork_safety.cpp).
void lock_tracker() {
  lock_stack_depot();
  lock_block_table();
  lock_free_errors();
}

void unlock_tracker() {
  unlock_free_errors();
  unlock_block_table();
  unlock_stack_depot();
}

}  // namespace memkit::check_rt
