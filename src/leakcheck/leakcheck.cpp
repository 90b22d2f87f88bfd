// The in-process leak check: a thin C++ face on the runtime's C ABI (runtime/api_abi.h). The
// runtime is found with dlsym at call time, so the core library has no link-time tie to it.
#include "memkit/leakcheck.h"

#include <dlfcn.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "memkit/base/error.h"
#include "runtime/api_abi.h"

namespace memkit::leakcheck {
namespace {

struct RuntimeEntryPoints {
  memkit_check_abi_search_fn search = nullptr;
  memkit_check_abi_release_fn release = nullptr;
};

RuntimeEntryPoints find_runtime() noexcept {
  RuntimeEntryPoints entry;
  entry.search =
      reinterpret_cast<memkit_check_abi_search_fn>(::dlsym(RTLD_DEFAULT, MEMKIT_CHECK_ABI_SEARCH));
  entry.release = reinterpret_cast<memkit_check_abi_release_fn>(
      ::dlsym(RTLD_DEFAULT, MEMKIT_CHECK_ABI_RELEASE));
  return entry;
}

// valgrind's loss-record order (mc_leakcheck.c, cmp_LossRecords): total bytes, then kind with
// still reachable < possibly < indirectly < definitely lost, then block count.
int valgrind_kind_rank(LeakKind kind) {
  switch (kind) {
    case LeakKind::still_reachable:
      return 0;
    case LeakKind::possibly_lost:
      return 1;
    case LeakKind::indirectly_lost:
      return 2;
    case LeakKind::definitely_lost:
      return 3;
  }
  return 4;
}

}  // namespace

std::string_view to_string(LeakKind kind) noexcept {
  switch (kind) {
    case LeakKind::definitely_lost:
      return "definitely lost";
    case LeakKind::indirectly_lost:
      return "indirectly lost";
    case LeakKind::possibly_lost:
      return "possibly lost";
    case LeakKind::still_reachable:
      return "still reachable";
  }
  return "unknown kind";
}

Amount LeakReport::leaked() const {
  Amount total;
  for (LeakKind kind :
       {LeakKind::definitely_lost, LeakKind::indirectly_lost, LeakKind::possibly_lost}) {
    total.bytes += of(kind).bytes;
    total.blocks += of(kind).blocks;
  }
  return total;
}

bool runtime_loaded() noexcept {
  const RuntimeEntryPoints entry = find_runtime();
  return entry.search != nullptr && entry.release != nullptr;
}

LeakReport check() {
  const RuntimeEntryPoints entry = find_runtime();
  if (entry.search == nullptr || entry.release == nullptr) {
    throw LeakCheckUnavailable(
        "check()",
        "memkit's leak-check runtime is not loaded in this process; run the program under "
        "`memkit check -- PROGRAM` (or preload libmemkit_check.so)");
  }
  const memkit_check_abi_result* result = nullptr;
  const int error = entry.search(&result);
  if (error != 0 || result == nullptr) {
    throw LeakCheckUnavailable("check()",
                               std::string("the leak-check runtime refused the search: ") +
                                   (error == EDEADLK ? "a search is already running in this process"
                                                     : std::strerror(error)));
  }
  if (result->abi_version != MEMKIT_CHECK_ABI_VERSION) {
    const unsigned found = result->abi_version;
    entry.release(result);
    throw LeakCheckUnavailable("check()", "the loaded leak-check runtime speaks ABI version " +
                                              std::to_string(found) + ", this library " +
                                              std::to_string(MEMKIT_CHECK_ABI_VERSION));
  }

  LeakReport report;
  report.heap.in_use = {result->in_use_bytes, result->in_use_blocks};
  report.heap.allocs = result->allocs;
  report.heap.frees = result->frees;
  report.heap.bytes_allocated = result->bytes_allocated;
  for (std::size_t k = 0; k < report.by_kind.size(); ++k) {
    report.by_kind[k] = {result->kind_bytes[k], result->kind_blocks[k]};
  }
  report.threads_not_stopped = result->threads_not_stopped;
  // Copying into std::vector allocates through the program's malloc, which the runtime tracks:
  // do it after the search, so the search never sees half-built records.
  try {
    report.records.reserve(result->record_count);
    for (std::uint64_t i = 0; i < result->record_count; ++i) {
      const memkit_check_abi_record& raw = result->records[i];
      LossRecord record;
      record.kind = static_cast<LeakKind>(std::min<std::uint32_t>(raw.kind, 3));
      record.bytes = raw.bytes;
      record.indirect_bytes = raw.indirect_bytes;
      record.blocks = raw.blocks;
      record.stack.assign(raw.frames, raw.frames + raw.stack_depth);
      report.records.push_back(std::move(record));
    }
  } catch (...) {
    entry.release(result);
    throw;
  }
  entry.release(result);

  std::stable_sort(report.records.begin(), report.records.end(),
                   [](const LossRecord& a, const LossRecord& b) {
                     const std::uint64_t total_a = a.bytes + a.indirect_bytes;
                     const std::uint64_t total_b = b.bytes + b.indirect_bytes;
                     if (total_a != total_b) return total_a < total_b;
                     const int rank_a = valgrind_kind_rank(a.kind);
                     const int rank_b = valgrind_kind_rank(b.kind);
                     if (rank_a != rank_b) return rank_a < rank_b;
                     return a.blocks < b.blocks;
                   });
  return report;
}

}  // namespace memkit::leakcheck
