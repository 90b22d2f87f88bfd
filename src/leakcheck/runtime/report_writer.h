// report_writer.h — the raw report (src/leakcheck/raw_report.md) written by hand with write(2)
// from an internal buffer: no malloc, no stdio. Written to *.tmp, renamed, then announced on
// MEMKIT_CHECK_NOTIFY_FD.
#pragma once

#include <cstddef>

#include "leak_check_run.h"

namespace memkit::check_rt {

enum class EndHow { return_from_main, exit, underscore_exit, destructor, request };

struct EndInfo {
  EndHow how = EndHow::destructor;
  int status = -1;  // -1: unknown
};

// Writes the report into directory (raw_report.md's file name). path receives the final path.
// False on any failure (the temporary file is removed).
bool write_raw_report(const char* directory, const EndInfo& end, const LeakCheckResult& result,
                      char* path, std::size_t path_capacity);

// Writes "path\n" to the notify fd in one write.
void notify_report(int fd, const char* path);

}  // namespace memkit::check_rt
