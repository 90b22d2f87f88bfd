// tracker_state.h — the flag every interposed function checks first (whether tracker_initialize
// has finished: options read, fork handlers in place), and the options themselves.
#pragma once

#include <atomic>

#include "runtime.h"

namespace memkit::check_rt {

extern std::atomic<bool> g_tracker_ready;

// options(), inline for the fast paths.
extern Options g_tracker_options;
inline const Options& tracker_options() { return g_tracker_options; }

}  // namespace memkit::check_rt
