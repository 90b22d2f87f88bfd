// analysis.h — a raw report turned into what valgrind would print: loss records sorted and
// numbered, each shown or not, counted as an error or not, suppressed or not; the LEAK SUMMARY
// totals; the free errors grouped into contexts; the ERROR SUMMARY; the suppressions used. Both the
// text (valgrind_text.h) and the JSON (json_report.h) are renderings of this one structure, so
// they always agree. Every stack in it is symbolized.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "check_options.h"
#include "raw_report.h"
#include "suppressions.h"
#include "symbolizer.h"

namespace memkit::check {

struct Totals {
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
  bool operator==(const Totals&) const = default;
};

struct LossRecordView {
  unsigned index = 0;  // 1-based, numbered over every record, shown or not
  LeakKind kind = LeakKind::definite;
  std::uint64_t bytes = 0;  // direct
  std::uint64_t indirect_bytes = 0;
  std::uint64_t blocks = 0;
  SymbolizedStack stack;      // the allocation stack
  bool shown = false;         // printed under --leak-check=full --show-leak-kinds
  bool counted = false;       // an error under --errors-for-leak-kinds (when not suppressed)
  std::string suppressed_by;  // the suppression's name; "" when not suppressed
  bool operator==(const LossRecordView&) const = default;
};

// The block a free error's address belongs to.
struct ErrorBlock {
  std::uintptr_t address = 0;
  std::uint64_t size = 0;
  bool freed = false;
  AllocFamily alloc_kind = AllocFamily::malloc;
  bool operator==(const ErrorBlock&) const = default;
};

// One free error context: the first error of its kind at its place (valgrind compares the top
// four frames), with how many times it happened.
struct FreeErrorContext {
  bool mismatched = false;
  FreeOperation operation = FreeOperation::free;
  std::uintptr_t address = 0;
  SymbolizedStack stack;  // where free/delete/realloc was called
  std::optional<ErrorBlock> block;
  SymbolizedStack alloc_stack;  // the block's, when known
  SymbolizedStack free_stack;   // the block's, when it had been freed
  std::uint64_t count = 1;
  std::string suppressed_by;
  bool operator==(const FreeErrorContext&) const = default;
};

struct UsedSuppression {
  std::string name;
  std::string file;
  std::size_t line = 0;
  std::uint64_t count = 0;
  bool leak = false;  // leak suppressions also report the bytes and blocks they hid
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
  bool operator==(const UsedSuppression&) const = default;
};

struct ErrorSummary {
  std::uint64_t errors = 0;
  std::uint64_t contexts = 0;
  std::uint64_t suppressed = 0;
  std::uint64_t suppressed_contexts = 0;
  bool operator==(const ErrorSummary&) const = default;
};

struct Analysis {
  long pid = 0;
  long ppid = 0;
  std::vector<std::string> command;
  std::string exe;
  std::string end_how;
  int end_status = -1;
  LeakCheckMode leak_check = LeakCheckMode::full;
  RawHeap heap;
  bool searched = false;
  std::uint64_t threads_not_stopped = 0;
  std::uint64_t checked_bytes = 0;
  std::uint64_t errors_dropped = 0;

  std::vector<FreeErrorContext> error_contexts;    // in the order they first happened
  std::vector<LossRecordView> records;             // sorted as valgrind sorts them
  std::array<Totals, 4> kind_totals{};             // LEAK SUMMARY, indexed by LeakKind
  Totals suppressed;                               // direct bytes of suppressed records
  std::vector<RawHeuristic> heuristics;            // non-zero only, in valgrind's order
  std::vector<UsedSuppression> used_suppressions;  // in valgrind's order
  ErrorSummary error_summary;

  const Totals& totals(LeakKind kind) const { return kind_totals[static_cast<std::size_t>(kind)]; }
  bool operator==(const Analysis&) const = default;
};

// `suppressions` records its use (and its order changes, as valgrind's does).
Analysis analyze(const RawReport& report, const CheckOptions& options, SuppressionSet& suppressions,
                 Symbolizer& symbolizer);

}  // namespace memkit::check
