// symbolizer: libdw on this test program's own code (file:line, demangled names with parameters,
// an inlined frame), and valgrind's stack rules on a table.
#include <gtest/gtest.h>
#include <link.h>

#include <cstdint>

#include "report_test_fixtures.h"
#include "symbolizer.h"

namespace {

int g_call_line = 0;
int g_inline_call_line = 0;

[[gnu::noinline]] std::uintptr_t return_address_of_caller() {
  return reinterpret_cast<std::uintptr_t>(__builtin_return_address(0));
}

[[gnu::noinline]] std::uintptr_t symbolizer_test_caller(int /*unused*/) {
  g_call_line = __LINE__ + 1;
  const std::uintptr_t address = return_address_of_caller();
  asm volatile("" ::: "memory");  // keep the call out of tail position
  return address;
}

[[gnu::always_inline]] inline std::uintptr_t inlined_helper() {
  g_inline_call_line = __LINE__ + 1;
  const std::uintptr_t address = return_address_of_caller();
  asm volatile("" ::: "memory");
  return address;
}

int g_outer_line = 0;
[[gnu::noinline]] std::uintptr_t calls_inlined_helper() {
  g_outer_line = __LINE__ + 1;
  const std::uintptr_t address = inlined_helper();
  asm volatile("" ::: "memory");
  return address;
}

memkit::check::RawModule this_program() {
  memkit::check::RawModule module;
  module.path = "/proc/self/exe";
  dl_iterate_phdr(
      [](dl_phdr_info* info, std::size_t, void* data) {
        *static_cast<std::uintptr_t*>(data) = info->dlpi_addr;
        return 1;  // the first object is the program
      },
      &module.base);
  return module;
}

}  // namespace

namespace memkit::check {
namespace {

TEST(ReportSymbolizer, DemanglesWithParameters) {
  EXPECT_EQ(demangle("_Znwm"), "operator new(unsigned long)");
  EXPECT_EQ(demangle("_ZL4makePKc"), "make(char const*)");
  EXPECT_EQ(demangle("malloc"), "malloc");
  EXPECT_EQ(demangle("_Zbogus"), "_Zbogus");
}

TEST(ReportSymbolizer, OwnFunctionWithFileAndLine) {
  DwarfSymbolizer symbolizer({this_program()});
  const std::uintptr_t return_address = symbolizer_test_caller(0);
  const std::vector<SourceFrame> frames = symbolizer.frames_at(return_address - 1);
  ASSERT_FALSE(frames.empty());
  const SourceFrame& frame = frames.back();
  EXPECT_EQ(frame.function, "(anonymous namespace)::symbolizer_test_caller(int)");
  EXPECT_EQ(frame.file, "report_symbolizer_test.cpp");
  EXPECT_EQ(frame.line, static_cast<unsigned>(g_call_line));
  EXPECT_EQ(frame.object, "/proc/self/exe");
  EXPECT_FALSE(frame.inlined);
}

TEST(ReportSymbolizer, InlinedFramesShareTheAddress) {
  DwarfSymbolizer symbolizer({this_program()});
  const std::uintptr_t return_address = calls_inlined_helper();
  const std::vector<SourceFrame> frames = symbolizer.frames_at(return_address - 1);
  ASSERT_EQ(frames.size(), 2u);
  // No linkage name exists for a function that was only ever inlined: DW_AT_name it is, as valgrind
  // prints inlined frames.
  EXPECT_EQ(frames[0].function, "inlined_helper");
  EXPECT_TRUE(frames[0].inlined);
  EXPECT_EQ(frames[0].line, static_cast<unsigned>(g_inline_call_line));
  EXPECT_EQ(frames[1].function, "(anonymous namespace)::calls_inlined_helper()");
  EXPECT_FALSE(frames[1].inlined);
  EXPECT_EQ(frames[1].line, static_cast<unsigned>(g_outer_line));
  EXPECT_EQ(frames[0].ip, frames[1].ip);
}

TEST(ReportSymbolizer, UnknownAddressesAndMissingFiles) {
  RawModule gone;
  gone.path = "/nonexistent/libgone.so";
  gone.base = 0x10000;
  gone.ranges = {{0x11000, 0x12000}};
  DwarfSymbolizer symbolizer({gone});
  const auto inside = symbolizer.frames_at(0x11234);
  ASSERT_EQ(inside.size(), 1u);
  EXPECT_EQ(inside[0].function, "???");
  EXPECT_EQ(inside[0].object, "/nonexistent/libgone.so");
  const auto nowhere = symbolizer.frames_at(0x99999);
  EXPECT_EQ(nowhere[0].function, "???");
  EXPECT_EQ(nowhere[0].object, "");
}

TEST(ReportSymbolizer, StacksStopAtMainAndPrintReturnAddressesMinusOne) {
  testing::TableSymbolizer symbols;
  symbols.add(0x1000, "malloc", "interpose.cpp", 10, "/lib/libmemkit_check.so");
  symbols.add(0x2000, "inner", "a.c", 3, "/bin/a");
  symbols.add(0x2000, "outer", "a.c", 7, "/bin/a");
  symbols.add(0x3000, "main", "a.c", 9, "/bin/a");
  symbols.add(0x4000, "__libc_start_call_main", "libc_start_call_main.h", 58, "/lib/libc.so.6");
  const SymbolizedStack stack = symbolize_stack(symbols, {0x1000, 0x2001, 0x3001, 0x4001}, 12);
  ASSERT_EQ(stack.size(), 4u);
  EXPECT_EQ(stack[0].function, "malloc");
  EXPECT_EQ(stack[0].file, "");  // the allocator by name only: "malloc (in ...)"
  EXPECT_EQ(stack[0].ip, 0x1000u);
  EXPECT_EQ(stack[1].function, "inner");
  EXPECT_EQ(stack[1].ip, 0x2000u);
  EXPECT_EQ(stack[2].function, "outer");
  EXPECT_EQ(stack[2].ip, 0x2000u);
  EXPECT_EQ(stack[3].function, "main");

  const SymbolizedStack below = symbolize_stack(symbols, {0x1000, 0x5001, 0x4001, 0x6001}, 12);
  ASSERT_EQ(below.size(), 3u);
  EXPECT_EQ(below[1].function, "???");
  EXPECT_EQ(below[2].function, "(below main)");
  EXPECT_EQ(below[2].mangled, "__libc_start_call_main");

  EXPECT_EQ(symbolize_stack(symbols, {0x1000, 0x2001, 0x3001}, 2).size(), 3u);  // 2 addresses
  EXPECT_EQ(symbolize_stack(symbols, {0x1000, 0x2001, 0x3001}, 1).size(), 1u);
}

}  // namespace
}  // namespace memkit::check
