// valgrind_text: the recorded valgrind 3.19 outputs of multi.c (research notes 2.7 and 2.12),
// reproduced byte for byte from a raw report with the same stacks; and the other text paths.
#include <gtest/gtest.h>

#include "analysis.h"
#include "memkit/version.h"
#include "raw_report.h"
#include "report_test_fixtures.h"
#include "valgrind_text.h"

namespace memkit::check {
namespace {

using testing::multi_symbols;
using testing::normalise_pids;
using testing::read_data;

std::string render(const std::string& raw_file, const CheckOptions& options,
                   SuppressionSet suppressions = {}) {
  const RawReport raw = parse_raw_report(read_data(raw_file), raw_file);
  auto symbols = multi_symbols();
  return render_valgrind_text(analyze(raw, options, suppressions, symbols), options);
}

TEST(ReportText, ThousandsSeparators) {
  EXPECT_EQ(with_thousands(0), "0");
  EXPECT_EQ(with_thousands(999), "999");
  EXPECT_EQ(with_thousands(1000), "1,000");
  EXPECT_EQ(with_thousands(72704), "72,704");
  EXPECT_EQ(with_thousands(1234567890), "1,234,567,890");
}

TEST(ReportText, MultiFullMatchesValgrind) {
  EXPECT_EQ(normalise_pids(render("multi.json", CheckOptions{})),
            normalise_pids(read_data("multi_full.txt")));
}

TEST(ReportText, MultiFullAllKindsMatchesValgrind) {
  CheckOptions options;
  options.show_leak_kinds = LeakKindSet::all();
  EXPECT_EQ(normalise_pids(render("multi.json", options)),
            normalise_pids(read_data("multi_full_all.txt")));
}

TEST(ReportText, MultiSummaryMatchesValgrind) {
  CheckOptions options;
  options.leak_check = LeakCheckMode::summary;
  EXPECT_EQ(normalise_pids(render("multi_summary.json", options)),
            normalise_pids(read_data("multi_summary.txt")));
}

TEST(ReportText, SuppressionsWithShowErrorListMatchValgrind) {
  CheckOptions options;
  options.show_error_list = true;
  SuppressionSet suppressions;
  suppressions.parse(read_data("leak.supp"), "leak.supp");
  EXPECT_EQ(normalise_pids(render("multi.json", options, suppressions)),
            normalise_pids(read_data("multi_leak_supp_s.txt")));
}

TEST(ReportText, SuppressedParentKeepsItsIndirectChildrenReported) {
  CheckOptions options;
  options.show_leak_kinds = LeakKindSet::all();
  SuppressionSet suppressions;
  suppressions.parse(read_data("a1.supp"), "a1.supp");
  EXPECT_EQ(normalise_pids(render("multi.json", options, suppressions)),
            normalise_pids(read_data("multi_a1_supp_all.txt")));
}

RawReport deflost() {
  RawReport raw;
  raw.pid = 26883;
  raw.leak_check = LeakCheckMode::full;
  raw.heap = {100, 1, 1, 0, 100};
  raw.searched = true;
  raw.records.push_back({LeakKind::definite, 1, 100, 0, 1});
  raw.stacks[1] = {0x48417B4, 0x109161, 0x109192};
  return raw;
}

TEST(ReportText, GenSuppressionsAllMatchesValgrind) {
  testing::TableSymbolizer symbols;
  symbols.add(0x48417B4, "malloc", "", 0,
              "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so");
  symbols.add(0x109160, "leak", "deflost.c", 3, "/tmp/deflost");
  symbols.add(0x109191, "main", "deflost.c", 4, "/tmp/deflost");
  CheckOptions options;
  options.gen_suppressions = GenSuppressions::all;
  SuppressionSet none;
  const std::string text =
      render_valgrind_text(analyze(deflost(), options, none, symbols), options);
  EXPECT_EQ(text, read_data("deflost_gen_all.txt"));
}

TEST(ReportText, QuietKeepsOnlyTheRecords) {
  CheckOptions options;
  options.quiet = true;
  const std::string text = render("multi.json", options);
  EXPECT_EQ(text.find("HEAP SUMMARY"), std::string::npos);
  EXPECT_EQ(text.find("LEAK SUMMARY"), std::string::npos);
  EXPECT_EQ(text.find("ERROR SUMMARY"), std::string::npos);
  EXPECT_NE(text.find("==26819== 50 bytes in 5 blocks are definitely lost in loss record 2 of 7\n"),
            std::string::npos);
}

TEST(ReportText, VerboseAddsTheSearchLines) {
  CheckOptions options;
  options.verbose = true;
  options.show_error_list = true;
  const std::string text = render("multi.json", options);
  EXPECT_NE(text.find("==26819== Searching for pointers to 13 not-freed blocks\n"
                      "==26819== Checked 105,088 bytes\n==26819== \n"),
            std::string::npos);
  EXPECT_EQ(text.find("rerun with: -s"), std::string::npos);
}

TEST(ReportText, NoBlocksLeftSaysNoLeaksArePossible) {
  RawReport raw;
  raw.pid = 7;
  raw.searched = true;
  raw.heap = {0, 0, 1, 1, 100};
  testing::TableSymbolizer symbols;
  SuppressionSet none;
  const std::string text = render_valgrind_text(analyze(raw, {}, none, symbols), {});
  EXPECT_EQ(text,
            "==7== \n==7== HEAP SUMMARY:\n==7==     in use at exit: 0 bytes in 0 blocks\n"
            "==7==   total heap usage: 1 allocs, 1 frees, 100 bytes allocated\n==7== \n"
            "==7== All heap blocks were freed -- no leaks are possible\n==7== \n"
            "==7== For lists of detected and suppressed errors, rerun with: -s\n"
            "==7== ERROR SUMMARY: 0 errors from 0 contexts (suppressed: 0 from 0)\n");
}

TEST(ReportText, LeakCheckNoSuggestsFull) {
  RawReport raw = deflost();
  raw.leak_check = LeakCheckMode::no;
  raw.searched = false;
  raw.records.clear();
  testing::TableSymbolizer symbols;
  SuppressionSet none;
  const std::string text = render_valgrind_text(analyze(raw, {}, none, symbols), {});
  EXPECT_NE(text.find("==26883== For a detailed leak analysis, rerun with: --leak-check=full\n"),
            std::string::npos);
  EXPECT_EQ(text.find("LEAK SUMMARY"), std::string::npos);
}

TEST(ReportText, HeuristicLinesFollowStillReachable) {
  RawReport raw;
  raw.pid = 26880;
  raw.searched = true;
  raw.heap = {136, 3, 4, 1, 72840};
  raw.records = {{LeakKind::reachable, 1, 48, 0, 1},
                 {LeakKind::reachable, 2, 40, 0, 1},
                 {LeakKind::reachable, 3, 48, 0, 1}};
  raw.stacks = {{1, {0x10}}, {2, {0x20}}, {3, {0x30}}};
  raw.heuristics = {{"multipleinheritance", 40, 1}, {"newarray", 48, 1}, {"length64", 48, 1}};
  testing::TableSymbolizer symbols;
  SuppressionSet none;
  const std::string text = render_valgrind_text(analyze(raw, {}, none, symbols), {});
  EXPECT_NE(
      text.find("==26880==    still reachable: 136 bytes in 3 blocks\n"
                "==26880==                       of which reachable via heuristic:\n"
                "==26880==                         length64           : 48 bytes in 1 blocks\n"
                "==26880==                         newarray           : 48 bytes in 1 blocks\n"
                "==26880==                         multipleinheritance: 40 bytes in 1 blocks\n"
                "==26880==         suppressed: 0 bytes in 0 blocks\n"),
      std::string::npos)
      << text;
}

TEST(ReportText, EqualSizesSortByKindThenBlocksThenAge) {
  RawReport raw;
  raw.pid = 1;
  raw.searched = true;
  raw.heap = {400, 6, 6, 0, 400};
  // All 64 bytes in total; expected order: reachable, possible, indirect, definite(2 blocks,
  // stack 9), definite (4 blocks, stack 2), definite (4 blocks, stack 5).
  raw.records = {{LeakKind::definite, 5, 64, 0, 4},  {LeakKind::definite, 2, 64, 0, 4},
                 {LeakKind::indirect, 3, 64, 0, 1},  {LeakKind::definite, 9, 32, 32, 2},
                 {LeakKind::reachable, 4, 64, 0, 1}, {LeakKind::possible, 6, 64, 0, 1}};
  for (std::uint32_t id : {2u, 3u, 4u, 5u, 6u, 9u}) raw.stacks[id] = {id * 16};
  testing::TableSymbolizer symbols;
  SuppressionSet none;
  const Analysis analysis = analyze(raw, {}, none, symbols);
  ASSERT_EQ(analysis.records.size(), 6u);
  const std::uintptr_t expected_stacks[] = {4 * 16, 6 * 16, 3 * 16, 9 * 16, 2 * 16, 5 * 16};
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(analysis.records[i].index, i + 1);
    EXPECT_EQ(analysis.records[i].stack.at(0).ip, expected_stacks[i]) << "record " << i + 1;
  }
}

TEST(ReportText, ErrorsForLeakKindsDecidesTheCount) {
  const RawReport raw = parse_raw_report(read_data("multi.json"), "multi.json");
  auto symbols = multi_symbols();
  SuppressionSet none;
  CheckOptions options;
  options.errors_for_leak_kinds = LeakKindSet::all();
  EXPECT_EQ(analyze(raw, options, none, symbols).error_summary.errors, 7u);
  options.errors_for_leak_kinds = LeakKindSet{};
  EXPECT_EQ(analyze(raw, options, none, symbols).error_summary.errors, 0u);
  options.errors_for_leak_kinds = LeakKindSet::all();
  options.leak_check = LeakCheckMode::full;
  RawReport summary = raw;
  summary.leak_check = LeakCheckMode::summary;  // valgrind never counts leaks in summary mode
  EXPECT_EQ(analyze(summary, options, none, symbols).error_summary.errors, 0u);
}

RawReport free_errors() {
  RawReport raw;
  raw.pid = 6466;
  raw.searched = true;
  raw.heap = {0, 0, 2, 2, 26};
  raw.stacks = {{1, {0x484417B, 0x109177}}, {2, {0x484417B, 0x10916B}}, {3, {0x48417B4, 0x10915B}},
                {4, {0x484499B, 0x1091A5}}, {5, {0x484320F, 0x10918B}}, {6, {0x484417B, 0x1091C1}}};
  RawFreeError double_free;
  double_free.operation = FreeOperation::free;
  double_free.address = 0x4a42040;
  double_free.stack = 1;
  double_free.block = RawBlock{0x4a42040, 10, true, AllocFamily::malloc, 3, 2};
  RawFreeError mismatch;
  mismatch.mismatched = true;
  mismatch.operation = FreeOperation::delete_object;
  mismatch.address = 0x4d6fc80;
  mismatch.stack = 4;
  mismatch.block = RawBlock{0x4d6fc80, 16, false, AllocFamily::new_array, 5, 0};
  RawFreeError wild;
  wild.address = 0x1ffefff8c0;
  wild.stack = 6;
  raw.errors = {double_free, mismatch, wild, double_free};
  return raw;
}

testing::TableSymbolizer free_error_symbols() {
  const std::string vg = "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so";
  testing::TableSymbolizer symbols;
  symbols.add(0x484417B, "free", "", 0, vg);
  symbols.add(0x48417B4, "malloc", "", 0, vg);
  symbols.add(0x484499B, "operator delete(void*, unsigned long)", "", 0, vg);
  symbols.add(0x484320F, "operator new[](unsigned long)", "", 0, vg);
  symbols.add(0x109176, "main", "mismatch.c", 2, "/tmp/mismatch");
  symbols.add(0x10916A, "main", "mismatch.c", 2, "/tmp/mismatch");
  symbols.add(0x10915A, "main", "mismatch.c", 2, "/tmp/mismatch");
  symbols.add(0x1091A4, "main", "mism.cpp", 2, "/tmp/mism");
  symbols.add(0x10918A, "main", "mism.cpp", 2, "/tmp/mism");
  symbols.add(0x1091C0, "main", "wild.c", 3, "/tmp/wild");
  return symbols;
}

TEST(ReportText, FreeErrorsPrintBothStacksAsValgrind) {
  auto symbols = free_error_symbols();
  SuppressionSet none;
  const Analysis analysis = analyze(free_errors(), {}, none, symbols);
  const std::string text = render_valgrind_text(analysis, {});
  EXPECT_EQ(analysis.error_summary, (ErrorSummary{4, 3, 0, 0}));  // the double free twice
  const std::string expected =
      "==6466== Invalid free() / delete / delete[] / realloc()\n"
      "==6466==    at 0x484417B: free (in "
      "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
      "==6466==    by 0x109176: main (mismatch.c:2)\n"
      "==6466==  Address 0x4a42040 is 0 bytes inside a block of size 10 free'd\n"
      "==6466==    at 0x484417B: free (in "
      "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
      "==6466==    by 0x10916A: main (mismatch.c:2)\n"
      "==6466==  Block was alloc'd at\n"
      "==6466==    at 0x48417B4: malloc (in "
      "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
      "==6466==    by 0x10915A: main (mismatch.c:2)\n"
      "==6466== \n"
      "==6466== Mismatched free() / delete / delete []\n"
      "==6466==    at 0x484499B: operator delete(void*, unsigned long) (in "
      "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
      "==6466==    by 0x1091A4: main (mism.cpp:2)\n"
      "==6466==  Address 0x4d6fc80 is 0 bytes inside a block of size 16 alloc'd\n"
      "==6466==    at 0x484320F: operator new[](unsigned long) (in "
      "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
      "==6466==    by 0x10918A: main (mism.cpp:2)\n"
      "==6466== \n"
      "==6466== Invalid free() / delete / delete[] / realloc()\n"
      "==6466==    at 0x484417B: free (in "
      "/usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)\n"
      "==6466==    by 0x1091C0: main (wild.c:3)\n"
      "==6466==  Address 0x1ffefff8c0 is not stack'd, malloc'd or (recently) free'd\n"
      "==6466== \n";
  EXPECT_EQ(text.substr(0, expected.size()), expected);
  EXPECT_NE(text.find("ERROR SUMMARY: 4 errors from 3 contexts (suppressed: 0 from 0)"),
            std::string::npos);
}

TEST(ReportText, FreeSuppressionsAndTheErrorList) {
  auto symbols = free_error_symbols();
  SuppressionSet suppressions;
  suppressions.parse("{\n  no_mismatch\n  Memcheck:Free\n  fun:operator delete*\n}\n", "f.supp");
  CheckOptions options;
  options.show_error_list = true;
  const Analysis analysis = analyze(free_errors(), options, suppressions, symbols);
  EXPECT_EQ(analysis.error_summary, (ErrorSummary{3, 2, 1, 1}));
  const std::string text = render_valgrind_text(analysis, options);
  EXPECT_EQ(text.find("Mismatched"), std::string::npos);
  EXPECT_NE(text.find("==6466== 1 errors in context 1 of 2:\n"
                      "==6466== Invalid free() / delete / delete[] / realloc()\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("==6466== 2 errors in context 2 of 2:\n"), std::string::npos);
  EXPECT_NE(text.find("--6466-- used_suppression:      1 no_mismatch f.supp:2\n"),
            std::string::npos);
}

TEST(ReportText, PreambleAndSignalLine) {
  EXPECT_EQ(
      render_preamble(42, {"./prog", "a b"}, {}),
      std::string("==42== memkit check, a leak checker for unmodified programs\n==42== memkit ") +
          memkit::version() +
          "; docs/check.md explains this report\n==42== Command: ./prog a b\n==42== \n");
  CheckOptions quiet;
  quiet.quiet = true;
  EXPECT_EQ(render_preamble(42, {"./prog"}, quiet), "");
  EXPECT_EQ(render_signal_line(42, 11),
            "==42== Process terminating with default action of signal 11 (SIGSEGV)\n");
}

}  // namespace
}  // namespace memkit::check
