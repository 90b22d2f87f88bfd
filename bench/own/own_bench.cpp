// bench/own/own_bench.cpp — the ownership types against their standard-library peers.
//
// Each memkit benchmark has its peer in the same program, and the table printed after the runs
// (bench/support/ratio.h) says whether memkit met its target:
//
//   Rc clone+drop                  vs std::shared_ptr copy+destroy   at least 5x faster
//   Arc clone+drop                 vs std::shared_ptr copy+destroy   no slower
//   RefCell borrow()/borrow_mut()  vs plain reference access         within 2 ns
//   Box make+drop, Box deref       vs std::unique_ptr                no slower
//   Rc::make+drop                  vs std::make_shared+destroy       no slower
//
// Copies and guards are forced through memory with escape() (an empty asm taking the address,
// with a "memory" clobber): the compiler must store the handle and the count before it and
// reload them after, so an increment/decrement pair cannot be folded away. This is the cost a
// real program pays when a copy escapes (is stored, or passed to a function that is not
// inlined). Ours and the peer get exactly the same barriers.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define MEMKIT_BENCH_HAS_SINGLE_THREADED 1
#endif

#include "memkit/own/arc.h"
#include "memkit/own/box.h"
#include "memkit/own/option_box.h"
#include "memkit/own/rc.h"
#include "memkit/own/refcell.h"
#include "ratio.h"

namespace {

using memkit::bench::Target;

struct Payload {
  long value = 42;
};

template <class T>
void escape(T* p) {
  asm volatile("" : : "r"(p) : "memory");
}

// Makes the compiler produce `value` in a register: the read really happens. (DoNotOptimize on a
// copy is not enough: g++ may give the copy the stack slot of the escaped original and read
// nothing at all.)
void consume(long value) { asm volatile("" : : "r"(value)); }

// libstdc++ chooses plain or atomic shared_ptr counts at run time from glibc's
// __libc_single_threaded, which turns false for good once the process has started a thread.
// Real programs have threads, so start (and join) one before any benchmark runs: std::shared_ptr
// is then measured the way it runs in them (and Arc is compared with it on equal terms).
[[maybe_unused]] const bool kThreadStarted = [] {
  std::thread([] {}).join();
#ifdef MEMKIT_BENCH_HAS_SINGLE_THREADED
  const int single_threaded = __libc_single_threaded;
#else
  const int single_threaded = -1;  // unknown
#endif
  std::fprintf(  // stderr: stdout may be --benchmark_format=json
      stderr,
      "own_bench: started and joined a std::thread before the benchmarks, so std::shared_ptr "
      "uses atomic reference counts (__libc_single_threaded = %d)\n",
      single_threaded);
  return true;
}();

// ---- clone + drop -----------------------------------------------------------------------------

void BM_RcCloneDrop(benchmark::State& state) {
  const auto rc = memkit::Rc<Payload>::make();
  for (auto _ : state) {
    memkit::Rc<Payload> copy(rc);
    escape(&copy);
  }
}
BENCHMARK(BM_RcCloneDrop);

void BM_ArcCloneDrop(benchmark::State& state) {
  const auto arc = memkit::Arc<Payload>::make();
  for (auto _ : state) {
    memkit::Arc<Payload> copy(arc);
    escape(&copy);
  }
}
BENCHMARK(BM_ArcCloneDrop);

void BM_SharedPtrCopyDestroy(benchmark::State& state) {
  const auto shared = std::make_shared<Payload>();
  for (auto _ : state) {
    std::shared_ptr<Payload> copy(shared);
    escape(&copy);
  }
}
BENCHMARK(BM_SharedPtrCopyDestroy);

MEMKIT_BENCH_COMPARE("Rc clone+drop", "BM_RcCloneDrop", "std::shared_ptr copy+destroy",
                     "BM_SharedPtrCopyDestroy", Target::at_least_times_faster(5.0));
MEMKIT_BENCH_COMPARE("Arc clone+drop", "BM_ArcCloneDrop", "std::shared_ptr copy+destroy",
                     "BM_SharedPtrCopyDestroy", Target::no_slower(1.05));

// ---- borrow + release ---------------------------------------------------------------------------

void BM_RefCellBorrow(benchmark::State& state) {
  const memkit::RefCell<long> cell{0};
  for (auto _ : state) {
    memkit::Ref<long> ref = cell.borrow();
    consume(*ref);
    escape(&ref);
  }
}
BENCHMARK(BM_RefCellBorrow);

void BM_PlainRead(benchmark::State& state) {
  long storage = 0;
  const long& ref = storage;
  for (auto _ : state) {
    consume(ref);
    escape(&ref);
  }
}
BENCHMARK(BM_PlainRead);

void BM_RefCellBorrowMut(benchmark::State& state) {
  const memkit::RefCell<long> cell{0};
  for (auto _ : state) {
    memkit::RefMut<long> guard = cell.borrow_mut();
    *guard += 1;
    escape(&guard);
  }
}
BENCHMARK(BM_RefCellBorrowMut);

void BM_PlainWrite(benchmark::State& state) {
  long storage = 0;
  long& ref = storage;
  for (auto _ : state) {
    ref += 1;
    escape(&ref);
  }
}
BENCHMARK(BM_PlainWrite);

MEMKIT_BENCH_COMPARE("RefCell borrow()+release", "BM_RefCellBorrow", "plain const& read",
                     "BM_PlainRead", Target::within_ns(2.0));
MEMKIT_BENCH_COMPARE("RefCell borrow_mut()+release", "BM_RefCellBorrowMut", "plain & write",
                     "BM_PlainWrite", Target::within_ns(2.0));

// ---- Box ----------------------------------------------------------------------------------------

void BM_BoxMakeDrop(benchmark::State& state) {
  for (auto _ : state) {
    auto box = memkit::Box<Payload>::make();
    escape(&box);
  }
}
BENCHMARK(BM_BoxMakeDrop);

void BM_UniquePtrMakeDestroy(benchmark::State& state) {
  for (auto _ : state) {
    auto unique = std::make_unique<Payload>();
    escape(&unique);
  }
}
BENCHMARK(BM_UniquePtrMakeDestroy);

// Sums the values behind 256 owning pointers per iteration (8 KiB of heap chunks: L1-resident).
// Every variant sorts its owners by address first: glibc's tcache hands freed chunks back newest
// first, so without the sort the walk order (up or down through memory) would depend on which
// benchmark ran before, and that alone moved a variant by 40 % with identical machine code.
constexpr long kDerefCount = 256;

template <class Owners>
void sort_by_address(Owners& owners) {
  std::sort(owners.begin(), owners.end(),
            [](const auto& a, const auto& b) { return std::less<const long*>()(&*a, &*b); });
}

void BM_BoxDeref(benchmark::State& state) {
  std::vector<memkit::Box<long>> boxes;
  boxes.reserve(kDerefCount);
  for (long i = 0; i < kDerefCount; ++i) boxes.push_back(memkit::Box<long>::make(i));
  sort_by_address(boxes);
  for (auto _ : state) {
    long sum = 0;
    for (const auto& box : boxes) sum += *box;
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_BoxDeref);

void BM_BoxDerefUnchecked(benchmark::State& state) {
  std::vector<memkit::Box<long>> boxes;
  boxes.reserve(kDerefCount);
  for (long i = 0; i < kDerefCount; ++i) boxes.push_back(memkit::Box<long>::make(i));
  sort_by_address(boxes);
  for (auto _ : state) {
    long sum = 0;
    for (const auto& box : boxes) sum += box.get_unchecked();
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_BoxDerefUnchecked);

void BM_UniquePtrDeref(benchmark::State& state) {
  std::vector<std::unique_ptr<long>> pointers;
  pointers.reserve(kDerefCount);
  for (long i = 0; i < kDerefCount; ++i) pointers.push_back(std::make_unique<long>(i));
  sort_by_address(pointers);
  for (auto _ : state) {
    long sum = 0;
    for (const auto& pointer : pointers) sum += *pointer;
    benchmark::DoNotOptimize(sum);
  }
}
BENCHMARK(BM_UniquePtrDeref);

// Walks a singly linked list of 256 nodes, each owning the next: the recursive structure a Box
// exists for. A Box is never null, so the end of the list is an empty OptionBox (Rust's
// Option<Box<Node>>, one pointer wide); unique_ptr's end is null. BM_BoxListWalkStdOptional shows
// what std::optional<Box<Node>> costs instead: a flag beside each pointer (16-byte links) and a
// test of both per step. Each step is a load that depends on the last, so no loop can be
// vectorized.
struct BoxNode {
  long value;
  memkit::OptionBox<BoxNode> next;
};

struct StdOptionalBoxNode {
  long value;
  std::optional<memkit::Box<StdOptionalBoxNode>> next;
};

struct UniqueNode {
  long value;
  std::unique_ptr<UniqueNode> next;
};

void BM_BoxListWalk(benchmark::State& state) {
  memkit::OptionBox<BoxNode> head;
  for (long i = 0; i < kDerefCount; ++i) head = memkit::Box<BoxNode>::make(i, std::move(head));
  for (auto _ : state) {
    long sum = 0;
    for (const BoxNode* node = head.get(); node != nullptr; node = node->next.get()) {
      sum += node->value;
    }
    benchmark::DoNotOptimize(sum);
  }
  // Unlink iteratively: the recursive destructor of a long list is not what is measured here.
  while (head) head = std::move(head->next);
}
BENCHMARK(BM_BoxListWalk);

void BM_BoxListWalkStdOptional(benchmark::State& state) {
  std::optional<memkit::Box<StdOptionalBoxNode>> head;
  for (long i = 0; i < kDerefCount; ++i) {
    head = memkit::Box<StdOptionalBoxNode>::make(i, std::move(head));
  }
  for (auto _ : state) {
    long sum = 0;
    for (const StdOptionalBoxNode* node = head ? head->get() : nullptr; node != nullptr;
         node = node->next ? node->next->get() : nullptr) {
      sum += node->value;
    }
    benchmark::DoNotOptimize(sum);
  }
  while (head) head = std::move((*head)->next);
}
BENCHMARK(BM_BoxListWalkStdOptional);

void BM_UniquePtrListWalk(benchmark::State& state) {
  std::unique_ptr<UniqueNode> head;
  for (long i = 0; i < kDerefCount; ++i) {
    head = std::make_unique<UniqueNode>(UniqueNode{i, std::move(head)});
  }
  for (auto _ : state) {
    long sum = 0;
    for (const UniqueNode* node = head.get(); node != nullptr; node = node->next.get()) {
      sum += node->value;
    }
    benchmark::DoNotOptimize(sum);
  }
  while (head) head = std::move(head->next);
}
BENCHMARK(BM_UniquePtrListWalk);

MEMKIT_BENCH_COMPARE("Box make+drop", "BM_BoxMakeDrop", "std::make_unique+destroy",
                     "BM_UniquePtrMakeDestroy", Target::no_slower(1.05));
MEMKIT_BENCH_COMPARE("Box deref, summing x256", "BM_BoxDeref", "unique_ptr deref x256",
                     "BM_UniquePtrDeref", Target::no_slower(1.05));
MEMKIT_BENCH_COMPARE("Box get_unchecked, summing x256", "BM_BoxDerefUnchecked",
                     "unique_ptr deref x256", "BM_UniquePtrDeref", Target::no_slower(1.05));
MEMKIT_BENCH_COMPARE("Box list walk x256 (OptionBox links)", "BM_BoxListWalk",
                     "unique_ptr list walk x256", "BM_UniquePtrListWalk", Target::no_slower(1.05));
MEMKIT_BENCH_COMPARE("Box list walk x256 (std::optional links)", "BM_BoxListWalkStdOptional",
                     "unique_ptr list walk x256", "BM_UniquePtrListWalk", Target::no_slower(1.05));

// ---- Rc creation --------------------------------------------------------------------------------

void BM_RcMakeDrop(benchmark::State& state) {
  for (auto _ : state) {
    auto rc = memkit::Rc<Payload>::make();
    escape(&rc);
  }
}
BENCHMARK(BM_RcMakeDrop);

void BM_MakeSharedDestroy(benchmark::State& state) {
  for (auto _ : state) {
    auto shared = std::make_shared<Payload>();
    escape(&shared);
  }
}
BENCHMARK(BM_MakeSharedDestroy);

MEMKIT_BENCH_COMPARE("Rc::make+drop", "BM_RcMakeDrop", "std::make_shared+destroy",
                     "BM_MakeSharedDestroy", Target::no_slower(1.05));

}  // namespace
