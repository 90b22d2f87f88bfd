// check_options: valgrind's option values, their MEMKIT_* twins, and the exact errors.
#include <gtest/gtest.h>

#include <map>

#include "check_error.h"
#include "check_options.h"

namespace memkit::check {
namespace {

void apply(CheckOptions& options, std::string_view flag, std::string_view value) {
  const CheckOptionSpec* spec = find_check_option(flag);
  ASSERT_NE(spec, nullptr) << flag;
  spec->apply(options, value, flag);
}

std::string error_of(std::string_view flag, std::string_view value) {
  CheckOptions options;
  try {
    find_check_option(flag)->apply(options, value, flag);
  } catch (const CheckOptionError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(ReportOptions, DefaultsAreValgrinds) {
  const CheckOptions options;
  EXPECT_EQ(options.leak_check, LeakCheckMode::full);
  EXPECT_EQ(options.show_leak_kinds.to_string(), "definite,possible");
  EXPECT_EQ(options.errors_for_leak_kinds.to_string(), "definite,possible");
  EXPECT_EQ(options.num_callers, 12u);
  EXPECT_EQ(options.leak_check_heuristics, "all");
}

TEST(ReportOptions, BadValuesNameTheOptionAndTheAcceptedValues) {
  EXPECT_EQ(error_of("--leak-check", "maybe"),
            "memkit check: --leak-check=maybe: expected no, summary or full");
  EXPECT_EQ(error_of("--show-leak-kinds", "definite,lost"),
            "memkit check: --show-leak-kinds=definite,lost: expected all, none or a "
            "comma-separated list of definite, indirect, possible, reachable");
  EXPECT_EQ(error_of("--num-callers", "0"),
            "memkit check: --num-callers=0: expected a number from 1 to 64");
  EXPECT_EQ(error_of("--num-callers", "65"),
            "memkit check: --num-callers=65: expected a number from 1 to 64");
  EXPECT_EQ(error_of("--num-callers", "12x"),
            "memkit check: --num-callers=12x: expected a number from 1 to 64");
  EXPECT_EQ(error_of("--error-exitcode", "300"),
            "memkit check: --error-exitcode=300: expected an exit status from 0 to 255 (0: off)");
  EXPECT_EQ(error_of("--leak-resolution", "max"),
            "memkit check: --leak-resolution=max: expected low, med or high");
  EXPECT_EQ(error_of("--leak-check-heuristics", "stdstring,bogus"),
            "memkit check: --leak-check-heuristics=stdstring,bogus: expected all, none or a "
            "comma-separated list of stdstring, length64, newarray, multipleinheritance");
  EXPECT_EQ(error_of("--gen-suppressions", "some"),
            "memkit check: --gen-suppressions=some: expected no, yes or all");
  EXPECT_EQ(error_of("--trace-children", "true"),
            "memkit check: --trace-children=true: expected yes or no");
  EXPECT_EQ(error_of("--freelist-vol", "-1"),
            "memkit check: --freelist-vol=-1: expected a number of bytes");
  EXPECT_EQ(error_of("--json", ""),
            "memkit check: --json=: expected a file name (%p becomes the pid)");
}

TEST(ReportOptions, KindsParseAsValgrind) {
  CheckOptions options;
  apply(options, "--show-leak-kinds", "all");
  EXPECT_EQ(options.show_leak_kinds, LeakKindSet::all());
  apply(options, "--show-leak-kinds", "none");
  EXPECT_TRUE(options.show_leak_kinds.empty());
  apply(options, "--show-leak-kinds", "reachable,definite");
  EXPECT_EQ(options.show_leak_kinds.to_string(), "definite,reachable");
  apply(options, "--errors-for-leak-kinds", "indirect");
  EXPECT_EQ(options.errors_for_leak_kinds, LeakKindSet::of({LeakKind::indirect}));
}

TEST(ReportOptions, ShowReachableAndShowPossiblyLostEditTheKinds) {
  CheckOptions options;
  apply(options, "--show-reachable", "yes");
  EXPECT_EQ(options.show_leak_kinds, LeakKindSet::all());
  apply(options, "--show-possibly-lost", "no");
  EXPECT_EQ(options.show_leak_kinds.to_string(), "definite,indirect,reachable");
  apply(options, "--show-reachable", "no");
  EXPECT_EQ(options.show_leak_kinds.to_string(), "definite,indirect");
}

TEST(ReportOptions, HeuristicsAreNormalised) {
  CheckOptions options;
  apply(options, "--leak-check-heuristics", "newarray,stdstring");
  EXPECT_EQ(options.leak_check_heuristics, "stdstring,newarray");
  apply(options, "--leak-check-heuristics", "none");
  EXPECT_EQ(options.leak_check_heuristics, "none");
}

TEST(ReportOptions, EnvironmentTwinsApplyWhenTheFlagIsAbsent) {
  const std::map<std::string, std::string> environment = {{"MEMKIT_LEAK_CHECK", "summary"},
                                                          {"MEMKIT_SHOW_LEAK_KINDS", "all"},
                                                          {"MEMKIT_SUPPRESSIONS", "a.supp:b.supp"},
                                                          {"MEMKIT_ERROR_EXITCODE", "42"},
                                                          {"MEMKIT_QUIET", "yes"},
                                                          {"MEMKIT_NUM_CALLERS", "20"}};
  const auto lookup = [&](const char* name) -> const char* {
    const auto it = environment.find(name);
    return it == environment.end() ? nullptr : it->second.c_str();
  };
  CheckOptions options;
  apply_environment(options, lookup, [](const CheckOptionSpec& spec) {
    return spec.flag == "--num-callers";  // given on the command line: the variable is ignored
  });
  EXPECT_EQ(options.leak_check, LeakCheckMode::summary);
  EXPECT_EQ(options.show_leak_kinds, LeakKindSet::all());
  EXPECT_EQ(options.suppressions, (std::vector<std::string>{"a.supp", "b.supp"}));
  EXPECT_EQ(options.error_exitcode, 42);
  EXPECT_TRUE(options.quiet);
  EXPECT_EQ(options.num_callers, 12u);
}

TEST(ReportOptions, BadEnvironmentValuesNameTheVariable) {
  CheckOptions options;
  try {
    apply_environment(options, [](const char* name) -> const char* {
      return std::string_view(name) == "MEMKIT_LEAK_CHECK" ? "maybe" : nullptr;
    });
    FAIL() << "no error";
  } catch (const CheckOptionError& error) {
    EXPECT_STREQ(error.what(),
                 "memkit check: MEMKIT_LEAK_CHECK=maybe: expected no, summary or full");
    EXPECT_EQ(error.option(), "MEMKIT_LEAK_CHECK");
  }
}

TEST(ReportOptions, EveryOptionHasAVariable) {
  for (const CheckOptionSpec& spec : check_option_table()) {
    EXPECT_TRUE(spec.variable.starts_with("MEMKIT_")) << spec.flag;
    EXPECT_NE(spec.apply, nullptr) << spec.flag;
    EXPECT_EQ(find_check_option(spec.flag), &spec);
  }
}

TEST(ReportOptions, RuntimeEnvironmentCarriesWhatTheRuntimeReads) {
  CheckOptions options;
  options.leak_check = LeakCheckMode::summary;
  options.num_callers = 30;
  options.trace_children = true;
  options.run_libc_freeres = false;
  const auto variables = runtime_environment(options);
  const std::map<std::string, std::string> map(variables.begin(), variables.end());
  EXPECT_EQ(map.at("MEMKIT_LEAK_CHECK"), "summary");
  EXPECT_EQ(map.at("MEMKIT_NUM_CALLERS"), "30");
  EXPECT_EQ(map.at("MEMKIT_TRACE_CHILDREN"), "yes");
  EXPECT_EQ(map.at("MEMKIT_RUN_FREERES"), "no");
  EXPECT_EQ(map.at("MEMKIT_LEAK_RESOLUTION"), "high");
  EXPECT_EQ(map.at("MEMKIT_LEAK_CHECK_HEURISTICS"), "all");
  EXPECT_EQ(map.at("MEMKIT_FREELIST_VOL"), "0");
}

TEST(ReportOptions, PidPatterns) {
  EXPECT_EQ(expand_pid_pattern("log.%p.txt", 4242), "log.4242.txt");
  EXPECT_EQ(expand_pid_pattern("100%%-%p", 7), "100%-7");
  EXPECT_EQ(expand_pid_pattern("plain", 7), "plain");
}

}  // namespace
}  // namespace memkit::check
