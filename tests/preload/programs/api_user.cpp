// Uses memkit/leakcheck.h from inside the program: loses a block, asks, frees... and asks again.
// Run under `memkit check`, the in-process search must see the lost block, then not see it.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "memkit/base/error.h"
#include "memkit/leakcheck.h"

namespace {
void* volatile g_kept;
char* volatile g_hidden;

// Keeps only a disguised pointer (so no root holds it) and hands back the real one.
__attribute__((noinline)) void lose_block() {
  char* block = static_cast<char*>(std::malloc(123));
  std::memset(block, 1, 123);
  g_hidden = reinterpret_cast<char*>(reinterpret_cast<unsigned long>(block) ^ 0x5a5a5a5aUL);
}
}  // namespace

int main() {
  if (!memkit::leakcheck::runtime_loaded()) {
    try {
      (void)memkit::leakcheck::check();
    } catch (const memkit::LeakCheckUnavailable& error) {
      std::printf("not loaded: %s\n", error.what());
    }
    return 0;
  }
  g_kept = std::malloc(77);
  lose_block();
  memkit::leakcheck::LeakReport before = memkit::leakcheck::check();
  std::printf("definitely lost: %llu bytes in %llu blocks\n",
              static_cast<unsigned long long>(
                  before.of(memkit::leakcheck::LeakKind::definitely_lost).bytes),
              static_cast<unsigned long long>(
                  before.of(memkit::leakcheck::LeakKind::definitely_lost).blocks));
  bool found = false;
  for (const auto& record : before.records) {
    if (record.kind == memkit::leakcheck::LeakKind::definitely_lost && record.bytes == 123 &&
        !record.stack.empty()) {
      found = true;
    }
  }
  std::printf("record with a stack: %s\n", found ? "yes" : "no");
  std::free(reinterpret_cast<char*>(reinterpret_cast<unsigned long>(g_hidden) ^ 0x5a5a5a5aUL));
  memkit::leakcheck::LeakReport after = memkit::leakcheck::check();
  std::printf("after free, definitely lost: %llu bytes\n",
              static_cast<unsigned long long>(
                  after.of(memkit::leakcheck::LeakKind::definitely_lost).bytes));
  std::free(g_kept);
  return 0;
}
