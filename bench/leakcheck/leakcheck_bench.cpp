// bench/leakcheck/leakcheck_bench.cpp — memkit check against its peers, in the same run.
//
// alloc_loop (10 million malloc/free pairs of mixed sizes through a 6-deep call chain, a few
// thousand blocks kept) runs:
//
//   BM_Native           as is: the floor
//   BM_MemkitCheck      under `memkit check` (full leak check, full stacks, report to a file)
//   BM_Valgrind         under `valgrind --leak-check=full` (the tool people trust)
//   BM_Heaptrack        under `heaptrack` (records every allocation with its stack)
//   BM_LeakSanitizer    built with clang -fsanitize=leak (needs a rebuild; LSan's default)
//
// and bigheap (1.1 million live blocks at exit, 100,000 of them lost with a child each) measures
// the exit scan: BM_BigheapNative, BM_BigheapMemkitCheck, BM_BigheapMemkitNoSearch (the same with
// --leak-check=no: the difference is the search and its report), BM_BigheapValgrind.
//
// Targets (issue 5): memkit check at most 2x native, at least 20x faster than valgrind.
// MEMKIT_BENCH_SMOKE (ctest) shrinks the loop to 20,000 pairs and skips nothing, so every peer
// that is installed is at least started.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "ratio.h"

extern char** environ;

namespace {

using memkit::bench::Target;

std::string pairs() { return memkit::bench::smoke_run() ? "20000" : "10000000"; }
std::string kept() { return "5000"; }
std::string bigheap_blocks() { return memkit::bench::smoke_run() ? "10000" : "1000000"; }

std::string scratch_file(const char* name) {
  const char* dir = std::getenv("TMPDIR");
  return std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/memkit-leakcheck-bench-" +
         std::to_string(::getpid()) + "-" + name;
}

// Runs argv with stdout and stderr sent to /dev/null; true when it exited with status 0.
bool run_quietly(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_storage(extra_env);
  std::vector<char*> env;
  for (std::string& var : env_storage) env.push_back(var.data());
  for (char** var = environ; *var != nullptr; ++var) env.push_back(*var);
  env.push_back(nullptr);
  pid_t pid = 0;
  const int error = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) return false;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void run_benchmark(benchmark::State& state, const std::vector<std::string>& argv,
                   const std::vector<std::string>& extra_env = {}) {
  if (argv.front().empty()) {
    state.SkipWithError("peer not installed");
    return;
  }
  for (auto _ : state) {
    if (!run_quietly(argv, extra_env)) {
      state.SkipWithError(("command failed: " + argv.front()).c_str());
      return;
    }
  }
}

std::vector<std::string> memkit_check(const std::string& program, const std::string& arg1,
                                      const std::string& arg2) {
  return {MEMKIT_CLI_PATH,
          "check",
          "--log-file=" + scratch_file("memkit.log"),
          "--",
          program,
          arg1,
          arg2};
}

void BM_Native(benchmark::State& state) {
  run_benchmark(state, {ALLOC_LOOP_PATH, pairs(), kept()});
}
void BM_MemkitCheck(benchmark::State& state) {
  run_benchmark(state, memkit_check(ALLOC_LOOP_PATH, pairs(), kept()));
}
void BM_Valgrind(benchmark::State& state) {
  run_benchmark(state, {VALGRIND_PATH, "--leak-check=full", "--log-file=/dev/null", ALLOC_LOOP_PATH,
                        pairs(), kept()});
}
void BM_Heaptrack(benchmark::State& state) {
  const std::string output = scratch_file("heaptrack");
  run_benchmark(state, {HEAPTRACK_PATH, "-o", output, ALLOC_LOOP_PATH, pairs(), kept()});
  std::remove((output + ".zst").c_str());
  std::remove((output + ".gz").c_str());
}
void BM_LeakSanitizer(benchmark::State& state) {
  // LSan's exit code for found leaks is 23; the kept blocks are reachable, so 0 is expected.
  run_benchmark(state, {ALLOC_LOOP_LSAN_PATH, pairs(), kept()});
}

void BM_BigheapNative(benchmark::State& state) {
  run_benchmark(state, {BIGHEAP_PATH, bigheap_blocks()});
}
void BM_BigheapMemkitCheck(benchmark::State& state) {
  run_benchmark(state, {MEMKIT_CLI_PATH, "check", "--log-file=" + scratch_file("bigheap.log"), "--",
                        BIGHEAP_PATH, bigheap_blocks()});
}
void BM_BigheapMemkitNoSearch(benchmark::State& state) {
  run_benchmark(state, {MEMKIT_CLI_PATH, "check", "--leak-check=no",
                        "--log-file=" + scratch_file("bigheap-nosearch.log"), "--", BIGHEAP_PATH,
                        bigheap_blocks()});
}
void BM_BigheapValgrind(benchmark::State& state) {
  run_benchmark(state, {VALGRIND_PATH, "--leak-check=full", "--log-file=/dev/null", BIGHEAP_PATH,
                        bigheap_blocks()});
}

BENCHMARK(BM_Native)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_MemkitCheck)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_Valgrind)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_Heaptrack)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_LeakSanitizer)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_BigheapNative)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_BigheapMemkitCheck)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_BigheapMemkitNoSearch)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
BENCHMARK(BM_BigheapValgrind)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

MEMKIT_BENCH_COMPARE("memkit check, 10M malloc/free", "BM_MemkitCheck", "native run", "BM_Native",
                     Target::no_slower(2.0));
MEMKIT_BENCH_COMPARE("memkit check, 10M malloc/free", "BM_MemkitCheck", "valgrind memcheck",
                     "BM_Valgrind", Target::at_least_times_faster(20.0));
MEMKIT_BENCH_COMPARE("memkit check, 10M malloc/free", "BM_MemkitCheck", "heaptrack", "BM_Heaptrack",
                     Target::at_least_times_faster(1.0));
MEMKIT_BENCH_COMPARE("memkit check, 10M malloc/free", "BM_MemkitCheck", "clang -fsanitize=leak",
                     "BM_LeakSanitizer", Target::no_slower(1.0));
// The exit search itself: the same run with and without it. Research target: at most 150 ms per
// million live blocks (LeakSanitizer measured 115 ms, valgrind about 1 s).
MEMKIT_BENCH_COMPARE("memkit check, 1.1M live blocks", "BM_BigheapMemkitCheck",
                     "the same without the leak search", "BM_BigheapMemkitNoSearch",
                     Target::within_ns(165e6));
MEMKIT_BENCH_COMPARE("memkit check, 1.1M live blocks", "BM_BigheapMemkitCheck", "valgrind memcheck",
                     "BM_BigheapValgrind", Target::at_least_times_faster(1.0));

}  // namespace
