// bench/inspect/maps_bench.cpp — reading the memory map of a process with 10,000 mappings.
//
// A child process (forked here) makes 10,000 anonymous 8 KiB mappings with alternating
// protections, so the kernel cannot merge them, touches one page of each and waits. Then:
//
//   BM_MemkitReadProcessMap   ProcessMap::read(pid): one pass over smaps, classified, threads
//   BM_MemkitMapsCommand      `memkit maps --json PID` spawned, output to /dev/null
//   BM_PmapX                  `pmap -X PID` spawned, output to /dev/null (the peer)
//   BM_ReadSmaps              read(2) of smaps alone: what the kernel costs, the floor
//   BM_ReadSmapsRollup        read(2) of smaps_rollup: totals only, no per-region counters
//
// The table after the runs compares memkit with pmap -X (target: at least 5x faster) in real
// time; child_cpu_ms is the spawned command's own CPU time, steadier on a busy machine.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "memkit/inspect/process_map.h"
#include "ratio.h"

extern char** environ;

namespace {

using memkit::bench::Target;

constexpr int kMappings = 10000;

// The process with 10,000 mappings, started on first use and killed at exit.
class Holder {
 public:
  Holder() {
    int ready[2];
    if (::pipe(ready) != 0) std::abort();
    pid_ = ::fork();
    if (pid_ == 0) {
      for (int i = 0; i < kMappings; ++i) {
        auto* p = static_cast<char*>(
            ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (p == MAP_FAILED) ::_exit(1);
        p[0] = 1;
        ::mprotect(p, 8192, (i & 1) ? PROT_READ : (PROT_READ | PROT_WRITE));
      }
      (void)!::write(ready[1], "r", 1);
      for (;;) ::pause();
    }
    char byte = 0;
    if (::read(ready[0], &byte, 1) != 1) std::abort();
    ::close(ready[0]);
    ::close(ready[1]);
  }
  Holder(const Holder&) = delete;
  Holder& operator=(const Holder&) = delete;
  ~Holder() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = 0;
};

pid_t holder_pid() {
  static Holder holder;
  return holder.pid();
}

// Runs argv with stdout and stderr to /dev/null and waits; returns the child's CPU time (user +
// system) in seconds, which a loaded machine does not inflate the way it does wall time.
double run_quietly(const std::vector<std::string>& argv, benchmark::State& state) {
  double cpu_seconds = 0;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t child = 0;
  if (posix_spawnp(&child, args[0], &actions, nullptr, args.data(), environ) != 0) {
    state.SkipWithError(("cannot run " + argv[0]).c_str());
  } else {
    int status = 0;
    rusage usage{};
    ::wait4(child, &status, 0, &usage);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError((argv[0] + " failed").c_str());
    }
    cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                  static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }
  posix_spawn_file_actions_destroy(&actions);
  return cpu_seconds;
}

void report_child_cpu(benchmark::State& state, double cpu_seconds) {
  state.counters["child_cpu_ms"] =
      benchmark::Counter(cpu_seconds * 1e3 / static_cast<double>(state.iterations()));
}

void BM_MemkitReadProcessMap(benchmark::State& state) {
  const pid_t pid = holder_pid();
  std::size_t regions = 0;
  for (auto _ : state) {
    const auto map = memkit::inspect::ProcessMap::read(pid);
    regions = map.regions().size();
    benchmark::DoNotOptimize(regions);
  }
  state.counters["regions"] = static_cast<double>(regions);
}
BENCHMARK(BM_MemkitReadProcessMap)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_MemkitMapsCommand(benchmark::State& state) {
  const std::string pid = std::to_string(holder_pid());
  double cpu = 0;
  for (auto _ : state) cpu += run_quietly({MEMKIT_CLI_PATH, "maps", "--json", pid}, state);
  report_child_cpu(state, cpu);
}
BENCHMARK(BM_MemkitMapsCommand)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PmapX(benchmark::State& state) {
  const std::string pid = std::to_string(holder_pid());
  double cpu = 0;
  for (auto _ : state) cpu += run_quietly({"pmap", "-X", pid}, state);
  report_child_cpu(state, cpu);
}
BENCHMARK(BM_PmapX)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ReadSmaps(benchmark::State& state) {
  const std::string path = "/proc/" + std::to_string(holder_pid()) + "/smaps";
  for (auto _ : state) benchmark::DoNotOptimize(memkit::inspect::read_proc_file(path).size());
}
BENCHMARK(BM_ReadSmaps)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ReadSmapsRollup(benchmark::State& state) {
  const std::string path = "/proc/" + std::to_string(holder_pid()) + "/smaps_rollup";
  for (auto _ : state) benchmark::DoNotOptimize(memkit::inspect::read_proc_file(path).size());
}
BENCHMARK(BM_ReadSmapsRollup)->Unit(benchmark::kMillisecond)->UseRealTime();

MEMKIT_BENCH_COMPARE("memkit ProcessMap::read, 10k mappings", "BM_MemkitReadProcessMap",
                     "pmap -X (spawned)", "BM_PmapX", Target::at_least_times_faster(5.0));
MEMKIT_BENCH_COMPARE("memkit maps --json (spawned)", "BM_MemkitMapsCommand", "pmap -X (spawned)",
                     "BM_PmapX", Target::at_least_times_faster(5.0));

}  // namespace
