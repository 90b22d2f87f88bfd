// memkit::track_global — the global operator new and delete, replaced by versions that count.
//
// Linking this library replaces all twenty forms (new and new[]; plain, aligned, nothrow,
// aligned+nothrow; every delete: plain, sized, aligned, sized+aligned, nothrow) for the whole
// program; memkit/alloc/heap_stats.h reads the counts. The pieces:
//
//   Blocks. Each block is [ padding | BlockHeader | user bytes ] from malloc (posix_memalign
//   above 16-byte alignment — never operator new). The 16-byte header just below the user address
//   holds the size asked for, the heap tag it was counted under, log2(user - base), and a check
//   word derived from all of them and the address. So every delete — unsized ones included —
//   frees exactly what was counted, under the tag it was counted under; and a delete that does
//   not match (wrong size for a sized delete, wrong alignment for an aligned one, a pointer that
//   is no live block) stops the program with a message instead of corrupting the heap. delete
//   cannot throw, so that is the only defined behaviour left.
//
//   Counting. A thread's counts live in its own HeapThreadCounters (thread-local storage), which
//   the core library links into a list on the thread's first new or delete; only the owner writes
//   them, with relaxed load + store, and a reader sums them under the list's mutex. Nothing on the
//   hot path is a shared atomic or a lock. When the thread exits, a thread_local destructor folds
//   its counts into the retired totals; new and delete that run after that (later thread-local
//   destructors, static destructors on the main thread) count straight into shared atomics.
//
//   Bad requests. operator new with an alignment that is not a power of two, or a size no block
//   can have, throws memkit::AllocError (a std::bad_alloc) naming size and alignment, and the
//   nothrow forms return nullptr. Out of memory calls the new-handler until it gives up, as the
//   standard's operator new does, then throws AllocError ("out of memory").
//
//   Exit summary. MEMKIT_HEAP_STATS=text (or 1) / json prints heap_stats() to stderr with
//   write(2) from an atexit handler registered before any of the program's static objects are
//   constructed — so it runs after their destructors.
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>

#include "memkit/alloc/heap_stats.h"
#include "memkit/alloc/stats.h"
#include "memkit/base/config.h"
#include "memkit/base/error.h"

namespace memkit::detail {
namespace {

constexpr std::string_view kHook = "memkit::track_global";

// x & (x - 1): std::has_single_bit is a libgcc call without -mpopcnt.
constexpr bool is_power_of_two(std::size_t x) noexcept { return x != 0 && (x & (x - 1)) == 0; }

struct BlockHeader {
  std::uint64_t size;         // what the caller asked for
  std::uint16_t tag;          // the heap tag it is counted under
  std::uint8_t offset_shift;  // log2(user address - malloc's address)
  std::uint8_t unused;
  std::uint32_t check;  // check_word(...); 0 once freed
};
static_assert(sizeof(BlockHeader) == 16, "the header must keep malloc's 16-byte alignment");
static_assert(alignof(std::max_align_t) == 16 && __STDCPP_DEFAULT_NEW_ALIGNMENT__ == 16,
              "the block layout assumes malloc and operator new align to 16 bytes");
static_assert(kHeapTagSlots <= 0x10000 && is_power_of_two(kHeapTagSlots),
              "a tag must fit the header's 16 bits, and the slots must be a power of two");

constexpr std::size_t kHeaderBytes = sizeof(BlockHeader);
constexpr std::uint8_t kDefaultShift = 4;  // log2(kHeaderBytes): user = base + 16
constexpr std::size_t kMaxBlock = PTRDIFF_MAX;

// A word that only a live block's own header holds: a pointer that is no such block (or a block
// freed since, whose check is 0) fails it with odds of 2^-32.
std::uint32_t check_word(const void* user, std::uint64_t size, std::uint32_t tag,
                         std::uint32_t shift) noexcept {
  const auto address = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(user));
  return static_cast<std::uint32_t>(address >> 4) ^ static_cast<std::uint32_t>(size) ^
         (tag << 8 | shift) ^ 0x6D656D6Bu;  // "memk"
}

BlockHeader* header_of(void* user) noexcept { return static_cast<BlockHeader*>(user) - 1; }

// ---- this thread's counters
// ----------------------------------------------------------------------

enum class ThreadState : std::uint8_t { unregistered, active, retired };

constinit thread_local ThreadState t_state = ThreadState::unregistered;
constinit thread_local HeapThreadCounters t_counters;

// Its destructor runs at thread exit, once armed by the first use (which registers it).
struct ThreadRetirer {
  bool armed = false;
  ~ThreadRetirer() {
    if (!armed) return;
    t_state = ThreadState::retired;
    heap_retire_thread(t_counters);
  }
};
thread_local ThreadRetirer t_retirer;

void bump(std::atomic<std::uint64_t>& counter, std::uint64_t amount) noexcept {
  counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
}

// True when |value| >= kHeapPeakFlushBytes, in one compare.
bool needs_flush(std::int64_t value) noexcept {
  constexpr auto kLimit = static_cast<std::int64_t>(kHeapPeakFlushBytes);
  return static_cast<std::uint64_t>(value + (kLimit - 1)) >
         2 * static_cast<std::uint64_t>(kLimit - 1);
}

void add_unflushed(std::uint32_t tag, std::int64_t delta) noexcept {
  const std::int64_t all = t_counters.unflushed_bytes += delta;
  const std::int64_t one = t_counters.unflushed_tag_bytes[tag] += delta;
  if (MEMKIT_UNLIKELY(needs_flush(all) | needs_flush(one))) heap_flush(t_counters, tag);
}

void count_allocation(std::uint32_t tag, std::uint64_t bytes) noexcept;
void count_free(std::uint32_t tag, std::uint64_t bytes) noexcept;

// A thread's first new or delete registers it; after its retirement, calls count as orphans.
[[gnu::noinline, gnu::cold]] void count_slow(std::uint32_t tag, std::uint64_t bytes,
                                             bool allocation) noexcept {
  if (t_state == ThreadState::unregistered) {
    heap_register_thread(t_counters);
    t_state = ThreadState::active;
    t_retirer.armed = true;  // the first use of t_retirer schedules its destructor
    return allocation ? count_allocation(tag, bytes) : count_free(tag, bytes);
  }
  if (allocation) {
    heap_count_orphan_allocation(tag, bytes);
  } else {
    heap_count_orphan_free(tag, bytes);
  }
}

inline void count_allocation(std::uint32_t tag, std::uint64_t bytes) noexcept {
  if (MEMKIT_UNLIKELY(t_state != ThreadState::active)) return count_slow(tag, bytes, true);
  HeapTagCounters& counters = t_counters.tags[tag];
  bump(counters.allocations, 1);
  bump(counters.bytes_allocated, bytes);
  add_unflushed(tag, static_cast<std::int64_t>(bytes));
}

inline void count_free(std::uint32_t tag, std::uint64_t bytes) noexcept {
  if (MEMKIT_UNLIKELY(t_state != ThreadState::active)) return count_slow(tag, bytes, false);
  HeapTagCounters& counters = t_counters.tags[tag];
  bump(counters.frees, 1);
  bump(counters.bytes_freed, bytes);
  add_unflushed(tag, -static_cast<std::int64_t>(bytes));
}

// ---- allocation
// ----------------------------------------------------------------------------------

void* finish_block(void* base, std::size_t size, std::uint8_t shift) noexcept {
  void* user = static_cast<unsigned char*>(base) + (std::size_t{1} << shift);
  const std::uint32_t tag = current_heap_tag;
  BlockHeader* header = header_of(user);
  header->size = size;
  header->tag = static_cast<std::uint16_t>(tag);
  header->offset_shift = shift;
  header->unused = 0;
  header->check = check_word(user, size, tag, shift);
  count_allocation(tag, size);
  return user;
}

// One attempt at a request known to be possible; nullptr when the system has no memory.
void* try_allocate_block(std::size_t size, std::size_t alignment) noexcept {
  if (alignment <= kHeaderBytes) {
    void* base = std::malloc(size + kHeaderBytes);
    return base == nullptr ? nullptr : finish_block(base, size, kDefaultShift);
  }
  void* base = nullptr;
  if (::posix_memalign(&base, alignment, size + alignment) != 0) return nullptr;
  return finish_block(base, size, static_cast<std::uint8_t>(std::countr_zero(alignment)));
}

// Why no block can ever satisfy the request, or nullptr when one can.
const char* impossible_request(std::size_t size, std::size_t alignment) noexcept {
  if (!is_power_of_two(alignment)) return "alignment is not a power of two";
  const std::size_t offset = std::max(alignment, kHeaderBytes);
  if (offset > kMaxBlock || size > kMaxBlock - offset) {
    return "size exceeds PTRDIFF_MAX with the block's header";
  }
  return nullptr;
}

[[gnu::noinline]] void* allocate_slow(std::size_t size, std::size_t alignment) {
  if (const char* reason = impossible_request(size, alignment)) {
    throw_alloc_error(kHook, "operator new", size, alignment, reason);
  }
  for (;;) {
    if (void* p = try_allocate_block(size, alignment)) return p;
    const std::new_handler handler = std::get_new_handler();
    if (handler == nullptr)
      throw_alloc_error(kHook, "operator new", size, alignment, "out of memory");
    handler();
  }
}

inline void* allocate(std::size_t size, std::size_t alignment) {
  // For plain new, alignment is the constant 16 and this is one compare on the size.
  if (MEMKIT_LIKELY(alignment <= kHeaderBytes && is_power_of_two(alignment) &&
                    size <= kMaxBlock - kHeaderBytes)) {
    void* base = std::malloc(size + kHeaderBytes);
    if (MEMKIT_LIKELY(base != nullptr)) return finish_block(base, size, kDefaultShift);
  }
  return allocate_slow(size, alignment);
}

// The nothrow forms: the same new-handler loop, and a null instead of every exception (none is
// made: an impossible request costs nothing and allocates nothing).
void* allocate_nothrow(std::size_t size, std::size_t alignment) noexcept {
  if (impossible_request(size, alignment) != nullptr) return nullptr;
  for (;;) {
    if (void* p = try_allocate_block(size, alignment)) return p;
    const std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) return nullptr;
    try {
      handler();
    } catch (...) {  // a handler gives up by throwing std::bad_alloc
      return nullptr;
    }
  }
}

// ---- deallocation
// --------------------------------------------------------------------------------

std::uint32_t shift_for(std::size_t alignment) noexcept {
  return alignment <= kHeaderBytes ? kDefaultShift
                                   : static_cast<std::uint32_t>(std::countr_zero(alignment));
}

// "memkit::track_global: operator delete(0x5581a2c0, size 16) failed: ..." — then abort.
[[noreturn, gnu::cold, gnu::noinline]] void bad_delete(const void* p, const BlockHeader& header,
                                                       bool sized, std::size_t size, bool aligned,
                                                       std::size_t alignment) noexcept {
  char call[96];
  if (sized && aligned) {
    std::snprintf(call, sizeof call, "operator delete(%p, size %zu, align %zu)", p, size,
                  alignment);
  } else if (sized) {
    std::snprintf(call, sizeof call, "operator delete(%p, size %zu)", p, size);
  } else if (aligned) {
    std::snprintf(call, sizeof call, "operator delete(%p, align %zu)", p, alignment);
  } else {
    std::snprintf(call, sizeof call, "operator delete(%p)", p);
  }
  char reason[160];
  if (header.check != check_word(p, header.size, header.tag, header.offset_shift) ||
      header.tag >= kHeapTagSlots) {
    std::snprintf(reason, sizeof reason,
                  "not a live block from operator new (freed twice, never allocated by it, or "
                  "its header was overwritten)");
  } else if (sized && header.size != size) {
    std::snprintf(reason, sizeof reason, "the block was allocated with size %" PRIu64, header.size);
  } else if (header.offset_shift == kDefaultShift) {
    std::snprintf(reason, sizeof reason,
                  "the block was allocated with the default alignment (16 or less)");
  } else {
    std::snprintf(reason, sizeof reason, "the block was allocated with alignment %zu",
                  std::size_t{1} << header.offset_shift);
  }
  char message[320];
  std::snprintf(message, sizeof message, "%.*s: %s failed: %s", static_cast<int>(kHook.size()),
                kHook.data(), call, reason);
  fatal(message);
}

template <bool kSized, bool kAligned>
void deallocate(void* p, std::size_t size, std::size_t alignment) noexcept {
  if (p == nullptr) return;
  BlockHeader* header = header_of(p);
  const std::uint64_t block_size = header->size;
  const std::uint32_t tag = header->tag;
  const std::uint32_t shift = header->offset_shift;
  const bool valid = header->check == check_word(p, block_size, tag, shift) &&
                     (!kSized || block_size == size) &&
                     (!kAligned || (is_power_of_two(alignment) && shift == shift_for(alignment)));
  if (MEMKIT_UNLIKELY(!valid)) bad_delete(p, *header, kSized, size, kAligned, alignment);
  // The mask keeps the index in bounds even for a forged header that passed the check.
  count_free(tag & (kHeapTagSlots - 1), block_size);
  header->check = 0;  // a second delete of this address finds no live block
  std::free(static_cast<unsigned char*>(p) - (std::size_t{1} << shift));
}

std::size_t to_size(std::align_val_t alignment) noexcept {
  return static_cast<std::size_t>(alignment);
}

// ---- the exit summary
// ----------------------------------------------------------------------------

enum class SummaryFormat : std::uint8_t { none, text, json, unknown };

constinit SummaryFormat g_summary = SummaryFormat::none;
constinit char g_summary_setting[64] = {};  // MEMKIT_HEAP_STATS as given, for the warning

void write_all(std::string_view text) noexcept {
  while (!text.empty()) {
    const ssize_t written = ::write(STDERR_FILENO, text.data(), text.size());
    if (written <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(written));
  }
}

void print_summary() noexcept {
  try {
    std::string out;
    switch (g_summary) {
      case SummaryFormat::text:
        out = to_text(heap_stats());
        break;
      case SummaryFormat::json:
        out = to_json(heap_stats());
        out.append("\n");
        break;
      case SummaryFormat::unknown:
        out = "memkit: MEMKIT_HEAP_STATS=";
        out.append(g_summary_setting)
            .append(" is not text, json, 1 or 0: no heap summary printed\n");
        break;
      case SummaryFormat::none:
        return;
    }
    write_all(out);
  } catch (...) {
    write_all("memkit: the heap summary could not be built (out of memory)\n");
  }
}

// Runs before the program's own static objects are constructed (priority 101 is the first
// available to programs), so the summary registered here runs after their destructors.
[[gnu::constructor(101)]] void install_heap_hook() noexcept {
  heap_hook_linked();
  const char* setting = std::getenv("MEMKIT_HEAP_STATS");
  if (setting == nullptr || *setting == '\0' || std::strcmp(setting, "0") == 0) return;
  if (std::strcmp(setting, "text") == 0 || std::strcmp(setting, "1") == 0) {
    g_summary = SummaryFormat::text;
  } else if (std::strcmp(setting, "json") == 0) {
    g_summary = SummaryFormat::json;
  } else {
    g_summary = SummaryFormat::unknown;
    std::snprintf(g_summary_setting, sizeof g_summary_setting, "%s", setting);
  }
  std::atexit(print_summary);
}

}  // namespace
}  // namespace memkit::detail

// Referenced by programs that must not lose the hook to an earlier operator new (heap_stats.h).
extern "C" const char memkit_track_global_anchor = 1;

using memkit::detail::allocate;
using memkit::detail::allocate_nothrow;
using memkit::detail::deallocate;
using memkit::detail::to_size;

namespace {
constexpr std::size_t kDefault = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
}  // namespace

// ---- new
// -----------------------------------------------------------------------------------------
void* operator new(std::size_t size) { return allocate(size, kDefault); }
void* operator new[](std::size_t size) { return allocate(size, kDefault); }
void* operator new(std::size_t size, std::align_val_t alignment) {
  return allocate(size, to_size(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return allocate(size, to_size(alignment));
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return allocate_nothrow(size, kDefault);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return allocate_nothrow(size, kDefault);
}
void* operator new(std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return allocate_nothrow(size, to_size(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return allocate_nothrow(size, to_size(alignment));
}

// ---- delete
// --------------------------------------------------------------------------------------
void operator delete(void* p) noexcept { deallocate<false, false>(p, 0, 0); }
void operator delete[](void* p) noexcept { deallocate<false, false>(p, 0, 0); }
void operator delete(void* p, std::size_t size) noexcept { deallocate<true, false>(p, size, 0); }
void operator delete[](void* p, std::size_t size) noexcept { deallocate<true, false>(p, size, 0); }
void operator delete(void* p, std::align_val_t alignment) noexcept {
  deallocate<false, true>(p, 0, to_size(alignment));
}
void operator delete[](void* p, std::align_val_t alignment) noexcept {
  deallocate<false, true>(p, 0, to_size(alignment));
}
void operator delete(void* p, std::size_t size, std::align_val_t alignment) noexcept {
  deallocate<true, true>(p, size, to_size(alignment));
}
void operator delete[](void* p, std::size_t size, std::align_val_t alignment) noexcept {
  deallocate<true, true>(p, size, to_size(alignment));
}
void operator delete(void* p, const std::nothrow_t&) noexcept { deallocate<false, false>(p, 0, 0); }
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  deallocate<false, false>(p, 0, 0);
}
void operator delete(void* p, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  deallocate<false, true>(p, 0, to_size(alignment));
}
void operator delete[](void* p, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  deallocate<false, true>(p, 0, to_size(alignment));
}
