// exit_report.h — hands a finished leak check to the renderer: the raw report into
// MEMKIT_CHECK_DIR and a line on the notify fd, or (preloaded by hand) `memkit check --render`.
#pragma once

#include "report_writer.h"

namespace memkit::check_rt {

// Runs `memkit check --render FILE` on a report written to $TMPDIR (render_standalone.cpp).
// Returns the exit status the process should end with instead of its own, or -1.
int render_standalone(const EndInfo& end, const LeakCheckResult& result);

}  // namespace memkit::check_rt
