// fork_safety.h — the tracker across fork(): its locks are taken in pthread_atfork's prepare
// handler and released in the parent and the child, so the child never inherits a table in the
// middle of an update. The child keeps every block and counter (valgrind's child does too).
#pragma once

namespace memkit::check_rt {

// Registers the handlers; tracker_initialize calls it once.
void install_fork_handlers();

}  // namespace memkit::check_rt
