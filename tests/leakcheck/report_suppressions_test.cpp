// suppressions: valgrind's syntax, its matching rules and order, LSan lines, and the errors for
// malformed files (with file:line).
#include <gtest/gtest.h>

#include "check_error.h"
#include "report_test_fixtures.h"
#include "suppressions.h"

namespace memkit::check {
namespace {

SourceFrame frame(std::string function, std::string file = "", unsigned line = 0,
                  std::string object = "/bin/prog", std::string mangled = "") {
  SourceFrame result;
  result.mangled = mangled.empty() ? function : mangled;
  result.function = std::move(function);
  result.file = std::move(file);
  result.line = line;
  result.object = std::move(object);
  return result;
}

const SymbolizedStack kStack = {
    frame("malloc", "", 0, "/lib/libmemkit_check.so"),
    frame("make(char const*)", "cpp.cpp", 5, "/bin/prog", "_ZL4makePKc"),
    frame("helper", "cpp.cpp", 9), frame("main", "cpp.cpp", 6)};

std::string error_of(std::string_view text) {
  try {
    SuppressionSet set;
    set.parse(text, "bad.supp");
  } catch (const SuppressionFileError& error) {
    return error.what();
  }
  return "(no error)";
}

std::vector<FramePattern> patterns(std::string_view body) {
  std::vector<FramePattern> result;
  std::size_t start = 0;
  while (start < body.size()) {
    const std::size_t end = body.find('\n', start);
    result.push_back(parse_frame_pattern(body.substr(start, end - start)));
    start = end + 1;
  }
  return result;
}

TEST(ReportSuppressions, Globs) {
  EXPECT_TRUE(glob_match("a*", "a1"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("m?lloc", "malloc"));
  EXPECT_TRUE(glob_match("*lib*.so*", "/usr/lib/libc.so.6"));
  EXPECT_FALSE(glob_match("a?", "a"));
  EXPECT_FALSE(glob_match("malloc", "malloc2"));
  EXPECT_TRUE(glob_match("*a*b*c", "xaxxbxxc"));
  EXPECT_FALSE(glob_match("*a*b*c", "xaxxbxxcx"));
}

TEST(ReportSuppressions, FramesMatchAsAPrefixWithEllipses) {
  EXPECT_TRUE(frames_match(patterns("fun:malloc\nfun:make*\n"), kStack));
  EXPECT_TRUE(frames_match(patterns("fun:malloc\nfun:_ZL4makePKc\n"), kStack));  // mangled too
  EXPECT_TRUE(frames_match(patterns("fun:malloc\n...\nfun:main\n"), kStack));
  EXPECT_TRUE(frames_match(patterns("...\nfun:helper\n"), kStack));
  EXPECT_TRUE(frames_match(patterns("obj:*libmemkit_check.so\nsrc:cpp.cpp:5\n"), kStack));
  EXPECT_FALSE(frames_match(patterns("obj:*libmemkit_check.so\nsrc:cpp.cpp:6\n"), kStack));
  EXPECT_FALSE(frames_match(patterns("fun:make*\n"), kStack));  // frame 0 is the allocator
  EXPECT_FALSE(frames_match(patterns("fun:malloc\n...\nfun:nowhere\n"), kStack));
  EXPECT_FALSE(frames_match(patterns("fun:malloc\nfun:*\nfun:*\nfun:*\nfun:*\n"), kStack));
}

TEST(ReportSuppressions, MatchLeakKindsAndKinds) {
  SuppressionSet set;
  set.parse(
      "# comment\n\n{\n   only_possible\n   Memcheck:Leak\n   match-leak-kinds: possible\n"
      "   fun:malloc\n}\n{\n   a_free\n   Memcheck:Free\n   fun:malloc\n}\n",
      "k.supp");
  EXPECT_EQ(set.match_leak(LeakKind::definite, kStack, 10, 1), nullptr);
  const Suppression* used = set.match_leak(LeakKind::possible, kStack, 10, 1);
  ASSERT_NE(used, nullptr);
  EXPECT_EQ(used->name, "only_possible");
  EXPECT_EQ(used->line, 4u);
  ASSERT_NE(set.match_free_error(kStack), nullptr);
  EXPECT_EQ(set.match_free_error(kStack)->name, "a_free");
}

TEST(ReportSuppressions, LastLoadedIsSearchedFirstAndMatchesMoveToTheFront) {
  SuppressionSet set;
  set.parse("{\n first\n Memcheck:Leak\n fun:malloc\n}\n{\n second\n Memcheck:Leak\n fun:*\n}\n",
            "o.supp");
  EXPECT_EQ(set.match_leak(LeakKind::definite, kStack, 1, 1)->name, "second");
  SuppressionSet other;
  other.parse("{\n first\n Memcheck:Leak\n fun:malloc\n}\n", "1.supp");
  other.parse("{\n never\n Memcheck:Leak\n fun:calloc\n}\n", "2.supp");
  const SymbolizedStack calloc_stack = {frame("calloc")};
  other.match_leak(LeakKind::definite, calloc_stack, 5, 1);
  other.match_leak(LeakKind::definite, kStack, 7, 2);
  const auto used = other.used();
  ASSERT_EQ(used.size(), 2u);
  EXPECT_EQ(used[0]->name, "first");  // matched last, so at the front
  EXPECT_EQ(used[0]->bytes, 7u);
  EXPECT_EQ(used[0]->blocks, 2u);
  EXPECT_EQ(used[1]->name, "never");
}

TEST(ReportSuppressions, OtherToolsAndKindsParseButNeverMatch) {
  SuppressionSet set;
  set.parse(
      "{\n h\n Helgrind:Race\n whatever helgrind wants\n}\n"
      "{\n p\n Memcheck:Param\n write(buf)\n fun:malloc\n}\n"
      "{\n c\n Memcheck:Cond\n fun:malloc\n}\n",
      "x.supp");
  EXPECT_EQ(set.size(), 3u);
  EXPECT_EQ(set.match_leak(LeakKind::definite, kStack, 1, 1), nullptr);
  EXPECT_EQ(set.match_free_error(kStack), nullptr);
}

TEST(ReportSuppressions, LeakSanitizerLines) {
  SuppressionSet set;
  set.parse("leak:make\nleak:^helper$\n", "lsan.supp");
  EXPECT_EQ(set.match_leak(LeakKind::definite, kStack, 1, 1)->name, "leak:^helper$");
  SuppressionSet anchored;
  anchored.parse("leak:^elper\n", "lsan.supp");
  EXPECT_EQ(anchored.match_leak(LeakKind::definite, kStack, 1, 1), nullptr);
  SuppressionSet by_object;
  by_object.parse("leak:libmemkit_check.so\n", "lsan.supp");
  EXPECT_NE(by_object.match_leak(LeakKind::reachable, kStack, 1, 1), nullptr);
}

TEST(ReportSuppressions, MalformedFilesSayWhereAndWhat) {
  EXPECT_EQ(
      error_of("fun:malloc\n"),
      "memkit check: bad.supp:1: expected '{' or a \"leak:PATTERN\" line, found \"fun:malloc\"");
  EXPECT_EQ(error_of("{\n}\n"),
            "memkit check: bad.supp:2: unexpected '}': a suppression needs a name first");
  EXPECT_EQ(error_of("\n{\n name\n MemcheckLeak\n fun:x\n}\n"),
            "memkit check: bad.supp:4: expected \"tool:kind\" (such as Memcheck:Leak), found "
            "\"MemcheckLeak\"");
  EXPECT_EQ(error_of("{\n name\n Memcheck:Leek\n fun:x\n}\n"),
            "memkit check: bad.supp:3: unknown Memcheck suppression kind \"Leek\"");
  EXPECT_EQ(error_of("{\n name\n Memcheck:Leak\n match-leak-kinds: lost\n fun:x\n}\n"),
            "memkit check: bad.supp:4: match-leak-kinds: expected all, none or a comma-separated "
            "list of definite, indirect, possible, reachable; found \"lost\"");
  EXPECT_EQ(error_of("{\n name\n Memcheck:Leak\n function:x\n}\n"),
            "memkit check: bad.supp:4: expected \"fun:\", \"obj:\", \"src:\", \"...\" or '}', "
            "found \"function:x\"");
  EXPECT_EQ(error_of("{\n name\n Memcheck:Leak\n}\n"),
            "memkit check: bad.supp:4: the suppression \"name\" has no frame lines (fun:, obj:, "
            "src: or ...)");
  EXPECT_EQ(error_of("{\n name\n Memcheck:Leak\n fun:x\n\n"),
            "memkit check: bad.supp:1: unexpected end of file: the suppression that starts at line "
            "1 has no '}'");
  EXPECT_EQ(error_of("{\n name\n Memcheck:Free\n match-leak-kinds: all\n fun:x\n}\n"),
            "memkit check: bad.supp:4: \"match-leak-kinds:\" only applies to Memcheck:Leak "
            "suppressions");
  EXPECT_EQ(error_of("leak:\n"), "memkit check: bad.supp:1: \"leak:\" needs a pattern");
}

TEST(ReportSuppressions, UnreadableFile) {
  SuppressionSet set;
  try {
    set.load_file("/nonexistent.supp");
    FAIL();
  } catch (const SuppressionFileError& error) {
    EXPECT_STREQ(error.what(),
                 "memkit check: /nonexistent.supp: cannot open the suppression file: No such file "
                 "or directory");
    EXPECT_EQ(error.line(), 0u);
  }
}

TEST(ReportSuppressions, TheResearchFilesParse) {
  SuppressionSet set;
  set.load_file(testing::data_path("leak.supp"));
  set.load_file(testing::data_path("a1.supp"));
  EXPECT_EQ(set.size(), 3u);
}

}  // namespace
}  // namespace memkit::check
