// valgrind's counting rules (mc_leakcheck.c print_results, m_errormgr.c unique_error): records
// sorted by total size, then kind, then blocks, then age; every record checked against the
// suppressions; shown and counted by --show-leak-kinds and --errors-for-leak-kinds in full mode
// only; suppressed records' direct bytes summed apart.
#include "analysis.h"

#include <algorithm>
#include <map>

namespace memkit::check {
namespace {

constexpr std::string_view kHeuristicOrder[] = {"stdstring", "length64", "newarray",
                                                "multipleinheritance"};

class StackCache {
 public:
  StackCache(const RawReport& report, Symbolizer& symbolizer, unsigned num_callers)
      : report_(report), symbolizer_(symbolizer), num_callers_(num_callers) {}

  const SymbolizedStack& get(std::uint32_t id) {
    auto it = stacks_.find(id);
    if (it == stacks_.end()) {
      it =
          stacks_.emplace(id, symbolize_stack(symbolizer_, report_.frames(id), num_callers_)).first;
    }
    return it->second;
  }

 private:
  const RawReport& report_;
  Symbolizer& symbolizer_;
  unsigned num_callers_;
  std::map<std::uint32_t, SymbolizedStack> stacks_;
};

// valgrind's error identity for free errors: the kind and the first four frames (Vg_MedRes).
bool same_context(const RawFreeError& a, const RawFreeError& b, const RawReport& report) {
  if (a.mismatched != b.mismatched) return false;
  const auto& frames_a = report.frames(a.stack);
  const auto& frames_b = report.frames(b.stack);
  const std::size_t depth = 4;
  const std::size_t count_a = std::min(frames_a.size(), depth);
  const std::size_t count_b = std::min(frames_b.size(), depth);
  return count_a == count_b &&
         std::equal(frames_a.begin(), frames_a.begin() + static_cast<long>(count_a),
                    frames_b.begin());
}

}  // namespace

Analysis analyze(const RawReport& report, const CheckOptions& options, SuppressionSet& suppressions,
                 Symbolizer& symbolizer) {
  Analysis analysis;
  analysis.pid = report.pid;
  analysis.ppid = report.ppid;
  analysis.command = report.command;
  analysis.exe = report.exe;
  analysis.end_how = report.end_how;
  analysis.end_status = report.end_status;
  analysis.leak_check = report.leak_check;
  analysis.heap = report.heap;
  analysis.searched = report.searched;
  analysis.threads_not_stopped = report.threads_not_stopped;
  analysis.checked_bytes = report.checked_bytes;
  analysis.errors_dropped = report.errors_dropped;
  StackCache stacks(report, symbolizer, options.num_callers);
  ErrorSummary& summary = analysis.error_summary;

  // The free errors happened while the program ran, before the leak search: valgrind met (and
  // matched against the suppressions) them first.
  std::vector<const RawFreeError*> firsts;
  for (const RawFreeError& error : report.errors) {
    std::size_t context = 0;
    while (context < firsts.size() && !same_context(*firsts[context], error, report)) ++context;
    if (context < firsts.size()) {
      FreeErrorContext& known = analysis.error_contexts[context];
      ++known.count;
      ++(known.suppressed_by.empty() ? summary.errors : summary.suppressed);
      continue;
    }
    firsts.push_back(&error);
    FreeErrorContext view;
    view.mismatched = error.mismatched;
    view.operation = error.operation;
    view.address = error.address;
    view.stack = stacks.get(error.stack);
    if (error.block) {
      view.block = ErrorBlock{error.block->address, error.block->size, error.block->freed,
                              error.block->alloc_kind};
      view.alloc_stack = stacks.get(error.block->alloc_stack);
      view.free_stack = stacks.get(error.block->free_stack);
    }
    if (const Suppression* suppression = suppressions.match_free_error(view.stack)) {
      view.suppressed_by = suppression->name;
      ++summary.suppressed;
      ++summary.suppressed_contexts;
    } else {
      ++summary.errors;
      ++summary.contexts;
    }
    analysis.error_contexts.push_back(std::move(view));
  }
  // Errors the runtime had no room to record still happened.
  summary.errors += report.errors_dropped;

  if (report.searched) {
    std::vector<const RawLossRecord*> order;
    for (const RawLossRecord& record : report.records) order.push_back(&record);
    std::stable_sort(
        order.begin(), order.end(), [](const RawLossRecord* a, const RawLossRecord* b) {
          const std::uint64_t total_a = a->bytes + a->indirect_bytes;
          const std::uint64_t total_b = b->bytes + b->indirect_bytes;
          if (total_a != total_b) return total_a < total_b;
          if (a->kind != b->kind) return a->kind < b->kind;
          if (a->blocks != b->blocks) return a->blocks < b->blocks;
          return a->stack < b->stack;  // stack ids are in order of first sight: older first
        });
    const bool full = report.leak_check == LeakCheckMode::full;
    unsigned index = 0;
    for (const RawLossRecord* record : order) {
      LossRecordView view;
      view.index = ++index;
      view.kind = record->kind;
      view.bytes = record->bytes;
      view.indirect_bytes = record->indirect_bytes;
      view.blocks = record->blocks;
      view.stack = stacks.get(record->stack);
      view.shown = full && options.show_leak_kinds.contains(record->kind);
      view.counted = full && options.errors_for_leak_kinds.contains(record->kind);
      const Suppression* suppression = suppressions.match_leak(
          record->kind, view.stack, record->bytes + record->indirect_bytes, record->blocks);
      if (suppression != nullptr) {
        view.suppressed_by = suppression->name;
        view.shown = false;
        analysis.suppressed.bytes += record->bytes;
        analysis.suppressed.blocks += record->blocks;
        if (view.counted) {
          ++summary.suppressed;
          ++summary.suppressed_contexts;
        }
      } else {
        Totals& totals = analysis.kind_totals[static_cast<std::size_t>(record->kind)];
        totals.bytes += record->bytes;
        totals.blocks += record->blocks;
        if (view.counted) {
          ++summary.errors;
          ++summary.contexts;
        }
      }
      analysis.records.push_back(std::move(view));
    }
    for (std::string_view name : kHeuristicOrder) {
      for (const RawHeuristic& heuristic : report.heuristics) {
        if (heuristic.name == name && heuristic.blocks > 0)
          analysis.heuristics.push_back(heuristic);
      }
    }
  }

  for (const Suppression* suppression : suppressions.used()) {
    UsedSuppression used;
    used.name = suppression->name;
    used.file = suppression->file;
    used.line = suppression->line;
    used.count = suppression->count;
    used.leak = suppression->kind == SuppressionKind::leak;
    used.bytes = suppression->bytes;
    used.blocks = suppression->blocks;
    analysis.used_suppressions.push_back(std::move(used));
  }
  return analysis;
}

}  // namespace memkit::check
