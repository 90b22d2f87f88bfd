// json_report.h — memkit's JSON report: the same Analysis the text shows, every stack symbolized,
// for scripts. One document per `memkit check` run:
//
//   {"format": "memkit-check", "version": 1, "memkit": "0.1.0", "command": [...], "pid": 4242,
//    "exit_status": 0, "signal": null, "processes": [PROCESS, ...]}
//
// PROCESS (one per reporting process, in the order their reports arrived):
//   pid, ppid, command, exe, end {how, status}, leak_check, searched,
//   heap_summary {in_use_bytes, in_use_blocks, allocs, frees, bytes_allocated},
//   loss_records [{index, total, kind, bytes_direct, bytes_indirect, blocks, shown,
//                  counted_as_error, suppressed_by, stack}],
//   leak_summary {definite, indirect, possible, reachable, suppressed: {bytes, blocks},
//                 heuristics: {NAME: {bytes, blocks}}},
//   errors [{kind, operation, address, count, suppressed_by, stack,
//            block: null | {address, size, state, alloc_kind, alloc_stack, free_stack}}],
//   errors_dropped, threads_not_stopped, checked_bytes,
//   error_summary {errors, contexts, suppressed, suppressed_contexts},
//   used_suppressions [{name, file, line, count, leak, bytes, blocks}]
// A stack is [{ip, function, mangled, file, line, object, inlined}] (file, line, object null when
// unknown; mangled null when the function is unknown).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis.h"

namespace memkit::check {

inline constexpr std::string_view kCheckJsonFormat = "memkit-check";
inline constexpr int kCheckJsonVersion = 1;

nlohmann::json analysis_to_json(const Analysis& analysis);
// The inverse; throws RawReportError naming `source` for a document it cannot read.
Analysis analysis_from_json(const nlohmann::json& process, std::string_view source);

struct CheckRun {
  std::vector<std::string> command;
  long pid = 0;                    // the program's
  std::optional<int> exit_status;  // when it exited
  std::optional<int> signal;       // when a signal ended it
};
nlohmann::json check_document(const CheckRun& run, const std::vector<nlohmann::json>& processes);

}  // namespace memkit::check
