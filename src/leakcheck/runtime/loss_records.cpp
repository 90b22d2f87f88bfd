// loss_records.cpp — grouping blocks into loss records; see loss_records.h.
//
// With high resolution two blocks share a record exactly when they share a depot stack id. With
// low or med, every stack id is first mapped to a canonical one (the first id whose leading 2 or 4
// frames are the same), through a hash table over the ids.
#include "loss_records.h"

namespace memkit::check_rt {
namespace {

uint32_t frames_compared(LeakResolution resolution) {
  switch (resolution) {
    case LeakResolution::low:
      return 2;
    case LeakResolution::med:
      return 4;
    case LeakResolution::high:
      break;
  }
  return UINT32_MAX;
}

bool same_prefix(const Stack& a, const Stack& b, uint32_t frames) {
  // valgrind's VG_(eq_ExeContext) for low/med: the first n frames, as far as both stacks go.
  for (uint32_t i = 0; i < frames; ++i) {
    const bool a_has = i < a.depth;
    const bool b_has = i < b.depth;
    if (a_has != b_has) return false;
    if (!a_has) return true;
    if (a.frames[i] != b.frames[i]) return false;
  }
  return true;
}

uint64_t prefix_hash(const Stack& stack, uint32_t frames) {
  uint64_t hash = 1469598103934665603ull;
  for (uint32_t i = 0; i < frames && i < stack.depth; ++i)
    hash = (hash ^ stack.frames[i]) * 1099511628211ull;
  return hash;
}

// canonical[id] for every id in 0..stack_count. Internal memory of (stack_count + 1) entries.
uint32_t* canonical_stacks(uint32_t stack_count, uint32_t frames) {
  auto* canonical = static_cast<uint32_t*>(internal_map((stack_count + 1u) * sizeof(uint32_t)));
  if (canonical == nullptr) return nullptr;
  std::size_t slots = 1;
  while (slots < 2u * (stack_count + 1u)) slots <<= 1;
  auto* table = static_cast<uint32_t*>(internal_map(slots * sizeof(uint32_t)));  // 0: empty
  if (table == nullptr) {
    internal_unmap(canonical, (stack_count + 1u) * sizeof(uint32_t));
    return nullptr;
  }
  canonical[0] = 0;
  for (uint32_t id = 1; id <= stack_count; ++id) {
    const Stack here = stack(id);
    std::size_t slot = prefix_hash(here, frames) & (slots - 1);
    for (;; slot = (slot + 1) & (slots - 1)) {
      if (table[slot] == 0) {
        table[slot] = id;
        canonical[id] = id;
        break;
      }
      if (same_prefix(stack(table[slot]), here, frames)) {
        canonical[id] = table[slot];
        break;
      }
    }
  }
  internal_unmap(table, slots * sizeof(uint32_t));
  return canonical;
}

}  // namespace

bool build_loss_records(const Block* blocks, const BlockVerdict* verdicts, std::size_t count,
                        LeakResolution resolution, LossRecordSet* set) {
  *set = LossRecordSet{};
  if (count == 0) return true;
  const uint32_t stacks = stack_count();
  uint32_t* canonical = nullptr;
  const uint32_t frames = frames_compared(resolution);
  if (frames != UINT32_MAX) {
    canonical = canonical_stacks(stacks, frames);
    if (canonical == nullptr) return false;
  }
  // record_of[canonical id * 4 + state] = record index + 1.
  const std::size_t index_bytes = (stacks + 1u) * 4u * sizeof(uint32_t);
  auto* record_of = static_cast<uint32_t*>(internal_map(index_bytes));
  set->capacity = count < 4u * (stacks + 1u) ? count : 4u * (stacks + 1u);
  set->records = static_cast<LossRecord*>(internal_map(set->capacity * sizeof(LossRecord)));
  bool ok = record_of != nullptr && set->records != nullptr;
  for (std::size_t i = 0; ok && i < count; ++i) {
    const Block& block = blocks[i];
    const BlockVerdict& verdict = verdicts[i];
    const uint32_t id = block.stack_id <= stacks ? block.stack_id : 0;
    const uint32_t key =
        (canonical != nullptr ? canonical[id] : id) * 4u + static_cast<uint32_t>(verdict.state);
    if (record_of[key] == 0) {
      set->records[set->count] = LossRecord{verdict.state, block.stack_id, 0, 0, 0};
      record_of[key] = static_cast<uint32_t>(++set->count);
    }
    LossRecord& record = set->records[record_of[key] - 1];
    record.bytes += block.size;
    record.blocks += 1;
    if (verdict.state == Reachedness::unreached) record.indirect_bytes += verdict.indirect_bytes;
    const auto state = static_cast<std::size_t>(verdict.state);
    set->kind_bytes[state] += block.size;
    set->kind_blocks[state] += 1;
    if (verdict.heuristic != Heuristic::none) {  // valgrind counts these whatever the final state
      set->heuristic_bytes[static_cast<std::size_t>(verdict.heuristic)] += block.size;
      set->heuristic_blocks[static_cast<std::size_t>(verdict.heuristic)] += 1;
    }
  }
  if (record_of != nullptr) internal_unmap(record_of, index_bytes);
  if (canonical != nullptr) internal_unmap(canonical, (stacks + 1u) * sizeof(uint32_t));
  if (!ok) release_loss_records(set);
  return ok;
}

void release_loss_records(LossRecordSet* set) {
  if (set->records != nullptr) internal_unmap(set->records, set->capacity * sizeof(LossRecord));
  *set = LossRecordSet{};
}

}  // namespace memkit::check_rt
