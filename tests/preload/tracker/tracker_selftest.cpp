// tracker_selftest — the tracker half of libmemkit_check.so linked straight into a program (no
// preloading, no reporter): its malloc/new are the tracker's, so it can call runtime.h and check
// counts, kinds, stacks and free errors against what it just did. ctest builds and runs it
// (preload.tracker.*).
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>

#include "runtime.h"

using namespace memkit::check_rt;

namespace {

int g_failures = 0;

#define CHECK(condition)                                                        \
  do {                                                                          \
    if (!(condition)) {                                                         \
      std::fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #condition); \
      ++g_failures;                                                             \
    }                                                                           \
  } while (0)

struct Delta {
  HeapTotals before = heap_totals();
  int64_t allocs() const { return static_cast<int64_t>(heap_totals().allocs - before.allocs); }
  int64_t frees() const { return static_cast<int64_t>(heap_totals().frees - before.frees); }
  int64_t bytes() const {
    return static_cast<int64_t>(heap_totals().bytes_allocated - before.bytes_allocated);
  }
  int64_t in_use_blocks() const {
    return static_cast<int64_t>(heap_totals().in_use_blocks - before.in_use_blocks);
  }
  int64_t in_use_bytes() const {
    return static_cast<int64_t>(heap_totals().in_use_bytes - before.in_use_bytes);
  }
};

// The live block at `address`, found through for_each_live_block.
bool live_block(void* address, Block* out) {
  struct Search {
    uintptr_t address;
    Block found;
    bool hit;
  } search{reinterpret_cast<uintptr_t>(address), {}, false};
  ScopedUntracked untracked;
  lock_tracker();
  for_each_live_block(
      [](const Block& block, void* ctx) {
        auto* s = static_cast<Search*>(ctx);
        if (block.address == s->address) {
          s->found = block;
          s->hit = true;
        }
      },
      &search);
  unlock_tracker();
  *out = search.found;
  return search.hit;
}

struct ErrorList {
  FreeError errors[64];
  int count = 0;
};

ErrorList errors_since(int first) {
  ErrorList list;
  struct Ctx {
    ErrorList* list;
    int index;
    int first;
  } ctx{&list, 0, first};
  for_each_free_error(
      [](const FreeError& error, void* c) {
        auto* x = static_cast<Ctx*>(c);
        if (x->index++ >= x->first && x->list->count < 64) {
          x->list->errors[x->list->count++] = error;
        }
      },
      &ctx);
  return list;
}

int error_count() {
  int count = 0;
  for_each_free_error([](const FreeError&, void* c) { ++*static_cast<int*>(c); }, &count);
  return count;
}

// True if pc lies within `function`'s first `length` bytes.
bool pc_in(uintptr_t pc, const void* function, uintptr_t length = 512) {
  const auto begin = reinterpret_cast<uintptr_t>(function);
  return pc >= begin && pc < begin + length;
}

template <typename T>
T* opaque(T* pointer) {  // keeps the compiler from pairing or eliding our new/delete calls
  __asm__ volatile("" : "+r"(pointer));
  return pointer;
}

__attribute__((noinline)) void* site_a(std::size_t n) { return opaque(std::malloc(n)); }
__attribute__((noinline)) void* site_b(std::size_t n) { return opaque(std::malloc(n)); }

void test_counting() {
  {
    Delta d;
    void* p = opaque(std::malloc(10));
    CHECK(d.allocs() == 1 && d.bytes() == 10 && d.in_use_blocks() == 1 && d.in_use_bytes() == 10);
    std::free(p);
    CHECK(d.frees() == 1 && d.in_use_blocks() == 0 && d.in_use_bytes() == 0);
  }
  {
    Delta d;
    std::free(nullptr);
    CHECK(d.allocs() == 0 && d.frees() == 0);
    void* zero = opaque(std::malloc(0));
    Block block;
    CHECK(zero != nullptr && live_block(zero, &block) && block.size == 0 &&
          block.kind == AllocKind::malloc);
    CHECK(d.allocs() == 1 && d.bytes() == 0 && d.in_use_blocks() == 1);
    std::free(zero);
  }
  {  // realloc: NULL → malloc; live → alloc + free even in place; 0 → free only
    Delta d;
    void* p = opaque(std::realloc(nullptr, 8));
    CHECK(d.allocs() == 1 && d.frees() == 0 && d.bytes() == 8);
    p = opaque(std::realloc(p, 300));
    CHECK(d.allocs() == 2 && d.frees() == 1 && d.bytes() == 308 && d.in_use_bytes() == 300);
    p = opaque(std::realloc(p, 200));  // glibc shrinks in place; still a free and an alloc
    CHECK(d.allocs() == 3 && d.frees() == 2 && d.bytes() == 508 && d.in_use_bytes() == 200);
    Block block;
    CHECK(live_block(p, &block) && block.size == 200);
    void* gone = opaque(std::realloc(p, 0));
    CHECK(gone == nullptr && d.allocs() == 3 && d.frees() == 3 && d.in_use_blocks() == 0);
  }
  {  // calloc, overflow, failures
    Delta d;
    void* c = opaque(std::calloc(3, 4));
    CHECK(d.allocs() == 1 && d.bytes() == 12);
    errno = 0;
    CHECK(std::calloc(SIZE_MAX / 2, 4) == nullptr && errno == ENOMEM);
    errno = 0;
    CHECK(std::malloc(SIZE_MAX - 4096) == nullptr && errno == ENOMEM);
    errno = 0;
    CHECK(reallocarray(nullptr, SIZE_MAX / 2, 4) == nullptr && errno == ENOMEM);
    void* r = opaque(reallocarray(nullptr, 3, 4));
    CHECK(d.allocs() == 2 && d.bytes() == 24 && d.frees() == 0);
    std::free(c);
    std::free(r);
    CHECK(d.frees() == 2 && d.in_use_blocks() == 0);
  }
  {  // errno survives free
    void* p = std::malloc(1);
    errno = 1234;
    std::free(p);
    CHECK(errno == 1234);
  }
}

void test_aligned() {
  Delta d;
  void* a = opaque(aligned_alloc(64, 128));
  void* m = opaque(memalign(32, 40));
  void* pm = nullptr;
  CHECK(posix_memalign(&pm, 16, 24) == 0 && pm != nullptr);
  void* v = opaque(valloc(10));
  void* pv = opaque(pvalloc(10));
  CHECK(reinterpret_cast<uintptr_t>(a) % 64 == 0 && reinterpret_cast<uintptr_t>(m) % 32 == 0);
  CHECK(reinterpret_cast<uintptr_t>(v) % 4096 == 0 && reinterpret_cast<uintptr_t>(pv) % 4096 == 0);
  CHECK(d.allocs() == 5 && d.bytes() == 128 + 40 + 24 + 10 + 4096);
  void* bad = nullptr;
  CHECK(posix_memalign(&bad, 3, 24) == EINVAL && posix_memalign(&bad, 4, 24) == EINVAL);
  CHECK(d.allocs() == 5);
  // valgrind names these memalign; posix_memalign adds its own frame after it.
  Block block;
  const auto memalign_entry = reinterpret_cast<uintptr_t>(&memalign);
  CHECK(live_block(a, &block) && stack(block.stack_id).frames[0] == memalign_entry);
  CHECK(live_block(v, &block) && stack(block.stack_id).frames[0] == memalign_entry);
  CHECK(live_block(m, &block) &&
        pc_in(stack(block.stack_id).frames[0], reinterpret_cast<void*>(&memalign)));
  CHECK(live_block(pm, &block) && stack(block.stack_id).frames[0] == memalign_entry &&
        pc_in(stack(block.stack_id).frames[1], reinterpret_cast<void*>(&posix_memalign)));
  CHECK(malloc_usable_size(a) >= 128);
  for (void* p : {a, m, pm, v, pv}) {
    std::free(p);
  }
  CHECK(d.frees() == 5 && d.in_use_blocks() == 0);
}

void test_stacks() {
  void* p[2];
  volatile std::size_t count = 2;  // not unrolled: one call site
  for (std::size_t i = 0; i < count; ++i) {
    p[i] = site_a(i + 1);  // one call site, one stack
  }
  void* p1 = p[0];
  void* p2 = p[1];
  void* p3 = site_b(3);
  Block b1, b2, b3;
  CHECK(live_block(p1, &b1) && live_block(p2, &b2) && live_block(p3, &b3));
  CHECK(b1.stack_id != 0 && b1.stack_id == b2.stack_id && b1.stack_id != b3.stack_id);
  CHECK(b1.stack_id <= stack_count() && b3.stack_id <= stack_count());
  const Stack s = stack(b1.stack_id);
  CHECK(s.depth >= 3 && s.depth <= options().num_callers);
  CHECK(pc_in(s.frames[0], reinterpret_cast<void*>(&malloc)));
  CHECK(pc_in(s.frames[1], reinterpret_cast<void*>(&site_a), 64));
  CHECK(pc_in(s.frames[2], reinterpret_cast<void*>(&test_stacks), 4096));
  CHECK(stack(0).depth == 0 && stack(stack_count() + 1).depth == 0);
  std::free(p1);
  std::free(p2);
  std::free(p3);
}

__attribute__((noinline)) void recurse_and_allocate(int depth, void** out) {
  if (depth == 0) {
    *out = opaque(std::malloc(5));
    return;
  }
  recurse_and_allocate(depth - 1, out);
  __asm__ volatile("" ::: "memory");
}

void test_num_callers() {
  void* p = nullptr;
  recurse_and_allocate(80, &p);
  Block block;
  CHECK(live_block(p, &block) && stack(block.stack_id).depth == options().num_callers);
  std::free(p);
}

void test_new_delete() {
  Delta d;
  int* object = opaque(new int(1));
  int* array = opaque(new int[4]);
  auto* aligned = opaque(new (std::align_val_t{128}) char);
  auto* nothrow_array = opaque(new (std::nothrow) char[7]);
  Block block;
  CHECK(live_block(object, &block) && block.kind == AllocKind::new_object && block.size == 4);
  CHECK(pc_in(stack(block.stack_id).frames[0],
              reinterpret_cast<void*>(static_cast<void* (*)(std::size_t)>(&operator new))));
  CHECK(live_block(array, &block) && block.kind == AllocKind::new_array && block.size == 16);
  CHECK(reinterpret_cast<uintptr_t>(aligned) % 128 == 0 && live_block(aligned, &block) &&
        block.kind == AllocKind::new_object);
  CHECK(live_block(nothrow_array, &block) && block.kind == AllocKind::new_array);
  const int errors = error_count();
  delete object;
  delete[] array;
  ::operator delete (aligned, std::align_val_t{128});
  delete[] nothrow_array;
  CHECK(error_count() == errors);
  CHECK(d.allocs() == 4 && d.frees() == 4 && d.in_use_blocks() == 0);
  // Failure: the nothrow form returns nullptr and counts nothing; the throwing form throws.
  volatile std::size_t huge = SIZE_MAX / 4;
  CHECK(opaque(new (std::nothrow) char[huge]) == nullptr);
  bool threw = false;
  try {
    opaque(new char[huge]);
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  CHECK(threw && d.in_use_blocks() == 0);  // the exception object came and went
}

void test_mismatches() {
  Delta d;
  const int first = error_count();
  int* array = opaque(new int[4]);
  Block array_block;
  live_block(array, &array_block);
  ::operator delete(array);  // new[] then delete
  auto* from_malloc = opaque(static_cast<int*>(std::malloc(4)));
  ::operator delete(from_malloc);  // malloc then delete
  int* object = opaque(new int);
  std::free(object);  // new then free
  int* array2 = opaque(new int[2]);
  void* moved = std::realloc(array2, 64);  // new[] then realloc
  const ErrorList list = errors_since(first);
  CHECK(list.count == 4);
  for (int i = 0; i < list.count; ++i) {
    CHECK(list.errors[i].kind == FreeErrorKind::mismatched_free && list.errors[i].has_block &&
          !list.errors[i].block_was_freed && list.errors[i].stack_id != 0);
  }
  CHECK(list.errors[0].operation == FreeKind::delete_object &&
        list.errors[0].block.kind == AllocKind::new_array &&
        list.errors[0].block.address == reinterpret_cast<uintptr_t>(array) &&
        list.errors[0].block.size == 16 && list.errors[0].block.stack_id == array_block.stack_id);
  CHECK(list.errors[1].operation == FreeKind::delete_object &&
        list.errors[1].block.kind == AllocKind::malloc);
  CHECK(list.errors[2].operation == FreeKind::free &&
        list.errors[2].block.kind == AllocKind::new_object);
  CHECK(list.errors[3].operation == FreeKind::realloc &&
        list.errors[3].block.kind == AllocKind::new_array);
  // Still released, as valgrind does; the realloc went through.
  Block block;
  CHECK(moved != nullptr && live_block(moved, &block) && block.kind == AllocKind::malloc);
  std::free(moved);
  CHECK(d.allocs() == 5 && d.frees() == 5 && d.in_use_blocks() == 0);
}

void test_invalid_frees() {
  const int first = error_count();
  Delta d;
  // Double free: the second names the block, its allocation and where it was freed.
  char* p = opaque(static_cast<char*>(std::malloc(10)));
  Block p_block;
  live_block(p, &p_block);
  std::free(p);
  std::free(p);
  // Interior pointer: the block stays live. (A size glibc serves from another bin than p's, so
  // that q is not p's address handed out again.)
  char* q = opaque(static_cast<char*>(std::malloc(100)));
  std::free(q + 4);
  // Never allocated (on the stack): glibc never sees it, or this program would abort.
  int local = 0;
  std::free(opaque(&local));
  // realloc of a freed block: NULL, nothing touched, counted as valgrind counts (alloc + free).
  void* r = std::realloc(p, 20);
  CHECK(r == nullptr);
  // delete of a freed new'd object.
  int* object = opaque(new int);
  delete object;
  ::operator delete(object);
  const ErrorList list = errors_since(first);
  CHECK(list.count == 5);
  const FreeError& twice = list.errors[0];
  CHECK(twice.kind == FreeErrorKind::invalid_free && twice.operation == FreeKind::free &&
        twice.address == reinterpret_cast<uintptr_t>(p) && twice.has_block &&
        twice.block_was_freed && twice.block.size == 10 &&
        twice.block.stack_id == p_block.stack_id && twice.freed_stack_id != 0 &&
        twice.freed_stack_id != twice.stack_id);
  CHECK(pc_in(stack(twice.freed_stack_id).frames[0], reinterpret_cast<void*>(&free)));
  const FreeError& interior = list.errors[1];
  CHECK(interior.kind == FreeErrorKind::invalid_free && interior.has_block &&
        !interior.block_was_freed && interior.block.address == reinterpret_cast<uintptr_t>(q) &&
        interior.block.size == 100);
  CHECK(list.errors[2].kind == FreeErrorKind::invalid_free && !list.errors[2].has_block);
  CHECK(list.errors[3].operation == FreeKind::realloc && list.errors[3].block_was_freed);
  CHECK(list.errors[4].operation == FreeKind::delete_object && list.errors[4].block_was_freed &&
        list.errors[4].block.kind == AllocKind::new_object);
  Block block;
  CHECK(live_block(q, &block));
  // valgrind: every free call counts (5 invalid + 2 good), realloc also an alloc of 20 bytes.
  CHECK(d.frees() == 7 && d.allocs() == 4 && d.bytes() == 10 + 100 + 20 + 4);
  std::free(q);
  CHECK(free_errors_dropped() == 0);
}

void test_quarantine() {
  if (options().freelist_vol == 0) {
    return;
  }
  // With a quarantine, a freed address is not handed out again at once, so a stale pointer's
  // second free is still recognised even after more allocations of the same size.
  char* p = opaque(static_cast<char*>(std::malloc(48)));
  std::free(p);
  char* again = opaque(static_cast<char*>(std::malloc(48)));
  CHECK(again != p);
  const int first = error_count();
  std::free(p);
  const ErrorList list = errors_since(first);
  CHECK(list.count == 1 && list.errors[0].block_was_freed);
  std::free(again);
}

void test_untracked() {
  Delta d;
  void* p;
  {
    ScopedUntracked untracked;
    p = std::malloc(100);
  }
  CHECK(d.allocs() == 0);
  const int errors = error_count();
  std::free(p);  // a foreign block: quietly glibc's
  CHECK(error_count() == errors && d.frees() == 0);
  // A tracked block freed while untracked leaves the table and counts.
  void* q = opaque(std::malloc(7));
  {
    ScopedUntracked untracked;
    std::free(q);
  }
  CHECK(d.allocs() == 1 && d.frees() == 1 && d.in_use_blocks() == 0);
  // dlerror's buffer, allocated in a ScopedUntracked dlsym, freed later by the program's own dl*.
  {
    ScopedUntracked untracked;
    CHECK(dlsym(RTLD_DEFAULT, "no_such_symbol_anywhere") == nullptr);
  }
  dlerror();
  CHECK(error_count() == errors);
}

void test_many_blocks() {
  Delta d;
  constexpr int kCount = 300000;
  auto** blocks = static_cast<void**>(std::malloc(sizeof(void*) * kCount));
  for (int i = 0; i < kCount; ++i) {
    blocks[i] = std::malloc(static_cast<std::size_t>(i % 64));
  }
  CHECK(d.in_use_blocks() == kCount + 1 && live_block_count() >= static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; i += 2) {
    std::free(blocks[i]);
  }
  Block block;
  CHECK(live_block(blocks[1], &block) && block.size == 1);
  for (int i = 1; i < kCount; i += 2) {
    std::free(blocks[i]);
  }
  std::free(blocks);
  CHECK(d.in_use_blocks() == 0 && d.in_use_bytes() == 0 && d.allocs() == d.frees());
}

void* thread_body(void* arg) {
  const auto seed = reinterpret_cast<uintptr_t>(arg);
  void* kept[100];
  for (int i = 0; i < 200000; ++i) {
    void* p = std::malloc(16 + (i + seed) % 200);
    if (i % 2000 == 0) {
      kept[i / 2000] = p;
    } else {
      std::free(p);
    }
  }
  for (void* p : kept) {
    delete[] static_cast<char*>(p);  // mismatched on purpose, from many threads at once
  }
  return nullptr;
}

void test_threads() {
  Delta d;
  const int errors = error_count();
  pthread_t threads[4];
  for (int i = 0; i < 4; ++i) {
    pthread_create(&threads[i], nullptr, thread_body, reinterpret_cast<void*>(uintptr_t(i)));
  }
  for (pthread_t thread : threads) {
    pthread_join(thread, nullptr);
  }
  // pthread_create's own allocations (the thread's stack is mmap'd; the DTV may be malloc'd).
  CHECK(d.allocs() >= 4 * 200000 && d.allocs() - d.frees() == d.in_use_blocks());
  CHECK(error_count() - errors == 400);
}

volatile sig_atomic_t g_signals = 0;
void allocate_in_handler(int) {
  void* p = std::malloc(24);
  std::free(p);
  g_signals = g_signals + 1;
}

void test_signals() {
  // A profiling timer fires while the main loop is inside malloc/free; the handler allocates too.
  struct sigaction action {};
  action.sa_handler = allocate_in_handler;
  sigaction(SIGPROF, &action, nullptr);
  itimerval timer{{0, 100}, {0, 100}};
  setitimer(ITIMER_PROF, &timer, nullptr);
  Delta d;
  const int errors = error_count();
  for (int i = 0; i < 3000000 && g_signals < 200; ++i) {
    std::free(std::malloc(32));
  }
  itimerval off{};
  setitimer(ITIMER_PROF, &off, nullptr);
  CHECK(g_signals > 0 && error_count() == errors && d.in_use_blocks() == 0);
}

void test_fork() {
  void* inherited = std::malloc(33);
  const HeapTotals before = heap_totals();
  const pid_t child = fork();
  if (child == 0) {
    g_failures = 0;
    // The child keeps the parent's blocks and counters, and tracks on.
    Block block;
    CHECK(live_block(inherited, &block) && block.size == 33);
    const HeapTotals now = heap_totals();
    CHECK(now.allocs == before.allocs);
    void* p = opaque(std::malloc(44));
    CHECK(heap_totals().allocs == now.allocs + 1);
    std::free(p);
    std::free(inherited);
    CHECK(heap_totals().in_use_blocks == now.in_use_blocks - 1);
    _exit(g_failures == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  Block block;
  CHECK(live_block(inherited, &block));
  std::free(inherited);
}

void* fork_in_thread(void*) {
  for (int i = 0; i < 20; ++i) {
    const pid_t child = fork();
    if (child == 0) {
      void* p = std::malloc(10);
      std::free(p);
      _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      return reinterpret_cast<void*>(1);
    }
  }
  return nullptr;
}

void test_fork_while_allocating() {
  // Other threads allocate throughout; a child that inherited a held lock would hang here.
  pthread_t busy[2];
  for (pthread_t& thread : busy) {
    pthread_create(&thread, nullptr, thread_body, reinterpret_cast<void*>(uintptr_t(7)));
  }
  pthread_t forker;
  pthread_create(&forker, nullptr, fork_in_thread, nullptr);
  void* result = nullptr;
  pthread_join(forker, &result);
  for (pthread_t thread : busy) {
    pthread_join(thread, nullptr);
  }
  CHECK(result == nullptr);
}

}  // namespace

int main() {
  test_counting();
  test_aligned();
  test_stacks();
  test_num_callers();
  test_new_delete();
  test_mismatches();
  test_invalid_frees();
  test_quarantine();
  test_untracked();
  test_many_blocks();
  test_threads();
  test_signals();
  test_fork();
  test_fork_while_allocating();
  std::printf("tracker_selftest: %s (%d failures; %u stacks; num_callers %u; freelist_vol %llu)\n",
              g_failures == 0 ? "PASS" : "FAIL", g_failures, stack_count(), options().num_callers,
              static_cast<unsigned long long>(options().freelist_vol));
  return g_failures == 0 ? 0 : 1;
}
