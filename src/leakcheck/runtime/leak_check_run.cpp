// leak_check_run.cpp — the sequence of one leak check; see leak_check_run.h.
#include "leak_check_run.h"

#include "leak_search.h"
#include "threads.h"

namespace memkit::check_rt {
namespace {

struct Collector {
  Block* blocks;
  std::size_t count;
  std::size_t capacity;
};

void collect_block(const Block& block, void* context) {
  auto* collector = static_cast<Collector*>(context);
  if (collector->count < collector->capacity) collector->blocks[collector->count++] = block;
}

// Every table of one search, mapped together before the world stops.
struct SearchMemory {
  void* base = nullptr;
  std::size_t bytes = 0;
  Block* blocks = nullptr;
  Block* temp = nullptr;
  BlockVerdict* verdicts = nullptr;
  void* scratch = nullptr;
  std::size_t scratch_bytes = 0;

  bool map(std::size_t capacity) {
    const std::size_t block_bytes = capacity * sizeof(Block);
    const std::size_t verdict_bytes = capacity * sizeof(BlockVerdict);
    scratch_bytes = leak_search_scratch_bytes(capacity);
    bytes = 2 * block_bytes + verdict_bytes + scratch_bytes + 64;
    base = internal_map(bytes);
    if (base == nullptr) return false;
    auto* at = static_cast<unsigned char*>(base);
    blocks = reinterpret_cast<Block*>(at);
    temp = reinterpret_cast<Block*>(at + block_bytes);
    verdicts = reinterpret_cast<BlockVerdict*>(at + 2 * block_bytes);
    scratch = at + 2 * block_bytes + verdict_bytes;
    return true;
  }
  void unmap() {
    if (base != nullptr) internal_unmap(base, bytes);
    base = nullptr;
  }
};

}  // namespace

bool run_leak_check(const CallerThread& caller, bool search, LeakCheckResult* result) {
  *result = LeakCheckResult{};
  lock_tracker();
  result->heap = heap_totals();
  if (!search) {
    unlock_tracker();
    return true;
  }
  const std::size_t capacity = live_block_count();
  SearchMemory memory;
  bool ok = memory.map(capacity) && prepare_roots(64);
  WorldSnapshot world;
  if (ok) ok = stop_the_world(&world);
  if (!ok) {
    memory.unmap();
    unlock_tracker();
    return false;
  }
  Collector collector{memory.blocks, 0, capacity};
  for_each_live_block(collect_block, &collector);
  sort_blocks_by_address(memory.blocks, memory.temp, collector.count);

  CallerThread self = caller;
  self.thread_pointer = current_thread_pointer();
  RootSet roots;
  ok = collect_roots(memory.blocks, collector.count, world, self, &roots);
  SearchStats stats;
  if (ok) {
    SearchInput input;
    input.blocks = memory.blocks;
    input.block_count = collector.count;
    input.roots = roots.ranges;
    input.root_count = roots.range_count;
    input.registers = roots.registers;
    input.register_count = roots.register_count;
    input.mappings = roots.mappings;
    input.mapping_count = roots.mapping_count;
    input.heuristics = options().heuristics;
    ok = leak_search(input, memory.verdicts, memory.scratch, memory.scratch_bytes, &stats);
  }
  resume_the_world();
  if (ok) {
    ok = build_loss_records(memory.blocks, memory.verdicts, collector.count,
                            options().leak_resolution, &result->records);
  }
  unlock_tracker();
  memory.unmap();
  result->searched = ok;
  result->threads_not_stopped = world.not_stopped;
  result->checked_bytes = stats.scanned_root_bytes + stats.scanned_block_bytes;
  return ok;
}

void release_leak_check(LeakCheckResult* result) {
  release_loss_records(&result->records);
  *result = LeakCheckResult{};
}

}  // namespace memkit::check_rt
