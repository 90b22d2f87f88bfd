// api_export.cpp — the C ABI (api_abi.h) the in-process API finds with dlsym: a leak search now,
// on the calling thread, with the result in the runtime's own memory until released.
#include <errno.h>

#include <atomic>

#include "api_abi.h"
#include "leak_check_run.h"
#include "threads.h"

namespace memkit::check_rt {
namespace {

std::atomic<bool> g_searching{false};

// The result and its records in one internal mapping.
struct ApiResult {
  memkit_check_abi_result result;
  std::size_t mapped_bytes;
};

uint32_t abi_kind(Reachedness state) {
  switch (state) {
    case Reachedness::unreached:
      return 0;
    case Reachedness::indirect_leak:
      return 1;
    case Reachedness::possible:
      return 2;
    case Reachedness::reachable:
      return 3;
  }
  return 0;
}

}  // namespace
}  // namespace memkit::check_rt

namespace mk = memkit::check_rt;

extern "C" __attribute__((visibility("default"))) int memkit_check_abi_search(
    const memkit_check_abi_result** out) {
  if (out == nullptr) return EINVAL;
  if (mk::g_searching.exchange(true)) return EDEADLK;
  uintptr_t registers[6];
  asm volatile(
      "mov %%rbx, 0(%0)\n\tmov %%rbp, 8(%0)\n\tmov %%r12, 16(%0)\n\t"
      "mov %%r13, 24(%0)\n\tmov %%r14, 32(%0)\n\tmov %%r15, 40(%0)"
      :
      : "r"(registers)
      : "memory");
  int error = 0;
  {
    mk::ScopedUntracked untracked;
    mk::LeakCheckResult check;
    mk::CallerThread caller;
    // The caller's frames are live, this one's are the runtime's: scan from the caller's SP.
    caller.scan_from = reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) + 16;
    caller.registers = registers;
    caller.register_count = 6;
    if (!mk::run_leak_check(caller, true, &check)) {
      error = ENOMEM;
    } else {
      const std::size_t records = check.records.count;
      const std::size_t bytes = sizeof(mk::ApiResult) + records * sizeof(memkit_check_abi_record);
      auto* api = static_cast<mk::ApiResult*>(mk::internal_map(bytes));
      if (api == nullptr) {
        error = ENOMEM;
      } else {
        api->mapped_bytes = bytes;
        auto* out_records = reinterpret_cast<memkit_check_abi_record*>(api + 1);
        memkit_check_abi_result& r = api->result;
        r.abi_version = MEMKIT_CHECK_ABI_VERSION;
        r.threads_not_stopped = check.threads_not_stopped;
        r.in_use_bytes = check.heap.in_use_bytes;
        r.in_use_blocks = check.heap.in_use_blocks;
        r.allocs = check.heap.allocs;
        r.frees = check.heap.frees;
        r.bytes_allocated = check.heap.bytes_allocated;
        for (std::size_t state = 0; state < 4; ++state) {
          const uint32_t kind = mk::abi_kind(static_cast<mk::Reachedness>(state));
          r.kind_bytes[kind] = check.records.kind_bytes[state];
          r.kind_blocks[kind] = check.records.kind_blocks[state];
        }
        for (std::size_t i = 0; i < records; ++i) {
          const mk::LossRecord& record = check.records.records[i];
          const mk::Stack frames = mk::stack(record.stack_id);
          out_records[i] =
              memkit_check_abi_record{mk::abi_kind(record.state), frames.depth,  record.bytes,
                                      record.indirect_bytes,      record.blocks, frames.frames};
        }
        r.record_count = records;
        r.records = out_records;
        *out = &api->result;
      }
    }
    mk::release_leak_check(&check);
  }
  mk::g_searching.store(false);
  return error;
}

extern "C" __attribute__((visibility("default"))) void memkit_check_abi_release(
    const memkit_check_abi_result* result) {
  if (result == nullptr) return;
  // result is the first member of the ApiResult it was handed out from.
  auto* api = reinterpret_cast<mk::ApiResult*>(const_cast<memkit_check_abi_result*>(result));
  mk::internal_unmap(api, api->mapped_bytes);
}
