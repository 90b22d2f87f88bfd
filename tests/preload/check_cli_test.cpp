// `memkit check` as a user meets it: what passes through untouched, what the options change,
// what the exit status says, and what the report contains.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "inspect/subprocess.h"

namespace {

namespace fs = std::filesystem;
using memkit::testing::Finished;
using memkit::testing::run_and_capture;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::string corpus(const std::string& name) { return std::string(PRELOAD_CORPUS_DIR) + "/" + name; }
std::string program(const std::string& name) {
  return std::string(PRELOAD_PROGRAMS_DIR) + "/" + name;
}

Finished check(std::vector<std::string> options, const std::vector<std::string>& command) {
  std::vector<std::string> argv = {MEMKIT_CLI_PATH, "check"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return run_and_capture(argv);
}

Finished shell(const std::string& script) { return run_and_capture({"sh", "-c", script}); }

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class CheckCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("memkit-check-cli-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()) + "-" +
            std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(CheckCli, StdinStdoutAndExitStatusPassThrough) {
  const Finished piped = shell("printf 'hello\\nworld\\n' | '" MEMKIT_CLI_PATH "' check -- cat");
  EXPECT_EQ(piped.exit_code, 0);
  EXPECT_EQ(piped.out, "hello\nworld\n");
  EXPECT_THAT(piped.err, HasSubstr("HEAP SUMMARY:"));

  const Finished deep = check({}, {corpus("exit_deep")});
  EXPECT_EQ(deep.exit_code, 3) << deep.err;
}

TEST_F(CheckCli, ReportsLeaksWithSymbolizedStacksInValgrindsWords) {
  const Finished run = check({}, {corpus("deflost")});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("in use at exit: 100 bytes in 1 blocks"));
  EXPECT_THAT(run.err, HasSubstr("total heap usage: 1 allocs, 0 frees, 100 bytes allocated"));
  EXPECT_THAT(run.err,
              HasSubstr("100 bytes in 1 blocks are definitely lost in loss record 1 of 1"));
  EXPECT_THAT(run.err, testing::ContainsRegex(R"(at 0x[0-9A-F]+: malloc )"));
  EXPECT_THAT(run.err, testing::ContainsRegex(R"(by 0x[0-9A-F]+: leak \(deflost\.c:[0-9]+\))"));
  EXPECT_THAT(run.err, testing::ContainsRegex(R"(by 0x[0-9A-F]+: main \(deflost\.c:[0-9]+\))"));
  EXPECT_THAT(run.err, HasSubstr("ERROR SUMMARY: 1 errors from 1 contexts"));

  const Finished clean = check({}, {corpus("no_leaks")});
  EXPECT_THAT(clean.err, HasSubstr("All heap blocks were freed -- no leaks are possible"));
  EXPECT_EQ(clean.out, "no leaks\n");
}

TEST_F(CheckCli, ErrorExitcodeFollowsValgrindsRules) {
  EXPECT_EQ(check({"--error-exitcode=42"}, {corpus("deflost")}).exit_code, 42);
  EXPECT_EQ(check({"--error-exitcode=42"}, {corpus("reachable")}).exit_code, 0);
  EXPECT_EQ(check({"--error-exitcode=42", "--errors-for-leak-kinds=all"}, {corpus("reachable")})
                .exit_code,
            42);
  // In summary mode leaks are never errors.
  EXPECT_EQ(check({"--error-exitcode=42", "--leak-check=summary"}, {corpus("deflost")}).exit_code,
            0);
}

TEST_F(CheckCli, SummaryModeAndTheEnvironmentTwin) {
  const Finished summary = check({"--leak-check=summary"}, {corpus("deflost")});
  EXPECT_THAT(summary.err, HasSubstr("definitely lost: 100 bytes in 1 blocks"));
  EXPECT_THAT(summary.err,
              HasSubstr("Rerun with --leak-check=full to see details of leaked memory"));
  EXPECT_THAT(summary.err, Not(HasSubstr("loss record")));

  const Finished twin =
      shell("MEMKIT_LEAK_CHECK=summary '" MEMKIT_CLI_PATH "' check -- '" + corpus("deflost") + "'");
  EXPECT_THAT(twin.err, HasSubstr("Rerun with --leak-check=full to see details of leaked memory"));
}

TEST_F(CheckCli, ABadOptionValueIsAClearErrorAndTheProgramDoesNotRun) {
  const Finished bad = check({"--leak-check=sometimes"}, {corpus("no_leaks")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--leak-check"));
  EXPECT_EQ(bad.out, "");
}

TEST_F(CheckCli, ADeathBySignalIsPassedOnAndSaid) {
  const Finished run = check({}, {program("signal_death")});
  EXPECT_EQ(run.exit_code, 128 + 11) << run.err;
  EXPECT_THAT(run.err, HasSubstr("signal 11"));
}

TEST_F(CheckCli, SuppressionsGeneratedByOneRunSilenceTheNext) {
  const Finished generated = check({"--gen-suppressions=all"}, {corpus("deflost")});
  EXPECT_THAT(generated.err,
              AllOf(HasSubstr("Memcheck:Leak"), HasSubstr("match-leak-kinds: definite"),
                    HasSubstr("fun:malloc"), HasSubstr("fun:leak"), HasSubstr("fun:main")));
  // Cut the {...} block out of the report and use it as a suppression file.
  const std::string& text = generated.err;
  const std::size_t open = text.find("\n{");
  const std::size_t close = text.find("\n}", open);
  ASSERT_NE(open, std::string::npos) << text;
  ASSERT_NE(close, std::string::npos) << text;
  const fs::path file = dir_ / "generated.supp";
  std::ofstream(file) << text.substr(open + 1, close + 2 - (open + 1)) << "\n";

  const Finished suppressed =
      check({"--suppressions=" + file.string(), "--error-exitcode=9"}, {corpus("deflost")});
  EXPECT_EQ(suppressed.exit_code, 0) << suppressed.err;
  EXPECT_THAT(suppressed.err, HasSubstr("definitely lost: 0 bytes in 0 blocks"));
  EXPECT_THAT(suppressed.err, HasSubstr("suppressed: 100 bytes in 1 blocks"));
}

TEST_F(CheckCli, AHandWrittenSuppressionWithWildcards) {
  const fs::path file = dir_ / "wild.supp";
  std::ofstream(file) << "# the multi.c allocations made through a2()\n"
                         "{\n"
                         "   calloc-through-a2\n"
                         "   Memcheck:Leak\n"
                         "   match-leak-kinds: definite,indirect\n"
                         "   fun:ca?loc\n"
                         "   fun:a*2\n"
                         "   ...\n"
                         "   fun:main\n"
                         "}\n";
  const Finished run = check({"--suppressions=" + file.string()}, {corpus("multi")});
  // multi.c: 200 bytes (a2(200), definite) and 3 x 16 bytes (a2(16), indirect) are suppressed.
  EXPECT_THAT(run.err, HasSubstr("suppressed: 248 bytes in 4 blocks")) << run.err;
  EXPECT_THAT(run.err, HasSubstr("definitely lost: 374 bytes in 7 blocks"));
}

TEST_F(CheckCli, AMalformedSuppressionFileIsAClearError) {
  const fs::path file = dir_ / "bad.supp";
  std::ofstream(file) << "{\n   name\n   Memcheck:Leak\n   fun:malloc\n";  // never closed
  const Finished run = check({"--suppressions=" + file.string()}, {corpus("no_leaks")});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_THAT(run.err, HasSubstr(file.string()));
}

TEST_F(CheckCli, JsonCarriesTheSameNumbersAndEveryStack) {
  const fs::path json_file = dir_ / "report.json";
  const Finished run = check({"--json=" + json_file.string()}, {corpus("indirect")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json report = nlohmann::json::parse(read_file(json_file));
  const std::string text = report.dump();
  EXPECT_THAT(text, HasSubstr("\"mk\""));  // symbolized function name from indirect.c
  EXPECT_THAT(text, HasSubstr("indirect.c"));
  EXPECT_THAT(text, HasSubstr("96"));  // the 3 blocks' bytes
}

TEST_F(CheckCli, LogFileGetsTheReportAndPercentPIsThePid) {
  const Finished run = check({"--log-file=" + (dir_ / "log.%p").string()}, {corpus("forkp")});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, Not(HasSubstr("HEAP SUMMARY")));
  int logs = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().filename().string().rfind("log.", 0) != 0) continue;
    ++logs;
    EXPECT_THAT(read_file(entry.path()), HasSubstr("HEAP SUMMARY:"));
  }
  EXPECT_EQ(logs, 3);  // the parent and its two forked children
}

TEST_F(CheckCli, MismatchedAndInvalidFreesAreReportedWithBothStacks) {
  const Finished run = check({}, {corpus("mismatch")});
  EXPECT_THAT(run.err, HasSubstr("Mismatched free() / delete / delete []"));
  EXPECT_THAT(run.err, HasSubstr("Invalid free() / delete / delete[] / realloc()"));
  EXPECT_THAT(run.err, HasSubstr("is 0 bytes inside a block of size 10 free'd"));
  EXPECT_THAT(run.err, HasSubstr("Block was alloc'd at"));
  EXPECT_THAT(run.err, testing::ContainsRegex(R"(main \(mismatch\.cpp:[0-9]+\))"));
}

TEST_F(CheckCli, FreeStacksAreKeptOnlyWhenAskedFor) {
  // By default a double free shows where the block was allocated and where the second free
  // happened, and says how to see the first free too.
  const Finished lean = check({}, {corpus("mismatch")});
  EXPECT_THAT(lean.err, HasSubstr("is 0 bytes inside a block of size 10 free'd\n"));
  EXPECT_THAT(lean.err, HasSubstr("(where it was freed is not recorded: rerun with "
                                  "--keep-stacktraces=alloc-and-free)"));
  const Finished full = check({"--keep-stacktraces=alloc-and-free"}, {corpus("mismatch")});
  EXPECT_THAT(full.err, Not(HasSubstr("where it was freed is not recorded")));
  // The line after "free'd" is the first free's stack: "at 0x...: free (in ...)".
  const std::size_t freed = full.err.find("size 10 free'd\n");
  ASSERT_NE(freed, std::string::npos) << full.err;
  const std::size_t next_line = full.err.find('\n', freed) + 1;
  EXPECT_THAT(full.err.substr(next_line, full.err.find('\n', next_line) - next_line),
              testing::ContainsRegex(R"(    at 0x[0-9A-F]+: free )"));

  const Finished bad = check({"--keep-stacktraces=free"}, {corpus("mismatch")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("alloc or alloc-and-free"));
  // Preloaded by hand, a bad value is one line on stderr and the default.
  const Finished by_hand =
      shell("MEMKIT_KEEP_STACKTRACES=free LD_PRELOAD='" MEMKIT_CHECK_RUNTIME_PATH "' '" +
            corpus("no_leaks") + "'");
  EXPECT_THAT(by_hand.err, HasSubstr("memkit check: MEMKIT_KEEP_STACKTRACES=free is not alloc or "
                                     "alloc-and-free; using alloc"));
}

TEST_F(CheckCli, ExecOfAnotherProgramIsFollowedOnlyWithTraceChildren) {
  const Finished untraced = check({}, {program("exec_leaky"), corpus("deflost")});
  EXPECT_EQ(untraced.exit_code, 0) << untraced.err;
  EXPECT_THAT(untraced.err, Not(HasSubstr("100 bytes in 1 blocks are definitely lost")));
  const Finished traced =
      check({"--trace-children=yes"}, {program("exec_leaky"), corpus("deflost")});
  EXPECT_THAT(traced.err, HasSubstr("100 bytes in 1 blocks are definitely lost")) << traced.err;
}

TEST_F(CheckCli, TheInProcessApiSeesTheSameHeap) {
  const Finished run = check({}, {program("api_user")});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("definitely lost: 123 bytes in 1 blocks"));
  EXPECT_THAT(run.out, HasSubstr("record with a stack: yes"));
  EXPECT_THAT(run.out, HasSubstr("after free, definitely lost: 0 bytes"));

  const Finished plain = run_and_capture({program("api_user")});
  EXPECT_THAT(plain.out, HasSubstr("not loaded: memkit::leakcheck::check(): memkit's leak-check "
                                   "runtime is not loaded in this process"));
}

TEST_F(CheckCli, PreloadedByHandTheRuntimeStillReports) {
  const Finished run =
      shell("LD_PRELOAD='" MEMKIT_CHECK_RUNTIME_PATH "' '" + corpus("deflost") + "'");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("100 bytes in 1 blocks are definitely lost")) << run.err;
}

}  // namespace
