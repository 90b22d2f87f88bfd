// bench/gc/gc_bench.cpp — GCBench (Ellis, Kovac, Boehm) for memkit's GC, Boehm GC, new/delete and
// std::shared_ptr, written from scratch with the classic parameters:
//
//   stretch tree of depth 18 (built and dropped first: ~2^19 nodes, 16 MiB of 32-byte nodes),
//   a long-lived tree of depth 16 and a long-lived array of 500,000 doubles (kept throughout),
//   short-lived trees of depth 4, 6, ..., 16, each depth allocating the same volume
//   (2 × TreeSize(18) nodes), half built top-down (Populate), half bottom-up (MakeTree).
//
// A node is {left, right, int i, int j}: 24 bytes plus each scheme's header — memkit's vtable
// pointer (a 32-byte slot), Boehm's 32-byte granule, glibc's 32-byte chunk, and shared_ptr's
// control blocks (make_shared: one 48-byte block per node).
//
// Two kinds of benchmarks:
// memkit runs twice: with the default pacing (growth factor 4/3, retain factor 3) and with growth
// factor 2.0 ("memkit_growth2"), which trades heap room for fewer collections.
//
//   BM_GCBench_<variant>          the whole workload in this process, timed by Google Benchmark
//                                 (process CPU time, so Boehm's parallel marker threads count);
//   BM_GCBenchProcess/<variant>   the workload in a fresh child process (fork + exec of this
//                                 binary), three times; counters report the medians of the
//                                 child's CPU time (getrusage) and peak RSS (VmHWM, which exec
//                                 starts afresh), and the longest collection pause seen.
//   BM_FullCollection1M           heap.collect() of a heap with 1,048,575 live objects (a
//                                 complete binary tree of depth 19).
//
// Targets (issue 4, on the project's 2-core VM): memkit's CPU time <= 0.8 × Boehm's, memkit's
// peak RSS <= 0.8 × Boehm's; max pause reported. The ratio table after the run compares the
// in-process times.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "memkit/base/sanitizers.h"
#include "memkit/gc/gc.h"
#include "ratio.h"

#if MEMKIT_HAVE_BOEHM
#include <gc/gc.h>
#endif

namespace {

namespace gc = memkit::gc;
using memkit::bench::Target;

// Only an optimized build without sanitizers measures anything; the others (ctest's smoke runs
// in the dev, asan and tsan presets) run smaller trees, just to prove the benchmark works.
#ifdef NDEBUG
constexpr bool kSmallRun = MEMKIT_ASAN != 0;
#else
constexpr bool kSmallRun = true;
#endif
constexpr int kStretchTreeDepth = kSmallRun ? 12 : 18;
constexpr int kLongLivedTreeDepth = kSmallRun ? 10 : 16;
constexpr int kArraySize = kSmallRun ? 5000 : 500000;
constexpr int kMinTreeDepth = 4;
constexpr int kMaxTreeDepth = kSmallRun ? 10 : 16;

constexpr int tree_size(int depth) { return (1 << (depth + 1)) - 1; }
constexpr int iterations_for(int depth) {
  return 2 * tree_size(kStretchTreeDepth) / tree_size(depth);
}

struct RunResult {
  std::uint64_t max_pause_ns = 0;
  std::uint64_t collections = 0;
  bool ok = false;
};

// ---- memkit --------------------------------------------------------------------------------

struct GcNode : gc::GarbageCollected<GcNode> {
  GcNode() = default;
  GcNode(GcNode* l, GcNode* r) : left(l), right(r) {}
  void trace(gc::Visitor& visitor) const {
    visitor.trace(left);
    visitor.trace(right);
  }
  gc::Member<GcNode> left;
  gc::Member<GcNode> right;
  int i = 0;
  int j = 0;
};
static_assert(sizeof(gc::detail::Allocated<GcNode>) == 32);

// The array's doubles live in native memory, reported to the heap (GC_MALLOC_ATOMIC's role).
struct GcDoubles : gc::GarbageCollected<GcDoubles> {
  explicit GcDoubles(std::size_t n) : values(n) {}
  std::size_t external_size() const { return values.size() * sizeof(double); }
  std::vector<double> values;
};

void populate(gc::Heap& heap, int depth, GcNode* node) {
  if (depth <= 0) return;
  --depth;
  node->left = gc::make<GcNode>(heap);
  node->right = gc::make<GcNode>(heap);
  populate(heap, depth, node->left);
  populate(heap, depth, node->right);
}

gc::Local<GcNode> make_tree(gc::Heap& heap, int depth) {
  if (depth <= 0) return gc::make<GcNode>(heap);
  gc::Local<GcNode> left = make_tree(heap, depth - 1);
  gc::Local<GcNode> right = make_tree(heap, depth - 1);
  return gc::make<GcNode>(heap, left.get(), right.get());
}

RunResult run_memkit_with(double growth_factor) {
  gc::Heap heap;
  gc::GrowingPolicy policy;  // the default min_bytes (4 MiB)
  policy.growth_factor = growth_factor;
  heap.set_growing_policy(policy);
  { gc::Local<GcNode> stretch = make_tree(heap, kStretchTreeDepth); }
  gc::Local<GcNode> long_lived = gc::make<GcNode>(heap);
  populate(heap, kLongLivedTreeDepth, long_lived);
  gc::Local<GcDoubles> array = gc::make<GcDoubles>(heap, kArraySize);
  for (int i = 0; i < kArraySize / 2; ++i) array->values[i] = 1.0 / i;
  for (int depth = kMinTreeDepth; depth <= kMaxTreeDepth; depth += 2) {
    const int iterations = iterations_for(depth);
    for (int i = 0; i < iterations; ++i) {
      gc::Local<GcNode> tree = gc::make<GcNode>(heap);
      populate(heap, depth, tree);
    }
    for (int i = 0; i < iterations; ++i) gc::Local<GcNode> tree = make_tree(heap, depth);
  }
  RunResult result;
  result.ok = long_lived != nullptr && array->values[1000] == 1.0 / 1000;
  const gc::GcStats stats = heap.stats();
  result.max_pause_ns = stats.max_pause_ns;
  result.collections = stats.collections;
  return result;
}

// The default pacing (growth factor 4/3), and a roomier one that trades memory for fewer
// collections.
RunResult run_memkit() { return run_memkit_with(gc::GrowingPolicy().growth_factor); }
RunResult run_memkit_growth2() { return run_memkit_with(2.0); }

// ---- Boehm GC ------------------------------------------------------------------------------

#if MEMKIT_HAVE_BOEHM
struct BoehmNode {
  BoehmNode* left;
  BoehmNode* right;
  int i;
  int j;
};

BoehmNode* boehm_node(BoehmNode* left = nullptr, BoehmNode* right = nullptr) {
  auto* node = static_cast<BoehmNode*>(GC_MALLOC(sizeof(BoehmNode)));
  node->left = left;
  node->right = right;
  return node;
}

void populate(int depth, BoehmNode* node) {
  if (depth <= 0) return;
  --depth;
  node->left = boehm_node();
  node->right = boehm_node();
  populate(depth, node->left);
  populate(depth, node->right);
}

BoehmNode* make_boehm_tree(int depth) {
  if (depth <= 0) return boehm_node();
  BoehmNode* left = make_boehm_tree(depth - 1);
  BoehmNode* right = make_boehm_tree(depth - 1);
  return boehm_node(left, right);
}

std::chrono::steady_clock::time_point boehm_pause_start;
std::uint64_t boehm_max_pause_ns = 0;

void on_boehm_event(GC_EventType event) {
  if (event == GC_EVENT_START) {
    boehm_pause_start = std::chrono::steady_clock::now();
  } else if (event == GC_EVENT_END) {
    const auto pause = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now() - boehm_pause_start)
                           .count();
    boehm_max_pause_ns = std::max<std::uint64_t>(boehm_max_pause_ns, pause);
  }
}

void init_boehm() {
  static const bool initialized = [] {
    GC_INIT();
    GC_set_on_collection_event(on_boehm_event);
    return true;
  }();
  (void)initialized;
}

RunResult run_boehm() {
  init_boehm();
  const GC_word collections_before = GC_get_gc_no();
  boehm_max_pause_ns = 0;
  benchmark::DoNotOptimize(make_boehm_tree(kStretchTreeDepth));
  BoehmNode* volatile long_lived = boehm_node();
  populate(kLongLivedTreeDepth, long_lived);
  auto* volatile array =
      static_cast<double*>(GC_MALLOC_ATOMIC(sizeof(double) * static_cast<std::size_t>(kArraySize)));
  for (int i = 0; i < kArraySize / 2; ++i) array[i] = 1.0 / i;
  for (int depth = kMinTreeDepth; depth <= kMaxTreeDepth; depth += 2) {
    const int iterations = iterations_for(depth);
    for (int i = 0; i < iterations; ++i) {
      BoehmNode* tree = boehm_node();
      populate(depth, tree);
      benchmark::DoNotOptimize(tree);
    }
    for (int i = 0; i < iterations; ++i) benchmark::DoNotOptimize(make_boehm_tree(depth));
  }
  RunResult result;
  result.ok = long_lived != nullptr && array[1000] == 1.0 / 1000;
  result.max_pause_ns = boehm_max_pause_ns;
  result.collections = GC_get_gc_no() - collections_before;
  return result;
}
#endif

// ---- new / delete --------------------------------------------------------------------------

struct PlainNode {
  PlainNode* left = nullptr;
  PlainNode* right = nullptr;
  int i = 0;
  int j = 0;
};

void destroy(PlainNode* node) {
  if (node == nullptr) return;
  destroy(node->left);
  destroy(node->right);
  delete node;
}

void populate(int depth, PlainNode* node) {
  if (depth <= 0) return;
  --depth;
  node->left = new PlainNode;
  node->right = new PlainNode;
  populate(depth, node->left);
  populate(depth, node->right);
}

PlainNode* make_plain_tree(int depth) {
  auto* node = new PlainNode;
  if (depth > 0) {
    node->left = make_plain_tree(depth - 1);
    node->right = make_plain_tree(depth - 1);
  }
  return node;
}

RunResult run_new_delete() {
  destroy(make_plain_tree(kStretchTreeDepth));
  PlainNode* long_lived = new PlainNode;
  populate(kLongLivedTreeDepth, long_lived);
  auto array = std::make_unique<double[]>(kArraySize);
  for (int i = 0; i < kArraySize / 2; ++i) array[i] = 1.0 / i;
  for (int depth = kMinTreeDepth; depth <= kMaxTreeDepth; depth += 2) {
    const int iterations = iterations_for(depth);
    for (int i = 0; i < iterations; ++i) {
      PlainNode* tree = new PlainNode;
      populate(depth, tree);
      destroy(tree);
    }
    for (int i = 0; i < iterations; ++i) destroy(make_plain_tree(depth));
  }
  RunResult result;
  result.ok = long_lived != nullptr && array[1000] == 1.0 / 1000;
  destroy(long_lived);
  return result;
}

// ---- std::shared_ptr -----------------------------------------------------------------------

struct SharedNode {
  std::shared_ptr<SharedNode> left;
  std::shared_ptr<SharedNode> right;
  int i = 0;
  int j = 0;
};

void populate(int depth, const std::shared_ptr<SharedNode>& node) {
  if (depth <= 0) return;
  --depth;
  node->left = std::make_shared<SharedNode>();
  node->right = std::make_shared<SharedNode>();
  populate(depth, node->left);
  populate(depth, node->right);
}

std::shared_ptr<SharedNode> make_shared_tree(int depth) {
  auto node = std::make_shared<SharedNode>();
  if (depth > 0) {
    node->left = make_shared_tree(depth - 1);
    node->right = make_shared_tree(depth - 1);
  }
  return node;
}

RunResult run_shared_ptr() {
  make_shared_tree(kStretchTreeDepth).reset();
  auto long_lived = std::make_shared<SharedNode>();
  populate(kLongLivedTreeDepth, long_lived);
  auto array = std::make_shared<std::vector<double>>(kArraySize);
  for (int i = 0; i < kArraySize / 2; ++i) (*array)[i] = 1.0 / i;
  for (int depth = kMinTreeDepth; depth <= kMaxTreeDepth; depth += 2) {
    const int iterations = iterations_for(depth);
    for (int i = 0; i < iterations; ++i) {
      auto tree = std::make_shared<SharedNode>();
      populate(depth, tree);
    }
    for (int i = 0; i < iterations; ++i) make_shared_tree(depth).reset();
  }
  RunResult result;
  result.ok = long_lived != nullptr && (*array)[1000] == 1.0 / 1000;
  return result;
}

// ---- the variants, by name -------------------------------------------------------------------

struct Variant {
  const char* name;
  RunResult (*run)();
};

RunResult run_nothing() { return RunResult{0, 0, true}; }

constexpr Variant kVariants[] = {
    {"memkit", run_memkit},         {"memkit_growth2", run_memkit_growth2},
#if MEMKIT_HAVE_BOEHM
    {"boehm", run_boehm},
#endif
    {"new_delete", run_new_delete}, {"shared_ptr", run_shared_ptr},
    {"baseline", run_nothing},  // the process without a workload: what every child starts with
};

std::uint64_t peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

std::uint64_t cpu_ns() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ns = [](const timeval& t) {
    return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000 +
           static_cast<std::uint64_t>(t.tv_usec) * 1000;
  };
  return ns(usage.ru_utime) + ns(usage.ru_stime);
}

// In a child started by BM_GCBenchProcess: run the variant once, print the figures, exit before
// main() (so Google Benchmark never starts there).
[[maybe_unused]] const bool child_done = [] {
  const char* variant = std::getenv("MEMKIT_GC_BENCH_CHILD");
  if (variant == nullptr) return false;
  for (const Variant& v : kVariants) {
    if (std::string_view(v.name) != variant) continue;
    const std::uint64_t cpu_before = cpu_ns();
    const RunResult result = v.run();
    const std::uint64_t cpu = cpu_ns() - cpu_before;
    std::printf("%d %llu %llu %llu %llu\n", result.ok ? 1 : 0, static_cast<unsigned long long>(cpu),
                static_cast<unsigned long long>(peak_rss_kib()),
                static_cast<unsigned long long>(result.max_pause_ns),
                static_cast<unsigned long long>(result.collections));
    std::fflush(stdout);
    std::_Exit(0);
  }
  std::fprintf(stderr, "gc_bench: unknown MEMKIT_GC_BENCH_CHILD=%s\n", variant);
  std::_Exit(2);
}();

struct ChildFigures {
  bool ok = false;
  double cpu_ms = 0;
  double peak_rss_mib = 0;
  double max_pause_ms = 0;
  double collections = 0;
};

ChildFigures run_child(const char* variant) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    setenv("MEMKIT_GC_BENCH_CHILD", variant, 1);
    unsetenv("MEMKIT_GC_STRESS");
    execl("/proc/self/exe", "gc_bench", static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  close(pipe_fds[1]);
  std::string output;
  char buffer[256];
  ssize_t n;
  while ((n = read(pipe_fds[0], buffer, sizeof(buffer))) > 0) {
    output.append(buffer, static_cast<std::size_t>(n));
  }
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ChildFigures figures;
  unsigned long long ok = 0, cpu = 0, rss = 0, pause = 0, collections = 0;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
      std::sscanf(output.c_str(), "%llu %llu %llu %llu %llu", &ok, &cpu, &rss, &pause,
                  &collections) == 5) {
    figures.ok = ok == 1;
    figures.cpu_ms = static_cast<double>(cpu) / 1e6;
    figures.peak_rss_mib = static_cast<double>(rss) / 1024.0;
    figures.max_pause_ms = static_cast<double>(pause) / 1e6;
    figures.collections = static_cast<double>(collections);
  }
  return figures;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void BM_GCBenchProcess(benchmark::State& state, const char* variant) {
  constexpr int kRuns = 3;
  std::vector<double> cpu, rss, pause, collections;
  for (auto _ : state) {
    for (int run = 0; run < kRuns; ++run) {
      const ChildFigures figures = run_child(variant);
      if (!figures.ok) {
        state.SkipWithError("the child process failed");
        return;
      }
      cpu.push_back(figures.cpu_ms);
      rss.push_back(figures.peak_rss_mib);
      pause.push_back(figures.max_pause_ms);
      collections.push_back(figures.collections);
    }
  }
  state.counters["cpu_ms"] = median(cpu);
  state.counters["peak_rss_MiB"] = median(rss);
  state.counters["max_pause_ms"] = *std::max_element(pause.begin(), pause.end());
  state.counters["collections"] = median(collections);
}

void register_process_benchmarks() {
  for (const Variant& variant : kVariants) {
    benchmark::RegisterBenchmark((std::string("BM_GCBenchProcess/") + variant.name).c_str(),
                                 BM_GCBenchProcess, variant.name)
        ->Iterations(1)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
}

[[maybe_unused]] const bool process_benchmarks_registered = [] {
  register_process_benchmarks();
  return true;
}();

template <RunResult (*kRun)()>
void BM_GCBench(benchmark::State& state) {
  RunResult result;
  for (auto _ : state) {
    result = kRun();
    if (!result.ok) state.SkipWithError("wrong result");
  }
  state.counters["max_pause_ms"] = static_cast<double>(result.max_pause_ns) / 1e6;
  state.counters["collections"] = static_cast<double>(result.collections);
}

void BM_GCBench_Memkit(benchmark::State& state) { BM_GCBench<run_memkit>(state); }
BENCHMARK(BM_GCBench_Memkit)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
void BM_GCBench_MemkitGrowth2(benchmark::State& state) { BM_GCBench<run_memkit_growth2>(state); }
BENCHMARK(BM_GCBench_MemkitGrowth2)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
#if MEMKIT_HAVE_BOEHM
void BM_GCBench_Boehm(benchmark::State& state) { BM_GCBench<run_boehm>(state); }
BENCHMARK(BM_GCBench_Boehm)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
#endif
void BM_GCBench_NewDelete(benchmark::State& state) { BM_GCBench<run_new_delete>(state); }
BENCHMARK(BM_GCBench_NewDelete)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
void BM_GCBench_SharedPtr(benchmark::State& state) { BM_GCBench<run_shared_ptr>(state); }
BENCHMARK(BM_GCBench_SharedPtr)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// A full collection of a heap holding a complete binary tree of 2^20 - 1 = 1,048,575 objects.
void BM_FullCollection1M(benchmark::State& state) {
  gc::Heap heap;
  heap.set_stress(gc::Stress::off());
  const int depth = kSmallRun ? 12 : 19;
  gc::Local<GcNode> tree = make_tree(heap, depth);
  for (auto _ : state) heap.collect();
  state.counters["live_objects"] = static_cast<double>(heap.stats().objects.counts.live_blocks);
  state.counters["max_pause_ms"] = static_cast<double>(heap.stats().max_pause_ns) / 1e6;
}
BENCHMARK(BM_FullCollection1M)->Unit(benchmark::kMillisecond);

#if MEMKIT_HAVE_BOEHM
MEMKIT_BENCH_COMPARE("GCBench (in process)", "BM_GCBench_Memkit", "Boehm GC", "BM_GCBench_Boehm",
                     Target::at_least_times_faster(1.25));
#endif
MEMKIT_BENCH_COMPARE("GCBench (in process)", "BM_GCBench_Memkit", "new/delete",
                     "BM_GCBench_NewDelete", Target::no_slower(1.0));
MEMKIT_BENCH_COMPARE("GCBench (in process)", "BM_GCBench_Memkit", "std::shared_ptr",
                     "BM_GCBench_SharedPtr", Target::no_slower(1.0));

}  // namespace
