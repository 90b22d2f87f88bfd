// loss_records.h — valgrind's loss records: the blocks grouped by (state, allocation stack), the
// stacks compared as --leak-resolution says (low: 2 frames, med: 4, high: all), and the totals
// the LEAK SUMMARY prints (direct bytes only, per state) and its "reachable via heuristic" lines.
#pragma once

#include <cstddef>
#include <cstdint>

#include "leak_search.h"
#include "runtime.h"

namespace memkit::check_rt {

struct LossRecord {
  Reachedness state = Reachedness::unreached;
  uint32_t stack_id = 0;        // the first block's stack
  uint64_t bytes = 0;           // direct bytes
  uint64_t indirect_bytes = 0;  // only for unreached (definitely lost) records, as in valgrind
  uint64_t blocks = 0;
};

struct LossRecordSet {
  LossRecord* records = nullptr;  // internal memory, unsorted (the renderer sorts)
  std::size_t count = 0;
  std::size_t capacity = 0;
  uint64_t kind_bytes[4] = {};  // indexed by Reachedness
  uint64_t kind_blocks[4] = {};
  uint64_t heuristic_bytes[kHeuristicCount] = {};  // indexed by Heuristic
  uint64_t heuristic_blocks[kHeuristicCount] = {};
};

// Groups the searched blocks. False when internal memory ran out.
bool build_loss_records(const Block* blocks, const BlockVerdict* verdicts, std::size_t count,
                        LeakResolution resolution, LossRecordSet* set);
void release_loss_records(LossRecordSet* set);

}  // namespace memkit::check_rt
