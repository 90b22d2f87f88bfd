/* api_abi.h — the C ABI between memkit's in-process leak-check API (include/memkit/leakcheck.h,
 * in the core library) and the preloaded runtime (libmemkit_check.so). The core library finds
 * the two functions with dlsym(RTLD_DEFAULT, ...), so a program that is not run under the
 * runtime still links and gets a clear "not loaded" error. Plain C: both sides include it. */
#ifndef MEMKIT_LEAKCHECK_API_ABI_H
#define MEMKIT_LEAKCHECK_API_ABI_H

#include <stddef.h>
#include <stdint.h>

#define MEMKIT_CHECK_ABI_VERSION 1u

/* kind: 0 definitely lost, 1 indirectly lost, 2 possibly lost, 3 still reachable. */
struct memkit_check_abi_record {
  uint32_t kind;
  uint32_t stack_depth;
  uint64_t bytes;          /* direct bytes */
  uint64_t indirect_bytes; /* only for definite and possible records */
  uint64_t blocks;
  const uintptr_t*
      frames; /* stack_depth entries: frames[0] in the allocator, then return addresses */
};

struct memkit_check_abi_result {
  uint32_t abi_version; /* MEMKIT_CHECK_ABI_VERSION */
  uint32_t threads_not_stopped;
  uint64_t in_use_bytes, in_use_blocks, allocs, frees, bytes_allocated;
  uint64_t kind_bytes[4], kind_blocks[4]; /* LEAK SUMMARY, indexed by kind */
  uint64_t record_count;
  const struct memkit_check_abi_record* records; /* unsorted */
};

/* Runs the leak search now, on the calling thread (other threads are stopped meanwhile), with the
 * options the runtime started with (leak resolution, heuristics). Returns 0 and sets *out on
 * success; the result lives in the runtime's own memory until memkit_check_abi_release(*out).
 * Returns an errno value on failure (ENOMEM, EDEADLK when called re-entrantly). */
typedef int (*memkit_check_abi_search_fn)(const struct memkit_check_abi_result** out);
typedef void (*memkit_check_abi_release_fn)(const struct memkit_check_abi_result* result);
#define MEMKIT_CHECK_ABI_SEARCH "memkit_check_abi_search"
#define MEMKIT_CHECK_ABI_RELEASE "memkit_check_abi_release"

#endif
