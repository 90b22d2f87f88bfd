// leak_check_run.h — one whole leak check, as the exit path and the in-process API both run it:
// lock the tracker, stop the world, collect and sort the live blocks, build the roots, search,
// group into loss records, resume, unlock.
#pragma once

#include <cstddef>
#include <cstdint>

#include "loss_records.h"
#include "roots.h"
#include "runtime.h"

namespace memkit::check_rt {

struct LeakCheckResult {
  bool searched = false;  // false with leak_check=no: only the heap totals
  HeapTotals heap;
  LossRecordSet records;
  uint32_t threads_not_stopped = 0;
  uint64_t checked_bytes = 0;
};

// Runs on the calling thread, which must be inside a ScopedUntracked. caller.scan_from is where
// its live stack starts. False when internal memory ran out (the result then holds the totals).
bool run_leak_check(const CallerThread& caller, bool search, LeakCheckResult* result);
void release_leak_check(LeakCheckResult* result);

}  // namespace memkit::check_rt
