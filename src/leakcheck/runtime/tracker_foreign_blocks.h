// tracker_foreign_blocks.h — glibc blocks the program may hold that the tracker never counted:
// those allocated while their thread was untracked (inside a ScopedUntracked — dlerror's buffer
// from the reporter's dlsym, say — or a signal handler that interrupted the tracker). When the
// program frees one later, it is recognised here and handed to glibc instead of being reported as
// an invalid free. Lock-free (usable while the thread holds a table lock), bounded: when full,
// further foreign blocks are forgotten, and their frees become false "invalid free" reports.
#pragma once

#include <cstdint>

namespace memkit::check_rt {

void remember_foreign_block(uintptr_t address);
// True (and forgets it) if `address` is a remembered foreign block.
bool take_foreign_block(uintptr_t address);

}  // namespace memkit::check_rt
