// classify(): the kind of a stack local, heap blocks, globals, literals and code in this process.
#include "memkit/inspect/classify.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "memkit/base/sanitizers.h"

namespace memkit::inspect {
namespace {

int initialized_global = 42;
int zeroed_global;             // .bss, possibly in the same page as .data
char zeroed_array[64 * 1024];  // .bss, larger than a page
const char* const kLiteral = "a string literal lives in read-only data";

int function_in_text(int x) { return x + initialized_global; }

RegionKind kind_of(const void* address) {
  const auto info = classify(address);
  EXPECT_TRUE(info.has_value());
  return info ? info->kind : RegionKind::kReserved;
}

TEST(Classify, AStackLocalIsOnTheMainStack) {
  int local = 0;
  EXPECT_EQ(kind_of(&local), RegionKind::kMainStack);
}

TEST(Classify, AThreadsLocalIsOnItsThreadStack) {
  RegionKind kind = RegionKind::kReserved;
  std::thread([&] {
    int local = 0;
    kind = kind_of(&local);
  }).join();
  EXPECT_EQ(kind, RegionKind::kThreadStack);
}

TEST(Classify, HeapBlocks) {
  auto small = std::make_unique<int>(1);
  void* large = std::malloc(std::size_t{4} << 20);  // above glibc's mmap threshold
#if MEMKIT_ASAN
  // ASan's allocator serves every block from its own anonymous mappings.
  EXPECT_EQ(kind_of(small.get()), RegionKind::kAnonymous);
#else
  EXPECT_EQ(kind_of(small.get()), RegionKind::kHeap);
#endif
  EXPECT_EQ(kind_of(large), RegionKind::kAnonymous);
  std::free(large);
}

TEST(Classify, GlobalsLiteralsAndCodeBelongToThisProgram) {
  const auto data = classify(&initialized_global);
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(data->kind, RegionKind::kData);
  EXPECT_FALSE(data->module_name.empty());
  EXPECT_EQ(kind_of(&zeroed_global), RegionKind::kBss);
  EXPECT_EQ(kind_of(&zeroed_array[sizeof zeroed_array - 1]), RegionKind::kBss);
  EXPECT_EQ(kind_of(kLiteral), RegionKind::kReadOnlyData);

  const auto code = classify(reinterpret_cast<const void*>(&function_in_text));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(code->kind, RegionKind::kText);
  EXPECT_EQ(code->module_name, data->module_name);
  EXPECT_EQ(function_in_text(0), 42);
}

TEST(Classify, ALibraryFunctionIsInTheLibrarysText) {
  const auto code = classify(reinterpret_cast<const void*>(&::getpid));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(code->kind, RegionKind::kText);
  EXPECT_EQ(code->module_name.rfind("libc.so", 0), 0U) << code->module_name;
}

TEST(Classify, AnUnmappedAddressIsNothing) {
  EXPECT_FALSE(classify(nullptr).has_value());
  EXPECT_FALSE(classify(reinterpret_cast<const void*>(std::uintptr_t{4096})).has_value());
}

}  // namespace
}  // namespace memkit::inspect
