// memkit/leakcheck.h — ask memkit's leak checker, from inside the program, what it would report.
//
// `memkit check -- PROGRAM` finds leaks when PROGRAM ends. A long-running program (a server, a
// test runner) often wants the answer earlier: after a request, after each test. Under `memkit
// check` (or with libmemkit_check.so preloaded), check() runs the same search the exit report runs
// — stop the other threads, scan the roots, classify every live block as valgrind's memcheck
// does — and hands the result back as data instead of text:
//
//   #include <memkit/leakcheck.h>
//
//   if (memkit::leakcheck::runtime_loaded()) {
//     memkit::leakcheck::LeakReport report = memkit::leakcheck::check();
//     if (report.leaked().blocks > 0) {                  // definitely + indirectly + possibly lost
//       for (const auto& record : report.records) {       // sorted as valgrind sorts loss records
//         std::printf("%llu bytes in %llu blocks are %s\n", ...,
//                     memkit::leakcheck::to_string(record.kind).data());
//       }
//     }
//   }
//
// Stacks are raw addresses (frames[0] inside the allocation function, then return addresses);
// `memkit check`'s report symbolizes them. Suppression files are applied by `memkit check` only.
// Without the runtime, check() throws memkit::LeakCheckUnavailable (and runtime_loaded() says
// false): a program built with this header runs normally anywhere.
#ifndef MEMKIT_LEAKCHECK_H_
#define MEMKIT_LEAKCHECK_H_

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "memkit/export.h"

namespace memkit::leakcheck {

// valgrind's four kinds, in the order valgrind's LEAK SUMMARY lists them.
enum class LeakKind : std::uint8_t {
  definitely_lost,
  indirectly_lost,
  possibly_lost,
  still_reachable
};

// "definitely lost", "indirectly lost", "possibly lost", "still reachable".
MEMKIT_EXPORT std::string_view to_string(LeakKind kind) noexcept;

struct Amount {
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
  friend bool operator==(const Amount&, const Amount&) = default;
};

// One loss record: the blocks of one kind allocated from one stack.
struct LossRecord {
  LeakKind kind = LeakKind::definitely_lost;
  std::uint64_t bytes = 0;           // the blocks' own bytes
  std::uint64_t indirect_bytes = 0;  // bytes they hold indirectly (definitely/possibly lost only)
  std::uint64_t blocks = 0;
  std::vector<std::uintptr_t> stack;  // allocation stack, innermost first
};

struct HeapSummary {
  Amount in_use;                      // valgrind's "in use at exit"
  std::uint64_t allocs = 0;           // "total heap usage: N allocs,
  std::uint64_t frees = 0;            //  M frees,
  std::uint64_t bytes_allocated = 0;  //  B bytes allocated"
};

struct LeakReport {
  HeapSummary heap;
  std::array<Amount, 4> by_kind{};  // the LEAK SUMMARY, indexed by LeakKind
  std::vector<LossRecord> records;  // ascending total bytes, then valgrind's kind order, blocks
  std::uint32_t threads_not_stopped = 0;  // > 0: blocks they hold may be reported lost

  const Amount& of(LeakKind kind) const { return by_kind[static_cast<std::size_t>(kind)]; }
  // Definitely + indirectly + possibly lost: what valgrind's default counts as errors.
  Amount leaked() const;
};

// True when the leak-check runtime is loaded into this process.
MEMKIT_EXPORT bool runtime_loaded() noexcept;

// Runs the leak search now. Throws LeakCheckUnavailable when the runtime is not loaded or
// refuses (a search already running on another thread, out of memory).
MEMKIT_EXPORT LeakReport check();

}  // namespace memkit::leakcheck

#endif  // MEMKIT_LEAKCHECK_H_
