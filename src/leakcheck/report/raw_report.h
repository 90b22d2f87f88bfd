// raw_report.h — the file the preloaded runtime writes at exit (../raw_report.md), read into
// structs and checked: every key present with the right type, every enum value known, every stack
// a record or an error refers to present. Anything else is a RawReportError naming the file and the
// key, never a crash: the file crossed a process boundary and may be truncated or from another
// version.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "check_options.h"

namespace memkit::check {

inline constexpr std::string_view kRawReportFormat = "memkit-check-raw";
inline constexpr int kRawReportVersion = 1;

struct RawHeap {
  std::uint64_t in_use_bytes = 0;
  std::uint64_t in_use_blocks = 0;
  std::uint64_t allocs = 0;
  std::uint64_t frees = 0;
  std::uint64_t bytes_allocated = 0;
  bool operator==(const RawHeap&) const = default;
};

struct RawLossRecord {
  LeakKind kind = LeakKind::definite;
  std::uint32_t stack = 0;
  std::uint64_t bytes = 0;           // direct bytes
  std::uint64_t indirect_bytes = 0;  // definite and possible records only
  std::uint64_t blocks = 0;
};

struct RawHeuristic {
  std::string name;  // stdstring, length64, newarray, multipleinheritance
  std::uint64_t bytes = 0;
  std::uint64_t blocks = 0;
  bool operator==(const RawHeuristic&) const = default;
};

enum class FreeOperation : std::uint8_t { free, delete_object, delete_array, realloc };
enum class AllocFamily : std::uint8_t { malloc, new_object, new_array };
std::string_view free_operation_key(FreeOperation operation) noexcept;  // free, delete, ...
std::string_view alloc_family_key(AllocFamily family) noexcept;         // malloc, new, new[]

struct RawBlock {
  std::uintptr_t address = 0;
  std::uint64_t size = 0;
  bool freed = false;  // state "freed" (else "live")
  AllocFamily alloc_kind = AllocFamily::malloc;
  std::uint32_t alloc_stack = 0;
  std::uint32_t free_stack = 0;  // 0 unless freed
  bool operator==(const RawBlock&) const = default;
};

struct RawFreeError {
  bool mismatched = false;  // kind "mismatched_free" (else "invalid_free")
  FreeOperation operation = FreeOperation::free;
  std::uintptr_t address = 0;
  std::uint32_t stack = 0;
  std::optional<RawBlock> block;  // null when the address belongs to no known block
};

struct RawModule {
  std::string path;
  std::uintptr_t base = 0;
  std::vector<std::pair<std::uintptr_t, std::uintptr_t>> ranges;  // executable mappings
};

struct RawReport {
  long pid = 0;
  long ppid = 0;
  std::vector<std::string> command;
  std::string exe;
  std::string end_how = "return";  // return, exit, _exit, destructor, request
  int end_status = -1;
  LeakCheckMode leak_check = LeakCheckMode::full;
  RawHeap heap;
  bool searched = false;
  std::vector<RawLossRecord> records;
  std::vector<RawHeuristic> heuristics;
  std::uint64_t threads_not_stopped = 0;
  std::uint64_t checked_bytes = 0;
  std::vector<RawFreeError> errors;
  std::uint64_t errors_dropped = 0;
  std::map<std::uint32_t, std::vector<std::uintptr_t>> stacks;  // by id
  std::vector<RawModule> modules;

  // The frames of stack `id` (empty for 0, "none recorded").
  const std::vector<std::uintptr_t>& frames(std::uint32_t id) const;
};

// `source` names the file in error messages.
RawReport parse_raw_report(std::string_view text, std::string_view source);
RawReport read_raw_report(const std::string& path);

// The inverse of parse_raw_report (tests write fixtures with it; the runtime writes by hand).
nlohmann::json raw_report_to_json(const RawReport& report);

}  // namespace memkit::check
